"""The data-type converters of the v2-to-FHIR maps (:mod:`medlab.fhir.v2`).

The IG's data-type maps (*CX to Identifier*, *XPN to HumanName*, *XAD to Address*,
*XTN to ContactPoint*, *CWE to CodeableConcept*, DTM to dateTime/instant, coded
fields through the vocabulary maps of :mod:`medlab.fhir.tables`) as methods of
:class:`_Builder`, which holds one message's mapping; and the stable ``urn:uuid:``
ids and references the resources point at each other with.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from medlab.errors import MedlabError
from medlab.fhir._reader import Reader
from medlab.fhir.tables import (
    ADDRESS_USE,
    CODE_SYSTEMS,
    CONTACT_SYSTEM,
    CONTACT_USE,
    NAME_USE,
    V2_0203,
)

#: Namespace of the ids medlab derives from v2 identifiers (uuid5).
ID_NAMESPACE = uuid.UUID("0b2f6c3e-5a0e-4c55-9d6a-6d65646c6162")


# --------------------------------------------------------------------------- helpers
def resource_id(kind: str, *key: str) -> str:
    """A stable id for a resource from its v2 identifiers (uuid5)."""
    return str(uuid.uuid5(ID_NAMESPACE, "|".join([kind, *key])))


def reference(kind: str, rid: str, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": f"urn:uuid:{rid}", "type": kind}
    if display:
        ref["display"] = display
    return ref


_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$")


class _Builder:
    """One message's mapping: the reader, the resources built so far, the options."""

    def __init__(self, reader: Reader, timezone: str | None) -> None:
        self.r = reader
        self.timezone = timezone
        self.resources: list[dict[str, Any]] = []
        self.origin: list[str] = []  # the segment each resource came from (for errors)

    def add(self, resource: dict[str, Any], segment: str) -> int:
        self.resources.append(resource)
        self.origin.append(segment)
        return len(self.resources) - 1

    def put(self, index: int, element: str, value: Any, *positions: str) -> None:
        """Set a top-level element (or append to a list element) and link its v2 fields."""
        if value in (None, "", [], {}):
            return
        resource = self.resources[index]
        if isinstance(value, list):
            resource.setdefault(element, []).extend(value)
        else:
            resource[element] = value
        for position in positions:
            self.r.link(position, index, element)

    # -- data types --------------------------------------------------------------
    def date_time(self, position: str, *, instant: bool = False) -> str | None:
        """DTM -> FHIR date or dateTime (or instant); a bad value names its position."""
        raw = self.r.get(position)
        if not raw:
            return None
        found = _DTM.match(raw)
        if not found:
            raise MedlabError(
                f"{position} is {raw!r}, not an HL7 date/time (YYYY[MM[DD[HHMM[SS]]]][+/-ZZZZ])",
                where=position,
                fix="Write dates as YYYYMMDD and times as YYYYMMDDHHMMSS, e.g. 20260601090500.",
            )
        year, month, day, hour, minute, second, fraction, zone = found.groups()
        date = "-".join(x for x in (year, month, day) if x)
        try:
            import datetime as dt

            if day:
                dt.date(int(year), int(month), int(day))
        except ValueError:
            raise MedlabError(
                f"{position} is {raw!r}: there is no such calendar date",
                where=position,
                fix="Check the month and day (YYYYMMDD).",
            ) from None
        if not hour:
            return None if instant else date
        zone = zone or self.timezone
        if not zone:
            what = (
                "not carried (an instant needs" if instant else "time of day dropped (FHIR requires"
            )
            self.r.note(
                position,
                f"{what} a UTC offset with a time and v2 sent none; pass timezone=, a local "
                "agreement)",
            )
            return None if instant else date
        zone = zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
        clock = f"{hour}:{minute or '00'}:{second or '00'}{fraction or ''}"
        return f"{date}T{clock}{zone}"

    def coded(self, position: str) -> dict[str, Any] | None:
        """CWE/CE -> CodeableConcept (Datatype CWE to CodeableConcept): up to two codings."""
        codings = []
        for first in (1, 4):
            code = self.r.get(f"{position}.{first}")
            display = self.r.get(f"{position}.{first + 1}")
            system_name = self.r.get(f"{position}.{first + 2}")
            if not (code or display):
                continue
            coding: dict[str, Any] = {}
            if system_name:
                system = CODE_SYSTEMS.get(system_name)
                if system is None and re.fullmatch(r"HL7\d{4}", system_name):
                    system = f"http://terminology.hl7.org/CodeSystem/v2-{system_name[3:]}"
                if system:
                    coding["system"] = system
                else:
                    self.r.note(
                        f"{position}.{first + 2}",
                        f"coding system {system_name!r} has no known URI (HL7 table 0396)",
                    )
            if code:
                coding["code"] = code
            if display:
                coding["display"] = display
            codings.append(coding)
        if not codings:
            return None
        concept: dict[str, Any] = {"coding": codings}
        text = self.r.get(f"{position}.9")
        if text:
            concept["text"] = text
        return concept

    def identifier(self, position: str, type_code: str | None = None) -> dict[str, Any] | None:
        """CX or EI -> Identifier (Datatype CX to Identifier; EIP[...] to Identifier)."""
        value = self.r.get(f"{position}.1")
        if not value:
            return None
        ident: dict[str, Any] = {"value": value}
        cx_type = self.r.get(f"{position}.5") if type_code is None else ""
        code = type_code or cx_type
        if code:
            ident["type"] = {"coding": [{"system": V2_0203, "code": code}]}
        # CX.4 (assigning authority) or EI.2 (namespace): the IG maps it to assigner
        # when it is not a registered system URI, as in the course's messages.
        authority = self.r.get(f"{position}.4" if type_code is None else f"{position}.2")
        if authority:
            ident["assigner"] = {"display": authority}
        return ident

    def person(self, position: str) -> dict[str, Any] | None:
        """XCN -> a Reference with the person's name as display (no Practitioner made)."""
        number = self.r.get(f"{position}.1")
        family, given = self.r.get(f"{position}.2"), self.r.get(f"{position}.3")
        prefix = self.r.get(f"{position}.6")
        if not (family or given):  # sub-components (NDL): name in component 1
            family = self.r.get(f"{position}.1.2")
            given = self.r.get(f"{position}.1.3")
            prefix = self.r.get(f"{position}.1.6") or prefix
            number = self.r.get(f"{position}.1.1")
        if not (family or given or number):
            return None
        name = " ".join(x for x in (prefix.title() if prefix else "", given, family) if x)
        ref: dict[str, Any] = {"type": "Practitioner", "display": name}
        if number:
            ref["identifier"] = {"value": number}
        return ref

    def human_name(self, position: str) -> dict[str, Any] | None:
        """XPN -> HumanName (Datatype XPN to HumanName)."""
        family = self.r.get(f"{position}.1")
        given = [g for g in (self.r.get(f"{position}.2"), self.r.get(f"{position}.3")) if g]
        if not (family or given):
            return None
        name: dict[str, Any] = {}
        use = self.r.get(f"{position}.7")
        if use:
            name["use"] = self.table(f"{position}.7", use, NAME_USE, "0200")
        if family:
            name["family"] = family
        if given:
            name["given"] = given
        prefix = self.r.get(f"{position}.5")
        if prefix:
            name["prefix"] = [prefix]
        suffix = [s for s in (self.r.get(f"{position}.4"), self.r.get(f"{position}.6")) if s]
        if suffix:
            name["suffix"] = suffix
        return name

    def address(self, position: str) -> dict[str, Any] | None:
        """XAD -> Address (Datatype XAD to Address)."""
        lines = [x for x in (self.r.get(f"{position}.1"), self.r.get(f"{position}.2")) if x]
        parts = {
            "city": self.r.get(f"{position}.3"),
            "state": self.r.get(f"{position}.4"),
            "postalCode": self.r.get(f"{position}.5"),
            "country": self.r.get(f"{position}.6"),
        }
        address: dict[str, Any] = {k: v for k, v in parts.items() if v}
        if lines:
            address["line"] = lines
        if not address:
            return None
        kind = self.r.get(f"{position}.7")
        if kind:
            address["use"] = self.table(f"{position}.7", kind, ADDRESS_USE, "0190")
        return address

    def contact(self, position: str) -> dict[str, Any] | None:
        """XTN -> ContactPoint (Datatype XTN to ContactPoint)."""
        country, area, local = (self.r.get(f"{position}.{n}") for n in (5, 6, 7))
        value = self.r.get(f"{position}.1")
        if local:
            value = " ".join(x for x in (f"+{country}" if country else "", area, local) if x)
        email = self.r.get(f"{position}.4")
        system_code = self.r.get(f"{position}.3")
        if system_code in ("Internet", "X.400"):
            value = email
        if not value:
            return None
        point: dict[str, Any] = {"value": value}
        if system_code:
            point["system"] = self.table(f"{position}.3", system_code, CONTACT_SYSTEM, "0202")
        use = self.r.get(f"{position}.2")
        if use:
            point["use"] = self.table(f"{position}.2", use, CONTACT_USE, "0201")
        return point

    def table(self, position: str, code: str, table: dict[str, str], number: str) -> str:
        """A v2 table code through one of the IG's vocabulary maps, or a MedlabError."""
        try:
            return table[code]
        except KeyError:
            raise MedlabError(
                f"{position} is {code!r}, which the IG's map of HL7 table {number} does not "
                "translate",
                where=position,
                fix=f"Use a code of table {number} ({', '.join(sorted(table))}), or agree "
                "locally how to map it.",
            ) from None
