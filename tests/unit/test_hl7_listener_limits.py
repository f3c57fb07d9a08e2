"""The HL7 listener under abuse: a frame over its limit gets an AR that says so (not silence
that makes a sender resend it forever), leftover temporary files are cleaned at start, and a
peer that is not this user's own process is refused (closed connection, log line)."""

from __future__ import annotations

import logging
import socket

import pytest

import medlab.hl7 as hl7
from medlab import peers, settings
from medlab.errors import MedlabError
from medlab.hl7 import samples
from medlab.hl7.mllp import FrameReader

SB, EB, CR = b"\x0b", b"\x1c", b"\r"
LIMIT = 2000


def read_frame(sock, timeout=10.0):
    sock.settimeout(timeout)
    reader = FrameReader()
    while True:
        data = sock.recv(4096)
        assert data, "connection closed without an ACK"
        frames = [p for kind, p in reader.feed(data) if kind == "frame"]
        if frames:
            return frames[0].decode()


def msa(ack_text):
    seg = next(s for s in ack_text.split("\r") if s.startswith("MSA"))
    return seg.split("|")


def big_message(size):
    return samples.ADT_A01 + "\rNTE|1||" + "X" * size


@pytest.fixture
def listener(tmp_path):
    with hl7.Listener(port=0, store=tmp_path / "store", idle_timeout=10, max_frame=LIMIT) as lis:
        yield lis


@pytest.mark.parametrize("chunk", [None, 100], ids=["one-write", "many-writes"])
def test_oversized_frame_is_answered_ar_then_the_connection_goes_on(listener, chunk, caplog):
    data = SB + big_message(50_000).encode() + EB + CR
    with caplog.at_level(logging.WARNING, logger="medlab.hl7"):
        with socket.create_connection((listener.host, listener.port)) as sock:
            if chunk is None:
                sock.sendall(data)
            else:
                for i in range(0, len(data), chunk):
                    sock.sendall(data[i : i + chunk])
            reply = read_frame(sock)
            fields = msa(reply)
            assert fields[1:3] == ["AR", "01052901"]  # answers the sender's control ID
            assert f"limit of {LIMIT} bytes" in reply and "not stored" in reply
            # the same connection still works for the next, normal message
            sock.sendall(SB + samples.ORM_O01.encode() + EB + CR)
            assert msa(read_frame(sock))[1] == "AA"
    [event] = [e for e in listener.events if e.kind == "oversized"]
    size = len(big_message(50_000).encode())
    assert f"message of {size} bytes" in event.detail
    assert any("larger than this receiver's limit" in r.getMessage() for r in caplog.records)
    stored = sorted(p.name for p in listener.store.glob("*.hl7"))
    assert len(stored) == 1 and "ORM" in stored[0]  # the oversized one was not stored


def test_frame_reader_memory_is_bounded_while_skipping():
    reader = FrameReader(max_frame=1000)
    out = reader.feed(SB + b"MSH|^~\\&|A" + b"x" * 5000)
    assert out == [] and reader.pending > 5000 and len(reader.buffer) <= 1
    for _ in range(100):
        assert reader.feed(b"y" * 10_000) == []
    assert len(reader.buffer) <= 1
    out = reader.feed(b"z" + EB + CR + SB + b"MSH|ok" + EB + CR)
    assert out[0] == ("oversized", (b"MSH|^~\\&|A" + b"x" * 5000)[:4096])
    assert reader.oversized_size == 10 + 5000 + 1_000_000 + 1
    assert out[1] == ("frame", b"MSH|ok")
    # the end block split across two reads
    reader.feed(SB + b"a" * 2000 + EB)
    assert reader.feed(CR) == [("oversized", b"a" * 2000)]
    # exactly at the limit is still a frame
    assert reader.feed(SB + b"b" * 1000 + EB + CR) == [("frame", b"b" * 1000)]


