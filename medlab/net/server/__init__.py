"""The PACS side (SCP) of medlab's networking room, one module per service.

=====================  =========================================================
module                 what lives there
=====================  =========================================================
:mod:`.core`           :class:`PACS`: start/stop, watchdog, event log, AE contexts
:mod:`.engine`         pynetdicom tuning, the guarded private names, failure answers
:mod:`.verification`   C-ECHO
:mod:`.storage`        C-STORE; :meth:`PACS.store_received`, the one way in
:mod:`.find`           Q/R C-FIND; ``studies``, ``series``, ``ls``
:mod:`.retrieve`       C-GET, C-MOVE
:mod:`.worklist`       ``schedule``, ``worklist``, MWL C-FIND matching
:mod:`.mpps`           N-CREATE, N-SET, ``mpps``
:mod:`.commitment`     N-ACTION, N-EVENT-REPORT
=====================  =========================================================
"""

from __future__ import annotations

from medlab.net.config import PACSConfig, check_aet
from medlab.net.server.core import PACS
from medlab.net.server.engine import DUL_POLL_DELAY, tune_association
from medlab.net.server.storage import storage_transfer_syntaxes

__all__ = [
    "DUL_POLL_DELAY",
    "PACS",
    "PACSConfig",
    "check_aet",
    "storage_transfer_syntaxes",
    "tune_association",
]
