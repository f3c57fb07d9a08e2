"""What every DICOMweb request handler shares: the context, the peer check, errors, negotiation.

:func:`_handler_base` builds the tornado ``RequestHandler`` the routes of
:func:`medlab.net.dicomweb.server.make_app` derive from (tornado is imported on
first use): the owner-only peer check, the base URL a client reached, query
parameters, blocking work off the IOLoop, JSON and streamed multipart answers,
and errors as PS3.18 HTTP statuses with a plain-text body. The ``_negotiate_*``
functions pick a representation from the Accept header or answer 406.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from medlab.errors import MedlabError
from medlab.net.dicomweb import media, qido, stow, wado
from medlab.net.store import Store, StoredInstance, is_valid_uid

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
