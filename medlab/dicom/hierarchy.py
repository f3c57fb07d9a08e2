"""UIDs and the Patient > Study > Series > Instance hierarchy (lesson 04).

PS3.3 §A.1.2 (the DICOM information model) and PS3.4 §C.3: a patient has
studies, a study has series, a series has instances (composite objects: an
image, an SR, an RT plan...). Files say where they belong only through
identifiers: Patient ID (0010,0020), Study Instance UID (0020,000D), Series
Instance UID (0020,000E) and SOP Instance UID (0008,0018). Nothing but
discipline keeps them consistent, so :func:`hierarchy` builds the tree from
the files and flags what does not fit.

UIDs (PS3.5 §9, Annex B): digits and dots, at most 64 characters, no leading
zero in a component (except the component ``0`` itself). ``1.2.840.10008`` is
the root of the UIDs that the *standard itself* defines (SOP classes, transfer
syntaxes, the application context name...). Instance UIDs that devices create
use their organisation's root (e.g. ``1.3.12.2.1107`` Siemens,
``1.2.826.0.1.3680043.8.498`` pydicom), or ``2.25.`` followed by a UUID as a
decimal integer (PS3.5 §B.2), which needs no registration.
"""

from __future__ import annotations

import html
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medlab import paths
from medlab.errors import MedlabError

DICOM_ROOT = "1.2.840.10008"
_UID_CHARS = re.compile(r"^[0-9.]*$")
#: A fixed namespace so that :func:`course_uid` gives the same UID on every machine.
_COURSE_NAMESPACE = uuid.UUID("6f0b2f8e-6a3c-5b1e-9d2f-0c0ffee0d1c0")


# -- UIDs --------------------------------------------------------------------


