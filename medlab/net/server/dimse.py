"""The PACS's DIMSE provider: bounded memory for any object, and no polling on the store path.

pynetdicom 3.0 keeps a received data set in memory unless the process-wide
``_config.STORE_RECV_CHUNKED_DATASET`` is set (which would send every
association of the process, a notebook's own clients included, to disk), and
its C-GET/C-MOVE service sends a sub-operation only from a ``Dataset``,
encoded whole in memory, with every P-DATA fragment queued at once for the
network thread (an 800 MB object cost 1.8-3x its size in the PACS).

Every PACS association gets :class:`PacsDIMSE`, a subclass of pynetdicom's
public ``DIMSEServiceProvider`` put in place when the connection opens, before
any message (:func:`install`), with its socket read by :class:`WholeReadSocket`.
Together they change five things, each for that association only:

* **receiving**: a data set is held in memory while it is small and written
  to a file in the store's folder once it passes :data:`SPILL_THRESHOLD`, as
  its fragments arrive (:class:`SpillBuffer`). Small objects (a CT slice is
  0.5 MB) keep the fast in-memory path; only C-STORE requests spill.
* **sending**: a sub-operation whose instance is stored in a syntax the peer
  accepted goes out from its file (:meth:`PacsDIMSE.send_file`),
  fragment by fragment, with at most :data:`QUEUE_LIMIT` fragments waiting for
  the network thread; the handler yields a small stand-in ``Dataset`` that
  pynetdicom's C-GET/C-MOVE code counts, and its encoding is replaced by the
  file's bytes here (it is never sent).
* **waking**: the acceptor's reactor is woken by each arriving message or DUL
  primitive instead of polling every millisecond (:meth:`PacsDIMSE.get_msg`).
* **answering**: a C-STORE response's command set is encoded with ``struct``
  (:func:`encode_store_rsp`), byte for byte what pynetdicom's encoder writes.
* **reading**: a PDU is read into one buffer with a few ``recv_into`` calls
  instead of 4 KiB at a time (:class:`WholeReadSocket`).

With a faster store path (medlab/net/received.py, medlab/net/store.py) the last
three took the 300-CT C-STORE bench from 0.75-0.88x to about 1.0-1.1x Orthanc
(bench/pacs_store.py; the figures move ±10 % with the machine). ``tests/unit/test_pacs_stream.py`` measures memory
(traced), compares the encodings, and fails if pynetdicom changes what this
relies on.
"""

from __future__ import annotations

import io
import itertools
import os
import queue
import socket
import struct
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pynetdicom import evt
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dimse_messages import C_STORE_RQ, C_STORE_RSP, DIMSEMessage
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu_primitives import P_DATA
from pynetdicom.transport import AssociationSocket

#: A received C-STORE data set larger than this goes to disk (bytes). A CT or MR
#: slice (0.1-0.5 MB) and a CR (≈ 10 MB) stay in memory, the faster path; a
#: multi-frame or whole-slide object is written out as it arrives. Bounds the
#: PACS's memory at about this much per open association.
SPILL_THRESHOLD = 16 * 2**20

#: P-DATA fragments of a data set sent from a file that may wait for pynetdicom's
#: network thread at once (16 KiB to 128 KiB each, the peer's maximum PDU).
QUEUE_LIMIT = 16

#: How long the acceptor's reactor waits for the next message or DUL event in
#: one turn of its loop (:meth:`PacsDIMSE.get_msg`), woken at once by any.
REACTOR_WAIT = 0.005

#: Fragment size when the peer set no maximum PDU length (0: unlimited).
UNLIMITED_FRAGMENT = 1 << 20

