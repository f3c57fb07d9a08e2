"""The medlab PACS: a small, real DICOM archive on pynetdicom.

This module holds what every service shares: configuration, start and stop, the
watchdog, the event log and the AE's presentation contexts. Each service's
handlers live in a room of their own, mixed into :class:`PACS`:

* Verification — C-ECHO (PS3.4 Annex A): :mod:`.verification`
* Storage — C-STORE of every storage SOP class pynetdicom knows, uncompressed
  and compressed transfer syntaxes, stored as received (PS3.4 Annex B): :mod:`.storage`
* Query — Patient Root and Study Root C-FIND at every level, C-CANCEL
  honoured (PS3.4 Annex C): :mod:`.find`
* Retrieve — C-MOVE / C-GET (PS3.4 Annex C): :mod:`.retrieve`
* Modality Worklist — C-FIND over scheduled procedure steps (PS3.4 Annex K): :mod:`.worklist`
* Modality Performed Procedure Step — N-CREATE / N-SET (PS3.4 Annex F): :mod:`.mpps`
* Storage Commitment Push Model — N-ACTION, answered by N-EVENT-REPORT
  (PS3.4 Annex J): :mod:`.commitment`
* DICOMweb (QIDO-RS, WADO-RS, STOW-RS; PS3.18) and the OHIF viewer on a second
  port, over the same archive: :mod:`.web`

Use it from a notebook::

    from medlab.net import PACS
    with PACS(port=0) as pacs:          # a free port, on a background thread
        print(pacs.aet, pacs.host, pacs.port)
        ...                             # point pynetdicom / DCMTK at it
    print(pacs.events_text())           # what happened on the wire

or from a terminal: ``medlab pacs serve``.

On a shared host it serves only its own Unix user's processes: an association
request from another user's process (or another host) is answered
A-ASSOCIATE-RJ, and the event log says why (:meth:`PACS._on_requested`,
:mod:`medlab.peers`; ``PACSConfig.accept_peers`` widens it for a department
test system). Junk, floods and slow peers hold no association slot
(:mod:`.engine`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from medlab.errors import MedlabError
from medlab.net import events as ev
from medlab.net import uids
from medlab.net.config import PACSConfig
from medlab.net.recording import EventTranslator
from medlab.net.server.commitment import CommitmentService
from medlab.net.server.dimse import PacsDIMSE
from medlab.net.server.dimse import install as install_dimse
from medlab.net.server.engine import (
    AssociationGate,
    close_quietly,
    make_server,
    shutdown_promptly,
    tune_association,
)
from medlab.net.server.find import FindService
from medlab.net.server.mpps import MppsService
from medlab.net.server.retrieve import RetrieveService
from medlab.net.server.storage import StorageService, storage_transfer_syntaxes
from medlab.net.server.verification import VerificationService
from medlab.net.server.web import WebService
from medlab.net.server.worklist import WorklistService
from medlab.net.store import Store

LOGGER = logging.getLogger("medlab.net")

#: The A-ASSOCIATE-RJ for a peer of another user: (result, source, reason) of
#: PS3.8 §9.3.4 = rejected-permanent, DICOM UL service-user,
#: calling-AE-title-not-recognized. Of the reasons PS3.8 offers, it is the one
#: that speaks of *who is calling*: the PACS does not recognise this caller as
#: one of its own (no AE title another user sends can change that, so it is
#: permanent). The event log adds the real reason (the peer's Unix user).
REJECT_OTHER_USER = (0x01, 0x01, 0x03)


class PACS(
    VerificationService,
    StorageService,
    FindService,
    RetrieveService,
    WorklistService,
    MppsService,
    CommitmentService,
    WebService,
):
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
    web_port:
        DICOMweb and viewer port (:mod:`.web`): ``0`` a free one, ``-1`` off.
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
        web_port: int | None = None,
    ) -> None:
        if config is None:
            config = PACSConfig(
                aet=aet,
                host=host,
                port=port,
                root=root,
                peers=dict(peers or {}),
                allow=allow,
                web_port=0 if web_port is None else web_port,
            )
        else:
            config = config.replace(
                root=root,
                aet=aet if aet != "MEDLAB" else None,
                host=host if host != "127.0.0.1" else None,
                port=port if port != 0 else None,
                peers={**config.peers, **peers} if peers else None,
                allow=allow,
                web_port=web_port,
            )
            config.__post_init__()
        if config.root is None:
            from medlab import paths

            config.root = paths.home() / "pacs"
        self.config = config
        # What this PACS saw and said on the wire (the translator both sides share).
        self._log = EventTranslator(maxlen=config.max_events)
        self._server: Any = None
        self._ae: Any = None
        self.store: Store | None = None
        self.recovered: dict[str, int] = {}
        self._port = config.port
        self._service: Any = None  # medlab.services handle while running
        self._reporters: list[threading.Thread] = []  # storage commitment reports
        self._web: Any = None  # the DICOMweb server while running (.web)
        self._viewer_problem: MedlabError | None = None

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
        return list(self._log.events)

    def events_text(self, assoc: int | None = None) -> str:
        """The events as text, one line each (optionally of one association)."""
        return ev.events_text(self.events, assoc)

    def clear_events(self) -> None:
        self._log.events.clear()

    def add_listener(self, callback: Callable[[ev.PacsEvent], None]) -> None:
        """Call ``callback(event)`` for every new event (the CLI prints them)."""
        self._log.add_listener(callback)

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
        from medlab import services, settings

        # Who may associate: resolved now, so a bad setting is an error at start.
        self._peer_policy = self.config.accept_peers or settings.peer_policy()
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
        self._gate = AssociationGate(self.config.acse_timeout, report=self._on_gate_refusal)
        try:
            self._server = make_server(
                ae, (self.config.host, self.config.port), handlers, self._gate
            )
        except OSError as err:
            self.store.close()
            self.store = None
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
        try:
            self._start_web()
        except BaseException:
            self.stop()
            raise
        return self

    def _watchdog(self) -> None:
        """Drop associations that never become working ones.

        Junk and silence never get this far (the gate in :mod:`.engine` closes
        them before any association exists). What can: a whole A-ASSOCIATE-RQ
        that pynetdicom then fails to decode (it answers A-ABORT and waits for
        the peer to close, up to ARTIM). Anything not established within
        ``acse_timeout`` of connecting is closed here, as a last resort.
        (Established but idle associations are pynetdicom's job: ``network_timeout``.)
        """
        while not self._stopping.wait(0.2):
            now = time.monotonic()
            for assoc in list(self._ae.active_associations):
                info = self._log.known(assoc)
                if info is None or info.dropped or assoc.is_established or info.is_requestor:
                    continue
                if now - info.opened > self.config.acse_timeout:
                    info.dropped = True
                    self._log.note(
                        assoc,
                        f"connection closed: no association within {self.config.acse_timeout:g} s",
                    )
                    close_quietly(assoc)

    def stop(self) -> None:
        """Stop listening, end open associations, join the workers, close the index."""
        self._stop_web()
        server, self._server = self._server, None
        if server is not None:
            shutdown_promptly(server, (self._connect_host(), self._port))
            self._stopping.set()
            for assoc in list(self._ae.active_associations):
                if assoc.is_established:
                    try:
                        assoc.abort()
                    except Exception:  # noqa: BLE001
                        pass
                else:
                    close_quietly(assoc)
            self._join_reporters()
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
            ("DICOMweb", self.dicomweb_url or "off"),
            (
                "Peers (C-MOVE)",
                ", ".join(f"{a} = {h}:{p}" for a, (h, p) in sorted(self.peers.items())) or "none",
            ),
            ("Events recorded", str(len(self._log.events))),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table><caption>medlab PACS</caption>{body}</table>"

    def _require_store(self) -> Store:
        if self.store is None:
            # Open read-only helpers on a stopped PACS too.
            self.store = Store(self.root, fsync=self.config.fsync)
        return self.store

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
        ae.add_supported_context(uids.VERIFICATION, uncompressed)
        for cx in AllStoragePresentationContexts:
            # scu_role/scp_role True: accept the SCP/SCU role selection a C-GET
            # requestor proposes to receive the C-STOREs (PS3.4 C.4.3.3).
            ae.add_supported_context(cx.abstract_syntax, storage_ts, scu_role=True, scp_role=True)
        for uid in (
            *uids.QR_MODEL,
            uids.MODALITY_WORKLIST_FIND,
            uids.MPPS,
            uids.STORAGE_COMMITMENT,
        ):
            ae.add_supported_context(uid, uncompressed)
        # As requestor (C-MOVE sub-operations, commitment results) we propose
        # contexts per association, built from what is being sent.
        self._build_context = build_context

    def _notification_handlers(self) -> list[tuple[Any, Callable]]:
        """The translator's handlers, with the PACS's own work on three of them."""
        from pynetdicom import evt

        handlers = self._log.handler_map()
        handlers[evt.EVT_CONN_OPEN] = self._on_conn_open
        handlers[evt.EVT_CONN_CLOSE] = self._on_conn_close
        handlers[evt.EVT_REQUESTED] = self._on_requested
        return list(handlers.items())

    def _on_conn_open(self, event: Any) -> None:
        tune_association(event.assoc)
        # Large data sets to and from disk, per association (dimse.py, issue 15 §3).
        install_dimse(event.assoc, self.store.root)  # type: ignore[union-attr]
        self._log.on_conn_open(event)

    def _on_requested(self, event: Any) -> None:
        """A-ASSOCIATE-RQ received: refuse a peer that is not this user's own process.

        pynetdicom calls this before it negotiates; an A-ASSOCIATE-RJ sent here
        ends the association (its documented use of EVT_REQUESTED). The owner of
        the peer's socket comes from the kernel (:func:`medlab.peers.check_peer`):
        DCMTK's tools, pynetdicom and medlab's helpers run by the same user pass
        with no option at all.
        """
        from medlab.peers import PeerVerdict, check_peer

        assoc = event.assoc
        if not assoc.is_acceptor:
            return  # our own request (C-MOVE sub-operations, a commitment report)
        try:
            raw = assoc.dul.socket.socket
            verdict = check_peer(raw, self._peer_policy)
        except Exception as exc:  # noqa: BLE001 - fail closed: pynetdicom would swallow it and accept
            verdict = PeerVerdict(False, "?", None, f"the peer cannot be checked ({exc})")
        if verdict:
            return
        result, source, reason = REJECT_OTHER_USER
        assoc.acse.send_reject(result, source, reason)
        text = (
            f"{verdict.reason}. Answered A-ASSOCIATE-RJ (rejected-permanent, service-user, "
            "calling-AE-title-not-recognized, PS3.8 §9.3.4): on a shared host this PACS "
            "serves only its own user's processes"
        )
        self._log.note(assoc, text, "REFUSED")
        LOGGER.warning("PACS %s on port %s: %s", self.aet, self._port, verdict.reason)
        # As pynetdicom's own rejections do: wait until the RJ is out and the peer has
        # closed (or ARTIM expired, PS3.8 Sta13), then end the association's threads.
        assoc.kill()

    def _on_gate_refusal(self, peer: str, message: str, text: str) -> None:
        """A connection the gate closed before any association (junk, silence)."""
        self._log.connection_note(self.aet, peer, text, message)
        LOGGER.info("PACS %s on port %s: from %s: %s", self.aet, self._port, peer, text)

    def _on_conn_close(self, event: Any) -> None:
        dimse = event.assoc.dimse
        if isinstance(dimse, PacsDIMSE):
            dimse.discard()  # a data set cut off mid-transfer leaves no file
        self._log.on_conn_close(event)

    # ------------------------------------------------------------------ conformance
    def conformance(self) -> str:
        """A short conformance statement of this configuration (PS3.2 style)."""
        from medlab.net.conformance import conformance_statement

        return conformance_statement(
            replace(self.config, port=self.port, web_port=self.web_port or self.config.web_port)
            if self.is_running
            else self.config
        )
