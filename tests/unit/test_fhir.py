"""medlab.fhir: v2 messages to FHIR R4 (V2-to-FHIR IG maps), ImagingStudy, Bundle, FHIRPath.

Every resource is re-validated by fhir.resources from its JSON and must read back equal;
every valued v2 position is either carried into a resource or listed as dropped.
"""

from __future__ import annotations

import json
import types
import urllib.request

import pytest
from fhirpathpy import evaluate
from fhirpathpy.models import models

import medlab.fhir as fhir
from medlab import capstone
from medlab.errors import MedlabError
from medlab.fhir._reader import Reader, _covered, _field_of
from medlab.fhir.v2 import model
from medlab.hl7 import parse, samples

TZ = "-04:00"
MESSAGES = {
    "capstone ADT^A04": (capstone.ADT_A04, ["Patient", "Encounter"]),
    "capstone ORM^O01": (capstone.ORM_O01, ["Patient", "Encounter", "ServiceRequest"]),
    "capstone ORU^R01": (
        capstone.ORU_R01,
        ["Patient", "ServiceRequest", "DiagnosticReport", "Observation", "Observation"],
    ),
    "ADT^A01 v2.8.2": (samples.ADT_A01, ["Patient", "Encounter"]),
    "ADT^A04 A&E": (samples.ADT_A04_AE, ["Patient", "Encounter"]),
    "ADT^A08 with Z": (samples.ADT_A08_Z, ["Patient", "Encounter"]),
    "OMI^O23": (samples.OMI_O23, ["Patient", "Encounter", "ServiceRequest"]),
    "ORM^O01 sample": (samples.ORM_O01, ["Patient", "Encounter", "ServiceRequest"]),
}


def _kinds(resources: list) -> list[str]:
    return [r.__resource_type__ for r in resources]


@pytest.mark.parametrize("name", list(MESSAGES))
def test_each_message_type_maps_validates_and_round_trips(name: str) -> None:
    text, kinds = MESSAGES[name]
    mapped = fhir.from_v2(text, timezone=TZ)
    assert _kinds(mapped) == kinds
    for resource in mapped:
        back = model(resource.__resource_type__).model_validate_json(resource.model_dump_json())
        assert back == resource  # JSON out, read back, equal
        assert resource.id
    # the same from a parsed message
    assert [r.id for r in fhir.from_v2(parse(text), timezone=TZ)] == [r.id for r in mapped]


@pytest.mark.parametrize("name", list(MESSAGES))
def test_nothing_is_silently_lost(name: str) -> None:
    """Every valued v2 leaf is carried (its field is linked) or listed as dropped."""
    text, _ = MESSAGES[name]
    mapped = fhir.from_v2(text)
    reader = Reader(text)
    dropped = {d.position for d in mapped.dropped}
    linked = set(mapped.links)
    for position, value in reader.values.items():
        if not value or reader._has_children(position):
            continue
        segment = position.split("-")[0]
        assert (
            _field_of(position) in linked
            or _covered(position, dropped)
            or segment in dropped
            or position in dropped
        ), position
    for d in mapped.dropped:  # and nothing that was carried is reported dropped
        assert d.reason


def test_patient_follows_pid_to_patient() -> None:
    patient = fhir.from_v2(capstone.ADT_A04)[0]
    ident = patient.identifier[0]
    assert (ident.value, ident.assigner.display, ident.type.coding[0].code) == (
        "MLB-100234",
        "MEDLAB",
        "MR",
    )
    assert (patient.name[0].family, patient.name[0].given, patient.name[0].use) == (
        "ABERNATHY",
        ["ROSALIND", "J"],
        "official",
    )
    assert (patient.gender, str(patient.birthDate)) == ("female", "1967-04-12")
    assert patient.address[0].city == "Eastport" and patient.address[0].use == "home"
    assert (patient.telecom[0].value, patient.telecom[0].use) == ("+1 207 5550148", "home")
    assert patient.maritalStatus.coding[0].code == "M"


def test_encounter_and_escapes_become_plain_json_strings() -> None:
    mapped = fhir.from_v2(samples.ADT_A04_AE)
    encounter = mapped[1]
    assert encounter.class_fhir.code == "EMER" and encounter.status == "in-progress"
    # PV1-3 is A\T\E^BAY2^1^GENHOSP: the escape sequence is gone in JSON
    assert encounter.location[0].location.display == "A&E BAY2 1 GENHOSP"
    assert '"A&E BAY2 1 GENHOSP"' in encounter.model_dump_json()
    assert encounter.subject.reference == f"urn:uuid:{mapped[0].id}"


