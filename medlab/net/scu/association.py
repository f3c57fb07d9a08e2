"""What every client call shares: our AE, the association, the target it goes to.

Every helper of :mod:`medlab.net.scu` opens its association with
:func:`associate` and keeps it in an :class:`Association`, so that each way a
conversation can fail ends in one :class:`~medlab.errors.MedlabError` that says
what happened, where (host, port, both AE titles) and what to try, never in
pynetdicom's ``RuntimeError`` about an association that is not established:

===========================  ================================================
failure                      what the error says
===========================  ================================================
connection refused           nobody listens there (a stopped PACS says so)
no answer in time            the ACSE timeout ran out (our own timer)
A-ASSOCIATE-RJ               result, source and reason, decoded (PS3.8 §9.3.4)
aborted on the way           A-ABORT / A-P-ABORT (PS3.8 §9.3.8), or the link dropped
===========================  ================================================
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any, Protocol

from medlab.errors import MedlabError
from medlab.net.recording import Recorder

#: Our default Calling AE Title in the lessons.
CALLING_AET = "TRAINEE"
#: Seconds we wait for the A-ASSOCIATE-AC: the implementation's own limit (pynetdicom's
#: ``acse_timeout``); the PS3.8 §9.2 state machine times no such wait.
ACSE_TIMEOUT = 60.0


class Target(Protocol):
    """Anything with ``aet``, ``host`` and ``port``: a PACS, a settings target, a peer."""

    aet: str
    host: str
    port: int


def new_ae(calling: str) -> Any:
    """A pynetdicom AE with medlab's implementation UID and the lessons' timeouts."""
    from pynetdicom import AE

    from medlab.net import IMPLEMENTATION_CLASS_UID

    ae = AE(ae_title=calling)
    ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    # Generous limits (issue 15 §6): each is a wait for an event (an answer, a PDU),
    # so a healthy peer costs nothing extra, and a machine busy with a whole class
    # must not turn a slow answer into a failed exercise. Lesson 07 sets its own
    # short acse_timeout to show what a timeout looks like.
    ae.acse_timeout = ACSE_TIMEOUT
    ae.dimse_timeout = 120
    ae.network_timeout = 120
    ae.connection_timeout = 30
    return ae


def where(target: Target, calling: str | None = None) -> str:
    """``host:port, called AE X, calling AE Y``: where an association went."""
    text = f"{target.host}:{target.port}, called AE {target.aet}"
    return text + (f", calling AE {calling}" if calling else "")


def is_stopped(target: Target) -> bool:
    """True for a target we know was started here and has been stopped since."""
    return getattr(target, "is_running", True) is False


def stopped_error(target: Target, calling: str | None = None) -> MedlabError:
    """The MedlabError for a target we started here and a cell has stopped since."""
    return MedlabError(
        f"The PACS {target.aet} is not running: it was stopped",
        where=where(target, calling),
        fix="Is the PACS running? It was stopped by a cell above (pacs.stop()): run the "
        "cell that starts it again, then the cells after it.",
    )


def association_error(assoc: Any, target: Target, calling: str | None = None) -> MedlabError:
    """The MedlabError for an association that did not come up (explained, never raw)."""
    from medlab.net.explanations import explain

    why = explain(assoc)
    fix = why.fix
    if why.kind == "connection-refused" and is_stopped(target):
        name = type(target).__name__
        fix = (
            f"Is the PACS running? This {name} was stopped (by a cell above, e.g. "
            f"{'pacs.stop()' if name == 'PACS' else 'its stop()'}): run the cell that starts it "
            "again, then the cells after it."
        )
    return MedlabError(why.what, where=where(target, calling), fix=fix)


def associate(ae: Any, target: Target, recorder: Recorder | None = None, **kwargs: Any) -> Any:
    """``ae.associate`` with ``target``; a failure raises a MedlabError that explains it.

    Refused, timed out, rejected (reason decoded from PS3.8 §9.3.4) and aborted
    associations each get their own message; a stopped medlab PACS is named as
    such. ``recorder`` (optional) keeps our side of the conversation.
    """
    if is_stopped(target):
        raise stopped_error(target, str(ae.ae_title).strip())
    # Always record our side: it is what tells "nobody listening" from "timeout".
    handlers = list((recorder or Recorder()).handlers)
    handlers += kwargs.pop("evt_handlers", [])
    from pynetdicom import evt

    handlers.append((evt.EVT_CONN_OPEN, _on_connect))
    assoc = ae.associate(
        target.host, int(target.port), ae_title=target.aet, evt_handlers=handlers, **kwargs
    )
    if not assoc.is_established:
        raise association_error(assoc, target, str(ae.ae_title).strip())
    assoc.medlab_target = target
    return assoc


def _on_connect(event: Any) -> None:
    """Our side of a new association: no Nagle delay, and a reactor that leaves responses alone.

    ``TCP_NODELAY``: pynetdicom writes a DIMSE message's command and data set
    separately; with Nagle's algorithm on, the data set waits for the peer to
    acknowledge the command, and a peer that delays its acknowledgements
    (DCMTK's storescp, Orthanc) holds every message ≈ 40 ms.
    :class:`~medlab.net.server.dimse.ResponseSafeDIMSE`: pynetdicom's reactor
    could take the response a ``send_*`` call was waiting for, and the call
    then timed out (a wrong result on a busy machine).
    """
    from pynetdicom.dimse import DIMSEServiceProvider

    from medlab.net.server.dimse import ResponseSafeDIMSE

    assoc = event.assoc
    if type(assoc.dimse) is DIMSEServiceProvider:  # nothing else set it: no message yet
        assoc.dimse = ResponseSafeDIMSE(assoc)
    raw = getattr(getattr(assoc.dul, "socket", None), "socket", None)
    if raw is not None:
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


@dataclass
class Association:
    """Context manager: an established association, released at the end.

    If the association was aborted on the way (by the peer, the network layer,
    or a timeout), leaving the block raises a MedlabError that says so instead
    of returning results that are silently incomplete.
    """

    assoc: Any
    service: str = field(default="", kw_only=True)

    def __enter__(self) -> Any:
        return self.assoc

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        if self.assoc.is_established:
            self.assoc.release()  # an abort that raced our last request shows up here
        if exc_type is None and self.assoc.is_aborted:
            raise aborted_error(self.assoc, self.service)


def local_end(assoc: Any) -> str:
    """``host:port`` of our end of the association's TCP connection.

    The PACS records it as the peer of that association, so a diagram can draw
    exactly the association a helper used (:func:`medlab.net.diagram.events_of`).
    """
    return f"{assoc.requestor.address}:{assoc.requestor.port}"


def aborted_error(assoc: Any, service: str = "") -> MedlabError:
    """The MedlabError for an association that was aborted after it was established."""
    target = getattr(assoc, "medlab_target", None)
    place = (
        where(target, str(assoc.ae.ae_title).strip())
        if target is not None
        else f"{assoc.acceptor.address}:{assoc.acceptor.port}, called AE "
        f"{str(assoc.acceptor.ae_title).strip()}"
    )
    during = f" during the {service}" if service else ""
    return MedlabError(
        f"The association was aborted{during} (A-ABORT, PS3.8 §9.3.8): the peer or the network "
        "ended it without a release, so the results may be incomplete",
        where=place,
        fix="Check that the peer is still running (a stopped PACS aborts its associations) "
        "and run the cell again; a DIMSE timeout means the peer answered too slowly.",
    )
