"""Reading DICOM safely: bad input becomes one :class:`~medlab.MedlabError`.

pydicom is deliberately tolerant: a file cut short is read without a word (the
last values are just shorter), and ``force=True`` turns almost any bytes into
*some* data set. That is right for a library, but a trainee needs to hear
what is wrong and where. So before pydicom reads anything, :func:`scan` walks
the bytes the way PS3.5 §7 and PS3.10 §7.1 describe them, element by element,
and stops at the first byte that does not fit:

* PS3.10 §7.1: a Part 10 file is a 128-byte preamble, the four bytes ``DICM``,
  the File Meta Information (group 0002, always Explicit VR Little Endian),
  then the data set in the transfer syntax named by (0002,0010).
* PS3.5 §7.1.2: Explicit VR element = tag (4) + VR (2) + length (2), or, for
  OB, OD, OF, OL, OV, OW, SQ, SV, UC, UN, UR, UT and UV, tag (4) + VR (2) +
  two reserved bytes + length (4). §7.1.3: Implicit VR element = tag (4) +
  length (4); the VR comes from the data dictionary.
* PS3.5 §7.1.1: the length is the *actual* number of bytes of the value,
  always even (values are padded to an even length, PS3.5 §6.2); 0xFFFFFFFF
  means "undefined", allowed for SQ, UN and encapsulated Pixel Data, which then
  end with a delimiter item (§7.5, §A.4).

:func:`scan` returns the layout (every element's offsets), which
:mod:`medlab.dicom.hexdump` draws and :mod:`medlab.dicom.header` uses for the
Length column.
"""

from __future__ import annotations

import struct

from medlab.dicom._layout import (
    DEFLATED_LE,
    EXPLICIT_BE,
    IMPLICIT_LE,
    ITEM,
    ITEM_END,
    LONG_VRS,
    PIXEL_DATA,
    SEQ_END,
    UNDEFINED,
    Element,
    Layout,
    tag_text,
)
from medlab.errors import MedlabError


class _Truncated(Exception):
    pass


