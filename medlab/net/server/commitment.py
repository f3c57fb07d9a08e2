"""Storage Commitment Push Model SCP: N-ACTION, answered by N-EVENT-REPORT (PS3.4 Annex J).

The report is sent from a thread of its own (after ``commitment_delay``); the
PACS keeps each such thread and joins it on ``stop()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from medlab.net import uids
from medlab.net.config import PACSConfig
from medlab.net.server.engine import failure
from medlab.net.store import clean_uid, is_valid_uid

if TYPE_CHECKING:
    from pydicom import Dataset

    from medlab.net.recording import EventTranslator
    from medlab.net.store import Store

LOGGER = logging.getLogger("medlab.net")

#: How long ``stop()`` waits for each commitment report still being sent.
REPORT_JOIN_TIMEOUT = 30.0


class CommitmentService:
    """N-ACTION handler of :class:`~medlab.net.server.PACS` and its N-EVENT-REPORT."""

    store: Store | None
    config: PACSConfig
    aet: str
    _ae: Any
    _log: EventTranslator
    _reporters: list[threading.Thread]
    _build_context: Callable[..., Any]
    _notification_handlers: Callable[[], list]  # PACS

    def _on_n_action(self, event: Any) -> tuple[Any, Any]:
        """N-ACTION "Request Storage Commitment": answer, then report via N-EVENT-REPORT."""
        req = event.request
        if str(req.RequestedSOPClassUID) != uids.STORAGE_COMMITMENT:
            return 0x0122, None
        if int(req.ActionTypeID or 0) != 1:
            return 0x0123, None  # No such action type
        try:
            info = event.action_information
            transaction = clean_uid(info.TransactionUID)
            refs = [
                (clean_uid(item.ReferencedSOPClassUID), clean_uid(item.ReferencedSOPInstanceUID))
                for item in info.ReferencedSOPSequence
            ]
        except Exception:  # noqa: BLE001
            return failure(0x0120, "Missing TransactionUID or ReferencedSOPSequence")[0], None
        if not is_valid_uid(transaction):
            return failure(0x0106, "TransactionUID is not a valid UID")[0], None
        calling = self._log.state(event.assoc).remote
        thread = threading.Thread(
            target=self._commitment_report,
            args=(event.assoc, calling, transaction, refs),
            name=f"medlab-commit-{transaction[-8:]}",
            daemon=True,
        )
        self._reporters = [t for t in self._reporters if t.is_alive()] + [thread]
        thread.start()
        return 0x0000, None

    def _join_reporters(self) -> None:
        """Wait for the commitment reports still being sent (called by ``stop()``)."""
        reporters, self._reporters = self._reporters, []
        for thread in reporters:
            if thread is not threading.current_thread():
                thread.join(REPORT_JOIN_TIMEOUT)

    def commitment_result(
        self, transaction: str, refs: list[tuple[str, str]]
    ) -> tuple[int, Dataset]:
        """Check references; return ``(event_type_id, event_information)`` (PS3.4 J.3.3)."""
        from pydicom import Dataset

        ds = Dataset()
        ds.TransactionUID = transaction
        committed, failed = [], []
        for sop_class, sop_uid in refs:
            ok, reason = self.store.is_intact(sop_uid, sop_class)  # type: ignore[union-attr]
            item = Dataset()
            item.ReferencedSOPClassUID = sop_class
            item.ReferencedSOPInstanceUID = sop_uid
            if ok:
                item.RetrieveAETitle = self.aet
                committed.append(item)
            else:
                item.FailureReason = reason
                failed.append(item)
        ds.RetrieveAETitle = self.aet
        if committed:
            ds.ReferencedSOPSequence = committed
        if failed:
            ds.FailedSOPSequence = failed
        return (2 if failed else 1), ds

    def _commitment_report(self, assoc: Any, calling: str, transaction: str, refs: list) -> None:
        if self.config.commitment_delay:
            time.sleep(self.config.commitment_delay)
        if self.store is None:  # stopped meanwhile: nothing to check against
            return
        event_type, info = self.commitment_result(transaction, refs)
        # PS3.4 J.3.3: on the same association if it is still open, otherwise on a
        # new one that we request, acting as SCP with role selection (J.3.3.1).
        try:
            if assoc.is_established:
                assoc.send_n_event_report(
                    info, event_type, uids.STORAGE_COMMITMENT, uids.STORAGE_COMMITMENT_INSTANCE
                )
                return
        except Exception:  # noqa: BLE001 - fall back to a new association
            LOGGER.info("commitment report could not use the original association")
        peer = self.config.peers.get(calling)
        if peer is None:
            self._log.note(
                assoc,
                f"storage commitment result for {calling} undeliverable: not a known peer",
            )
            return
        from pynetdicom.pdu_primitives import SCP_SCU_RoleSelectionNegotiation

        role = SCP_SCU_RoleSelectionNegotiation()
        role.sop_class_uid = uids.STORAGE_COMMITMENT
        role.scu_role = False
        role.scp_role = True
        out = self._ae.associate(
            peer[0],
            peer[1],
            ae_title=calling,
            contexts=[self._build_context(uids.STORAGE_COMMITMENT)],
            ext_neg=[role],
            evt_handlers=self._notification_handlers(),
        )
        if out.is_established:
            try:
                out.send_n_event_report(
                    info, event_type, uids.STORAGE_COMMITMENT, uids.STORAGE_COMMITMENT_INSTANCE
                )
            finally:
                out.release()
