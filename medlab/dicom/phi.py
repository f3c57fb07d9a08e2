"""An independent check for protected health information (PHI) left in DICOM files.

A de-identifier applies rules; this module *looks*: given what is known about
the patient (names, IDs, birth date, phone...), :func:`scan_phi` searches every
element of every file for them, whatever the tag:

* standard and private elements, at any depth of nested sequences
  (PS3.5 7.5: a sequence item is a data set of its own);
* text values, person names component by component, dates in the usual
  spellings (19820123, 1982-01-23, 23/01/1982...);
* values whose VR is unknown (UN) or binary (OB), read as bytes;
* the raw bytes of the whole file, so that a copy hidden where the parser
  does not look (inside pixel data, a trailing pad, an undecoded value) is
  still found, with its byte offset;
* the file and folder names themselves.

It also lists images whose Burned In Annotation (0028,0301) is YES or absent:
text drawn into the pixels is PHI that no header rule removes (PS3.15 E.3.1
Clean Pixel Data Option), so such images need a person to look at them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.dicom._read import dataset_errors
from medlab.errors import MedlabError

if TYPE_CHECKING:
    from pydicom import Dataset

_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass(frozen=True)
class Hit:
    """One place where a known identifier was found."""

    file: str
    where: str  # "(0010,0010)", "(0029,1020)[0](0029,1010)", "bytes 0x1f2c", "file name"
    keyword: str
    term: str  # the searched spelling that matched
    excerpt: str


@dataclass
class PHIScan:
    """The result of :func:`scan_phi`: hits, images to check by eye, files scanned."""

    terms: list[str]
    hits: list[Hit] = field(default_factory=list)
    burned_in: list[str] = field(default_factory=list)
    files: int = 0

    def __len__(self) -> int:
        return len(self.hits)

    @property
    def clean(self) -> bool:
        """True when no identifier was found (burned-in pixels are listed separately)."""
        return not self.hits

    def places(self) -> list[str]:
        """The distinct places (tags or byte ranges) with a hit, in order of first appearance."""
        seen: dict[str, None] = {}
        for hit in self.hits:
            seen.setdefault(f"{hit.where} {hit.keyword}".strip(), None)
        return list(seen)

    def to_frame(self):
        """The hits as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(
            [h.__dict__ for h in self.hits], columns=["file", "where", "keyword", "term", "excerpt"]
        )

    def _first_file_hits(self) -> list[Hit]:
        first = self.hits[0].file if self.hits else ""
        return [h for h in self.hits if h.file == first]

    def __repr__(self) -> str:
        files_hit = len({h.file for h in self.hits})
        lines = [
            f"PHI scan of {self.files} file(s) for {len(self.terms)} spellings: "
            f"{len(self.hits)} hit(s) in {files_hit} file(s)"
        ]
        rows = self._first_file_hits()
        if rows:
            lines.append(f"Hits in {rows[0].file}:")
            lines += [
                f"  {h.where:<28} {h.keyword[:34]:<34} {h.term!r:<20} {h.excerpt!r}" for h in rows
            ]
        if self.burned_in:
            lines.append(
                f"Burned In Annotation YES or absent (check the pixels): {', '.join(self.burned_in)}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        files_hit = len({h.file for h in self.hits})
        rows = self._first_file_hits()
        colour = "#a4262c" if self.hits else "#1b7f3b"
        body = "".join(
            f"<tr><td><code>{html.escape(h.where)}</code></td><td>{html.escape(h.keyword)}</td>"
            f"<td>{html.escape(h.term)}</td><td>{html.escape(h.excerpt)}</td></tr>"
            for h in rows
        )
        table = (
            (
                "<p>Hits in " + html.escape(rows[0].file) + ":</p><table><thead><tr><th>Where</th>"
                "<th>Attribute</th><th>Found</th><th>Context</th></tr></thead><tbody>"
                + body
                + "</tbody></table>"
            )
            if rows
            else ""
        )
        burned = (
            f"<p><b>Check the pixels</b> (Burned In Annotation YES or absent): "
            f"{html.escape(', '.join(self.burned_in))}</p>"
            if self.burned_in
            else ""
        )
        return (
            f'<div class="medlab-phi-scan"><p style="color:{colour}"><b>{len(self.hits)} hit(s)</b> '
            f"in {files_hit} of {self.files} file(s), searching {len(self.terms)} spellings</p>"
            f"{table}{burned}</div>"
        )


def spellings(known: Iterable[str]) -> list[str]:
    """The strings to search for each known identifier (upper case, 3 characters or more).

    A person name ``FAMILY^GIVEN^MIDDLE`` also gives each component and each
    part of a hyphenated family name (free text writes "Lucia Ferreira-Santos");
    a date ``YYYYMMDD`` also gives ``YYYY-MM-DD``, ``YYYY/MM/DD``, ``DD/MM/YYYY``,
    ``MM/DD/YYYY`` and ``DD.MM.YYYY``.
    """
    out: dict[str, None] = {}
    for item in known:
        text = str(item).strip().upper()
        if not text:
            continue
        out.setdefault(text, None)
        match = _DATE.match(text)
        if match:
            y, m, d = match.groups()
            for form in (
                f"{y}-{m}-{d}",
                f"{y}/{m}/{d}",
                f"{d}/{m}/{y}",
                f"{m}/{d}/{y}",
                f"{d}.{m}.{y}",
            ):
                out.setdefault(form, None)
        if "^" in text:
            for part in text.split("^"):
                for piece in [part, *part.split("-"), *part.split(" ")]:
                    if len(piece.strip()) >= 3:
                        out.setdefault(piece.strip(), None)
    return [t for t in out if len(t) >= 3]


def _as_text(elem: Any) -> str:
    value = elem.value
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, str):
        return value
    try:
        return (
            "\\".join(str(v) for v in value)
            if not hasattr(value, "original_string")
            else str(value)
        )
    except TypeError:
        return str(value)


