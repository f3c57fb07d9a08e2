"""An annotated hex dump of a DICOM file: every element's bytes, coloured by part.

One line per data element (PS3.5 §7.1): the offset of its first byte, the tag
(group, element), the VR (only in Explicit VR transfer syntaxes), the length
field, the first bytes of the value, and what pydicom decodes them to. The
preamble and the ``DICM`` prefix (PS3.10 §7.1) come first; long values such as
Pixel Data are elided. In a notebook it is coloured HTML, elsewhere plain text.

>>> import medlab.dicom, medlab.data
>>> view = medlab.dicom.hexview(medlab.data.get_path("mr"), limit=3)
>>> print(repr(view).splitlines()[3])
00000080  44 49 43 4D  'DICM' prefix (PS3.10 §7.1)
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from medlab.dicom._layout import Element, tag_text
from medlab.dicom._read import Loaded, load

#: Colours of the parts of an element (text colour, background).
COLOURS = {
    "preamble": ("#6b6b6b", "#f0f0f0"),
    "prefix": ("#6a1b9a", "#f3e5f5"),
    "tag": ("#0d47a1", "#e3f2fd"),
    "vr": ("#1b5e20", "#e8f5e9"),
    "reserved": ("#6b6b6b", "#f5f5f5"),
    "length": ("#e65100", "#fff3e0"),
    "value": ("#212121", "#ffffff"),
    "problem": ("#b71c1c", "#ffebee"),
}
PART_NAMES = {
    "tag": "tag (group, element)",
    "vr": "VR",
    "reserved": "reserved (00 00)",
    "length": "value length",
    "value": "value",
}


def _hex(raw: bytes) -> str:
    return " ".join(f"{b:02X}" for b in raw)


def _short(text: str, width: int = 48) -> str:
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_value(elem: Any) -> str:
    """A short, deterministic text for a pydicom DataElement's value."""
    vr = elem.VR
    value = elem.value
    if vr == "SQ":
        n = len(value)
        return f"<sequence of {n} item{'s' if n != 1 else ''}>"
    if elem.tag == 0x7FE00010:
        return f"<pixel data, {len(value or b'')} bytes>"
    if isinstance(value, (bytes, bytearray)):
        if len(value) <= 8:
            return f"<{len(value)} bytes: {_hex(value)}>" if value else "<empty>"
        return f"<{len(value)} bytes>"
    if value is None or value == "":
        return "<empty>"
    from pydicom.multival import MultiValue

    binary = vr in ("US", "SS", "UL", "SL", "FL", "FD", "AT", "SV", "UV")
    if isinstance(value, (MultiValue, list, tuple)):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    # Text VRs (including the numbers-as-text DS and IS) are quoted, binary numbers are not.
    return text if binary else f'"{text}"'


def _element_index(ds: Any) -> dict[tuple, Any]:
    """Map scan paths ``((seq, i), ..., tag)`` to pydicom DataElements."""
    out: dict[tuple, Any] = {}

    def walk(dataset: Any, prefix: tuple) -> None:
        for elem in dataset:
            out[(*prefix, int(elem.tag))] = elem
            if elem.VR == "SQ":
                for i, item in enumerate(elem.value):
                    walk(item, (*prefix, (int(elem.tag), i)))

    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        walk(meta, ())
    walk(ds, ())
    return out


@dataclass(frozen=True)
class ElementBytes:
    """One element's bytes split into its parts, next to its decoded value."""

    tag: str
    keyword: str
    vr: str
    vr_in_file: bool
    offset: int
    parts: tuple[tuple[str, bytes], ...]
    length: int | None
    value: str
    depth: int

    def part(self, name: str) -> bytes:
        return b"".join(raw for part, raw in self.parts if part == name)

    def __repr__(self) -> str:
        lines = [f"{self.tag} {self.keyword} at byte {self.offset}"]
        for part, raw in self.parts:
            shown = _hex(raw[:32]) + (f" … (+{len(raw) - 32} bytes)" if len(raw) > 32 else "")
            lines.append(f"  {PART_NAMES.get(part, part):<22} {shown}")
        if not self.vr_in_file:
            lines.append(f"  (no VR in the file: Implicit VR; the dictionary says {self.vr})")
        lines.append(f"  decoded value          {self.value}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{PART_NAMES.get(part, part)}</td><td>{_span(part, _hex(raw[:32]) + (' …' if len(raw) > 32 else ''))}</td>"
            f"<td>{len(raw)} bytes</td></tr>"
            for part, raw in self.parts
        )
        note = (
            ""
            if self.vr_in_file
            else f"<p>No VR in the file (Implicit VR): the dictionary says {self.vr}.</p>"
        )
        return (
            f'<div class="medlab-element-bytes"><b>{self.tag} {html.escape(self.keyword)}</b> at byte {self.offset}'
            f"<table>{rows}<tr><td>decoded value</td><td colspan=2><code>{html.escape(self.value)}</code>"
            f"</td></tr></table>{note}</div>"
        )