def test_order_carries_accession_and_the_dropped_list_names_what_r4_cannot_hold() -> None:
    mapped = fhir.from_v2(capstone.ORM_O01, timezone=TZ)
    order = mapped[2]
    codes = {i.type.coding[0].code: i.value for i in order.identifier}
    assert codes == {"PLAC": "PO-90412", "FILL": "A26060101", "ACSN": capstone.ACCESSION}
    assert (order.status, order.intent, order.priority) == ("active", "order", "routine")
    assert order.code.coding[0].system == "http://www.ama-assn.org/go/cpt"
    assert (
        order.occurrenceTiming.repeat.boundsPeriod.start.isoformat() == "2026-06-01T09:00:00-04:00"
    )
    dropped = {d.position: d.reason for d in mapped.dropped}
    assert "OBR-13" in dropped and "R5" in dropped["OBR-13"]
    assert "ZDS" in dropped and "MSH" in dropped
    assert "ORC-7.4" not in dropped  # the offset was given


def test_a_time_without_offset_keeps_the_date_and_says_so() -> None:
    mapped = fhir.from_v2(capstone.ORU_R01)
    report = mapped[2]
    assert str(report.effectiveDateTime) == "2026-06-01" and report.issued is None
    dropped = {d.position: d.reason for d in mapped.dropped}
    assert "UTC offset" in dropped["OBR-7"] and "not carried" in dropped["OBR-22"]
    with_tz = fhir.from_v2(capstone.ORU_R01, timezone=TZ)[2]
    assert with_tz.effectiveDateTime.isoformat() == "2026-06-01T09:05:00-04:00"


def test_capstone_oru_fields_sit_where_hl7_puts_them() -> None:
    """OBR-18 accession, OBR-25 result status, OBR-32 interpreter (they were one short)."""
    reader = Reader(capstone.ORU_R01)
    assert reader.get("OBR-18") == capstone.ACCESSION
    assert reader.get("OBR-25") == "F"
    assert reader.get("OBR-32.1.2") == "VANCE"


def test_repeats_map_to_lists_and_formatting_escapes_are_reported() -> None:
    patient = fhir.from_v2(samples.ADT_A01)[0]  # PID-3 repeats: hospital and national number
    assert [(i.value, i.type.coding[0].code) for i in patient.identifier] == [
        ("56782445", "PI"),
        ("999855750", "SS"),
    ]
    text = capstone.ORU_R01.replace("FINDINGS: Lungs are clear.", "FINDINGS:\\.br\\Clear.")
    mapped = fhir.from_v2(text)
    assert mapped[3].valueString == "FINDINGS:\\.br\\Clear."  # carried as it is ...
    dropped = {d.position: d.reason for d in mapped.dropped}
    assert "formatting" in dropped["OBX-5"]  # ... and reported


def test_report_observations_and_study_link() -> None:
    mapped = fhir.from_v2(capstone.ORU_R01, timezone=TZ)
    order, report, *observations = mapped[1:]
    assert order.status == "completed"  # ORC-5 CM
    assert report.status == "final" and report.basedOn[0].reference == f"urn:uuid:{order.id}"
    assert [o.valueString for o in observations] == [
        "FINDINGS: Lungs are clear.",
        "IMPRESSION: Normal CT chest.",
    ]
    assert [r.reference for r in report.result] == [f"urn:uuid:{o.id}" for o in observations]
    assert observations[0].code.coding[0].system == "http://loinc.org"
    assert report.imagingStudy[0].identifier.value == f"urn:oid:{capstone.STUDY_UID}"
    assert report.resultsInterpreter[0].display == "Dr HELENA VANCE"


