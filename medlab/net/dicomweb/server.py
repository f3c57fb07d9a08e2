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
import logging
import re
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.net.dicomweb import media, qido, stow, wado
from medlab.net.store import Store, StoredInstance, is_valid_uid

if TYPE_CHECKING:
    import tornado.web

LOG = logging.getLogger("medlab.net.dicomweb")

#: A function ``(connected socket) -> verdict`` deciding whether a TCP peer may use
#: the service, e.g. :func:`medlab.peers.check_peer` ("the same user owns that
#: loopback socket"). The verdict is truthy when allowed; its ``reason``, if any,
#: goes to the log. Asked once per connection.
PeerCheck = Callable[[Any], Any]

_EXPECTED = {
    qido.BadQuery: 400,
    wado.BadRequest: 400,
    wado.NotFound: 404,
    wado.NotAcceptable: 406,
    stow.BadBody: 400,
    stow.UnsupportedMedia: 415,
}


class _Fail(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class Context:
    """What every handler needs: the store, the storing function, the hooks."""

    def __init__(
        self,
        store: Store,
        base_path: str,
        put: Callable[..., StoredInstance],
        on_stored: Callable[[StoredInstance], None] | None,
        peer_check: PeerCheck | None,
        on_stow: Callable[[stow.Report], None] | None = None,
    ) -> None:
        self.store = store
        self.base_path = base_path
        self.put = put
        self.on_stored = on_stored
        self.peer_check = peer_check
        self.on_stow = on_stow
        # The peer check's verdict per connection (a keep-alive connection is checked once).
        self.verdicts: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()

    def peer_allowed(self, stream: Any) -> bool:
        """Whether the peer of a connection (a tornado IOStream) may be served."""
        if self.peer_check is None:
            return True
        known = self.verdicts.get(stream)
        if known is not None:
            return known
        try:
            verdict = self.peer_check(stream.socket)
        except OSError:
            verdict = False
        allowed = bool(verdict)
        if not allowed:
            LOG.warning("DICOMweb: %s", getattr(verdict, "reason", "peer refused"))
        self.verdicts[stream] = allowed
        return allowed


def _handler_base() -> type:
    import tornado.web

    class Handler(tornado.web.RequestHandler):
        ctx: Context

        def initialize(self, ctx: Context) -> None:
            self.ctx = ctx

        def prepare(self) -> None:
            # Hook point for the owner-only rule: the PACS passes a peer_check
            # (e.g. same_user_peer on loopback) and a refused peer gets 403.
            stream = self.request.connection.stream  # type: ignore[union-attr]
            if not self.ctx.peer_allowed(stream):
                raise _Fail(403, "This PACS serves only the programs of its owner")

        @property
        def base_url(self) -> str:
            """The services' URL as this client reached them (for RetrieveURL, BulkDataURI).

            Straight on our port: from the Host header when it is a plain host[:port]; a
            Host without a port (dicomweb-client sends one) gets the port the request came
            in on. Behind a stripping proxy (jupyter-server-proxy's ``<base_url>proxy/<port>``)
            the prefix it took off comes back in front of the base path, checked as the
            viewer checks it (:func:`~medlab.net.dicomweb.viewer.forwarded_prefix`): a forged
            prefix is a 400, never reflected. There the host is the one the client asked
            (a hub's front proxy's ``X-Forwarded-Host``, else ``Host``), a Host without a
            port meaning the scheme's default one (RFC 9110 §7.2), and ``X-Forwarded-Proto``
            (``http``/``https``) the scheme.
            """
            from medlab.net.dicomweb.viewer import forwarded_prefix

            headers = self.request.headers
            try:
                prefix = forwarded_prefix(headers)
            except MedlabError:
                raise _Fail(400, "The forwarded path prefix is not a plain URL path") from None
            proto = self.request.protocol
            host = headers.get("Host", "")
            if prefix:
                outer = headers.get("X-Forwarded-Host", "").split(",")[0].strip()
                host = outer if _HOST_RE.fullmatch(outer) else host
                if headers.get("X-Forwarded-Proto") in ("http", "https"):
                    proto = headers["X-Forwarded-Proto"]
            local_port = self.request.connection.stream.socket.getsockname()[1]  # type: ignore[union-attr]
            if not _HOST_RE.fullmatch(host):
                host = f"127.0.0.1:{local_port}"
                prefix = ""  # no usable host: the URL of our own port
            elif not prefix and not re.search(r":[0-9]+$", host):
                host = f"{host}:{local_port}"
            return f"{proto}://{host}{prefix}{self.ctx.base_path}"

        def args(self) -> dict[str, list[str]]:
            """Query parameters, percent-decoded (tornado), as text; bad UTF-8 is a 400."""
            out: dict[str, list[str]] = {}
            for name, values in self.request.query_arguments.items():
                try:
                    out[name] = [v.decode("utf-8") for v in values]
                except UnicodeDecodeError:
                    raise _Fail(400, f"The value of {name} is not UTF-8") from None
            return out

        def arg(self, name: str) -> str | None:
            values = self.args().get(name)
            return values[-1] if values else None

        def uid(self, value: str, what: str) -> str:
            if not is_valid_uid(value):
                raise _Fail(400, f"{what} {value[:80]!r} is not a valid UID (PS3.5 §9.1)")
            return value

        async def off(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            """Run blocking work (files, SQLite, codecs) off the IOLoop thread."""
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, partial(fn, *args, **kwargs))

        def send_json(self, value: Any, status: int = 200) -> None:
            import json

            self.set_status(status)
            self.set_header("Content-Type", "application/dicom+json")
            self.finish(json.dumps(value, separators=(",", ":")))

        async def send_multipart(
            self,
            part_type: str,
            parts: Iterable[tuple[str, str | None, Iterator[bytes]]],
            transfer_syntax: str | None = None,
        ) -> None:
            """Stream a multipart/related body (RFC 2387), flushing chunk by chunk."""
            boundary = uuid.uuid4().hex
            self.set_header(
                "Content-Type", media.multipart_content_type(part_type, boundary, transfer_syntax)
            )
            delimiter = f"--{boundary}\r\n".encode()
            from tornado.iostream import StreamClosedError

            try:
                for content_type, location, chunks in parts:
                    self.write(delimiter + media.part_header(content_type, location))
                    try:
                        for chunk in chunks:
                            self.write(chunk)
                            await self.flush()
                    finally:
                        close = getattr(chunks, "close", None)
                        if close is not None:
                            close()  # the file of a part the client no longer wants
                    self.write(b"\r\n")
                self.write(f"--{boundary}--\r\n".encode())
                await self.finish()
            except StreamClosedError:
                # The client went away (a viewer cancels what it no longer shows): normal,
                # nothing to answer and nothing to report beyond a debug line.
                LOG.debug(
                    "%s %s: client closed the connection", self.request.method, self.request.uri
                )

        def accept(self) -> list[media.MediaRange]:
            return media.parse_accept(self.arg("accept") or self.request.headers.get("Accept"))

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            text = self._reason
            exc = kwargs.get("exc_info", (None, None, None))[1]
            if isinstance(exc, _Fail):
                status_code, text = exc.status, str(exc)
            elif exc is not None and type(exc) in _EXPECTED:
                status_code, text = _EXPECTED[type(exc)], str(exc)
            elif exc is not None and not isinstance(exc, tornado.web.HTTPError):
                text = f"Internal error ({type(exc).__name__}); the server log has the details"
            self.clear()
            self.set_status(status_code)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"{status_code} {self._reason}: {text}\n")

        def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
            if isinstance(value, _Fail) or type(value) in _EXPECTED:
                LOG.info("%s %s: %s", self.request.method, self.request.uri, value)
            else:
                super().log_exception(typ, value, tb)

    return Handler


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


