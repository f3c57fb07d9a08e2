"""The OHIF viewer, served by medlab on the trainee's own PACS.

OHIF (MIT licence) is a web application: the npm package ``@ohif/app`` ships it prebuilt in
``dist/``. :func:`install` fetches that package with ``npm pack`` (no build dependencies) and
unpacks only ``dist/`` (less what CT/CR/MR never load) into ``<sys.prefix>/ohif``; ``make install``
and ``binder/postBuild`` call it. :func:`viewer_routes` gives the tornado handlers that serve the
dist under a path prefix (``/viewer/``) beside the PACS's DICOMweb services, with an
``app-config.js`` that points OHIF's one data source at them: same origin, so no CORS.

The dist is built to live at ``/``. Served under a prefix it is rewritten on the fly:

* ``index.html``: ``window.PUBLIC_URL = "/"`` and every ``src="/…"`` / ``href="/…"`` get the prefix;
* ``app.bundle.<hash>.js`` and the web workers' scripts: webpack's public path
  ``__webpack_require__.p = "/"`` (where lazy chunks, CSS and WebAssembly are loaded from) reads
  ``window.PUBLIC_URL`` (in a worker: its script's folder) instead, so the 17 MB bundle is the
  same for every prefix and streams from disk with one patch;
* CSS files and the web manifests: ``url(/font.woff2)``, ``"src": "/assets/…"`` become
  relative to the file.

Behind Binder or JupyterHub the browser reaches only the Jupyter server, and
jupyter-server-proxy forwards ``<base_url>proxy/<port>/viewer/…`` to ``/viewer/…`` on our port
with the stripped part in ``X-Forwarded-Prefix``; ``<base_url>proxy/absolute/<port>/viewer/…``
arrives with its whole path and no such header. Both are served: the prefix the browser sees is
rebuilt from the header or the path, per request. :func:`public_url` builds the link a lesson
prints, :func:`viewer_link` the link (and optional frame) that opens a study.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from medlab.errors import MedlabError

#: The OHIF release medlab serves; the rewrites below were checked against it.
OHIF_VERSION = "3.13.2"
OHIF_PACKAGE = "@ohif/app"

#: Parts of ``dist/`` not installed: the viewer never requests them for CT, CR or MR
#: (tests/browser/test_ohif.py fails on any request for them). ``ort/`` is onnxruntime for the
#: AI segmentation tools (136 MB), ``dicom-microscopy-viewer/`` the slide-microscopy mode (20 MB).
LEFT_OUT = ("ort", "dicom-microscopy-viewer")

#: Where the viewer is served on the PACS's web port, and where its DICOMweb services live.
DEFAULT_PREFIX = "/viewer/"
DEFAULT_DICOMWEB_BASE = "/dicom-web"

# A URL path we are willing to write into HTML and JavaScript: no quotes, no angle brackets.
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._~%@+,;=:/-]*$")
_WEBPACK_PATH = b'__webpack_require__.p = "/"'
# In the page, PUBLIC_URL (set by index.html); in a web worker (OHIF's compute, histogram,
# interpolation, ... workers carry their own webpack runtime), the folder of the worker's script.
_WEBPACK_PATH_NEW = (
    b'__webpack_require__.p = ((typeof window !== "undefined" && window.PUBLIC_URL)'
    b' || self.location.href.replace(/[^/]*$/, ""))'
)
_PUBLIC_URL_JS = 'window.PUBLIC_URL="/"'
_ABSOLUTE_ATTR = re.compile(r'\b(src|href|content)="/(?!/)')
_JSON_ABSOLUTE_URL = re.compile(r'("(?:src|logo|start_url|scope)"\s*:\s*")/(?!/)')
_CSS_ABSOLUTE_URL = re.compile(r"url\((['\"]?)/(?!/)")

# Content types the viewer needs, whatever the host's mime.types says (a .wasm served as
# application/octet-stream cannot be compiled while it streams; a module script must be JS).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".xml": "application/xml",
}


# --------------------------------------------------------------------------- installation


def viewer_dist() -> Path:
    """Return the folder of the installed OHIF ``dist/`` (the one holding ``index.html``).

    ``$MEDLAB_OHIF_DIST`` if set, else ``<sys.prefix>/ohif/dist`` (where ``make install`` and
    ``binder/postBuild`` put it). Raises :class:`MedlabError` when it is not installed.
    """
    env = os.environ.get("MEDLAB_OHIF_DIST")
    dist = Path(env).expanduser() if env else Path(sys.prefix) / "ohif" / "dist"
    if not (dist / "index.html").is_file():
        raise MedlabError(
            "The OHIF viewer is not installed",
            where=str(dist),
            fix=(
                "Run `make install` in the medlab checkout, or "
                f"`{Path(sys.executable).name} -m medlab.net.dicomweb.viewer install` "
                "(needs npm and the npm registry)."
            ),
        )
    return dist


def install(prefix: Path | None = None, *, version: str = OHIF_VERSION, npm: str = "npm") -> Path:
    """Fetch ``@ohif/app@version`` with ``npm pack`` and unpack its ``dist/`` into ``prefix``.

    ``prefix`` defaults to where :func:`viewer_dist` looks (the parent of ``$MEDLAB_OHIF_DIST``,
    else ``<sys.prefix>/ohif``); the result is ``prefix/dist`` (without
    :data:`LEFT_OUT` and source maps) plus the package's ``package.json`` and ``LICENSE``.
    The new copy replaces an old one only once it is complete. Returns the dist folder.
    """
    if prefix is None:
        env = os.environ.get("MEDLAB_OHIF_DIST")
        prefix = Path(env).expanduser().parent if env else Path(sys.prefix) / "ohif"
    prefix = Path(prefix)
    if shutil.which(npm) is None:
        raise MedlabError(
            f"npm is needed to fetch {OHIF_PACKAGE}", fix="Install Node.js with npm, then retry."
        )
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=prefix.parent, prefix=".ohif-") as tmp:
        out = subprocess.run(
            [npm, "pack", "--silent", f"{OHIF_PACKAGE}@{version}", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            timeout=900,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if out.returncode != 0 or len(tarballs) != 1:
            raise MedlabError(
                f"npm pack {OHIF_PACKAGE}@{version} failed",
                where=(out.stderr or out.stdout).strip()[-500:] or None,
                fix="Check that the npm registry is reachable (npm ping).",
            )
        staged = Path(tmp) / "ohif"
        extract_dist(tarballs[0], staged)
        if prefix.exists():
            shutil.rmtree(prefix)
        staged.rename(prefix)
    return prefix / "dist"


def _kept(name: str) -> bool:
    """Whether a member of the npm tarball belongs in the installed viewer."""
    if name in ("package/package.json", "package/LICENSE"):
        return True
    if not name.startswith("package/dist/") or name.endswith(".map"):
        return False
    first = name[len("package/dist/") :].split("/", 1)[0]
    return first not in LEFT_OUT


def extract_dist(tarball: Path, dest: Path) -> None:
    """Unpack the kept members of an ``@ohif/app`` tarball into ``dest`` (``package/`` dropped)."""
    dest.mkdir(parents=True)
    with tarfile.open(tarball, "r:gz") as tar:
        members = []
        for member in tar.getmembers():
            if not (member.isfile() or member.isdir()) or not _kept(member.name):
                continue
            member.name = member.name[len("package/") :]
            members.append(member)
        if not any(m.name == "dist/index.html" for m in members):
            raise MedlabError(
                "The package has no dist/index.html: not a prebuilt OHIF viewer",
                where=str(tarball),
            )
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # Python < 3.10.12: members were checked above (regular files and folders only)
            tar.extractall(dest, members=members)  # noqa: S202


# --------------------------------------------------------------------------- rewriting


def check_path_prefix(prefix: str, what: str = "path prefix") -> str:
    """Return ``prefix`` if it is a plain absolute URL path safe to write into HTML and JS."""
    if not isinstance(prefix, str) or not _SAFE_PATH.match(prefix) or "//" in prefix:
        raise MedlabError(
            f"Not a usable {what}: {prefix!r}",
            fix="Give an absolute URL path such as '/viewer/' (letters, digits, - . _ ~ % / only).",
        )
    return prefix


#: Where a stripping proxy says what it took off the path: jupyter-server-proxy sends all three
#: (``<base_url>proxy/<port>``), other proxies one of them.
FORWARDED_PREFIX_HEADERS = ("X-Forwarded-Prefix", "X-Forwarded-Context", "X-ProxyContextPath")


def forwarded_prefix(headers: Any) -> str:
    """The path prefix a stripping proxy took off this request (no trailing ``/``), ``""`` if none.

    Read from the first of :data:`FORWARDED_PREFIX_HEADERS` present in ``headers`` (a mapping,
    e.g. tornado's ``request.headers``) and checked with :func:`check_path_prefix` before it is
    written into a page or a URL: a forged value (quotes, a scheme, ``//host``) raises
    :class:`MedlabError`, which the web handlers answer with 400.
    """
    for name in FORWARDED_PREFIX_HEADERS:
        value = headers.get(name)
        if value is not None:
            value = value if value.startswith("/") else "/" + value
            return check_path_prefix(value, f"{name} header").rstrip("/")
    return ""


def rewrite_index_html(html: str, public_url: str) -> str:
    """Rewrite OHIF's ``index.html`` (built for ``/``) to load everything from ``public_url``."""
    public_url = check_path_prefix(public_url)
    if not public_url.endswith("/"):
        public_url += "/"
    if _PUBLIC_URL_JS not in html or not _ABSOLUTE_ATTR.search(html):
        raise MedlabError(
            "This OHIF index.html is not the one medlab knows how to serve under a prefix",
            where="index.html",
            fix=f"Install OHIF {OHIF_VERSION} (`make install`).",
        )
    html = html.replace(_PUBLIC_URL_JS, f"window.PUBLIC_URL={json.dumps(public_url)}")
    return _ABSOLUTE_ATTR.sub(lambda m: f'{m.group(1)}="{public_url}', html)


def rewrite_css(css: str, depth: int = 0) -> str:
    """Make a CSS file's root-absolute ``url(/…)`` relative to the file (``depth`` folders deep)."""
    up = "../" * depth
    return _CSS_ABSOLUTE_URL.sub(lambda m: f"url({m.group(1)}{up}", css)


def rewrite_manifest(text: str, depth: int = 0) -> str:
    """Make the root-absolute icon URLs of a web manifest (JSON) or browserconfig.xml relative."""
    up = "../" * depth
    text = _JSON_ABSOLUTE_URL.sub(lambda m: m.group(1) + up, text)
    return re.sub(r'\bsrc="/(?!/)', f'src="{up}', text)


def find_webpack_public_path(script: Path) -> int | None:
    """Byte offset of ``__webpack_require__.p = "/"`` in a script of the dist, None if absent.

    A webpack runtime sets its public path once; a second one in the same file is not a
    layout medlab knows, and raises :class:`MedlabError`.
    """
    data = script.read_bytes()
    first = data.find(_WEBPACK_PATH)
    if first < 0:
        return None
    if data.find(_WEBPACK_PATH, first + 1) >= 0:
        raise MedlabError(
            "webpack's public path is set twice in this OHIF script",
            where=script.name,
            fix=f"Install OHIF {OHIF_VERSION} (`make install`).",
        )
    return first


def patch_webpack_public_path(script: bytes) -> bytes:
    """The script with webpack's public path read from the page (or worker) at run time."""
    return script.replace(_WEBPACK_PATH, _WEBPACK_PATH_NEW)


def app_config_js(router_basename: str, dicomweb_root: str) -> str:
    """OHIF's ``app-config.js``: one DICOMweb data source at ``dicomweb_root``, same origin.

    Both arguments are URL paths on the page's origin (``/viewer``, ``/dicom-web``); the origin
    is added in the browser, so the same file works on 127.0.0.1, on Binder and on a hub.
    """
    router_basename = check_path_prefix(router_basename).rstrip("/") or "/"
    dicomweb_root = check_path_prefix(dicomweb_root, "DICOMweb base path").rstrip("/")
    source = {
        "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb",
        "sourceName": "medlab",
        "configuration": {
            "friendlyName": "medlab PACS (DICOMweb)",
            "name": "medlab",
            "qidoSupportsIncludeField": True,
            "imageRendering": "wadors",
            "thumbnailRendering": "wadors",
            "enableStudyLazyLoad": True,
            "supportsFuzzyMatching": False,
            "supportsWildcard": True,
            "staticWado": False,
            "singlepart": "bulkdata,video",
            "bulkDataURI": {"enabled": True, "relativeResolution": "studies"},
            "omitQuotationForMultipartRequest": True,
        },
    }
    config = {
        "name": "medlab",
        "routerBasename": router_basename,
        "extensions": [],
        "modes": [],
        # No first-visit tour over the image: lesson 16 says what to do with the viewer.
        "customizationService": {"ohif.tours": {"$set": []}},
        "showStudyList": True,
        "maxNumberOfWebWorkers": 2,
        "showWarningMessageForCrossOrigin": False,
        "showCPUFallbackMessage": True,
        "showLoadingIndicator": True,
        "strictZSpacingForVolumeViewport": True,
        "investigationalUseDialog": {"option": "never"},
        "maxNumRequests": {"interaction": 100, "thumbnail": 5, "prefetch": 10},
        "showErrorDetails": "always",
        "defaultDataSourceName": "medlab",
        "dataSources": [source],
    }
    root = json.dumps(dicomweb_root)
    return (
        "/* Written by medlab (medlab.net.dicomweb.viewer): OHIF reads the trainee's own PACS. */\n"
        f"window.config = {json.dumps(config, indent=2)};\n"
        "(function (c) {\n"
        f"  var root = window.location.origin + {root};\n"
        "  c.qidoRoot = root; c.wadoRoot = root; c.wadoUriRoot = root;\n"
        "})(window.config.dataSources[0].configuration);\n"
    )


# --------------------------------------------------------------------------- links


def public_url(
    port: int, path: str = DEFAULT_PREFIX, *, jupyter_base_url: str | None = None
) -> str:
    """The URL a lesson prints for ``path`` on the PACS's web ``port``.

    On a laptop the browser reaches the port itself: ``http://127.0.0.1:PORT/viewer/``. Under
    JupyterHub or Binder (``$JUPYTERHUB_SERVICE_PREFIX`` is set, e.g. ``/user/ana/``), or when
    ``jupyter_base_url`` is given, it reaches only the Jupyter server, so the link goes through
    jupyter-server-proxy on the same origin: ``/user/ana/proxy/PORT/viewer/``.
    """
    if not isinstance(port, int) or not 0 < port < 65536:
        raise MedlabError(f"Not a TCP port: {port!r}", fix="Give the PACS's web port (1-65535).")
    path = check_path_prefix(path if path.startswith("/") else "/" + path, "viewer path")
    base = jupyter_base_url
    if base is None:
        base = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or None
    if base is None:
        return f"http://127.0.0.1:{port}{path}"
    base = check_path_prefix(base if base.endswith("/") else base + "/", "Jupyter base URL")
    return f"{base}proxy/{port}{path}"


@dataclass(frozen=True)
class ViewerLink:
    """A link that opens OHIF (on a study, if given); shown as a link (and frame) in a notebook."""

    url: str
    study_uid: str | None = None
    iframe: bool = False
    height: int = 600

    def __repr__(self) -> str:
        what = f"study {self.study_uid}" if self.study_uid else "the study list"
        return f"OHIF viewer ({what}): {self.url}"

    def _repr_html_(self) -> str:
        what = f"study <code>{escape(self.study_uid)}</code>" if self.study_uid else "study list"
        url = escape(self.url, quote=True)
        html = (
            f'<p>Open the OHIF viewer ({what}): <a href="{url}" target="_blank" '
            f'rel="noopener">{escape(self.url)}</a></p>'
        )
        if self.iframe:
            html += (
                f'<iframe src="{url}" title="OHIF viewer" width="100%" '
                f'height="{int(self.height)}" style="border:0"></iframe>'
            )
        return html


def viewer_link(
    base_url: str, study_uid: str | None = None, *, iframe: bool = False, height: int = 600
) -> ViewerLink:
    """Link to the viewer at ``base_url`` (from :func:`public_url`), opening ``study_uid``.

    OHIF's basic viewer opens a study at ``<base>viewer?StudyInstanceUIDs=<uid>``; without a
    study the link opens the study list.
    """
    from medlab.net.store import is_valid_uid

    if not isinstance(base_url, str) or not base_url.endswith("/"):
        raise MedlabError(
            f"Not a viewer URL: {base_url!r}", fix="Use public_url(port), which ends with '/'."
        )
    if study_uid is None:
        return ViewerLink(base_url, None, iframe, height)
    study_uid = str(study_uid)
    if not is_valid_uid(study_uid):
        raise MedlabError(
            f"Not a Study Instance UID: {study_uid!r}",
            fix="A UID is digits and dots, at most 64 characters (PS3.5 §9.1).",
        )
    return ViewerLink(
        f"{base_url}viewer?StudyInstanceUIDs={quote(study_uid)}", study_uid, iframe, height
    )


# --------------------------------------------------------------------------- tornado handlers

# What precedes the viewer's prefix when jupyter-server-proxy keeps the whole path
# (``<base_url>proxy/absolute/<port>``); empty when the request comes straight or stripped.
_ABSOLUTE_MOUNT = r"(?P<mount>(?:/[^?#]*?)?/proxy/absolute/\d+)?"


def viewer_routes(
    prefix: str = DEFAULT_PREFIX,
    dicomweb_base: str = DEFAULT_DICOMWEB_BASE,
    dist: Path | None = None,
) -> list:
    """Tornado routes that serve OHIF under ``prefix`` with its data source at ``dicomweb_base``.

    Add them to the PACS's web application beside the DICOMweb routes, e.g.::

        app = make_app(ctx)                                   # medlab.net.dicomweb.server
        app.add_handlers(r".*", viewer_routes("/viewer/", "/dicom-web"))

    ``prefix`` and ``dicomweb_base`` are the paths on our own port. The dist is looked up
    (:func:`viewer_dist`) when the routes are made, so a missing viewer is a clear error at
    start, not a 404 later.
    """
    prefix = check_path_prefix(prefix if prefix.endswith("/") else prefix + "/")
    dicomweb_base = check_path_prefix(dicomweb_base, "DICOMweb base path").rstrip("/")
    site = _Site(Path(dist) if dist is not None else viewer_dist(), prefix, dicomweb_base)
    bare = re.escape(prefix.rstrip("/"))
    return [
        (rf"{_ABSOLUTE_MOUNT}{bare}", _RedirectToPrefix, {"site": site}),
        (rf"{_ABSOLUTE_MOUNT}{bare}/(?P<path>.*)", _ViewerHandler, {"site": site}),
    ]


class _Site:
    """The installed dist and what is rewritten in it (found once, shared by every request)."""

    def __init__(self, dist: Path, prefix: str, dicomweb_base: str) -> None:
        self.dist = dist.resolve()
        self.prefix = prefix
        self.dicomweb_base = dicomweb_base
        self.index_html = (self.dist / "index.html").read_text(encoding="utf-8")
        rewrite_index_html(self.index_html, prefix)  # fails now if this dist is not known
        bundles = sorted(self.dist.glob("app.bundle.*.js"))
        if len(bundles) != 1 or self.public_path_at(bundles[0]) is None:
            raise MedlabError(
                "Expected one app.bundle.*.js that sets webpack's public path",
                where=str(dist),
                fix=f"Install OHIF {OHIF_VERSION} (`make install`).",
            )

    @functools.lru_cache(maxsize=512)  # noqa: B019 (one _Site per server; files of one dist)
    def _public_path_at(self, file: Path, mtime_ns: int, size: int) -> int | None:
        return find_webpack_public_path(file)

    def public_path_at(self, file: Path) -> int | None:
        """Where a script sets webpack's public path (found once per file version)."""
        stat = file.stat()
        return self._public_path_at(file, stat.st_mtime_ns, stat.st_size)

    def public_prefixes(self, mount: str | None, forwarded: str | None) -> tuple[str, str]:
        """(viewer URL path, DICOMweb URL path) as the browser sees them for this request."""
        if mount:  # <base_url>proxy/absolute/<port>: served with the whole path kept
            # DICOMweb goes through the stripping form of the same proxy (its routes live at
            # dicomweb_base on our port); both are on the browser's origin.
            base = mount[: mount.rindex("/proxy/absolute/")]
            port = mount.rsplit("/", 1)[1]
            return mount + self.prefix, f"{base}/proxy/{port}{self.dicomweb_base}"
        outer = (forwarded or "").rstrip("/")
        return outer + self.prefix, outer + self.dicomweb_base


def _tornado_web() -> Any:
    import tornado.web

    return tornado.web


class _Handler(_tornado_web().RequestHandler):  # type: ignore[misc]
    def initialize(self, site: _Site) -> None:
        self.site = site

    def _public(self, mount: str | None) -> tuple[str, str]:
        try:
            forwarded = forwarded_prefix(self.request.headers)
        except MedlabError as exc:
            raise _tornado_web().HTTPError(400, reason="Bad X-Forwarded-Prefix") from exc
        return self.site.public_prefixes(mount, forwarded or None)


class _RedirectToPrefix(_Handler):
    def get(self, mount: str | None = None) -> None:
        # A relative Location: right behind any proxy (jupyter-server-proxy leaves it alone).
        name = self.site.prefix.strip("/").rsplit("/", 1)[-1]
        query = f"?{self.request.query}" if self.request.query else ""
        self.redirect(f"{name}/{query}", permanent=False)

    head = get


class _ViewerHandler(_Handler):
    """Static files of the dist, the rewritten ones, app-config.js, and index.html for routes."""

    async def get(self, mount: str | None = None, path: str = "") -> None:
        await self._serve(mount, path, include_body=True)

    async def head(self, mount: str | None = None, path: str = "") -> None:
        await self._serve(mount, path, include_body=False)

    async def _serve(self, mount: str | None, path: str, include_body: bool) -> None:
        viewer, dicomweb = self._public(mount)
        if path == "app-config.js":
            body = app_config_js(viewer, dicomweb).encode()
            return self._send(body, ".js", include_body, cache=False)
        if path in ("", "index.html"):
            return self._index(viewer, include_body)
        file = (self.site.dist / path).resolve()
        if not file.is_relative_to(self.site.dist):
            raise _tornado_web().HTTPError(404)
        if not file.is_file():
            # A client-side route of the single-page app (viewer, segmentation, ...) gets
            # index.html; a missing file (a name with an extension) is a plain 404.
            if "." in path.rsplit("/", 1)[-1]:
                raise _tornado_web().HTTPError(404)
            return self._index(viewer, include_body)
        suffix = file.suffix.lower()
        if suffix == ".js":
            return await self._send_script(file, include_body)
        if suffix in (".css", ".json", ".xml") and file.stat().st_size < 4 * 1024 * 1024:
            rewrite = rewrite_css if suffix == ".css" else rewrite_manifest
            body = rewrite(file.read_text(encoding="utf-8"), path.count("/")).encode()
            return self._send(body, suffix, include_body, cache=True)
        await self._send_file(file, include_body)

    def _index(self, viewer: str, include_body: bool) -> None:
        body = rewrite_index_html(self.site.index_html, viewer).encode()
        self._send(body, ".html", include_body, cache=False)

    def _content_type(self, suffix: str) -> str:
        import mimetypes

        return (
            CONTENT_TYPES.get(suffix)
            or mimetypes.types_map.get(suffix)
            or "application/octet-stream"
        )

    def _send(self, body: bytes, suffix: str, include_body: bool, cache: bool) -> None:
        self.set_header("Content-Type", self._content_type(suffix))
        self.set_header("Cache-Control", "no-cache" if cache else "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Length", str(len(body)))
        if include_body:
            self.write(body)
        self.finish()

    async def _send_file(self, file: Path, include_body: bool) -> None:
        stat = file.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        await self._stream(file, [(0, stat.st_size, None)], etag, include_body, file.suffix)

    async def _send_script(self, file: Path, include_body: bool) -> None:
        """A script, with webpack's public path patched in the stream (the file stays as is)."""
        at = self.site.public_path_at(file)
        if at is None:
            return await self._send_file(file, include_body)
        stat = file.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}-medlab"'
        end = at + len(_WEBPACK_PATH)
        parts = [(0, at, None), (0, 0, _WEBPACK_PATH_NEW), (end, stat.st_size, None)]
        await self._stream(file, parts, etag, include_body, ".js")

    async def _stream(self, file: Path, parts: list, etag: str, include_body: bool, suffix: str):
        """Send byte ranges of ``file`` and inserted bytes, in 256 KiB chunks (memory bounded)."""
        self.set_header("Content-Type", self._content_type(suffix.lower()))
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("ETag", etag)
        if self.request.headers.get("If-None-Match") == etag:
            self.set_status(304)
            return self.finish()
        total = sum(len(extra) if extra is not None else end - start for start, end, extra in parts)
        self.set_header("Content-Length", str(total))
        if not include_body:
            return self.finish()
        with open(file, "rb") as fh:
            for start, end, extra in parts:
                if extra is not None:
                    self.write(extra)
                    continue
                fh.seek(start)
                left = end - start
                while left > 0:
                    chunk = fh.read(min(left, 256 * 1024))
                    if not chunk:
                        raise OSError(f"{file} shrank while it was being served")
                    left -= len(chunk)
                    self.write(chunk)
                    await self.flush()
        self.finish()


def main(argv: list[str] | None = None) -> int:
    """``python -m medlab.net.dicomweb.viewer install [--prefix DIR]``: install OHIF."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m medlab.net.dicomweb.viewer")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("install", help=f"fetch {OHIF_PACKAGE}@{OHIF_VERSION} with npm pack")
    cmd.add_argument(
        "--prefix",
        type=Path,
        default=None,
        help="default: <sys.prefix>/ohif, or the parent of $MEDLAB_OHIF_DIST",
    )
    args = parser.parse_args(argv)
    try:
        dist = install(args.prefix)
    except MedlabError as exc:
        print(f"medlab: {exc}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in dist.rglob("*") if f.is_file())
    print(f"OHIF {OHIF_VERSION} installed in {dist} ({size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
