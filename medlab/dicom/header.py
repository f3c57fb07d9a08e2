"""The header as a table, and its private blocks (lesson 03).

:func:`header_table` lays a data set out the way radiology teaching material
does: ``Group | Element | Length | Description | VR | VM | Value``. What each
column really is (PS3.5 §7.1):

* **Group, Element**: the tag, two 16-bit numbers written in hex.
* **Length**: the value length field - the *actual* number of bytes the
  value occupies in the file, always even (PS3.5 §7.1.1, §6.2: values are
  padded with a space or a NUL to an even length). It is not a maximum: the
  maximum length of a VR is a rule of PS3.5 Table 6.2-1, not a field of the
  element. ``undefined`` means 0xFFFFFFFF (a sequence or encapsulated pixel
  data that ends with a delimiter).
* **Description**: not in the file at all - it comes from the data
  dictionary (PS3.6) that the reader carries; a private tag has none unless
  the reader knows that vendor's dictionary.
* **VR**: from the file in Explicit VR transfer syntaxes, from the
  dictionary in Implicit VR Little Endian.
* **VM**: how many values this element actually holds (backslash-separated
  for strings, PS3.5 §6.4). The dictionary's VM (``1-n``, ``2``...) is the
  rule; :func:`~medlab.dicom.dictionary.lookup` shows it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from medlab.dicom._layout import UNDEFINED, tag_text
from medlab.dicom._read import Loaded, dataset_errors, load
from medlab.dicom.hexdump import _keyword, describe_value
from medlab.errors import MedlabError

if TYPE_CHECKING:
    from pydicom import DataElement, Dataset


@dataclass(frozen=True)
class Row:
    """One line of the header table."""

    depth: int
    tag: int
    length: int | None  # None: undefined length (0xFFFFFFFF) or unknown
    description: str
    vr: str
    vm: int
    value: str
    keyword: str
    kind: str = "element"  # or "item"
    path: tuple = ()

    @property
    def group(self) -> str:
        return f"{self.tag >> 16:04X}"

    @property
    def element(self) -> str:
        return f"{self.tag & 0xFFFF:04X}"

    @property
    def private(self) -> bool:
        return (self.tag >> 16) % 2 == 1

    @property
    def length_text(self) -> str:
        if self.kind == "item":
            return ""
        return "undefined" if self.length is None else str(self.length)


@dataclass
class HeaderTable:
    """A data set's header as rows; HTML in a notebook, aligned text elsewhere."""

    name: str
    rows: list[Row]
    total: int
    filters: dict[str, Any] = field(default_factory=dict)
    dataset: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return sum(1 for r in self.rows if r.kind == "element")

    def row(self, key: Any) -> Row:
        """The top-level row for a keyword or tag."""
        from medlab.dicom._layout import _to_tag

        tag = _to_tag(key)
        for r in self.rows:
            if r.tag == tag and r.depth == 0 and r.kind == "element":
                return r
        raise MedlabError(
            f"{tag_text(tag)} is not in this table", fix="Check the filters and the keyword."
        )

    def filter(
        self,
        *,
        group: int | str | None = None,
        search: str | None = None,
        private: bool | None = None,
    ) -> HeaderTable:
        """A new table with only the matching elements (see :func:`header_table`)."""
        rows = _filter(self.rows, group=group, search=search, private=private)
        filters = {
            k: v
            for k, v in {"group": group, "search": search, "private": private}.items()
            if v is not None
        }
        return replace(self, rows=rows, filters=filters)

    def summary(self) -> str:
        shown = len(self)
        what = ", ".join(f"{k}={v!r}" for k, v in self.filters.items())
        if what:
            return f"{self.name}: {shown} of {self.total} elements match {what}"
        return f"{self.name}: {self.total} elements"

    def _cells(self, r: Row) -> tuple[str, ...]:
        if r.kind == "item":
            return ("", "", "", "  " * r.depth + r.description, "", "", "")
        nested = "  " * r.depth + "> " if r.depth else ""
        return (r.group, r.element, r.length_text, nested + r.description, r.vr, str(r.vm), r.value)

    def __repr__(self) -> str:
        head = ("Group", "Elem", "Length", "Description", "VR", "VM", "Value")
        cells = [self._cells(r) for r in self.rows]
        widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(head)]
        widths[3] = min(widths[3], 44)

        def fmt(c: tuple[str, ...]) -> str:
            desc = c[3] if len(c[3]) <= widths[3] else c[3][: widths[3] - 1] + "…"
            return (
                f"{c[0]:<{widths[0]}} {c[1]:<{widths[1]}} | {c[2]:>{widths[2]}} | {desc:<{widths[3]}} | "
                f"{c[4]:<{widths[4]}} | {c[5]:>{widths[5]}} | {c[6]}"
            ).rstrip()

        lines = [self.summary(), fmt(head)]
        lines += [fmt(c) for c in cells]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = []
        for r in self.rows:
            c = self._cells(r)
            pad = f"padding-left:{0.3 + 1.2 * r.depth:.1f}em"
            style = ' style="background:#fff8e1"' if r.private else ""
            if r.kind == "item":
                body.append(
                    f'<tr class="medlab-item"><td colspan=3></td><td style="{pad}"><i>{html.escape(r.description)}</i></td><td colspan=3></td></tr>'
                )
                continue
            badge = ' <small style="color:#b26a00">private</small>' if r.private else ""
            body.append(
                f"<tr{style}><td><code>{c[0]}</code></td><td><code>{c[1]}</code></td>"
                f'<td style="text-align:right">{c[2]}</td><td style="{pad}">{html.escape(r.description)}{badge}</td>'
                f'<td>{c[4]}</td><td style="text-align:right">{c[5]}</td><td><code>{html.escape(c[6])}</code></td></tr>'
            )
        head = "".join(
            f"<th>{h}</th>"
            for h in ("Group", "Element", "Length", "Description", "VR", "VM", "Value")
        )
        return (
            f'<div class="medlab-header-table"><p><b>{html.escape(self.summary())}</b></p>'
            f'<div style="max-height:420px;overflow:auto"><table style="font-size:12px">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div></div>"
        )


