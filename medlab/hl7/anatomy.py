"""Dissecting a message: every element with its position, name, type and value.

Positions follow the notation of the HL7 tables: ``PID-5`` is field 5 of PID,
``PID-5.1`` its first component, ``PID-5.1.1`` a sub-component. A second
repetition of a field is ``PID-3(2)`` and a second OBX segment is ``OBX(2)``
(the repetition notation HAPI's terser uses).

Names and data types come from the definitions hl7apy ships for the version in
MSH-12 (e.g. PID-5 *Patient Name*, XPN; PV1-2 *Patient Class*, CWE in v2.8.2).
The text is split on the message's own delimiters, so nothing is dropped:
Z-segments, fields beyond a segment's definition and components beyond a data
type's definition are listed with a note saying so.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from medlab.hl7.escaping import unescape
from medlab.hl7.message import Delimiters, delimiters, original_text, parse, segment_fields

#: Short descriptions of common segments (HL7 v2.x chapters 2 control, 3 ADT, 4 orders,
#: 6 financial (DG1, IN1, GT1) and 7 observations, among others).
SEGMENT_NAMES = {
    "MSH": "Message Header",
    "EVN": "Event Type",
    "PID": "Patient Identification",
    "PD1": "Patient Additional Demographic",
    "NK1": "Next of Kin / Associated Parties",
    "PV1": "Patient Visit",
    "PV2": "Patient Visit - Additional Information",
    "OBX": "Observation/Result",
    "OBR": "Observation Request",
    "ORC": "Common Order",
    "AL1": "Patient Allergy Information",
    "DG1": "Diagnosis",
    "MRG": "Merge Patient Information",
    "MSA": "Message Acknowledgment",
    "ERR": "Error",
    "NTE": "Notes and Comments",
    "TQ1": "Timing/Quantity",
    "IPC": "Imaging Procedure Control",
    "IN1": "Insurance",
    "GT1": "Guarantor",
    "ZDS": "Additional Identification Information (IHE Z-segment)",
    "SFT": "Software Segment",
    "PRT": "Participation Information",
    "ROL": "Role",
}

_ACRONYMS = {
    "ID",
    "PID",
    "SSN",
    "HL7",
    "OID",
    "MD",
    "JR",
    "III",
    "DR",
    "ISO",
    "URI",
    "MSH",
    "EVN",
    "PV1",
    "PV2",
    "OBX",
    "OBR",
    "ORC",
    "AL1",
    "NK1",
    "DG1",
    "MSA",
    "ERR",
    "SPM",
    "NTE",
    "EI",
    "CWE",
    "XCN",
    "UID",
    "DNS",
    "II",
    "SI",
    "NM",
    "IPC",
    "MRG",
    "TQ1",
    "HD",
    "PL",
    "CX",
    "XPN",
    "XAD",
}


_SMALL = {"of", "or", "and", "for", "to", "the", "in", "on", "by", "a"}


def pretty_name(long_name: str | None) -> str:
    """``PATIENT_NAME`` -> ``Patient Name`` (hl7apy stores names in upper snake case)."""
    if not long_name:
        return ""
    words = long_name.replace("_E_G_", "_(e.g._").split("_")
    out = [
        w if w.upper() in _ACRONYMS else w.lower() if i and w.lower() in _SMALL else w.capitalize()
        for i, w in enumerate(x for x in words if x)
    ]
    text = " ".join(out)
    return text + ")" if "(e.g." in text else text


@dataclass(frozen=True)
class Definition:
    """What the standard says about one field or component."""

    name: str
    datatype: str
    table: str | None = None
    repeats: bool = False
    children: tuple[Definition, ...] = ()


def _from_reference(ref: Any, repeats: bool = False) -> Definition:
    kind, children, datatype, long_name, table = ref[0], ref[1], ref[2], ref[3], ref[4]
    kids: tuple[Definition, ...] = ()
    if kind == "sequence" and children:
        kids = _numbered([(c[0], _from_reference(c[1])) for c in children])
    return Definition(pretty_name(long_name), datatype or "", table, repeats, kids)


def _numbered(items: list[tuple[str, Definition]]) -> tuple[Definition, ...]:
    """Place definitions by the number in their name (``CX_4`` -> index 3)."""
    by_number: dict[int, Definition] = {}
    for name, definition in items:
        try:
            by_number[int(name.rsplit("_", 1)[1])] = definition
        except (IndexError, ValueError):
            continue
    size = max(by_number, default=0)
    return tuple(by_number.get(i, Definition("", "")) for i in range(1, size + 1))


@lru_cache(maxsize=512)
def segment_definition(seg_id: str, version: str) -> tuple[Definition, ...] | None:
    """The field definitions of segment ``seg_id`` in ``version`` (None if undefined)."""
    from hl7apy import load_reference
    from hl7apy.exceptions import ChildNotFound

    try:
        ref = load_reference(seg_id, "Segment", version)
    except ChildNotFound:
        return None
    fields = [(f[0], _from_reference(f[1], repeats=f[2][1] != 1)) for f in ref[1]]
    return _numbered(fields)


@dataclass(frozen=True)
class Row:
    """One line of a dissection."""

    position: str
    name: str
    datatype: str
    value: str
    kind: str  # segment, field, repetition, component, subcomponent
    depth: int
    note: str = ""


class Dissection:
    """A message taken apart: a table in a notebook, indented text elsewhere."""

    def __init__(self, rows: list[Row], version: str, delims: Delimiters) -> None:
        self.rows = rows
        self.version = version
        self.delimiters = delims

    def segments(self) -> list[str]:
        """Positions of the segments, in order (``MSH``, ``PID``, ``OBX``, ``OBX(2)``...)."""
        return [row.position for row in self.rows if row.kind == "segment"]

    def segment(self, position: str) -> Dissection:
        """Only the rows of one segment, e.g. ``d.segment("PV1")`` or ``d.segment("OBX(2)")``."""
        rows: list[Row] = []
        inside = False
        for row in self.rows:
            if row.kind == "segment":
                inside = row.position == position
            if inside:
                rows.append(row)
        if not rows:
            from medlab.errors import MedlabError

            raise MedlabError(
                f"The message has no segment {position!r}",
                where="dissect().segment()",
                fix=f"Choose one of {', '.join(self.segments())}.",
            )
        return Dissection(rows, self.version, self.delimiters)

    def __getitem__(self, position: str) -> Row:
        """The row at ``position``, e.g. ``d["PID-5.1"]``."""
        for row in self.rows:
            if row.position == position:
                return row
        raise KeyError(position)

    def __len__(self) -> int:
        return len(self.rows)

    def to_records(self) -> list[dict[str, str]]:
        """The rows as dictionaries (e.g. for ``pandas.DataFrame``)."""
        return [row.__dict__.copy() for row in self.rows]

    def __repr__(self) -> str:
        width = max((len(r.position) + 2 * r.depth for r in self.rows), default=8)
        name_w = max((len(r.name) for r in self.rows), default=4)
        name_w = min(name_w, 34)
        lines = []
        for r in self.rows:
            pos = ("  " * r.depth + r.position).ljust(width)
            name = (r.name[:33] + "…") if len(r.name) > 34 else r.name
            note = f"  [{r.note}]" if r.note else ""
            lines.append(f"{pos}  {name:<{name_w}}  {r.datatype:<6} {r.value}{note}".rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = []
        for r in self.rows:
            cls = f"medlab-hl7-{r.kind}"
            style = "font-weight:bold;background:#eef3f8" if r.kind == "segment" else ""
            pad = f"padding-left:{4 + 14 * r.depth}px"
            note = f' <i style="color:#a4262c">({html.escape(r.note)})</i>' if r.note else ""
            body.append(
                f'<tr class="{cls}" style="{style}"><td style="{pad};text-align:left">'
                f"<code>{html.escape(r.position)}</code></td>"
                f'<td style="text-align:left">{html.escape(r.name)}{note}</td>'
                f'<td style="text-align:left">{html.escape(r.datatype)}</td>'
                f'<td style="text-align:left"><code>{html.escape(r.value)}</code></td></tr>'
            )
        return (
            f'<table class="medlab-hl7-dissection" title="HL7 v{html.escape(self.version)}">'
            "<thead><tr><th>Position</th><th>Name</th><th>Type</th><th>Value</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
        )


def dissect(msg: Any, *, empty: bool = False) -> Dissection:
    """Take a message apart: segments, fields, repetitions, components, sub-components.

    ``msg`` is an hl7apy message returned by :func:`medlab.hl7.parse` or the
    message text. Empty fields are left out unless ``empty=True``. Leaf values
    are shown unescaped (``A\\T\\E`` reads ``A&E``).

    >>> d = dissect("MSH|^~\\\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\\rPV1|1|I")
    >>> d["PV1-2"].name, d["PV1-2"].datatype, d["PV1-2"].value
    ('Patient Class', 'IS', 'I')
    """
    if isinstance(msg, (str, bytes)):
        msg = parse(msg)  # checks the structure and gives a MedlabError if broken
    text = original_text(msg)
    d = delimiters(text)
    segments = text.split("\r")
    version = segment_fields(segments[0], d)[12].split(d.component)[0].strip()
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for segment in segments:
        seg_id = segment[:3]
        seen[seg_id] = seen.get(seg_id, 0) + 1
        seg_pos = seg_id if seen[seg_id] == 1 else f"{seg_id}({seen[seg_id]})"
        definition = segment_definition(seg_id, version)
        z_segment = seg_id.startswith("Z")
        seg_note = "Z-segment: site-defined, not part of the standard" if z_segment else ""
        rows.append(Row(seg_pos, SEGMENT_NAMES.get(seg_id, ""), "", "", "segment", 0, seg_note))
        fields = segment_fields(segment, d)
        for number in range(1, len(fields)):
            value = fields[number]
            if not value and not empty:
                continue
            fdef = definition[number - 1] if definition and number <= len(definition) else None
            _field_rows(
                rows,
                f"{seg_pos}-{number}",
                value,
                fdef,
                d,
                z_segment,
                is_msh_header=seg_id == "MSH" and number <= 2,
                varies_type=_obx_type(fields) if (seg_id, number) == ("OBX", 5) else None,
            )
    return Dissection(rows, version, d)


def _obx_type(fields: list[str]) -> str | None:
    return fields[2] if len(fields) > 2 and fields[2] else None


def _field_rows(
    rows: list[Row],
    pos: str,
    value: str,
    fdef: Definition | None,
    d: Delimiters,
    z_segment: bool,
    is_msh_header: bool,
    varies_type: str | None,
) -> None:
    if fdef is None or not fdef.name and not fdef.datatype:
        note = "" if z_segment else "beyond this segment's definition in this version"
        name = "(site-defined field)" if z_segment else "(not defined)"
        fdef_use = Definition(name, "", None, True)
    else:
        note = "withdrawn in this version" if fdef.datatype == "WD" and value else ""
        fdef_use = fdef
    datatype = fdef_use.datatype
    if varies_type and datatype.lower() == "varies":
        datatype = f"varies ({varies_type})"
    if is_msh_header:  # MSH-1 and MSH-2 are the delimiters themselves: never split them
        rows.append(Row(pos, fdef_use.name, datatype, value, "field", 1, note))
        return
    reps = value.split(d.repetition)
    if len(reps) > 1 and fdef is not None and not fdef.repeats and not note:
        note = "repeated, but the definition allows one occurrence"
    composite = len(reps) > 1 or d.component in value or d.subcomponent in value
    rows.append(
        Row(
            pos,
            fdef_use.name,
            datatype,
            value if composite else unescape(value, d),
            "field",
            1,
            note,
        )
    )
    for r, rep in enumerate(reps, start=1):
        depth = 2
        rep_pos = pos
        if len(reps) > 1:
            rep_pos = f"{pos}({r})"
            if not rep and r > 1:
                continue
            rows.append(Row(rep_pos, fdef_use.name, datatype, rep, "repetition", 2))
            depth = 3
        comps = rep.split(d.component)
        if len(comps) == 1 and d.subcomponent not in rep:
            continue
        kids = fdef_use.children
        for c, comp in enumerate(comps, start=1):
            if not comp:
                continue
            cdef = kids[c - 1] if c <= len(kids) else None
            cnote = ""
            if cdef is None and fdef is not None and not z_segment:
                cnote = (
                    "the data type has no components"
                    if not kids
                    else "beyond the data type's definition"
                )
            cname, ctype = (cdef.name, cdef.datatype) if cdef else ("", "")
            if ctype == "WD":
                cnote = "withdrawn in this version"
            subs = comp.split(d.subcomponent)
            rows.append(
                Row(
                    f"{rep_pos}.{c}",
                    cname,
                    ctype,
                    comp if len(subs) > 1 else unescape(comp, d),
                    "component",
                    depth,
                    cnote,
                )
            )
            if len(subs) == 1:
                continue
            sdefs = cdef.children if cdef else ()
            for s, sub in enumerate(subs, start=1):
                if not sub:
                    continue
                sdef = sdefs[s - 1] if s <= len(sdefs) else None
                snote = ""
                if sdef is None and cdef is not None and not z_segment:
                    snote = (
                        "the component's data type has no sub-components"
                        if not sdefs
                        else "beyond the component's definition"
                    )
                rows.append(
                    Row(
                        f"{rep_pos}.{c}.{s}",
                        sdef.name if sdef else "",
                        sdef.datatype if sdef else "",
                        unescape(sub, d),
                        "subcomponent",
                        depth + 1,
                        snote,
                    )
                )
