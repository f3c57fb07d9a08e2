"""The HL7 endpoint a lesson talks to: the bundled listener, or the configured one.

Mirrors :func:`medlab.net.start_pacs`. With nothing configured
(:func:`medlab.settings.hl7`), :func:`start_listener` starts a bundled
:class:`~medlab.hl7.mllp.Listener` on a free port of 127.0.0.1 with a fresh
message store under the user's medlab home (so a lesson's output is the same
on every run and no two users share a folder). With ``MEDLAB_HL7`` or a config
file it returns a :class:`RemoteHL7` describing that endpoint: messages are
sent there, but what it received cannot be listed from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RemoteHL7:
    """An HL7 endpoint configured in :mod:`medlab.settings` (not ours)."""

    host: str
    port: int
    messages: list = field(default_factory=list)
    on_message: Any = None

    def stop(self) -> None:
        """Nothing to stop: we did not start it."""

    def __repr__(self) -> str:
        return f"<remote HL7 endpoint at {self.host}:{self.port}>"


def start_listener(**kwargs: Any) -> Any:
    """Start the lesson's HL7 listener (bundled, free port) or describe the configured one.

    ``kwargs`` go to :class:`~medlab.hl7.mllp.Listener` (e.g. ``on_message=``,
    ``accept=``). Call ``stop()`` at the end of the lesson.
    """
    from medlab import paths, settings

    target = settings.hl7()
    if not target.bundled:
        return RemoteHL7(target.host, target.port)
    from medlab.hl7.mllp import Listener

    kwargs.setdefault("port", 0)
    if "store" not in kwargs:
        kwargs["store"] = str(paths.new_folder("hl7-"))
    return Listener(**kwargs).start()
