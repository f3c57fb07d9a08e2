"""Offline media: a DICOM File-set with its DICOMDIR, written and read with pydicom.

A CD or USB stick for a patient, a teaching file or a referral is a *File-set*
(PS3.10 Chapter 8): DICOM files under File IDs of at most eight components,
each at most eight characters from ``A-Z 0-9 _`` (PS3.10 8.2, PS3.12 for the
media formats), plus one file named ``DICOMDIR`` in the root of the File-set.
The DICOMDIR is itself a DICOM object (Media Storage Directory, Basic Directory
IOD, PS3.3 Annex F): a flat sequence of *directory records* (PATIENT, STUDY,
SERIES, IMAGE...) linked by byte offsets:

* (0004,1200) Offset of the First Directory Record of the Root Directory Entity
  points to the first PATIENT record;
* each record's (0004,1400) Offset of the Next Directory Record points to its
  next sibling (0 ends the list);
* (0004,1420) Offset of Referenced Lower-Level Directory Entity points to the
  first child (the patient's first study, the study's first series...);
* an IMAGE (or other leaf) record gives (0004,1500) Referenced File ID, the
  path of the file as components (``PT000000\\ST000000\\SE000000\\IM000000``).

Why a viewer needs it: a File ID carries no meaning (a reader must not parse
it), so without the DICOMDIR a viewer would have to open every file on the
disc to build the Patient > Study > Series > Instance tree. Every instance does
carry its own patient ID and Study/Series Instance UIDs, so the hierarchy is
recoverable by reading them all (this is what an import without DICOMDIR does),
but slowly, and a File-set without a DICOMDIR is not conformant media.

:func:`write_media` builds a File-set with :class:`pydicom.fileset.FileSet`;
:func:`dicomdir` reads one back and renders the tree by following the offsets.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab import paths
from medlab.errors import MedlabError

if TYPE_CHECKING:
    from pydicom import Dataset

#: What a record of each type shows in the tree (keywords of PS3.3 F.5 records).
_LABELS: dict[str, tuple[str, ...]] = {
    "PATIENT": ("PatientID", "PatientName"),
    "STUDY": ("StudyDate", "StudyDescription", "AccessionNumber"),
    "SERIES": ("Modality", "SeriesNumber"),
    "IMAGE": ("InstanceNumber",),
}


#: The section of PS3.3 Annex F that lists the keys of each record type.
_RECORD_SECTIONS = {"PATIENT": "F.5.1", "STUDY": "F.5.2", "SERIES": "F.5.3"}
_EMPTY_ELEMENT = re.compile(r"\((\w{4}),(\w{4})\) '([^']+)' element cannot be empty")
_RECORD_TYPE = re.compile(r"'(\w+)' record creator")


def _record_advice(message: str) -> str:
    """What to fill in, from pydicom's message: the element it names, and the record that needs it."""
    element = _EMPTY_ELEMENT.search(message)
    record = _RECORD_TYPE.search(message)
    if element is None:
        return (
            "A DICOMDIR record needs some Type 1 values (PS3.3 F.5): fill the element the "
            "message names (a dummy value is fine)."
        )
    name, tag = element.group(3), f"({element.group(1)},{element.group(2)})"
    kind = record.group(1) if record else "its"
    section = _RECORD_SECTIONS.get(kind, "F.5")
    return (
        f"The {kind} record of a DICOMDIR requires {name} {tag} to have a value (Type 1, "
        f"PS3.3 {section}): give the copies one before writing the media (a dummy value is fine)."
    )


@dataclass
class Record:
    """One directory record and its children, as linked by the offsets."""

    type: str
    offset: int
    fields: dict[str, str]
    file_id: str = ""  # for leaf records: the Referenced File ID joined with "/"
    children: list[Record] = field(default_factory=list)

    def label(self) -> str:
        values = [self.fields.get(k, "") for k in _LABELS.get(self.type, ())]
        text = " ".join(v for v in values if v)
        return f"{self.type} {text}".strip() + (f"  -> {self.file_id}" if self.file_id else "")


@dataclass
class DicomDir:
    """A File-set read from its DICOMDIR: the tree, the File-set ID, the files referenced."""

    path: Path
    fileset_id: str
    roots: list[Record]

    def walk(self) -> Iterable[tuple[int, Record]]:
        """(depth, record) in tree order."""
        stack = [(0, r) for r in reversed(self.roots)]
        while stack:
            depth, rec = stack.pop()
            yield depth, rec
            stack.extend((depth + 1, c) for c in reversed(rec.children))

    def count(self, record_type: str) -> int:
        return sum(1 for _, r in self.walk() if r.type == record_type)

    def file_ids(self) -> list[str]:
        """The Referenced File IDs of the leaf records, as relative paths with "/"."""
        return [r.file_id for _, r in self.walk() if r.file_id]

    def missing_files(self) -> list[str]:
        """Referenced File IDs with no file in the File-set (empty: the index matches)."""
        root = self.path.parent
        return [f for f in self.file_ids() if not (root / f).is_file()]

    def __repr__(self) -> str:
        head = (
            f"DICOMDIR of File-set {self.fileset_id or '(no ID)'}: {self.count('PATIENT')} patient(s), "
            f"{self.count('STUDY')} study(ies), {self.count('SERIES')} series, "
            f"{len(self.file_ids())} instance(s)"
        )
        return "\n".join([head] + ["  " * d + r.label() for d, r in self.walk()])

    def _repr_html_(self) -> str:
        def node(rec: Record) -> str:
            kids = "".join(node(c) for c in rec.children)
            return (
                f"<li><b>{html.escape(rec.type)}</b> {html.escape(rec.label()[len(rec.type) :])}"
                + (f"<ul>{kids}</ul>" if kids else "")
                + "</li>"
            )

        head = html.escape(repr(self).splitlines()[0])
        return f'<div class="medlab-dicomdir"><p>{head}</p><ul>{"".join(node(r) for r in self.roots)}</ul></div>'


