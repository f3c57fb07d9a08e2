"""Every SCU helper ends a failed association in a MedlabError (what, where, fix), never raw.

Refused (nobody listening, or a PACS a cell has stopped), timed out, rejected (reason
decoded from PS3.8 §9.3.4) and aborted associations; statuses named where printed.
"""

from __future__ import annotations

import pytest

from medlab.errors import MedlabError
from medlab.net import scu
from medlab.net.scu import association


@pytest.fixture()
def pacs(tmp_path):
    pacs = scu.start_pacs(root=tmp_path / "pacs")
    yield pacs
    pacs.stop()


def _calls(tmp_path):
    """Each helper that opens an association, called on a target."""
    from medlab.net.samples import make_instance

    return {
        "echo": lambda t: scu.echo(t),
        "store": lambda t: scu.store([make_instance(1, 1, 1, 1)], t),
        "find": lambda t: scu.find(t, "STUDY"),
        "get": lambda t: scu.get(t, "STUDY", folder=tmp_path / "got", StudyInstanceUID="1.2.3"),
        "commit": lambda t: scu.commit([("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4")], t),
    }


@pytest.mark.parametrize("helper", ["echo", "store", "find", "get", "commit"])
def test_a_stopped_pacs_is_named_as_stopped(helper, tmp_path):
    pacs = scu.start_pacs(root=tmp_path / "pacs")
    pacs.stop()
    with pytest.raises(MedlabError) as caught:
        _calls(tmp_path)[helper](pacs)
    err = caught.value
    assert "stopped" in err.what and "Is the PACS running?" in err.fix
    assert err.where == f"127.0.0.1:{pacs.port}, called AE MEDLAB, calling AE TRAINEE"


@pytest.mark.parametrize("helper", ["echo", "store", "find", "get", "commit"])
def test_nobody_listening_is_a_refused_connection(helper, tmp_path):
    port = scu.unused_port()
    with pytest.raises(MedlabError) as caught:
        _calls(tmp_path)[helper](scu.RemotePACS("ARCHIVE", "127.0.0.1", port))
    err = caught.value
    assert err.what.startswith("Connection refused: nobody is listening")
    assert err.where == f"127.0.0.1:{port}, called AE ARCHIVE, calling AE TRAINEE"
    assert "Start the server" in err.fix


def test_a_rejected_association_gives_the_decoded_reason(pacs, tmp_path):
    wrong = scu.RemotePACS("NOBODY", pacs.host, pacs.port)
    for helper in _calls(tmp_path).values():
        with pytest.raises(MedlabError) as caught:
            helper(wrong)
        err = caught.value
        assert err.what == (
            "Association rejected (A-ASSOCIATE-RJ, rejected-permanent, service-user): "
            "called-AE-title-not-recognized"
        )
        assert "called AE NOBODY" in err.where and "AE title exactly" in err.fix


def test_no_answer_is_a_timeout(monkeypatch):
    from medlab.net.testing import SilentPeer

    monkeypatch.setattr(association, "ACSE_TIMEOUT", 0.5)
    with SilentPeer() as silent, pytest.raises(MedlabError) as caught:
        scu.echo(silent)
    err = caught.value
    assert err.what.startswith("Timeout: the connection opened, but no answer came")
    assert err.where == f"127.0.0.1:{silent.port}, called AE SILENT, calling AE TRAINEE"
    assert "acse_timeout" in err.fix


def test_an_association_aborted_on_the_way_is_an_error_not_a_short_result():
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import Verification

    def abort(event):
        event.assoc.abort()
        return 0x0000

    ae = AE(ae_title="ABORTER")
    ae.add_supported_context(Verification)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_ECHO, abort)])
    try:
        port = server.server_address[1]
        with pytest.raises(MedlabError) as caught:
            scu.echo(scu.RemotePACS("ABORTER", "127.0.0.1", port))
    finally:
        server.shutdown()
    err = caught.value
    assert err.what.startswith("The association was aborted during the C-ECHO")
    assert err.where == f"127.0.0.1:{port}, called AE ABORTER, calling AE TRAINEE"


