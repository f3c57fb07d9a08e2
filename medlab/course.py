"""The course map: every lesson in order, with its notebook and time estimate.

Lesson 00 renders this map, the progress view uses it, and a test checks that
each notebook in ``notebooks/`` is listed here with the same title and time
estimate it states itself.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from medlab import paths


@dataclass(frozen=True)
class Lesson:
    number: str
    slug: str
    title: str
    minutes: int

    @property
    def notebook(self) -> str:
        return f"{self.number}_{self.slug}.ipynb"


LESSONS: tuple[Lesson, ...] = (
    Lesson("00", "start_here", "Start here", 15),
    Lesson("01", "what_is_dicom", "What is DICOM?", 30),
    Lesson("02", "file_anatomy", "The DICOM file, byte by byte", 45),
    Lesson("03", "tags", "Tags, VR, VM, public and private", 40),
    Lesson("04", "uids", "UIDs and the information hierarchy", 30),
    Lesson("05", "pixels_and_photometric", "Pixels and photometric interpretation", 50),
    Lesson("06", "composite_objects", "Composite objects beyond images", 45),
    Lesson("07", "associations", "Associations: who talks to whom", 40),
    Lesson("08", "store_query_retrieve", "Store, query and retrieve", 50),
    Lesson("09", "worklist_and_mpps", "The modality's day: worklist and MPPS", 40),
    Lesson("10", "conformance", "Conformance: will these two devices talk?", 30),
    Lesson("11", "outside_the_pacs", "Outside the PACS: de-identification and DICOMDIR", 45),
    Lesson("12", "hl7_messages", "HL7 v2 messages", 45),
    Lesson("13", "hl7_acks_and_orders", "HL7 ACKs, MLLP and orders", 40),
    Lesson("14", "analysis", "Analysis across many files and messages", 40),
    Lesson("15", "capstone_a_ct_exam", "Capstone: one CT exam, every system", 60),
    Lesson("16", "dicomweb_and_the_viewer", "DICOMweb and a real web viewer", 45),
    Lesson("17", "hl7_v2_to_fhir", "From HL7 v2 to FHIR", 45),
)


def notebooks_dir() -> Path:
    return paths.REPO_DIR / "notebooks"


def available() -> list[Lesson]:
    """The lessons whose notebook exists in this checkout, in course order."""
    folder = notebooks_dir()
    return [lesson for lesson in LESSONS if (folder / lesson.notebook).is_file()]


class CourseMap:
    """The course map as a table (HTML in a notebook, text in a terminal)."""

    def __init__(self, lessons: list[Lesson]) -> None:
        self.lessons = lessons

    def __repr__(self) -> str:
        rows = [f"{les.number}  {les.title:<52} {les.minutes:>3} min" for les in self.lessons]
        total = sum(les.minutes for les in self.lessons)
        return "\n".join([*rows, f"{'':4}{'Total':<52} {total:>3} min"])

    def _repr_html_(self) -> str:
        rows = "".join(
            f'<tr><td>{les.number}</td><td><a href="{les.notebook}">{html.escape(les.title)}</a>'
            f"</td><td>{les.minutes} min</td></tr>"
            for les in self.lessons
        )
        total = sum(les.minutes for les in self.lessons)
        return (
            '<table class="medlab-course-map"><thead><tr><th>#</th><th>Lesson</th>'
            f"<th>Time</th></tr></thead><tbody>{rows}</tbody>"
            f"<tfoot><tr><td></td><td>Total</td><td>{total} min</td></tr></tfoot></table>"
        )


#: Cells whose output belongs to the machine that ran them (lesson 00's environment check shows
#: the author's own folders and versions): ``make notebooks`` stores them without output.
LOCAL_OUTPUT_TAG = "medlab-local-output"


def clear_local_outputs(notebook: str | Path) -> int:
    """Drop the stored outputs of the cells tagged :data:`LOCAL_OUTPUT_TAG`; return how many.

    The cells keep their execution count, so the notebook still reads as run in order.
    """
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    cleared = 0
    for cell in nb.cells:
        if LOCAL_OUTPUT_TAG in cell.get("metadata", {}).get("tags", []) and cell.get("outputs"):
            cell.outputs = []
            cleared += 1
    if cleared:
        nbformat.write(nb, notebook)
    return cleared


def course_map() -> CourseMap:
    """Return the map of the lessons present, with links and time estimates."""
    return CourseMap(available())