_spill_numbers = itertools.count(1)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class SpillBuffer(io.BytesIO):
    """The data set of one received DIMSE message: in memory, or in a file once large.

    pynetdicom writes each data set fragment to ``message.data_set``; this
    ``BytesIO`` takes them in memory until :data:`SPILL_THRESHOLD`, then (for a
    C-STORE request only) moves what it holds to ``path`` and appends the rest
    there. The file is the bare data set (no File Meta) and is deleted by
    :meth:`close`, or when the buffer is garbage collected.
    """

    def __init__(self, message: DIMSEMessage, folder: Path, threshold: int) -> None:
        super().__init__()
        self._message = message
        self._folder = folder
        self._threshold = threshold
        self._file: Any = None  # writing, once spilled
        self._read: Any = None  # reading back, if anyone asks
        self.path: Path | None = None
        #: Why the data set could not be written out (then nothing of it is kept).
        self.error: OSError | None = None

    @property
    def spilled(self) -> bool:
        """True once the data set is in :attr:`path` rather than in memory."""
        return self.path is not None

    def write(self, data: Any) -> int:  # type: ignore[override]
        if self.error is not None:
            return len(data)  # the rest of a data set that cannot be kept: received, dropped
        if self._file is not None:
            try:
                return self._file.write(data)
            except OSError as err:
                self._give_up(err)
                return len(data)
        written = super().write(data)
        if super().tell() > self._threshold and isinstance(self._message, C_STORE_RQ):
            self._spill()
        return written

    def _spill(self) -> None:
        from medlab import paths
        from medlab.net.store import _temp_name

        path = self._folder / _temp_name(f"received-{next(_spill_numbers)}")
        try:
            self._file = paths.open_private(path, "wb")
            self.path = path
            weakref.finalize(self, _unlink, str(path))
            self._file.write(super().getbuffer())
        except OSError as err:
            self._give_up(err)
        super().seek(0)
        super().truncate()

    def _give_up(self, err: OSError) -> None:
        """The disk refused the data set (full, gone): keep receiving, keep nothing.

        pynetdicom writes fragments in its network thread, where an exception
        would abort the association; instead the C-STORE is answered 0xA700
        with this reason (:meth:`StorageService._store`), as for a small object.
        """
        self.error = err
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
        if self.path is not None:
            _unlink(str(self.path))

    def finish(self) -> None:
        """Close the file for writing once the last fragment is in (idempotent)."""
        if self._file is not None and not self._file.closed:
            try:
                self._file.close()  # flushes: the disk may refuse the last bytes here
            except OSError as err:
                self._give_up(err)

    # Once spilled, reading goes to the file, so that any consumer (pynetdicom's
    # ``Event.dataset``, its debug logging) sees the data set, not an empty buffer.
    def _reader(self) -> Any:
        self.finish()
        if self._read is None:
            self._read = open(self.path, "rb")  # type: ignore[arg-type]  # noqa: SIM115
        return self._read

    def getvalue(self) -> Any:  # type: ignore[override]
        """The data set; once spilled, a read-only ``mmap`` of the file (paged in only as read)."""
        if self.path is None:
            return super().getvalue()
        import mmap

        return mmap.mmap(self._reader().fileno(), 0, access=mmap.ACCESS_READ)

    def getbuffer(self) -> memoryview:
        if self.path is None:
            return super().getbuffer()
        return memoryview(self.getvalue())

    def read(self, size: int | None = -1) -> bytes:
        return super().read(size) if self.path is None else self._reader().read(size)

    def readinto(self, buffer: Any) -> int:
        return super().readinto(buffer) if self.path is None else self._reader().readinto(buffer)

    def seek(self, pos: int, whence: int = 0) -> int:
        return super().seek(pos, whence) if self.path is None else self._reader().seek(pos, whence)

    def tell(self) -> int:
        return super().tell() if self.path is None else self._reader().tell()

    def close(self) -> None:
        """Free the memory and delete the file, if any."""
        for handle in (self._file, self._read):
            if handle is not None:
                handle.close()
        if self.path is not None:
            _unlink(str(self.path))
        super().close()


class _NotifyingQueue(queue.Queue):
    """A ``queue.Queue`` that also sets ``arrived`` on every put (wakes the reactor)."""

    def __init__(self, arrived: threading.Event) -> None:
        super().__init__()
        self.arrived = arrived

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        self.arrived.set()


@dataclass(frozen=True)
class OutgoingFile:
    """A stored instance to send from disk: its data set is ``path`` from ``offset`` on."""

    path: Path
    offset: int
    transfer_syntax: str


class ResponseSafeDIMSE(DIMSEServiceProvider):
    """pynetdicom's DIMSE provider whose reactor turn never takes a response.

    pynetdicom pauses an association's reactor around each ``send_*`` with a
    flag that can read "paused" a moment before the reactor's next turn; that
    turn (``get_msg(block=False)``) then took the response the sender was
    waiting for ("Received unexpected C-STORE service message") and the sender
    timed out, more often the faster the peer answers. Here the turn leaves a
    response at the head of the queue for the ``send_*`` call (``block=True``).
    medlab's own clients get this provider too (:mod:`medlab.net.scu.association`).
    """

    def get_msg(self, block: bool = False) -> Any:
        """pynetdicom's; without ``block``, only a request (or nothing) is taken."""
        if block:
            return super().get_msg(block=True)
        return self._next_request()

    def _next_request(self) -> Any:
        """Take the head of the message queue if it is not a response (atomically)."""
        waiting = self.msg_queue
        with waiting.mutex:
            if not waiting.queue:
                return None, None
            _context_id, message = waiting.queue[0]
            if getattr(message, "MessageIDBeingRespondedTo", None) is not None:  # a response
                return None, None
            return waiting.queue.popleft()


