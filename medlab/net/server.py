"""The medlab PACS: a small, real DICOM archive on pynetdicom.

Services (SCP), with the part of the standard each follows:

* Verification — C-ECHO (PS3.4 Annex A)
* Storage — C-STORE of every storage SOP class pynetdicom knows, uncompressed
  and compressed transfer syntaxes, stored as received (PS3.4 Annex B)
* Query/Retrieve — Patient Root and Study Root, C-FIND / C-MOVE / C-GET at
  every level, C-CANCEL honoured (PS3.4 Annex C)
* Modality Worklist — C-FIND over scheduled procedure steps (PS3.4 Annex K)
* Modality Performed Procedure Step — N-CREATE / N-SET (PS3.4 Annex F)
* Storage Commitment Push Model — N-ACTION, answered by N-EVENT-REPORT
  (PS3.4 Annex J)

Use it from a notebook::

    from medlab.net import PACS
    with PACS(port=0) as pacs:          # a free port, on a background thread
        print(pacs.aet, pacs.host, pacs.port)
        ...                             # point pynetdicom / DCMTK at it
    print(pacs.events_text())           # what happened on the wire

or from a terminal: ``medlab pacs serve``.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.net import events as ev
from medlab.net.config import PACSConfig, check_aet
from medlab.net.query import QueryError, find, find_worklist, instances_for
from medlab.net.store import Store, StoreFailure, clean_uid, is_valid_uid, normalise_time

if TYPE_CHECKING:
    from pydicom import Dataset

LOGGER = logging.getLogger("medlab.net")

#: pynetdicom's DUL polls its socket every ``_run_loop_delay`` seconds (1 ms by
#: default, a private attribute of pynetdicom 3.0). 0.1 ms makes the PACS 20-40 %
#: faster without spinning a core on an idle association (0 would). This is the
#: one private setting medlab touches: pyproject pins pynetdicom 3.0.x, and
#: tests/unit/test_pacs_server.py fails if the attribute disappears.
DUL_POLL_DELAY = 1e-4

#: Store received instances in a worker thread, started the moment the last
#: fragment is decoded (EVT_DIMSE_RECV), so the write overlaps with the time
#: the association's reactor takes to pick the request up (it polls every ms).
EARLY_STORE_IN_WORKER = True

#: PS3.8 §9.3.4 A-ASSOCIATE-RJ fields, for readable event records.
_RJ_RESULT = {1: "rejected-permanent", 2: "rejected-transient"}
_RJ_SOURCE = {1: "service-user", 2: "service-provider (ACSE)", 3: "service-provider (presentation)"}
_RJ_REASON = {
    (1, 1): "no-reason-given",
    (1, 2): "application-context-name-not-supported",
    (1, 3): "calling-AE-title-not-recognized",
    (1, 7): "called-AE-title-not-recognized",
    (2, 1): "no-reason-given",
    (2, 2): "protocol-version-not-supported",
    (3, 1): "temporary-congestion",
    (3, 2): "local-limit-exceeded",
}

# SOP Class UIDs used below (PS3.4 Annexes; names as in PS3.6 Annex A).
VERIFICATION = "1.2.840.10008.1.1"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
MPPS = "1.2.840.10008.3.1.2.3.3"
STORAGE_COMMITMENT = "1.2.840.10008.1.20.1"
STORAGE_COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"  # the well-known SOP Instance

_MODEL = {
    PATIENT_ROOT_FIND: "PATIENT",
    PATIENT_ROOT_MOVE: "PATIENT",
    PATIENT_ROOT_GET: "PATIENT",
    STUDY_ROOT_FIND: "STUDY",
    STUDY_ROOT_MOVE: "STUDY",
    STUDY_ROOT_GET: "STUDY",
}

#: MPPS attributes an N-SET may not change (PS3.4 Table F.7.2-1, N-SET usage
#: "Not allowed"): they are fixed by the N-CREATE.
MPPS_NOT_SETTABLE = frozenset(
    {
        "SOPClassUID",
        "SOPInstanceUID",
        "PatientName",
        "PatientID",
        "IssuerOfPatientID",
        "PatientBirthDate",
        "PatientSex",
        "ReferencedPatientSequence",
        "ScheduledStepAttributesSequence",
        "PerformedProcedureStepID",
        "PerformedStationAETitle",
        "PerformedStationName",
        "PerformedLocation",
        "PerformedProcedureStepStartDate",
        "PerformedProcedureStepStartTime",
        "Modality",
        "StudyID",
    }
)
MPPS_STATES = ("IN PROGRESS", "COMPLETED", "DISCONTINUED")


def storage_transfer_syntaxes() -> list[str]:
    """Transfer syntaxes accepted for storage, compressed ones first.

    As acceptor pynetdicom picks, for each proposed context, the first syntax of
    *this* list that the peer also proposed. Compressed first means a JPEG
    object offered as "JPEG or uncompressed" is taken as JPEG — as it was sent —
    rather than having the sender decompress it. Among the uncompressed ones,
    Explicit VR Little Endian is preferred, Implicit VR last.
    """
    from pynetdicom import ALL_TRANSFER_SYNTAXES

    uncompressed = [
        "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
        "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
        "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired, still sent)
        "1.2.840.10008.1.2",  # Implicit VR Little Endian (the default TS)
    ]
    compressed = [ts for ts in ALL_TRANSFER_SYNTAXES if ts not in uncompressed]
    return compressed + uncompressed


class _AssocInfo:
    """What the PACS remembers about one association while it lasts."""

    __slots__ = ("n", "local", "remote", "peer", "proposed", "is_requestor", "opened", "dropped")

    def __init__(self, n: int, local: str, remote: str, peer: str, is_requestor: bool) -> None:
        self.opened = time.monotonic()
        self.dropped = False
        self.n = n
        self.local = local
        self.remote = remote
        self.peer = peer
        self.proposed: dict[int, tuple[str, tuple[str, ...]]] = {}
        self.is_requestor = is_requestor


class PACS:
    """A small real PACS; a context manager that runs it on a background thread.

    Parameters
    ----------
    root:
        Storage folder (files + ``index.sqlite``); default ``paths.home()/"pacs"``.
    aet:
        Our AE title; a peer calling another title is rejected.
    host, port:
        Where to listen; ``port=0`` picks a free port (see :attr:`port`).
    peers:
        Known peers ``{AE title: (host, port)}`` — the C-MOVE destinations.
    allow:
        Calling AE titles allowed in (``None`` = any).
    config:
        A full :class:`PACSConfig`; the arguments above override it when given
        a non-default value.

    Examples
    --------
    >>> from medlab.net import PACS
    >>> with PACS(port=0) as pacs:           # doctest: +SKIP
    ...     ... # associate with ("127.0.0.1", pacs.port), called AE "MEDLAB"
    """

    def __init__(
        self,
        root: str | Path | None = None,
        aet: str = "MEDLAB",
        host: str = "127.0.0.1",
        port: int = 0,
        peers: dict[str, tuple[str, int]] | None = None,
        allow: list[str] | None = None,
        config: PACSConfig | None = None,
    ) -> None:
        if config is None:
            config = PACSConfig(
                aet=aet, host=host, port=port, root=root, peers=dict(peers or {}), allow=allow
            )
        else:
            config = config.replace(
                root=root,
                aet=aet if aet != "MEDLAB" else None,
                host=host if host != "127.0.0.1" else None,
                port=port if port != 0 else None,
                peers={**config.peers, **peers} if peers else None,
                allow=allow,
            )
            config.__post_init__()
        if config.root is None:
            from medlab import paths

            config.root = paths.home() / "pacs"
        self.config = config
        self._events: deque[ev.PacsEvent] = deque(maxlen=config.max_events)
        self._listeners: list[Callable[[ev.PacsEvent], None]] = []
        # Keyed by the association object itself (weakly): a record lives as long as its
        # association, so a message pynetdicom reports after TCP-CLOSE (a late A-RELEASE-RP)
        # keeps its number, and a recycled id() can never inherit an old record.
        self._assocs: weakref.WeakKeyDictionary[Any, _AssocInfo] = weakref.WeakKeyDictionary()
        self._early: dict[tuple[int, int], Any] = {}  # C-STORE results computed on receipt
        self._assoc_counter = 0
        self._lock = threading.Lock()
        self._server: Any = None
        self._ae: Any = None
        self.store: Store | None = None
        self.recovered: dict[str, int] = {}
        self._port = config.port
        self._service: Any = None  # medlab.services handle while running

    # ------------------------------------------------------------------ public
    @property
    def aet(self) -> str:
        """Our AE title."""
        return self.config.aet

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def port(self) -> int:
        """The TCP port (the real one once started, even if configured as 0)."""
        return self._port

    @property
    def root(self) -> Path:
        return Path(self.config.root)  # type: ignore[arg-type]

    @property
    def peers(self) -> dict[str, tuple[str, int]]:
        return self.config.peers

    @property
    def events(self) -> list[ev.PacsEvent]:
        """Every event so far (oldest first), see :mod:`medlab.net.events`."""
        return list(self._events)

    def events_text(self, assoc: int | None = None) -> str:
        """The events as text, one line each (optionally of one association)."""
        return ev.events_text(self.events, assoc)

    def clear_events(self) -> None:
        self._events.clear()

    def add_listener(self, callback: Callable[[ev.PacsEvent], None]) -> None:
        """Call ``callback(event)`` for every new event (the CLI prints them)."""
        self._listeners.append(callback)

    @property
    def is_running(self) -> bool:
        return self._server is not None

    def start(self) -> PACS:
        """Open the store (recovering from any crash) and start listening."""
        if self._server is not None:
            return self
        from pynetdicom import AE, _config, evt

        if self.config.quiet_library_logging:
            # Documented pynetdicom settings: no per-message log handlers, and no
            # decoding + pretty-printing of every C-FIND/MOVE/GET identifier for a log.
            _config.LOG_HANDLER_LEVEL = "none"
            _config.LOG_REQUEST_IDENTIFIERS = False
        from medlab import services

        # One PACS per storage folder: lock it before the index is opened, so crash
        # recovery never runs under another running PACS (in this process or another).
        lock = services.lock_root(self.root, "pacs")
        try:
            if self.store is not None:  # opened by a query helper while stopped
                self.store.close()
            self.store = Store(self.root, fsync=self.config.fsync)
            self.recovered = self.store.recover()
        except BaseException:
            lock.release()
            raise
        ae = AE(ae_title=self.aet)
        self._configure_ae(ae)
        self._ae = ae
        self._workers = ThreadPoolExecutor(
            max_workers=self.config.max_associations, thread_name_prefix="medlab-store"
        )
        self._stopping = threading.Event()
        handlers = [
            (evt.EVT_C_ECHO, self._on_echo),
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_C_FIND, self._on_find),
            (evt.EVT_C_GET, self._on_get),
            (evt.EVT_C_MOVE, self._on_move),
            (evt.EVT_N_CREATE, self._on_n_create),
            (evt.EVT_N_SET, self._on_n_set),
            (evt.EVT_N_ACTION, self._on_n_action),
            *self._notification_handlers(),
        ]
        try:
            self._server = ae.start_server(
                (self.config.host, self.config.port), block=False, evt_handlers=handlers
            )
        except OSError as err:
            self.store.close()
            self.store = None
            self._workers.shutdown()
            lock.release()
            raise MedlabError(
                f"The PACS cannot listen: {err.strerror}",
                where=f"{self.config.host}:{self.config.port}",
                fix="Another program (or another PACS) may use this port: choose another "
                "with --port, or port=0 for a free one.",
            ) from None
        self._port = self._server.server_address[1]
        # Listed by `medlab doctor`; the handle owns the folder lock until stop().
        self._service = services.register(
            "pacs", self.config.host, self._port, root=self.root, aet=self.aet, lock=lock
        )
        self._watchdog_thread = threading.Thread(
            target=self._watchdog, name=f"medlab-pacs-watchdog-{self._port}", daemon=True
        )
        self._watchdog_thread.start()
        return self

    def _watchdog(self) -> None:
        """Drop connections that never become a working association.

        pynetdicom answers a garbage or malformed PDU with an A-ABORT, then waits
        for the peer to close; a peer that keeps the connection open (or sends a
        PDU header announcing gigabytes and nothing else) would hold one of the
        ``max_associations`` slots for good. Anything not established within
        ``acse_timeout`` of connecting is closed here. (Established but idle
        associations are pynetdicom's job: ``network_timeout``.)
        """
        while not self._stopping.wait(0.2):
            now = time.monotonic()
            for assoc in list(self._ae.active_associations):
                info = self._assocs.get(assoc)
                if info is None or info.dropped or assoc.is_established or info.is_requestor:
                    continue
                if now - info.opened > self.config.acse_timeout:
                    info.dropped = True
                    self._emit(
                        ev.Note(
                            info.n,
                            "NOTE",
                            info.local,
                            info.remote,
                            time.time(),
                            info.peer,
                            f"connection closed: no association within {self.config.acse_timeout:g} s",
                        )
                    )
                    _close_quietly(assoc)

    def stop(self) -> None:
        """Stop listening, end open associations, close the index."""
        server, self._server = self._server, None
        if server is not None:
            # socketserver's loop polls every 0.5 s for the shutdown flag; set the
            # flag and wake the loop with a connection so that stop() is prompt.
            server._BaseServer__shutdown_request = True
            try:
                socket.create_connection((self._connect_host(), self._port), timeout=0.5).close()
            except OSError:
                pass
            server.shutdown()
            self._stopping.set()
            for assoc in list(self._ae.active_associations):
                if assoc.is_established:
                    try:
                        assoc.abort()
                    except Exception:  # noqa: BLE001
                        pass
                else:
                    _close_quietly(assoc)
            self._workers.shutdown(wait=True)
        if self.store is not None:
            self.store.close()
            self.store = None
        service, self._service = self._service, None
        if service is not None:
            service.stop()  # the record goes, and the folder lock is released

    def _connect_host(self) -> str:
        host = self.config.host
        return "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)

    def __enter__(self) -> PACS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<PACS {self.aet} at {self.host}:{self.port} ({state})>"

    def _repr_html_(self) -> str:
        from html import escape

        state = "running" if self.is_running else "stopped"
        rows = [
            ("AE title", self.aet),
            ("Address", f"{self.host}:{self.port}"),
            ("State", state),
            (
                "Peers (C-MOVE)",
                ", ".join(f"{a} = {h}:{p}" for a, (h, p) in sorted(self.peers.items())) or "none",
            ),
            ("Events recorded", str(len(self._events))),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table><caption>medlab PACS</caption>{body}</table>"

    # ------------------------------------------------------------------ queries
    def _require_store(self) -> Store:
        if self.store is None:
            # Open read-only helpers on a stopped PACS too.
            self.store = Store(self.root, fsync=self.config.fsync)
        return self.store

    def studies(self) -> list[dict[str, Any]]:
        """One dict per stored study: patient, date, description, series and instance counts."""
        rows = self._require_store().query(
            "SELECT patient_id, patient_name, study_uid, study_date, study_description, "
            "GROUP_CONCAT(DISTINCT modality), COUNT(DISTINCT series_uid), COUNT(*) "
            "FROM instances GROUP BY study_uid ORDER BY patient_id, study_date, study_uid"
        )
        keys = (
            "PatientID",
            "PatientName",
            "StudyInstanceUID",
            "StudyDate",
            "StudyDescription",
            "Modalities",
            "Series",
            "Instances",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def series(self, study_uid: str | None = None) -> list[dict[str, Any]]:
        """One dict per stored series (optionally of one study)."""
        sql = (
            "SELECT study_uid, series_uid, modality, series_number, series_description, COUNT(*) "
            "FROM instances"
        )
        params: tuple = ()
        if study_uid:
            sql += " WHERE study_uid=?"
            params = (study_uid,)
        sql += " GROUP BY series_uid ORDER BY study_uid, series_number, series_uid"
        keys = (
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "Modality",
            "SeriesNumber",
            "SeriesDescription",
            "Instances",
        )
        return [dict(zip(keys, r, strict=True)) for r in self._require_store().query(sql, params)]

    def instance_count(self) -> int:
        return self._require_store().count()

    def file_of(self, sop_instance_uid: str) -> Path | None:
        """Path of a stored instance, or None."""
        return self._require_store().file_of(sop_instance_uid)

    def ls(self) -> str:
        """Text listing: patients, studies, series, instance counts (``medlab pacs ls``)."""
        lines: list[str] = []
        studies = self.studies()
        if not studies:
            return f"(no instances stored under {self.root})"
        patient = None
        for st in studies:
            if st["PatientID"] != patient:
                patient = st["PatientID"]
                lines.append(
                    f"Patient {st['PatientName'] or '(no name)'}  [ID {patient or '(none)'}]"
                )
            lines.append(
                f"  Study {st['StudyInstanceUID']}  {st['StudyDate'] or '(no date)'}  "
                f"{st['StudyDescription'] or ''}".rstrip()
            )
            for se in self.series(st["StudyInstanceUID"]):
                lines.append(
                    f"    Series {se['SeriesNumber'] if se['SeriesNumber'] is not None else '-'}"
                    f"  {se['Modality'] or '??'}  {se['Instances']} instance(s)  "
                    f"{se['SeriesDescription'] or ''}".rstrip()
                )
        total = sum(s["Instances"] for s in studies)
        patients = len({s["PatientID"] for s in studies})
        lines.append(f"{patients} patient(s), {len(studies)} study(ies), {total} instance(s)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ worklist
    def schedule(self, dataset: Dataset | None = None, **attrs: Any) -> str:
        """Add a Modality Worklist item; return its Scheduled Procedure Step ID.

        Give DICOM keywords (``PatientName="DOE^JANE", PatientID="P1",
        Modality="CT", ScheduledStationAETitle="CT01",
        ScheduledProcedureStepStartDate="20260105", ...``) or a ready Dataset.
        Keywords of the Scheduled Procedure Step (PS3.4 Table K.6-1) go into
        the Scheduled Procedure Step Sequence (0040,0100) automatically.
        """
        from pydicom import Dataset
        from pydicom.datadict import tag_for_keyword
        from pydicom.uid import generate_uid

        from medlab.net.query import WORKLIST_SPS

        sps_keys = set(WORKLIST_SPS) | {
            "ScheduledProcedureStepDescription",
            "ScheduledProtocolCodeSequence",
            "ScheduledProcedureStepLocation",
            "ScheduledStationName",
            "ScheduledProcedureStepEndDate",
            "ScheduledProcedureStepEndTime",
        }
        ds = Dataset() if dataset is None else dataset.copy()
        for keyword, value in attrs.items():
            if tag_for_keyword(keyword) is None:
                raise MedlabError(
                    f"{keyword!r} is not a DICOM keyword",
                    fix="Use keywords such as PatientName, Modality, ScheduledStationAETitle.",
                )
            if keyword in sps_keys:
                if "ScheduledProcedureStepSequence" not in ds:
                    ds.ScheduledProcedureStepSequence = [Dataset()]
                setattr(ds.ScheduledProcedureStepSequence[0], keyword, value)
            else:
                setattr(ds, keyword, value)
        if "ScheduledProcedureStepSequence" not in ds or not ds.ScheduledProcedureStepSequence:
            ds.ScheduledProcedureStepSequence = [Dataset()]
        sps = ds.ScheduledProcedureStepSequence[0]
        store = self._require_store()
        if not sps.get("ScheduledProcedureStepID"):
            n = store.query("SELECT COUNT(*) FROM worklist")[0][0] + 1
            while store.query("SELECT 1 FROM worklist WHERE sps_id=?", (f"SPS{n:04d}",)):
                n += 1
            sps.ScheduledProcedureStepID = f"SPS{n:04d}"
        sps_id = str(sps.ScheduledProcedureStepID)
        sps.setdefault("ScheduledProcedureStepStatus", "SCHEDULED")
        if "StudyInstanceUID" not in ds:
            ds.StudyInstanceUID = generate_uid(
                entropy_srcs=[
                    sps_id,
                    str(ds.get("AccessionNumber", "")),
                    str(ds.get("PatientID", "")),
                ]
            )
        ds.setdefault("RequestedProcedureID", sps_id.replace("SPS", "RP"))
        if not is_valid_uid(str(ds.StudyInstanceUID)):
            raise MedlabError(f"Study Instance UID {ds.StudyInstanceUID!r} is not a valid UID")
        row = (
            sps_id,
            str(ds.get("PatientID", "") or ""),
            str(ds.get("PatientName", "") or ""),
            str(ds.get("AccessionNumber", "") or ""),
            str(ds.StudyInstanceUID),
            str(ds.get("RequestedProcedureID", "") or ""),
            str(sps.get("Modality", "") or ""),
            str(sps.get("ScheduledStationAETitle", "") or ""),
            str(sps.get("ScheduledProcedureStepStartDate", "") or ""),
            normalise_time(str(sps.get("ScheduledProcedureStepStartTime", "") or "")) or "",
            str(sps.get("ScheduledPerformingPhysicianName", "") or ""),
            str(sps.get("ScheduledProcedureStepStatus", "") or ""),
            Store.to_json(ds),
        )
        store.execute(
            "INSERT OR REPLACE INTO worklist (sps_id, patient_id, patient_name, accession, "
            "study_uid, requested_procedure_id, modality, station_aet, start_date, start_time, "
            "physician, sps_status, dataset) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            row,
        )
        return sps_id

    def worklist(self) -> list[Dataset]:
        """Every scheduled worklist item (as Datasets)."""
        rows = self._require_store().query(
            "SELECT dataset FROM worklist ORDER BY start_date, start_time, sps_id"
        )
        return [Store.from_json(r[0]) for r in rows]

    def mpps(self, sop_instance_uid: str) -> Dataset | None:
        """The current state of one MPPS instance, or None."""
        rows = self._require_store().query(
            "SELECT dataset FROM mpps WHERE sop_uid=?", (sop_instance_uid,)
        )
        return Store.from_json(rows[0][0]) if rows else None

    # ------------------------------------------------------------------ setup
    def _configure_ae(self, ae: Any) -> None:
        from pynetdicom import build_context
        from pynetdicom.presentation import AllStoragePresentationContexts

        from medlab.net import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION

        cfg = self.config
        ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
        ae.implementation_version_name = IMPLEMENTATION_VERSION
        ae.maximum_pdu_size = cfg.max_pdu
        ae.maximum_associations = cfg.max_associations
        ae.acse_timeout = cfg.acse_timeout
        ae.dimse_timeout = cfg.dimse_timeout
        ae.network_timeout = cfg.network_timeout
        ae.connection_timeout = 10
        ae.require_called_aet = True
        ae.require_calling_aet = list(cfg.allow or [])
        storage_ts = storage_transfer_syntaxes()
        uncompressed = storage_ts[-4:]
        ae.add_supported_context(VERIFICATION, uncompressed)
        for cx in AllStoragePresentationContexts:
            # scu_role/scp_role True: accept the SCP/SCU role selection a C-GET
            # requestor proposes to receive the C-STOREs (PS3.4 C.4.3.3).
            ae.add_supported_context(cx.abstract_syntax, storage_ts, scu_role=True, scp_role=True)
        for uid in (*_MODEL, MODALITY_WORKLIST_FIND, MPPS, STORAGE_COMMITMENT):
            ae.add_supported_context(uid, uncompressed)
        # As requestor (C-MOVE sub-operations, commitment results) we propose
        # contexts per association, built from what is being sent.
        self._build_context = build_context

    def _notification_handlers(self) -> list[tuple[Any, Callable]]:
        from pynetdicom import evt

        return [
            (evt.EVT_CONN_OPEN, self._on_conn_open),
            (evt.EVT_CONN_CLOSE, self._on_conn_close),
            (evt.EVT_ACSE_RECV, self._on_acse_recv),
            (evt.EVT_ACSE_SENT, self._on_acse_sent),
            (evt.EVT_DIMSE_RECV, self._on_dimse_recv),
            (evt.EVT_DIMSE_SENT, self._on_dimse_sent),
        ]

    # ------------------------------------------------------------------ events
    def _emit(self, record: ev.PacsEvent) -> None:
        self._events.append(record)
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:  # noqa: BLE001 - a broken printer must not break the PACS
                LOGGER.exception("event listener failed")

    def _info(self, assoc: Any) -> _AssocInfo:
        info = self._assocs.get(assoc)
        if info is None:  # an event before CONN_OPEN (should not happen)
            info = self._register(assoc)
        return info

    def _register(self, assoc: Any) -> _AssocInfo:
        with self._lock:
            self._assoc_counter += 1
            n = self._assoc_counter
        if assoc.is_requestor:
            remote = assoc.acceptor.ae_title or "?"
            address = (assoc.acceptor.address, assoc.acceptor.port)
        else:
            remote = "?"
            address = (assoc.requestor.address, assoc.requestor.port)
        info = _AssocInfo(n, self.aet, remote, f"{address[0]}:{address[1]}", assoc.is_requestor)
        self._assocs[assoc] = info
        return info

    def _direction(self, info: _AssocInfo, sent: bool) -> tuple[str, str]:
        return (info.local, info.remote) if sent else (info.remote, info.local)

    def _on_conn_open(self, event: Any) -> None:
        assoc = event.assoc
        tune_association(assoc)
        # A requestor's A-ASSOCIATE-RQ is reported before its connection opens: keep its number.
        info = self._assocs.get(assoc) or self._register(assoc)
        sender, receiver = self._direction(info, sent=info.is_requestor)
        self._emit(ev.Transport(info.n, "TCP-OPEN", sender, receiver, time.time(), info.peer))

    def _on_conn_close(self, event: Any) -> None:
        key = id(event.assoc)
        for early in [k for k in self._early if k[0] == key]:
            self._early.pop(early, None)
        info = self._assocs.get(event.assoc)
        if info is None:
            return
        sender, receiver = self._direction(info, sent=info.is_requestor)
        self._emit(ev.Transport(info.n, "TCP-CLOSE", sender, receiver, time.time(), info.peer))

    def _on_acse_recv(self, event: Any) -> None:
        self._acse(event, sent=False)

    def _on_acse_sent(self, event: Any) -> None:
        self._acse(event, sent=True)

    def _acse(self, event: Any, sent: bool) -> None:
        from pynetdicom.pdu_primitives import A_ABORT, A_ASSOCIATE, A_P_ABORT, A_RELEASE

        info = self._info(event.assoc)
        prim = event.primitive
        now = time.time()
        if isinstance(prim, A_ASSOCIATE):
            if prim.result is None:  # the request
                remote = prim.called_ae_title if sent else prim.calling_ae_title
                info.remote = str(remote).strip() or "?"
                contexts = []
                for cx in prim.presentation_context_definition_list:
                    syntaxes = tuple(str(t) for t in cx.transfer_syntax)
                    info.proposed[cx.context_id] = (str(cx.abstract_syntax), syntaxes)
                    contexts.append(
                        ev.ContextRecord(cx.context_id, str(cx.abstract_syntax), syntaxes)
                    )
                sender, receiver = self._direction(info, sent)
                self._emit(
                    ev.AssociationRequest(
                        info.n,
                        "A-ASSOCIATE-RQ",
                        sender,
                        receiver,
                        now,
                        info.peer,
                        tuple(contexts),
                        int(prim.maximum_length_received or 0),
                    )
                )
            elif prim.result == 0:
                contexts = []
                for cx in prim.presentation_context_definition_results_list:
                    abstract, _ = info.proposed.get(cx.context_id, ("", ()))
                    chosen = (
                        str(cx.transfer_syntax[0]) if cx.result == 0 and cx.transfer_syntax else ""
                    )
                    contexts.append(
                        ev.ContextRecord(
                            cx.context_id,
                            abstract,
                            (),
                            ev.CONTEXT_RESULTS.get(cx.result, str(cx.result)),
                            chosen,
                        )
                    )
                sender, receiver = self._direction(info, sent)
                self._emit(
                    ev.AssociationAccept(
                        info.n, "A-ASSOCIATE-AC", sender, receiver, now, info.peer, tuple(contexts)
                    )
                )
            else:
                sender, receiver = self._direction(info, sent)
                source = int(prim.result_source or 0)
                self._emit(
                    ev.AssociationReject(
                        info.n,
                        "A-ASSOCIATE-RJ",
                        sender,
                        receiver,
                        now,
                        info.peer,
                        _RJ_RESULT.get(prim.result, str(prim.result)),
                        _RJ_SOURCE.get(source, str(source)),
                        _RJ_REASON.get((source, int(prim.diagnostic or 0)), str(prim.diagnostic)),
                    )
                )
        elif isinstance(prim, A_RELEASE):
            sender, receiver = self._direction(info, sent)
            name = "A-RELEASE-RQ" if prim.result is None else "A-RELEASE-RP"
            self._emit(ev.Release(info.n, name, sender, receiver, now, info.peer))
        elif isinstance(prim, A_P_ABORT):
            self._emit(
                ev.Abort(
                    info.n,
                    "A-P-ABORT",
                    "(provider)",
                    info.local,
                    now,
                    info.peer,
                    "service-provider",
                    _provider_reason(prim.provider_reason),
                )
            )
        elif isinstance(prim, A_ABORT):
            sender, receiver = self._direction(info, sent)
            src = {0: "service-user", 1: "reserved", 2: "service-provider"}.get(
                int(prim.abort_source or 0), str(prim.abort_source)
            )
            self._emit(ev.Abort(info.n, "A-ABORT", sender, receiver, now, info.peer, src, ""))

    def _on_dimse_recv(self, event: Any) -> None:
        self._dimse(event, sent=False)
        msg = event.message
        if type(msg).__name__ == "C_STORE_RQ" and not event.assoc.is_requestor:
            # Start storing now, in the thread that decoded the message, instead of
            # waiting for the association's reactor to poll its queue (≈1 ms);
            # EVT_C_STORE then only picks up the answer (pacs.md, "what moved the needle").
            assoc = event.assoc
            info = self._info(assoc)
            cs = msg.command_set
            ts = self._context_ts(assoc, msg.context_id)
            if not ts:  # not an accepted context: pynetdicom will refuse the request itself
                return
            args = (
                msg.data_set,
                ts,
                cs.AffectedSOPClassUID,
                cs.AffectedSOPInstanceUID,
                info.remote,
            )
            key = (id(assoc), int(cs.MessageID))
            if EARLY_STORE_IN_WORKER:
                self._early[key] = self._workers.submit(self._store, *args)
            else:
                self._early[key] = self._store(*args)

    def _on_dimse_sent(self, event: Any) -> None:
        self._dimse(event, sent=True)

    def _dimse(self, event: Any, sent: bool) -> None:
        info = self._info(event.assoc)
        msg = event.message
        cs = msg.command_set
        name = type(msg).__name__.replace("_", "-")
        is_rsp = name.endswith("-RSP")
        status = cs.Status if is_rsp else None
        info_text = ""
        # Extra details only where they exist: keyword look-ups cost, and this runs
        # twice per stored instance.
        command = name[:6]
        if is_rsp and status:
            comment = cs.get("ErrorComment")
            if comment:
                info_text = str(comment)
        if command in ("C-MOVE", "C-GET-"):
            if not is_rsp and "MoveDestination" in cs:
                info_text = f"to {str(cs.MoveDestination).strip()}"
            elif is_rsp:
                counts = [
                    f"{k.lower()}={cs.get(f'NumberOf{k}Suboperations')}"
                    for k in ("Remaining", "Completed", "Failed", "Warning")
                    if cs.get(f"NumberOf{k}Suboperations") is not None
                ]
                info_text = " ".join(counts + ([info_text] if info_text else []))
        elif command == "N-EVEN" and "EventTypeID" in cs:
            info_text = f"event type {cs.EventTypeID}"
        elif command == "N-ACTI" and "ActionTypeID" in cs:
            info_text = f"action type {cs.ActionTypeID}"
        sender, receiver = self._direction(info, sent)
        self._emit(
            ev.Dimse(
                info.n,
                name,
                sender,
                receiver,
                time.time(),
                info.peer,
                int((cs.MessageIDBeingRespondedTo if is_rsp else cs.get("MessageID")) or 0),
                str(cs.get("AffectedSOPClassUID") or cs.get("RequestedSOPClassUID") or ""),
                str(cs.get("AffectedSOPInstanceUID") or cs.get("RequestedSOPInstanceUID") or ""),
                int(status) if status is not None else None,
                info_text,
            )
        )

    # ------------------------------------------------------------------ services
    def _on_echo(self, event: Any) -> int:
        """C-ECHO: always 0x0000 Success (PS3.4 A.4)."""
        return 0x0000

    def _context_ts(self, assoc: Any, context_id: int) -> str:
        for cx in assoc.accepted_contexts:
            if cx.context_id == context_id:
                return str(cx.transfer_syntax[0])
        return ""

    def _on_store(self, event: Any) -> Any:
        """C-STORE: write the data set as received, index it, then answer (PS3.4 B.2.3)."""
        req = event.request
        early = self._early.pop((id(event.assoc), int(req.MessageID)), None)
        if early is not None:
            return early.result() if isinstance(early, Future) else early
        ts = str(event.context.transfer_syntax)
        calling = self._info(event.assoc).remote
        return self._store(
            req.DataSet, ts, req.AffectedSOPClassUID, req.AffectedSOPInstanceUID, calling
        )

    def _store(self, buf: Any, ts: str, sop_class: str, sop_instance: str, calling: str) -> Any:
        """Store one data set; return the C-STORE status (int or Dataset with a comment)."""
        from pydicom import Dataset

        data = buf.getbuffer() if hasattr(buf, "getbuffer") else bytes(buf)
        try:
            self.store.put(data, ts, sop_class, sop_instance, calling)  # type: ignore[union-attr]
        except StoreFailure as fail:
            rsp = Dataset()
            rsp.Status = fail.status
            rsp.ErrorComment = fail.comment[:64]
            return rsp
        except Exception as err:  # noqa: BLE001 - never crash the association thread
            LOGGER.exception("C-STORE failed")
            rsp = Dataset()
            rsp.Status = 0xA700 if isinstance(err, OSError) else 0xC211
            rsp.ErrorComment = f"{type(err).__name__}: {err}"[:64]
            return rsp
        finally:
            del data
        return 0x0000

    def _identifier(self, event: Any) -> Dataset:
        return event.identifier

    def _on_find(self, event: Any) -> Iterator[tuple[int, Any]]:
        """C-FIND: Q/R (Patient/Study Root) or Modality Worklist (PS3.4 C.4.1, K.4.1)."""
        sop_class = str(event.request.AffectedSOPClassUID)
        try:
            identifier = self._identifier(event)
        except Exception as err:  # noqa: BLE001
            yield _failure(0xC000, f"Cannot decode the identifier: {err}")
            return
        try:
            if sop_class == MODALITY_WORKLIST_FIND:
                matches = find_worklist(self.store, identifier)  # type: ignore[arg-type]
            else:
                matches = find(self.store, _MODEL[sop_class], identifier, self.aet)  # type: ignore[arg-type]
            for match in matches:
                if event.is_cancelled:
                    yield 0xFE00, None
                    return
                yield (0xFF00 if match.all_keys_supported else 0xFF01), match.identifier
        except QueryError as err:
            yield _failure(err.status, err.comment)
            return
        except Exception as err:  # noqa: BLE001
            LOGGER.exception("C-FIND failed")
            yield _failure(0xC001, f"Unable to process: {err}")
            return
        yield 0x0000, None

    def _retrieve_list(self, event: Any) -> tuple[list[tuple[str, str, str]] | None, Any]:
        sop_class = str(event.request.AffectedSOPClassUID)
        try:
            identifier = self._identifier(event)
            return instances_for(self.store, _MODEL[sop_class], identifier), None  # type: ignore[arg-type]
        except QueryError as err:
            return None, _failure(err.status, err.comment)
        except Exception as err:  # noqa: BLE001
            return None, _failure(0xC000, f"Cannot process the identifier: {err}")

    def _on_get(self, event: Any) -> Iterator[Any]:
        """C-GET: C-STORE sub-operations back over the same association (PS3.4 C.4.3)."""
        found, failure = self._retrieve_list(event)
        if found is None:
            # A failure can only follow the sub-operation count in pynetdicom's
            # C-GET protocol; 1 keeps it from answering an early Success.
            yield 1
            yield failure
            return
        yield len(found)
        yield from self._sub_operations(event, found)

    def _on_move(self, event: Any) -> Iterator[Any]:
        """C-MOVE: C-STORE sub-operations on a new association to a known peer (PS3.4 C.4.2)."""
        destination = str(event.move_destination or "").strip()
        if destination not in self.config.peers:
            # pynetdicom answers 0xA801 "Move Destination unknown" (PS3.4 C.4.2.1.4).
            yield None, None
            return
        found, failure = self._retrieve_list(event)
        host, port = self.config.peers[destination]
        if found is None:
            yield host, port
            yield 1
            yield failure
            return
        contexts = self._contexts_for(found)
        yield (
            host,
            port,
            {
                "contexts": contexts,
                "evt_handlers": self._notification_handlers(),
                "max_pdu": self.config.max_pdu,
            },
        )
        yield len(found)
        yield from self._sub_operations(event, found)

    def _contexts_for(self, found: list[tuple[str, str, str]]) -> list[Any]:
        """Presentation contexts to propose for sending ``found`` (≤ 128, PS3.8 §9.3.2.2)."""
        by_class: dict[str, list[str]] = {}
        for _path, sop_class, ts in found:
            syntaxes = by_class.setdefault(sop_class, [])
            if ts not in syntaxes:
                syntaxes.append(ts)
        contexts = []
        for sop_class, syntaxes in by_class.items():
            for ts in syntaxes:
                contexts.append(self._build_context(sop_class, [ts]))
        return contexts[:128]

    def _sub_operations(self, event: Any, found: list[tuple[str, str, str]]) -> Iterator[Any]:
        import pydicom

        for path, _sop_class, _ts in found:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            try:
                ds = pydicom.dcmread(path)
            except Exception:  # noqa: BLE001 - counted as a failed sub-operation
                ds = None
            yield 0xFF00, ds

    # ---- MPPS (PS3.4 F.7)
    def _on_n_create(self, event: Any) -> tuple[Any, Any]:
        """N-CREATE of an MPPS instance: must start IN PROGRESS (PS3.4 F.7.2.1)."""
        from pydicom import Dataset
        from pydicom.uid import generate_uid

        req = event.request
        if str(req.AffectedSOPClassUID) != MPPS:
            return 0x0122, None
        attrs = event.attribute_list
        uid = clean_uid(req.AffectedSOPInstanceUID) or generate_uid()
        if not is_valid_uid(uid):
            return _failure(0x0117, "Affected SOP Instance UID is not a valid UID")[0], None
        status = str(attrs.get("PerformedProcedureStepStatus", "") or "")
        if status != "IN PROGRESS":
            rsp = Dataset()
            rsp.Status = 0x0106
            rsp.ErrorComment = "PerformedProcedureStepStatus must be IN PROGRESS at N-CREATE"
            return rsp, None
        if self.store.query("SELECT 1 FROM mpps WHERE sop_uid=?", (uid,)):  # type: ignore[union-attr]
            return 0x0111, None  # Duplicate SOP instance
        attrs.SOPClassUID = MPPS
        attrs.SOPInstanceUID = uid
        self.store.execute(  # type: ignore[union-attr]
            "INSERT INTO mpps (sop_uid, status, dataset, updated_at) VALUES (?,?,?,?)",
            (uid, status, Store.to_json(attrs), time.time()),
        )
        if req.AffectedSOPInstanceUID is None:
            # The SCP chose the UID: the response must carry it (PS3.7 10.1.5.1.4);
            # pynetdicom moves it from the returned data set into the command.
            attrs = attrs.copy()
            attrs.AffectedSOPInstanceUID = uid
        return 0x0000, attrs

    def _on_n_set(self, event: Any) -> tuple[Any, Any]:
        """N-SET of an MPPS instance: only while IN PROGRESS; some attributes fixed (F.7.2.2)."""
        from pydicom import Dataset

        req = event.request
        uid = clean_uid(req.RequestedSOPInstanceUID)
        rows = self.store.query("SELECT status, dataset FROM mpps WHERE sop_uid=?", (uid,))  # type: ignore[union-attr]
        if not rows:
            return 0x0112, None  # No such SOP instance
        current, blob = rows[0]
        if current != "IN PROGRESS":
            rsp = Dataset()
            rsp.Status = 0x0110  # Processing failure
            rsp.ErrorComment = "Performed Procedure Step Object may no longer be updated"
            rsp.ErrorID = 0xA710
            return rsp, None
        mods = event.modification_list
        fixed = [e.keyword for e in mods if e.keyword in MPPS_NOT_SETTABLE]
        if fixed:
            rsp = Dataset()
            rsp.Status = 0x0106  # Invalid attribute value
            rsp.ErrorComment = f"Not allowed in N-SET: {', '.join(fixed)}"[:64]
            rsp.AttributeIdentifierList = [mods[k].tag for k in fixed]
            return rsp, None
        new_status = str(mods.get("PerformedProcedureStepStatus", current) or current)
        if new_status not in MPPS_STATES:
            rsp = Dataset()
            rsp.Status = 0x0106
            rsp.ErrorComment = f"Invalid PerformedProcedureStepStatus {new_status!r}"[:64]
            return rsp, None
        ds = Store.from_json(blob)
        for elem in mods:
            ds[elem.tag] = elem
        self.store.execute(  # type: ignore[union-attr]
            "UPDATE mpps SET status=?, dataset=?, updated_at=? WHERE sop_uid=?",
            (new_status, Store.to_json(ds), time.time(), uid),
        )
        return 0x0000, ds

    # ---- Storage Commitment Push Model (PS3.4 J.3)
    def _on_n_action(self, event: Any) -> tuple[Any, Any]:
        """N-ACTION "Request Storage Commitment": answer, then report via N-EVENT-REPORT."""
        req = event.request
        if str(req.RequestedSOPClassUID) != STORAGE_COMMITMENT:
            return 0x0122, None
        if int(req.ActionTypeID or 0) != 1:
            return 0x0123, None  # No such action type
        try:
            info = event.action_information
            transaction = clean_uid(info.TransactionUID)
            refs = [
                (clean_uid(item.ReferencedSOPClassUID), clean_uid(item.ReferencedSOPInstanceUID))
                for item in info.ReferencedSOPSequence
            ]
        except Exception:  # noqa: BLE001
            return _failure(0x0120, "Missing TransactionUID or ReferencedSOPSequence")[0], None
        if not is_valid_uid(transaction):
            return _failure(0x0106, "TransactionUID is not a valid UID")[0], None
        calling = self._info(event.assoc).remote
        thread = threading.Thread(
            target=self._commitment_report,
            args=(event.assoc, calling, transaction, refs),
            name=f"medlab-commit-{transaction[-8:]}",
            daemon=True,
        )
        thread.start()
        return 0x0000, None

    def commitment_result(
        self, transaction: str, refs: list[tuple[str, str]]
    ) -> tuple[int, Dataset]:
        """Check references; return ``(event_type_id, event_information)`` (PS3.4 J.3.3)."""
        from pydicom import Dataset

        ds = Dataset()
        ds.TransactionUID = transaction
        committed, failed = [], []
        for sop_class, sop_uid in refs:
            ok, reason = self.store.is_intact(sop_uid, sop_class)  # type: ignore[union-attr]
            item = Dataset()
            item.ReferencedSOPClassUID = sop_class
            item.ReferencedSOPInstanceUID = sop_uid
            if ok:
                item.RetrieveAETitle = self.aet
                committed.append(item)
            else:
                item.FailureReason = reason
                failed.append(item)
        ds.RetrieveAETitle = self.aet
        if committed:
            ds.ReferencedSOPSequence = committed
        if failed:
            ds.FailedSOPSequence = failed
        return (2 if failed else 1), ds

    def _commitment_report(self, assoc: Any, calling: str, transaction: str, refs: list) -> None:
        if self.config.commitment_delay:
            time.sleep(self.config.commitment_delay)
        event_type, info = self.commitment_result(transaction, refs)
        # PS3.4 J.3.3: on the same association if it is still open, otherwise on a
        # new one that we request, acting as SCP with role selection (J.3.3.1).
        try:
            if assoc.is_established:
                assoc.send_n_event_report(
                    info, event_type, STORAGE_COMMITMENT, STORAGE_COMMITMENT_INSTANCE
                )
                return
        except Exception:  # noqa: BLE001 - fall back to a new association
            LOGGER.info("commitment report could not use the original association")
        peer = self.config.peers.get(calling)
        if peer is None:
            self._emit(
                ev.Note(
                    self._info(assoc).n,
                    "NOTE",
                    self.aet,
                    calling,
                    time.time(),
                    "",
                    f"storage commitment result for {calling} undeliverable: not a known peer",
                )
            )
            return
        from pynetdicom.pdu_primitives import SCP_SCU_RoleSelectionNegotiation

        role = SCP_SCU_RoleSelectionNegotiation()
        role.sop_class_uid = STORAGE_COMMITMENT
        role.scu_role = False
        role.scp_role = True
        out = self._ae.associate(
            peer[0],
            peer[1],
            ae_title=calling,
            contexts=[self._build_context(STORAGE_COMMITMENT)],
            ext_neg=[role],
            evt_handlers=self._notification_handlers(),
        )
        if out.is_established:
            try:
                out.send_n_event_report(
                    info, event_type, STORAGE_COMMITMENT, STORAGE_COMMITMENT_INSTANCE
                )
            finally:
                out.release()

    # ------------------------------------------------------------------ conformance
    def conformance(self) -> str:
        """A short conformance statement of this configuration (PS3.2 style)."""
        from medlab.net.conformance import conformance_statement

        return conformance_statement(
            replace(self.config, port=self.port) if self.is_running else self.config
        )


def tune_association(assoc: Any) -> None:
    """Tune one association: DUL poll delay and TCP_NODELAY.

    * :data:`DUL_POLL_DELAY` (pynetdicom's private ``_run_loop_delay``).
    * ``TCP_NODELAY`` on the socket: pynetdicom sends a DIMSE message's command
      and data set as separate P-DATA PDUs; with Nagle's algorithm on, the
      second waits for the peer's delayed ACK (≈ 40 ms on Linux) — every C-FIND
      response would cost 40 ms.
    """
    dul = assoc.dul
    if hasattr(dul, "_run_loop_delay"):
        dul._run_loop_delay = DUL_POLL_DELAY
    raw = getattr(getattr(dul, "socket", None), "socket", None)
    if raw is not None:
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _close_quietly(assoc: Any) -> None:
    """Close an association's connection without going through its state machine."""
    sock = getattr(assoc.dul, "socket", None)
    raw = getattr(sock, "socket", None)
    if raw is not None:
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _provider_reason(code: Any) -> str:
    return {
        0: "reason-not-specified",
        1: "unrecognized-PDU",
        2: "unexpected-PDU",
        4: "unrecognized-PDU-parameter",
        5: "unexpected-PDU-parameter",
        6: "invalid-PDU-parameter-value",
    }.get(int(code or 0), str(code))


def _failure(status: int, comment: str) -> tuple[Any, None]:
    from pydicom import Dataset

    rsp = Dataset()
    rsp.Status = status
    rsp.ErrorComment = comment[:64]
    return rsp, None


__all__ = ["PACS", "PACSConfig", "check_aet", "storage_transfer_syntaxes"]
