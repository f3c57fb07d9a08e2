"""What every client call shares: our AE, the association, the target it goes to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from medlab.errors import MedlabError
from medlab.net.recording import Recorder

#: Our default Calling AE Title in the lessons.
CALLING_AET = "TRAINEE"


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
    ae.acse_timeout = 60
    ae.dimse_timeout = 120
    ae.network_timeout = 120
    ae.connection_timeout = 30
    return ae


def associate(ae: Any, target: Target, recorder: Recorder | None, **kwargs: Any) -> Any:
    """Associate with ``target``; a failure raises a MedlabError that explains it."""
    # Always record our side: it is what tells "nobody listening" from "timeout".
    handlers = list((recorder or Recorder()).handlers)
    handlers += kwargs.pop("evt_handlers", [])
    assoc = ae.associate(
        target.host, int(target.port), ae_title=target.aet, evt_handlers=handlers, **kwargs
    )
    if not assoc.is_established:
        from medlab.net.explanations import explain

        why = explain(assoc)
        raise MedlabError(why.what, where=f"{target.aet}@{target.host}:{target.port}", fix=why.fix)
    return assoc


@dataclass
class Association:
    """Context manager: an established association, released at the end."""

    assoc: Any

    def __enter__(self) -> Any:
        return self.assoc

    def __exit__(self, *exc: object) -> None:
        if self.assoc.is_established:
            self.assoc.release()
