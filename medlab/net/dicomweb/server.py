"""The DICOMweb origin server: a tornado application on its own IOLoop thread.

Routes under one base path (``/dicom-web`` by default), PS3.18 §10:

=========================================================  ==========================
``GET  /studies`` ``/series`` ``/instances``                QIDO-RS search (§10.6)
``GET  /studies/{s}/series`` ``/studies/{s}/instances``     QIDO-RS search
``GET  /studies/{s}/series/{se}/instances``                 QIDO-RS search
``GET  /studies/{s}[/series/{se}[/instances/{i}]]``         WADO-RS retrieve (§10.4)
``GET  …/metadata``                                          DICOM JSON metadata
``GET  …/instances/{i}/frames/{1,2}``                        frames
``GET  …/instances/{i}[/frames/{n}]/rendered``               PNG / JPEG
``GET  …/thumbnail`` (study, series, instance)               small JPEG
``GET  …/instances/{i}/bulkdata/{tag}``                      a BulkDataURI's value
``POST /studies`` ``/studies/{s}``                            STOW-RS store (§10.5)
=========================================================  ==========================

Errors are PS3.18 HTTP statuses with a plain-text body saying what is wrong:
400 for a bad parameter or UID, 404 for an unknown study/series/instance, 406
for a representation this archive cannot produce, 415 for a STOW body that is
not application/dicom. An unexpected exception is a 500 that is logged; bad
input never reaches one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.net.dicomweb import qido, stow, wado
from medlab.net.dicomweb.handler import (
    _EXPECTED,
    _JSON,
    LOG,
    Context,
    PeerCheck,
    _Fail,
    _guarded,
    _handler_base,
    _negotiate_dicom,
    _negotiate_frames,
    _negotiate_image,
)
from medlab.net.store import Store, StoredInstance

if TYPE_CHECKING:
    import tornado.web


def make_app(ctx: Context, extra_routes: Iterable[Any] = ()) -> tornado.web.Application:
    """The tornado Application serving DICOMweb under ``ctx.base_path``.

    ``extra_routes`` (tornado rules, e.g. :func:`medlab.net.dicomweb.viewer.viewer_routes`)
    are served by the same application, checked first, behind the same peer check.
    """
    import tornado.web

    Handler = _handler_base()
    U = r"([^/]+)"

    class Search(Handler):
        async def get(self, study: str | None = None, series: str | None = None) -> None:
            level = self.level
            fixed = {}
            if study is not None:
                fixed["StudyInstanceUID"] = self.uid(study, "Study Instance UID")
            if series is not None:
                fixed["SeriesInstanceUID"] = self.uid(series, "Series Instance UID")
            ranges = self.accept()
            if not any(r.mime in _JSON for r in ranges):
                raise _Fail(406, "QIDO-RS here answers application/dicom+json only")
            results, warnings = await self.off(
                qido.search, self.ctx.store, level, self.args(), fixed, self.base_url
            )
            for text in warnings:
                self.add_header("Warning", f'299 {self.base_url}: "{text}"')
            if not results:
                self.set_status(204)
                await self.finish()
                return
            self.send_json(results)

    class StudySearch(Search):
        level = "STUDY"

        async def post(self) -> None:
            await store_request(self, None)

    class SeriesSearch(Search):
        level = "SERIES"

    class InstanceSearch(Search):
        level = "IMAGE"

    class Retrieve(Handler):
        async def get(self, study: str, series: str | None = None, sop: str | None = None) -> None:
            items = await self.off(self.select, study, series, sop)
            wanted = _negotiate_dicom(self.accept())
            base = self.base_url

            def parts() -> Iterator[tuple[str, str | None, Iterator[bytes]]]:
                for item in items:
                    ts = item.transfer_syntax if wanted == "*" else wanted
                    content_type = f"application/dicom; transfer-syntax={ts}"
                    if ts == item.transfer_syntax:
                        yield content_type, None, wado.file_chunks(item.path)
                    else:
                        yield content_type, None, iter([wado.converted(item, ts)])

            del base
            await self.send_multipart("application/dicom", parts())

        def select(self, study: str, series: str | None, sop: str | None) -> list[wado.Stored]:
            return wado.select(
                self.ctx.store,
                self.uid(study, "Study Instance UID"),
                self.uid(series, "Series Instance UID") if series else None,
                self.uid(sop, "SOP Instance UID") if sop else None,
            )

        async def post(self, study: str) -> None:
            await store_request(self, self.uid(study, "Study Instance UID"))

    class Metadata(Retrieve):
        async def get(self, study: str, series: str | None = None, sop: str | None = None) -> None:
            if not any(r.mime in _JSON for r in self.accept()):
                raise _Fail(406, "Metadata is served as application/dicom+json only")
            items = await self.off(self.select, study, series, sop)
            base = self.base_url
            result = await self.off(lambda: [wado.metadata(item, base) for item in items])
            self.send_json(result)

    class Frames(Retrieve):
        async def get(self, study: str, series: str, sop: str, frame_list: str) -> None:
            numbers = wado.parse_frame_list(frame_list)
            (item,) = await self.off(self.select, study, series, sop)
            uncompressed = _negotiate_frames(self.accept(), item.transfer_syntax)
            data, part_type, ts = await self.off(wado.frames, item, numbers, uncompressed)
            content_type = f"{part_type}; transfer-syntax={ts}"
            await self.send_multipart(
                part_type, ((content_type, None, iter([d])) for d in data), ts
            )

    class Rendered(Retrieve):
        thumbnail = False

        async def get(
            self,
            study: str,
            series: str | None = None,
            sop: str | None = None,
            frame_list: str | None = None,
        ) -> None:
            frame = 1
            if frame_list is not None:
                numbers = wado.parse_frame_list(frame_list)
                if len(numbers) != 1:
                    raise _Fail(400, "Rendered frames: ask for one frame at a time")
                frame = numbers[0]
            media_type = _negotiate_image(self.accept())
            window = wado.parse_window(self.arg("window"))
            viewport = wado.parse_viewport(self.arg("viewport"))
            if viewport is None and self.thumbnail:
                viewport = (128, 128)
            quality = wado.parse_quality(self.arg("quality"))
            items = await self.off(self.select, study, series, sop)
            item = items[len(items) // 2]  # a study/series thumbnail shows a middle image
            data = await self.off(
                wado.render,
                item,
                frame,
                media_type,
                window=window,
                viewport=viewport,
                quality=quality,
            )
            self.set_header("Content-Type", media_type)
            await self.finish(data)

    class Thumbnail(Rendered):
        thumbnail = True

    class BulkData(Retrieve):
        async def get(self, study: str, series: str, sop: str, tag: str) -> None:
            (item,) = await self.off(self.select, study, series, sop)
            chunks, ts = await self.off(wado.bulkdata, item, int(tag, 16))
            part = "application/octet-stream"
            await self.send_multipart(part, [(f"{part}; transfer-syntax={ts}", None, chunks)])

    class NotFoundHandler(Handler):
        def prepare(self) -> None:
            super().prepare()
            raise _Fail(404, f"No DICOMweb resource at {self.request.path}")

    base = ctx.base_path.rstrip("/")
    inst = rf"{base}/studies/{U}/series/{U}/instances/{U}"
    routes = [
        (rf"{base}/studies", StudySearch),
        (rf"{base}/series", SeriesSearch),
        (rf"{base}/instances", InstanceSearch),
        (rf"{base}/studies/{U}/series", SeriesSearch),
        (rf"{base}/studies/{U}/instances", InstanceSearch),
        (rf"{base}/studies/{U}/series/{U}/instances", InstanceSearch),
        (rf"{base}/studies/{U}", Retrieve),
        (rf"{base}/studies/{U}/metadata", Metadata),
        (rf"{base}/studies/{U}/thumbnail", Thumbnail),
        (rf"{base}/studies/{U}/series/{U}", Retrieve),
        (rf"{base}/studies/{U}/series/{U}/metadata", Metadata),
        (rf"{base}/studies/{U}/series/{U}/thumbnail", Thumbnail),
        (inst, Retrieve),
        (rf"{inst}/metadata", Metadata),
        (rf"{inst}/rendered", Rendered),
        (rf"{inst}/thumbnail", Thumbnail),
        (rf"{inst}/frames/{U}", Frames),
        (rf"{inst}/frames/{U}/rendered", Rendered),
        (rf"{inst}/bulkdata/([0-9A-Fa-f]{{8}})", BulkData),
        (rf"{base}/.*", NotFoundHandler),
    ]
    extra = [(rule[0], _guarded(rule[1], ctx), *rule[2:]) for rule in extra_routes]
    return tornado.web.Application(
        extra + [(path, handler, {"ctx": ctx}) for path, handler in routes],
        default_handler_class=NotFoundHandler,
        default_handler_args={"ctx": ctx},
        compress_response=False,
        log_function=_access_log,
    )


def _access_log(handler: Any) -> None:
    """One DEBUG line per request on ``medlab.net.dicomweb`` (tornado's own access log
    writes 4xx answers as warnings, which a notebook shows as red stderr)."""
    request = handler.request
    LOG.debug(
        "%d %s %s (%s) %.1f ms",
        handler.get_status(),
        request.method,
        request.uri,
        request.remote_ip,
        1000 * request.request_time(),
    )


async def store_request(handler: Any, study: str | None) -> None:
    """STOW-RS: split, store each part, answer the Store Instances Response."""
    ctx: Context = handler.ctx
    content_type = handler.request.headers.get("Content-Type", "")
    body = handler.request.body
    peer = handler.request.remote_ip or ""

    def report(status: int, outcomes: list[stow.Outcome], problem: str = "") -> None:
        if ctx.on_stow is None:
            return
        try:
            ctx.on_stow(stow.Report(peer, handler.request.path, status, outcomes, problem))
        except Exception:  # noqa: BLE001 - a listener never fails the store
            LOG.exception("on_stow listener failed")

    def work() -> tuple[int, dict[str, Any]]:
        try:
            parts = stow.split_parts(content_type, body)
        except (stow.UnsupportedMedia, stow.BadBody) as err:
            report(_EXPECTED[type(err)], [], str(err))
            raise
        outcomes = []
        for part_type, data in parts:
            outcome = stow.store_part(part_type, data, ctx.put, study, source=f"WEB {peer}"[:16])
            if outcome.stored is not None and ctx.on_stored is not None:
                try:
                    ctx.on_stored(outcome.stored)
                except Exception:  # noqa: BLE001 - a listener never fails the store
                    LOG.exception("on_stored listener failed")
            outcomes.append(outcome)
        study_url = f"{handler.base_url}/studies/{study}" if study else None
        status, answer = stow.response(outcomes, handler.base_url, study_url)
        report(status, outcomes)
        return status, answer

    status, body_json = await handler.off(work)
    handler.send_json(body_json, status)


class DicomWebServer:
    """DICOMweb (QIDO-RS, WADO-RS, STOW-RS) over a PACS :class:`~medlab.net.store.Store`.

    Runs a tornado HTTP server on its own thread and IOLoop::

        web = DicomWebServer(store, port=0).start()
        print(web.url)            # http://127.0.0.1:PORT/dicom-web
        ...
        web.stop()

    Parameters
    ----------
    store:
        The PACS store (index + files) to serve.
    host, port:
        Where to listen: loopback by default, ``port=0`` picks a free port.
    put:
        How STOW-RS stores one instance: a callable with the signature of
        :meth:`Store.put` ``(data, transfer_syntax, sop_class=, sop_instance=,
        source_aet=) -> StoredInstance`` that raises ``StoreFailure``. Default:
        ``store.put``; the PACS passes its C-STORE storing path so both share one archive.
    on_stored:
        Called with each :class:`StoredInstance` STOW-RS stored (events, logs).
    on_stow:
        Called once per STOW-RS request with a :class:`~medlab.net.dicomweb.stow.Report`
        (who, the HTTP status, each part's outcome): the PACS's event log.
    peer_check:
        ``(socket) -> verdict`` (e.g. :func:`medlab.peers.check_peer`), asked once per
        connection; a peer refused gets HTTP 403, on the viewer's routes too.
    extra_routes:
        More tornado routes served by the same application (the OHIF viewer,
        :func:`medlab.net.dicomweb.viewer.viewer_routes`), behind the same peer check.
    max_body_size:
        Largest STOW-RS request accepted (bytes); a larger one is refused.
    """

    def __init__(
        self,
        store: Store,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        put: Callable[..., StoredInstance] | None = None,
        on_stored: Callable[[StoredInstance], None] | None = None,
        peer_check: PeerCheck | None = None,
        base_path: str = "/dicom-web",
        max_body_size: int = 512 * 1024 * 1024,
        on_stow: Callable[[stow.Report], None] | None = None,
        extra_routes: Iterable[Any] = (),
    ) -> None:
        self.store = store
        self.host = host
        self.port = port
        self.base_path = "/" + base_path.strip("/")
        self.max_body_size = max_body_size
        self._ctx = Context(store, self.base_path, put or store.put, on_stored, peer_check, on_stow)
        self._extra_routes = list(extra_routes)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The base URL of the services, e.g. ``http://127.0.0.1:8042/dicom-web``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.base_path}"

    def start(self) -> DicomWebServer:
        """Bind and serve; returns once the port listens (MedlabError if it cannot)."""
        from tornado.netutil import bind_sockets

        if self._thread is not None:
            return self
        try:
            sockets = bind_sockets(self.port, address=self.host)
        except OSError as err:
            raise MedlabError(
                f"The DICOMweb server cannot listen: {err.strerror}",
                where=f"{self.host}:{self.port}",
                fix="Choose another --web-port (0 picks a free one), or stop what uses it.",
            ) from None
        self.port = sockets[0].getsockname()[1]
        self._thread = threading.Thread(
            target=self._serve, args=(sockets,), name="medlab-dicomweb", daemon=True
        )
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise MedlabError(f"The DICOMweb server did not start: {self._error}", where=self.url)
        return self

    def _serve(self, sockets: list[Any]) -> None:
        from tornado.httpserver import HTTPServer

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        server = None
        try:
            server = HTTPServer(
                make_app(self._ctx, self._extra_routes),
                max_body_size=self.max_body_size,
                xheaders=False,
            )
            server.add_sockets(sockets)
        except Exception as err:  # noqa: BLE001 - reported by start()
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.stop()
            loop.run_until_complete(server.close_all_connections())
            loop.close()

    def stop(self) -> None:
        """Stop listening and close open connections (waits up to 10 s)."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop = None
        self._ready.clear()

    def __enter__(self) -> DicomWebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
