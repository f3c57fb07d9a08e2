"""HL7 v2 messages to FHIR R4 resources, after HL7's V2-to-FHIR implementation guide.

The maps followed are the IG's concept maps (HL7 Version 2 to FHIR, v1.0.0,
built on FHIR 4.0.1; https://build.fhir.org/ig/HL7/v2-to-fhir/), by name:

* messages: *Message ADT_A01 to Bundle* (also used for A04 and A08, which share
  the ADT_A01 structure), *Message ORM_O01 to Bundle*, *Message ORU_R01 to
  Bundle*; OMI^O23 has no message map in the IG, so its segments go through
  the same segment maps (and IPC, which has none, as listed below);
* segments: *Segment PID to Patient*, *Segment PV1 to Encounter*, *Segment ORC
  to ServiceRequest*, *Segment OBR to ServiceRequest*, *Segment OBR to
  DiagnosticReport*, *Segment OBX to Observation*;
* data types: *CX to Identifier*, *XPN to HumanName*, *XAD to Address*, *XTN
  to ContactPoint*, *CWE to CodeableConcept*, *EIP[PlacerAssignedIdentifier]*
  and *EIP[FillerAssignedIdentifier] to Identifier*, *TQ to ServiceRequest*;
* vocabulary: *Table HL70001 to Administrative Gender*, *HL70002 to V3
  MaritalStatus*, *HL70004 to V3 ActCode* and *to Encounter Status*,
  *HL70085 to Observation Status*, *HL70119 to Request Status*,
  *HL70123[Queries] to Diagnostic Report Status*, *HL70190 to Address Use*,
  *HL70200 to Name Use*, *HL70201 to Contact Point Use*, *HL70202 to Contact
  Point System*, *HL70485 to Request Priority*.

What the IG leaves to local agreement is decided here and said so:

* the accession number (OBR-18 in IHE's ORM, IPC-1 in an OMI) becomes a
  ServiceRequest identifier of type ``ACSN`` (the IG does not map OBR-18);
* an OBX of type HD carrying the Study Instance UID (code ``113014`` "Study",
  DCM, as IHE reports do) links ``DiagnosticReport.imagingStudy`` instead of
  making an Observation;
* ORC-5 (order status, "unspecified" in the IG) sets ServiceRequest.status;
* a time of day with no UTC offset: FHIR requires a zone with any time, v2 does
  not, so ``timezone=`` supplies it; without it only the date is kept (and the
  time is listed as dropped).

Resources reference each other by ``urn:uuid:`` ids derived from their v2
identifiers (the same patient or order gets the same id from every message),
which is what a transaction Bundle (:func:`medlab.fhir.bundle`, in :mod:`medlab.fhir.transaction`) needs.
Everything a map did not carry (MSH, EVN, set IDs, Z-segments, fields FHIR has
no element for...) is listed in :attr:`Mapping.dropped`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from medlab.errors import MedlabError
from medlab.fhir._reader import Dropped, Reader
from medlab.fhir.tables import (
    ADDRESS_USE,
    CODE_SYSTEMS,
    CONTACT_SYSTEM,
    CONTACT_USE,
    ENCOUNTER_CLASS,
    ENCOUNTER_STATUS,
    GENDER,
    MARITAL,
    NAME_USE,
    OBSERVATION_STATUS,
    ORDER_STATUS,
    PRIORITY,
    REPORT_STATUS,
    REQUEST_STATUS,
    V2_0074,
    V2_0203,
    V3_ACT_CODE,
    V3_MARITAL,
    V3_PARTICIPATION,
)

#: Namespace of the ids medlab derives from v2 identifiers (uuid5).
ID_NAMESPACE = uuid.UUID("0b2f6c3e-5a0e-4c55-9d6a-6d65646c6162")

#: What the maps used here leave out, segment by segment (listed as dropped).
SEGMENT_REASONS = {
    "MSH": "maps to MessageHeader and Provenance of a message Bundle; a transaction Bundle "
    "has neither (Message ..._to Bundle maps)",
    "EVN": "maps to Provenance (Message ADT_A01 to Bundle), not produced here",
    "ZDS": "Z-segment: site-defined, no IG map (the ImagingStudy carries the Study Instance UID)",
    "AL1": "maps to AllergyIntolerance (Segment AL1), not produced here",
    "IPC": "no IG map; IPC-1 (accession) is carried by local agreement",
}

#: message code^trigger -> what it maps to (the message maps of the IG this module follows)
SUPPORTED = {
    ("ADT", "A01"): "Patient, Encounter",
    ("ADT", "A04"): "Patient, Encounter",
    ("ADT", "A08"): "Patient, Encounter",
    ("ORM", "O01"): "Patient, Encounter, ServiceRequest",
    ("OMI", "O23"): "Patient, Encounter, ServiceRequest",
    ("ORU", "R01"): "Patient, ServiceRequest, DiagnosticReport, Observation",
}


class Mapping(list):
    """The resources one message maps to (a list), with what was dropped and where each field went.

    Attributes
    ----------
    message_type:
        MSH-9 as ``"ADT^A04"``.
    dropped:
        Every valued v2 position no map carried, with the reason (:class:`Dropped`).
    links:
        ``{"PID-5": [(0, "name")], ...}``: each v2 field and the elements (resource
        index in this list, top-level element name) it filled.
    """

    def __init__(
        self,
        resources: list[Any],
        message_type: str,
        dropped: list[Dropped],
        links: dict[str, list[tuple[int, str]]],
        text: str,
    ) -> None:
        super().__init__(resources)
        self.message_type = message_type
        self.dropped = dropped
        self.links = links
        self.text = text

    def __repr__(self) -> str:
        kinds = ", ".join(f"{r.__resource_type__}/{r.id[:8]}" for r in self)
        return (
            f"<{self.message_type} -> {len(self)} resources: {kinds}; "
            f"{len(self.dropped)} value(s) dropped>"
        )

    def dropped_report(self) -> str:
        """What the mapping did not carry, one line each."""
        return "\n".join(str(d) for d in self.dropped)


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


# --------------------------------------------------------------------------- segments
def _patient(b: _Builder) -> int:
    """Segment PID to Patient."""
    r = b.r
    if not r.has("PID"):
        raise MedlabError(
            "The message has no PID segment, so there is no patient to map",
            where="PID",
            fix="ADT, orders and results carry the patient in PID (Segment PID to Patient).",
        )
    reps = r.repetitions("PID", 3)
    first = b.identifier(reps[0]) if reps else None
    if not first:
        r.require("PID-3.1", "patient identifier list", "FHIR resources link by identifier")
    key = [first["value"], first.get("assigner", {}).get("display", "")]  # type: ignore[index]
    index = b.add({"resourceType": "Patient", "id": resource_id("Patient", *key)}, "PID")
    identifiers = [b.identifier(p) for p in reps]
    b.put(index, "identifier", [i for i in identifiers if i], "PID-3")
    names = [b.human_name(p) for p in r.repetitions("PID", 5)]
    b.put(index, "name", [n for n in names if n], "PID-5")
    b.put(index, "birthDate", b.date_time("PID-7"), "PID-7")
    if len(r.get("PID-7")) > 8:
        r.note("PID-7", "time of birth: the patient-birthTime extension is not produced here")
    sex = r.get("PID-8")
    if sex:
        b.put(index, "gender", b.table("PID-8", sex, GENDER, "0001"), "PID-8")
    addresses = [b.address(p) for p in r.repetitions("PID", 11)]
    b.put(index, "address", [a for a in addresses if a], "PID-11")
    phones = [b.contact(p) for p in r.repetitions("PID", 13) + r.repetitions("PID", 14)]
    b.put(index, "telecom", [p for p in phones if p], "PID-13", "PID-14")
    marital = r.get("PID-16.1")
    if marital:
        code = b.table("PID-16", marital, MARITAL, "0002")
        b.put(index, "maritalStatus", {"coding": [{"system": V3_MARITAL, "code": code}]}, "PID-16")
    r.note("PID-1", "set ID: a position within the message, FHIR has no place for it")
    r.note("PID-18", "account number: maps to an Account resource, not produced here")
    return index


def _encounter(b: _Builder, patient: int) -> int | None:
    """Segment PV1 to Encounter."""
    r = b.r
    if not r.has("PV1"):
        return None
    klass = r.require("PV1-2.1", "patient class", "Encounter.class is required (1..1)")
    visit = b.identifier("PV1-19", None)
    key = [visit["value"]] if visit else [r.values.get("MSH-10", ""), "PV1"]
    index = b.add(
        {
            "resourceType": "Encounter",
            "id": resource_id("Encounter", *key),
            "status": b.table("PV1-2", klass, ENCOUNTER_STATUS, "0004"),
            "class": {
                "system": V3_ACT_CODE,
                "code": b.table("PV1-2", klass, ENCOUNTER_CLASS, "0004"),
            },
            "subject": reference("Patient", b.resources[patient]["id"]),
        },
        "PV1",
    )
    r.link("PV1-2", index, "status")
    r.link("PV1-2", index, "class")
    if visit:
        visit.setdefault("type", {"coding": [{"system": V2_0203, "code": "VN"}]})
        b.put(index, "identifier", [visit], "PV1-19")
    place = r.values.get("PV1-3")
    if place:
        parts = (
            [r.get(f"PV1-3.{n}") for n in range(1, 5)]
            if r._has_children("PV1-3")
            else [r.get("PV1-3")]
        )
        where = " ".join(p for p in parts if p)
        status = "planned" if klass == "P" else "active"
        b.put(index, "location", [{"location": {"display": where}, "status": status}], "PV1-3")
    roles = (
        (7, "ATND", "attender"),
        (8, "REF", "referrer"),
        (9, "CON", "consultant"),
        (17, "ADM", "admitter"),
    )
    for field, code, text in roles:
        who = b.person(f"PV1-{field}")
        if who:
            kind = {"coding": [{"system": V3_PARTICIPATION, "code": code}], "text": text}
            b.put(index, "participant", [{"type": [kind], "individual": who}], f"PV1-{field}")
    service = r.get("PV1-10")
    if service:
        b.put(
            index,
            "serviceType",
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0069", "code": service}
                ]
            },
            "PV1-10",
        )
    r.note("PV1-1", "set ID: a position within the message, FHIR has no place for it")
    return index


def _service_request(b: _Builder, patient: int, encounter: int | None, orc: str, obr: str) -> int:
    """Segment ORC to ServiceRequest and Segment OBR to ServiceRequest (one ORC/OBR pair)."""
    r = b.r
    placer = b.identifier(f"{orc}-2", "PLAC") or b.identifier(f"{obr}-2", "PLAC")
    filler = b.identifier(f"{orc}-3", "FILL") or b.identifier(f"{obr}-3", "FILL")
    if not (placer or filler):
        r.require(f"{orc}-2.1", "placer order number", "an order is identified by its number")
    key = placer or filler
    rid = resource_id("ServiceRequest", key["value"], key.get("assigner", {}).get("display", ""))  # type: ignore[index]
    control = r.require(
        f"{orc}-1", "order control", "ServiceRequest.status and intent come from it"
    )
    order_status = r.get(f"{orc}-5")
    if order_status:
        status = b.table(f"{orc}-5", order_status, ORDER_STATUS, "0038")
    else:
        status = b.table(f"{orc}-1", control, REQUEST_STATUS, "0119")
    index = b.add(
        {
            "resourceType": "ServiceRequest",
            "id": rid,
            "status": status,
            "intent": "order",
            "subject": reference("Patient", b.resources[patient]["id"]),
        },
        orc,
    )
    r.link(f"{orc}-1", index, "intent")
    r.link(f"{orc}-5" if order_status else f"{orc}-1", index, "status")
    ids = [placer, filler]
    positions = [f"{orc}-2", f"{orc}-3"] if r.get(f"{orc}-2.1") else [f"{obr}-2", f"{obr}-3"]
    for field in (2, 3):
        if r.get(f"{orc}-{field}.1") and r.values.get(f"{obr}-{field}"):
            r.note(f"{obr}-{field}", f"the IG maps OBR-{field} only when ORC-{field} is empty")
    accession = r.get(f"{obr}-18") or (r.get("IPC-1.1") if r.has("IPC") else "")
    if accession:  # local agreement (IHE): the accession number
        ids.append({"value": accession, "type": {"coding": [{"system": V2_0203, "code": "ACSN"}]}})
        positions.append(f"{obr}-18" if r.get(f"{obr}-18") else "IPC-1")
    b.put(index, "identifier", [i for i in ids if i], *positions)
    if encounter is not None:
        b.put(index, "encounter", reference("Encounter", b.resources[encounter]["id"]))
    b.put(index, "code", b.coded(f"{obr}-4"), f"{obr}-4")
    # TQ to ServiceRequest (ORC-7, else OBR-27): start -> occurrenceTiming, priority.
    timing = f"{orc}-7" if r.values.get(f"{orc}-7") else f"{obr}-27"
    start = b.date_time(f"{timing}.4")
    if start:
        b.put(index, "occurrenceTiming", {"repeat": {"boundsPeriod": {"start": start}}}, timing)
        if r.get(f"{obr}-6"):
            r.note(f"{obr}-6", "occurrence[x] holds the scheduled timing (ORC-7); one choice only")
    else:
        b.put(index, "occurrenceDateTime", b.date_time(f"{obr}-6"), f"{obr}-6")
    priority = r.get(f"{obr}-5") or r.get(f"{timing}.6")
    if r.get(f"{obr}-5") and r.get(f"{timing}.6"):
        r.note(f"{timing}.6", "priority is taken from OBR-5 (one priority per request)")
    if priority:
        where = f"{obr}-5" if r.get(f"{obr}-5") else f"{timing}.6"
        b.put(index, "priority", b.table(where, priority, PRIORITY, "0485"), where)
    if control == "NW":
        b.put(index, "authoredOn", b.date_time(f"{orc}-9"), f"{orc}-9")
    requester = b.person(f"{orc}-12") or b.person(f"{obr}-16")
    b.put(index, "requester", requester, f"{orc}-12" if b.person(f"{orc}-12") else f"{obr}-16")
    if r.values.get(f"{orc}-12") and r.values.get(f"{obr}-16"):
        r.note(f"{obr}-16", "the IG maps OBR-16 only when ORC-12 is empty")
    if timing == f"{orc}-7" and r.values.get(f"{obr}-27"):
        r.note(f"{obr}-27", "the IG maps OBR-27 only when ORC-7 is empty")
    if r.get(f"{obr}-24") and r.values.get("MSH-9.1") != "ORU":
        r.note(f"{obr}-24", "diagnostic service section: mapped to DiagnosticReport.category only")
    if r.get(f"{obr}-13"):
        r.note(
            f"{obr}-13",
            "relevant clinical information: the IG maps it to an R5 cross-version extension "
            "(supportingInfo) whose value, a CodeableReference, FHIR R4 (4.0.1) has no type for",
        )
    for field, what in (
        (1, "set ID"),
        (19, "requested procedure ID (IHE)"),
        (20, "scheduled step ID (IHE)"),
    ):
        if r.get(f"{obr}-{field}"):
            r.note(f"{obr}-{field}", f"{what}: no element in Segment OBR to ServiceRequest")
    return index


def _report(b: _Builder, patient: int, order: int, obr: str) -> int:
    """Segment OBR to DiagnosticReport, and its OBX segments (Segment OBX to Observation)."""
    r = b.r
    code = b.coded(f"{obr}-4")
    if not code:
        r.require(f"{obr}-4.1", "universal service identifier", "DiagnosticReport.code is required")
    status_code = r.require(f"{obr}-25", "result status", "DiagnosticReport.status is required")
    order_id = b.resources[order]["id"]
    index = b.add(
        {
            "resourceType": "DiagnosticReport",
            "id": resource_id("DiagnosticReport", order_id),
            "basedOn": [reference("ServiceRequest", order_id)],
            "status": b.table(f"{obr}-25", status_code, REPORT_STATUS, "0123"),
            "code": code,
            "subject": reference("Patient", b.resources[patient]["id"]),
        },
        obr,
    )
    r.link(f"{obr}-25", index, "status")
    r.link(f"{obr}-4", index, "code")
    service = r.get(f"{obr}-24")
    if service:
        b.put(index, "category", [{"coding": [{"system": V2_0074, "code": service}]}], f"{obr}-24")
    start, end = b.date_time(f"{obr}-7"), b.date_time(f"{obr}-8")
    if end:
        b.put(
            index,
            "effectivePeriod",
            {"start": start, "end": end} if start else {"end": end},
            f"{obr}-7",
            f"{obr}-8",
        )
    else:
        b.put(index, "effectiveDateTime", start, f"{obr}-7")
    b.put(index, "issued", b.date_time(f"{obr}-22", instant=True), f"{obr}-22")
    interpreter = b.person(f"{obr}-32")
    b.put(index, "resultsInterpreter", [interpreter] if interpreter else None, f"{obr}-32")
    return index


def _observations(b: _Builder, patient: int, report: int) -> None:
    r = b.r
    results, studies = [], []
    for n, obx in enumerate(r.all("OBX"), start=1):
        kind = r.require(f"{obx}-2", "value type", "it decides which value[x] the value goes to")
        if kind == "HD":  # local agreement: the study the report is about
            uid = r.get(f"{obx}-5.1")
            if uid:
                study = reference("ImagingStudy", resource_id("ImagingStudy", uid))
                study["identifier"] = {"system": "urn:dicom:uid", "value": f"urn:oid:{uid}"}
                studies.append(study)
                r.link(f"{obx}-5", report, "imagingStudy")
                r.link(f"{obx}-2", report, "imagingStudy")
            for field in (1, 3, 4, 11):
                if r.values.get(f"{obx}-{field}"):
                    r.note(
                        f"{obx}-{field}", "OBX of type HD: no Observation, its UID links the study"
                    )
            continue
        code = b.coded(f"{obx}-3")
        if not code:
            r.require(f"{obx}-3.1", "observation identifier", "Observation.code is required")
        status = r.require(
            f"{obx}-11", "observation result status", "Observation.status is required"
        )
        index = b.add(
            {
                "resourceType": "Observation",
                "id": resource_id("Observation", b.resources[report]["id"], str(n)),
                "status": b.table(f"{obx}-11", status, OBSERVATION_STATUS, "0085"),
                "code": code,
                "subject": reference("Patient", b.resources[patient]["id"]),
            },
            obx,
        )
        r.link(f"{obx}-11", index, "status")
        r.link(f"{obx}-3", index, "code")
        value = f"{obx}-5"
        if kind in ("ST", "TX", "FT"):
            b.put(index, "valueString", r.get(value), value, f"{obx}-2")
        elif kind == "NM":
            number = r.get(value)
            try:
                quantity: dict[str, Any] = {"value": float(number)}
            except ValueError:
                raise MedlabError(
                    f"{value} is {number!r}, but OBX-2 says NM (a number)",
                    where=value,
                    fix="Send a number in OBX-5, or the right value type in OBX-2.",
                ) from None
            unit = r.get(f"{obx}-6.1")
            if unit:
                quantity["unit"] = r.get(f"{obx}-6.2") or unit
                quantity["code"] = unit
                system = (
                    CODE_SYSTEMS.get(r.get(f"{obx}-6.3").split("+")[0])
                    if r.get(f"{obx}-6.3")
                    else None
                )
                if system:
                    quantity["system"] = system
            b.put(index, "valueQuantity", quantity, value, f"{obx}-2", f"{obx}-6")
        elif kind in ("CWE", "CE", "CNE"):
            b.put(index, "valueCodeableConcept", b.coded(value), value, f"{obx}-2")
        elif kind in ("DT", "DTM", "TS"):
            b.put(index, "valueDateTime", b.date_time(value), value, f"{obx}-2")
        else:
            r.note(value, f"value type {kind}: not mapped here")
        b.put(index, "effectiveDateTime", b.date_time(f"{obx}-14"), f"{obx}-14")
        r.note(f"{obx}-1", "set ID: a position within the message, FHIR has no place for it")
        if r.get(f"{obx}-4"):
            r.note(f"{obx}-4", "sub-ID: the IG leaves partOf/hasMember to the implementation")
        results.append(reference("Observation", b.resources[index]["id"]))
        r.link(f"{obx}-3", report, "result")
    b.put(report, "result", results)
    b.put(report, "imagingStudy", studies)


# --------------------------------------------------------------------------- messages
def from_v2(message: Any, *, timezone: str | None = None) -> Mapping:
    """Map one v2 message to validated ``fhir.resources`` objects (a :class:`Mapping`).

    The objects are ``fhir.resources.R4B`` models (FHIR 4.3, the R4-family release the
    library ships); only elements and types that FHIR R4 (4.0.1, the IG's target) also
    has are produced.

    ``message`` is text or what :func:`medlab.hl7.parse` returns. Mapped:
    ADT^A01/A04/A08 (Patient, Encounter), ORM^O01 and OMI^O23 (Patient,
    Encounter, ServiceRequest), ORU^R01 (Patient, ServiceRequest,
    DiagnosticReport, Observations). ``timezone`` (``"-04:00"``) is the UTC
    offset to assume for times the message sends without one.

    Raises
    ------
    MedlabError
        For a message type with no map, a field a required element cannot do
        without, or a value no map translates; the error names the segment
        and field (``PID-8``, ``OBR-25``...).
    """
    if not isinstance(message, (str, bytes)) and not hasattr(message, "to_er7"):
        raise MedlabError(
            f"from_v2 takes an HL7 v2 message, not {type(message).__name__}",
            where="message",
            fix="Pass the message text or what medlab.hl7.parse returns.",
        )
    reader = Reader(message)
    code, trigger = reader.values.get("MSH-9.1", ""), reader.values.get("MSH-9.2", "")
    mtype = f"{code}^{trigger}"
    if (code, trigger) not in SUPPORTED:
        known = ", ".join(f"{c}^{t}" for c, t in SUPPORTED)
        raise MedlabError(
            f"There is no map for {mtype} messages here",
            where="MSH-9",
            fix=f"medlab.fhir maps {known}. The V2-to-FHIR IG has maps for more ADT events; "
            "acknowledgements and queries are not data to store as resources.",
        )
    if timezone is not None and not re.fullmatch(r"[+-]\d{2}:?\d{2}|Z", timezone):
        raise MedlabError(
            f"timezone={timezone!r} is not a UTC offset",
            where="timezone",
            fix="Give an offset such as '-04:00' or '+01:00'.",
        )
    b = _Builder(reader, "+00:00" if timezone == "Z" else timezone)
    patient = _patient(b)
    encounter = _encounter(b, patient) if code != "ORU" else None
    if code in ("ORM", "OMI", "ORU"):
        orcs, obrs = reader.all("ORC"), reader.all("OBR")
        if not obrs:
            reader.require("OBR-4", "observation request", "an order or result needs its OBR")
        for n, obr in enumerate(obrs):
            orc = orcs[n] if n < len(orcs) else (orcs[0] if orcs else obr)
            order = _service_request(b, patient, encounter, orc, obr)
            if code == "ORU":
                report = _report(b, patient, order, obr)
                _observations(b, patient, report)
    return Mapping(
        [_validate(res, b.origin[i]) for i, res in enumerate(b.resources)],
        mtype,
        reader.dropped(SEGMENT_REASONS),
        reader.links,
        _text(message),
    )


def _text(message: Any) -> str:
    from medlab.hl7 import er7

    return er7(message)


_MODELS: dict[str, Callable[..., Any]] = {}


def model(resource_type: str) -> Any:
    """The ``fhir.resources`` R4B class of a resource type (``"Patient"``)."""
    if resource_type not in _MODELS:
        from fhir.resources.R4B import get_fhir_model_class

        _MODELS[resource_type] = get_fhir_model_class(resource_type)
    return _MODELS[resource_type]


def _validate(resource: dict[str, Any], segment: str) -> Any:
    from pydantic import ValidationError

    try:
        return model(resource["resourceType"]).model_validate(resource)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise MedlabError(
            f"The {resource['resourceType']} mapped from {segment} is not valid FHIR: "
            f"{where}: {first['msg']}",
            where=segment,
            fix="Check the fields of that segment against their HL7 data types.",
        ) from None
