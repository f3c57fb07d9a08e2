"""Event records: what a :class:`~medlab.net.PACS` saw and said on the wire.

Every association leaves an ordered list of records in ``PACS.events``, one per
message in either direction, so that a lesson can print them or draw a
sequence diagram (``sender`` → ``receiver``, labelled with ``message``):

=====================  ===========================================================
``message``            meaning (PS3.8 for the association, PS3.7 for DIMSE)
=====================  ===========================================================
``TCP-OPEN``           a peer connected (transport, before any PDU)
``A-ASSOCIATE-RQ``     association request: AE titles, proposed presentation contexts
``A-ASSOCIATE-AC``     accepted: result of every context (accepted/rejected + why)
``A-ASSOCIATE-RJ``     rejected: result, source and reason (PS3.8 §9.3.4)
``C-ECHO-RQ`` …        a DIMSE request (``C-STORE-RQ``, ``C-FIND-RQ``, ``N-ACTION-RQ`` …)
``C-ECHO-RSP`` …       its response, with the status (PS3.7 Annex C)
``A-RELEASE-RQ/RP``    orderly release
``A-ABORT``            abort by a user (A-ABORT) or the provider (A-P-ABORT)
``TCP-CLOSE``          the connection closed
``STOW-RS``            a DICOMweb store request and its HTTP answer (PS3.18 §10.5)
=====================  ===========================================================

Fields are deterministic (association numbers count from 1 per PACS; ports and
times are kept out of comparisons), so a stored notebook output stays stable.
This module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Presentation context results, PS3.8 §9.3.3.2 (Result/Reason field of the AC).
CONTEXT_RESULTS = {
    0: "accepted",
    1: "user-rejection",
    2: "no-reason (provider rejection)",
    3: "abstract-syntax-not-supported",
    4: "transfer-syntaxes-not-supported",
}


def uid_name(uid: str) -> str:
    """The registered name of a UID (``"CT Image Storage"``) or the UID itself."""
    if not uid:
        return ""
    try:
        from pydicom.uid import UID

        name = UID(uid).name
    except Exception:  # noqa: BLE001 - a name is cosmetic
        return uid
    return name or uid


#: medlab's names for the statuses the course meets (PS3.7 Annex C; PS3.4 per service).
#: They take precedence over pynetdicom's per-service tables, which fill in the rest.
STATUS_NAMES = {
    0x0000: "Success",
    0x0001: "Warning (requested optional attributes not supported)",
    0x0106: "Invalid attribute value",
    0x0110: "Processing failure",
    0x0111: "Duplicate SOP Instance",
    0x0112: "No such SOP Instance",
    0x0122: "SOP class not supported",
    0xA700: "Out of resources",
    0xA801: "Move Destination unknown",
    0xA900: "Identifier/Data set does not match SOP Class",
    0xB000: "Warning (sub-operations failed)",
    0xFE00: "Cancel",
    0xFF00: "Pending",
    0xFF01: "Pending (optional keys not supported)",
}

#: DIMSE command -> the pynetdicom status table of its service (PS3.4 per service).
_SERVICE_TABLES = {
    "C-STORE": "STORAGE_SERVICE_CLASS_STATUS",
    "C-FIND": "QR_FIND_SERVICE_CLASS_STATUS",
    "C-MOVE": "QR_MOVE_SERVICE_CLASS_STATUS",
    "C-GET": "QR_GET_SERVICE_CLASS_STATUS",
    "N-CREATE": "PROCEDURE_STEP_STATUS",
    "N-SET": "PROCEDURE_STEP_STATUS",
}


def status_name(status: int, command: str = "") -> str:
    """The name of a DIMSE status, from one table: :data:`STATUS_NAMES`, then pynetdicom's."""
    if status in STATUS_NAMES:
        return STATUS_NAMES[status]
    try:
        from pynetdicom import status as tables

        service = _SERVICE_TABLES.get(command.removesuffix("-RSP").removesuffix("-RQ"), "")
        for table_name in (service, "GENERAL_STATUS"):
            table = getattr(tables, table_name, None) if table_name else None
            if table and status in table and table[status][1]:
                return str(table[status][1])
        return str(tables.code_to_category(status))
    except Exception:  # noqa: BLE001 - a name is cosmetic
        return ""


def status_text(status: int | None, command: str = "") -> str:
    """``0x0111 Duplicate SOP Instance``-style text for a DIMSE status (PS3.7 Annex C)."""
    if status is None:
        return ""
    return f"0x{status:04X} {status_name(status, command)}".rstrip()


@dataclass(frozen=True)
class ContextRecord:
    """One presentation context: proposed (``transfer_syntaxes``) and its result."""

    id: int
    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...] = ()
    result: str = ""
    transfer_syntax: str = ""

    def __str__(self) -> str:
        name = uid_name(self.abstract_syntax)
        if self.result:
            chosen = f" [{uid_name(self.transfer_syntax)}]" if self.transfer_syntax else ""
            return f"({self.id}) {name}: {self.result}{chosen}"
        syntaxes = ", ".join(uid_name(t) for t in self.transfer_syntaxes)
        return f"({self.id}) {name} [{syntaxes}]"


