"""The layout of a data set's bytes: every element's offsets, as :func:`~medlab.dicom._scan.scan` finds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medlab.errors import MedlabError

#: VRs whose explicit header has 2 reserved bytes and a 4-byte length (PS3.5 Table 7.1-1).
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
ITEM = 0xFFFEE000
ITEM_END = 0xFFFEE00D
SEQ_END = 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
UNDEFINED = 0xFFFFFFFF

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
EXPLICIT_BE = "1.2.840.10008.1.2.2"


def tag_text(tag: int) -> str:
    """``0x00100010`` -> ``"(0010,0010)"``, the way PS3.6 writes tags."""
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@dataclass
class Element:
    """Where one element (or item, or delimiter) sits in the bytes.

    ``kind`` is ``"element"``, ``"item"``, ``"item_end"``, ``"seq_end"`` or
    ``"fragment"`` (an item of encapsulated pixel data). ``path`` locates it
    in the data set: ``((seq_tag, item_index), ..., tag)``.
    """

    kind: str
    offset: int
    tag: int
    vr: str | None
    vr_in_file: bool
    header_len: int
    length: int
    value_len: int
    depth: int
    path: tuple
    little: bool
    implicit: bool

    @property
    def value_offset(self) -> int:
        return self.offset + self.header_len

    @property
    def end(self) -> int:
        return self.value_offset + self.value_len

    @property
    def undefined(self) -> bool:
        return self.length == UNDEFINED

    def parts(self) -> list[tuple[str, int, int]]:
        """``[(part, start, stop), ...]``: tag, vr, reserved, length and value bytes."""
        o = self.offset
        out = [("tag", o, o + 4)]
        if self.header_len == 12:
            out += [("vr", o + 4, o + 6), ("reserved", o + 6, o + 8), ("length", o + 8, o + 12)]
        elif self.vr_in_file:
            out += [("vr", o + 4, o + 6), ("length", o + 6, o + 8)]
        else:
            out += [("length", o + 4, o + 8)]
        if self.value_len and self.kind in ("element", "fragment") and not self.has_children:
            out.append(("value", self.value_offset, self.value_offset + self.value_len))
        return out

    has_children: bool = False


@dataclass
class Layout:
    """The byte layout of a DICOM file or data set, as :func:`scan` found it."""

    size: int
    preamble: bool = False
    meta_start: int | None = None
    dataset_start: int = 0
    transfer_syntax: str | None = None
    implicit: bool = False
    little: bool = True
    deflated: bool = False
    elements: list[Element] = field(default_factory=list)
    problem: MedlabError | None = None
    notes: list[str] = field(default_factory=list)

    def find(self, key: Any) -> Element | None:
        """The first top-level element with this tag (int) or keyword."""
        tag = _to_tag(key)
        return next((e for e in self.elements if e.kind == "element" and e.tag == tag), None)


def _to_tag(key: Any) -> int:
    if isinstance(key, int):
        return key
    if isinstance(key, tuple):
        return (key[0] << 16) | key[1]
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(str(key))
    if tag is None:
        raise MedlabError(
            f"{key!r} is not a DICOM keyword",
            fix="Use a keyword such as 'PatientName' or a tag such as 0x00100010.",
        )
    return tag
