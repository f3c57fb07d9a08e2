"""The PACS shrugs off junk, floods and slow peers, and serves only its own user.

Untimed: every wait is event-based with a generous limit; the speed and memory
figures are bench/pacs_abuse.py's (side by side with DCMTK's storescp). The
two-Unix-user proof is tests/unit/test_two_users.py.
"""

from __future__ import annotations

import copy
import re
import shutil
import socket
import subprocess
import time

import pytest
import support
from pynetdicom import AE, build_role
from pynetdicom.sop_class import (
    CTImageStorage,
    PatientRootQueryRetrieveInformationModelGet,
    Verification,
)

from medlab.errors import MedlabError
from medlab.net import PACS, PACSConfig
from medlab.net import events as ev
from medlab.net.server import engine

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

#: What the PACS sends before closing a junk connection: an A-ABORT PDU (PS3.8 §9.3.8).
A_ABORT = bytes.fromhex("07000000000400000000")

#: Far longer than any wait below: a connection the PACS only drops after the ACSE
#: timeout (what pynetdicom alone does) cannot pass these tests.
SLOW_ACSE = 60.0


def associate(pacs: PACS, *contexts, aet: str = "TESTSCU", **kw):
    ae = AE(ae_title=aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    for cx in contexts or (Verification,):
        ae.add_requested_context(cx)
    return ae.associate("127.0.0.1", pacs.port, ae_title=pacs.aet, **kw)


def echo_ok(pacs: PACS) -> bool:
    assoc = associate(pacs)
    try:
        return assoc.is_established and assoc.send_c_echo().Status == 0x0000
    finally:
        if assoc.is_established:
            assoc.release()


def read_until_closed(sock: socket.socket, limit: float = 20.0) -> bytes:
    """Everything the PACS sends until it closes the connection; fails after ``limit``."""
    sock.settimeout(limit)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the PACS kept the connection open for {limit:g} s (got {data!r})")
    return data


def connect(pacs: PACS) -> socket.socket:
    return socket.create_connection(("127.0.0.1", pacs.port), timeout=10)


@pytest.fixture
def pacs(tmp_path):
    cfg = PACSConfig(port=0, root=tmp_path / "p", acse_timeout=SLOW_ACSE, max_associations=4)
    with PACS(config=cfg) as server:
        yield server


# ---------------------------------------------------------------- junk
def test_garbage_ends_the_connection_at_once_with_an_a_abort(pacs):
    socks = [connect(pacs) for _ in range(20)]
    for sock in socks:
        sock.sendall(b"\xee" * 64)  # first byte 0xEE: no such PDU type
    # the PACS answers while all 20 are still open on our side
    assert echo_ok(pacs)
    for sock in socks:
        assert read_until_closed(sock) == A_ABORT
        sock.close()
    notes = [e for e in pacs.events if isinstance(e, ev.Note) and e.message == "INVALID-PDU"]
    assert len(notes) == 20
    assert "first byte 0xEE is not a PDU type" in notes[0].text and "AA-1" in notes[0].text


@pytest.mark.parametrize(
    "payload, says",
    [
        (b"\x01\x00\xff\xff\xff\xff", "announcing 4294967295 bytes"),  # then silence
        (b"\x04\x00\x00\x00\x00\x02\x00\x00", "P-DATA-TF before any A-ASSOCIATE-RQ"),
    ],
    ids=["huge-rq-length", "p-data-first"],
)
def test_invalid_first_pdu_is_aborted_at_once(pacs, payload, says):
    with connect(pacs) as sock:
        sock.sendall(payload)
        assert read_until_closed(sock) == A_ABORT
    assert support.wait_for(lambda: any(says in getattr(e, "text", "") for e in pacs.events))


def test_a_rejected_peer_that_stays_is_closed_after_artim(pacs):
    """After its A-ASSOCIATE-RJ a peer that keeps the socket open is closed after ARTIM
    (PS3.8 Sta13), not after the ACSE timeout: it cannot keep an association slot."""
    assert engine.ARTIM_TIMEOUT < SLOW_ACSE / 4
    with connect(pacs) as sock:
        sock.sendall(_echo_rq(called="NOBODY"))  # wrong called AE: rejected, reason 7
        data = read_until_closed(sock, limit=SLOW_ACSE / 4)
    assert data[:1] == b"\x03"  # A-ASSOCIATE-RJ, then the PACS closed the connection
    assert support.wait_for(lambda: len(pacs._ae.active_associations) == 0)


# ---------------------------------------------------------------- silence and slowness
def test_silent_connections_hold_no_association_slot(pacs):
    silent = [connect(pacs) for _ in range(20)]  # max_associations is 4
    try:
        assert support.wait_for(lambda: pacs._gate.waiting == 20)
        assert echo_ok(pacs)
        # the limit is reached by real A-ASSOCIATE-RQs only
        held = [associate(pacs) for _ in range(4)]
        assert all(a.is_established for a in held)
        extra = associate(pacs)
        assert extra.is_rejected
        rj = extra.acceptor.primitive
        assert (rj.result, rj.result_source, rj.diagnostic) == (2, 3, 2)  # local-limit-exceeded
        held.pop().release()
        assert support.wait_for(lambda: echo_ok(pacs), timeout=20)
        for a in held:
            a.release()
    finally:
        for sock in silent:
            sock.close()
    assert support.wait_for(lambda: pacs._gate.waiting == 0)


def test_a_slow_association_request_waits_without_a_slot_then_is_closed(tmp_path):
    cfg = PACSConfig(port=0, root=tmp_path / "p", acse_timeout=1.0, max_associations=1)
    with PACS(config=cfg) as pacs, connect(pacs) as slow:
        rq = _echo_rq()
        slow.sendall(rq[:20])  # header and a little, then nothing
        assert support.wait_for(lambda: pacs._gate.waiting == 1)
        assert echo_ok(pacs)  # the one slot is free for a real request
        assert read_until_closed(slow) == b""  # closed after acse_timeout (ARTIM of Sta2)
        assert support.wait_for(
            lambda: any(
                isinstance(e, ev.Note) and e.message == "NO-REQUEST" and "not complete" in e.text
                for e in pacs.events
            )
        )


def test_a_whole_request_split_in_pieces_is_served(pacs):
    """The gate waits for the whole A-ASSOCIATE-RQ, however it trickles in."""
    with connect(pacs) as sock:
        rq = _echo_rq()
        for i in range(0, len(rq), 7):
            sock.sendall(rq[i : i + 7])
            time.sleep(0.01)
        sock.settimeout(20)
        assert sock.recv(1) == b"\x02"  # A-ASSOCIATE-AC


def test_too_many_waiting_connections_close_the_oldest(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "MAX_WAITING", 5)
    cfg = PACSConfig(port=0, root=tmp_path / "p", acse_timeout=SLOW_ACSE)
    with PACS(config=cfg) as pacs:
        socks = []
        for n in range(1, 9):
            socks.append(connect(pacs))
            expected = min(n, 5)
            assert support.wait_for(lambda expected=expected: pacs._gate.waiting == expected)
        for oldest in socks[:3]:
            assert read_until_closed(oldest) == b""
        assert pacs._gate.waiting == 5
        assert echo_ok(pacs)
        for sock in socks:
            sock.close()


def test_stop_releases_waiting_connections_promptly(tmp_path):
    cfg = PACSConfig(port=0, root=tmp_path / "p", acse_timeout=SLOW_ACSE)
    pacs = PACS(config=cfg).start()
    silent = [connect(pacs) for _ in range(5)]
    assert support.wait_for(lambda: pacs._gate.waiting == 5)
    started = time.monotonic()
    pacs.stop()
    assert time.monotonic() - started < SLOW_ACSE / 2
    for sock in silent:
        assert read_until_closed(sock) == b""
        sock.close()


# ---------------------------------------------------------------- floods
def test_listen_backlog_is_not_five(pacs):
    assert pacs._server.request_queue_size == socket.SOMAXCONN
    ss = shutil.which("ss")
    if ss is None:
        pytest.skip("ss (iproute2) is not installed")
    out = subprocess.run([ss, "-ltnH", f"sport = :{pacs.port}"], capture_output=True, text=True)
    # For a listening socket ss prints the backlog as Send-Q (the 3rd column).
    backlog = int(out.stdout.split()[2])
    with open("/proc/sys/net/core/somaxconn") as f:
        assert backlog == min(socket.SOMAXCONN, int(f.read())) > 5


def test_open_and_close_flood_is_screened_without_threads(pacs):
    for _ in range(200):
        socket.create_connection(("127.0.0.1", pacs.port), timeout=10).close()
    assert echo_ok(pacs)
    assert support.wait_for(lambda: pacs._gate.waiting == 0)
    assert not [e for e in pacs.events if isinstance(e, ev.Note)]  # nothing to report
    assert pacs._server.started == 1  # the echo: empty connections never became one


# ---------------------------------------------------------------- the context list
def test_supported_contexts_are_shared_not_copied(pacs):
    """Guard: pynetdicom deep-copies server.contexts per connection; ours make that a list copy.

    Fails loudly if a pynetdicom release stops using deepcopy there (then
    SharedContexts is unused: remove it) or if negotiation ever changes a
    supported context (then sharing them would be wrong).
    """
    from pynetdicom.transport import RequestHandler

    assert "deepcopy" in RequestHandler._create_association.__code__.co_names
    contexts = pacs._server.contexts
    assert isinstance(contexts, engine.SharedContexts)
    clone = copy.deepcopy(contexts)
    assert clone == list(contexts) and all(a is b for a, b in zip(clone, contexts, strict=True))

    def snapshot():
        return [
            (cx.abstract_syntax, tuple(cx.transfer_syntax), cx.scu_role, cx.scp_role)
            for cx in contexts
        ]

    before = snapshot()
    seen = []
    from pynetdicom import evt

    def grab(event):
        seen.append(event.assoc.acceptor.supported_contexts)

    pacs._server.bind(evt.EVT_ACCEPTED, grab)
    assoc = associate(
        pacs,
        CTImageStorage,
        PatientRootQueryRetrieveInformationModelGet,
        Verification,
        ext_neg=[build_role(CTImageStorage, scp_role=True)],
    )
    assert assoc.is_established
    assoc.release()
    assert seen and seen[0][0] is contexts[0]
    assert snapshot() == before


# ---------------------------------------------------------------- who may associate
def test_a_peer_of_another_user_is_rejected_with_a_reason(pacs, monkeypatch):
    from medlab import peers

    monkeypatch.setattr(peers, "peer_uid", lambda sock: 4242)
    assoc = associate(pacs)
    assert assoc.is_rejected
    rj = assoc.acceptor.primitive
    assert (rj.result, rj.result_source, rj.diagnostic) == (1, 1, 3)
    assert support.wait_for(lambda: len(pacs._ae.active_associations) == 0)
    rejects = [e for e in pacs.events if isinstance(e, ev.AssociationReject)]
    assert rejects[-1].reason == "calling-AE-title-not-recognized"
    assert rejects[-1].result == "rejected-permanent"
    [note] = [e for e in pacs.events if isinstance(e, ev.Note) and e.message == "REFUSED"]
    assert "belongs to another user" in note.text and "uid 4242" in note.text
    assert "serves only its own user's processes" in note.text
    assert note.assoc == rejects[-1].assoc


def test_same_user_passes_and_a_widened_policy_accepts_others(tmp_path, monkeypatch):
    from medlab import peers

    with PACS(root=tmp_path / "a") as pacs:
        assert echo_ok(pacs)  # the default: this very user
    monkeypatch.setattr(peers, "peer_uid", lambda sock: 4242)
    cfg = PACSConfig(port=0, root=tmp_path / "b", accept_peers="local")
    with PACS(config=cfg) as pacs:
        assert echo_ok(pacs)
    monkeypatch.setenv("MEDLAB_ACCEPT_PEERS", "local")
    with PACS(root=tmp_path / "c") as pacs:
        assert echo_ok(pacs)


def test_a_peer_that_cannot_be_checked_is_rejected(pacs, monkeypatch):
    """Fail closed: pynetdicom swallows a handler's exception and would then accept."""
    from medlab import peers

    def broken(sock, policy=None):
        raise RuntimeError("no socket table")

    monkeypatch.setattr(peers, "check_peer", broken)
    assoc = associate(pacs)
    assert assoc.is_rejected
    assert support.wait_for(
        lambda: any(
            "cannot be checked (no socket table)" in getattr(e, "text", "") for e in pacs.events
        )
    )


def test_accept_peers_setting_is_checked():
    with pytest.raises(MedlabError, match="accept_peers"):
        PACSConfig(accept_peers="everyone")
    assert PACSConfig(accept_peers=" Same-User ").accept_peers == "same-user"
    assert PACSConfig.from_dict({"accept_peers": "local"}).accept_peers == "local"


def test_peer_uid_netlink_and_proc_agree():
    """The netlink look-up and the /proc/net/tcp fallback find the same owner."""
    import os

    from medlab import peers

    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        conn, _ = server.accept()
        with client, conn:
            ours, theirs = peers._endpoints(conn)
            assert peers._proc_uid(ours, theirs) == os.getuid()
            via_netlink = peers._diag_uid(theirs, ours)
            if via_netlink is None:
                pytest.skip("this kernel has no socket diagnostics (the /proc path is used)")
            assert via_netlink == os.getuid()
            assert peers._diag_uid(theirs, (ours[0], 1)) is None  # no such socket


# ---------------------------------------------------------------- helpers
def _echo_rq(called: str = "MEDLAB") -> bytes:
    """An A-ASSOCIATE-RQ PDU proposing Verification, as bytes (pynetdicom's encoder)."""
    from pynetdicom import build_context
    from pynetdicom.pdu import A_ASSOCIATE_RQ
    from pynetdicom.pdu_primitives import (
        A_ASSOCIATE,
        ImplementationClassUIDNotification,
        MaximumLengthNotification,
    )

    primitive = A_ASSOCIATE()
    primitive.application_context_name = "1.2.840.10008.3.1.1.1"
    primitive.calling_ae_title = "RAWSCU"
    primitive.called_ae_title = called
    cx = build_context(Verification)
    cx.context_id = 1
    primitive.presentation_context_definition_list = [cx]
    length, uid = MaximumLengthNotification(), ImplementationClassUIDNotification()
    length.maximum_length_received = 16384
    uid.implementation_class_uid = "1.2.826.0.1.3680043.9.3811.1"
    primitive.user_information = [length, uid]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(primitive)
    encoded = pdu.encode()
    assert re.match(rb"\x01\x00", encoded)
    return encoded
