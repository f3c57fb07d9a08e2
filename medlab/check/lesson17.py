"""Exercises of lesson 17 (from HL7 v2 to FHIR)."""

from __future__ import annotations

import json
from typing import Any

from medlab.check import Exercise, WrongAnswer

_SETUP = (
    "import medlab.fhir as fhir\n"
    "from medlab import capstone\n"
    "adt = fhir.from_v2(capstone.ADT_A04)\n"
    "orm = fhir.from_v2(capstone.ORM_O01)\n"
)


# --------------------------------------------------------------------------- 17.1
def _class_of_outpatient(answer: Any) -> None:
    if isinstance(answer, str):
        raise WrongAnswer(
            "A FHIR code means nothing without its code system: give (system URL, code)."
        )
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise WrongAnswer("Give a pair: (system URL, code), e.g. ('http://...', 'XYZ').")
    system, code = (str(x) for x in answer)
    if "v2-0004" in system or code == "O":
        raise WrongAnswer(
            "That is still the v2 table. The IG's map of table 0004 translates the patient "
            "class into a code of another (v3) code system: which one does Encounter.class use?"
        )
    if system != "http://terminology.hl7.org/CodeSystem/v3-ActCode":
        raise WrongAnswer(
            "Look at the 'system' of the Encounter's class element in its JSON: copy it exactly."
        )
    if code != "AMB":
        raise WrongAnswer(
            "Right code system, wrong code: PV1-2 says O. Which kind of encounter is an "
            "outpatient visit in that code system?"
        )


ex1 = Exercise(
    id="17.1",
    title="A v2 table code becomes a Coding",
    question="PV1-2 (patient class) of the capstone's ADT^A04 is O. Give the Coding its "
    "Encounter.class becomes, as a pair (system URL, code).",
    checker=_class_of_outpatient,
    hints=(
        "adt[1] is the Encounter; print adt[1].model_dump_json(indent=2) and find 'class'.",
        "v2 codes live in numbered HL7 tables; FHIR names every code system by a URL.",
    ),
    setup=_SETUP,
    solution_code="answer = (adt[1].class_fhir.system, adt[1].class_fhir.code)",
    wrong_code='answer = ("http://terminology.hl7.org/CodeSystem/v2-0004", "O")',
    wrong_answers=(
        'answer = ("http://terminology.hl7.org/CodeSystem/v2-0004", "O")  # the v2 table kept',
        'answer = ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "O")  # v2 code, v3 system',
        'answer = ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP")  # inpatient',
        'answer = "AMB"  # a code without its system',
        'answer = ("http://hl7.org/fhir/encounter-status", "in-progress")  # the status, not the class',
    ),
)


# --------------------------------------------------------------------------- 17.2
def _dropped_question(answer: Any) -> None:
    text = str(answer).strip().upper().replace(" ", "")
    if not text or text[:3] not in ("PID", "PV1", "ORC", "OBR", "ZDS", "MSH"):
        raise WrongAnswer("Give a v2 position such as 'PID-7' (segment ID, dash, field number).")
    if text == "OBR-13":
        return
    if text.startswith("ZDS"):
        raise WrongAnswer(
            "ZDS-1 is dropped from the order, but the Study Instance UID is not lost: the "
            "ImagingStudy carries it. Look for the radiologist's question in the dropped list."
        )
    if text.startswith("PID-18") or text.startswith("PV1"):
        raise WrongAnswer(
            "That is administrative (accounts, visits): a radiologist reads images without it."
        )
    if text.startswith("OBR-31"):
        raise WrongAnswer(
            "OBR-31 would map to reasonCode, but this order leaves it empty; where did the "
            "ordering doctor write the question?"
        )
    raise WrongAnswer(
        "Read orm.dropped_report(): which dropped value is the clinical question the "
        "radiologist must answer?"
    )


ex2 = Exercise(
    id="17.2",
    title="What is lost in the crossing",
    question="Mapping the capstone's ORM^O01 to R4 drops one value a radiologist needs to read "
    "the images well: the clinical question. Give its v2 position (e.g. 'PID-7').",
    checker=_dropped_question,
    hints=(
        "orm.dropped lists every value the mapping did not carry, with the reason.",
        "Look for a free-text value that the IG maps to an element R4 cannot hold.",
    ),
    setup=_SETUP,
    solution_code='answer = "OBR-13"',
    wrong_code='answer = "ZDS-1"',
    wrong_answers=(
        'answer = "ZDS-1"  # the study UID (the ImagingStudy carries it)',
        'answer = "PID-18"  # the account number',
        'answer = "OBR-31"  # reason for study: empty in this order',
        'answer = "OBR-4"  # the procedure: it is mapped to code',
    ),
)