class _Scanner:
    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        # IGNORECASE rather than str.upper(): upper() can change the length of a text
        # (latin-1 "ß" becomes "SS"), which would shift the byte offsets reported.
        self.pattern = re.compile(
            "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
        )

    def find(self, text: str) -> list[tuple[str, str]]:
        """(matched term, excerpt) for each occurrence in ``text`` (case-insensitive)."""
        found = []
        for match in self.pattern.finditer(text):
            start, end = match.span()
            excerpt = text[max(0, start - 12) : end + 12].replace("\x00", " ").strip()
            found.append((match.group(0).upper(), excerpt))
        return found

    def walk(
        self,
        ds: Dataset,
        prefix: str,
        file: str,
        hits: list[Hit],
        creators: dict[tuple[int, int], str] | None = None,
    ) -> set[int]:
        """Search every element; return the top-level tags (ints) with a hit."""
        creators = {
            (e.tag.group, e.tag.element): str(e.value)
            for e in ds
            if e.tag.is_private and 0x10 <= e.tag.element <= 0xFF
        }
        touched: set[int] = set()
        for elem in ds:
            tag = elem.tag
            where = f"{prefix}({tag.group:04X},{tag.element:04X})"
            if elem.VR == "SQ":
                for i, item in enumerate(elem.value or []):
                    if self.walk(item, f"{where}[{i}]", file, hits):
                        touched.add(int(tag))
                continue
            if tag == 0x7FE00010:
                continue  # pixel data: covered by the raw-byte pass
            if tag.is_private and tag.element > 0xFF:
                creator = creators.get((tag.group, tag.element >> 8), "no creator")
                keyword = f"private {creator} ({elem.VR})"
            else:
                keyword = elem.keyword or elem.name
            for term, excerpt in self.find(_as_text(elem)):
                hits.append(Hit(file, where, keyword, term, excerpt))
                touched.add(int(tag))
        return touched