def _guarded(handler: type, ctx: Context) -> type:
    """``handler`` behind the peer check: a refused peer gets 403 before it runs."""
    import tornado.web

    class Guarded(handler):  # type: ignore[valid-type,misc]
        def prepare(self) -> Any:
            if not ctx.peer_allowed(self.request.connection.stream):
                raise tornado.web.HTTPError(403, reason="This PACS serves only its owner")
            return super().prepare()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{handler.__name__}"
    return Guarded


_HOST_RE = re.compile(r"([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")
_JSON = {"application/dicom+json", "application/json", "*/*", "application/*"}


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


def _negotiate_dicom(ranges: list[media.MediaRange]) -> str:
    """The transfer syntax to send instances in: ``*`` (as stored) or a UID."""
    for r in ranges:
        if r.mime in ("*/*", "multipart/*") or (
            r.mime == "multipart/related" and r.type in ("", "application/dicom")
        ):
            return r.transfer_syntax or media.EXPLICIT_VR_LE
    raise _Fail(406, 'Instances are served as multipart/related; type="application/dicom"')


def _negotiate_frames(ranges: list[media.MediaRange], stored_ts: str) -> bool:
    """True for uncompressed frames, False for frames as stored."""
    stored_type = media.PIXEL_MEDIA_TYPE.get(stored_ts, "application/octet-stream")
    for r in ranges:
        if r.mime in ("*/*", "multipart/*"):
            return False  # anything goes: the frames as stored
        if r.mime != "multipart/related":
            continue
        part = r.type or "application/octet-stream"
        ts = r.transfer_syntax
        if part == "*/*" and ts in (None, "*", stored_ts):
            return False
        if part == "application/octet-stream":
            if ts == "*" or ts == stored_ts:
                return False
            if ts in (None, media.EXPLICIT_VR_LE):
                return True
        elif part in (stored_type, "image/*") and ts in (None, "*", stored_ts):
            return False
    raise _Fail(
        406,
        'Frames are served as multipart/related; type="application/octet-stream" '
        f"(uncompressed, or transfer-syntax=* as stored: {stored_type})",
    )


def _negotiate_image(ranges: list[media.MediaRange]) -> str:
    for r in ranges:
        if r.mime in ("image/png", "image/jpeg"):
            return r.mime
        if r.mime in ("*/*", "image/*"):
            return "image/jpeg"  # the default rendered media type (PS3.18 §8.7.3.5)
    raise _Fail(406, "Rendered images are served as image/jpeg or image/png")


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