def test_the_same_patient_and_order_get_the_same_ids_from_every_message() -> None:
    adt, orm, oru = (
        fhir.from_v2(m) for m in (capstone.ADT_A04, capstone.ORM_O01, capstone.ORU_R01)
    )
    assert adt[0].id == orm[0].id == oru[0].id
    assert orm[2].id == oru[1].id


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (_swap(capstone.ADT_A04, "||19670412|F|", "||19670412|X|"), "PID-8", "table 0001"),
        (_swap(capstone.ADT_A04, "||19670412|", "||19671342|"), "PID-7", "no such calendar"),
        (_swap(capstone.ADT_A04, "||19670412|", "||1967-04-12|"), "PID-7", "not an HL7 date"),
        (_swap(capstone.ADT_A04, "||MLB-100234^^^MEDLAB^MR||", "||||"), "PID-3.1", "empty"),
        (_swap(capstone.ADT_A04, "PV1|1|O|", "PV1|1||"), "PV1-2.1", "patient class"),
        (_swap(capstone.ORU_R01, "||CT|F|", "||CT||"), "OBR-25", "result status"),
        (_swap(capstone.ORU_R01, "||||||F\rOBX|2", "||||||\rOBX|2"), "OBX-11", "status"),
        (
            _swap(capstone.ORU_R01, "OBX|1|TX|", "OBX|1|NM|"),
            "OBX-5",
            "NM",
        ),
        (samples.ADT_A02_V23, "MSH-9", "no map for ADT^A02"),
        (None, "MSH-9", "no map for ACK^A04"),
        (
            "\r".join(s for s in capstone.ADT_A04.split("\r") if not s.startswith("PID")),
            "PID",
            "no PID segment",
        ),
    ],
)
def test_bad_input_names_the_segment_and_field(text: str | None, where: str, words: str) -> None:
    if text is None:  # an acknowledgement is not data to map
        import medlab.hl7

        text = medlab.hl7.er7(medlab.hl7.ack(capstone.ADT_A04, "AA"))
    with pytest.raises(MedlabError) as caught:
        fhir.from_v2(text)
    assert caught.value.where == where
    assert words.casefold() in str(caught.value).casefold()


@pytest.mark.parametrize("junk", [None, 42, "hello"])
def test_what_is_not_a_message_is_refused(junk: object) -> None:
    with pytest.raises(MedlabError):
        fhir.from_v2(junk)


def test_bad_timezone_is_refused() -> None:
    with pytest.raises(MedlabError) as caught:
        fhir.from_v2(capstone.ADT_A04, timezone="EST")
    assert caught.value.where == "timezone"


# --------------------------------------------------------------------------- PACS, Bundle
@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory):
    with capstone.Hospital(root=tmp_path_factory.mktemp("hospital")) as h:
        result = capstone.run_exam(h)
        assert result.stopped_at is None, repr(result)
        yield h


def test_imaging_study_from_the_pacs_index(hospital) -> None:
    study = fhir.imaging_study(hospital.pacs, capstone.STUDY_UID)
    back = model("ImagingStudy").model_validate_json(study.model_dump_json())
    assert back == study
    series = hospital.pacs.series(capstone.STUDY_UID)
    assert study.numberOfSeries == len(series) == len(study.series)
    assert study.numberOfInstances == 4 == study.series[0].numberOfInstances
    assert len(study.series[0].instance) == 4
    assert study.series[0].uid == series[0]["SeriesInstanceUID"]
    assert study.series[0].modality.code == "CT"
    assert study.identifier[0].value == f"urn:oid:{capstone.STUDY_UID}"
    assert study.basedOn[0].identifier.value == capstone.ACCESSION
    sop = study.series[0].instance[0].uid
    assert hospital.pacs.file_of(sop) is not None  # the instances are the PACS's own


def test_imaging_study_points_to_the_pacs_own_dicomweb(hospital) -> None:
    """The bundled PACS serves DICOMweb: the endpoint's base URL really finds the study (QIDO-RS)."""
    study = fhir.imaging_study(hospital.pacs, capstone.STUDY_UID)
    endpoint = study.contained[0]
    assert study.endpoint[0].reference == "#dicomweb"
    assert endpoint.connectionType.code == "dicom-wado-rs"
    assert endpoint.address == hospital.pacs.dicomweb_url is not None
    query = f"{endpoint.address}/studies?StudyInstanceUID={capstone.STUDY_UID}"
    with urllib.request.urlopen(query, timeout=60) as answer:
        found = json.loads(answer.read())
    assert [s["0020000D"]["Value"][0] for s in found] == [capstone.STUDY_UID]


def test_imaging_study_without_dicomweb_has_no_endpoint(hospital) -> None:
    pacs = hospital.pacs  # the same index, as a DIMSE-only archive would offer it
    dimse_only = types.SimpleNamespace(
        studies=pacs.studies, series=pacs.series, root=pacs.root, dicomweb_url=None
    )
    study = fhir.imaging_study(dimse_only, capstone.STUDY_UID)
    assert study.endpoint is None and study.contained is None


def test_imaging_study_of_an_unknown_study(hospital) -> None:
    with pytest.raises(MedlabError) as caught:
        fhir.imaging_study(hospital.pacs, "1.2.3.4")
    assert "no study 1.2.3.4" in str(caught.value)


