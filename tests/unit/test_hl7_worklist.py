"""Order to images: an ORM/OMI received by the MLLP listener becomes a worklist item
in the bundled PACS, which a modality finds with a real Modality Worklist C-FIND."""

from __future__ import annotations

import medlab.hl7 as hl7
import medlab.net as net
from medlab.hl7 import orders, samples


def worklist_find(port, aet, station, **top):
    from pydicom import Dataset
    from pynetdicom import AE
    from pynetdicom.sop_class import ModalityWorklistInformationFind

    ae = AE(ae_title=station)
    ae.add_requested_context(ModalityWorklistInformationFind)
    assoc = ae.associate("127.0.0.1", port, ae_title=aet)
    assert assoc.is_established
    query = Dataset()
    for keyword in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "AccessionNumber",
        "StudyInstanceUID",
        "RequestedProcedureID",
        "RequestedProcedureDescription",
    ):
        setattr(query, keyword, top.get(keyword, ""))
    sps = Dataset()
    sps.ScheduledStationAETitle = station
    sps.Modality = ""
    sps.ScheduledProcedureStepStartDate = ""
    sps.ScheduledProcedureStepStartTime = ""
    sps.ScheduledProcedureStepID = ""
    query.ScheduledProcedureStepSequence = [sps]
    found = []
    try:
        for status, identifier in assoc.send_c_find(query, ModalityWorklistInformationFind):
            assert status is not None and status.Status in (0xFF00, 0xFF01, 0x0000)
            if identifier is not None:
                found.append(identifier)
    finally:
        assoc.release()
    return found


def test_orders_through_the_listener_are_found_by_a_worklist_c_find(medlab_home):
    with net.PACS(port=0) as pacs:
        handler = orders.order_handler(pacs, station_aet="CT01")
        with hl7.Listener(port=0, on_message=handler) as listener:
            for text in (samples.ORM_O01, samples.OMI_O23, samples.ADT_A01):
                assert hl7.send(listener.host, listener.port, text).msa.msa_1.to_er7() == "AA"
        found = worklist_find(pacs.port, pacs.aet, "CT01")
        assert sorted(i.AccessionNumber for i in found) == ["ACC20240001", "ACC20240002"]
        item = next(i for i in found if i.AccessionNumber == "ACC20240001")
        expected = hl7.order_to_worklist(samples.ORM_O01)
        for keyword in (
            "PatientName",
            "PatientID",
            "PatientBirthDate",
            "PatientSex",
            "StudyInstanceUID",
            "RequestedProcedureID",
            "RequestedProcedureDescription",
        ):
            assert item[keyword].value == expected[keyword].value, keyword
        sps = item.ScheduledProcedureStepSequence[0]
        assert (sps.Modality, sps.ScheduledProcedureStepID) == ("CT", "SPS0001")
        assert sps.ScheduledProcedureStepStartDate == "20240312"
        # another station's worklist does not show them; a key narrows the match
        assert worklist_find(pacs.port, pacs.aet, "MR01") == []
        narrowed = worklist_find(pacs.port, pacs.aet, "CT01", AccessionNumber="ACC20240002")
        assert [i.PatientID for i in narrowed] == ["PAT0042"]


def test_a_bad_order_is_answered_ae_and_nothing_is_scheduled(medlab_home):
    bad = samples.ORM_O01.replace("|ACC20240001|", "||")
    with net.PACS(port=0) as pacs:
        with hl7.Listener(port=0, on_message=orders.order_handler(pacs)) as listener:
            reply = hl7.send(listener.host, listener.port, bad)
        assert reply.msa.msa_1.to_er7() == "AE"
        assert "OBR^1^18" in hl7.er7(reply) and "accession" in hl7.er7(reply)
        assert pacs.worklist() == []