@dataclass(frozen=True)
class PacsEvent:
    """Base record: association number, who sent what to whom.

    ``message`` is the PDU or DIMSE message name; ``sender`` and ``receiver``
    are AE titles (``"?"`` before the peer has said who it is).
    """

    assoc: int
    message: str
    sender: str
    receiver: str
    time: float = field(default=0.0, compare=False, repr=False)
    peer: str = field(default="", compare=False, repr=False)  # host:port of the remote end

    def details(self) -> str:
        """The part of the one-line text after the message name."""
        return ""

    def __str__(self) -> str:
        text = f"#{self.assoc} {self.sender} -> {self.receiver}: {self.message}"
        extra = self.details()
        return f"{text}  {extra}" if extra else text


@dataclass(frozen=True)
class Transport(PacsEvent):
    """TCP connection opened or closed (``TCP-OPEN`` / ``TCP-CLOSE``)."""


@dataclass(frozen=True)
class AssociationRequest(PacsEvent):
    """A-ASSOCIATE-RQ with the proposed presentation contexts."""

    contexts: tuple[ContextRecord, ...] = ()
    max_pdu: int = 0

    def details(self) -> str:
        return f"{len(self.contexts)} presentation context(s) proposed"


@dataclass(frozen=True)
class AssociationAccept(PacsEvent):
    """A-ASSOCIATE-AC: the result of every proposed context."""

    contexts: tuple[ContextRecord, ...] = ()

    @property
    def accepted(self) -> tuple[ContextRecord, ...]:
        return tuple(c for c in self.contexts if c.result == "accepted")

    @property
    def rejected(self) -> tuple[ContextRecord, ...]:
        return tuple(c for c in self.contexts if c.result != "accepted")

    def details(self) -> str:
        return f"{len(self.accepted)} accepted, {len(self.rejected)} rejected"


@dataclass(frozen=True)
class AssociationReject(PacsEvent):
    """A-ASSOCIATE-RJ: result (permanent/transient), source and reason (PS3.8 §9.3.4)."""

    result: str = ""
    source: str = ""
    reason: str = ""

    def details(self) -> str:
        return f"{self.result}, {self.source}: {self.reason}"


@dataclass(frozen=True)
class Dimse(PacsEvent):
    """A DIMSE request or response (``C-STORE-RQ``, ``C-FIND-RSP`` …).

    ``status`` is set on responses; ``sop_class`` is the Affected/Requested
    SOP Class; ``info`` carries a short detail (query level, move destination,
    sub-operation counts, error comment).
    """

    message_id: int = 0
    sop_class: str = ""
    sop_instance: str = ""
    status: int | None = None
    info: str = ""

    @property
    def command(self) -> str:
        """``C-STORE`` for ``C-STORE-RQ``."""
        return self.message.rsplit("-", 1)[0]

    @property
    def is_response(self) -> bool:
        return self.message.endswith("-RSP")

    def details(self) -> str:
        parts = [f"id={self.message_id}"]
        if self.status is not None:
            parts.append(status_text(self.status, self.message))
        elif self.sop_class:
            parts.append(uid_name(self.sop_class))
        if self.info:
            parts.append(self.info)
        return "  ".join(parts)


@dataclass(frozen=True)
class Release(PacsEvent):
    """A-RELEASE-RQ or A-RELEASE-RP."""


@dataclass(frozen=True)
class Abort(PacsEvent):
    """A-ABORT (from a user) or A-P-ABORT (from the provider: bad PDU, timeout)."""

    source: str = ""
    reason: str = ""

    def details(self) -> str:
        return ", ".join(p for p in (self.source, self.reason) if p)


@dataclass(frozen=True)
class Note(PacsEvent):
    """Something the PACS did that is not a message (e.g. a file rejected), for the log."""

    text: str = ""

    def details(self) -> str:
        return self.text


@dataclass(frozen=True)
class WebRequest(PacsEvent):
    """A DICOMweb request that changed the archive (``STOW-RS``) and its HTTP answer.

    HTTP has no association: each request gets the next number of the same
    sequence. ``sender`` is the client (``WEB <address>``, also the Source AE
    Title the index records). ``instances`` holds each part's outcome,
    ``(SOP Class UID, SOP Instance UID, Failure Reason or None when stored)``;
    ``info`` why a whole body was refused (HTTP 400/415).
    """

    method: str = ""
    path: str = ""
    status: int = 0
    instances: tuple[tuple[str, str, int | None], ...] = ()
    info: str = ""

    @property
    def stored(self) -> list[str]:
        """SOP Instance UIDs stored by this request."""
        return [uid for _, uid, failure in self.instances if failure is None]

    def details(self) -> str:
        parts = [f"{self.method} {self.path}", f"HTTP {self.status}"]
        stored = [c for c, _, failure in self.instances if failure is None]
        failed = [f for _, _, f in self.instances if f is not None]
        if stored:
            names = ", ".join(sorted({uid_name(c) for c in stored}))
            parts.append(f"{len(stored)} stored ({names})")
        if failed:
            reasons = ", ".join(sorted({f"0x{f:04X}" for f in failed}))
            parts.append(f"{len(failed)} failed (Failure Reason {reasons})")
        if self.info:
            parts.append(self.info)
        return "  ".join(parts)


def events_text(events: list[PacsEvent], assoc: int | None = None) -> str:
    """One line per event (optionally only association ``assoc``)."""
    return "\n".join(str(e) for e in events if assoc is None or e.assoc == assoc)
