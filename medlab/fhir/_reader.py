"""Reading a v2 message by position for the maps, and noting what each position became.

The values come from :func:`medlab.hl7.dissect` (one home for splitting and
unescaping v2: positions such as ``PID-5.1``, ``PID-3(2).1`` or ``OBX(2)-5``,
values with escape sequences already decoded). :class:`Reader` remembers every
position a map read and which resource element it filled, so that what no map
read can be listed as dropped (:class:`Dropped`) and the explorer widget can
highlight a field and its element side by side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from medlab.errors import MedlabError


@dataclass(frozen=True)
class Dropped:
    """A v2 value the mapping did not carry into FHIR, and why."""

    position: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.position:<12} {self.value[:40]!r:<44} {self.reason}"


class Reader:
    """Values of one parsed message by position, with a record of what was used where."""

    def __init__(self, msg: Any) -> None:
        from medlab.hl7 import dissect

        self.dissection = dissect(msg)
        self.rows = self.dissection.rows
        self.values = {row.position: row.value for row in self.rows if row.kind != "segment"}
        self.kinds = {row.position: row.kind for row in self.rows}
        #: segment position ("PID", "OBX(2)") for each segment, in message order
        self.segments = [row.position for row in self.rows if row.kind == "segment"]
        self.used: set[str] = set()
        esc = re.escape(self.dissection.delimiters.escape)
        # What unescape() keeps as it is: highlighting and formatting (HL7 v2 Chapter 2).
        self._formatting = re.compile(rf"{esc}(?:H|N|\.[a-z]{{2}}[^{esc}]*){esc}")
        #: v2 field position ("PID-5", "OBX(2)-5") -> [(resource index, element name)]
        self.links: dict[str, list[tuple[int, str]]] = {}
        #: positions read but deliberately not carried, with the reason
        self.notes: dict[str, str] = {}

    # -- reading ---------------------------------------------------------------------
    def has(self, segment: str) -> bool:
        return segment in self.segments

    def all(self, seg_id: str) -> list[str]:
        """Positions of every segment with this ID (``["OBX", "OBX(2)", ...]``)."""
        return [s for s in self.segments if s.split("(")[0] == seg_id]

    def repetitions(self, segment: str, field: int) -> list[str]:
        """Positions of the repetitions of a field: ``["PID-3"]`` or ``["PID-3(1)", "PID-3(2)"]``."""
        base = f"{segment}-{field}"
        reps = [p for p in self.values if p.startswith(base + "(") and ")" == p[-1]]
        if reps:
            return [p for p in reps if self.kinds.get(p) == "repetition"]
        return [base] if base in self.values else []

    def get(self, position: str) -> str:
        """The (unescaped) value at ``position``, or "" when empty; marks it used.

        A component asked of a field that has none (``PID-7.1`` of ``19670412``)
        is the field's value, as HL7 reads a primitive value as its first component.
        """
        value = self.values.get(position)
        if value is None:
            parent, _, last = position.rpartition(".")
            if last == "1" and parent and self.kinds.get(parent) in ("field", "repetition"):
                value = self.values.get(parent)
                if value is not None and not self._has_children(parent):
                    self.used.add(parent)
                    return value
                return ""
            return ""
        self.used.add(position)
        if self._has_children(position):
            return self._first_leaf(position)
        if self._formatting.search(value):
            self.note(
                position,
                "v2 formatting escapes (\\.br\\, \\H\\...) kept as text: a FHIR string "
                "has no formatting",
            )
        return value

    def _has_children(self, position: str) -> bool:
        return any(p.startswith((position + ".", position + "(")) for p in self.values)

    def _first_leaf(self, position: str) -> str:
        # A field with components read as a whole: its first component (HL7's rule for
        # reading a composite as a primitive), e.g. OBR-18 read plainly.
        first = self.values.get(position + ".1", "")
        if first:
            self.used.add(position + ".1")
        return first

    def link(self, field_position: str, resource: int, element: str) -> None:
        """Record that the field at ``field_position`` filled ``element`` of resource ``resource``."""
        spots = self.links.setdefault(_field_of(field_position), [])
        if (resource, element) not in spots:
            spots.append((resource, element))

    def note(self, position: str, reason: str) -> None:
        """Mark ``position`` as read but not carried (it is listed as dropped with ``reason``)."""
        self.notes[position] = reason

    def require(self, position: str, what: str, why: str) -> str:
        """The value at ``position``, or a MedlabError naming the segment and field."""
        value = self.get(position)
        if not value:
            raise MedlabError(
                f"{position} ({what}) is empty, so it cannot be mapped: {why}",
                where=position,
                fix=f"Fill {position} in the message, or map it by local agreement.",
            )
        return value

    # -- what was left behind --------------------------------------------------------
    def dropped(self, segment_reasons: dict[str, str]) -> list[Dropped]:
        """Every valued position no map carried: whole segments or single values."""
        out: list[Dropped] = []
        used = self.used - set(self.notes)
        for segment in self.segments:
            seg_id = segment.split("(")[0]
            prefix = segment + "-"
            leaves = [
                p
                for p in self.values
                if p.startswith(prefix) and self.values[p] and not self._has_children(p)
            ]
            if not any(_covered(p, used) for p in leaves):
                reason = segment_reasons.get(seg_id, "no map for this segment here")
                out.append(Dropped(segment, "", reason))
                continue
            for p in leaves:
                if _covered(p, used) and p not in self.notes:
                    continue
                reason = self.notes.get(p) or next(
                    (r for q, r in self.notes.items() if p.startswith(q + ".")),
                    "no element for it in this map",
                )
                out.append(Dropped(p, self.values[p], reason))
        return out


def _covered(position: str, used: set[str]) -> bool:
    """True when ``position`` or one of its ancestors was read."""
    while True:
        if position in used:
            return True
        if "." in position:
            position = position.rsplit(".", 1)[0]
        elif position.endswith(")") and "-" in position and "(" in position.split("-", 1)[1]:
            position = position.rsplit("(", 1)[0]
        else:
            return False


def _field_of(position: str) -> str:
    """``PID-3(2).1`` -> ``PID-3``; ``OBX(2)-5`` stays ``OBX(2)-5``."""
    segment, _, rest = position.partition("-")
    field = rest.split(".")[0].split("(")[0]
    return f"{segment}-{field}"