def test_leftover_incoming_files_are_removed_at_start(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / ".incoming-abc123").write_text("MSH|half a message")
    (store / "000007_ADT_A01_X_AA.hl7").write_text("MSH|kept")
    with hl7.Listener(port=0, store=store) as listener:
        assert not list(store.glob(".incoming-*"))
        assert (store / "000007_ADT_A01_X_AA.hl7").exists()
        reply = hl7.send(listener.host, listener.port, samples.ADT_A01)
    assert msa(hl7.message.original_text(reply))[1] == "AA"
    assert sorted(p.name[:6] for p in store.glob("*.hl7")) == ["000007", "000008"]


# ---- who may connect (the two-user proof is tests/unit/test_two_users.py) ----------------
def test_same_user_loopback_peer_is_recognised():
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        conn, _ = server.accept()
        with client, conn:
            assert peers.peer_uid(conn) == __import__("os").getuid()
            assert peers.same_user_peer(conn)
            verdict = peers.check_peer(conn, "same-user")
            assert verdict and verdict.uid is not None and "same user" in verdict.reason


def test_ipv6_loopback_peer_is_found_in_tcp6():
    try:
        server = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with server:
        client = socket.create_connection(server.getsockname()[:2])
        conn, _ = server.accept()
        with client, conn:
            assert peers.peer_uid(conn) == __import__("os").getuid()


def test_a_peer_whose_owner_is_another_uid_is_refused(monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(peers, "peer_uid", lambda sock: 4242)
    with caplog.at_level(logging.WARNING, logger="medlab.hl7"):
        with hl7.Listener(port=0, store=tmp_path / "s") as listener:
            with pytest.raises(MedlabError, match="other users' processes"):
                hl7.send(listener.host, listener.port, samples.ADT_A01, timeout=5)
            [event] = [e for e in listener.events if e.kind == "refused"]
    assert "another user" in event.detail and "uid 4242" in event.detail
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert listener.messages == []


def test_an_unknown_owner_is_refused_and_local_policy_accepts_any_user(monkeypatch, tmp_path):
    monkeypatch.setattr(peers, "peer_uid", lambda sock: None)
    with hl7.Listener(port=0, store=tmp_path / "a") as listener:
        with pytest.raises(MedlabError):
            hl7.send(listener.host, listener.port, samples.ADT_A01, timeout=5)
    monkeypatch.setenv("MEDLAB_ACCEPT_PEERS", "local")
    with hl7.Listener(port=0, store=tmp_path / "b") as listener:
        assert listener.peers == "local"
        reply = hl7.send(listener.host, listener.port, samples.ADT_A01)
    assert msa(hl7.message.original_text(reply))[1] == "AA"


def test_peer_policy_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("MEDLAB_ACCEPT_PEERS", raising=False)
    monkeypatch.setenv("MEDLAB_CONFIG", str(tmp_path / "c.toml"))
    (tmp_path / "c.toml").write_text("")
    assert settings.peer_policy() == "same-user"
    (tmp_path / "c.toml").write_text('[peers]\naccept = "any"\n')
    assert settings.peer_policy() == "any"
    monkeypatch.setenv("MEDLAB_ACCEPT_PEERS", "everyone")
    with pytest.raises(MedlabError, match="not a peer policy") as err:
        settings.peer_policy()
    assert "same-user" in err.value.fix


def test_non_loopback_peer_is_refused_unless_any(monkeypatch):
    addresses = ((peers._address("10.0.0.5", 11112)), peers._address("10.0.0.9", 40000))
    monkeypatch.setattr(peers, "_endpoints", lambda sock: addresses)
    verdict = peers.check_peer(object(), "same-user")
    assert not verdict and "not on this machine" in verdict.reason
    assert not peers.check_peer(object(), "local")
    assert peers.check_peer(object(), "any")


def test_proc_address_parsing():
    assert peers._parse_proc_address("0100007F:1F90") == peers._address("127.0.0.1", 8080)
    v6_loop = "00000000000000000000000001000000:0050"
    assert peers._parse_proc_address(v6_loop) == peers._address("::1", 80)
    mapped = "0000000000000000FFFF00000100007F:0050"
    assert peers._parse_proc_address(mapped) == peers._address("127.0.0.1", 80)
