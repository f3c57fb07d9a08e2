"""The PACS end to end with pynetdicom as the client (DCMTK: tests/interop/test_dcmtk_pacs.py)."""

from __future__ import annotations

import socket
import struct
import threading
import time
import warnings
from pathlib import Path

import pydicom
import pytest
import support
from pydicom import Dataset
from pynetdicom import AE, build_role, evt
from pynetdicom.sop_class import (
    CTImageStorage,
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StorageCommitmentPushModel,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)
from support import same_dataset, wait_for

from medlab.net import PACS, PACSConfig
from medlab.net import events as ev
from medlab.net.samples import make_instance, shipped_sample_files

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

N_PATIENTS, N_SERIES, N_IMAGES = 3, 2, 4


def client(*contexts, aet="TESTSCU") -> AE:
    ae = AE(ae_title=aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    for cx in contexts:
        ae.add_requested_context(cx)
    return ae


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One PACS for the module, with 3 patients x 1 study x 2 series x 4 images."""
    root = tmp_path_factory.mktemp("pacs")
    with PACS(root=root) as pacs:
        ae = client(CTImageStorage)
        assoc = ae.associate("127.0.0.1", pacs.port, ae_title="MEDLAB")
        assert assoc.is_established
        sent = {}
        for p in range(1, N_PATIENTS + 1):
            for se in range(1, N_SERIES + 1):
                for i in range(1, N_IMAGES + 1):
                    ds = make_instance(p, 1, se, i, study_date=f"2025{p:02d}15")
                    assert assoc.send_c_store(ds).Status == 0x0000
                    sent[ds.SOPInstanceUID] = ds
        assoc.release()
        pacs.sent = sent
        yield pacs


def associate(pacs, *contexts, **kw):
    ae = client(*contexts, aet=kw.pop("aet", "TESTSCU"))
    assoc = ae.associate("127.0.0.1", pacs.port, ae_title=kw.pop("called", pacs.aet), **kw)
    return ae, assoc


# ---------------------------------------------------------------- basics
def test_echo_and_event_records(tmp_path):
    with PACS(root=tmp_path / "p") as pacs:
        _, assoc = associate(pacs, Verification)
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0x0000
        assoc.release()
        assert wait_for(lambda: any(e.message == "TCP-CLOSE" for e in pacs.events))
        messages = [(e.sender, e.receiver, e.message) for e in pacs.events]
    assert messages == [
        ("?", "MEDLAB", "TCP-OPEN"),
        ("TESTSCU", "MEDLAB", "A-ASSOCIATE-RQ"),
        ("MEDLAB", "TESTSCU", "A-ASSOCIATE-AC"),
        ("TESTSCU", "MEDLAB", "C-ECHO-RQ"),
        ("MEDLAB", "TESTSCU", "C-ECHO-RSP"),
        ("TESTSCU", "MEDLAB", "A-RELEASE-RQ"),
        ("MEDLAB", "TESTSCU", "A-RELEASE-RP"),
        ("TESTSCU", "MEDLAB", "TCP-CLOSE"),
    ]
    rq = pacs.events[1]
    assert isinstance(rq, ev.AssociationRequest) and rq.contexts[0].abstract_syntax == Verification
    ac = pacs.events[2]
    assert ac.contexts[0].result == "accepted" and ac.contexts[0].transfer_syntax
    rsp = pacs.events[4]
    assert rsp.status == 0 and "0x0000 Success" in str(rsp)
    assert str(pacs.events[3]) == "#1 TESTSCU -> MEDLAB: C-ECHO-RQ  id=1  Verification SOP Class"
    assert all(e.assoc == 1 for e in pacs.events)
    # deterministic apart from time and port
    assert pacs.events[3] == ev.Dimse(1, "C-ECHO-RQ", "TESTSCU", "MEDLAB", 0.0, "", 1, Verification)


def test_poll_delay_is_tuned_and_the_private_attribute_still_exists(tmp_path):
    """medlab sets pynetdicom's private DUL poll delay; fail loudly if a release renames it."""
    from pynetdicom.dul import DULServiceProvider

    from medlab.net.server import DUL_POLL_DELAY

    assert "_run_loop_delay" in DULServiceProvider.__init__.__code__.co_names
    with PACS(root=tmp_path / "p") as pacs:
        _, assoc = associate(pacs, Verification)
        assert assoc.is_established
        server_side = [a for a in pacs._ae.active_associations]
        assert server_side and all(a.dul._run_loop_delay == DUL_POLL_DELAY for a in server_side)
        assoc.release()


def test_config_defaults_and_toml(tmp_path):
    cfg_file = tmp_path / "pacs.toml"
    cfg_file.write_text(
        'aet = "ARCHIVE"\nport = 0\nallow = ["A", "B"]\n[peers]\nSTORESCP = "127.0.0.1:11113"\n'
    )
    cfg = PACSConfig.from_toml(cfg_file)
    assert cfg.aet == "ARCHIVE" and cfg.allow == ["A", "B"]
    assert cfg.peers == {"STORESCP": ("127.0.0.1", 11113)}
    assert cfg.host == "127.0.0.1" and cfg.max_pdu == 128 * 1024
    from medlab.errors import MedlabError

    bad = tmp_path / "bad.toml"
    bad.write_text('colour = "red"\n')
    with pytest.raises(MedlabError, match="Unknown PACS setting"):
        PACSConfig.from_toml(bad)
    with pytest.raises(MedlabError):
        PACSConfig(aet="WAY_TOO_LONG_AE_TITLE")
    pacs = PACS(config=cfg, root=tmp_path / "r")
    assert pacs.aet == "ARCHIVE" and pacs.root == tmp_path / "r"


def test_example_toml_lists_every_setting():
    import dataclasses

    from medlab.net import config

    example = Path(config.__file__).with_name("pacs.example.toml")
    text = example.read_text()
    for field in dataclasses.fields(PACSConfig):
        assert f"{field.name} =" in text or f"[{field.name}]" in text, field.name
    cfg = PACSConfig.from_toml(example)
    assert cfg == PACSConfig()


def test_default_root_is_under_medlab_home(medlab_home):
    pacs = PACS()
    assert pacs.root == medlab_home / "pacs"
    assert pacs.host == "127.0.0.1"


# ---------------------------------------------------------------- association rules
def rejected(pacs, **kw):
    _, assoc = associate(pacs, Verification, **kw)
    assert assoc.is_rejected
    rj = assoc.acceptor.primitive
    return rj.result, rj.result_source, rj.diagnostic


def test_wrong_called_aet_is_rejected_with_reason_7(tmp_path):
    with PACS(root=tmp_path / "p") as pacs:
        assert rejected(pacs, called="SOMEONE") == (1, 1, 7)
        rj = [e for e in pacs.events if isinstance(e, ev.AssociationReject)][0]
        assert rj.reason == "called-AE-title-not-recognized" and rj.result == "rejected-permanent"


def test_allow_list_rejects_unknown_calling_aet(tmp_path):
    with PACS(root=tmp_path / "p", allow=["MODALITY"]) as pacs:
        assert rejected(pacs, aet="INTRUDER") == (1, 1, 3)
        _, ok = associate(pacs, Verification, aet="MODALITY")
        assert ok.is_established
        ok.release()


def test_association_limit_rejects_transiently(tmp_path):
    cfg = PACSConfig(port=0, root=tmp_path / "p", max_associations=2)
    with PACS(config=cfg) as pacs:
        held = [associate(pacs, Verification)[1] for _ in range(2)]
        assert all(a.is_established for a in held)
        assert rejected(pacs) == (2, 3, 2)
        for a in held:
            a.release()
        assert wait_for(lambda: len(pacs._ae.active_associations) == 0)
        _, again = associate(pacs, Verification)
        assert again.is_established
        again.release()


def test_idle_and_silent_peers_are_dropped(tmp_path):
    cfg = PACSConfig(port=0, root=tmp_path / "p", acse_timeout=0.5, network_timeout=0.5)
    with PACS(config=cfg) as pacs:
        silent = socket.create_connection(("127.0.0.1", pacs.port))
        _, idle = associate(pacs, Verification)
        assert idle.is_established
        assert wait_for(lambda: len(pacs._ae.active_associations) == 0, timeout=10)
        assert wait_for(lambda: idle.is_aborted or idle.is_released, timeout=10)
        silent.close()


def test_rejected_presentation_context_is_recorded(tmp_path):
    with PACS(root=tmp_path / "p") as pacs:
        ae = client(Verification)
        ae.add_requested_context("1.2.3.4.5.6")  # an abstract syntax nobody knows
        assoc = ae.associate("127.0.0.1", pacs.port, ae_title="MEDLAB")
        assoc.release()
        ac = next(e for e in pacs.events if isinstance(e, ev.AssociationAccept))
    assert [c.result for c in ac.contexts] == ["accepted", "abstract-syntax-not-supported"]
    assert len(ac.rejected) == 1 and ac.rejected[0].abstract_syntax == "1.2.3.4.5.6"


# ---------------------------------------------------------------- storage
def test_store_every_shipped_sample_as_received(tmp_path):
    """Every sample pydicom(-data) ships, each proposed in its own transfer syntax."""
    files = []
    for path in shipped_sample_files():
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            ts = ds.file_meta.TransferSyntaxUID
            files.append((path, str(ds.SOPClassUID), str(ts), str(ds.SOPInstanceUID)))
        except Exception:  # noqa: BLE001 - no meta / no SOP class: cannot be sent as is
            continue
    assert len(files) > 100
    results = {}
    with PACS(root=tmp_path / "p") as pacs:
        remaining = files
        while remaining:
            ae = client()
            pairs, batch = [], []
            for f in remaining:
                if (f[1], f[2]) not in pairs:
                    if len(pairs) == 128:
                        continue
                    pairs.append((f[1], f[2]))
                batch.append(f)
            for sop, ts in pairs:
                ae.add_requested_context(sop, [ts])
            assoc = ae.associate("127.0.0.1", pacs.port, ae_title="MEDLAB", max_pdu=0)
            assert assoc.is_established
            for path, _sop, _ts, uid in batch:
                try:
                    rsp = assoc.send_c_store(path)
                    results[path.name] = (rsp.Status if "Status" in rsp else None, uid)
                except Exception as err:  # noqa: BLE001 - pynetdicom refuses some files
                    results[path.name] = (repr(err), uid)
            assoc.release()
            remaining = [f for f in remaining if f not in batch]
        ok = {n for n, (s, _) in results.items() if s == 0}
        assert len(ok) > 100
        # every success is stored in the transfer syntax it was sent in, indexed once
        # (compression twins share a SOP Instance UID: the last one sent wins)
        last = {uid: ts for path, _sop, ts, uid in files if path.name in ok}
        for uid, ts in last.items():
            stored = pacs.file_of(uid)
            assert stored is not None
            got = pydicom.dcmread(stored)
            assert str(got.file_meta.TransferSyntaxUID) == ts
        assert pacs.instance_count() == len({results[n][1] for n in ok})
        assert not list(pacs.root.rglob("*.tmp"))


def test_compressed_is_accepted_as_compressed(tmp_path):
    """Offered JPEG 2000 *or* uncompressed, the PACS takes JPEG 2000 (no transcoding)."""
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless

    import medlab.data

    path = medlab.data.get_path("mr_j2k")
    with PACS(root=tmp_path / "p") as pacs:
        ae = client()
        ae.add_requested_context(
            "1.2.840.10008.5.1.4.1.1.4",
            [ImplicitVRLittleEndian, ExplicitVRLittleEndian, JPEG2000Lossless],
        )
        assoc = ae.associate("127.0.0.1", pacs.port, ae_title="MEDLAB")
        assert assoc.accepted_contexts[0].transfer_syntax[0] == JPEG2000Lossless
        assert assoc.send_c_store(path).Status == 0
        assoc.release()
        stored = pacs.file_of(pydicom.dcmread(path).SOPInstanceUID)
        assert stored.read_bytes()[-1000:] == path.read_bytes()[-1000:]


def test_resend_replaces_and_bad_uid_fails(tmp_path):
    with PACS(root=tmp_path / "p") as pacs:
        _, assoc = associate(pacs, CTImageStorage)
        ds = make_instance(1, 1, 1, 1)
        assert assoc.send_c_store(ds).Status == 0
        assert assoc.send_c_store(ds).Status == 0
        evil = make_instance(1, 1, 1, 2)
        evil.StudyInstanceUID = "../../../../../tmp/medlab-escape"
        rsp = assoc.send_c_store(evil)
        assoc.release()
        assert rsp.Status == 0xC000 and "Invalid Study Instance UID" in rsp.ErrorComment
        assert pacs.instance_count() == 1
        assert not (tmp_path / "medlab-escape").exists()


# ---------------------------------------------------------------- query
def cfind(pacs, model, ident):
    _, assoc = associate(pacs, model)
    out = [(s.Status, i) for s, i in assoc.send_c_find(ident, model)]
    assoc.release()
    return out


def q(level, **keys):
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(ds, k, v)
    return ds


@pytest.mark.parametrize(
    "model, level, keys, expected",
    [
        (
            PatientRootQueryRetrieveInformationModelFind,
            "PATIENT",
            {"PatientID": "", "PatientName": ""},
            3,
        ),
        (
            PatientRootQueryRetrieveInformationModelFind,
            "STUDY",
            {"PatientID": "PAT0002", "StudyInstanceUID": ""},
            1,
        ),
        (
            PatientRootQueryRetrieveInformationModelFind,
            "SERIES",
            {"PatientID": "PAT0002", "SeriesInstanceUID": "", "Modality": "CT"},
            2,
        ),
        (
            PatientRootQueryRetrieveInformationModelFind,
            "IMAGE",
            {"PatientID": "PAT0002", "SOPInstanceUID": ""},
            8,
        ),
        (
            StudyRootQueryRetrieveInformationModelFind,
            "STUDY",
            {"PatientName": "DOE*", "StudyDate": "20250201-", "StudyInstanceUID": ""},
            2,
        ),
        (
            StudyRootQueryRetrieveInformationModelFind,
            "SERIES",
            {"SeriesNumber": "2", "SeriesInstanceUID": ""},
            3,
        ),
        (
            StudyRootQueryRetrieveInformationModelFind,
            "IMAGE",
            {"InstanceNumber": "3", "SOPInstanceUID": ""},
            6,
        ),
    ],
)
def test_find_levels(seeded, model, level, keys, expected):
    out = cfind(seeded, model, q(level, **keys))
    assert [s for s, _ in out] == [0xFF00] * expected + [0x0000]
    for _, ident in out[:-1]:
        assert ident.QueryRetrieveLevel == level
        for k in keys:
            assert k in ident and ident[k].value not in (None, "")


def test_find_failure_and_unsupported_key(seeded):
    out = cfind(seeded, StudyRootQueryRetrieveInformationModelFind, q("PATIENT", PatientID=""))
    assert [s for s, _ in out] == [0xA900]
    out = cfind(
        seeded,
        StudyRootQueryRetrieveInformationModelFind,
        q(
            "STUDY",
            PatientID="PAT0001",
            StudyInstanceUID="",
            InstitutionName="",
            RetrieveAETitle="",
        ),
    )
    assert [s for s, _ in out] == [0xFF01, 0x0000]
    assert out[0][1].InstitutionName in ("", None)
    assert out[0][1].RetrieveAETitle == "MEDLAB"  # where to C-MOVE/C-GET it from


def test_cancel_find(tmp_path, monkeypatch):
    import medlab.net.query as server_module  # the matching engine the C-FIND handler calls
    from medlab.net.store import _row_from

    real_find = server_module.find

    def slow_find(*args, **kwargs):  # 10 ms per match: 3 s for all, the C-CANCEL comes first
        for match in real_find(*args, **kwargs):
            time.sleep(0.01)
            yield match

    monkeypatch.setattr(server_module, "find", slow_find)
    with PACS(root=tmp_path / "p") as pacs:
        for i in range(1, 301):  # index rows only (C-FIND never reads the files): quick to seed
            row = _row_from(make_instance(1, 1, 1, i))
            row.update(
                transfer_syntax="1.2.840.10008.1.2.1",
                path=f"x/{i}.dcm",
                size=1,
                source_aet="",
                stored_at=0.0,
            )
            pacs.store._index(row)
        _, assoc = associate(pacs, StudyRootQueryRetrieveInformationModelFind)
        cx = assoc.accepted_contexts[0].context_id
        # C-CANCEL-FIND-RQ as soon as the first answer is in (an event, not a timer: the
        # result must not depend on the machine's load), while the 300 answers are being sent
        statuses = []
        for status, _ in assoc.send_c_find(
            q("IMAGE", SOPInstanceUID=""), StudyRootQueryRetrieveInformationModelFind, msg_id=7
        ):
            statuses.append(status.Status)
            if len(statuses) == 1:
                assoc.send_c_cancel(7, cx)
        assoc.release()
    assert statuses[-1] == 0xFE00  # Cancel (PS3.4 C.4.1.3.1)
    assert len(statuses) < 300
    assert set(statuses[:-1]) <= {0xFF00}


# ---------------------------------------------------------------- retrieve
def test_get_whole_study_returns_what_was_sent(seeded):
    study = next(iter(seeded.sent.values())).StudyInstanceUID
    received = []

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        received.append(ds)
        return 0x0000

    ae = client(StudyRootQueryRetrieveInformationModelGet)
    ae.add_requested_context(CTImageStorage)
    role = build_role(CTImageStorage, scp_role=True)
    assoc = ae.associate(
        "127.0.0.1",
        seeded.port,
        ae_title="MEDLAB",
        ext_neg=[role],
        evt_handlers=[(evt.EVT_C_STORE, on_store)],
    )
    responses = list(
        assoc.send_c_get(
            q("STUDY", StudyInstanceUID=study), StudyRootQueryRetrieveInformationModelGet
        )
    )
    assoc.release()
    final = responses[-1][0]
    assert final.Status == 0x0000
    assert final.NumberOfCompletedSuboperations == N_SERIES * N_IMAGES
    assert final.NumberOfFailedSuboperations == 0
    assert len(received) == N_SERIES * N_IMAGES
    for ds in received:
        assert same_dataset(ds, seeded.sent[ds.SOPInstanceUID]) == []


def test_get_failure_for_bad_identifier(seeded):
    ae = client(PatientRootQueryRetrieveInformationModelGet)
    assoc = ae.associate("127.0.0.1", seeded.port, ae_title="MEDLAB")
    responses = list(
        assoc.send_c_get(
            q("SERIES", PatientID="PAT0001"), PatientRootQueryRetrieveInformationModelGet
        )
    )
    assoc.release()
    assert responses[-1][0].Status == 0xA900


@pytest.fixture
def store_scp():
    """A pynetdicom Storage SCP as C-MOVE destination; yields (port, received list)."""
    received = []

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        received.append(ds)
        return 0x0000

    ae = AE(ae_title="DEST")
    ae.add_supported_context(CTImageStorage, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
    port = support.free_port()
    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    yield port, received
    server.shutdown()


@pytest.mark.parametrize(
    "model",
    [PatientRootQueryRetrieveInformationModelMove, StudyRootQueryRetrieveInformationModelMove],
)
def test_move_to_known_peer(seeded, store_scp, model):
    port, received = store_scp
    seeded.config.peers["DEST"] = ("127.0.0.1", port)
    try:
        series = next(iter(seeded.sent.values()))
        ident = q(
            "SERIES",
            StudyInstanceUID=series.StudyInstanceUID,
            SeriesInstanceUID=series.SeriesInstanceUID,
            PatientID=series.PatientID,
        )
        _, assoc = associate(seeded, model)
        responses = [s for s, _ in assoc.send_c_move(ident, "DEST", model)]
        assoc.release()
    finally:
        del seeded.config.peers["DEST"]
    assert [r.Status for r in responses] == [0xFF00] * N_IMAGES + [0x0000]
    assert [r.NumberOfRemainingSuboperations for r in responses[:-1]] == list(
        range(N_IMAGES - 1, -1, -1)
    )
    assert responses[-1].NumberOfCompletedSuboperations == N_IMAGES
    assert len(received) == N_IMAGES
    for ds in received:
        assert same_dataset(ds, seeded.sent[ds.SOPInstanceUID]) == []
    # the sub-association is in the event log, PACS as requestor
    out = [e for e in seeded.events if e.sender == "MEDLAB" and e.receiver == "DEST"]
    assert {e.message for e in out} >= {"A-ASSOCIATE-RQ", "C-STORE-RQ", "A-RELEASE-RQ"}


def test_move_to_unknown_destination_is_A801(seeded):
    series = next(iter(seeded.sent.values()))
    _, assoc = associate(seeded, StudyRootQueryRetrieveInformationModelMove)
    responses = [
        s
        for s, _ in assoc.send_c_move(
            q("STUDY", StudyInstanceUID=series.StudyInstanceUID),
            "NOBODY",
            StudyRootQueryRetrieveInformationModelMove,
        )
    ]
    assoc.release()
    assert [r.Status for r in responses] == [0xA801]


def test_move_with_failed_sub_operations(seeded):
    """The destination refuses every C-STORE (out of resources) -> 0xA702, all failed."""
    ae = AE(ae_title="NOCT")
    ae.add_supported_context(CTImageStorage)
    other = support.free_port()
    server = ae.start_server(
        ("127.0.0.1", other), block=False, evt_handlers=[(evt.EVT_C_STORE, lambda event: 0xA700)]
    )
    seeded.config.peers["NOCT"] = ("127.0.0.1", other)
    try:
        series = next(iter(seeded.sent.values()))
        _, assoc = associate(seeded, StudyRootQueryRetrieveInformationModelMove)
        responses = [
            s
            for s, _ in assoc.send_c_move(
                q(
                    "SERIES",
                    StudyInstanceUID=series.StudyInstanceUID,
                    SeriesInstanceUID=series.SeriesInstanceUID,
                ),
                "NOCT",
                StudyRootQueryRetrieveInformationModelMove,
            )
        ]
        assoc.release()
    finally:
        del seeded.config.peers["NOCT"]
        server.shutdown()
    final = responses[-1]
    assert final.Status == 0xA702 and final.NumberOfFailedSuboperations == N_IMAGES


# ---------------------------------------------------------------- worklist
def test_worklist_find(tmp_path):
    with PACS(root=tmp_path / "p") as pacs:
        sps = pacs.schedule(
            PatientName="DOE^JANE",
            PatientID="P1",
            Modality="CT",
            ScheduledStationAETitle="CT01",
            ScheduledProcedureStepStartDate="20260105",
            ScheduledProcedureStepStartTime="0900",
            AccessionNumber="A1",
        )
        pacs.schedule(
            PatientName="ROE^RICHARD",
            PatientID="P2",
            Modality="MR",
            ScheduledStationAETitle="MR01",
            ScheduledProcedureStepStartDate="20260107",
        )
        ident = Dataset()
        ident.PatientName = ""
        ident.PatientID = ""
        ident.AccessionNumber = ""
        item = Dataset()
        item.Modality = "CT"
        item.ScheduledStationAETitle = ""
        item.ScheduledProcedureStepStartDate = "20260101-20260131"
        item.ScheduledProcedureStepID = ""
        ident.ScheduledProcedureStepSequence = [item]
        out = cfind(pacs, ModalityWorklistInformationFind, ident)
    assert [s for s, _ in out] == [0xFF00, 0x0000]
    got = out[0][1]
    assert got.PatientName == "DOE^JANE" and got.AccessionNumber == "A1"
    assert got.ScheduledProcedureStepSequence[0].ScheduledProcedureStepID == sps
    assert got.ScheduledProcedureStepSequence[0].ScheduledStationAETitle == "CT01"


# ---------------------------------------------------------------- MPPS
def mpps_create_attrs(status="IN PROGRESS"):
    ds = Dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PatientName = "DOE^JANE"
    ds.PatientID = "P1"
    ds.Modality = "CT"
    ds.PerformedProcedureStepID = "PPS1"
    ds.PerformedStationAETitle = "CT01"
    ds.PerformedProcedureStepStartDate = "20260105"
    ds.PerformedProcedureStepStartTime = "0900"
    ds.ScheduledStepAttributesSequence = [Dataset()]
    ds.PerformedSeriesSequence = []
    return ds


def mpps_end():
    ds = Dataset()
    ds.PerformedProcedureStepEndDate = "20260105"
    return ds


def test_mpps_lifecycle(tmp_path):
    from pydicom.uid import generate_uid

    uid = generate_uid()
    with PACS(root=tmp_path / "p") as pacs:
        _, assoc = associate(pacs, ModalityPerformedProcedureStep)
        mpps = ModalityPerformedProcedureStep
        status, _ = assoc.send_n_create(mpps_create_attrs("COMPLETED"), mpps, generate_uid())
        assert status.Status == 0x0106  # must start IN PROGRESS
        status, _ = assoc.send_n_create(mpps_create_attrs(), mpps, uid)
        assert status.Status == 0x0000
        status, _ = assoc.send_n_create(mpps_create_attrs(), mpps, uid)
        assert status.Status == 0x0111  # duplicate
        status, _ = assoc.send_n_create(mpps_create_attrs(), mpps, None)
        assert status.Status == 0x0000
        chosen = [e for e in pacs.events if e.message == "N-CREATE-RSP"][-1]
        assert chosen.sop_instance.startswith("1.2.826.0.1.3680043.8.498.")  # the SCP chose it
        change = Dataset()
        change.PatientName = "SOMEONE^ELSE"
        status, _ = assoc.send_n_set(change, mpps, uid)
        assert status.Status == 0x0106  # not allowed in N-SET
        status, _ = assoc.send_n_set(mpps_end(), mpps, "1.2.3.4.5.999")
        assert status.Status == 0x0112  # no such instance
        bad = Dataset()
        bad.PerformedProcedureStepStatus = "PAUSED"
        assert assoc.send_n_set(bad, mpps, uid)[0].Status == 0x0106
        done = Dataset()
        done.PerformedProcedureStepStatus = "COMPLETED"
        done.PerformedProcedureStepEndDate = "20260105"
        done.PerformedProcedureStepEndTime = "0930"
        status, attrs = assoc.send_n_set(done, mpps, uid)
        assert status.Status == 0x0000
        again = Dataset()
        again.PerformedProcedureStepStatus = "DISCONTINUED"
        status, _ = assoc.send_n_set(again, mpps, uid)
        assert status.Status == 0x0110 and status.ErrorID == 0xA710  # may no longer be updated
        assoc.release()
        state = pacs.mpps(uid)
    assert state.PerformedProcedureStepStatus == "COMPLETED"
    assert state.PatientName == "DOE^JANE" and state.PerformedProcedureStepEndTime == "0930"


# ---------------------------------------------------------------- storage commitment
def commitment_request(refs, transaction="1.2.826.0.1.3680043.8.498.1"):
    ds = Dataset()
    ds.TransactionUID = transaction
    items = []
    for sop_class, sop_uid in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_uid
        items.append(item)
    ds.ReferencedSOPSequence = items
    return ds


def test_storage_commitment_on_same_association(seeded):
    stored = list(seeded.sent)[:2]
    refs = [(CTImageStorage, u) for u in stored] + [(CTImageStorage, "1.2.3.4.5.6.7.8")]
    reports = []
    got = threading.Event()

    def on_report(event):
        reports.append((event.event_type, event.event_information))
        got.set()
        return 0x0000, None

    ae = client(StorageCommitmentPushModel)
    assoc = ae.associate(
        "127.0.0.1",
        seeded.port,
        ae_title="MEDLAB",
        evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)],
    )
    status, _ = assoc.send_n_action(
        commitment_request(refs), 1, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1"
    )
    assert status.Status == 0x0000
    assert got.wait(10)
    assoc.release()
    event_type, info = reports[0]
    assert event_type == 2  # some failed
    assert info.TransactionUID == "1.2.826.0.1.3680043.8.498.1"
    assert sorted(i.ReferencedSOPInstanceUID for i in info.ReferencedSOPSequence) == sorted(stored)
    assert [(i.ReferencedSOPInstanceUID, i.FailureReason) for i in info.FailedSOPSequence] == [
        ("1.2.3.4.5.6.7.8", 0x0112)
    ]


