"""MLLP: how HL7 v2 messages travel over TCP, with a listener and a sender.

The Minimal Lower Layer Protocol (HL7 v2.x Implementation Guide, Transport
Specification: MLLP, release 2) wraps each message in a *frame*:

    0x0B  <message bytes>  0x1C 0x0D
    (VT, start block)      (FS, end block, then CR)

Nothing else: no length, no header. The receiver reads until it sees 0x1C 0x0D,
then answers on the same connection with an acknowledgement in a frame of
its own. Bytes outside frames are noise to skip, and a connection closed in
the middle of a frame loses that message (the sender, never having received
its ACK, must send it again).

:class:`Listener` is a small receiving system: it stores every message it
receives (atomically, one file each), answers **AA** when it can parse and
accept the message, **AE** when it cannot parse it (or a handler fails), and
**AR** when the message type is not one it supports, or when the frame is
larger than its limit (so the sender stops resending it). It serves each
connection in its own thread, so several senders can talk at once.

On a shared host it serves only its own user's processes: a peer of another
user (or another host) is logged and its connection closed at once, before a
byte is read (:mod:`medlab.peers`; an instructor can widen it for a department
test system with :func:`medlab.settings.peer_policy`).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab import paths
from medlab.errors import MedlabError
from medlab.hl7.message import DEFAULT_DELIMITERS, delimiters, msh_fields, normalize, original_text

if TYPE_CHECKING:
    from hl7apy.core import Message

START_BLOCK = b"\x0b"  # VT
END_BLOCK = b"\x1c"  # FS
CARRIAGE_RETURN = b"\x0d"
END = END_BLOCK + CARRIAGE_RETURN

LOGGER = logging.getLogger("medlab.hl7")

#: Bytes of an oversized frame kept to answer it (its MSH is in there).
_HEAD = 4096

#: Message codes (MSH-9.1) the listener accepts unless told otherwise.
DEFAULT_ACCEPT = frozenset({"ADT", "ORM", "OMI", "OMG", "ORU", "SIU"})


def frame(msg: Any) -> bytes:
    """Wrap a message (text, bytes or parsed) in an MLLP frame, encoded as UTF-8.

    >>> frame("MSH|^~\\\\&|A")
    b'\\x0bMSH|^~\\\\&|A\\x1c\\r'
    """
    if isinstance(msg, bytes):
        body = msg
    else:
        body = (msg if isinstance(msg, str) else original_text(msg)).encode("utf-8")
    return START_BLOCK + body + END


def unframe(data: bytes) -> list[bytes]:
    """The payloads of the complete frames in ``data`` (anything else is skipped)."""
    reader = FrameReader()
    return [payload for kind, payload in reader.feed(data) if kind == "frame"]


class FrameReader:
    """Incremental MLLP deframer: feed it bytes as they arrive, get frames out.

    ``feed`` returns a list of ``("frame", payload)``, ``("garbage", bytes)`` and
    ``("oversized", head)`` items; :attr:`pending` is the number of bytes of an
    unfinished frame. A frame longer than ``max_frame`` is not kept: its first
    bytes (``head``, with the MSH to answer it) are, the rest is counted and
    dropped up to its end block, so memory stays bounded;
    :attr:`oversized_size` is then its length.
    """

    def __init__(self, max_frame: int = 1 << 20) -> None:
        self.buffer = bytearray()
        self.max_frame = max_frame
        self.oversized_size = 0
        self._skipping = False  # inside a frame that is over the limit
        self._head = b""
        self._skipped = 0

    @property
    def pending(self) -> int:
        return self._skipped + len(self.buffer) if self._skipping else len(self.buffer)

    def _skip(self, out: list[tuple[str, bytes]]) -> bool:
        """Drop an oversized frame's bytes up to its end; True once it ended."""
        end = self.buffer.find(END)
        restart = self.buffer.find(START_BLOCK)
        if restart != -1 and (end == -1 or restart < end):
            last = cut = restart  # a new frame starts: the oversized one was cut off
        elif end != -1:
            last, cut = end, end + len(END)
        else:
            keep = 1 if self.buffer.endswith(END_BLOCK) else 0  # END may straddle two reads
            self._skipped += len(self.buffer) - keep
            del self.buffer[: len(self.buffer) - keep]
            return False
        self.oversized_size = self._skipped + last - 1  # without the start block
        del self.buffer[:cut]
        out.append(("oversized", self._head))
        self._skipping, self._head, self._skipped = False, b"", 0
        return True

    def _start_skipping(self, upto: int) -> None:
        self._skipping = True
        self._head = bytes(self.buffer[1 : min(upto, 1 + _HEAD)])
        self._skipped = upto
        del self.buffer[:upto]

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        self.buffer += data
        out: list[tuple[str, bytes]] = []
        while self.buffer:
            if self._skipping:
                if not self._skip(out):
                    break
                continue
            start = self.buffer.find(START_BLOCK)
            if start == -1:
                out.append(("garbage", bytes(self.buffer)))
                self.buffer.clear()
                break
            if start > 0:
                out.append(("garbage", bytes(self.buffer[:start])))
                del self.buffer[:start]
            end = self.buffer.find(END, 1)
            restart = self.buffer.find(START_BLOCK, 1)
            if restart != -1 and (end == -1 or restart < end):
                # a new frame starts before this one ended: the first was cut off
                out.append(("garbage", bytes(self.buffer[:restart])))
                del self.buffer[:restart]
                continue
            if end == -1:
                if len(self.buffer) - 1 > self.max_frame:
                    self._start_skipping(len(self.buffer) - 1)  # keep a possible FS
                    continue
                break
            if end - 1 > self.max_frame:
                self._start_skipping(end)
                continue
            out.append(("frame", bytes(self.buffer[1:end])))
            del self.buffer[: end + len(END)]
        return out