def _exam_bundle(hospital) -> tuple[object, list]:
    messages = (capstone.ADT_A04, capstone.ORM_O01, capstone.ORU_R01)
    mapped = [fhir.from_v2(m, timezone=TZ) for m in messages]
    study = fhir.imaging_study(hospital.pacs, capstone.STUDY_UID)
    return fhir.bundle([*mapped, study]), mapped


def test_transaction_bundle_of_the_whole_exam(hospital) -> None:
    bundle, mapped = _exam_bundle(hospital)
    assert model("Bundle").model_validate_json(bundle.model_dump_json()) == bundle
    assert bundle.type == "transaction"
    kinds = [e.resource.__resource_type__ for e in bundle.entry]
    assert kinds == [
        "Patient",
        "Encounter",
        "ServiceRequest",
        "DiagnosticReport",
        "Observation",
        "Observation",
        "ImagingStudy",
    ]
    urls = {e.fullUrl for e in bundle.entry}
    assert len(urls) == len(bundle.entry)
    data = json.loads(bundle.model_dump_json(exclude_none=True))
    refs = evaluate(data, "Bundle.entry.resource.descendants().reference", model=models["r4"])
    # every reference resolves inside the Bundle ("#..." points into the resource's own contained)
    assert refs and all(r in urls for r in refs if not r.startswith("#"))
    study = next(e.resource for e in bundle.entry if e.resource.__resource_type__ == "ImagingStudy")
    patient, order = mapped[0][0], mapped[1][2]
    assert study.subject.reference == f"urn:uuid:{patient.id}"
    assert study.basedOn[0].reference == f"urn:uuid:{order.id}"
    report = next(
        e.resource for e in bundle.entry if e.resource.__resource_type__ == "DiagnosticReport"
    )
    assert report.imagingStudy[0].reference == f"urn:uuid:{study.id}"
    order_entry = next(e for e in bundle.entry if e.resource.__resource_type__ == "ServiceRequest")
    assert order_entry.resource.status == "completed"  # the ORU's later state of the order
    # what only the ORM said is kept: when it was ordered, in which visit
    assert order_entry.resource.authoredOn.isoformat() == "2026-06-01T08:20:00-04:00"
    assert order_entry.resource.encounter.reference == f"urn:uuid:{mapped[1][1].id}"
    # occurrence[x] is one element: the ORU's occurrenceDateTime replaced the ORM's timing
    assert order_entry.resource.occurrenceTiming is None
    assert order_entry.resource.occurrenceDateTime is not None
    assert order_entry.request.method == "POST"
    assert order_entry.request.ifNoneExist == "identifier=PO-90412"


def test_fhirpath_queries_over_the_exam_bundle(hospital) -> None:
    bundle, mapped = _exam_bundle(hospital)
    data = json.loads(bundle.model_dump_json(exclude_none=True))
    patient = f"urn:uuid:{mapped[0][0].id}"
    accessions = evaluate(
        data,
        "Bundle.entry.resource.ofType(ServiceRequest).where(subject.reference = %patient)"
        ".identifier.where(type.coding.code = 'ACSN').value",
        {"patient": patient},
        model=models["r4"],
    )
    assert accessions == [capstone.ACCESSION]
    impression = evaluate(
        data,
        "Bundle.entry.resource.ofType(Observation).where(code.coding.code = '19005-8').value",
        model=models["r4"],
    )
    assert impression == ["IMPRESSION: Normal CT chest."]
    instances = evaluate(data, "Bundle.entry.resource.ofType(ImagingStudy).numberOfInstances")
    assert instances == [4]


def test_bundle_of_one_message_keeps_outside_references_logical() -> None:
    bundle = fhir.bundle(fhir.from_v2(capstone.ORU_R01))
    report = next(
        e.resource for e in bundle.entry if e.resource.__resource_type__ == "DiagnosticReport"
    )
    assert report.imagingStudy[0].reference is None
    assert report.imagingStudy[0].identifier.value == f"urn:oid:{capstone.STUDY_UID}"


def test_bundle_refuses_what_is_not_a_resource_and_dangling_references() -> None:
    with pytest.raises(MedlabError):
        fhir.bundle(["Patient"])
    encounter = fhir.from_v2(capstone.ADT_A04)[1]  # its Patient is not bundled
    with pytest.raises(MedlabError) as caught:
        fhir.bundle([encounter])
    assert "no entry in the Bundle" in str(caught.value)


def test_import_medlab_fhir_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, medlab.fhir; print('fhir.resources' in sys.modules, 'hl7apy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