class PacsDIMSE(ResponseSafeDIMSE):
    """pynetdicom's DIMSE provider, receiving large data sets to disk and sending from files."""

    def __init__(self, assoc: Any, folder: Path, threshold: int | None = None) -> None:
        super().__init__(assoc)
        self.folder = folder
        self.threshold = SPILL_THRESHOLD if threshold is None else threshold
        self._outgoing: dict[str, OutgoingFile] = {}
        self._lock = threading.Lock()
        #: Set by any put on the message queue or the DUL's to-user queue.
        self.arrived = threading.Event()
        self.msg_queue = _NotifyingQueue(self.arrived)

    # ------------------------------------------------------------------ the reactor
    def get_msg(self, block: bool = False) -> Any:
        """pynetdicom's; without ``block``, wait up to :data:`REACTOR_WAIT` for something.

        pynetdicom's acceptor reactor sleeps 1 ms, then takes a message if one
        is there (``get_msg(block=False)``), then looks for a release or abort
        in the DUL's to-user queue. Here that turn waits instead, woken the
        moment a message or any DUL primitive arrives (:class:`_NotifyingQueue`
        on both queues): a request is served on arrival, not up to a poll
        later (≈ 1 ms per stored instance), and an idle association loops
        about 150 times a second instead of 1,000.

        Like :class:`ResponseSafeDIMSE`, a turn never takes a response.
        """
        if block:
            return super().get_msg(block=True)
        self.arrived.clear()
        item = self._next_request()
        # A release or abort already waiting in the DUL's to-user queue (put before
        # the clear above) is the reactor's next step: no wait then.
        if item[1] is None and self.assoc.is_acceptor and not self.dul.to_user_queue.queue:
            self.arrived.wait(REACTOR_WAIT)
            item = self._next_request()
        return item

    # ------------------------------------------------------------------ receiving
    def receive_primitive(self, primitive: P_DATA) -> None:
        """pynetdicom's, with each new message's data set a :class:`SpillBuffer`."""
        if self.message is None:
            self.message = DIMSEMessage()
            self.message.data_set = SpillBuffer(self.message, self.folder, self.threshold)
        message = self.message
        super().receive_primitive(primitive)
        if self.message is None and isinstance(message.data_set, SpillBuffer):
            message.data_set.finish()

    def discard(self) -> None:
        """When the connection closes: delete a data set that never arrived whole."""
        message = self.message
        if message is not None and isinstance(message.data_set, SpillBuffer):
            message.data_set.close()

    # ------------------------------------------------------------------ sending
    def send_file(self, path: Path, offset: int, sop_class: str, sop_instance: str, ts: str) -> Any:
        """Prepare a C-STORE of a stored file; return the stand-in ``Dataset`` to yield.

        The stand-in carries only the SOP Class/Instance UIDs and the transfer
        syntax (so pynetdicom picks the context that carries ``ts`` unchanged);
        when pynetdicom sends it, :meth:`send_msg` sends the file's data set instead.
        """
        from pydicom import Dataset
        from pydicom.dataset import FileMetaDataset

        stand_in = Dataset()
        stand_in.SOPClassUID = sop_class
        stand_in.SOPInstanceUID = sop_instance
        stand_in.file_meta = FileMetaDataset()
        stand_in.file_meta.TransferSyntaxUID = ts
        with self._lock:
            self._outgoing[str(sop_instance)] = OutgoingFile(path, offset, ts)
        return stand_in

    def send_msg(self, primitive: Any, context_id: int) -> None:
        """pynetdicom's, except for a C-STORE request prepared by :meth:`send_file`
        and a plain C-STORE response (encoded here, see :func:`encode_store_rsp`)."""
        if isinstance(primitive, C_STORE):
            if primitive.MessageIDBeingRespondedTo is None:
                with self._lock:
                    outgoing = self._outgoing.pop(str(primitive.AffectedSOPInstanceUID), None)
                if outgoing is not None:
                    self._send_from_file(primitive, context_id, outgoing)
                    return
            else:
                encoded = encode_store_rsp(primitive)
                if encoded is not None:
                    self._send_command(C_STORE_RSP(), encoded, context_id)
                    return
        super().send_msg(primitive, context_id)

    def _send_command(self, message: DIMSEMessage, encoded: bytes, context_id: int) -> None:
        """Send a command-only message already encoded (one or more P-DATA, PS3.8 E.2).

        Handlers of EVT_DIMSE_SENT (the PACS's event log, pynetdicom's debug
        log) get ``message`` with a command set read lazily from ``encoded``.
        """
        message.command_set = decode_command(encoded)
        message.data_set = None
        message.context_id = context_id
        evt.trigger(self.assoc, evt.EVT_DIMSE_SENT, {"message": message})
        size = self.maximum_pdu_size - 6 if self.maximum_pdu_size else len(encoded)
        for start in range(0, len(encoded), size):
            last = start + size >= len(encoded)
            pdata = P_DATA()
            header = b"\x03" if last else b"\x01"  # command, last fragment or not
            pdata.presentation_data_value_list.append(
                (context_id, header + encoded[start : start + size])
            )
            self.dul.send_pdu(pdata)

    def _send_from_file(self, primitive: C_STORE, context_id: int, source: OutgoingFile) -> None:
        accepted = {
            cx.context_id: str(cx.transfer_syntax[0]) for cx in self.assoc.accepted_contexts
        }
        if accepted.get(context_id) != source.transfer_syntax:
            # Never send bytes in a syntax other than the one negotiated.
            raise ValueError(f"context {context_id} does not carry {source.transfer_syntax}")
        message = C_STORE_RQ()
        message.primitive_to_message(primitive)  # the command set, as pynetdicom encodes it
        message.data_set = io.BytesIO()  # the stand-in's bytes are not sent: the file's are
        message.context_id = context_id
        evt.trigger(self.assoc, evt.EVT_DIMSE_SENT, {"message": message})
        for pdata in message.encode_msg(context_id, self.maximum_pdu_size):
            self.dul.send_pdu(pdata)  # the command fragments only (data set empty)
        size = self.maximum_pdu_size - 6 if self.maximum_pdu_size else UNLIMITED_FRAGMENT
        with open(source.path, "rb") as fh:
            remaining = os.fstat(fh.fileno()).st_size - source.offset
            fh.seek(source.offset)
            while True:
                chunk = fh.read(min(size, remaining))
                if not chunk and remaining > 0:
                    raise OSError(f"{source.path} ended {remaining} bytes early")
                remaining -= len(chunk)
                header = b"\x00" if remaining > 0 else b"\x02"  # PS3.8 E.2: last fragment
                pdata = P_DATA()
                pdata.presentation_data_value_list.append((context_id, header + chunk))
                self._wait_for_room()
                self.dul.send_pdu(pdata)
                if remaining <= 0:
                    return

    def _wait_for_room(self) -> None:
        """Block while :data:`QUEUE_LIMIT` fragments wait for the network thread.

        Woken by the network thread taking one (``Queue.get`` notifies
        ``not_full``). A peer that stops reading for longer than the
        association's DIMSE timeout (60 s if none) gets an A-ABORT.
        """
        queue = self.dul.to_provider_queue
        limit = float(getattr(self.assoc, "dimse_timeout", None) or 60)
        deadline = time.monotonic() + limit
        waiting = len(queue.queue)
        while True:
            with queue.not_full:
                if len(queue.queue) < QUEUE_LIMIT:
                    return
                queue.not_full.wait(0.5)
                now = len(queue.queue)
            if not self.assoc.is_established or not self.dul.is_alive():
                raise ConnectionError("the association ended while a data set was being sent")
            if now < waiting:
                deadline = time.monotonic() + limit  # progress
            waiting = now
            if time.monotonic() > deadline:
                self.assoc.abort()
                raise TimeoutError(f"the peer read nothing for {limit:.0f} s")