@dataclass(frozen=True)
class UIDInfo:
    """What a UID is: valid or not (and why), its registered name, its root."""

    uid: str
    problems: tuple[str, ...]
    name: str
    kind: str
    root: str

    @property
    def valid(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        lines = [
            f"UID {self.uid!r} ({len(self.uid)} characters): {'valid' if self.valid else 'NOT valid'}"
        ]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(f"  root: {self.root}")
        if self.name:
            lines.append(f"  registered name: {self.name} ({self.kind})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


def uid_info(uid: str) -> UIDInfo:
    """Check a UID against PS3.5 §9.1 and say where it comes from.

    >>> uid_info("1.2.840.10008.1.2.1").name
    'Explicit VR Little Endian'
    """
    from pydicom.uid import UID_dictionary

    uid = str(uid)
    problems = []
    if not uid:
        problems.append("it is empty")
    if len(uid) > 64:
        problems.append(f"it has {len(uid)} characters; at most 64 are allowed (PS3.5 §9.1)")
    if not _UID_CHARS.match(uid):
        bad = sorted({c for c in uid if c not in "0123456789."})
        problems.append(f"only digits and dots are allowed, found {''.join(bad)!r}")
    parts = uid.split(".")
    if uid and any(p == "" for p in parts):
        problems.append("it has an empty component (two dots in a row, or a dot at an end)")
    if any(len(p) > 1 and p.startswith("0") for p in parts):
        problems.append(
            "a component has a leading zero (only the component 0 itself may start with 0)"
        )
    entry = UID_dictionary.get(uid)
    name, kind = (entry[0], entry[1]) if entry else ("", "")
    if uid == DICOM_ROOT or uid.startswith(DICOM_ROOT + "."):
        root = f"{DICOM_ROOT}: defined by the DICOM standard itself (PS3.6 Annex A)"
    elif uid.startswith("2.25."):
        root = "2.25: a UUID written as a decimal number (PS3.5 §B.2)"
    else:
        root = (
            "an organisation's root (registered by a vendor, site or project) plus its own suffix"
        )
    return UIDInfo(uid, tuple(problems), name, kind, root)


def course_uid(*parts: object) -> str:
    """A deterministic UID for the course's own data: ``2.25.<UUID as an integer>``.

    The same ``parts`` give the same UID on every machine (a name-based UUID,
    RFC 4122 version 5), so stored notebook outputs stay stable; different
    parts give different UIDs. Real devices generate random UIDs
    (``pydicom.uid.generate_uid()``) or use their registered root.
    """
    return "2.25." + str(uuid.uuid5(_COURSE_NAMESPACE, "/".join(str(p) for p in parts)).int)


# -- the hierarchy -------------------------------------------------------------

_TAGS = (
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "SeriesInstanceUID",
    "SeriesNumber",
    "Modality",
    "SeriesDescription",
    "SOPInstanceUID",
    "SOPClassUID",
    "InstanceNumber",
)


@dataclass(frozen=True)
class Instance:
    file: str
    sop_uid: str
    number: int | None
    sop_class: str


@dataclass
class Series:
    uid: str
    number: int | None
    modality: str
    description: str
    instances: list[Instance] = field(default_factory=list)


@dataclass
class Study:
    uid: str
    date: str
    description: str
    series: dict[str, Series] = field(default_factory=dict)

    @property
    def instance_count(self) -> int:
        return sum(len(s.instances) for s in self.series.values())


@dataclass
class Patient:
    id: str
    name: str
    studies: dict[str, Study] = field(default_factory=dict)

    @property
    def instance_count(self) -> int:
        return sum(s.instance_count for s in self.studies.values())

    @property
    def series_count(self) -> int:
        return sum(len(s.series) for s in self.studies.values())


@dataclass(frozen=True)
class Problem:
    """One inconsistency; ``kind`` is one of the keys of :data:`PROBLEM_KINDS`."""

    kind: str
    uid: str
    message: str


PROBLEM_KINDS = {
    "study_patients": "one Study Instance UID with more than one Patient ID",
    "duplicate_sop": "one SOP Instance UID in more than one file",
    "series_studies": "one series spread across more than one study",
    "missing_uid": "a file without a required identifier",
    "unreadable": "a file that is not DICOM (skipped)",
    "bad_value": "a Series or Instance Number that is not one integer",
}


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


class Hierarchy:
    """Patient > Study > Series > Instance, with counts and flagged problems."""

    def __init__(self, root: str, patients: dict[str, Patient], problems: list[Problem]) -> None:
        self.root = root
        self.patients = patients
        self.problems = problems

    @property
    def counts(self) -> dict[str, int]:
        studies = {uid for p in self.patients.values() for uid in p.studies}
        series = {
            uid for p in self.patients.values() for st in p.studies.values() for uid in st.series
        }
        instances = sum(p.instance_count for p in self.patients.values())
        return {
            "patients": len(self.patients),
            "studies": len(studies),
            "series": len(series),
            "instances": instances,
        }

    def _flagged(self) -> set[str]:
        return {p.uid for p in self.problems}

    def _lines(self) -> list[tuple[int, str, bool]]:
        flagged = self._flagged()
        out: list[tuple[int, str, bool]] = []
        for pat in self.patients.values():
            out.append(
                (
                    0,
                    f"Patient {pat.id} ({pat.name}): {_plural(len(pat.studies), 'study', 'studies')}, "
                    f"{_plural(pat.series_count, 'series', 'series')}, "
                    f"{_plural(pat.instance_count, 'instance')}",
                    False,
                )
            )
            for st in pat.studies.values():
                out.append(
                    (
                        1,
                        f"Study {st.uid} ({st.date or 'no date'}, {st.description!r}): "
                        f"{_plural(len(st.series), 'series', 'series')}, "
                        f"{_plural(st.instance_count, 'instance')}",
                        st.uid in flagged,
                    )
                )
                for se in st.series.values():
                    out.append(
                        (
                            2,
                            f"Series {se.uid} #{se.number} {se.modality} {se.description!r}: "
                            f"{_plural(len(se.instances), 'instance')}",
                            se.uid in flagged or any(i.sop_uid in flagged for i in se.instances),
                        )
                    )
                    for inst in se.instances:
                        out.append(
                            (
                                3,
                                f"Instance {inst.number} {inst.sop_uid} ({inst.file})",
                                inst.sop_uid in flagged,
                            )
                        )
        return out

    def summary(self) -> str:
        c = self.counts
        return (
            f"{_plural(c['patients'], 'patient')}, {_plural(c['studies'], 'study', 'studies')}, "
            f"{_plural(c['series'], 'series', 'series')}, {_plural(c['instances'], 'instance')}; "
            f"{_plural(len(self.problems), 'problem')}"
        )

    def __repr__(self) -> str:
        lines = [f"{self.root}: {self.summary()}"]
        lines += [
            "  " * depth + text + ("  <-- problem" if flag else "")
            for depth, text, flag in self._lines()
        ]
        if self.problems:
            lines.append("Problems:")
            lines += [f"  [{p.kind}] {p.message}" for p in self.problems]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        flagged = self._flagged()
        warn = ' <b style="color:#b71c1c">⚠</b>'

        def node(summary: str, children: str, flag: bool, open_: bool = True) -> str:
            return (
                f'<details{" open" if open_ else ""} style="margin-left:1.2em"><summary>{summary}'
                f"{warn if flag else ''}</summary>{children}</details>"
            )

        parts = []
        for pat in self.patients.values():
            studies = []
            for st in pat.studies.values():
                series = []
                for se in st.series.values():
                    items = "".join(
                        f'<div style="margin-left:2.4em"><code>{html.escape(i.sop_uid)}</code> #{i.number} '
                        f"<small>{html.escape(i.file)}</small>{warn if i.sop_uid in flagged else ''}</div>"
                        for i in se.instances
                    )
                    series.append(
                        node(
                            f"<b>Series</b> #{se.number} {html.escape(se.modality)} "
                            f"{html.escape(se.description)} - {_plural(len(se.instances), 'instance')} "
                            f"<small><code>{html.escape(se.uid)}</code></small>",
                            items,
                            se.uid in flagged or any(i.sop_uid in flagged for i in se.instances),
                            open_=False,
                        )
                    )
                studies.append(
                    node(
                        f"<b>Study</b> {html.escape(st.date)} {html.escape(st.description)} - "
                        f"{_plural(st.instance_count, 'instance')} <small><code>{html.escape(st.uid)}</code></small>",
                        "".join(series),
                        st.uid in flagged,
                    )
                )
            parts.append(
                node(
                    f"<b>Patient</b> {html.escape(pat.id)} ({html.escape(pat.name)}) - "
                    f"{_plural(pat.instance_count, 'instance')}",
                    "".join(studies),
                    False,
                )
            )
        problems = ""
        if self.problems:
            problems = (
                "<p><b>Problems</b></p><ul>"
                + "".join(
                    f"<li><code>{p.kind}</code>: {html.escape(p.message)}</li>"
                    for p in self.problems
                )
                + "</ul>"
            )
        return (
            f'<div class="medlab-hierarchy"><p><b>{html.escape(self.root)}</b>: {html.escape(self.summary())}</p>'
            f"{''.join(parts)}{problems}</div>"
        )


def _files(src: Any) -> tuple[str, Path | None, list[Path]]:
    if isinstance(src, (str, Path)):
        path = Path(src)
        if not path.exists():
            raise MedlabError(
                f"There is no file or folder {path.name!r}",
                where=str(path),
                fix="Check the path; medlab.dicom.demo_study(folder) writes a small study to try.",
            )
        if path.is_dir():
            return path.name, path, sorted(p for p in path.rglob("*") if p.is_file())
        return path.name, path.parent, [path]
    files = [Path(p) for p in src]
    return f"{len(files)} files", None, sorted(files)


def _why(exc: Exception) -> str:
    """Why a file could not be read, in a few words."""
    from pydicom.errors import InvalidDicomError

    from medlab.dicom._read import explain

    if isinstance(exc, InvalidDicomError):
        return f"not a readable DICOM file ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror or exc})"
    return explain(exc, action="read it", where="", fix="").what


def _one_integer(value: Any, name: str, label: str, problems: list[Problem]) -> int | None:
    """An IS value as one int; several values, or text that is no integer, is a problem."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (str, bytes, int, float)):
            return int(value)
        raise TypeError
    except (TypeError, ValueError):
        problems.append(
            Problem(
                "bad_value",
                label,
                f"{label}: {name} {str(value)[:40]!r} is not one integer (VR IS, VM 1); "
                "sorted as if it were absent",
            )
        )
        return None


def hierarchy(src: str | Path | Iterable[str | Path]) -> Hierarchy:
    """Build Patient > Study > Series > Instance from a folder (searched recursively) or files.

    Files that are not DICOM are listed as problems and skipped. Flags: one
    Study Instance UID with several Patient IDs, one SOP Instance UID in
    several files, one series in several studies, missing identifiers.
    """
    import warnings

    import pydicom

    name, base, files = _files(src)
    if not files:
        raise MedlabError(
            f"{name!r} contains no files", fix="Choose a folder with .dcm files in it."
        )
    patients: dict[str, Patient] = {}
    problems: list[Problem] = []
    study_patients: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sop_files: dict[str, list[str]] = defaultdict(list)
    series_studies: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path in files:
        label = (
            str(path.relative_to(base))
            if base is not None and path.is_relative_to(base)
            else path.name
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # odd values are not this lesson's business
                ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(_TAGS))
                values = {k: ds.get(k) for k in _TAGS}
        except Exception as exc:  # noqa: BLE001 - reported, and the folder goes on
            problems.append(Problem("unreadable", label, f"{label} skipped: {_why(exc)}"))
            continue
        missing = [
            k for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID") if not values[k]
        ]
        if missing:
            problems.append(Problem("missing_uid", label, f"{label} has no {', '.join(missing)}"))
            continue
        pid = str(values["PatientID"] or "(no Patient ID)")
        patient = patients.setdefault(pid, Patient(pid, str(values["PatientName"] or "")))
        study_uid, series_uid, sop_uid = (
            str(values["StudyInstanceUID"]),
            str(values["SeriesInstanceUID"]),
            str(values["SOPInstanceUID"]),
        )
        study = patient.studies.setdefault(
            study_uid,
            Study(study_uid, str(values["StudyDate"] or ""), str(values["StudyDescription"] or "")),
        )
        number = _one_integer(values["SeriesNumber"], "Series Number", label, problems)
        series = study.series.setdefault(
            series_uid,
            Series(
                series_uid,
                number,
                str(values["Modality"] or ""),
                str(values["SeriesDescription"] or ""),
            ),
        )
        inum = _one_integer(values["InstanceNumber"], "Instance Number", label, problems)
        series.instances.append(
            Instance(
                label,
                sop_uid,
                inum,
                str(values["SOPClassUID"] or ""),
            )
        )
        study_patients[study_uid][pid] += 1
        sop_files[sop_uid].append(label)
        series_studies[series_uid][study_uid] += 1
    for study_uid, pids in study_patients.items():
        if len(pids) > 1:
            detail = ", ".join(f"{pid!r} ({_plural(n, 'file')})" for pid, n in pids.items())
            problems.append(
                Problem(
                    "study_patients",
                    study_uid,
                    f"Study {study_uid} has {len(pids)} different Patient IDs: {detail}",
                )
            )
    for sop_uid, labels in sop_files.items():
        if len(labels) > 1:
            problems.append(
                Problem(
                    "duplicate_sop",
                    sop_uid,
                    f"SOP Instance UID {sop_uid} is used by {len(labels)} files: {', '.join(labels)}",
                )
            )
    for series_uid, studies in series_studies.items():
        if len(studies) > 1:
            problems.append(
                Problem(
                    "series_studies",
                    series_uid,
                    f"Series {series_uid} is spread across {len(studies)} studies: {', '.join(studies)}",
                )
            )
    for patient in patients.values():
        for study in patient.studies.values():
            study.series = dict(
                sorted(
                    study.series.items(), key=lambda kv: (kv[1].number is None, kv[1].number or 0)
                )
            )
            for series in study.series.values():
                series.instances.sort(key=lambda i: (i.number is None, i.number or 0, i.file))
    return Hierarchy(name, patients, problems)


def demo_study(folder: str | Path, *, broken: bool = False) -> Path:
    """Write a small study made of copies of pydicom's CT and MR samples; return the folder.

    One patient, one study, three series: a CT series of 3 slices (copies of
    ``CT_small.dcm``), an MR series of 2 images (``MR_small.dcm``) and a second
    CT series of 2 slices. All identifiers are rewritten with deterministic
    UIDs (:func:`course_uid`), so every run writes the same files.

    With ``broken=True`` three classic mistakes are planted: CT slice 3 carries
    another Patient ID within the same study; MR image 2 reuses the SOP
    Instance UID of MR image 1; and the second CT series' slice 2 is filed
    under a different Study Instance UID.
    """
    import pydicom

    import medlab.data

    folder = Path(folder)
    paths.private_dir(folder)
    for old in folder.glob("*.dcm"):
        old.unlink()
    tag = "broken" if broken else "clean"
    study_uid = course_uid("demo-study", tag)
    plan = [  # (file, sample, series key, series number, instance number, description)
        ("ct1_1.dcm", "ct", "ct1", 1, 1, "CT axial"),
        ("ct1_2.dcm", "ct", "ct1", 1, 2, "CT axial"),
        ("ct1_3.dcm", "ct", "ct1", 1, 3, "CT axial"),
        ("mr_1.dcm", "mr", "mr", 2, 1, "MR"),
        ("mr_2.dcm", "mr", "mr", 2, 2, "MR"),
        ("ct2_1.dcm", "ct", "ct2", 3, 1, "CT thin"),
        ("ct2_2.dcm", "ct", "ct2", 3, 2, "CT thin"),
    ]
    sources = {name: pydicom.dcmread(medlab.data.get_path(name)) for name in ("ct", "mr")}
    for filename, sample, series_key, series_number, number, description in plan:
        ds = sources[sample].copy()
        ds.file_meta = sources[sample].file_meta.copy()
        ds.PatientName = "MEDLAB^DEMO"
        ds.PatientID = "MEDLAB-001"
        ds.StudyInstanceUID = study_uid
        ds.StudyDate = "20240102"
        ds.StudyDescription = "Demo study"
        ds.SeriesInstanceUID = course_uid("demo-series", tag, series_key)
        ds.SeriesNumber = series_number
        ds.SeriesDescription = description
        ds.InstanceNumber = number
        ds.SOPInstanceUID = course_uid("demo-instance", tag, series_key, number)
        if broken and filename == "ct1_3.dcm":
            ds.PatientID = "MEDLAB-002"
        if broken and filename == "mr_2.dcm":
            ds.SOPInstanceUID = course_uid("demo-instance", tag, "mr", 1)
        if broken and filename == "ct2_2.dcm":
            ds.StudyInstanceUID = course_uid("demo-study", tag, "other")
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        with paths.open_private(folder / filename, "wb") as fh:
            ds.save_as(fh, enforce_file_format=True)
    return folder
