"""Storage SCP: C-STORE, and the one entry point every received instance goes through.

Every instance the PACS keeps, whatever carried it (a C-STORE, a C-GET/C-MOVE
sub-operation arriving at a receiver, later DICOMweb's STOW-RS), is stored by
:meth:`StorageService.store_received`: UID validation, the atomic write and the
index row of :class:`~medlab.net.store.Store` (PS3.4 B.2.3).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.net.received import ReceivedFile, dataset_offset, file_transfer_syntax
from medlab.net.store import StoredInstance, StoreFailure

if TYPE_CHECKING:
    from medlab.net.recording import EventTranslator
    from medlab.net.store import Store

LOGGER = logging.getLogger("medlab.net")

#: Receive C-STORE data sets to disk (pynetdicom's documented
#: ``_config.STORE_RECV_CHUNKED_DATASET``): each P-DATA fragment is appended to a
#: temporary file as it arrives, and :meth:`StorageService.store_received` checks,
#: indexes and moves it into place, so the PACS's memory does not grow with the
#: size of an instance (issue 15 §3). "auto" (the default) chooses per
#: association, see :data:`IN_MEMORY_SOP_CLASSES`; True/False force one way.
RECEIVE_TO_DISK: bool | str = "auto"

#: Single-frame image classes whose instances are small (a CT slice is 0.5 MB):
#: an association that can carry nothing else is received in memory, which is
#: faster on these machines (pynetdicom writes each fragment to the temporary
#: file in its network thread: 0.6x the in-memory throughput on the 300-CT bench).
#: Any other storage class accepted (multi-frame, enhanced, whole-slide,
#: mammography, unknown) switches receipt to disk while that association lives.
#: pynetdicom's flag is process-wide: while any such association is open, every
#: association is received to disk (both paths store the same bytes).
IN_MEMORY_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
        "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
        "1.2.840.10008.5.1.4.1.1.128",  # PET Image Storage
        "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
        "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
        "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage (single frame)
        "1.2.840.10008.5.1.4.1.1.11.1",  # Grayscale Softcopy Presentation State
        "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
        "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
        "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
        "1.2.840.10008.5.1.4.1.1.88.59",  # Key Object Selection Document
    }
)

#: Store received instances in a worker thread, started the moment the last
#: fragment is decoded (EVT_DIMSE_RECV), so the write overlaps with the time
#: the association's reactor takes to pick the request up (it polls every ms).
EARLY_STORE_IN_WORKER = True


def storage_transfer_syntaxes() -> list[str]:
    """Transfer syntaxes accepted for storage, compressed ones first.

    As acceptor pynetdicom picks, for each proposed context, the first syntax of
    *this* list that the peer also proposed. Compressed first means a JPEG
    object offered as "JPEG or uncompressed" is taken as JPEG — as it was sent —
    rather than having the sender decompress it. Among the uncompressed ones,
    Explicit VR Little Endian is preferred, Implicit VR last.
    """
    from pynetdicom import ALL_TRANSFER_SYNTAXES

    uncompressed = [
        "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
        "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
        "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired, still sent)
        "1.2.840.10008.1.2",  # Implicit VR Little Endian (the default TS)
    ]
    compressed = [ts for ts in ALL_TRANSFER_SYNTAXES if ts not in uncompressed]
    return compressed + uncompressed


def needs_disk(assoc: Any) -> bool:
    """True if ``assoc`` accepted a storage class outside :data:`IN_MEMORY_SOP_CLASSES`."""
    if RECEIVE_TO_DISK != "auto":
        return bool(RECEIVE_TO_DISK)
    for cx in getattr(assoc, "accepted_contexts", []):
        uid = str(cx.abstract_syntax)
        if uid.startswith("1.2.840.10008.5.1.4.1.1.") and uid not in IN_MEMORY_SOP_CLASSES:
            return True
    return False


def receive_to_disk(on: bool | None = None) -> None:
    """Switch pynetdicom's chunked C-STORE receipt on (or off) for this process.

    pynetdicom reads the flag when a C-STORE-RQ's command set is complete, for
    every association of the process: a receiving handler then finds the data
    set at ``event.dataset_path`` (``event.dataset`` still works, reading it).
    medlab's own handlers accept both forms.
    """
    from pynetdicom import _config

    if on is None:
        on = RECEIVE_TO_DISK is True
    _config.STORE_RECV_CHUNKED_DATASET = bool(on)


def received_path(event_or_message: Any) -> Path | None:
    """The temporary file a C-STORE data set was received to, or None (received in memory)."""
    try:
        path = event_or_message.dataset_path  # an Event (documented)
    except AttributeError:
        return None
    return Path(path) if path else None


#: Associations (by id) that need receipt to disk, across every PACS of the process
#: (pynetdicom's flag is process-wide too).
_DISK_ASSOCIATIONS: set[int] = set()
_DISK_LOCK = threading.Lock()


class StorageService:
    """C-STORE handlers of :class:`~medlab.net.server.PACS`."""

    store: Store | None
    _log: EventTranslator
    _early: dict[tuple[int, int], Any]
    _workers: Any

    def _choose_receipt(self, assoc: Any) -> None:
        """Once an association is accepted: receive to disk if it may carry large objects."""
        if not needs_disk(assoc):
            return
        with _DISK_LOCK:
            _DISK_ASSOCIATIONS.add(id(assoc))
            receive_to_disk(True)

    def _forget_receipt(self, assoc: Any) -> None:
        """When a connection closes: back to memory once no association needs disk."""
        with _DISK_LOCK:
            _DISK_ASSOCIATIONS.discard(id(assoc))
            receive_to_disk(bool(_DISK_ASSOCIATIONS) or RECEIVE_TO_DISK is True)

    def store_received(
        self,
        data: bytes | memoryview | str | Path | ReceivedFile,
        transfer_syntax: str | None = None,
        calling_aet: str = "",
        *,
        sop_class: str | None = None,
        sop_instance: str | None = None,
    ) -> StoredInstance:
        """Store one received instance exactly as a C-STORE would; return what was stored.

        ``data`` is the encoded data set (bytes in ``transfer_syntax``, no File
        Meta), or the path of a DICOM file (its File Meta gives the transfer
        syntax unless ``transfer_syntax`` is given); a file is checked, indexed
        and copied from disk, never loaded, whatever its size. ``calling_aet``
        is who sent it (recorded as Source AE Title); ``sop_class``/``sop_instance``, when given, must match the data set (a
        C-STORE passes its command's Affected SOP Class/Instance UIDs; a STOW-RS
        passes none). The index, UID validation and atomic write are the
        C-STORE's own. Raises :class:`~medlab.net.store.StoreFailure` with the
        DIMSE status and a comment (0xA900 mismatch, 0xC210 undecodable, 0xA700
        out of resources …), which a DICOMweb front end maps to its HTTP answer.
        """
        if self.store is None:
            raise MedlabError("The PACS is not running", fix="Call start() first.")
        if isinstance(data, (str, Path)):
            # Checked, indexed and copied from disk: never loaded (issue 15 §3).
            try:
                offset, file_ts = dataset_offset(Path(data))
                if not transfer_syntax and not file_ts:
                    file_ts = file_transfer_syntax(Path(data))
            except StoreFailure:
                raise
            except Exception as err:  # noqa: BLE001 - not a DICOM file: the sender's error
                raise StoreFailure(0xC210, f"Cannot read the File Meta: {err}"[:200]) from None
            data = ReceivedFile(Path(data), offset)
            transfer_syntax = transfer_syntax or file_ts
        if not transfer_syntax:
            raise StoreFailure(0xC210, "No transfer syntax given for the data set")
        return self.store.put(data, transfer_syntax, sop_class, sop_instance, calling_aet)

    def _context_ts(self, assoc: Any, context_id: int) -> str:
        for cx in assoc.accepted_contexts:
            if cx.context_id == context_id:
                return str(cx.transfer_syntax[0])
        return ""

    def _start_early_store(self, event: Any) -> None:
        """Start storing a C-STORE-RQ the moment it is decoded (EVT_DIMSE_RECV).

        In the thread that decoded the message, instead of waiting for the
        association's reactor to poll its queue (≈1 ms); EVT_C_STORE then only
        picks up the answer (pacs.md, "what moved the needle").
        """
        msg = event.message
        if type(msg).__name__ != "C_STORE_RQ" or event.assoc.is_requestor:
            return
        if msg.data_set.getbuffer().nbytes == 0:
            # Received to disk (RECEIVE_TO_DISK): the file is handed over in
            # EVT_C_STORE (event.dataset_path), see _on_store.
            return
        assoc = event.assoc
        cs = msg.command_set
        ts = self._context_ts(assoc, msg.context_id)
        if not ts:  # not an accepted context: pynetdicom will refuse the request itself
            return
        args = (
            msg.data_set,
            ts,
            cs.AffectedSOPClassUID,
            cs.AffectedSOPInstanceUID,
            self._log.state(assoc).remote,
        )
        key = (id(assoc), int(cs.MessageID))
        if EARLY_STORE_IN_WORKER:
            self._early[key] = self._workers.submit(self._store, *args)
        else:
            self._early[key] = self._store(*args)

    def _on_store(self, event: Any) -> Any:
        """C-STORE: write the data set as received, index it, then answer (PS3.4 B.2.3)."""
        req = event.request
        early = self._early.pop((id(event.assoc), int(req.MessageID)), None)
        if early is not None:
            return early.result() if isinstance(early, Future) else early
        ts = str(event.context.transfer_syntax)
        calling = self._log.state(event.assoc).remote
        # Received to disk (RECEIVE_TO_DISK): hand the file over, never load it;
        # pynetdicom deletes it after this handler unless the store moved it.
        path = received_path(event)
        data: Any = req.DataSet
        if path is not None:
            try:
                data = ReceivedFile(path, dataset_offset(path)[0], movable=True)
            except Exception as err:  # noqa: BLE001 - our own temp file: out of resources
                return self._failure(0xA700, f"Cannot read the received data set: {err}")
        return self._store(data, ts, req.AffectedSOPClassUID, req.AffectedSOPInstanceUID, calling)

    @staticmethod
    def _failure(status: int, comment: str) -> Any:
        from pydicom import Dataset

        rsp = Dataset()
        rsp.Status = status
        rsp.ErrorComment = comment[:64]
        return rsp

    def _store(self, buf: Any, ts: str, sop_class: str, sop_instance: str, calling: str) -> Any:
        """Store one data set; return the C-STORE status (int or Dataset with a comment)."""
        if isinstance(buf, (Path, ReceivedFile)):
            data: Any = buf
        else:
            data = buf.getbuffer() if hasattr(buf, "getbuffer") else bytes(buf)
        try:
            self.store_received(data, ts, calling, sop_class=sop_class, sop_instance=sop_instance)
        except StoreFailure as fail:
            LOGGER.info("C-STORE refused (0x%04X): %s", fail.status, fail.comment)
            return self._failure(fail.status, fail.comment)
        except Exception as err:  # noqa: BLE001 - never crash the association thread
            LOGGER.exception("C-STORE failed")
            status = 0xA700 if isinstance(err, OSError) else 0xC211
            return self._failure(status, f"{type(err).__name__}: {err}")
        finally:
            del data
        return 0x0000