def test_storage_commitment_fails_for_a_damaged_file(tmp_path):
    with PACS(root=tmp_path / "p") as pacs:
        _, assoc = associate(pacs, CTImageStorage)
        ds = make_instance(1, 1, 1, 1)
        assert assoc.send_c_store(ds).Status == 0
        assoc.release()
        path = pacs.file_of(ds.SOPInstanceUID)
        path.write_bytes(path.read_bytes()[:200])  # damaged behind the PACS's back
        etype, info = pacs.commitment_result("1.2.3", [(CTImageStorage, ds.SOPInstanceUID)])
    assert etype == 2 and info.FailedSOPSequence[0].FailureReason == 0x0110


def test_storage_commitment_on_new_association(tmp_path):
    """The requester releases at once: the result comes on a new association (SCU/SCP roles swapped)."""
    reports = []
    got = threading.Event()

    def on_report(event):
        reports.append((event.assoc.requestor.ae_title, event.event_type))
        got.set()
        return 0x0000, None

    modality = AE(ae_title="MODALITY")
    modality.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    port = support.free_port()
    server = modality.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)]
    )
    cfg = PACSConfig(
        port=0, root=tmp_path / "p", peers={"MODALITY": ("127.0.0.1", port)}, commitment_delay=1.5
    )
    try:
        with PACS(config=cfg) as pacs:
            _, assoc = associate(pacs, StorageCommitmentPushModel, aet="MODALITY")
            status, _ = assoc.send_n_action(
                commitment_request([(CTImageStorage, "1.2.3.4")]),
                1,
                StorageCommitmentPushModel,
                "1.2.840.10008.1.20.1.1",
            )
            assoc.release()
            assert status.Status == 0
            assert got.wait(10)
    finally:
        server.shutdown()
    assert reports == [("MEDLAB", 2)]


