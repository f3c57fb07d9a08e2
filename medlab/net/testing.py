"""Stand-in peers for demonstrations and tests (not a DICOM service).

:class:`SilentPeer` is what lesson 07 points an association at to show a
timeout, and what the tests use for the same case.
"""

from __future__ import annotations

import socket
import threading


class SilentPeer:
    """A TCP listener on 127.0.0.1 that accepts connections and never says a word.

    Lesson 07 points an association at it to show what a timeout looks like
    (a firewall that drops packets, or a hung server, looks the same to a client).
    Use as a context manager; ``port`` is the port it listens on.
    """

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.host = "127.0.0.1"
        self.aet = "SILENT"
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="medlab-silent-peer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self._conns.append(conn)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._conns:
            conn.close()
        self._sock.close()

    def __enter__(self) -> SilentPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SilentPeer at {self.host}:{self.port}>"