def _find_dicomdir(path: Path) -> Path:
    candidate = path / "DICOMDIR" if path.is_dir() else path
    if not candidate.is_file():
        raise MedlabError(
            "No DICOMDIR here",
            where=str(candidate),
            fix="Give the root folder of the File-set (where the DICOMDIR file is), or build one "
            "with medlab.dicom.write_media(folder, out).",
        )
    return candidate


def dicomdir(folder: str | Path) -> DicomDir:
    """Read the DICOMDIR of a File-set and return its Patient > Study > Series > Instance tree.

    The tree is rebuilt the way a viewer does it, by following the records'
    byte offsets (PS3.3 F.3.2.2): first record of the root, next record,
    lower-level entity.
    """
    import pydicom

    path = _find_dicomdir(Path(folder))
    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the same message to a trainee
        raise MedlabError(
            f"Cannot read the DICOMDIR ({exc})",
            where=str(path),
            fix="Rebuild it with medlab.dicom.write_media.",
        ) from None
    by_offset = {item.seq_item_tell: item for item in ds.get("DirectoryRecordSequence", [])}

    def chain(offset: int, seen: set[int]) -> list[Record]:
        records = []
        while offset and offset in by_offset and offset not in seen:
            seen.add(offset)
            item = by_offset[offset]
            rec = Record(
                type=str(item.get("DirectoryRecordType", "")),
                offset=offset,
                fields={
                    k: str(item.get(k, ""))
                    for k in _LABELS.get(str(item.get("DirectoryRecordType", "")), ())
                },
            )
            ref = item.get("ReferencedFileID")
            if ref:
                parts = [ref] if isinstance(ref, str) else list(ref)
                rec.file_id = "/".join(parts)
            rec.children = chain(
                int(item.get("OffsetOfReferencedLowerLevelDirectoryEntity", 0)), seen
            )
            records.append(rec)
            offset = int(item.get("OffsetOfTheNextDirectoryRecord", 0))
        return records

    try:
        roots = chain(
            int(ds.get("OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity", 0)), set()
        )
    except Exception as exc:  # noqa: BLE001 - a damaged record: one message
        raise MedlabError(
            f"The DICOMDIR's records cannot be followed ({type(exc).__name__}: {exc})",
            where=str(path),
            fix="Rebuild it with medlab.dicom.write_media.",
        ) from None
    return DicomDir(path=path, fileset_id=str(ds.get("FileSetID", "")), roots=roots)


def write_media(
    sources: str | Path | Iterable[str | Path | Dataset],
    out: str | Path,
    fileset_id: str = "MEDLAB",
) -> DicomDir:
    """Write a File-set (files plus DICOMDIR) to ``out`` with pydicom's FileSet; return its tree.

    ``sources`` is a folder (all files in it, recursively), or files/data sets.
    pydicom names the files ``PTxxxxxx/STxxxxxx/SExxxxxx/IMxxxxxx`` (eight upper-case
    characters per component, as PS3.10 8.2 requires) and writes the records.
    A record needs some attributes the image may lack (Type 1 keys such as Patient ID
    for a PATIENT record, Study ID for a STUDY record, PS3.3 F.5): give de-identified
    copies dummy values first; the error names the one that is missing.
    """
    from pydicom.fileset import FileSet

    folder: Path | None = None
    if isinstance(sources, (str, Path)):
        folder = Path(sources)
        items: list[Any] = sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and p.name != "DICOMDIR" and not p.name.startswith(".")
        )
    else:
        items = list(sources)
    if not items:
        raise MedlabError(
            "Nothing to put on the media",
            where=str(sources),
            fix="Give a folder of DICOM files or a list of files.",
        )
    fs = FileSet()
    fs.ID = fileset_id.upper()[:16]
    for item in items:
        where = (
            item.relative_to(folder).as_posix() if folder and isinstance(item, Path) else str(item)
        )
        if isinstance(item, (str, Path)):
            from medlab.dicom._read import load

            load(item)  # a file that is not DICOM, or cut short, is named before pydicom indexes it
        try:
            fs.add(item)
        except Exception as exc:  # noqa: BLE001 - pydicom's words, with the fix
            raise MedlabError(
                f"pydicom cannot index this instance ({exc})",
                where=where,
                fix=_record_advice(str(exc)),
            ) from None
    # The File-set's UID (the DICOMDIR's SOP Instance UID) from its content, not random: a
    # random UID varies in length, which moves every record offset a lesson prints.
    from pydicom.uid import generate_uid

    fs.UID = generate_uid(entropy_srcs=[fs.ID or "", *sorted(str(i.SOPInstanceUID) for i in fs)])
    out = Path(out)
    paths.private_dir(out)
    try:
        fs.write(out)
    except Exception as exc:  # noqa: BLE001 - pydicom's words, with the fix
        raise MedlabError(
            f"pydicom cannot write the File-set ({type(exc).__name__}: {exc})",
            where=str(out),
            fix="An instance holds a value that cannot be encoded; check the files with "
            "medlab.dicom.hexview().",
        ) from None
    paths.make_private_tree(out)  # pydicom wrote it with the umask's modes
    return dicomdir(out)