# ---------------------------------------------------------------- robustness on the wire
def pdu(pdu_type: int, body: bytes) -> bytes:
    return struct.pack(">BBL", pdu_type, 0, len(body)) + body


MALFORMED = {
    "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # garbage
    "short-rq": pdu(0x01, b"\x00\x01\x00\x00" + b"x" * 10),  # A-ASSOCIATE-RQ cut short
    "unknown-type": pdu(0x09, b"\xff" * 20),  # no such PDU type
    "huge-length": b"\x01\x00\xff\xff\xff\xff",  # absurd length, then silence
    "p-data-first": pdu(0x04, b"\x00\x00\x00\x06\x01\x03\x00\x00"),  # data before association
}


def test_malformed_input_never_hurts_the_server(tmp_path):
    cfg = PACSConfig(port=0, root=tmp_path / "p", acse_timeout=1, network_timeout=1)
    with PACS(config=cfg) as pacs:
        socks = []
        for payload in MALFORMED.values():
            sock = socket.create_connection(("127.0.0.1", pacs.port))
            sock.sendall(payload)
            socks.append(sock)
        _, assoc = associate(pacs, Verification)
        assert assoc.is_established and assoc.send_c_echo().Status == 0
        assoc.release()
        # every bad peer is dropped (A-ABORT or close) within the timeouts
        for sock in socks:
            sock.settimeout(10)
            try:
                while sock.recv(1024):
                    pass
            except (TimeoutError, ConnectionError):
                pass
            sock.close()
        assert wait_for(lambda: len(pacs._ae.active_associations) == 0, timeout=10)
        assert pacs.instance_count() == 0
        _, again = associate(pacs, Verification)
        assert again.is_established
        again.release()