def _element(tag: int, value: bytes) -> bytes:
    """One command element, Implicit VR Little Endian (PS3.7 §6.3.1, PS3.5 §7.1.3)."""
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value)) + value


def encode_store_rsp(primitive: C_STORE) -> bytes | None:
    """The command set of a C-STORE response, encoded as pynetdicom would (PS3.7 §9.3.1.2).

    pynetdicom builds it through a pydicom Dataset (≈ 0.5 ms a response, on the
    path of every stored instance); the same bytes come from ``struct`` here.
    Returns None for what this does not encode (an Offending Element, a
    comment outside ASCII): pynetdicom's own encoder then sends it.
    ``tests/unit/test_pacs_stream.py`` compares both encodings byte for byte.
    """
    if primitive.OffendingElement is not None:
        return None
    comment = primitive.ErrorComment
    if comment is not None and not str(comment).isascii():
        return None
    sop_class = str(primitive.AffectedSOPClassUID or "").encode("ascii")
    sop_instance = str(primitive.AffectedSOPInstanceUID or "").encode("ascii")
    parts = []
    if sop_class:
        parts.append(_element(0x00000002, sop_class + b"\x00" * (len(sop_class) % 2)))
    parts.append(_element(0x00000100, struct.pack("<H", 0x8001)))  # C-STORE-RSP
    parts.append(_element(0x00000120, struct.pack("<H", int(primitive.MessageIDBeingRespondedTo))))
    parts.append(_element(0x00000800, struct.pack("<H", 0x0101)))  # no data set
    parts.append(_element(0x00000900, struct.pack("<H", int(primitive.Status))))
    if comment is not None:
        text = str(comment).encode("ascii")
        parts.append(_element(0x00000902, text + b" " * (len(text) % 2)))
    if sop_instance:
        parts.append(_element(0x00001000, sop_instance + b"\x00" * (len(sop_instance) % 2)))
    body = b"".join(parts)
    return _element(0x00000000, struct.pack("<L", len(body))) + body


