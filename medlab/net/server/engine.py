"""How the PACS drives pynetdicom and socketserver: tuning, closing, failure answers.

The two private names medlab touches live here, each beside its reason, and
``tests/unit/test_pacs_server.py`` fails (not a silent no-op) if either is gone:

* pynetdicom's ``DULServiceProvider._run_loop_delay`` (:func:`tune_association`);
* socketserver's name-mangled ``BaseServer.__shutdown_request``
  (:func:`shutdown_promptly`).
"""

from __future__ import annotations

import socket
from typing import Any

#: pynetdicom's DUL polls its socket every ``_run_loop_delay`` seconds (1 ms by
#: default, a private attribute of pynetdicom 3.0). 0.1 ms makes the PACS 20-40 %
#: faster without spinning a core on an idle association (0 would); measured in
#: /work/shared/notes/pacs.md ("what moved the needle"). pyproject pins
#: pynetdicom 3.0.x.
DUL_POLL_DELAY = 1e-4

#: The private names above, for the guard tests.
DUL_DELAY_ATTRIBUTE = "_run_loop_delay"
SHUTDOWN_FLAG_ATTRIBUTE = "_BaseServer__shutdown_request"


def tune_association(assoc: Any) -> None:
    """Tune one association: DUL poll delay and TCP_NODELAY.

    * :data:`DUL_POLL_DELAY` (pynetdicom's private ``_run_loop_delay``).
    * ``TCP_NODELAY`` on the socket: pynetdicom sends a DIMSE message's command
      and data set as separate P-DATA PDUs; with Nagle's algorithm on, the
      second waits for the peer's delayed ACK (≈ 40 ms on Linux) — every C-FIND
      response would cost 40 ms.
    """
    dul = assoc.dul
    # Private pynetdicom attribute, set without a hasattr() on purpose: if a release
    # renames it, this write creates a dead attribute, and the guard test
    # (test_poll_delay_is_tuned_and_the_private_attribute_still_exists) fails instead of the PACS silently slowing.
    dul._run_loop_delay = DUL_POLL_DELAY
    raw = getattr(getattr(dul, "socket", None), "socket", None)
    if raw is not None:
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def shutdown_promptly(server: Any, wake: tuple[str, int]) -> None:
    """Stop a socketserver loop at once instead of at its next 0.5 s poll.

    ``serve_forever`` checks its name-mangled private flag only between polls:
    set the flag, then wake the loop with one connection to ``wake``. Without
    this, every ``PACS.stop()`` (every lesson's last cell) waits up to 0.5 s.
    The guard test (test_shutdown_flag_still_exists) fails if the stdlib renames it.
    """
    setattr(server, SHUTDOWN_FLAG_ATTRIBUTE, True)
    try:
        socket.create_connection(wake, timeout=0.5).close()
    except OSError:
        pass
    server.shutdown()


def close_quietly(assoc: Any) -> None:
    """Close an association's connection without going through its state machine."""
    sock = getattr(assoc.dul, "socket", None)
    raw = getattr(sock, "socket", None)
    if raw is not None:
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def failure(status: int, comment: str) -> tuple[Any, None]:
    """A ``(status dataset with Error Comment, None)`` answer for a DIMSE handler."""
    from pydicom import Dataset

    rsp = Dataset()
    rsp.Status = status
    rsp.ErrorComment = comment[:64]
    return rsp, None
