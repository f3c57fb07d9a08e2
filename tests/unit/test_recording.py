"""One translator for both ends: the same traffic prints the same on the PACS and the client."""

from __future__ import annotations

from pydicom import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import (
    CTImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    Verification,
)

from medlab.net import PACS, Recorder
from medlab.net import events as ev
from medlab.net.diagram import events_of
from medlab.net.recording import EventTranslator
from medlab.net.samples import make_instance


def _client() -> AE:
    ae = AE(ae_title="TESTSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    for cx in (Verification, CTImageStorage, StudyRootQueryRetrieveInformationModelFind):
        ae.add_requested_context(cx)
    return ae


def _lines(events: list[ev.PacsEvent]) -> list[str]:
    # The one honest difference: at TCP-OPEN the PACS has not yet read the
    # A-ASSOCIATE-RQ that names both ends; from the RQ on, names come from the wire.
    return [f"#{e.assoc} TCP-OPEN" if e.message == "TCP-OPEN" else str(e) for e in events]


def test_same_exchange_prints_the_same_on_both_ends(tmp_path):
    rec = Recorder()
    with PACS(root=tmp_path / "p") as pacs:
        ae = _client()
        # 1: echo, a store, a refused find (error comment), a find; orderly release
        assoc = ae.associate("127.0.0.1", pacs.port, ae_title="MEDLAB", evt_handlers=rec.handlers)
        assert assoc.send_c_echo().Status == 0x0000
        assert assoc.send_c_store(make_instance(1, 1, 1, 1)).Status == 0x0000
        bogus = Dataset()
        bogus.QueryRetrieveLevel = "BOGUS"  # refused with an Error Comment
        assert [
            s.Status
            for s, _ in assoc.send_c_find(bogus, StudyRootQueryRetrieveInformationModelFind)
        ] != [0]
        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.StudyInstanceUID = ""
        list(assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind))
        assoc.release()
        # 2: aborted by us (the A-ABORT source must be decoded the same on both ends)
        assoc = ae.associate("127.0.0.1", pacs.port, ae_title="MEDLAB", evt_handlers=rec.handlers)
        assoc.abort()
        # 3: rejected (wrong called AE title)
        assoc = ae.associate("127.0.0.1", pacs.port, ae_title="WRONG", evt_handlers=rec.handlers)
        assert assoc.is_rejected
        server = events_of(pacs)
    client = events_of(rec)
    assert {e.assoc for e in server} == {e.assoc for e in client} == {1, 2, 3}
    assert _lines(server) == _lines(client)
    text = "\n".join(_lines(client))
    assert "A-ABORT  service-user" in text
    assert "called-AE-title-not-recognized" in text
    assert "#3 TESTSCU -> WRONG: A-ASSOCIATE-RQ" in text  # both ends say who was called
    assert any(isinstance(e, ev.Dimse) and e.status and e.info for e in client)  # error comment


class _FakeEnd:
    ae_title = "PEER"
    address = "127.0.0.1"
    port = 104


class _FakeAssoc:
    is_requestor = False
    requestor = acceptor = _FakeEnd()

    class ae:  # noqa: N801 - stands in for the AE attribute
        ae_title = "LOCAL"


def test_a_recycled_id_never_inherits_an_old_association():
    """Records are keyed by the association object (weakly), not by id(): once an
    association is gone its record goes, so an object that later gets the same
    address (CPython reuses them) starts a new record."""
    import gc

    log = EventTranslator()
    first = _FakeAssoc()
    assert log.state(first).n == 1
    del first
    gc.collect()
    assert len(log._assocs) == 0  # nothing left for a recycled id to find
    second = _FakeAssoc()
    assert log.state(second).n == 2


def test_provider_abort_reason_and_event_labels_only_where_they_belong():
    from pynetdicom.pdu_primitives import A_P_ABORT

    log = EventTranslator()
    assoc = _FakeAssoc()

    class Event:
        pass

    event = Event()
    event.assoc = assoc
    event.primitive = A_P_ABORT()
    event.primitive.provider_reason = 2
    log.on_acse_recv(event)
    assert str(log.events[-1]).endswith("A-P-ABORT  service-provider, unexpected-PDU")


def test_net_exports_are_lazy_and_explain_stays_the_function():
    import subprocess
    import sys

    code = (
        "import sys, medlab.net as n; assert 'pynetdicom' not in sys.modules; "
        "assert set(n.__all__) <= set(dir(n)); "
        "import medlab.net.explanations; assert callable(n.explain) and "
        "type(n.explain).__name__ == 'function'; "
        "assert all(getattr(n, k) is not None for k in n.__all__)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
