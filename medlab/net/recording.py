"""One translator from pynetdicom's notification events to medlab's event records.

Both ends of an association use it: the PACS (:mod:`medlab.net.server`) and the
client's :class:`Recorder`. So the same traffic prints the same on either side
(:mod:`medlab.net.events` describes the records): the PS3.8 tables that decode
an A-ASSOCIATE-RJ, an A-ABORT source and an A-P-ABORT reason live here once.

Associations are keyed by the association object itself, weakly: a record lives
as long as its association, so a message pynetdicom reports after TCP-CLOSE (a
late A-RELEASE-RP) keeps its number, and a recycled ``id()`` can never inherit
an old association's record.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from medlab.net import events as ev

#: PS3.8 §9.3.4 A-ASSOCIATE-RJ: Result, Source, and Reason/Diag. (keyed by source).
REJECT_RESULT = {1: "rejected-permanent", 2: "rejected-transient"}
REJECT_SOURCE = {
    1: "service-user",
    2: "service-provider (ACSE)",
    3: "service-provider (presentation)",
}
REJECT_REASON = {
    (1, 1): "no-reason-given",
    (1, 2): "application-context-name-not-supported",
    (1, 3): "calling-AE-title-not-recognized",
    (1, 7): "called-AE-title-not-recognized",
    (2, 1): "no-reason-given",
    (2, 2): "protocol-version-not-supported",
    (3, 1): "temporary-congestion",
    (3, 2): "local-limit-exceeded",
}
#: PS3.8 §9.3.8 A-ABORT Source field.
ABORT_SOURCE = {0: "service-user", 1: "reserved", 2: "service-provider"}
#: PS3.8 §9.3.8 A-P-ABORT reasons (Reason/Diag. when the source is the provider).
PROVIDER_REASON = {
    0: "reason-not-specified",
    1: "unrecognized-PDU",
    2: "unexpected-PDU",
    4: "unrecognized-PDU-parameter",
    5: "unexpected-PDU-parameter",
    6: "invalid-PDU-parameter-value",
}


def reject_fields(result: Any, source: Any, diagnostic: Any) -> tuple[str, str, str]:
    """The A-ASSOCIATE-RJ result, source and reason as PS3.8 §9.3.4 names them."""
    src = int(source or 0)
    return (
        REJECT_RESULT.get(int(result or 0), str(result)),
        REJECT_SOURCE.get(src, str(src)),
        REJECT_REASON.get((src, int(diagnostic or 0)), str(diagnostic)),
    )


class AssociationState:
    """What one side remembers about one association while it lasts."""

    __slots__ = (
        "n",
        "local",
        "remote",
        "peer",
        "proposed",
        "is_requestor",
        "opened",
        "connected",
        "answered",
        "dropped",
        "pending",
    )

    def __init__(self, n: int, local: str, remote: str, peer: str, is_requestor: bool) -> None:
        self.n = n
        self.local = local
        self.remote = remote
        self.peer = peer
        self.proposed: dict[int, str] = {}
        self.is_requestor = is_requestor
        self.opened = time.monotonic()
        # A requestor's A-ASSOCIATE-RQ is reported before its TCP connection opens:
        # it waits in ``pending`` so that the records keep wire order.
        self.connected = not is_requestor
        self.answered = False
        self.dropped = False
        self.pending: list[ev.PacsEvent] = []

    def direction(self, sent: bool) -> tuple[str, str]:
        """``(sender, receiver)`` of a message we sent (or received)."""
        return (self.local, self.remote) if sent else (self.remote, self.local)


class EventTranslator:
    """Turn pynetdicom notification events into :class:`~medlab.net.events.PacsEvent` records.

    ``events`` is a list (or, with ``maxlen``, a bounded deque) in wire order;
    listeners added with :meth:`add_listener` see each record as it is made.
    Bind :meth:`handler_map` (or :attr:`handlers`) to an AE, an association or
    a server.
    """

    def __init__(self, maxlen: int | None = None) -> None:
        self.events: list[ev.PacsEvent] | deque[ev.PacsEvent] = (
            [] if maxlen is None else deque(maxlen=maxlen)
        )
        self._listeners: list[Callable[[ev.PacsEvent], None]] = []
        self._assocs: weakref.WeakKeyDictionary[Any, AssociationState] = weakref.WeakKeyDictionary()
        self._count = 0
        self._lock = threading.Lock()

    # -- binding
    def handler_map(self) -> dict[Any, Callable[[Any], None]]:
        """pynetdicom notification event -> handler."""
        from pynetdicom import evt

        return {
            evt.EVT_CONN_OPEN: self.on_conn_open,
            evt.EVT_CONN_CLOSE: self.on_conn_close,
            evt.EVT_ACSE_SENT: self.on_acse_sent,
            evt.EVT_ACSE_RECV: self.on_acse_recv,
            evt.EVT_DIMSE_SENT: self.on_dimse_sent,
            evt.EVT_DIMSE_RECV: self.on_dimse_recv,
            evt.EVT_ABORTED: self.on_aborted,
        }

    @property
    def handlers(self) -> list[tuple[Any, Any]]:
        """The ``evt_handlers`` list to bind."""
        return list(self.handler_map().items())

    def add_listener(self, callback: Callable[[ev.PacsEvent], None]) -> None:
        """Call ``callback(record)`` for every new record."""
        self._listeners.append(callback)

    # -- associations
    def state(self, assoc: Any) -> AssociationState:
        """The record of ``assoc``, numbered on first sight (from 1, per translator)."""
        state = self._assocs.get(assoc)
        if state is not None:
            return state
        with self._lock:
            state = self._assocs.get(assoc)
            if state is None:
                self._count += 1
                ae = getattr(assoc, "ae", None)
                local = str(ae.ae_title).strip() if ae is not None else "?"
                if assoc.is_requestor:
                    remote = str(assoc.acceptor.ae_title or "?").strip()
                    end = assoc.acceptor
                else:
                    remote, end = "?", assoc.requestor
                peer = f"{end.address}:{end.port}"
                state = AssociationState(self._count, local, remote, peer, assoc.is_requestor)
                self._assocs[assoc] = state
            return state

    def known(self, assoc: Any) -> AssociationState | None:
        """The record of ``assoc`` if it has one (no new number)."""
        return self._assocs.get(assoc)

    # -- recording
    def _publish(self, records: Iterable[ev.PacsEvent]) -> None:
        for record in records:
            for listener in self._listeners:
                try:
                    listener(record)
                except Exception:  # noqa: BLE001 - a broken printer must not break the wire
                    import logging

                    logging.getLogger("medlab.net").exception("event listener failed")

    def emit(self, state: AssociationState, record: ev.PacsEvent) -> None:
        """Record ``record`` of association ``state``, in wire order."""
        if not state.connected:
            state.pending.append(record)
            return
        self._append(record)

    def _append(self, record: ev.PacsEvent) -> None:
        with self._lock:
            last = self.events[-1] if self.events else None
            if (
                isinstance(last, ev.Transport)
                and last.message == "TCP-CLOSE"
                and last.assoc == record.assoc
            ):
                # pynetdicom reports the A-RELEASE-RP after the socket closed: keep wire order.
                try:
                    self.events.insert(len(self.events) - 1, record)
                except IndexError:  # a full bounded deque cannot insert
                    self.events.append(record)
            else:
                self.events.append(record)
        self._publish([record])

    def note(self, assoc: Any, text: str, message: str = "NOTE") -> None:
        """Record something that is not a message (a connection dropped, a report undeliverable)."""
        state = self.state(assoc)
        self._append(
            ev.Note(state.n, message, state.local, state.remote, time.time(), state.peer, text)
        )

    def numbered(self, make: Callable[[int], ev.PacsEvent]) -> ev.PacsEvent:
        """Record an exchange that has no association (a DICOMweb request, a refused connection).

        ``make(n)`` builds the record with the next number of the association
        sequence, so the log reads in one order whatever protocol came in.
        """
        with self._lock:
            self._count += 1
            n = self._count
        record = make(n)
        self._append(record)
        return record

    def connection_note(self, local: str, peer: str, text: str, message: str = "NOTE") -> None:
        """Record a connection that never became an association (junk, silence, a refusal).

        It gets a number of its own, as an association would, so that its line
        stands apart in :func:`~medlab.net.events.events_text`.
        """
        self.numbered(lambda n: ev.Note(n, message, "?", local, time.time(), peer, text))

    # -- transport
    def on_conn_open(self, event: Any) -> None:
        state = self.state(event.assoc)
        sender, receiver = state.direction(state.is_requestor)
        opened = ev.Transport(state.n, "TCP-OPEN", sender, receiver, time.time(), state.peer)
        with self._lock:
            state.connected = True
            records = [opened, *state.pending]
            state.pending.clear()
            self.events.extend(records)
        self._publish(records)

    def on_conn_close(self, event: Any) -> None:
        state = self.known(event.assoc)
        if state is None or not state.connected:
            return
        sender, receiver = state.direction(state.is_requestor)
        self.emit(
            state, ev.Transport(state.n, "TCP-CLOSE", sender, receiver, time.time(), state.peer)
        )

    def on_aborted(self, event: Any) -> None:
        """What only the calling side sees: nobody listening, or no answer in time."""
        state = self.state(event.assoc)
        if not state.connected:
            state.pending.clear()
            self.note(
                event.assoc,
                "connection refused: nobody is listening on that port",
                "NO-CONNECTION",
            )
        elif state.is_requestor and not state.answered:
            self.note(
                event.assoc, "no answer to the A-ASSOCIATE-RQ within the ACSE timeout", "TIMEOUT"
            )

    # -- ACSE (PS3.8)
    def on_acse_sent(self, event: Any) -> None:
        self.acse(event, sent=True)

    def on_acse_recv(self, event: Any) -> None:
        self.acse(event, sent=False)

    def acse(self, event: Any, sent: bool) -> None:
        from pynetdicom.pdu_primitives import A_ABORT, A_ASSOCIATE, A_P_ABORT, A_RELEASE

        state = self.state(event.assoc)
        prim = event.primitive
        n, now, peer = state.n, time.time(), state.peer
        if isinstance(prim, A_ASSOCIATE):
            if prim.result is None:  # the request names both ends, as the wire says
                calling = str(prim.calling_ae_title).strip() or "?"
                called = str(prim.called_ae_title).strip() or "?"
                state.local, state.remote = (calling, called) if sent else (called, calling)
                contexts = []
                for cx in prim.presentation_context_definition_list:
                    state.proposed[cx.context_id] = str(cx.abstract_syntax)
                    contexts.append(
                        ev.ContextRecord(
                            cx.context_id,
                            str(cx.abstract_syntax),
                            tuple(str(t) for t in cx.transfer_syntax),
                        )
                    )
                sender, receiver = state.direction(sent)
                record: ev.PacsEvent = ev.AssociationRequest(
                    n,
                    "A-ASSOCIATE-RQ",
                    sender,
                    receiver,
                    now,
                    peer,
                    tuple(contexts),
                    int(prim.maximum_length_received or 0),
                )
            elif prim.result == 0:
                state.answered = True
                contexts = [
                    ev.ContextRecord(
                        cx.context_id,
                        state.proposed.get(cx.context_id, ""),
                        (),
                        ev.CONTEXT_RESULTS.get(cx.result, str(cx.result)),
                        str(cx.transfer_syntax[0]) if cx.result == 0 and cx.transfer_syntax else "",
                    )
                    for cx in prim.presentation_context_definition_results_list
                ]
                sender, receiver = state.direction(sent)
                record = ev.AssociationAccept(
                    n, "A-ASSOCIATE-AC", sender, receiver, now, peer, tuple(contexts)
                )
            else:
                state.answered = True
                sender, receiver = state.direction(sent)
                record = ev.AssociationReject(
                    n,
                    "A-ASSOCIATE-RJ",
                    sender,
                    receiver,
                    now,
                    peer,
                    *reject_fields(prim.result, prim.result_source, prim.diagnostic),
                )
        elif isinstance(prim, A_RELEASE):
            sender, receiver = state.direction(sent)
            name = "A-RELEASE-RQ" if prim.result is None else "A-RELEASE-RP"
            record = ev.Release(n, name, sender, receiver, now, peer)
        elif isinstance(prim, A_P_ABORT):
            reason = PROVIDER_REASON.get(int(prim.provider_reason or 0), str(prim.provider_reason))
            record = ev.Abort(
                n, "A-P-ABORT", "(provider)", state.local, now, peer, "service-provider", reason
            )
        elif isinstance(prim, A_ABORT):
            if not state.connected:
                return  # an abort of a connection that never opened: reported as NO-CONNECTION
            sender, receiver = state.direction(sent)
            source = ABORT_SOURCE.get(int(prim.abort_source or 0), str(prim.abort_source))
            record = ev.Abort(n, "A-ABORT", sender, receiver, now, peer, source, "")
        else:
            return
        self.emit(state, record)

    # -- DIMSE (PS3.7)
    def on_dimse_sent(self, event: Any) -> None:
        self.dimse(event, sent=True)

    def on_dimse_recv(self, event: Any) -> None:
        self.dimse(event, sent=False)

    def dimse(self, event: Any, sent: bool) -> None:
        state = self.state(event.assoc)
        msg = event.message
        cs = msg.command_set
        name = type(msg).__name__.replace("_", "-")
        is_rsp = name.endswith("-RSP")
        status = cs.get("Status") if is_rsp else None
        info = ""
        # Extra details only where they exist: keyword look-ups cost, and this runs
        # twice per stored instance.
        command = name[:6]
        if is_rsp and status:
            comment = cs.get("ErrorComment")
            if comment:
                info = str(comment)
        if command in ("C-MOVE", "C-GET-"):
            if not is_rsp and "MoveDestination" in cs:
                info = f"to {str(cs.MoveDestination).strip()}"
            elif is_rsp:
                counts = [
                    f"{k.lower()}={cs.get(f'NumberOf{k}Suboperations')}"
                    for k in ("Remaining", "Completed", "Failed", "Warning")
                    if cs.get(f"NumberOf{k}Suboperations") is not None
                ]
                info = " ".join(counts + ([info] if info else []))
        elif command == "N-EVEN" and "EventTypeID" in cs:
            info = f"event type {cs.EventTypeID}"
        elif command == "N-ACTI" and "ActionTypeID" in cs:
            info = f"action type {cs.ActionTypeID}"
        sender, receiver = state.direction(sent)
        self.emit(
            state,
            ev.Dimse(
                state.n,
                name,
                sender,
                receiver,
                time.time(),
                state.peer,
                int((cs.get("MessageIDBeingRespondedTo") if is_rsp else cs.get("MessageID")) or 0),
                str(cs.get("AffectedSOPClassUID") or cs.get("RequestedSOPClassUID") or ""),
                str(cs.get("AffectedSOPInstanceUID") or cs.get("RequestedSOPInstanceUID") or ""),
                int(status) if status is not None else None,
                info,
            ),
        )


class Recorder(EventTranslator):
    """Record what one side of pynetdicom associations sends and receives.

    Pass ``recorder.handlers`` as ``evt_handlers`` to ``AE.associate`` (or to
    ``start_server``); :attr:`events` then holds the same records a PACS keeps
    (``A-ASSOCIATE-RQ``, ``C-ECHO-RSP`` …), numbered per recorder. Unlike the
    PACS, the calling side also sees the failures that never reach a server:
    a refused connection and an association request left unanswered.

    >>> rec = Recorder()                                  # doctest: +SKIP
    >>> assoc = ae.associate("127.0.0.1", 11112, ae_title="MEDLAB",
    ...                      evt_handlers=rec.handlers)   # doctest: +SKIP
    """

    events: list[ev.PacsEvent]

    def __init__(self) -> None:
        super().__init__()

    def clear(self) -> None:
        self.events.clear()

    def text(self, assoc: int | None = None) -> str:
        """One line per event (as ``PACS.events_text``)."""
        return ev.events_text(self.events, assoc)

    def __repr__(self) -> str:
        return f"<Recorder: {len(self.events)} event(s), {self._count} association(s)>"