def _matches(r: Row, group: int | None, search: str | None, private: bool | None) -> bool:
    if r.kind == "item":
        return False
    if group is not None and r.tag >> 16 != group:
        return False
    if private is not None and r.private != private:
        return False
    if search:
        needle = search.casefold().strip()
        hay = f"{r.keyword} {r.description} {tag_text(r.tag)} {r.group}{r.element} {r.group},{r.element}".casefold()
        return needle in hay
    return True


def _filter(rows: list[Row], *, group: Any, search: str | None, private: bool | None) -> list[Row]:
    if group is None and not search and private is None:
        return list(rows)
    if isinstance(group, str):
        try:
            group = int(group.strip().removeprefix("0x"), 16)
        except ValueError:
            raise MedlabError(
                f"{group!r} is not a group number",
                fix='Write the group in hex, e.g. "0010" or 0x0010.',
            ) from None
    keep = [False] * len(rows)
    for i, r in enumerate(rows):
        if not _matches(r, group, search, private):
            continue
        keep[i] = True
        # keep the ancestors (the sequence and item rows above it) for context...
        depth = r.depth
        for j in range(i - 1, -1, -1):
            if rows[j].depth < depth:
                keep[j] = True
                depth = rows[j].depth
                if depth == 0:
                    break
        # ... and everything nested inside it
        for j in range(i + 1, len(rows)):
            if rows[j].depth <= r.depth:
                break
            keep[j] = True
    return [r for r, k in zip(rows, keep, strict=True) if k]


def _lengths_from_layout(loaded: Loaded) -> dict[tuple, int]:
    return {e.path: e.length for e in loaded.layout.elements if e.kind == "element"}


def _encoded_length(elem: DataElement, implicit: bool, little: bool) -> int | None:
    """The value length pydicom would write for ``elem`` (for data sets built in memory)."""
    import struct

    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_data_element

    fp = DicomBytesIO()
    fp.is_little_endian = little
    fp.is_implicit_VR = implicit
    try:
        write_data_element(fp, elem)
    except Exception:  # an unencodable value: leave the cell empty rather than fail the table
        return None
    raw = fp.getvalue()
    order = "<" if little else ">"
    if implicit:
        length = struct.unpack_from(order + "L", raw, 4)[0]
    elif raw[4:6].decode("ascii", "replace") in (
        "OB",
        "OD",
        "OF",
        "OL",
        "OV",
        "OW",
        "SQ",
        "SV",
        "UC",
        "UN",
        "UR",
        "UT",
        "UV",
    ):
        length = struct.unpack_from(order + "L", raw, 8)[0]
    else:
        length = struct.unpack_from(order + "H", raw, 6)[0]
    return length


def _description(elem: DataElement) -> str:
    if elem.tag.is_private_creator:
        return "Private Creator"
    name = elem.name
    if elem.tag.is_private and name in ("Private tag data", ""):
        return "Unknown private element"
    return name


def _rows(
    ds: Dataset, lengths: dict[tuple, int] | None, implicit: bool, little: bool, *, meta: bool
) -> list[Row]:
    rows: list[Row] = []

    def walk(dataset: Any, depth: int, prefix: tuple) -> None:
        for elem in dataset:
            tag = int(elem.tag)
            path = (*prefix, tag)
            if lengths is not None and path in lengths:
                length: int | None = lengths[path]
            else:
                length = _encoded_length(
                    elem, implicit if tag >> 16 != 2 else False, little if tag >> 16 != 2 else True
                )
            if length == UNDEFINED:
                length = None
            rows.append(
                Row(
                    depth,
                    tag,
                    length,
                    _description(elem),
                    elem.VR,
                    elem.VM,
                    describe_value(elem),
                    _keyword(tag, elem),
                    path=path,
                )
            )
            if elem.VR == "SQ":
                for i, item in enumerate(elem.value):
                    rows.append(
                        Row(
                            depth + 1,
                            tag,
                            None,
                            f"Item {i + 1}",
                            "",
                            0,
                            "",
                            "",
                            kind="item",
                            path=(*prefix, (tag, i)),
                        )
                    )
                    walk(item, depth + 1, (*prefix, (tag, i)))

    file_meta = getattr(ds, "file_meta", None)
    if meta and file_meta is not None:
        walk(file_meta, 0, ())
    walk(ds, 0, ())
    return rows


