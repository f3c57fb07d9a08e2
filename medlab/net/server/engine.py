"""How the PACS drives pynetdicom and socketserver: tuning, closing, failure answers.

The two private names medlab touches live here, each beside its reason, and
``tests/unit/test_pacs_server.py`` fails (not a silent no-op) if either is gone:

* pynetdicom's ``DULServiceProvider._run_loop_delay`` (:func:`tune_association`);
* socketserver's name-mangled ``BaseServer.__shutdown_request``
  (:func:`shutdown_promptly`).

It also holds the PACS's own association server (:class:`PacsServer`, a
subclass of pynetdicom's public ``ThreadedAssociationServer`` made with the
documented ``AE.make_server``), so that junk, floods and slow peers cannot
hold the PACS hostage:

* a connection waits at the :class:`AssociationGate`, holding **no**
  association slot, until a whole A-ASSOCIATE-RQ has arrived; a first byte
  that is not the start of one ends the connection at once (A-ABORT, close);
* the listen backlog is ``socket.SOMAXCONN``, not socketserver's 5;
* the server's supported presentation contexts are shared read-only by every
  association instead of deep-copied per connection (:class:`SharedContexts`).

``tests/unit/test_pacs_guard.py`` proves each, and fails loudly if a
pynetdicom release changes what they rely on.
"""

from __future__ import annotations

import gc
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

LOGGER = logging.getLogger("medlab.net")

#: pynetdicom's DUL polls its socket every ``_run_loop_delay`` seconds (1 ms by
#: default, a private attribute of pynetdicom 3.0). 0.1 ms makes the PACS 20-40 %
#: faster without spinning a core on an idle association (0 would); measured in
#: /work/shared/notes/pacs.md ("what moved the needle"). pyproject pins
#: pynetdicom 3.0.x.
DUL_POLL_DELAY = 1e-4

#: The private names above, for the guard tests.
DUL_DELAY_ATTRIBUTE = "_run_loop_delay"
SHUTDOWN_FLAG_ATTRIBUTE = "_BaseServer__shutdown_request"


def tune_association(assoc: Any) -> None:
    """Tune one accepted association: DUL poll delay, ARTIM timer and TCP_NODELAY.

    * :data:`DUL_POLL_DELAY` (pynetdicom's private ``_run_loop_delay``).
    * :data:`ARTIM_TIMEOUT` on the DUL's public ``artim_timer``.
    * ``TCP_NODELAY`` on the socket: pynetdicom sends a DIMSE message's command
      and data set as separate P-DATA PDUs; with Nagle's algorithm on, the
      second waits for the peer's delayed ACK (≈ 40 ms on Linux) — every C-FIND
      response would cost 40 ms.
    """
    dul = assoc.dul
    # Private pynetdicom attribute, set without a hasattr() on purpose: if a release
    # renames it, this write creates a dead attribute, and the guard test
    # (test_poll_delay_is_tuned_and_the_private_attribute_still_exists) fails instead of the PACS silently slowing.
    dul._run_loop_delay = DUL_POLL_DELAY
    dul.artim_timer.timeout = ARTIM_TIMEOUT
    raw = getattr(getattr(dul, "socket", None), "socket", None)
    if raw is not None:
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def shutdown_promptly(server: Any, wake: tuple[str, int]) -> None:
    """Stop a socketserver loop at once instead of at its next 0.5 s poll.

    ``serve_forever`` checks its name-mangled private flag only between polls:
    set the flag, then wake the loop with one connection to ``wake``. Without
    this, every ``PACS.stop()`` (every lesson's last cell) waits up to 0.5 s.
    The guard test (test_shutdown_flag_still_exists) fails if the stdlib renames it.
    """
    setattr(server, SHUTDOWN_FLAG_ATTRIBUTE, True)
    try:
        socket.create_connection(wake, timeout=0.5).close()
    except OSError:
        pass
    server.shutdown()