# --------------------------------------------------------------------------- 17.3
def _exam_bundles() -> list[tuple[dict[str, Any], list[str]]]:
    """Two Bundles and the accession numbers of their orders (answers must fit both)."""
    import medlab.fhir as fhir
    from medlab import capstone
    from medlab.hl7 import samples

    out = []
    for messages in ((capstone.ADT_A04, capstone.ORM_O01), (samples.ORM_O01, samples.OMI_O23)):
        bundle = fhir.bundle([fhir.from_v2(m) for m in messages])
        data = json.loads(bundle.model_dump_json(exclude_none=True))
        accessions = [
            i["value"]
            for e in data["entry"]
            if e["resource"]["resourceType"] == "ServiceRequest"
            for i in e["resource"]["identifier"]
            if i.get("type", {}).get("coding", [{}])[0].get("code") == "ACSN"
        ]
        out.append((data, accessions))
    return out


def _accession_path(answer: Any) -> None:
    from fhirpathpy import evaluate
    from fhirpathpy.models import models

    if not isinstance(answer, str):
        raise WrongAnswer("Give the FHIRPath expression as a string.")
    for data, accessions in _exam_bundles():
        try:
            got = evaluate(data, answer, model=models["r4"])
        except Exception:  # fhirpathpy's own syntax errors
            raise WrongAnswer(
                "fhirpathpy cannot read that expression: check the dots and brackets."
            ) from None
        if not got:
            raise WrongAnswer(
                "Your expression finds nothing. Start from the Bundle: Bundle.entry.resource..."
            )
        if got == accessions:
            continue
        if set(accessions) < set(map(str, got)):
            raise WrongAnswer(
                "That returns every identifier of the order (placer, filler, accession): "
                "keep only the one whose type says it is the accession."
            )
        raise WrongAnswer(
            "Not the accession numbers on every Bundle: an order's identifiers differ in "
            "their type (identifier.type.coding.code), not in their position."
        )


ex3 = Exercise(
    id="17.3",
    title="FHIRPath: the accession numbers",
    question="Write a FHIRPath expression that returns the accession number of every "
    "ServiceRequest in a transaction Bundle. It is checked on the capstone's Bundle and on "
    "another one.",
    checker=_accession_path,
    hints=(
        "ofType(ServiceRequest) keeps the resources of one type; where(...) filters a list.",
        "The accession number is the identifier of type ACSN (table 0203).",
    ),
    setup=_SETUP,
    solution_code='answer = (\n    "Bundle.entry.resource.ofType(ServiceRequest)"\n'
    "    \".identifier.where(type.coding.code = 'ACSN').value\"\n)",
    wrong_code='answer = "Bundle.entry.resource.ofType(ServiceRequest).identifier.value"',
    wrong_answers=(
        'answer = "Bundle.entry.resource.ofType(ServiceRequest).identifier.value"  # all ids',
        "answer = \"ServiceRequest.identifier.where(type.coding.code = 'ACSN').value\"  # no Bundle",
        'answer = "Bundle.entry.resource.ofType(ServiceRequest).identifier.where(type.coding.code'
        " = 'FILL').value\"  # the filler number",
        "answer = \"'A26060101'\"  # the capstone's value, written in",
        'answer = "Bundle.entry.resource.ofType(ServiceRequest).identifier[1].value"  # position',
    ),
)


# --------------------------------------------------------------------------- 17.4
def _registration_and_order(answer: Any) -> None:
    if isinstance(answer, list):
        raise WrongAnswer(
            "That is a list of resources (or Bundles). medlab.fhir.bundle(...) makes one "
            "Bundle of them."
        )
    data = getattr(answer, "model_dump_json", None)
    if data is None or getattr(answer, "__resource_type__", "") != "Bundle":
        raise WrongAnswer("Give a Bundle (what medlab.fhir.bundle returns).")
    body = json.loads(answer.model_dump_json(exclude_none=True))
    if body.get("type") != "transaction":
        raise WrongAnswer(
            "A server applies this kind of Bundle entry by entry, each on its own: the exam "
            "must be stored all or nothing."
        )
    kinds = sorted(e["resource"]["resourceType"] for e in body.get("entry", []))
    if "ServiceRequest" not in kinds:
        raise WrongAnswer("The order is missing: bundle the ORM's resources too.")
    if kinds != ["Encounter", "Patient", "ServiceRequest"]:
        raise WrongAnswer(
            "Both messages describe one patient and one visit: the Bundle needs each once, "
            "plus the order."
        )


ex4 = Exercise(
    id="17.4",
    title="One transaction for registration and order",
    question="Build one transaction Bundle of what the capstone's ADT^A04 and ORM^O01 map to "
    "(adt and orm above).",
    checker=_registration_and_order,
    hints=(
        "medlab.fhir.bundle takes a list of mapped messages (lists of resources).",
        "The same patient mapped from two messages has the same id: the Bundle keeps one.",
    ),
    setup=_SETUP,
    solution_code="answer = fhir.bundle([adt, orm])",
    wrong_code="answer = fhir.bundle([adt])",
    wrong_answers=(
        "answer = fhir.bundle([adt])  # the order is missing",
        "answer = [fhir.bundle([adt]), fhir.bundle([orm])]  # two Bundles",
        "answer = orm  # the resources, not a Bundle",
        'answer = fhir.bundle([adt, orm]).model_copy(update={"type": "batch"})  # not atomic',
        "answer = fhir.bundle([orm[2], orm[0], orm[1], adt[0].model_copy(update={'id': 'x'})])"
        "  # a second patient",
    ),
)
