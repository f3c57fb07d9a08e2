"""The segment maps of the v2-to-FHIR mapping (:mod:`medlab.fhir.v2`).

*Segment PID to Patient*, *PV1 to Encounter*, *ORC/OBR to ServiceRequest*, *OBR to
DiagnosticReport* and *OBX to Observation*: each adds its resource to a
:class:`~medlab.fhir._datatypes._Builder` and returns its index there.
"""

from __future__ import annotations

from typing import Any

from medlab.errors import MedlabError
from medlab.fhir._datatypes import _Builder, reference, resource_id
from medlab.fhir.tables import (
    CODE_SYSTEMS,
    ENCOUNTER_CLASS,
    ENCOUNTER_STATUS,
    GENDER,
    MARITAL,
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