def close_quietly(assoc: Any) -> None:
    """Close an association's connection without going through its state machine."""
    sock = getattr(assoc.dul, "socket", None)
    raw = getattr(sock, "socket", None)
    if raw is not None:
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def failure(status: int, comment: str) -> tuple[Any, None]:
    """A ``(status dataset with Error Comment, None)`` answer for a DIMSE handler."""
    from pydicom import Dataset

    rsp = Dataset()
    rsp.Status = status
    rsp.ErrorComment = comment[:64]
    return rsp, None


# ---------------------------------------------------------------- the association server
#: Listen backlog: connections the kernel queues before ``accept``. socketserver's
#: default is 5, so a burst of connections (a scan, a flood, a class of trainees
#: starting together) is refused by the kernel or stalls in SYN retries.
LISTEN_BACKLOG = socket.SOMAXCONN

#: The ARTIM timer of every association (PS3.8 §9.1.5): how long the PACS waits
#: for the peer to close the connection after an A-ASSOCIATE-RJ, an A-RELEASE-RP
#: or an A-ABORT (state Sta13) before closing it itself. pynetdicom uses the ACSE
#: timeout (10 s here); a well-behaved peer closes within milliseconds, and a peer
#: that does not must not keep an association slot for 10 s.
ARTIM_TIMEOUT = 2.0

#: The longest A-ASSOCIATE-RQ accepted (bytes after the 6-byte PDU header). A real
#: one with 128 contexts of 40 transfer syntaxes each is about 160 KB; a header
#: announcing more is junk (and would make the reader wait for gigabytes).
MAX_RQ_LENGTH = 1 << 20

#: The gate waits until this many bytes of the A-ASSOCIATE-RQ are in (the whole
#: PDU when smaller, as nearly all are); the rest is pynetdicom's to read.
_RQ_READ_AHEAD = 64 * 1024

#: A full garbage collection after this many associations (pynetdicom: every 60
#: turns of the accept loop, see ``PacsServer.service_actions``).
GC_EVERY = 60

#: Connections allowed to wait at the gate at once; one more closes the oldest.
MAX_WAITING = 256

#: PS3.8 §9.3: the PDU types (01H-07H) and their names.
PDU_TYPES = {
    0x01: "A-ASSOCIATE-RQ",
    0x02: "A-ASSOCIATE-AC",
    0x03: "A-ASSOCIATE-RJ",
    0x04: "P-DATA-TF",
    0x05: "A-RELEASE-RQ",
    0x06: "A-RELEASE-RP",
    0x07: "A-ABORT",
}