def test_statuses_are_named_from_one_table():
    from medlab.net.events import status_text

    assert status_text(0x0111) == "0x0111 Duplicate SOP Instance"
    assert status_text(0xA700) == "0xA700 Out of resources"
    assert status_text(0xC000, "C-STORE-RSP") == "0xC000 Cannot Understand"
    assert status_text(0xC000, "C-FIND") == "0xC000 Unable to Process"
    assert status_text(0x0124) == "0x0124 Refused: Not Authorised"
    report = scu.StoreReport({"1.2.3": 0x0000, "1.2.4": 0xA700}, {})
    assert repr(report) == "StoreReport(2 sent, 1 stored, 1 failed: 0xA700 Out of resources)"


def test_a_repeated_n_create_is_explained(pacs):
    """Re-running lesson 09's N-CREATE cell: 0x0111, named and explained."""
    from pynetdicom.sop_class import ModalityPerformedProcedureStep as MPPS

    from medlab.net import explain

    pacs.schedule(
        PatientName="DOE^JANE",
        PatientID="P9",
        AccessionNumber="ACC9",
        Modality="CT",
        ScheduledStationAETitle="CT09",
        ScheduledProcedureStepStartDate="20260601",
    )
    item = pacs.worklist()[0]
    ae = scu.new_ae("CT09")
    ae.add_requested_context(MPPS)
    with scu.Association(scu.associate(ae, pacs)) as assoc:
        first, _ = assoc.send_n_create(scu.mpps_in_progress(item), MPPS, "2.25.99")
        again, _ = assoc.send_n_create(scu.mpps_in_progress(item), MPPS, "2.25.99")
    assert str(explain(first)).startswith("[ok] 0x0000 Success")
    text = str(explain(again))
    assert text.startswith("[failure] Status 0x0111 Duplicate SOP Instance")
    assert "already exists" in text and "N-SET" in text and "new procedure step" in text


def test_explanations_do_not_blame_artim_for_the_requestors_wait():
    from medlab.net.explanations import _timeout

    ref = _timeout().reference
    assert "ARTIM" not in ref and "acse_timeout" in ref and "§9.2" in ref


def test_scheduling_the_same_procedure_again_does_not_list_it_twice(pacs):
    """Re-running lesson 09's scheduling cell leaves three items, with the same IDs."""
    day = dict(ScheduledProcedureStepStartDate="20260601", ScheduledStationAETitle="CT01")
    for _run in range(2):
        ids = [
            pacs.schedule(
                PatientID="P1",
                AccessionNumber="A1",
                Modality="CT",
                ScheduledProcedureStepStartTime="090000",
                **day,
            ),
            pacs.schedule(
                PatientID="P2",
                AccessionNumber="A2",
                Modality="CT",
                ScheduledProcedureStepStartTime="110000",
                **day,
            ),
        ]
        assert ids == ["SPS0001", "SPS0002"]
    # another time (or another accession) is another procedure
    assert (
        pacs.schedule(
            PatientID="P1",
            AccessionNumber="A1",
            Modality="CT",
            ScheduledProcedureStepStartTime="140000",
            **day,
        )
        == "SPS0003"
    )
    assert [i.AccessionNumber for i in pacs.worklist()] == ["A1", "A2", "A1"]


def test_the_conformance_statement_names_the_port_it_really_listens_on(pacs):
    """Lesson 10 once showed 'Listens on 127.0.0.1:0': the configured, not the bound, port."""
    import json
    from pathlib import Path

    assert pacs.config.port == 0 and pacs.port > 0
    assert f"Listens on .......... 127.0.0.1:{pacs.port}\n" in pacs.conformance()
    lesson = Path(__file__).resolve().parents[2] / "notebooks" / "10_conformance.ipynb"
    outputs = json.dumps(json.loads(lesson.read_text())["cells"])
    assert "Listens on .......... 127.0.0.1:" in outputs
    assert "127.0.0.1:0\\n" not in outputs and "127.0.0.1:0 " not in outputs