@dataclass(frozen=True)
class Received:
    """One message the listener received, and how it answered."""

    number: int
    peer: str
    text: str
    code: str  # AA, AE or AR
    reason: str
    message_type: str
    control_id: str
    path: Path | None
    ack: str

    def __repr__(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return f"#{self.number} {self.message_type or '?'} {self.control_id or '?'} -> {self.code}{why}"


@dataclass(frozen=True)
class Event:
    """Something that happened on a connection (for the log and the tests)."""

    kind: str  # connected, refused, closed, message, oversized, garbage, incomplete, error
    peer: str
    detail: str = ""

    def __repr__(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


class Listener:
    """A threaded MLLP listener that stores and acknowledges HL7 v2 messages.

    Parameters
    ----------
    host, port:
        Where to listen; 127.0.0.1 by default, and ``port=0`` picks a free port
        (read it back from :attr:`port`).
    store:
        Folder for the received messages (default ``<medlab home>/hl7``); each is
        written to a temporary file and renamed, so a reader never sees half a
        message.
    accept:
        Message codes (MSH-9.1) answered AA; others are answered AR. Or a
        function ``accept(message) -> bool``.
    on_message:
        Called with each accepted, parsed message. If it raises, the message is
        answered AE with the error's text (a :class:`MedlabError` explains itself).
    idle_timeout:
        Seconds a silent connection is kept open.
    max_frame:
        Largest frame accepted, in bytes; a longer one is answered AR ("larger
        than this receiver's limit"), logged and not stored.
    peers:
        Who may connect (a :data:`medlab.settings.PEER_POLICIES` key); default
        the configured :func:`medlab.settings.peer_policy`, ``same-user``.
    timestamp:
        Function giving MSH-7 of the ACKs (default: the current time), for
        reproducible examples.

    Use it as a context manager::

        with Listener(port=0) as listener:
            reply = medlab.hl7.send(listener.host, listener.port, text)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        store: str | Path | None = None,
        *,
        accept: Iterable[str] | Callable[[Any], bool] = DEFAULT_ACCEPT,
        on_message: Callable[[Any], Any] | None = None,
        idle_timeout: float = 60.0,
        max_frame: int = 1 << 20,
        timestamp: Callable[[], str] | None = None,
        peers: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.store = Path(store) if store is not None else None
        self.accept = accept if callable(accept) else frozenset(accept)
        self.on_message = on_message
        self.idle_timeout = idle_timeout
        self.max_frame = max_frame
        self.timestamp = timestamp
        self.peers = peers
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._events: list[Event] = []
        self._stop = threading.Event()
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._clients: set[socket.socket] = set()
        self._counter = 0

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> Listener:
        """Bind, listen and serve in background threads; return self."""
        if self._server is not None:
            return self
        if self.store is None:
            self.store = paths.home() / "hl7"
        paths.private_dir(self.store)
        from medlab import services

        # One listener per message store: two would number their files over each other.
        lock = services.lock_root(self.store, "hl7")
        _clean_incoming(self.store)  # ours now: no other listener writes here
        self._counter = _highest_number(self.store)
        if self.peers is None:
            from medlab import settings

            try:
                self.peers = settings.peer_policy()
            except MedlabError:
                lock.release()
                raise
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind((self.host, self.port))
        except OSError as exc:
            server.close()
            lock.release()
            raise MedlabError(
                f"Cannot listen on {self.host}:{self.port} ({exc.strerror or exc})",
                where=f"{self.host}:{self.port}",
                fix="Another program (perhaps another listener) uses this port: stop it, or "
                "choose another port (port=0 picks a free one).",
            ) from None
        server.listen(16)
        server.settimeout(0.2)
        self.port = server.getsockname()[1]
        self._server = server
        # Listed by `medlab doctor`; the handle owns the store's lock until stop().
        self._service = services.register("hl7", self.host, self.port, root=self.store, lock=lock)
        self._stop.clear()
        thread = threading.Thread(target=self._accept_loop, name=f"mllp-{self.port}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop listening, close every connection and wait for the threads."""
        self._stop.set()
        if self._server is not None:
            self._server.close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._threads.clear()
        self._server = None
        service, self._service = getattr(self, "_service", None), None
        if service is not None:
            service.stop()  # the record goes, and the store's lock is released

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve until interrupted (Ctrl-C); used by ``medlab hl7 listen``."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()

    # -- what happened -------------------------------------------------------------
    @property
    def messages(self) -> list[Received]:
        """Every message received so far, in order."""
        with self._lock:
            return list(self._messages)

    @property
    def events(self) -> list[Event]:
        """Connections, messages, garbage and cut-off frames, in order."""
        with self._lock:
            return list(self._events)

    def __repr__(self) -> str:
        state = "listening" if self._server is not None else "stopped"
        return (
            f"<medlab.hl7.Listener {state} on {self.host}:{self.port}, "
            f"{len(self.messages)} message(s)>"
        )

    def _event(self, kind: str, peer: str, detail: str = "") -> None:
        with self._lock:
            self._events.append(Event(kind, peer, detail))

    # -- serving -------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, addr = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            thread = threading.Thread(
                target=self._serve, args=(conn, f"{addr[0]}:{addr[1]}"), daemon=True
            )
            with self._lock:
                self._clients.add(conn)
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, peer: str) -> None:
        from medlab.peers import check_peer

        verdict = check_peer(conn, self.peers)
        if not verdict:
            self._event("refused", peer, verdict.reason)
            LOGGER.warning("HL7 listener on port %s: %s", self.port, verdict.reason)
            with self._lock:
                self._clients.discard(conn)
            conn.close()
            return
        self._event("connected", peer)
        reader = FrameReader(self.max_frame)
        conn.settimeout(0.2)
        idle = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    if time.monotonic() - idle > self.idle_timeout:
                        self._event("closed", peer, "idle timeout")
                        return
                    continue
                except OSError:
                    break
                if not data:
                    break
                idle = time.monotonic()
                for kind, payload in reader.feed(data):
                    if kind == "garbage":
                        self._event(
                            "garbage", peer, f"{len(payload)} bytes outside a frame skipped"
                        )
                        continue
                    if kind == "oversized":
                        reply = self._reject_oversized(payload, reader.oversized_size, peer)
                    else:
                        reply = self._handle(payload, peer)
                    try:
                        conn.sendall(frame(reply))
                    except OSError:
                        self._event("error", peer, "peer left before its ACK was sent")
                        return
            if reader.pending:
                self._event(
                    "incomplete",
                    peer,
                    f"connection closed inside a frame after "
                    f"{reader.pending} bytes; that message was not stored",
                )
            else:
                self._event("closed", peer)
        finally:
            with self._lock:
                self._clients.discard(conn)
            conn.close()

    def _handle(self, payload: bytes, peer: str) -> str:
        """Store one framed message, decide AA/AE/AR, and return the ACK text."""
        from medlab.hl7.acks import ack
        from medlab.hl7.message import parse

        text = normalize(payload)
        msg_type, control_id = _peek(text)
        code, reason, where, error_code = "AA", "", None, None
        parsed = None
        try:
            parsed = parse(text)
        except MedlabError as err:
            code, reason, where = "AE", err.what, err.where
            error_code = 203 if (where or "").startswith("MSH-12") else 100
        if parsed is not None:
            accepted = (
                self.accept(parsed)
                if callable(self.accept)
                else msg_type.split("^")[0] in self.accept
            )
            if not accepted:
                code, error_code = "AR", 200
                code_only = msg_type.split("^")[0] or "(no type)"
                reason = f"{code_only} messages are not handled by this receiver"
            elif self.on_message is not None:
                try:
                    self.on_message(parsed)
                except MedlabError as err:
                    code, reason, where, error_code = "AE", str(err), err.where, 207
                except Exception as exc:  # a handler bug must not kill the listener
                    code, reason, error_code = "AE", f"{type(exc).__name__}: {exc}", 207
                    self._event("error", peer, f"handler failed: {reason}")
        when = self.timestamp() if self.timestamp else None
        try:
            reply = ack(
                parsed if parsed is not None else text,
                code,
                reason or None,
                error_code=error_code,
                where=where,
                when=when,
            )
            ack_text = original_text(reply)
        except MedlabError:
            ack_text = ack("", code, reason or None, when=when).to_er7()
        with self._lock:
            self._counter += 1
            number = self._counter
        path = self._write(number, msg_type, control_id, code, text)
        record = Received(number, peer, text, code, reason, msg_type, control_id, path, ack_text)
        with self._lock:
            self._messages.append(record)
            self._events.append(Event("message", peer, repr(record)))
        return ack_text

    def _reject_oversized(self, head: bytes, size: int, peer: str) -> str:
        """Answer AR to a frame over the limit (it was not kept), and log it."""
        from medlab.hl7.acks import ack

        reason = (
            f"message of {size} bytes is larger than this receiver's limit of "
            f"{self.max_frame} bytes; it was not stored"
        )
        msh = normalize(head).split("\r")[0]
        msg_type, control_id = _peek(msh)
        when = self.timestamp() if self.timestamp else None
        try:
            ack_text = original_text(ack(msh, "AR", reason, error_code=207, when=when))
        except MedlabError:
            ack_text = ack("", "AR", reason, error_code=207, when=when).to_er7()
        detail = f"{msg_type or '?'} {control_id or '?'} -> AR ({reason})"
        self._event("oversized", peer, detail)
        LOGGER.warning("HL7 listener on port %s: from %s: %s", self.port, peer, detail)
        return ack_text

    def _write(self, number: int, msg_type: str, control_id: str, code: str, text: str) -> Path:
        assert self.store is not None
        safe_type = re.sub(r"[^A-Za-z0-9]+", "_", msg_type).strip("_") or "UNKNOWN"
        safe_id = re.sub(r"[^A-Za-z0-9.-]+", "_", control_id).strip("_")[:40] or "noid"
        path = self.store / f"{number:06d}_{safe_type}_{safe_id}_{code}.hl7"
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=self.store)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text + "\r")
        os.replace(tmp, path)
        return path


