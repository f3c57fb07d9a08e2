"""The query-builder widget sends real C-FINDs; the lesson 08/09 client helpers against the PACS."""

from __future__ import annotations

import pytest

from medlab.errors import MedlabError
from medlab.net import scu


@pytest.fixture(scope="module")
def pacs(tmp_path_factory):
    from medlab.data import study

    receiver = scu.start_receiver("RECEIVER", root=tmp_path_factory.mktemp("receiver"))
    pacs = scu.start_pacs(
        root=tmp_path_factory.mktemp("pacs"), peers={"RECEIVER": (receiver.host, receiver.port)}
    )
    report = scu.store([study("ct_phantom"), study("mr_phantom")], pacs)
    assert len(report.succeeded) == 28
    pacs.receiver = receiver
    yield pacs
    ports = (pacs.port, receiver.port)
    pacs.stop()
    receiver.stop()
    assert not any(scu.port_is_listening(p) for p in ports), "a server left its port open"


def test_builder_queries_at_the_chosen_level(pacs):
    from medlab.widgets import query_builder

    builder = query_builder(pacs)
    builder.fields["PatientName"].value = "ABER*"
    result = builder.run()
    assert len(result) == 1 and result[0].StudyDescription == "CT CHEST WITHOUT CONTRAST"
    assert "query #1 done: 1 match(es)" in builder.status.value
    assert "PatientName = ABER*" in builder.identifier.value
    assert "StudyDate = (empty: return key)" in builder.identifier.value
    assert "CT CHEST WITHOUT CONTRAST" in builder.table.value
    builder.fields["PatientName"].value = ""
    builder.fields["StudyDate"].value = "20260401-20260430"
    assert builder.run().column("PatientID") == ["MLB-100587"]
    builder.fields["StudyDate"].value = ""
    builder.level.value = "SERIES"
    builder.fields["StudyInstanceUID"].value = str(result[0].StudyInstanceUID)
    builder.button.click()
    assert builder.result.column("SeriesNumber") == ["1", "2"]
    assert builder.keys() == {"StudyInstanceUID": str(result[0].StudyInstanceUID)}
    assert repr(builder) == "QueryBuilder(target MEDLAB, level SERIES)"


def test_a_field_that_is_not_a_key_at_the_level_is_flagged_and_never_dropped(pacs):
    """Issue 14: PatientID=MLB-1005?? at SERIES level returned another patient's series."""
    from medlab.widgets import query_builder

    builder = query_builder(pacs)
    patient_id = builder.fields["PatientID"]
    assert not patient_id.disabled and patient_id.placeholder == "(any)"
    builder.level.value = "SERIES"
    assert patient_id.disabled and patient_id.placeholder == "(not a key at SERIES level)"
    assert not builder.fields["StudyInstanceUID"].disabled
    builder.level.value = "STUDY"
    patient_id.value = "MLB-1005??"
    builder.level.value = "SERIES"
    assert not patient_id.disabled, "a filled-in field stays editable, so it can be cleared"
    assert "medlab-not-a-key" in patient_id._dom_classes
    assert "not sent: Patient ID is not a key of a SERIES query" in builder.status.value
    before = len(pacs.events)
    builder.button.click()
    assert builder.result is None and len(pacs.events) == before, "nothing may be sent"
    assert "query #1 not sent: Patient ID" in builder.status.value
    assert "PS3.4 C.4.1.2.1" in builder.status.value and "Study UID" in builder.status.value
    patient_id.value = ""
    assert patient_id.disabled and "medlab-not-a-key" not in patient_id._dom_classes
    study = scu.find(pacs, "STUDY", PatientID="MLB-1005??")[0].StudyInstanceUID
    builder.fields["StudyInstanceUID"].value = str(study)
    assert builder.run().column("Modality") == ["MR"]  # only that patient's series
    assert "PatientID" not in builder.identifier.value


def test_builder_reports_an_unreachable_target():
    from medlab.settings import PacsTarget
    from medlab.widgets import query_builder

    builder = query_builder(PacsTarget("MEDLAB", "127.0.0.1", scu.unused_port(), bundled=False))
    assert builder.run() is None
    assert (
        "query #1 done: failed" in builder.status.value
        and "nobody is listening" in builder.table.value
    )