def decode_command(encoded: bytes) -> Any:
    """A command set as a pydicom Dataset whose values are decoded only when read."""
    from pydicom import Dataset
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    elements = {}
    offset = 0
    while offset < len(encoded):
        group, elem, length = struct.unpack_from("<HHL", encoded, offset)
        tag = Tag(group, elem)
        value = encoded[offset + 8 : offset + 8 + length]
        elements[tag] = RawDataElement(tag, None, length, value, offset + 8, True, True)
        offset += 8 + length
    dataset = Dataset(elements)
    dataset.set_original_encoding(True, True)
    return dataset


_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)  # Linux


def _quick_ack(raw: Any) -> None:
    """Acknowledge what arrives at once (Linux ``TCP_QUICKACK``, cleared by the kernel as it goes).

    pynetdicom sends a DIMSE message as two writes (command, then data set) with
    Nagle's algorithm on: the data set waits until the command is acknowledged,
    and a delayed acknowledgement holds it for ≈ 40 ms. Every C-STORE from a
    plain pynetdicom client (a lesson's own ``assoc.send_c_store``) paid that.
    """
    try:
        raw.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    except (OSError, AttributeError):
        pass


class WholeReadSocket(AssociationSocket):
    """pynetdicom's ``AssociationSocket``, reading a PDU with as few system calls as it can.

    pynetdicom reads a PDU 4 KiB at a time (32 ``recv`` calls and as many
    ``bytearray.extend`` for a 128 KiB P-DATA-TF, 130 for a CT slice); this
    reads straight into one buffer of the size asked for, with the same
    contract: block until that many bytes are in, or return what came before
    the connection closed.
    """

    def recv(self, nr_bytes: int) -> bytearray:
        raw = cast("socket.socket", self.socket)
        buffer = bytearray(nr_bytes)
        got = 0
        with memoryview(buffer) as view:
            while got < nr_bytes:
                count = raw.recv_into(view[got:])
                if not count:
                    break
                got += count
                _quick_ack(raw)
        if got < nr_bytes:
            del buffer[got:]
        return buffer


def install(assoc: Any, folder: Path, threshold: int | None = None) -> PacsDIMSE:
    """Give ``assoc`` a :class:`PacsDIMSE` (call at EVT_CONN_OPEN, before any message)."""
    if not isinstance(assoc.dimse, PacsDIMSE):
        dimse = PacsDIMSE(assoc, folder, threshold)
        assoc.dimse = dimse
        if assoc.is_acceptor and not assoc.dul.is_alive():
            # Before the DUL starts: releases and aborts wake the reactor too.
            assoc.dul.to_user_queue = _NotifyingQueue(dimse.arrived)
    sock = assoc.dul.socket
    if type(sock) is AssociationSocket:
        # The same object, read with fewer system calls: a subclass that adds no state.
        sock.__class__ = WholeReadSocket
    return assoc.dimse
