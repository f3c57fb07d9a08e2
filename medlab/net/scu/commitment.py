"""Storage Commitment SCU: N-ACTION, then wait for the N-EVENT-REPORT (PS3.4 Annex J)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medlab.net import events as ev
from medlab.net import uids
from medlab.net.recording import Recorder
from medlab.net.scu.association import (
    CALLING_AET,
    Association,
    Target,
    associate,
    local_end,
    new_ae,
)

if TYPE_CHECKING:
    from pydicom import Dataset


@dataclass
class CommitmentResult:
    """The Storage Commitment N-EVENT-REPORT: what the archive now takes responsibility for."""

    event_type: int | None
    committed: list[str]
    failed: list[tuple[str, int]]
    action_status: int
    #: our end of the association (``host:port``): what the PACS recorded it under
    connection: str = field(default="", repr=False, compare=False)

    @property
    def all_committed(self) -> bool:
        return self.event_type == 1 and not self.failed

    def __repr__(self) -> str:
        if self.event_type is None:
            return (
                f"CommitmentResult(N-ACTION status {ev.status_text(self.action_status)}, "
                "no N-EVENT-REPORT received yet)"
            )
        kind = {1: "1 = all committed", 2: "2 = some failed"}.get(
            self.event_type, str(self.event_type)
        )
        return (
            f"CommitmentResult(event type {kind}: {len(self.committed)} committed, "
            f"{len(self.failed)} failed)"
        )


def commit(
    references: Iterable[tuple[str, str]],
    target: Target,
    *,
    transaction_uid: str | None = None,
    calling: str = CALLING_AET,
    timeout: float = 10.0,
    recorder: Recorder | None = None,
) -> CommitmentResult:
    """Ask for storage commitment (N-ACTION) and wait for the N-EVENT-REPORT (PS3.4 J.3).

    ``references`` are ``(SOP Class UID, SOP Instance UID)`` pairs, e.g.
    ``StoreReport.references()``. We keep the association open until the result
    arrives (or ``timeout`` seconds), so the archive can report on it.
    """
    from pydicom import Dataset
    from pydicom.uid import generate_uid
    from pynetdicom import evt

    refs = list(references)
    info = Dataset()
    info.TransactionUID = transaction_uid or generate_uid(
        entropy_srcs=[u for _c, u in refs] or None
    )
    info.ReferencedSOPSequence = []
    for sop_class, sop_uid in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_uid
        info.ReferencedSOPSequence.append(item)
    received: list[tuple[int, Dataset]] = []
    done = threading.Event()
    reporters: list[threading.Thread] = []

    def on_report(event: Any) -> tuple[int, None]:
        received.append((int(event.event_type), event.event_information))
        return 0x0000, None

    def on_sent(event: Any) -> None:
        # Release only once our N-EVENT-REPORT-RSP is on its way: releasing
        # before it would leave the archive's request unanswered.
        if type(event.message).__name__ == "N_EVENT_REPORT_RSP":
            # pynetdicom answers the report in a thread of its own, which pauses the
            # association while it runs: release only after it has finished, or the
            # release can wait on a paused association for ever (seen under load).
            reporters.append(threading.current_thread())
            done.set()

    ae = new_ae(calling)
    ae.add_requested_context(uids.STORAGE_COMMITMENT)
    assoc = associate(
        ae,
        target,
        recorder,
        evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report), (evt.EVT_DIMSE_SENT, on_sent)],
    )
    connection = local_end(assoc)
    with Association(assoc, service="N-ACTION"):
        status, _ = assoc.send_n_action(
            info, 1, uids.STORAGE_COMMITMENT, uids.STORAGE_COMMITMENT_INSTANCE
        )
        action_status = int(status.get("Status", -1)) if status is not None else -1
        if action_status == 0x0000:
            done.wait(timeout)
            for thread in reporters:
                if thread is not threading.current_thread():
                    thread.join(timeout)
    if not received:
        return CommitmentResult(None, [], [], action_status, connection)
    event_type, report = received[0]
    committed = [str(i.ReferencedSOPInstanceUID) for i in report.get("ReferencedSOPSequence", [])]
    failed = [
        (str(i.ReferencedSOPInstanceUID), int(i.get("FailureReason", 0) or 0))
        for i in report.get("FailedSOPSequence", [])
    ]
    return CommitmentResult(event_type, committed, failed, action_status, connection)
