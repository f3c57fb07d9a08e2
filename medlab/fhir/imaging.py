"""The PACS's index of one study as a FHIR ImagingStudy.

An ImagingStudy is the FHIR summary of a DICOM study (FHIR R4 ImagingStudy;
the DICOM hierarchy of lesson 04): the Study Instance UID as an identifier
(``urn:oid:``), then each series (its UID, modality as a DICOM DCM code, number
of instances) and each instance (SOP Instance UID, SOP Class as a coding). The
accession number links it to the order: ``basedOn`` the ServiceRequest whose
identifier of type ACSN carries it (the id is the one :func:`medlab.fhir.from_v2`
gives that order's study, so a Bundle resolves it) and an identifier of type
ACSN, as the FHIR ImagingStudy notes recommend. A viewer or an AI service reads
``endpoint``: the PACS's DICOMweb (WADO-RS) base URL when it serves one; when it
does not, the ImagingStudy has no endpoint, and says where the images are only
by UID.
"""

from __future__ import annotations

from typing import Any

from medlab.errors import MedlabError
from medlab.fhir._datatypes import reference, resource_id
from medlab.fhir.tables import V2_0203

DCM = "http://dicom.nema.org/resources/ontology/DCM"
SOP_CLASSES = "urn:ietf:rfc:3986"


def imaging_study(pacs: Any, study_instance_uid: str) -> Any:
    """Return the ImagingStudy (fhir.resources R4B) of one study the PACS holds.

    ``pacs`` is a :class:`medlab.net.PACS` (its ``studies()``, ``series()`` and
    index under ``root`` are read); raises MedlabError when it holds no such study.
    """
    from medlab.fhir.v2 import model
    from medlab.net.store import Store

    study = next((s for s in pacs.studies() if s["StudyInstanceUID"] == study_instance_uid), None)
    if study is None:
        raise MedlabError(
            f"The PACS holds no study {study_instance_uid}",
            where=str(pacs.root),
            fix="pacs.studies() lists the Study Instance UIDs it holds.",
        )
    store = Store(pacs.root)
    try:
        rows = store.query(
            "SELECT series_uid, sop_uid, sop_class, instance_number, accession, patient_id "
            "FROM instances WHERE study_uid=? ORDER BY series_number, instance_number, sop_uid",
            (study_instance_uid,),
        )
    finally:
        store.close()
    accession = next((row[4] for row in rows if row[4]), "")
    series = []
    for s in pacs.series(study_instance_uid):
        mine = [row for row in rows if row[0] == s["SeriesInstanceUID"]]
        entry: dict[str, Any] = {
            "uid": s["SeriesInstanceUID"],
            "modality": {"system": DCM, "code": s["Modality"] or "OT"},
            "numberOfInstances": len(mine),
            "instance": [
                {
                    "uid": sop,
                    "sopClass": {"system": SOP_CLASSES, "code": f"urn:oid:{sop_class}"},
                    **({"number": int(number)} if number is not None else {}),
                }
                for _, sop, sop_class, number, _, _ in mine
            ],
        }
        if s.get("SeriesNumber") is not None:
            entry["number"] = int(s["SeriesNumber"])
        if s.get("SeriesDescription"):
            entry["description"] = s["SeriesDescription"]
        series.append(entry)
    resource: dict[str, Any] = {
        "resourceType": "ImagingStudy",
        "id": resource_id("ImagingStudy", study_instance_uid),
        "status": "available",
        "identifier": [{"system": "urn:dicom:uid", "value": f"urn:oid:{study_instance_uid}"}],
        "modality": [{"system": DCM, "code": m} for m in (study["Modalities"] or "OT").split(",")],
        "subject": {"type": "Patient", "identifier": {"value": study["PatientID"]}},
        "numberOfSeries": len(series),
        "numberOfInstances": sum(s["numberOfInstances"] for s in series),
        "series": series,
    }
    if study.get("StudyDescription"):
        resource["description"] = study["StudyDescription"]
    if study.get("StudyDate"):
        d = study["StudyDate"]
        resource["started"] = f"{d[:4]}-{d[4:6]}-{d[6:8]}"
    if accession:
        acsn = {"type": {"coding": [{"system": V2_0203, "code": "ACSN"}]}, "value": accession}
        resource["identifier"].append(acsn)
        resource["basedOn"] = [{"type": "ServiceRequest", "identifier": acsn}]
    url = getattr(pacs, "dicomweb_url", None)
    if url:
        resource["contained"] = [
            {
                "resourceType": "Endpoint",
                "id": "dicomweb",
                "status": "active",
                "connectionType": {
                    "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                    "code": "dicom-wado-rs",
                },
                "payloadType": [{"text": "DICOM"}],
                "payloadMimeType": ["application/dicom"],
                "address": str(url),
            }
        ]
        resource["endpoint"] = [{"reference": "#dicomweb"}]
    return model("ImagingStudy").model_validate(resource)


def link_patient(study: Any, patient: Any) -> Any:
    """``study`` with its subject pointing at ``patient`` (a Patient from :func:`from_v2`)."""
    data = study.model_dump(mode="json", exclude_none=True)
    data["subject"] = reference("Patient", patient.id)
    return type(study).model_validate(data)
