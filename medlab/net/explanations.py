"""Plain-words explanations of what went wrong on a DICOM association.

``explain(x)`` takes what a trainee has in hand after a failure — the
pynetdicom ``Association``, the exception a call raised, a response status
(``int`` or the status ``Dataset``), or a list of recorded events — and
returns an :class:`Explanation`: what happened, why, what to try, and where
the standard describes it. The four failures every trainee meets:

==================================  =====================================================
what the trainee sees               what it means
==================================  =====================================================
association rejected (A-ASSOCIATE-RJ)  the server is there but refuses *this* conversation;
                                    most often the Called AE Title is wrong (PS3.8 §9.3.4)
connection refused                  nobody listens on that host and port (TCP, not DICOM)
context rejected (AC result 3/4)    the association is up but the SOP class or transfer
                                    syntax is not offered (PS3.8 §9.3.3.2)
timeout                             something accepted the connection but never answered
                                    (hung server, firewall, wrong protocol)
==================================  =====================================================
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from medlab.net import events as ev


@dataclass(frozen=True)
class Explanation:
    """What happened, why, what to try, and the reference in the standard."""

    kind: str
    what: str
    why: str = ""
    fix: str = ""
    reference: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def __repr__(self) -> str:
        lines = [f"[{self.kind}] {self.what}"]
        if self.why:
            lines.append(f"  Why: {self.why}")
        if self.fix:
            lines.append(f"  Try: {self.fix}")
        if self.reference:
            lines.append(f"  See: {self.reference}")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.ok else "#b71c1c"
        parts = [
            f'<div class="medlab-explain" style="border-left:4px solid {colour};padding-left:8px">'
            f"<b>{html.escape(self.what)}</b>"
        ]
        for label, text in (("Why", self.why), ("Try", self.fix), ("See", self.reference)):
            if text:
                parts.append(f"<br><i>{label}:</i> {html.escape(text)}")
        return "".join(parts) + "</div>"


_REJECT_WHY = {
    "called-AE-title-not-recognized": (
        "The server answered, but the Called AE Title we used is not its name. A DICOM server "
        "checks the title in the request the way a receptionist checks the name on a letter.",
        "Use the server's AE title exactly (case and spaces count); ask its administrator or "
        "read its conformance statement.",
    ),
    "calling-AE-title-not-recognized": (
        "The server only talks to AE titles it knows, and our Calling AE Title is not on its list.",
        "Ask the PACS administrator to add our AE title (and host) to its list of known devices.",
    ),
    "local-limit-exceeded": (
        "The server is busy: it already has as many associations as it allows.",
        "Try again in a moment (a transient rejection); close associations you left open.",
    ),
    "temporary-congestion": ("The server is temporarily overloaded.", "Try again later."),
    "application-context-name-not-supported": (
        "The request did not use the DICOM application context.",
        "Check the client software.",
    ),
    "protocol-version-not-supported": (
        "The server does not speak this version of the upper-layer protocol.",
        "Check both devices.",
    ),
}

_STATUS_WHY = {
    0xA801: (
        "The archive does not know the Move Destination AE title, so it has no host and "
        "port to open the new association to.",
        "Register the destination (AE title, host, port) in the archive's list of peers.",
    ),
    0xA700: (
        "The archive ran out of resources (disk, memory).",
        "Free space or ask the administrator.",
    ),
    0xA900: (
        "The data set does not match the SOP class of the request.",
        "Send the object with the SOP class written in it.",
    ),
    0xC000: (
        "The archive could not process the request (invalid data or identifier).",
        "Check the identifiers and UIDs you sent.",
    ),
    0x0122: ("The SOP class is not supported by this SCP.", "Use a service the peer offers."),
    0x0106: ("An attribute has a value the SCP refuses.", "Read the Error Comment for which one."),
    0x0110: (
        "The SCP failed to process the request (e.g. an MPPS already COMPLETED).",
        "Read the Error Comment.",
    ),
    0x0112: (
        "No such SOP instance (e.g. an MPPS UID the archive never created).",
        "Use the UID from the N-CREATE.",
    ),
    0x0111: (
        "An instance with this SOP Instance UID already exists at the SCP: the N-CREATE was "
        "already done (re-running its cell sends it again). For MPPS, the procedure step "
        "already exists.",
        "Change the existing instance with N-SET (same UID), or start a new procedure step "
        "with a new SOP Instance UID.",
    ),
    0xFE00: ("The operation was cancelled (C-CANCEL).", ""),
}


def explain(thing: Any) -> Explanation:
    """Explain an association, an exception, a status or a list of events in plain words."""
    if isinstance(thing, Explanation):
        return thing
    if isinstance(thing, BaseException):
        return _explain_exception(thing)
    if isinstance(thing, (list, tuple)) and all(isinstance(e, ev.PacsEvent) for e in thing):
        return _explain_events(list(thing))
    if isinstance(thing, int) and not isinstance(thing, bool):
        return _explain_status(thing)
    if type(thing).__name__ in ("Dataset", "FileDataset"):
        if "Status" in thing:
            return _explain_status(int(thing.Status), str(thing.get("ErrorComment", "") or ""))
        return Explanation(
            "no-response",
            "No response: the status is empty",
            "The peer never answered within the DIMSE timeout, or the association was aborted.",
            "Check that the association is still established; raise dimse_timeout for slow servers.",
            "PS3.7 §9.1 (DIMSE-C) and §10.1 (DIMSE-N): every request gets a response with a Status",
        )
    if hasattr(thing, "is_established") and hasattr(thing, "acceptor"):
        return _explain_association(thing)
    if hasattr(thing, "events") and isinstance(thing.events, list):
        return _explain_events(thing.events)
    return Explanation(
        "unknown",
        f"Cannot explain a {type(thing).__name__}",
        fix="Pass the Association, the exception, a status or recorded events.",
    )


def _recorder_events(assoc: Any) -> list[ev.PacsEvent] | None:
    from pynetdicom import evt

    from medlab.net.recording import Recorder

    try:
        handlers = assoc.get_handlers(evt.EVT_CONN_OPEN)
    except Exception:  # noqa: BLE001
        return None
    for item in handlers or []:
        func = item[0] if isinstance(item, tuple) else item
        owner = getattr(func, "__self__", None)
        if isinstance(owner, Recorder):
            return owner.events
    return None


def _explain_association(assoc: Any) -> Explanation:
    if assoc.is_established or (
        not assoc.is_rejected and not assoc.is_aborted and assoc.accepted_contexts
    ):
        return _explain_contexts(assoc)
    if assoc.is_rejected:
        prim = assoc.acceptor.primitive
        from medlab.net.recording import REJECT_REASON, REJECT_RESULT, REJECT_SOURCE

        source = int(getattr(prim, "result_source", 0) or 0)
        reason = REJECT_REASON.get(
            (source, int(getattr(prim, "diagnostic", 0) or 0)), "unknown reason"
        )
        result = REJECT_RESULT.get(int(getattr(prim, "result", 0) or 0), "rejected")
        return _reject(result, REJECT_SOURCE.get(source, "?"), reason, str(assoc.acceptor.ae_title))
    if list(getattr(assoc, "rejected_contexts", []) or []):
        # An A-ASSOCIATE-AC (PS3.8 §9.3.3) accepted nothing: pynetdicom then aborts.
        return _explain_contexts(assoc)
    events = _recorder_events(assoc)
    if events is not None:
        return _explain_events(events)
    return Explanation(
        "aborted",
        "The association never started: the connection failed or nobody answered in time",
        "Without a Recorder attached we cannot tell 'nobody listening' from 'timeout'.",
        "Check host and port (is the server running?), then attach medlab.net.scu.Recorder() "
        "to see which it was.",
        "PS3.8 §9.3.8 (A-ABORT PDU); §9.2 (state machine)",
    )


def _reject(result: str, source: str, reason: str, called: str) -> Explanation:
    why, fix = _REJECT_WHY.get(reason, ("The server refused the association.", "Read the reason."))
    if reason == "called-AE-title-not-recognized" and called:
        why = why + f" We called it {called!r}."
    return Explanation(
        "association-rejected",
        f"Association rejected (A-ASSOCIATE-RJ, {result}, {source}): {reason}",
        why,
        fix,
        "PS3.8 §9.3.4 (A-ASSOCIATE-RJ PDU), §7.1 (A-ASSOCIATE: calling and called AE titles)",
    )


def _explain_contexts(assoc: Any) -> Explanation:
    rejected = list(getattr(assoc, "rejected_contexts", []) or [])
    accepted = list(assoc.accepted_contexts or [])
    if not rejected:
        return Explanation(
            "ok", f"Association established: all {len(accepted)} presentation context(s) accepted"
        )
    return _contexts_explanation(
        [
            (
                cx.context_id,
                str(cx.abstract_syntax),
                ev.CONTEXT_RESULTS.get(cx.result, str(cx.result)),
            )
            for cx in rejected
        ],
        len(accepted),
    )


def _contexts_explanation(rejected: list[tuple[int, str, str]], accepted: int) -> Explanation:
    parts, fixes = [], set()
    for cid, abstract, result in rejected:
        name = ev.uid_name(abstract) if abstract else f"context {cid}"
        parts.append(f"{name}: {result}")
        if result == "abstract-syntax-not-supported":
            fixes.add(
                "the peer does not offer that SOP class at all: no transfer syntax will help; "
                "check its conformance statement"
            )
        elif result == "transfer-syntaxes-not-supported":
            fixes.add(
                "the peer offers the SOP class but none of the proposed transfer syntaxes: "
                "also propose Explicit or Implicit VR Little Endian (or decompress)"
            )
        else:
            fixes.add("the peer declined this context")
    return Explanation(
        "context-rejected",
        f"{len(rejected)} presentation context(s) rejected, {accepted} accepted: "
        + "; ".join(parts),
        "The association is up, but a request for a rejected context cannot be sent: a context is "
        "the agreement 'this SOP class, in this transfer syntax'.",
        _sentence("; ".join(sorted(fixes))),
        "PS3.8 §9.3.3.2 (presentation context results), PS3.7 Annex D",
    )


def _sentence(text: str) -> str:
    return (text[:1].upper() + text[1:] + ".") if text else ""


def _explain_exception(err: BaseException) -> Explanation:
    from medlab.errors import MedlabError

    text = str(err)
    if isinstance(err, ConnectionRefusedError):
        return _refused()
    if isinstance(err, TimeoutError):
        return _timeout()
    if isinstance(err, ValueError) and "presentation context" in text.lower():
        return Explanation(
            "context-rejected",
            "No accepted presentation context for this request",
            "The request's SOP class (in this transfer syntax) was not proposed, or the peer "
            "rejected it during negotiation: there is nothing agreed to send it on.",
            "Propose the SOP class (ae.add_requested_context) with a transfer syntax the peer "
            "accepts, and check assoc.accepted_contexts before sending.",
            "PS3.8 §9.3.3.2, PS3.7 Annex D",
        )
    if isinstance(err, RuntimeError) and "association" in text.lower():
        return Explanation(
            "not-established",
            "The association is not established",
            "A request needs an established association.",
            "Check assoc.is_established after ae.associate(...).",
            "PS3.8 §7.1",
        )
    if isinstance(err, MedlabError):
        return Explanation("error", err.what, fix=err.fix or "", reference=err.where or "")
    return Explanation("error", f"{type(err).__name__}: {text}")


def _refused() -> Explanation:
    return Explanation(
        "connection-refused",
        "Connection refused: nobody is listening on that host and port",
        "This fails before any DICOM is spoken: the TCP connection itself was refused. "
        "The server is not running, or listens on another port.",
        "Start the server (or check its port); the address is host + port, the AE title comes later.",
        "PS3.8 §9.1 (the DICOM upper layer over TCP)",
    )


def _timeout() -> Explanation:
    return Explanation(
        "timeout",
        "Timeout: the connection opened, but no answer came to the A-ASSOCIATE-RQ",
        "Something accepted the TCP connection but never replied: a hung server, a firewall or "
        "load balancer in between, or a program that does not speak DICOM on that port.",
        "Check that the port really is the DICOM port; raise acse_timeout only for a slow server.",
        "PS3.8 §9.2 (the state machine starts no timer while the requestor awaits the "
        "A-ASSOCIATE-AC: the limit is the implementation's own, pynetdicom's acse_timeout), "
        "PS3.8 §9.3.8 (A-ABORT)",
    )


def _explain_events(events: list[ev.PacsEvent]) -> Explanation:
    for event in reversed(events):
        if isinstance(event, ev.Note) and event.message == "NO-CONNECTION":
            return _refused()
        if isinstance(event, ev.Note) and event.message == "TIMEOUT":
            return _timeout()
        if isinstance(event, ev.AssociationReject):
            return _reject(event.result, event.source, event.reason, "")
    accepts = [e for e in events if isinstance(e, ev.AssociationAccept)]
    for event in reversed(events):
        if isinstance(event, ev.Dimse) and event.status is not None and _is_failure(event.status):
            return _explain_status(event.status, event.info)
    if accepts and accepts[-1].rejected:
        last = accepts[-1]
        return _contexts_explanation(
            [(c.id, c.abstract_syntax, c.result) for c in last.rejected], len(last.accepted)
        )
    if any(isinstance(e, ev.Abort) for e in events):
        return Explanation(
            "aborted",
            "The association was aborted",
            "One side (or the network layer) stopped the conversation without release.",
            "Look at the last messages before the A-ABORT.",
            "PS3.8 §9.3.8",
        )
    return Explanation("ok", "Nothing went wrong in these events")


def _is_failure(status: int) -> bool:
    return (
        status not in (0x0000, 0xFF00, 0xFF01, 0xFE00)
        and not 0xB000 <= status <= 0xBFFF
        and status != 0x0001
    )


def _explain_status(status: int, comment: str = "") -> Explanation:
    text = ev.status_text(status)
    if status == 0x0000:
        return Explanation("ok", f"{text}: the request succeeded")
    if status in (0xFF00, 0xFF01):
        return Explanation(
            "ok",
            f"{text}: one match (more may follow), PS3.4 C.4.1.1.4",
            reference="PS3.4 C.4.1.1.4",
        )
    why, fix = _STATUS_WHY.get(status, ("", "Look the status up in PS3.4 for this service."))
    if comment:
        why = f"{why} Error Comment: {comment!r}".strip()
    kind = "warning" if 0xB000 <= status <= 0xBFFF or status == 0x0001 else "failure"
    return Explanation(
        kind, f"Status {text}", why, fix, "PS3.7 Annex C (status encoding), PS3.4 (per service)"
    )


__all__ = ["Explanation", "explain"]
