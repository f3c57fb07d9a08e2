"""The documented ORM/OMI -> Modality Worklist mapping (medlab.hl7.orders)."""

from __future__ import annotations

import pytest

import medlab.hl7 as hl7
from medlab.errors import MedlabError
from medlab.hl7 import orders, samples


def test_orm_maps_every_documented_attribute():
    ds = hl7.order_to_worklist(samples.ORM_O01, station_aet="CT_ROOM1")
    assert ds.PatientName == "DOE^JANE^Q"
    assert (ds.PatientID, ds.IssuerOfPatientID) == ("PAT0042", "GENHOSP")
    assert (ds.PatientBirthDate, ds.PatientSex) == ("19750312", "F")
    assert ds.AccessionNumber == "ACC20240001"  # OBR-18
    assert ds.RequestedProcedureID == "RP0001"  # OBR-19
    assert ds.StudyInstanceUID == "1.2.826.0.1.3680043.8.498.10.20240312"  # ZDS-1
    assert ds.RequestedProcedureDescription == "CT chest with contrast"
    code = ds.RequestedProcedureCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("CTCHEST", "L")
    assert ds.ReferringPhysicianName == "WELBY^MARCUS^^DR"  # XCN prefix -> PN prefix
    assert ds.ReasonForTheRequestedProcedure == "Suspected pulmonary embolism"
    assert ds.PlacerOrderNumberImagingServiceRequest == "PLC0001"
    assert ds.AdmissionID == "V000777"
    sps = ds.ScheduledProcedureStepSequence[0]
    assert sps.Modality == "CT" and sps.ScheduledStationAETitle == "CT_ROOM1"
    assert (sps.ScheduledProcedureStepStartDate, sps.ScheduledProcedureStepStartTime) == (
        "20240312",
        "110000",
    )
    assert sps.ScheduledProcedureStepID == "SPS0001"
    assert sps.ScheduledPerformingPhysicianName == "RAY^TESSA"
    assert sps.ScheduledProcedureStepStatus == "SCHEDULED"
    # every mapped attribute is a real DICOM keyword
    from pydicom.datadict import tag_for_keyword

    for keyword, *_ in orders.WORKLIST_MAPPING:
        for part in keyword.replace("/Time", "").split("/"):
            assert tag_for_keyword(part), part


def test_omi_uses_ipc_and_tq1():
    ds = hl7.order_to_worklist(samples.OMI_O23)
    assert (ds.AccessionNumber, ds.RequestedProcedureID) == ("ACC20240002", "RP0002")
    assert ds.StudyInstanceUID.endswith(".2")
    sps = ds.ScheduledProcedureStepSequence[0]
    assert (sps.ScheduledProcedureStepID, sps.ScheduledProcedureStepStartTime) == (
        "SPS0002",
        "113000",
    )


def test_person_names_swap_prefix_and_suffix():
    text = samples.ORM_O01.replace("DOE^JANE^Q", "DOE^JANE^Q^JR^DR")
    assert hl7.order_to_worklist(text).PatientName == "DOE^JANE^Q^DR^JR"


def test_without_zds_the_study_uid_is_derived_reproducibly():
    text = "\r".join(s for s in samples.ORM_O01.split("\r") if not s.startswith("ZDS"))
    first, second = hl7.order_to_worklist(text), hl7.order_to_worklist(text)
    assert first.StudyInstanceUID == second.StudyInstanceUID
    assert first.StudyInstanceUID.startswith("2.25.")


@pytest.mark.parametrize(
    "text, where",
    [
        (samples.ADT_A01, "MSH-9"),
        (samples.ORM_O01.replace("ORC|NW|", "ORC|CA|"), "ORC-1"),
        (samples.ORM_O01.replace("|ACC20240001|", "||"), "OBR-18"),
    ],
)
def test_what_cannot_become_a_worklist_item_is_explained(text, where):
    with pytest.raises(MedlabError) as info:
        hl7.order_to_worklist(text)
    assert info.value.where == where


class FakePACS:
    def __init__(self):
        self.items = []

    def schedule(self, ds):
        self.items.append(ds)


def test_schedule_order_and_the_listener_handler():
    pacs = FakePACS()
    item = hl7.schedule_order(pacs, samples.ORM_O01)
    assert pacs.items == [item]
    handler = orders.order_handler(pacs)
    handler(hl7.parse(samples.ADT_A01))  # not an order: left alone
    handler(hl7.parse(samples.OMI_O23))
    assert [i.AccessionNumber for i in pacs.items] == ["ACC20240001", "ACC20240002"]
    assert "OBR-18" in orders.mapping_table()
