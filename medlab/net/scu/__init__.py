"""The client side (SCU) of medlab's networking room: small helpers for lessons 07-10.

The lessons call pynetdicom directly wherever a cell stays short; what is here
is only what would make a cell long or repeat itself, one module per service,
each written once against *any* target (the bundled PACS, Orthanc or a
department test PACS):

=====================  =========================================================
module                 what lives there
=====================  =========================================================
:mod:`.association`    our AE, ``associate`` (failures explained), ``Target``
:mod:`.targets`        ``start_pacs``, ``start_receiver``, ``RemotePACS``, port helpers
:mod:`.verification`   :func:`echo` (C-ECHO)
:mod:`.storage`        :func:`store` (C-STORE), ``StoreReport``
:mod:`.find`           :func:`find` (C-FIND), ``query_dataset``, ``QueryResult``
:mod:`.retrieve`       :func:`get` (C-GET), ``RetrieveResult``
:mod:`.worklist`       ``worklist_query``, ``acquire`` (the modality's day)
:mod:`.mpps`           ``mpps_in_progress``, ``mpps_completed``
:mod:`.commitment`     :func:`commit` (N-ACTION / N-EVENT-REPORT)
=====================  =========================================================

The :class:`~medlab.net.recording.Recorder` records our side in the same
records as the PACS keeps. Nothing here listens on anything but 127.0.0.1.
"""

from __future__ import annotations

from medlab.net.recording import Recorder
from medlab.net.scu.association import CALLING_AET, Association, Target, associate, new_ae
from medlab.net.scu.commitment import CommitmentResult, commit
from medlab.net.scu.find import RETURN_KEYS, QueryResult, find, query_dataset
from medlab.net.scu.mpps import mpps_completed, mpps_in_progress
from medlab.net.scu.retrieve import RECEIVE_SOP_CLASSES, RetrieveResult, get
from medlab.net.scu.storage import StoreReport, store
from medlab.net.scu.targets import (
    RemotePACS,
    port_is_listening,
    start_pacs,
    start_receiver,
    unused_port,
)
from medlab.net.scu.verification import echo
from medlab.net.scu.worklist import FROM_WORKLIST, acquire, worklist_query

__all__ = [
    "CALLING_AET",
    "FROM_WORKLIST",
    "RECEIVE_SOP_CLASSES",
    "RETURN_KEYS",
    "Association",
    "CommitmentResult",
    "QueryResult",
    "Recorder",
    "RemotePACS",
    "RetrieveResult",
    "StoreReport",
    "Target",
    "acquire",
    "associate",
    "commit",
    "echo",
    "find",
    "get",
    "mpps_completed",
    "mpps_in_progress",
    "new_ae",
    "port_is_listening",
    "query_dataset",
    "start_pacs",
    "start_receiver",
    "store",
    "unused_port",
    "worklist_query",
]