def test_abort_mid_transfer_leaves_nothing(tmp_path):
    """A peer vanishes halfway through a big C-STORE: no file, no row, server fine."""
    big = make_instance(1, 1, 1, 1, rows=512, columns=512)
    with PACS(root=tmp_path / "p") as pacs:
        ae = client(CTImageStorage)
        assoc = ae.associate("127.0.0.1", pacs.port, ae_title="MEDLAB", max_pdu=16384)
        assert assoc.is_established
        sent = {"n": 0}

        def on_pdu(event):
            sent["n"] += 1
            if sent["n"] == 5:  # a few P-DATA PDUs in: pull the plug
                event.assoc.dul.socket.socket.shutdown(socket.SHUT_RDWR)

        assoc.bind(evt.EVT_PDU_SENT, on_pdu)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                assoc.send_c_store(big)
            except Exception:  # noqa: BLE001
                pass
        assoc.abort()
        assert wait_for(lambda: len(pacs._ae.active_associations) == 0)
        assert pacs.instance_count() == 0
        assert not [p for p in pacs.root.rglob("*") if p.suffix in (".dcm", ".tmp")]
        _, ok = associate(pacs, CTImageStorage)
        assert ok.send_c_store(make_instance(1, 1, 1, 2)).Status == 0
        ok.release()
        assert pacs.instance_count() == 1