class _Scanner:
    """Walk the bytes of a data set (PS3.5 §7), recording every element."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self.layout = Layout(size=len(data))
        self.forced_start: int | None = None  # where force=True assumed a data set begins

    # -- low level -------------------------------------------------------
    def fail(self, what: str, offset: int, fix: str) -> None:
        raise _Problem(MedlabError(what, where=f"byte {offset} of {self.name}", fix=fix))

    def need(self, pos: int, count: int, end: int, what: str) -> None:
        if pos + count > end:
            if end < len(self.data):  # inside a defined-length container
                self.fail(
                    f"{what} at byte {pos} runs past the end of its enclosing item or sequence "
                    f"(which ends at byte {end})",
                    pos,
                    "A length field earlier in the file is wrong; the file was written incorrectly.",
                )
            self.fail(
                f"The file ends in the middle of {what}: {count} bytes are needed at byte {pos} "
                f"but only {max(0, end - pos)} remain (the file is {len(self.data)} bytes long) - "
                "it is truncated",
                pos,
                "Copy or download the file again; pydicom would read the cut-off part silently.",
            )

    def u16(self, pos: int, little: bool) -> int:
        return struct.unpack_from("<H" if little else ">H", self.data, pos)[0]

    def u32(self, pos: int, little: bool) -> int:
        return struct.unpack_from("<L" if little else ">L", self.data, pos)[0]

    def tag(self, pos: int, little: bool) -> int:
        return (self.u16(pos, little) << 16) | self.u16(pos + 2, little)

    # -- structure ------------------------------------------------------
    def elements(
        self,
        pos: int,
        end: int,
        implicit: bool,
        little: bool,
        depth: int,
        path: tuple,
        *,
        until_item_end: bool = False,
        only_group: int | None = None,
    ) -> tuple[int, bool]:
        """Parse elements from ``pos`` to ``end``; return (position, implicit)."""
        first = True
        while True:
            if pos >= end:
                if until_item_end:
                    self.need(
                        pos, 8, end, "a sequence item (its Item Delimitation Item is missing)"
                    )
                return pos, implicit
            self.need(pos, 4, end, "an element's tag")
            tag = self.tag(pos, little)
            if only_group is not None and tag >> 16 != only_group:
                return pos, implicit
            if tag == ITEM_END and until_item_end:
                self.need(pos, 8, end, "an Item Delimitation Item")
                self.add(
                    "item_end",
                    pos,
                    tag,
                    None,
                    False,
                    8,
                    self.u32(pos + 4, little),
                    0,
                    depth,
                    path,
                    little,
                    implicit,
                )
                return pos + 8, implicit
            if tag >> 16 == 0xFFFE:
                self.fail(
                    f"Unexpected delimiter {tag_text(tag)} in the middle of a data set",
                    pos,
                    "The sequence structure is broken; check the lengths of the enclosing sequence.",
                )
            self.need(pos, 8, end, f"the header of element {tag_text(tag)}")
            vr_bytes = self.data[pos + 4 : pos + 6]
            if not implicit and not _looks_like_vr(vr_bytes):
                if first and depth == 0:
                    # PS3.5 says the transfer syntax decides; pydicom (and most readers)
                    # check the first element and follow the bytes. So do we, and say so.
                    implicit = True
                    self.layout.notes.append(
                        f"Byte {pos}: the transfer syntax says Explicit VR, but the data set is "
                        "encoded with Implicit VR (no VR letters after the tag); read as Implicit VR."
                    )
                else:
                    self.fail(
                        f"Element {tag_text(tag)} should carry a two-letter VR at byte {pos + 4}, "
                        f"found bytes {vr_bytes.hex(' ')}",
                        pos,
                        "The file is damaged or its transfer syntax is wrong.",
                    )
            if implicit:
                vr, in_file, hdr, length = _dictionary_vr(tag), False, 8, self.u32(pos + 4, little)
            else:
                vr = vr_bytes.decode("ascii")
                in_file = True
                if vr in LONG_VRS:
                    self.need(pos, 12, end, f"the header of element {tag_text(tag)}")
                    hdr, length = 12, self.u32(pos + 8, little)
                else:
                    hdr, length = 8, self.u16(pos + 6, little)
            first = False
            value = pos + hdr
            here = (*path, tag)
            if length == UNDEFINED:
                if tag == PIXEL_DATA or (tag >> 16 == 0x7FE0 and vr in ("OB", "OW")):
                    el = self.add(
                        "element",
                        pos,
                        tag,
                        vr,
                        in_file,
                        hdr,
                        length,
                        0,
                        depth,
                        here,
                        little,
                        implicit,
                        True,
                    )
                    stop = self.items(
                        value, None, implicit, little, depth + 1, path, tag, fragments=True
                    )
                elif vr in ("SQ", "UN") or not in_file:
                    el = self.add(
                        "element",
                        pos,
                        tag,
                        "SQ" if not in_file else vr,
                        in_file,
                        hdr,
                        length,
                        0,
                        depth,
                        here,
                        little,
                        implicit,
                        True,
                    )
                    # PS3.5 §6.2.2: an UN of undefined length holds Implicit VR Little Endian items.
                    sub_implicit, sub_little = (
                        (True, True) if vr == "UN" and in_file else (implicit, little)
                    )
                    stop = self.items(value, None, sub_implicit, sub_little, depth + 1, path, tag)
                else:
                    self.fail(
                        f"Element {tag_text(tag)} has VR {vr} with an undefined length (FFFFFFFF), "
                        "which PS3.5 §7.1 only allows for SQ, UN and encapsulated pixel data",
                        pos,
                        "The file is damaged.",
                    )
                el.value_len = stop - value
                pos = stop
                continue
            if value + length > end:
                what = _describe(tag)
                if pos == self.forced_start:
                    self.fail(
                        f"The first element, {what}, declares a value of {length} bytes but the file has only "
                        f"{len(self.data)}: these bytes do not start with a DICOM data element",
                        pos,
                        "force=True assumes a data set begins at byte 0; this file does not look like one "
                        "(a stray byte at the start, or not DICOM at all?).",
                    )
                if end < len(self.data):
                    self.fail(
                        f"Element {what} at byte {pos} declares a value of {length} bytes, which runs past "
                        f"the end of its enclosing item (byte {end})",
                        pos,
                        "A length field is wrong; the file was written incorrectly.",
                    )
                self.fail(
                    f"Element {what} at byte {pos} declares a value of {length} bytes, but only "
                    f"{max(0, len(self.data) - value)} bytes remain: the file is truncated "
                    "(or these bytes are not a DICOM data set)",
                    pos,
                    "Copy or download the file again. pydicom would read it silently and give you a "
                    "shortened value.",
                )
            is_sq = vr == "SQ" and length > 0
            el = self.add(
                "element",
                pos,
                tag,
                vr,
                in_file,
                hdr,
                length,
                length,
                depth,
                here,
                little,
                implicit,
                is_sq,
            )
            if is_sq:
                self.items(value, value + length, implicit, little, depth + 1, path, tag)
            pos = value + length

    def items(
        self,
        pos: int,
        end: int | None,
        implicit: bool,
        little: bool,
        depth: int,
        path: tuple,
        seq_tag: int,
        *,
        fragments: bool = False,
    ) -> int:
        """Parse the items of a sequence (or the fragments of encapsulated pixel data).

        ``end`` is the end of a defined-length sequence, or ``None`` when the
        sequence has undefined length and ends with a Sequence Delimitation Item.
        """
        limit = len(self.data) if end is None else end
        index = 0
        while True:
            if end is not None and pos >= end:
                return pos
            self.need(pos, 8, limit, "a sequence item header")
            tag = self.tag(pos, little)
            length = self.u32(pos + 4, little)
            if tag == SEQ_END:
                self.add(
                    "seq_end",
                    pos,
                    tag,
                    None,
                    False,
                    8,
                    length,
                    0,
                    depth,
                    (*path, seq_tag),
                    little,
                    implicit,
                )
                return pos + 8
            if tag != ITEM:
                self.fail(
                    f"Expected an Item tag (FFFE,E000) inside {_describe(seq_tag)}, found {tag_text(tag)}",
                    pos,
                    "The sequence's length or the item's length is wrong; the file is damaged.",
                )
            item_path = (*path, (seq_tag, index))
            if fragments:
                self.need(pos + 8, length, limit, f"pixel data fragment {index}")
                self.add(
                    "fragment",
                    pos,
                    tag,
                    None,
                    False,
                    8,
                    length,
                    length,
                    depth,
                    item_path,
                    little,
                    implicit,
                )
                pos += 8 + length
            elif length == UNDEFINED:
                el = self.add(
                    "item",
                    pos,
                    tag,
                    None,
                    False,
                    8,
                    length,
                    0,
                    depth,
                    item_path,
                    little,
                    implicit,
                    True,
                )
                stop, _ = self.elements(
                    pos + 8,
                    len(self.data),
                    implicit,
                    little,
                    depth + 1,
                    item_path,
                    until_item_end=True,
                )
                el.value_len = stop - pos - 8
                pos = stop
            else:
                self.need(pos + 8, length, limit, f"item {index + 1} of {_describe(seq_tag)}")
                self.add(
                    "item",
                    pos,
                    tag,
                    None,
                    False,
                    8,
                    length,
                    length,
                    depth,
                    item_path,
                    little,
                    implicit,
                    True,
                )
                self.elements(pos + 8, pos + 8 + length, implicit, little, depth + 1, item_path)
                pos += 8 + length
            index += 1

    def add(
        self,
        kind,
        offset,
        tag,
        vr,
        in_file,
        hdr,
        length,
        value_len,
        depth,
        path,
        little,
        implicit,
        children=False,
    ):
        el = Element(
            kind,
            offset,
            tag,
            vr,
            in_file,
            hdr,
            length,
            value_len,
            depth,
            path,
            little,
            implicit,
            children,
        )
        self.layout.elements.append(el)
        return el


class _Problem(Exception):
    def __init__(self, error: MedlabError) -> None:
        self.error = error


def _looks_like_vr(raw: bytes) -> bool:
    return len(raw) == 2 and 65 <= raw[0] <= 90 and 65 <= raw[1] <= 90


def _dictionary_vr(tag: int) -> str:
    """The VR an Implicit VR reader must assume (PS3.5 §7.1.3: from the dictionary)."""
    from pydicom.datadict import dictionary_VR

    if tag & 0xFFFF == 0:
        return "UL"  # group length (PS3.5 §7.2)
    if (tag >> 16) % 2 == 1:
        return "LO" if 0x0010 <= (tag & 0xFFFF) <= 0x00FF else "UN"
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _describe(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    keyword = keyword_for_tag(tag)
    return f"{tag_text(tag)} {keyword}".rstrip()


def _encoding_for(uid: str | None) -> tuple[bool, bool]:
    """(implicit, little) for a transfer syntax UID (PS3.5 §10 and Annex A)."""
    if uid == IMPLICIT_LE:
        return True, True
    if uid == EXPLICIT_BE:
        return False, False
    return False, True


def scan(data: bytes, *, force: bool = False, name: str = "the data") -> Layout:
    """Walk ``data`` and return its :class:`Layout`; problems land in ``layout.problem``.

    Without ``force`` the bytes must be a Part 10 file (``DICM`` at byte 128),
    otherwise a :class:`MedlabError` is raised at once. With ``force``, bytes
    without a preamble are read as a bare data set starting at byte 0 (what
    ``pydicom.dcmread(..., force=True)`` assumes too).
    """
    if not data:
        raise MedlabError(
            f"{name} is empty (0 bytes)",
            where=name,
            fix="The file was not written completely; copy it again or choose another file.",
        )
    has_prefix = len(data) >= 132 and data[128:132] == b"DICM"
    if not has_prefix and not force:
        found = data[128:132] if len(data) >= 132 else b""
        raise MedlabError(
            "This is not a DICOM Part 10 file: bytes 128-131 should read 'DICM' "
            f"but read {found!r}"
            + ("" if len(data) >= 132 else f" (the file has only {len(data)} bytes)"),
            where=f"byte 128 of {name}",
            fix="If it is a bare data set without preamble and File Meta Information, "
            "pass force=True (pydicom then assumes the bytes start with an element at byte 0).",
        )
    scanner = _Scanner(data, name)
    layout = scanner.layout
    try:
        pos = 0
        if has_prefix:
            layout.preamble = True
            pos = 132
        if (
            len(data) >= pos + 6
            and data[pos : pos + 2] == b"\x02\x00"
            and _looks_like_vr(data[pos + 4 : pos + 6])
        ):
            layout.meta_start = pos
            # PS3.10 §7.1: the File Meta Information is always Explicit VR Little Endian.
            pos, _ = scanner.elements(pos, len(data), False, True, 0, (), only_group=0x0002)
            ts = next((e for e in layout.elements if e.tag == 0x00020010), None)
            if ts is not None:
                raw = data[ts.value_offset : ts.end]
                layout.transfer_syntax = raw.rstrip(b"\x00 ").decode("ascii", "replace")
        elif has_prefix:
            layout.notes.append(
                "There is a preamble and 'DICM', but no File Meta Information group."
            )
        layout.dataset_start = pos
        if layout.transfer_syntax == DEFLATED_LE:
            layout.deflated = True
            return layout
        if layout.transfer_syntax is None:
            little = not (len(data) > pos + 1 and data[pos] == 0 and data[pos + 1] != 0)
            implicit = not _looks_like_vr(data[pos + 4 : pos + 6])
        else:
            implicit, little = _encoding_for(layout.transfer_syntax)
        layout.implicit, layout.little = implicit, little
        if force and not has_prefix:
            _check_plausible_start(scanner, pos, little)
            scanner.forced_start = pos
        _, layout.implicit = scanner.elements(pos, len(data), implicit, little, 0, ())
    except _Problem as problem:
        layout.problem = problem.error
    return layout


def _check_plausible_start(scanner: _Scanner, pos: int, little: bool) -> None:
    """With force=True: do the first bytes look like an element at all?"""
    data = scanner.data
    if len(data) < pos + 8:
        scanner.need(pos, 8, len(data), "the first element")
    tag = scanner.tag(pos, little)
    group = tag >> 16
    if group == 0 or group % 2 == 1 or group > 0x7FE0 and group != 0xFFFE or group == 0xFFFE:
        scanner.fail(
            f"The first four bytes {data[pos : pos + 4].hex(' ')} are not a plausible tag "
            f"({tag_text(tag)}): these bytes do not look like a DICOM data set",
            pos,
            "Check that this is a DICOM file; force=True only helps when a data set starts at byte 0.",
        )