def test_find_at_every_level_with_wildcards_and_ranges(pacs):
    patients = scu.find(pacs, "PATIENT")
    assert patients.column("PatientID") == ["MLB-100234", "MLB-100587"]
    assert scu.find(pacs, "STUDY", StudyDate="20260301-20260331").column("AccessionNumber") == [
        "A26031401"
    ]
    study_uid = scu.find(pacs, "STUDY", PatientID="MLB-1005??")[0].StudyInstanceUID
    series = scu.find(pacs, "SERIES", StudyInstanceUID=study_uid)
    assert series.column("Modality") == ["MR"]
    images = scu.find(
        pacs, "IMAGE", StudyInstanceUID=study_uid, SeriesInstanceUID=series[0].SeriesInstanceUID
    )
    assert len(images) == 8 and images.status == 0x0000
    assert "8 IMAGE match(es)" in repr(images) and "<table" in images._repr_html_()
    with pytest.raises(MedlabError):
        scu.find(pacs, "ROOM")


def test_get_move_and_commit(pacs, tmp_path):
    study_uid = scu.find(pacs, "STUDY", PatientID="MLB-100234")[0].StudyInstanceUID
    got = scu.get(pacs, "STUDY", folder=tmp_path, StudyInstanceUID=study_uid)
    assert (got.status, got.completed, len(got.files)) == (0, 20, 20)
    from pydicom import dcmread

    assert dcmread(got.files[0]).StudyInstanceUID == study_uid
    refs = [(str(dcmread(p).SOPClassUID), str(dcmread(p).SOPInstanceUID)) for p in got.files[:3]]
    committed = scu.commit(refs + [("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4")], pacs)
    assert (
        committed.event_type == 2 and len(committed.committed) == 3 and len(committed.failed) == 1
    )
    assert not committed.all_committed and "2 = some failed" in repr(committed)


def test_modality_day_helpers(pacs):
    from pynetdicom import AE
    from pynetdicom.sop_class import ModalityPerformedProcedureStep as MPPS
    from pynetdicom.sop_class import ModalityWorklistInformationFind as MWL

    pacs.schedule(
        PatientName="DOE^JANE",
        PatientID="P9",
        AccessionNumber="ACC9",
        Modality="CT",
        ScheduledStationAETitle="CT09",
        ScheduledProcedureStepStartDate="20260601",
    )
    ae = AE(ae_title="CT09")
    ae.add_requested_context(MWL)
    ae.add_requested_context(MPPS)
    assoc = ae.associate(pacs.host, pacs.port, ae_title=pacs.aet)
    items = [ds for _s, ds in assoc.send_c_find(scu.worklist_query("CT09", "20260601"), MWL) if ds]
    assert [str(i.PatientName) for i in items] == ["DOE^JANE"]
    images = scu.acquire(items[0], count=2, station="CT09")
    assert {str(i.StudyInstanceUID) for i in images} == {str(items[0].StudyInstanceUID)}
    assert (
        images[0].AccessionNumber == "ACC9"
        and images[0].RequestAttributesSequence[0].ScheduledProcedureStepID
    )
    uid = "2.25.1234567"
    status, _ = assoc.send_n_create(scu.mpps_in_progress(items[0], station="CT09"), MPPS, uid)
    assert status.Status == 0
    assert scu.store(images, pacs, calling="CT09").succeeded
    status, _ = assoc.send_n_set(scu.mpps_completed(images), MPPS, uid)
    assert status.Status == 0
    done = pacs.mpps(uid)
    assert done.PerformedProcedureStepStatus == "COMPLETED"
    assert len(done.PerformedSeriesSequence[0].ReferencedImageSequence) == 2
    assoc.release()


def test_echo_and_store_errors(pacs, tmp_path):
    assert scu.echo(pacs) == 0
    wrong = scu.RemotePACS("NOBODY", pacs.host, pacs.port)
    with pytest.raises(MedlabError, match="called-AE-title-not-recognized"):
        scu.echo(wrong)
    bad = tmp_path / "bad.dcm"
    bad.write_text("not dicom")
    with pytest.raises(MedlabError, match="Not a readable DICOM file"):
        scu.store(bad, pacs)