def _clean_incoming(folder: Path) -> None:
    """Remove temporary files a killed listener left (never renamed: never acknowledged)."""
    for leftover in folder.glob(".incoming-*"):
        try:
            leftover.unlink()
        except OSError as exc:
            LOGGER.warning("cannot remove leftover %s: %s", leftover, exc)


def _highest_number(folder: Path) -> int:
    numbers = [int(p.name[:6]) for p in folder.glob("[0-9][0-9][0-9][0-9][0-9][0-9]_*.hl7")]
    return max(numbers, default=0)


def _peek(text: str) -> tuple[str, str]:
    """MSH-9 (as ``code^trigger``) and MSH-10, read without a full parse ('' if absent)."""
    try:
        d = delimiters(text)
    except MedlabError:
        return "", ""
    msh = msh_fields(text.split("\r")[0], d)
    parts = msh[9].split(d.component) if len(msh) > 9 else [""]
    msg_type = "^".join(p for p in parts[:2] if p)
    return msg_type, msh[10] if len(msh) > 10 else ""


def send(host: str, port: int, msg: Any, *, timeout: float = 10.0) -> Message:
    """Send one message over MLLP and return the acknowledgement, parsed.

    ``msg`` is text, bytes or a parsed message. Raises :class:`MedlabError` when
    nobody listens, or no complete ACK arrives within ``timeout`` seconds.
    """
    from medlab.hl7.message import parse

    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(frame(normalize(msg) if isinstance(msg, (str, bytes)) else msg))
            reader = FrameReader()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                data = sock.recv(65536)
                if not data:
                    break
                frames = [p for kind, p in reader.feed(data) if kind == "frame"]
                if frames:
                    return parse(frames[0])
    except ConnectionRefusedError:
        raise MedlabError(
            "Nobody is listening",
            where=where,
            fix="Start a listener first (medlab hl7 listen, or "
            "medlab.hl7.Listener) and check host and port.",
        ) from None
    except TimeoutError:
        pass
    except OSError as exc:
        raise MedlabError(
            f"The connection failed ({exc})",
            where=where,
            fix="Check host and port, and that the listener is running (a medlab listener "
            "closes connections from other users' processes).",
        ) from None
    raise MedlabError(
        "No acknowledgement came back",
        where=where,
        fix="The receiver closed the connection or did not answer in time; an "
        "unacknowledged message must be sent again. (A medlab listener closes "
        "connections from other users' processes at once.)",
    )


__all__ = [
    "DEFAULT_ACCEPT",
    "DEFAULT_DELIMITERS",
    "Event",
    "FrameReader",
    "Listener",
    "Received",
    "frame",
    "send",
    "unframe",
]