class SharedContexts(list):
    """The server's supported presentation contexts, shared by every association.

    pynetdicom 3.0's request handler gives each accepted connection
    ``deepcopy(server.contexts)`` (``transport.RequestHandler``), before a byte
    is read. The PACS supports ~180 abstract syntaxes with up to 45 transfer
    syntaxes each (7,700 pydicom ``UID`` objects): that copy cost 76-96 ms of
    CPU per connection on a quiet machine, 650 ms on a loaded one, paid by every
    ``echoscu`` and every junk connection. Negotiation only *reads* the acceptor's
    contexts (``presentation.negotiate_as_acceptor`` builds new result
    contexts), so a copy of the list that shares the context objects is enough.

    Why this and not a leaner list: what the PACS accepts stays exactly as it
    was (every storage SOP class, compressed syntaxes first), and the cost no
    longer depends on the list's length. The deepcopy protocol is Python's; if
    pynetdicom stops deep-copying, this is simply unused. The guard test
    (``test_supported_contexts_are_shared_not_copied``) fails if pynetdicom
    changes how associations get them, or if an association ever changes one.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return list(self)


class AssociationGate:
    """Where a new connection waits, holding no association slot, for its A-ASSOCIATE-RQ.

    pynetdicom starts an association (two threads, and a slot counted against
    ``maximum_associations``) for every accepted TCP connection. The gate runs
    first, in the connection's request-handler thread, and lets it through only
    once a whole A-ASSOCIATE-RQ has arrived (``SO_RCVLOWAT`` + ``poll``: no
    busy loop, and the bytes stay in the socket for pynetdicom to read). What the
    PS3.8 state machine (§9.2, state Sta2) does with anything else:

    * the peer closes, or sends A-ABORT (Evt17, Evt16): the connection is closed
      (AA-5, AA-2);
    * a byte that is no PDU type, or a PDU other than A-ASSOCIATE-RQ (Evt19,
      Evt3/4/10/12/13): AA-1, an A-ABORT PDU, then the connection is closed at
      once (an ARTIM of zero: a peer that sends junk does not speak DICOM);
      an A-ASSOCIATE-RQ announcing more than :data:`MAX_RQ_LENGTH` bytes is
      an invalid PDU too;
    * nothing, or not a whole A-ASSOCIATE-RQ, within ``timeout`` (the ARTIM
      timer of Sta2): closed (AA-2).

    At most :data:`MAX_WAITING` connections wait; one more closes the oldest
    waiting one (a real association request spends microseconds here).
    ``report(peer, message, text)`` is called for what a lesson or an
    instructor should see (``INVALID-PDU`` or ``NO-REQUEST``; not for a peer
    that simply closed).
    """

    def __init__(
        self,
        timeout: float,
        report: Callable[[str, str, str], None] | None = None,
        max_waiting: int | None = None,
    ) -> None:
        self.timeout = timeout
        self.report = report or (lambda peer, message, text: None)
        self.max_waiting = max_waiting or MAX_WAITING
        self._waiting: dict[socket.socket, None] = {}  # insertion order = age
        self._lock = threading.Lock()
        self._closed = False

    @property
    def waiting(self) -> int:
        """How many connections are waiting at the gate now."""
        return len(self._waiting)

    def admit(self, sock: socket.socket, peer: str) -> bool:
        """Wait for ``sock``'s A-ASSOCIATE-RQ; True to let it through, else it is closed."""
        evicted = None
        with self._lock:
            if self._closed:
                _close(sock)
                return False
            self._waiting[sock] = None
            if len(self._waiting) > self.max_waiting:
                evicted = next(iter(self._waiting))
                del self._waiting[evicted]
        if evicted is not None:
            _wake(evicted)  # its own thread sees the end of stream and closes it
        try:
            verdict = self._await_request(sock, time.monotonic() + self.timeout)
        except OSError:
            verdict = ("", "")
        finally:
            with self._lock:
                self._waiting.pop(sock, None)
        if verdict is None:
            _set_low_water(sock, 1)
            return True
        self._refuse(sock, peer, *verdict)
        return False

    def screen(self, sock: socket.socket, peer: str) -> str:
        """A first look, in the accepting thread, without waiting.

        Returns ``"done"`` when the connection is already dealt with: a peer
        that has closed, or whose first byte is no A-ASSOCIATE-RQ, is handled
        here, without a thread of its own (a flood of connections opened and
        closed costs an ``accept`` and a ``recv`` each). ``"ready"`` when a whole
        A-ASSOCIATE-RQ is already in (no need to wait in a thread of its own);
        ``"wait"`` otherwise (:meth:`admit`, in its own thread).
        """
        try:
            head = sock.recv(6, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return "wait"  # nothing yet
        except OSError:
            _close(sock)
            return "done"
        verdict = _first_byte_verdict(head[:1])
        if verdict is not None:
            self._refuse(sock, peer, *verdict)
            return "done"
        if len(head) == 6:
            wanted = 6 + int.from_bytes(head[2:6], "big")
            if wanted <= _RQ_READ_AHEAD:
                try:
                    whole = sock.recv(wanted, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                except OSError:
                    return "wait"
                if len(whole) == wanted:
                    return "ready"
        return "wait"

    def _refuse(self, sock: socket.socket, peer: str, message: str, text: str) -> None:
        if message == "INVALID-PDU":
            _abort_and_close(sock)
        else:
            _close(sock)
        if text:
            self.report(peer, message, text)

    def close(self) -> None:
        """Close every waiting connection (the server is stopping) and admit no more."""
        with self._lock:
            self._closed = True
            waiting = list(self._waiting)
        for sock in waiting:
            _wake(sock)

    def _await_request(self, sock: socket.socket, deadline: float) -> tuple[str, str] | None:
        """None when a whole A-ASSOCIATE-RQ is in; else (message, why) for the refusal."""
        first = _peek(sock, 1, deadline)
        if first is None:
            return "NO-REQUEST", f"nothing received within {self.timeout:g} s: connection closed"
        verdict = _first_byte_verdict(first)
        if verdict is not None:
            return verdict
        head = _peek(sock, 6, deadline)
        if head is None or len(head) < 6:
            if head is None:
                return "NO-REQUEST", f"A-ASSOCIATE-RQ header incomplete after {self.timeout:g} s"
            return "", ""
        length = int.from_bytes(head[2:6], "big")
        if length > MAX_RQ_LENGTH:
            return (
                "INVALID-PDU",
                f"A-ASSOCIATE-RQ announcing {length} bytes (more than {MAX_RQ_LENGTH}): "
                "answered A-ABORT, connection closed (PS3.8 §9.2, AA-1)",
            )
        wanted = min(6 + length, _RQ_READ_AHEAD)
        body = _peek(sock, wanted, deadline)
        if body is None:
            return "NO-REQUEST", f"A-ASSOCIATE-RQ not complete within {self.timeout:g} s"
        if len(body) < wanted:
            return "", ""  # closed halfway
        return None


def _first_byte_verdict(first: bytes) -> tuple[str, str] | None:
    """What the first byte of a connection says: None for an A-ASSOCIATE-RQ, else (message, why)."""
    if not first:
        return "", ""  # the peer closed without a byte (a port scan, a health check)
    kind = first[0]
    if kind == 0x01:
        return None
    if kind == 0x07:
        return "", ""  # an A-ABORT: AA-2, just close
    name = PDU_TYPES.get(kind)
    what = (
        f"{name} before any A-ASSOCIATE-RQ"
        if name
        else f"first byte 0x{kind:02X} is not a PDU type (01H-07H, PS3.8 §9.3)"
    )
    return "INVALID-PDU", f"{what}: answered A-ABORT, connection closed (PS3.8 §9.2, AA-1)"


def _set_low_water(sock: socket.socket, count: int) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, count)
    except OSError:
        pass


def _peek(sock: socket.socket, count: int, deadline: float) -> bytes | None:
    """Wait until ``count`` bytes can be read, without reading them.

    Returns them (fewer when the peer closed first: ``b""`` if it sent nothing),
    or None at the deadline. ``SO_RCVLOWAT`` makes ``poll`` wake only once
    ``count`` bytes are in or the stream ended: no polling loop.
    """
    _set_low_water(sock, count)
    poller = select.poll()  # not select(): no limit on the descriptor's number
    poller.register(sock, select.POLLIN)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if poller.poll(left * 1000):
            # Readable with fewer than ``count`` bytes means the stream ended.
            return sock.recv(count, socket.MSG_PEEK)


def _wake(sock: socket.socket) -> None:
    """End a waiting connection from another thread (its ``poll`` returns)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _close(sock: socket.socket) -> None:
    _wake(sock)
    try:
        sock.close()
    except OSError:
        pass


def _abort_and_close(sock: socket.socket) -> None:
    """AA-1: send an A-ABORT PDU, then close without waiting for the peer.

    The bytes already received are read first (up to 1 MiB), so that closing
    sends FIN rather than RST and the peer can still read the A-ABORT.
    """
    from pynetdicom.pdu import A_ABORT_RQ

    pdu = A_ABORT_RQ()  # source 0 (service-user), reason 0: AA-1 as PS3.8 Table 9-7 says
    pdu.source = 0x00
    pdu.reason_diagnostic = 0x00
    try:
        sock.setblocking(False)
        drained = 0
        while drained < (1 << 20):
            chunk = sock.recv(65536)
            if not chunk:
                break
            drained += len(chunk)
    except OSError:  # nothing more to read now (BlockingIOError) or already reset
        pass
    try:
        sock.setblocking(True)
        sock.settimeout(1.0)
        sock.sendall(pdu.encode())
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _request_handler_class() -> type:
    from pynetdicom.transport import RequestHandler

    class GatedRequestHandler(RequestHandler):
        """pynetdicom's request handler, behind the :class:`AssociationGate`."""

        def handle(self) -> None:
            server = self.server
            peer = "%s:%s" % tuple(self.client_address[:2])  # noqa: UP031
            if server.gate.admit(self.request, peer):  # type: ignore[attr-defined]
                server.started += 1  # type: ignore[attr-defined]
                super().handle()

    return GatedRequestHandler


def make_server(
    ae: Any,
    address: tuple[str, int],
    handlers: list[Any],
    gate: AssociationGate,
) -> Any:
    """Start the PACS's association server on a daemon thread, and return it.

    Made with pynetdicom's documented ``AE.make_server(server_class=...)``:
    a :class:`~pynetdicom.transport.ThreadedAssociationServer` subclass with
    the :data:`LISTEN_BACKLOG`, the gated request handler and
    :class:`SharedContexts`.
    """
    from pynetdicom.transport import ThreadedAssociationServer

    class PacsServer(ThreadedAssociationServer):
        """The PACS's association server (see the module docstring)."""

        request_queue_size = LISTEN_BACKLOG

        def __init__(self, *args: Any, gate: AssociationGate, **kwargs: Any) -> None:
            self.gate = gate
            self.started = 0  # associations started since the last collection
            super().__init__(*args, **kwargs)

        def service_actions(self) -> None:
            """Collect ended associations' garbage every 60 associations, not every 60 turns.

            pynetdicom runs a full ``gc.collect()`` every 60 turns of the accept
            loop, to free ended associations (reference cycles). A turn is any
            connection, and a full collection costs 20-80 ms: a flood of 1,000
            empty connections paid 16 of them before the next real request was
            even accepted. Only associations leave cycles behind, so count those.
            """
            if self.started >= GC_EVERY:
                self.started = 0
                gc.collect()

        def process_request(self, request: Any, client_address: Any) -> None:
            """Screen the connection in this (accepting) thread; a thread only if it must wait.

            A connection whose whole A-ASSOCIATE-RQ is already in goes straight
            to pynetdicom's handler here (it only builds the association and
            starts its thread): one thread hop fewer for every association.
            """
            peer = "%s:%s" % tuple(client_address[:2])  # noqa: UP031
            verdict = self.gate.screen(request, peer)
            if verdict == "ready":
                self.finish_request(request, client_address)
            elif verdict == "wait":
                super().process_request(request, client_address)

        def shutdown(self) -> None:
            """Stop serving, release the connections at the gate, close the socket.

            pynetdicom's ``shutdown`` also takes the server out of the AE's list
            of servers, which only ``AE.start_server`` puts it in; this server is
            the PACS's own, made with ``make_server``, and stopped by the PACS.
            """
            import socketserver

            socketserver.BaseServer.shutdown(self)
            self.gate.close()
            self.server_close()

    server = ae.make_server(
        address,
        contexts=SharedContexts(ae.supported_contexts),
        evt_handlers=handlers,
        server_class=PacsServer,
        request_handler=_request_handler_class(),
        gate=gate,
    )
    thread = threading.Thread(
        target=server.serve_forever, name=f"medlab-pacs-{server.server_address[1]}", daemon=True
    )
    thread.start()
    return server