def _span(part: str, text: str) -> str:
    fg, bg = COLOURS[part]
    return f'<span class="hx-{part}" style="color:{fg};background:{bg}">{html.escape(text)}</span>'


@dataclass(frozen=True)
class Line:
    offset: int
    cells: tuple[tuple[str, str], ...]  # (part, hex text) for tag, vr, length, value columns
    label: str
    depth: int
    key: str | None  # "(0010,0010)" for selectable elements


class HexView:
    """The annotated dump of one file (see :func:`hexview`)."""

    def __init__(
        self,
        loaded: Loaded,
        *,
        only: Iterable[Any] | None = None,
        limit: int | None = None,
        value_bytes: int = 16,
    ) -> None:
        self.loaded = loaded
        self.name = loaded.name
        self.layout = loaded.layout
        self.value_bytes = value_bytes
        self._index = _element_index(loaded.dataset)
        wanted = None
        if only is not None:
            from medlab.dicom._layout import _to_tag

            wanted = {_to_tag(k) for k in only}
        self.lines: list[Line] = []
        self._head()
        shown = 0
        self.hidden = 0
        for el in self.layout.elements:
            if (
                wanted is not None
                and (el.path[0] if isinstance(el.path[0], int) else el.path[0][0]) not in wanted
            ):
                continue
            if limit is not None and shown >= limit:
                self.hidden += 1
                continue
            self.lines.append(self._line(el))
            shown += 1
        self._tail()

    # -- building lines -------------------------------------------------
    def _head(self) -> None:
        data, lay = self.loaded.data, self.layout
        if lay.preamble:
            pre = data[:128]
            if not any(pre):
                what = "all zero"
            elif pre[:4] in (b"II*\x00", b"MM\x00*"):
                what = "here a TIFF header, so the file is also a TIFF image"
            else:
                what = "application-defined content"
            self.lines.append(
                Line(
                    0,
                    (("preamble", _hex(pre[:8]) + " …"),),
                    f"Preamble, 128 bytes ({what})",
                    0,
                    None,
                )
            )
            self.lines.append(
                Line(
                    128, (("prefix", _hex(data[128:132])),), "'DICM' prefix (PS3.10 §7.1)", 0, None
                )
            )
        elif lay.meta_start is None:
            self.lines.append(
                Line(
                    0,
                    (),
                    "No preamble, no 'DICM', no File Meta Information: a bare data set",
                    0,
                    None,
                )
            )

    def _tail(self) -> None:
        lay = self.layout
        if self.hidden:
            self.lines.append(Line(-1, (), f"… {self.hidden} more elements not shown", 0, None))
        if lay.deflated:
            rest = lay.size - lay.dataset_start
            self.lines.append(
                Line(
                    lay.dataset_start,
                    (
                        (
                            "value",
                            _hex(self.loaded.data[lay.dataset_start : lay.dataset_start + 8])
                            + " …",
                        ),
                    ),
                    f"Deflated data set: {rest} bytes of zlib data (PS3.5 §A.5)",
                    0,
                    None,
                )
            )
        if lay.problem is not None:
            where = lay.problem.where or ""
            offset = int(where.split()[1]) if where.startswith("byte ") else lay.size
            self.lines.append(
                Line(offset, (("problem", "!!"),), f"Problem: {lay.problem.what}", 0, None)
            )

    def _line(self, el: Element) -> Line:
        data = self.loaded.data
        cells = []
        for part, start, stop in el.parts():
            raw = data[start:stop]
            if part == "value":
                text = _hex(raw[: self.value_bytes])
                if len(raw) > self.value_bytes:
                    text += f" … (+{len(raw) - self.value_bytes})"
            else:
                text = _hex(raw)
            cells.append((part, text))
        return Line(
            el.offset,
            tuple(cells),
            self._label(el),
            el.depth,
            tag_text(el.tag) if el.kind == "element" else None,
        )

    def _label(self, el: Element) -> str:
        indent = "  " * el.depth
        length = "undefined length" if el.undefined else f"length {el.length}"
        if el.kind == "item":
            return f"{indent}> Item {el.path[-1][1] + 1} ({length})"
        if el.kind == "item_end":
            return f"{indent}  Item Delimitation Item"
        if el.kind == "seq_end":
            return f"{indent}Sequence Delimitation Item"
        if el.kind == "fragment":
            index = el.path[-1][1]
            what = "Basic Offset Table" if index == 0 else f"Fragment {index}"
            return f"{indent}> {what} ({el.length} bytes)"
        elem = self._index.get(el.path)
        keyword = _keyword(el.tag, elem)
        vr = el.vr if el.vr_in_file else f"{elem.VR if elem is not None else el.vr} (implicit)"
        value = _short(describe_value(elem)) if elem is not None else ""
        return f"{indent}{tag_text(el.tag)} {keyword} {vr} = {value}".rstrip(" =")

    # -- access ----------------------------------------------------------
    def element(self, key: Any) -> ElementBytes:
        """The bytes of one top-level element, split into parts, with its decoded value."""
        from medlab.dicom._layout import _to_tag
        from medlab.errors import MedlabError

        tag = _to_tag(key)
        el = next(
            (e for e in self.layout.elements if e.kind == "element" and e.path == (tag,)), None
        )
        if el is None:
            raise MedlabError(
                f"{tag_text(tag)} is not in {self.name}",
                fix="Pick an element listed in the hex view.",
            )
        return self._bytes(el)

    def _bytes(self, el: Element) -> ElementBytes:
        elem = self._index.get(el.path)
        parts = tuple((part, self.loaded.data[a:b]) for part, a, b in el.parts())
        return ElementBytes(
            tag=tag_text(el.tag),
            keyword=_keyword(el.tag, elem),
            vr=elem.VR if elem is not None else (el.vr or ""),
            vr_in_file=el.vr_in_file,
            offset=el.offset,
            parts=parts,
            length=None if el.undefined else el.length,
            value=describe_value(elem) if elem is not None else "",
            depth=el.depth,
        )

    def choices(self) -> list[tuple[str, Element]]:
        """(label, element) for every data element, for the explorer widget."""
        out = []
        for el in self.layout.elements:
            if el.kind != "element":
                continue
            elem = self._index.get(el.path)
            out.append((f"{'> ' * el.depth}{tag_text(el.tag)} {_keyword(el.tag, elem)}", el))
        return out

    # -- rendering -------------------------------------------------------
    def _widths(self) -> list[int]:
        widths = [0, 0, 0, 0]
        for line in self.lines:
            cols = self._columns(line)
            if not line.cells or cols[1:] == [("", ""), ("", ""), ("", "")]:
                continue  # preamble, prefix and notes do not set the column widths
            for i, (_, text) in enumerate(cols):
                widths[i] = max(widths[i], len(text))
        return widths

    @staticmethod
    def _columns(line: Line) -> list[tuple[str, str]]:
        parts = dict(line.cells)
        if not line.key and line.cells and line.cells[0][0] in ("preamble", "prefix", "problem"):
            return [line.cells[0], ("", ""), ("", ""), ("", "")]
        length = " ".join(t for p, t in line.cells if p in ("reserved", "length"))
        first = "reserved" if "reserved" in parts else "length"
        return [
            ("tag", parts.get("tag", "")),
            ("vr", parts.get("vr", "")),
            (first, length),
            ("value", parts.get("value", "")),
        ]

    def header_text(self) -> str:
        lay = self.layout
        if lay.meta_start is not None:
            enc = f"transfer syntax {lay.transfer_syntax}"
        else:
            enc = "no File Meta Information"
        style = "Implicit" if lay.implicit else "Explicit"
        endian = "Little" if lay.little else "Big"
        text = f"{self.name}: {lay.size} bytes, {enc}; data set read as {style} VR {endian} Endian"
        if lay.deflated:
            text = (
                f"{self.name}: {lay.size} bytes, transfer syntax {lay.transfer_syntax} (Deflated)"
            )
        return text

    def __repr__(self) -> str:
        widths = self._widths()
        out = [
            self.header_text(),
            "offset    "
            + "  ".join(
                h.ljust(w) for h, w in zip(("tag", "VR", "length", "value"), widths, strict=True)
            ),
        ]
        for line in self.lines:
            offset = f"{line.offset:08X}" if line.offset >= 0 else " " * 8
            cols = self._columns(line)
            if not line.cells:
                out.append(f"{offset}  {line.label}")
                continue
            if cols[1:] == [("", ""), ("", ""), ("", "")]:
                out.append(f"{offset}  {cols[0][1]}  {line.label}")
                continue
            cells = "  ".join(text.ljust(w) for (_, text), w in zip(cols, widths, strict=True))
            out.append(f"{offset}  {cells}  {line.label}")
        out.extend(f"Note: {note}" for note in self.layout.notes)
        return "\n".join(line.rstrip() for line in out)

    def _repr_html_(self) -> str:
        widths = self._widths()
        legend = " ".join(_span(p, PART_NAMES[p]) for p in ("tag", "vr", "length", "value"))
        rows = []
        for line in self.lines:
            offset = f"{line.offset:08X}" if line.offset >= 0 else " " * 8
            cols = self._columns(line)
            if not line.cells:
                cells = ""
            elif cols[1:] == [("", ""), ("", ""), ("", "")]:
                cells = _span(cols[0][0], cols[0][1]) + "  "
            else:
                cells = (
                    "  ".join(
                        _span(part, text) + " " * (w - len(text)) if text else " " * w
                        for (part, text), w in zip(cols, widths, strict=True)
                    )
                    + "  "
                )
            label = html.escape(line.label)
            if line.cells and line.cells[0][0] == "problem":
                label = f'<b style="color:{COLOURS["problem"][0]}">{label}</b>'
            rows.append(f'<span style="color:#888">{offset}</span>  {cells}{label}')
        notes = "".join(f"<p><i>Note:</i> {html.escape(n)}</p>" for n in self.layout.notes)
        return (
            f'<div class="medlab-hexview"><p><b>{html.escape(self.header_text())}</b><br>Parts: {legend}</p>'
            f'<pre style="font-size:12px;line-height:1.35;white-space:pre;overflow-x:auto">{chr(10).join(rows)}</pre>'
            f"{notes}</div>"
        )


