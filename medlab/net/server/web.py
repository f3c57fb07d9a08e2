"""The PACS's web side: DICOMweb (PS3.18) and the OHIF viewer on a second port.

One process, one archive: :class:`~medlab.net.dicomweb.DicomWebServer` serves
the PACS's own :class:`~medlab.net.store.Store` under ``/dicom-web`` and the
OHIF viewer under ``/viewer/`` (when it is installed), on ``config.web_port``
of the same host (``0`` a free port, ``-1`` off). STOW-RS stores through
:meth:`StorageService.store_received`, the C-STORE path, and each STOW-RS
request leaves a :class:`~medlab.net.events.WebRequest` record in the event
log. A peer is served only if :func:`medlab.peers.check_peer` allows it under the
PACS's own peer policy (``config.accept_peers``, by default the same Unix user),
exactly as on the DIMSE side; others get HTTP 403.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.net import events as ev

if TYPE_CHECKING:
    from medlab.net.config import PACSConfig
    from medlab.net.dicomweb.stow import Report
    from medlab.net.dicomweb.viewer import ViewerLink
    from medlab.net.recording import EventTranslator
    from medlab.net.store import StoredInstance

LOGGER = logging.getLogger("medlab.net")

#: Where the services and the viewer live on the web port.
DICOMWEB_PATH = "/dicom-web"
VIEWER_PATH = "/viewer/"
#: The kind the web side is registered as in :mod:`medlab.services` (``medlab doctor``).
SERVICE_KIND = "dicomweb"


class WebService:
    """DICOMweb and the viewer of :class:`~medlab.net.server.PACS`."""

    config: PACSConfig
    _log: EventTranslator
    _peer_policy: str
    _web: Any
    _viewer_problem: MedlabError | None

    # ------------------------------------------------------------------ public
    @property
    def web_port(self) -> int | None:
        """The DICOMweb port once listening (``None`` when the web side is off or stopped)."""
        return self._web.port if self._web is not None else None

    @property
    def dicomweb_url(self) -> str | None:
        """The DICOMweb base URL for programs on this machine, e.g. ``http://127.0.0.1:PORT/dicom-web``.

        ``None`` when the web side is off (``web_port=-1``) or the PACS is stopped.
        """
        if self._web is None:
            return None
        host = self.config.host
        host = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self._web.port}{DICOMWEB_PATH}"

    @property
    def viewer_url(self) -> str | None:
        """The OHIF viewer's URL as a browser reaches it (``None`` when off or not installed).

        On a laptop ``http://127.0.0.1:PORT/viewer/``; under JupyterHub or Binder
        the same port through jupyter-server-proxy, ``/user/<name>/proxy/PORT/viewer/``
        (:func:`medlab.net.dicomweb.viewer.public_url`).
        """
        if self._web is None or self._viewer_problem is not None:
            return None
        from medlab.net.dicomweb.viewer import public_url

        return public_url(self._web.port, VIEWER_PATH)

    def viewer(
        self, study_uid: str | None = None, *, iframe: bool = False, height: int = 600
    ) -> ViewerLink:
        """A link (shown as one in a notebook) that opens OHIF on ``study_uid`` or the study list.

        ``iframe=True`` also shows the viewer inside the notebook. Raises
        :class:`MedlabError` (with the fix) when the web side is off or OHIF is not installed.
        """
        from medlab.net.dicomweb.viewer import viewer_link

        if self._web is None:
            raise MedlabError(
                "The PACS's web side is not running",
                fix="Start the PACS with a web port (the default; web_port=-1 turns it off).",
            )
        if self._viewer_problem is not None:
            raise self._viewer_problem
        url = self.viewer_url
        assert url is not None
        return viewer_link(url, study_uid, iframe=iframe, height=height)

    # ------------------------------------------------------------------ start / stop
    def _start_web(self) -> None:
        """Serve DICOMweb (and the viewer) on ``config.web_port``; MedlabError if it cannot."""
        self._web = None
        self._viewer_problem = None
        if self.config.web_port < 0:
            return
        from medlab.net.dicomweb import DicomWebServer
        from medlab.net.dicomweb.viewer import viewer_routes
        from medlab.peers import check_peer

        try:
            routes = viewer_routes(VIEWER_PATH, DICOMWEB_PATH)
        except MedlabError as err:  # no OHIF here: DICOMweb still runs, viewer() says why
            self._viewer_problem = err
            routes = []
        web = DicomWebServer(
            self.store,  # type: ignore[attr-defined]
            host=self.config.host,
            port=self.config.web_port,
            put=self._stow_put,
            on_stow=self._record_stow,
            peer_check=lambda sock: check_peer(sock, self._peer_policy),
            base_path=DICOMWEB_PATH,
            extra_routes=routes,
        )
        self._web = web.start()
        from medlab import services

        # Listed by `medlab doctor` beside the PACS (same process), with its DICOMweb URL.
        self._web_service = services.register(SERVICE_KIND, self.config.host, web.port)

    def _stop_web(self) -> None:
        web, self._web = self._web, None
        handle, self._web_service = getattr(self, "_web_service", None), None
        if handle is not None:
            handle.stop()
        if web is not None:
            web.stop()

    # ------------------------------------------------------------------ STOW-RS
    def _stow_put(
        self,
        data: Any,
        transfer_syntax: str,
        sop_class: str | None = None,
        sop_instance: str | None = None,
        source_aet: str = "",
    ) -> StoredInstance:
        """STOW-RS's ``put``: the C-STORE path (:meth:`store_received`), one archive."""
        return self.store_received(  # type: ignore[attr-defined]
            data, transfer_syntax, source_aet, sop_class=sop_class, sop_instance=sop_instance
        )

    def _record_stow(self, report: Report) -> None:
        """One :class:`~medlab.net.events.WebRequest` record per STOW-RS request."""
        instances = tuple((o.sop_class, o.sop_instance, o.failure) for o in report.outcomes)
        self._log.numbered(
            lambda n: ev.WebRequest(
                n,
                "STOW-RS",
                f"WEB {report.peer}"[:16],
                self.config.aet,
                time.time(),
                report.peer,
                method="POST",
                path=report.path,
                status=report.status,
                instances=instances,
                info=report.problem,
            )
        )