# ---------------------------------------------------------------- guarded private names
def test_shutdown_flag_still_exists(tmp_path):
    """stop() sets socketserver's private flag: fail loudly if the stdlib renames it."""
    import socketserver

    from medlab.net.server.engine import SHUTDOWN_FLAG_ATTRIBUTE

    # serve_forever() polls exactly this name; the PACS's server is a socketserver.
    assert SHUTDOWN_FLAG_ATTRIBUTE in socketserver.BaseServer.serve_forever.__code__.co_names
    with PACS(root=tmp_path / "p") as pacs:
        assert isinstance(pacs._server, socketserver.BaseServer)
        assert getattr(pacs._server, SHUTDOWN_FLAG_ATTRIBUTE) is False


def test_stop_joins_the_commitment_report_thread(tmp_path):
    """A commitment report still waiting when the PACS stops is finished, not abandoned."""
    with PACS(root=tmp_path / "p", config=PACSConfig(commitment_delay=1.0)) as pacs:
        _, assoc = associate(pacs, StorageCommitmentPushModel)
        status, _ = assoc.send_n_action(
            commitment_request([(CTImageStorage, "1.2.3.4")]),
            1,
            StorageCommitmentPushModel,
            "1.2.840.10008.1.20.1.1",
        )
        assert status.Status == 0x0000
        reporters = list(pacs._reporters)
        assert reporters and reporters[0].is_alive()
    assert not reporters[0].is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("medlab-commit-")]