def _keyword(tag: int, elem: Any) -> str:
    from pydicom.datadict import keyword_for_tag

    keyword = keyword_for_tag(tag)
    if keyword:
        return keyword
    if (tag >> 16) % 2 == 1:
        if 0x0010 <= (tag & 0xFFFF) <= 0x00FF:
            return "PrivateCreator"
        if elem is not None and getattr(elem, "private_creator", None):
            name = (
                elem.name.strip("[]")
                if elem.name and elem.name != "Private tag data"
                else "private"
            )
            return f"[{name}]"
        return "[private]"
    if tag & 0xFFFF == 0:
        return "GroupLength"
    return "[unknown]"


def hexview(
    src: Any,
    *,
    force: bool = False,
    strict: bool = True,
    only: Iterable[Any] | None = None,
    limit: int | None = None,
    value_bytes: int = 16,
) -> HexView:
    """Show the bytes of a DICOM file, one element per line, coloured by part.

    Parameters
    ----------
    src:
        A path or the file's bytes.
    force:
        Accept bytes without preamble and File Meta Information (a bare data
        set), as ``pydicom.dcmread(force=True)`` does.
    strict:
        Raise a :class:`~medlab.MedlabError` for a truncated or damaged file
        (default). With ``strict=False`` the view stops where the bytes stop
        making sense and says why.
    only:
        Keywords or tags of the top-level elements to show (and their items).
    limit:
        Show at most this many elements.
    value_bytes:
        How many value bytes to print before eliding the rest.

    Returns
    -------
    HexView
        Rich HTML in a notebook, plain text in a terminal; ``.element(key)``
        gives one element's parts; ``medlab.widgets.Hexplorer(view)`` explores it.
    """
    return HexView(
        load(src, force=force, strict=strict), only=only, limit=limit, value_bytes=value_bytes
    )