@dataset_errors(
    "list this header",
    "Look at the bytes with medlab.dicom.hexview(src, strict=False).",
)
def header_table(
    src: Any,
    *,
    group: int | str | None = None,
    search: str | None = None,
    private: bool | None = None,
    meta: bool = True,
    force: bool = False,
) -> HeaderTable:
    """The header as ``Group | Element | Length | Description | VR | VM | Value``.

    Parameters
    ----------
    src:
        A pydicom ``Dataset``, or a path / bytes (read safely: bad input raises
        :class:`~medlab.MedlabError`). From a file the Length column shows the
        length fields actually in the file; for a Dataset built in memory, the
        lengths pydicom would write.
    group:
        Only this group, e.g. ``0x0010`` or ``"0010"``.
    search:
        Only elements whose keyword, description or tag contains this text.
    private:
        ``True`` for private elements only, ``False`` for public only.
    meta:
        Include the File Meta Information (group 0002) when present.
    force:
        Read a bare data set without preamble/File Meta Information.

    Sequences are shown with their items indented; Pixel Data is summarised.
    """
    from pydicom import Dataset

    if isinstance(src, Dataset):
        ds = src
        implicit, little = _dataset_encoding(ds)
        lengths = None
        name = _dataset_name(ds)
    else:
        loaded = load(src, force=force)
        ds = loaded.dataset
        implicit, little = loaded.layout.implicit, loaded.layout.little
        lengths = _lengths_from_layout(loaded)
        name = loaded.name
    rows = _rows(ds, lengths, implicit, little, meta=meta)
    total = sum(1 for r in rows if r.kind == "element")
    table = HeaderTable(name, rows, total, dataset=ds)
    if group is not None or search or private is not None:
        table = table.filter(group=group, search=search, private=private)
    return table


def _dataset_encoding(ds: Dataset) -> tuple[bool, bool]:
    enc = getattr(ds, "original_encoding", (None, None))
    implicit, little = enc if enc and enc[0] is not None else (False, True)
    return bool(implicit), bool(little)


def _dataset_name(ds: Dataset) -> str:
    from pathlib import Path

    filename = getattr(ds, "filename", None)
    return Path(filename).name if isinstance(filename, str) and filename else "data set"


# -- private blocks -----------------------------------------------------------


@dataclass(frozen=True)
class PrivateBlock:
    """A block of 256 private elements reserved by one private creator (PS3.5 §7.8.1)."""

    group: int
    block: int
    creator: str
    elements: tuple[int, ...]

    @property
    def creator_tag(self) -> str:
        return tag_text((self.group << 16) | self.block)

    @property
    def range(self) -> str:
        return f"({self.group:04X},{self.block:02X}00)-({self.group:04X},{self.block:02X}FF)"


class PrivateBlocks(list):
    def __repr__(self) -> str:
        if not self:
            return "No private blocks."
        lines = [f"{'Creator element':<16} {'Reserves':<28} {'Elements':>8}  Creator"]
        lines += [
            f"{b.creator_tag:<16} {b.range:<28} {len(b.elements):>8}  {b.creator!r}" for b in self
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td><code>{b.creator_tag}</code></td><td><code>{b.range}</code></td>"
            f"<td>{len(b.elements)}</td><td>{html.escape(b.creator)}</td></tr>"
            for b in self
        )
        return (
            (
                "<table><thead><tr><th>Creator element</th><th>Reserves</th><th>Elements</th>"
                f"<th>Creator</th></tr></thead><tbody>{body}</tbody></table>"
            )
            if self
            else "<p>No private blocks.</p>"
        )


@dataset_errors(
    "list the private blocks",
    "Look at the bytes with medlab.dicom.hexview(src, strict=False).",
)
def private_blocks(src: Any, *, force: bool = False) -> PrivateBlocks:
    """The private creators of a data set's top level and the blocks they reserve.

    PS3.5 §7.8.1: a private creator element ``(gggg,00xx)``, with ``gggg`` odd
    and ``xx`` from 10 to FF, holds a vendor's name and reserves the elements
    ``(gggg,xx00)``-``(gggg,xxFF)``. Groups 0001, 0003, 0005, 0007 and FFFF
    may not be used for private data.
    """
    from medlab.dicom._read import read

    ds = read(src, force=force)
    blocks: list[PrivateBlock] = []
    for elem in ds:
        tag = int(elem.tag)
        if elem.tag.is_private_creator:
            group, block = tag >> 16, tag & 0xFF
            members = tuple(
                int(e.tag)
                for e in ds
                if e.tag.group == group
                and (int(e.tag) & 0xFF00) >> 8 == block
                and (int(e.tag) & 0xFFFF) >= 0x1000
            )
            blocks.append(PrivateBlock(group, block, str(elem.value), members))
    return PrivateBlocks(blocks)
