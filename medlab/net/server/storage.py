"""Storage SCP: C-STORE, and the one entry point every received instance goes through.

Every instance the PACS keeps, whatever carried it (a C-STORE, a C-GET/C-MOVE
sub-operation arriving at a receiver, later DICOMweb's STOW-RS), is stored by
:meth:`StorageService.store_received`: UID validation, the atomic write and the
index row of :class:`~medlab.net.store.Store` (PS3.4 B.2.3).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.net.received import ReceivedFile, dataset_offset, file_transfer_syntax
from medlab.net.server.dimse import SpillBuffer
from medlab.net.store import StoredInstance, StoreFailure, out_of_resources

if TYPE_CHECKING:
    from medlab.net.recording import EventTranslator
    from medlab.net.store import Store

LOGGER = logging.getLogger("medlab.net")


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


class StorageService:
    """C-STORE handlers of :class:`~medlab.net.server.PACS`."""

    store: Store | None
    _log: EventTranslator

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

    def _on_store(self, event: Any) -> Any:
        """C-STORE: write the data set as received, index it, then answer (PS3.4 B.2.3)."""
        req = event.request
        ts = str(event.context.transfer_syntax)
        calling = self._log.state(event.assoc).remote
        return self._store(
            req.DataSet, ts, req.AffectedSOPClassUID, req.AffectedSOPInstanceUID, calling
        )

    @staticmethod
    def _failure(status: int, comment: str) -> Any:
        from pydicom import Dataset

        rsp = Dataset()
        rsp.Status = status
        rsp.ErrorComment = comment[:64]
        return rsp

    def _store(self, buf: Any, ts: str, sop_class: str, sop_instance: str, calling: str) -> Any:
        """Store one data set; return the C-STORE status (int or Dataset with a comment).

        ``buf`` is what pynetdicom received: a :class:`SpillBuffer` (in memory,
        or in its file once large, see :mod:`medlab.net.server.dimse`), any
        ``BytesIO``, or a path/:class:`ReceivedFile` already on disk.
        """
        if isinstance(buf, SpillBuffer):
            buf.finish()
        if isinstance(buf, SpillBuffer) and buf.error is not None:
            fail = out_of_resources(buf.error)
            return self._failure(fail.status, fail.comment)
        if isinstance(buf, SpillBuffer) and buf.spilled:
            data: Any = ReceivedFile(buf.path, 0)  # type: ignore[arg-type]
        elif isinstance(buf, (Path, ReceivedFile)):
            data = buf
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
            if isinstance(buf, SpillBuffer) and buf.spilled:
                buf.close()  # the spilled file was copied into the store
        return 0x0000