# ---------------------------------------------------------------- the one way in
def test_store_received_is_the_c_store_path(tmp_path):
    """What DICOMweb's STOW-RS will call: same index, same UID checks, same file."""
    from medlab.net.store import StoreFailure

    ds = make_instance(1, 1, 1, 1)
    path = tmp_path / "in.dcm"
    ds.save_as(path, enforce_file_format=True)
    with PACS(root=tmp_path / "p") as pacs:
        stored = pacs.store_received(path, calling_aet="WEB")
        assert stored.sop_uid == ds.SOPInstanceUID
        assert pacs.store.instance(ds.SOPInstanceUID)["source_aet"] == "WEB"
        assert pydicom.dcmread(pacs.file_of(ds.SOPInstanceUID)).PatientID == ds.PatientID
        with pytest.raises(StoreFailure) as err:
            pacs.store_received(path, sop_instance="1.2.3.4")  # disagrees with the data set
        assert err.value.status == 0xA900
        with pytest.raises(StoreFailure) as err:
            pacs.store_received(b"\x08\x00\x18\x00UI\xff\xff junk", "1.2.840.10008.1.2.1")
        assert err.value.status == 0xC210
        # and a C-STORE of the same instance finds it already there (one archive)
        _, assoc = associate(pacs, CTImageStorage)
        assert assoc.send_c_store(ds).Status == 0x0000
        assoc.release()
        assert pacs.instance_count() == 1
