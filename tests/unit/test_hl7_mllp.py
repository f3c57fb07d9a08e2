"""The MLLP listener driven by raw sockets: framing, garbage, cut-off frames, concurrency."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import support
from support import wait_for

import medlab.hl7 as hl7
from medlab.errors import MedlabError
from medlab.hl7 import samples

SB, EB, CR = b"\x0b", b"\x1c", b"\r"


@pytest.fixture
def listener(tmp_path):
    with hl7.Listener(port=0, store=tmp_path / "store", idle_timeout=10) as lis:
        yield lis
    assert lis._server is None


def test_frame_bytes_are_the_mllp_envelope():
    assert hl7.frame("MSH|x") == b"\x0bMSH|x\x1c\x0d"
    assert hl7.unframe(b"junk\x0bA\x1c\rmore\x0bB\x1c\r\x0bC") == [b"A", b"B"]


def test_raw_socket_gets_aa_and_the_message_is_stored(listener):
    with socket.create_connection((listener.host, listener.port)) as sock:
        sock.sendall(SB + samples.ADT_A01.encode() + EB + CR)
        reply = support.read_frame(sock)
    assert support.msa(reply)[1:3] == ["AA", "01052901"]
    assert reply.split("\r")[0].split("|")[8] == "ACK^A01^ACK"
    [record] = listener.messages
    assert record.code == "AA" and record.message_type == "ADT^A01"
    assert record.path.read_bytes().decode("utf-8").rstrip("\r") == samples.ADT_A01
    assert not list(record.path.parent.glob(".incoming-*"))  # atomic: no temporary file left


def test_message_split_across_many_tcp_writes(listener):
    data = SB + samples.ORM_O01.encode() + EB + CR
    with socket.create_connection((listener.host, listener.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(data), 7):
            sock.sendall(data[i : i + 7])
            time.sleep(0.001)
        assert support.msa(support.read_frame(sock))[1] == "AA"


def test_garbage_around_frames_is_skipped_and_both_messages_answered(listener):
    payload = (
        b"\x00\xffnoise"
        + SB
        + samples.ADT_A06.encode()
        + EB
        + CR
        + b"\r\njunk"
        + SB
        + samples.ORU_R01.encode()
        + EB
        + CR
    )
    with socket.create_connection((listener.host, listener.port)) as sock:
        sock.sendall(payload)
        first, second = support.read_frame(sock), support.read_frame(sock)
    assert support.msa(first)[1:3] == ["AA", "CH0007"] and support.msa(second)[1:3] == [
        "AA",
        "RPT000123",
    ]
    assert wait_for(lambda: sum(e.kind == "garbage" for e in listener.events) >= 2)


def test_unparsable_gets_ae_and_unsupported_type_gets_ar(listener):
    with socket.create_connection((listener.host, listener.port)) as sock:
        sock.sendall(hl7.frame(samples.ADT_A06 + "\rXYZ|1"))
        ae = support.read_frame(sock)
        sock.sendall(hl7.frame(samples.ADT_A06.replace("ADT^A06^ADT_A06", "QRY^A19")))
        ar = support.read_frame(sock)
        sock.sendall(hl7.frame("this is not HL7 at all"))
        ae2 = support.read_frame(sock)
    assert support.msa(ae)[1:3] == ["AE", "CH0007"] and "XYZ" in ae
    assert support.msa(ar)[1] == "AR" and "200^Unsupported message type" in ar
    assert support.msa(ae2)[1] == "AE"
    assert [m.code for m in listener.messages] == ["AE", "AR", "AE"]
    assert all(m.path.is_file() for m in listener.messages)  # every message is stored


def test_peer_disconnecting_mid_frame_does_not_stop_the_listener(listener):
    with socket.create_connection((listener.host, listener.port)) as sock:
        sock.sendall(SB + samples.ADT_A01.encode()[:50])
    assert wait_for(lambda: any(e.kind == "incomplete" for e in listener.events))
    reply = hl7.send(listener.host, listener.port, samples.ADT_A01)
    assert reply.msa.msa_1.to_er7() == "AA"
    assert len(listener.messages) == 1


def test_a_new_start_block_abandons_a_cut_off_frame(listener):
    with socket.create_connection((listener.host, listener.port)) as sock:
        sock.sendall(SB + b"MSH|^~\\&|half a mess" + SB + samples.ADT_A06.encode() + EB + CR)
        assert support.msa(support.read_frame(sock))[1:3] == ["AA", "CH0007"]
    assert len(listener.messages) == 1


def test_several_senders_at_once(listener):
    results: list[str] = []
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            text = samples.ADT_A06.replace("CH0007", f"C{n:04d}")
            with socket.create_connection((listener.host, listener.port)) as sock:
                for k in range(5):
                    sock.sendall(hl7.frame(text.replace(f"C{n:04d}", f"C{n:04d}-{k}")))
                    results.append(support.msa(support.read_frame(sock))[2])
        except BaseException as exc:  # reported below
            errors.append(exc)

    # one slow sender holds its connection open while the others talk
    slow = socket.create_connection((listener.host, listener.port))
    slow.sendall(SB + b"MSH|^~\\&|")
    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    slow.close()
    assert not errors
    assert sorted(results) == sorted(f"C{n:04d}-{k}" for n in range(8) for k in range(5))
    assert len({m.path for m in listener.messages}) == 40


def test_handler_errors_become_ae_and_the_listener_carries_on(tmp_path):
    def handler(msg):
        if msg.msh.msh_10.to_er7() == "CH0007":
            raise MedlabError("No bed 12 on ward W2", where="PV1-3")
        if msg.msh.msh_10.to_er7() == "BOOM":
            raise RuntimeError("bug")

    with hl7.Listener(port=0, store=tmp_path, on_message=handler) as lis:
        first = hl7.send(lis.host, lis.port, samples.ADT_A06)
        second = hl7.send(lis.host, lis.port, samples.ADT_A06.replace("CH0007", "BOOM"))
        third = hl7.send(lis.host, lis.port, samples.ADT_A01)
    assert first.msa.msa_1.to_er7() == "AE" and "No bed 12" in hl7.er7(first)
    assert "PV1^1^3" in hl7.er7(first)
    assert second.msa.msa_1.to_er7() == "AE" and "RuntimeError" in hl7.er7(second)
    assert third.msa.msa_1.to_er7() == "AA"


def test_store_numbering_continues_in_an_existing_folder(tmp_path):
    for _ in range(2):
        with hl7.Listener(port=0, store=tmp_path) as lis:
            hl7.send(lis.host, lis.port, samples.ADT_A06)
    names = sorted(p.name for p in tmp_path.glob("*.hl7"))
    assert [n[:6] for n in names] == ["000001", "000002"]


def test_default_store_is_under_medlab_home(medlab_home):
    with hl7.Listener(port=0) as lis:
        hl7.send(lis.host, lis.port, samples.ADT_A06)
    assert lis.messages[0].path.parent == medlab_home / "hl7"
    assert lis.host == "127.0.0.1"


def test_send_errors_are_plain(tmp_path):
    port = support.free_port()
    with pytest.raises(MedlabError, match="Nobody is listening"):
        hl7.send("127.0.0.1", port, samples.ADT_A06)
    with (
        hl7.Listener(port=0, store=tmp_path) as lis,
        pytest.raises(MedlabError, match="Cannot listen"),
    ):
        hl7.Listener(port=lis.port, store=tmp_path / "another-store").start()


def test_stop_closes_the_port_and_ends_every_thread(tmp_path):
    before = {t.ident for t in threading.enumerate()}
    with hl7.Listener(port=0, store=tmp_path) as lis:
        idle = socket.create_connection((lis.host, lis.port))  # a client that never sends
        hl7.send(lis.host, lis.port, samples.ADT_A06)
        port = lis.port
    idle.close()
    assert wait_for(lambda: {t.ident for t in threading.enumerate()} <= before)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_send_reports_a_peer_that_closes_without_acknowledging():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def accept_and_close():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=accept_and_close)
    thread.start()
    try:
        with pytest.raises(MedlabError, match="No acknowledgement came back"):
            hl7.send("127.0.0.1", server.getsockname()[1], samples.ADT_A06, timeout=5)
    finally:
        thread.join(10)
        server.close()
