"""The lesson's targets: the bundled PACS (started here) or a configured remote one, and ports."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RemotePACS:
    """A PACS configured in :mod:`medlab.settings` (not ours): only where it is.

    It has no recorded :attr:`events` (the server is not ours to watch: use a
    :class:`~medlab.net.Recorder` on our side) and cannot be scheduled into.
    """

    aet: str
    host: str
    port: int
    events: list = field(default_factory=list)

    def stop(self) -> None:
        """Nothing to stop: we did not start it."""

    def events_text(self, assoc: int | None = None) -> str:
        return ""

    def clear_events(self) -> None:
        self.events.clear()

    @property
    def is_running(self) -> bool:
        return True

    #: A configured remote PACS is reached over DICOM only: its web side, if any, is not ours.
    dicomweb_url = None
    viewer_url = None
    web_port = None

    def viewer(self, *args: Any, **kwargs: Any) -> Any:
        from medlab.errors import MedlabError

        raise MedlabError(
            "The viewer is served by the bundled PACS, not by the configured remote one",
            where=f"{self.host}:{self.port}",
            fix="Unset MEDLAB_PACS (or the [pacs] settings) to use the bundled PACS in lesson 16.",
        )

    def __repr__(self) -> str:
        return f"<remote PACS {self.aet} at {self.host}:{self.port}>"


def start_pacs(**kwargs: Any) -> Any:
    """Start the lesson's PACS: the bundled one (free port) or the configured remote one.

    With nothing configured (:func:`medlab.settings.pacs`), returns a running
    :class:`medlab.net.PACS` (``kwargs`` go to it, e.g. ``peers=``), serving
    DICOMweb and the viewer on a free second port (``pacs.dicomweb_url``,
    ``pacs.viewer()``; ``web_port=-1`` turns that off); call its ``stop()`` at
    the end of the lesson. With ``MEDLAB_PACS`` or a config file,
    returns a :class:`RemotePACS` describing that server.
    """
    from medlab import paths, settings

    target = settings.pacs()
    if not target.bundled:
        return RemotePACS(target.aet, target.host, target.port)
    from medlab.net.server import PACS

    kwargs.setdefault("port", 0)
    if "root" not in kwargs:
        kwargs["root"] = paths.new_folder("pacs-")  # a fresh archive per lesson run
    return PACS(**kwargs).start()


def start_receiver(aet: str = "RECEIVER", **kwargs: Any) -> Any:
    """Start a second, small medlab PACS as a C-MOVE destination (always local).

    It has its own fresh storage folder and records its own events, so a
    lesson can show what arrived; no web side (a DICOM destination only).
    Stop it with ``stop()``.
    """
    from medlab import paths
    from medlab.net.server import PACS

    kwargs.setdefault("web_port", -1)
    if "root" not in kwargs:
        kwargs["root"] = paths.new_folder(f"{aet.lower()}-")
    return PACS(aet=aet, port=kwargs.pop("port", 0), **kwargs).start()


def unused_port() -> int:
    """A port on 127.0.0.1 where nobody listens (bound, then released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on ``host:port`` (used to prove a PACS stopped)."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
