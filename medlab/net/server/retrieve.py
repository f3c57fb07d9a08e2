"""Retrieve SCP: C-GET and C-MOVE, with C-STORE sub-operations (PS3.4 C.4.2, C.4.3).

Each instance goes out in the transfer syntax it was stored in when the peer
accepted it, sent from its file fragment by fragment (never held in memory:
:mod:`medlab.net.server.dimse`). When the peer did not accept
that syntax the PACS converts, as Orthanc and DCMTK's dcmqrscp do
(:func:`prepare`): between uncompressed syntaxes always (byte order included),
and a compressed object is decompressed for a peer that takes only
uncompressed ones. A sub-operation fails only when no conversion exists; the
final response's Error Comment then says which.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.net import uids
from medlab.net.config import PACSConfig
from medlab.net.query import QueryError, instances_for
from medlab.net.server.dimse import PacsDIMSE
from medlab.net.server.engine import failure

if TYPE_CHECKING:
    from pydicom import Dataset

    from medlab.net.store import Store

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
#: Uncompressed little endian syntaxes: pynetdicom itself re-encodes between them.
LITTLE_ENDIAN = (EXPLICIT_LE, IMPLICIT_LE, DEFLATED_LE)
UNCOMPRESSED = (*LITTLE_ENDIAN, EXPLICIT_BE)

#: Values longer than this stay on disk until they are sent (pydicom's defer_size).
DEFER_SIZE = 64 * 1024
PIXEL_DATA = 0x7FE00010


class _FileWindow(io.RawIOBase):
    """``length`` bytes of a file from ``offset``, as a seekable stream of their own.

    Wrapped in a BufferedReader it is a value pydicom 3 writes in chunks
    ("buffered" element values), so the pixel data of a stored instance goes
    from its file to the peer without being loaded.
    """

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 - closed with the window
        self._offset = offset
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        self._pos = max(0, min(self._length, base + pos))
        return self._pos

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self._length - self._pos)
        if n <= 0:
            return 0
        self._fh.seek(self._offset + self._pos)
        got = self._fh.readinto(memoryview(buffer)[:n])
        self._pos += got or 0
        return got or 0

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_for_sending(path: Path, stored_ts: str = EXPLICIT_LE) -> tuple[Dataset, list[Any]]:
    """Read a stored instance for a C-STORE sub-operation, its pixel data left on disk.

    Values over :data:`DEFER_SIZE` are deferred by pydicom, and a deferred Pixel
    Data of defined length becomes a buffered value over its bytes in the file:
    pynetdicom encodes the data set and pydicom copies those bytes in chunks.
    Returns the data set and the streams to close once it has been sent.
    """
    import pydicom
    from pydicom.dataelem import DataElement

    if stored_ts == DEFLATED_LE:  # offsets are in the inflated stream, not the file
        return pydicom.dcmread(path), []
    ds = pydicom.dcmread(path, defer_size=DEFER_SIZE)
    opened: list[Any] = []
    if PIXEL_DATA in ds:
        raw = ds.get_item(PIXEL_DATA, keep_deferred=True)
        tell = getattr(raw, "value_tell", None)
        length = getattr(raw, "length", 0xFFFFFFFF)
        if getattr(raw, "value", b"") is None and tell is not None and length != 0xFFFFFFFF:
            vr = raw.VR or ("OB" if int(ds.get("BitsAllocated", 16)) <= 8 else "OW")
            stream = io.BufferedReader(_FileWindow(path, tell, length), 1 << 20)
            opened.append(stream)
            ds[PIXEL_DATA] = DataElement(PIXEL_DATA, vr, stream)
    return ds, opened


def _swap_byte_order(ds: Dataset) -> None:
    """Swap the bytes of OW/OF/OL/OD/OV values in place (big <-> little endian, PS3.5 §7.3).

    pydicom converts numeric values (US, SS, FL …) itself when it writes in the
    other byte order, but writes these byte-string VRs as they are.
    """
    import numpy as np

    sizes = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}

    def swap(dataset: Dataset, elem: Any) -> None:
        size = sizes.get(str(elem.VR))
        if size and isinstance(elem.value, bytes) and len(elem.value) % size == 0:
            elem.value = np.frombuffer(elem.value, f"u{size}").byteswap().tobytes()

    ds.walk(swap)


def _read_all(path: Path) -> Dataset:
    """Read a file with every value converted now, while its own encoding still applies."""
    import pydicom

    ds = pydicom.dcmread(path)
    ds.walk(lambda _dataset, _elem: None)  # converts each raw element, sequences included
    return ds


def _pixels_little_endian(ds: Dataset) -> bytes:
    """The pixel data of a big endian data set, in little endian byte order.

    The decoded array is the truth (pydicom reads big endian pixel data
    correctly); it is written back sample by sample, colour-by-pixel. The Pixel
    Data element is removed (the caller sets the returned bytes back).
    """
    arr = ds.pixel_array
    del ds[PIXEL_DATA]
    if int(ds.get("SamplesPerPixel", 1)) > 1:
        ds.PlanarConfiguration = 0  # pixel_array is (rows, columns, samples)
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()


def prepare(path: Path, stored_ts: str, accepted: list[str]) -> tuple[Dataset, list[Any]]:
    """The data set to send for one sub-operation, in a syntax the peer accepted.

    ``accepted`` lists the transfer syntaxes the peer accepted for the instance's
    SOP class. Raises ValueError saying why when no conversion exists.
    """
    from pydicom.uid import UID

    if stored_ts in accepted or (
        stored_ts in LITTLE_ENDIAN and any(ts in LITTLE_ENDIAN for ts in accepted)
    ):
        # As stored; pynetdicom itself re-encodes between the little endian ones.
        return open_for_sending(path, stored_ts)
    import pydicom

    little = [ts for ts in accepted if ts in LITTLE_ENDIAN]
    stored = UID(stored_ts)
    if stored_ts == EXPLICIT_BE and little:
        ds = _read_all(path)
        pixels = _pixels_little_endian(ds) if PIXEL_DATA in ds else None
        _swap_byte_order(ds)  # the other OW/OF/... values
        if pixels is not None:
            vr = "OB" if int(ds.get("BitsAllocated", 16)) <= 8 else "OW"
            ds.add_new(PIXEL_DATA, vr, pixels)
    elif stored.is_compressed and little:
        ds = pydicom.dcmread(path)
        ds.decompress(generate_instance_uid=False)  # pydicom's installed plugins
    elif stored_ts in LITTLE_ENDIAN and EXPLICIT_BE in accepted:
        ds = _read_all(path)
        _swap_byte_order(ds)
        ds.file_meta.TransferSyntaxUID = EXPLICIT_BE
        ds.set_original_encoding(False, False)
        return ds, []
    else:
        # Keywords keep the reason within an Error Comment's 64 characters.
        offered = "/".join(UID(ts).keyword or ts for ts in accepted) or "no syntax"
        raise ValueError(f"cannot convert {stored.keyword or stored_ts} to {offered}")
    ds.file_meta.TransferSyntaxUID = EXPLICIT_LE
    ds.set_original_encoding(False, True)
    return ds, []


class RetrieveService:
    """C-GET and C-MOVE handlers of :class:`~medlab.net.server.PACS`."""

    store: Store | None
    config: PACSConfig
    _build_context: Callable[..., Any]
    _identifier: Callable[[Any], Dataset]  # FindService
    _notification_handlers: Callable[[], list]  # PACS
    _log: Any

    def _retrieve_list(self, event: Any) -> tuple[list[tuple[str, str, str]] | None, Any]:
        sop_class = str(event.request.AffectedSOPClassUID)
        try:
            identifier = self._identifier(event)
            return instances_for(self.store, uids.QR_MODEL[sop_class], identifier), None  # type: ignore[arg-type]
        except QueryError as err:
            return None, failure(err.status, err.comment)
        except Exception as err:  # noqa: BLE001
            return None, failure(0xC000, f"Cannot process the identifier: {err}")

    def _on_get(self, event: Any) -> Iterator[Any]:
        """C-GET: C-STORE sub-operations back over the same association (PS3.4 C.4.3)."""
        found, fail = self._retrieve_list(event)
        if found is None:
            # A failure can only follow the sub-operation count in pynetdicom's
            # C-GET protocol; 1 keeps it from answering an early Success.
            yield 1
            yield fail
            return
        yield len(found)
        # In C-GET the PACS sends on the requestor's association: the contexts it
        # accepted for us as storage SCU (its SCP role) decide the syntax.
        yield from self._sub_operations(event, found, lambda: event.assoc)

    def _on_move(self, event: Any) -> Iterator[Any]:
        """C-MOVE: C-STORE sub-operations on a new association to a known peer (PS3.4 C.4.2)."""
        from pynetdicom import evt

        destination = str(event.move_destination or "").strip()
        if destination not in self.config.peers:
            # pynetdicom answers 0xA801 "Move Destination unknown" (PS3.4 C.4.2.1.4).
            yield None, None
            return
        found, fail = self._retrieve_list(event)
        host, port = self.config.peers[destination]
        if found is None:
            yield host, port
            yield 1
            yield fail
            return
        sending: list[Any] = []  # the association pynetdicom opens to the destination
        handlers = [
            *self._notification_handlers(),
            (evt.EVT_ACCEPTED, lambda e: sending.append(e.assoc)),
        ]
        yield (
            host,
            port,
            {
                "contexts": self._contexts_for(found),
                "evt_handlers": handlers,
                "max_pdu": self.config.max_pdu,
            },
        )
        yield len(found)
        yield from self._sub_operations(event, found, lambda: sending[-1] if sending else None)

    def _contexts_for(self, found: list[tuple[str, str, str]]) -> list[Any]:
        """Contexts to propose for sending ``found`` (≤ 128, PS3.8 §9.3.2.2).

        One context per SOP class and stored syntax, and per SOP class one with
        the uncompressed little endian syntaxes, so a destination that takes
        neither the stored syntax can still be served by conversion.
        """
        by_class: dict[str, list[str]] = {}
        for _path, sop_class, ts in found:
            syntaxes = by_class.setdefault(sop_class, [])
            if ts not in syntaxes:
                syntaxes.append(ts)
        contexts = []
        for sop_class, syntaxes in by_class.items():
            for ts in syntaxes:
                contexts.append(self._build_context(sop_class, [ts]))
            if set(syntaxes) - {EXPLICIT_LE}:
                contexts.append(self._build_context(sop_class, [EXPLICIT_LE, IMPLICIT_LE]))
        return contexts[:128]

    def _sub_operations(
        self, event: Any, found: list[tuple[str, str, str]], sender: Callable[[], Any]
    ) -> Iterator[Any]:
        """Yield each instance to send, converted if needed; failures named at the end.

        An instance that cannot be sent in any syntax the peer accepted is kept
        for last: once only those remain, the final response (0xB000 or 0xA702)
        is yielded with their UIDs and an Error Comment saying why.
        """
        from pydicom import Dataset

        failed: list[tuple[str, str]] = []  # (SOP Instance UID, reason)
        sent = 0
        opened: list[Any] = []
        root = self.store.root if self.store is not None else Path(".")
        try:
            for path, sop_class, ts in found:
                for stream in opened:
                    stream.close()
                opened = []
                if event.is_cancelled:
                    yield 0xFE00, None
                    return
                full = root / path if not os.path.isabs(path) else Path(path)
                assoc = sender()
                accepted = _accepted(assoc, sop_class) if assoc is not None else []
                try:
                    if ts in accepted and isinstance(getattr(assoc, "dimse", None), PacsDIMSE):
                        ds = _from_file(assoc.dimse, full, sop_class, ts)  # never loaded
                    else:
                        ds, opened = prepare(full, ts, accepted)
                except Exception as err:  # noqa: BLE001 - counted, and named below
                    failed.append((Path(path).stem, str(err)))
                    if assoc is not None:
                        self._log.note(assoc, f"sub-operation not sent: {err}")
                    continue
                sent += 1
                yield 0xFF00, ds
            if failed:
                reasons = sorted({reason for _uid, reason in failed})
                status = Dataset()
                status.Status = 0xB000 if sent else 0xA702
                status.ErrorComment = "; ".join(reasons)[:64]
                identifier = Dataset()
                identifier.FailedSOPInstanceUIDList = [uid for uid, _reason in failed]
                yield status, identifier
        finally:
            for stream in opened:
                stream.close()


def _from_file(dimse: PacsDIMSE, path: Path, sop_class: str, ts: str) -> Dataset:
    """The stand-in to yield for sending ``path`` as stored, straight from disk."""
    from pydicom.filereader import read_file_meta_info

    from medlab.net.received import dataset_offset

    meta = read_file_meta_info(path)
    offset, _ts = dataset_offset(path)
    return dimse.send_file(path, offset, sop_class, str(meta.MediaStorageSOPInstanceUID), ts)


def _accepted(assoc: Any, sop_class: str) -> list[str]:
    """Transfer syntaxes ``assoc`` accepted for sending ``sop_class`` (we are its SCU)."""
    return [
        str(cx.transfer_syntax[0])
        for cx in assoc.accepted_contexts
        if str(cx.abstract_syntax) == sop_class and cx.as_scu
    ]