@dataset_errors(
    "search this data set for identifiers",
    "pydicom cannot decode part of it; look at the bytes with medlab.dicom.hexview(path, force=True, strict=False).",
)
def scan_phi(ds_or_folder: Dataset | str | Path, known: Iterable[str]) -> PHIScan:
    """Search DICOM data for known identifiers; an independent check of de-identification.

    Parameters
    ----------
    ds_or_folder:
        A pydicom Dataset, a file or a folder (searched recursively).
    known:
        What is known about the patient and the visit: names (``FAMILY^GIVEN``),
        IDs, birth date (``YYYYMMDD``), phone, address fragments... See
        :func:`spellings` for the variants searched.

    Returns
    -------
    PHIScan
        Every hit with the file, the place (tag path or byte offset), the
        attribute, the matched spelling and some context; plus the images whose
        pixels may carry burned-in text.
    """
    import pydicom
    from pydicom.dataset import Dataset

    terms = spellings(known)
    if not terms:
        raise MedlabError(
            "Nothing to search for",
            where="scan_phi(known=...)",
            fix="Pass the patient's name, ID and birth date, e.g. "
            "known=['DOE^JANE', 'MRN123', '19700101'].",
        )
    scanner = _Scanner(terms)
    result = PHIScan(terms=terms)
    if isinstance(ds_or_folder, Dataset):
        result.files = 1
        scanner.walk(ds_or_folder, "", "dataset", result.hits)
        meta = getattr(ds_or_folder, "file_meta", None)
        if meta is not None:
            scanner.walk(meta, "", "dataset", result.hits)
        if _burned_in(ds_or_folder):
            result.burned_in.append("dataset")
        return result
    source = Path(ds_or_folder)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
        base = source
    elif source.is_file():
        files, base = [source], source.parent
    else:
        raise MedlabError("No such file or folder", where=str(source), fix="Check the path.")
    for path in files:
        name = path.relative_to(base).as_posix()
        result.files += 1
        for term, excerpt in scanner.find(name):
            result.hits.append(Hit(name, "file name", "", term, excerpt))
        data = path.read_bytes()
        try:
            ds = pydicom.dcmread(path, force=True)
            extents = _extents(ds, len(data))
            touched = scanner.walk(ds, "", name, result.hits)
            if scanner.walk(ds.file_meta, "", name, result.hits):
                touched.add(0x00020000)  # the File Meta Information region
            if _burned_in(ds):
                result.burned_in.append(name)
        except Exception:  # not DICOM, or damaged: the raw pass still looks
            extents, touched = [], set()
        text = data.decode("latin-1")
        for match_term, excerpt, offset in _raw_find(scanner, text):
            tag = _tag_at(extents, offset)
            if tag is not None and tag in touched:
                continue  # already reported as an element hit
            where = f"bytes 0x{offset:x}"
            label = (
                f"inside ({tag >> 16:04X},{tag & 0xFFFF:04X})" if tag is not None else "raw bytes"
            )
            result.hits.append(Hit(name, where, label, match_term, excerpt))
    return result


def _raw_find(scanner: _Scanner, text: str) -> Iterable[tuple[str, str, int]]:
    for match in scanner.pattern.finditer(text):
        start, end = match.span()
        excerpt = "".join(
            ch if 32 <= ord(ch) < 127 else "." for ch in text[max(0, start - 12) : end + 12]
        )
        yield match.group(0).upper(), excerpt, start


def _extents(ds: Dataset, size: int) -> list[tuple[int, int, int]]:
    """(start, end, tag) byte ranges of the top-level elements, from the parser's offsets.

    Elements not yet decoded by pydicom are RawDataElements that know where
    their value starts (``value_tell``); an element runs from its header
    (about 12 bytes before its value) to the next element's header.
    """
    starts = []
    for tag, raw in ds._dict.items():
        tell = getattr(raw, "value_tell", None)
        if tell is not None:
            starts.append((max(0, tell - 12), int(tag)))
    starts.sort()
    out = []
    for i, (start, tag) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else size
        out.append((start, end, tag))
    if starts:
        out.insert(0, (0, starts[0][0], 0x00020000))  # preamble and File Meta Information
    return out


def _tag_at(extents: list[tuple[int, int, int]], offset: int) -> int | None:
    for start, end, tag in extents:
        if start <= offset < end:
            return tag
    return None


def _burned_in(ds: Dataset) -> bool:
    """An image whose Burned In Annotation (0028,0301) is YES or absent (unknown)."""
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        return False
    return str(ds.get("BurnedInAnnotation", "")).upper() != "NO"
