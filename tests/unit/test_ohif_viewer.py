"""medlab.net.dicomweb.viewer: OHIF's dist rewritten for a path prefix, its app-config, the
tornado routes (direct and as jupyter-server-proxy forwards them), installation, and links.

The dist here is a small stand-in with the same layout and markers as @ohif/app 3.13.2's
(index.html, app.bundle.<hash>.js, a worker with its own webpack runtime, CSS with url(/...));
tests/browser/test_ohif.py runs the real one in Chromium.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
import tarfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import support

from medlab.errors import MedlabError
from medlab.net.dicomweb import viewer

INDEX = (
    '<!doctype html><html><head><meta name="msapplication-TileImage" content="/assets/t.png">'
    '<script>console.time("scriptToView"),window.PUBLIC_URL="/"</script>'
    '<link rel="manifest" href="/manifest.json"><link rel="icon" href="/assets/favicon.ico">'
    '<script rel="preload" as="script" src="/app-config.js"></script>'
    '<a href="//cdn.example.org/x.js">protocol-relative stays</a><a href="https://ohif.org/">x</a>'
    '<script>function browserImportFunction(n){return import(n)}window.PUBLIC_URL="/"</script>'
    '<script defer src="/app.bundle.0f6159c501addfe9.js"></script>'
    '<link href="/app.bundle.css" rel="stylesheet"></head><body><div id="root"></div></body></html>'
)
BUNDLE = b"(()=>{var x=1;" + b"a" * 600_000 + b';__webpack_require__.p = "/";' + b"b" * 9 + b"})()"
WORKER = b'(()=>{__webpack_require__.p = "/";importScripts(__webpack_require__.p+"1.js")})()'
MANIFEST = '{"icons": [{"src": "/assets/android-chrome-36x36.png", "sizes": "36x36"}]}'
CSS = "@font-face{src:url(/a34f9d1faa5f3315.woff2) format('woff2')}.x{background:url('/assets/i.png')}"


def make_dist(root: Path) -> Path:
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "app.bundle.0f6159c501addfe9.js").write_bytes(BUNDLE)
    (dist / "compute.bundle.0fc3a3ee85296cf2.js").write_bytes(WORKER)
    (dist / "1.bundle.js").write_bytes(b"console.log(1)")
    (dist / "app.bundle.css").write_text(CSS)
    (dist / "assets" / "sub.css").write_text(CSS)
    (dist / "37fa160cc3a47cfd.wasm").write_bytes(b"\0asm\1\0\0\0")
    (dist / "a34f9d1faa5f3315.woff2").write_bytes(b"wOF2")
    (dist / "app-config.js").write_text("window.config = {demo: 'https://public.example'};")
    (dist / "assets" / "favicon.ico").write_bytes(b"\0\0\1\0")
    (dist / "manifest.json").write_text(MANIFEST)
    return dist


# --------------------------------------------------------------------------- rewriting


def test_index_html_loads_everything_from_the_prefix():
    html = viewer.rewrite_index_html(INDEX, "/user/ana/proxy/8080/viewer/")
    assert html.count('window.PUBLIC_URL="/user/ana/proxy/8080/viewer/"') == 2
    assert 'src="/user/ana/proxy/8080/viewer/app.bundle.0f6159c501addfe9.js"' in html
    assert 'src="/user/ana/proxy/8080/viewer/app-config.js"' in html
    assert 'href="/user/ana/proxy/8080/viewer/app.bundle.css"' in html
    assert 'href="//cdn.example.org/x.js"' in html and 'href="https://ohif.org/"' in html
    assert 'content="/user/ana/proxy/8080/viewer/assets/t.png"' in html
    assert 'src="/app' not in html and 'href="/manifest' not in html


def test_index_html_of_an_unknown_build_is_refused_not_served_broken():
    with pytest.raises(MedlabError, match="not the one medlab knows"):
        viewer.rewrite_index_html("<html><script src='x.js'></script></html>", "/viewer/")


@pytest.mark.parametrize(
    "bad", ['/a"onload="x', "/a<script>", "relative/", "//evil.example/", "/a b", "/a\\b", ""]
)
def test_a_prefix_that_could_inject_markup_is_refused(bad):
    with pytest.raises(MedlabError, match="Not a usable"):
        viewer.rewrite_index_html(INDEX, bad)


def test_css_urls_become_relative_to_the_css_file():
    assert "url(a34f9d1faa5f3315.woff2)" in viewer.rewrite_css(CSS)
    assert "url('assets/i.png')" in viewer.rewrite_css(CSS)
    assert "url(../a34f9d1faa5f3315.woff2)" in viewer.rewrite_css(CSS, depth=1)
    assert viewer.rewrite_css("a{b:url(//cdn/x)}") == "a{b:url(//cdn/x)}"


def test_manifest_icons_become_relative_to_the_manifest():
    assert '"src": "assets/android-chrome-36x36.png"' in viewer.rewrite_manifest(MANIFEST)
    xml = '<square70x70logo src="/assets/mstile-70x70.png"/>'
    assert viewer.rewrite_manifest(xml, 1) == '<square70x70logo src="../assets/mstile-70x70.png"/>'


def test_webpack_public_path_is_found_once_and_patched(tmp_path):
    script = tmp_path / "s.js"
    script.write_bytes(BUNDLE)
    at = viewer.find_webpack_public_path(script)
    assert BUNDLE[at:].startswith(b'__webpack_require__.p = "/"')
    patched = viewer.patch_webpack_public_path(BUNDLE)
    assert b'__webpack_require__.p = "/"' not in patched and b"window.PUBLIC_URL" in patched
    script.write_bytes(b"no runtime here")
    assert viewer.find_webpack_public_path(script) is None
    script.write_bytes(WORKER + WORKER)
    with pytest.raises(MedlabError, match="set twice"):
        viewer.find_webpack_public_path(script)


def _node_eval(js: str, href: str) -> dict:
    node = shutil.which("node")
    support.require(node is not None, "node is not installed (apt-get install nodejs)")
    program = (
        f"const window = {{location: new URL({json.dumps(href)})}};\n"
        f"{js}\nprocess.stdout.write(JSON.stringify(window.config));"
    )
    out = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_app_config_points_ohif_at_our_dicomweb_on_the_same_origin():
    js = viewer.app_config_js("/user/ana/proxy/8080/viewer/", "/user/ana/proxy/8080/dicom-web")
    config = _node_eval(js, "https://hub.example.org/user/ana/proxy/8080/viewer/viewer?x=1")
    assert config["routerBasename"] == "/user/ana/proxy/8080/viewer"
    assert config["defaultDataSourceName"] == "medlab"
    (source,) = config["dataSources"]
    assert source["namespace"] == "@ohif/extension-default.dataSourcesModule.dicomweb"
    assert source["sourceName"] == "medlab"
    conf = source["configuration"]
    root = "https://hub.example.org/user/ana/proxy/8080/dicom-web"
    assert conf["qidoRoot"] == conf["wadoRoot"] == conf["wadoUriRoot"] == root
    assert conf["imageRendering"] == conf["thumbnailRendering"] == "wadors"
    assert conf["supportsWildcard"] is True
    assert config["customizationService"] == {"ohif.tours": {"$set": []}}  # no tour


def test_webpack_public_path_in_a_worker_is_the_folder_of_its_script():
    node = shutil.which("node")
    support.require(node is not None, "node is not installed (apt-get install nodejs)")
    patched = viewer.patch_webpack_public_path(WORKER).decode()
    program = (
        "const self = {location: {href: 'http://h/user/a/proxy/1/viewer/compute.bundle.js'}};\n"
        "let got; const __webpack_require__ = {}; const importScripts = u => { got = u };\n"
        f"{patched}\nprocess.stdout.write(got);"
    )
    out = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=60)
    assert out.stdout == "http://h/user/a/proxy/1/viewer/1.js", out.stderr


# --------------------------------------------------------------------------- links


def test_public_url_on_a_laptop_is_the_port_itself(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert viewer.public_url(8123) == "http://127.0.0.1:8123/viewer/"
    assert viewer.public_url(8123, "/dicom-web") == "http://127.0.0.1:8123/dicom-web"


def test_public_url_under_a_hub_or_binder_goes_through_jupyter_server_proxy(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    assert viewer.public_url(8123) == "/user/ana/proxy/8123/viewer/"
    assert viewer.public_url(8123, "dicom-web") == "/user/ana/proxy/8123/dicom-web"
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX")
    assert viewer.public_url(8123, jupyter_base_url="/lab") == "/lab/proxy/8123/viewer/"


@pytest.mark.parametrize("port", [0, 70000, "8080", None])
def test_public_url_needs_a_port(port):
    with pytest.raises(MedlabError, match="Not a TCP port"):
        viewer.public_url(port)


def test_viewer_link_opens_the_study_in_the_basic_viewer():
    link = viewer.viewer_link("/user/ana/proxy/8123/viewer/", "1.2.840.10008.99")
    assert link.url == "/user/ana/proxy/8123/viewer/viewer?StudyInstanceUIDs=1.2.840.10008.99"
    html = link._repr_html_()
    assert f'href="{link.url}"' in html and 'target="_blank"' in html and "<iframe" not in html
    assert "1.2.840.10008.99" in repr(link)
    framed = viewer.viewer_link("http://127.0.0.1:1/viewer/", "1.2.3", iframe=True, height=400)
    assert '<iframe src="http://127.0.0.1:1/viewer/viewer?StudyInstanceUIDs=1.2.3"' in (
        framed._repr_html_()
    )
    assert 'height="400"' in framed._repr_html_()
    assert viewer.viewer_link("http://127.0.0.1:1/viewer/").url == "http://127.0.0.1:1/viewer/"


@pytest.mark.parametrize("uid", ["1.2.abc", "1.2.3<script>", "1." + "2" * 70, ""])
def test_viewer_link_refuses_what_is_not_a_uid(uid):
    with pytest.raises(MedlabError, match="Not a Study Instance UID"):
        viewer.viewer_link("http://127.0.0.1:1/viewer/", uid)


def test_viewer_link_needs_the_viewer_url():
    with pytest.raises(MedlabError, match="Not a viewer URL"):
        viewer.viewer_link("http://127.0.0.1:1/viewer", "1.2.3")


# --------------------------------------------------------------------------- installation


def _tarball(path: Path, names: dict[str, bytes], symlink: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in names.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return path


def test_extract_keeps_the_dist_without_what_ct_cr_mr_never_load(tmp_path):
    tgz = _tarball(
        tmp_path / "ohif-app.tgz",
        {
            "package/package.json": b'{"version": "3.13.2"}',
            "package/LICENSE": b"MIT",
            "package/README.md": b"readme",
            "package/dist/index.html": INDEX.encode(),
            "package/dist/app.bundle.x.js": BUNDLE,
            "package/dist/app.bundle.x.js.map": b"{}",
            "package/dist/ort/ort-wasm.wasm": b"big",
            "package/dist/dicom-microscopy-viewer/dmv.js": b"big",
            "package/dist/assets/ort/keep.png": b"png",
            "package/src/index.js": b"source",
        },
        symlink="package/dist/evil",
    )
    dest = tmp_path / "ohif"
    viewer.extract_dist(tgz, dest)
    found = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert found == [
        "LICENSE",
        "dist/app.bundle.x.js",
        "dist/assets/ort/keep.png",
        "dist/index.html",
        "package.json",
    ]
    assert not (dest / "dist" / "evil").exists()


def test_extract_refuses_a_package_without_a_built_viewer(tmp_path):
    tgz = _tarball(tmp_path / "x.tgz", {"package/package.json": b"{}"})
    with pytest.raises(MedlabError, match="no dist/index.html"):
        viewer.extract_dist(tgz, tmp_path / "ohif")


def test_viewer_dist_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDLAB_OHIF_DIST", str(tmp_path / "nowhere"))
    with pytest.raises(MedlabError, match="not installed") as err:
        viewer.viewer_dist()
    assert "make install" in str(err.value)
    monkeypatch.setenv("MEDLAB_OHIF_DIST", str(make_dist(tmp_path)))
    assert viewer.viewer_dist() == tmp_path / "dist"


def test_install_without_npm_is_a_clear_error(tmp_path):
    with pytest.raises(MedlabError, match="npm is needed"):
        viewer.install(tmp_path / "ohif", npm="no-such-npm-here")


# --------------------------------------------------------------------------- tornado routes


@pytest.fixture
def served(tmp_path):
    """The routes in a real tornado server on 127.0.0.1 (its own thread and event loop)."""
    import tornado.web

    dist = make_dist(tmp_path)
    port = support.free_port()
    started = threading.Event()
    state: dict = {}

    def run() -> None:
        async def main() -> None:
            app = tornado.web.Application(viewer.viewer_routes("/viewer/", "/dicom-web", dist))
            server = app.listen(port, "127.0.0.1")
            state["stop"] = asyncio.Event()
            state["loop"] = asyncio.get_running_loop()
            started.set()
            await state["stop"].wait()
            server.stop()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(30)
    yield f"http://127.0.0.1:{port}", dist
    state["loop"].call_soon_threadsafe(state["stop"].set)
    thread.join(30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict | None = None, method: str = "GET"):
    """(status, headers, body) of a request, without following redirects."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with opener.open(request, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_files_are_served_with_the_content_types_a_browser_insists_on(served):
    base, _ = served
    for name, ctype in [
        ("37fa160cc3a47cfd.wasm", "application/wasm"),
        ("1.bundle.js", "text/javascript; charset=utf-8"),
        ("a34f9d1faa5f3315.woff2", "font/woff2"),
        ("app.bundle.css", "text/css; charset=utf-8"),
        ("", "text/html; charset=utf-8"),
        ("app-config.js", "text/javascript; charset=utf-8"),
    ]:
        status, headers, _ = fetch(f"{base}/viewer/{name}")
        assert (status, headers["Content-Type"]) == (200, ctype), name
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_index_and_client_routes_get_the_rewritten_index(served):
    base, _ = served
    status, headers, body = fetch(f"{base}/viewer/viewer?StudyInstanceUIDs=1.2.3")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert body.decode() == viewer.rewrite_index_html(INDEX, "/viewer/")
    assert fetch(f"{base}/viewer/")[2] == body
    assert fetch(f"{base}/viewer/index.html")[2] == body


def test_a_missing_file_is_404_not_the_index(served):
    base, _ = served
    assert fetch(f"{base}/viewer/9999.bundle.deadbeef.js")[0] == 404
    assert fetch(f"{base}/viewer/ort/ort-wasm.wasm")[0] == 404


@pytest.mark.parametrize("path", ["..%2F..%2Fetc%2Fpasswd", "%2E%2E/%2E%2E/etc/passwd.txt"])
def test_nothing_outside_the_dist_is_served(served, path):
    base, _ = served
    status, _, body = fetch(f"{base}/viewer/{path}")
    assert status == 404 and b"root:" not in body


def test_bare_prefix_redirects_relatively_keeping_the_query(served):
    base, _ = served
    status, headers, _ = fetch(f"{base}/viewer?StudyInstanceUIDs=1.2")
    assert status == 302 and headers["Location"] == "viewer/?StudyInstanceUIDs=1.2"


def test_scripts_stream_with_webpacks_public_path_patched(served):
    base, dist = served
    for name, original in [
        ("app.bundle.0f6159c501addfe9.js", BUNDLE),
        ("compute.bundle.0fc3a3ee85296cf2.js", WORKER),
    ]:
        status, headers, body = fetch(f"{base}/viewer/{name}")
        assert status == 200
        assert body == viewer.patch_webpack_public_path(original)
        assert int(headers["Content-Length"]) == len(body)
        assert (dist / name).read_bytes() == original  # the installed file is never changed
        assert fetch(f"{base}/viewer/{name}", {"If-None-Match": headers["ETag"]})[0] == 304
        head = fetch(f"{base}/viewer/{name}", method="HEAD")
        assert head[0] == 200 and head[2] == b"" and head[1]["Content-Length"] == str(len(body))


def test_css_and_manifest_are_served_with_relative_urls(served):
    base, _ = served
    manifest = fetch(f"{base}/viewer/manifest.json")
    assert manifest[1]["Content-Type"] == "application/json"
    assert manifest[2].decode() == viewer.rewrite_manifest(MANIFEST)
    assert fetch(f"{base}/viewer/app.bundle.css")[2].decode() == viewer.rewrite_css(CSS)
    assert b"url(../a34f9d1faa5f3315.woff2)" in fetch(f"{base}/viewer/assets/sub.css")[2]


def _config_of(body: bytes, href: str) -> dict:
    return _node_eval(body.decode(), href)


def test_direct_request_gets_the_plain_prefixes(served):
    base, _ = served
    body = fetch(f"{base}/viewer/app-config.js")[2]
    assert b"https://public.example" not in body  # the package's demo config is never served
    config = _config_of(body, f"{base}/viewer/")
    assert config["routerBasename"] == "/viewer"
    assert config["dataSources"][0]["configuration"]["qidoRoot"] == f"{base}/dicom-web"


def test_stripping_proxy_prefix_comes_from_x_forwarded_prefix(served):
    """jupyter-server-proxy's /proxy/<port>/: the path arrives stripped, the prefix in a header."""
    base, _ = served
    hdr = {"X-Forwarded-Prefix": "/user/ana/proxy/8123"}
    body = fetch(f"{base}/viewer/app-config.js", hdr)[2]
    config = _config_of(body, "https://hub.example/user/ana/proxy/8123/viewer/")
    assert config["routerBasename"] == "/user/ana/proxy/8123/viewer"
    qido = config["dataSources"][0]["configuration"]["qidoRoot"]
    assert qido == "https://hub.example/user/ana/proxy/8123/dicom-web"
    index = fetch(f"{base}/viewer/viewer?StudyInstanceUIDs=1.2", hdr)[2].decode()
    assert 'window.PUBLIC_URL="/user/ana/proxy/8123/viewer/"' in index
    assert 'src="/user/ana/proxy/8123/viewer/app.bundle.0f6159c501addfe9.js"' in index


def test_absolute_proxy_path_arrives_whole(served):
    """jupyter-server-proxy's /proxy/absolute/<port>/: the whole path, no prefix header."""
    base, _ = served
    body = fetch(f"{base}/user/ana/proxy/absolute/8123/viewer/app-config.js")[2]
    config = _config_of(body, "https://hub.example/user/ana/proxy/absolute/8123/viewer/")
    assert config["routerBasename"] == "/user/ana/proxy/absolute/8123/viewer"
    qido = config["dataSources"][0]["configuration"]["qidoRoot"]
    assert qido == "https://hub.example/user/ana/proxy/8123/dicom-web"
    index = fetch(f"{base}/user/ana/proxy/absolute/8123/viewer/viewer")[2].decode()
    assert 'window.PUBLIC_URL="/user/ana/proxy/absolute/8123/viewer/"' in index
    assert fetch(f"{base}/proxy/absolute/8123/viewer/37fa160cc3a47cfd.wasm")[0] == 200
    assert fetch(f"{base}/elsewhere/viewer/")[0] == 404


def test_a_forged_prefix_header_is_a_400_not_markup(served):
    base, _ = served
    status, _, body = fetch(f"{base}/viewer/", {"X-Forwarded-Prefix": '/x"><script>alert(1)'})
    assert status == 400 and b"<script>alert" not in body


def test_routes_refuse_a_dist_medlab_does_not_know(tmp_path):
    dist = make_dist(tmp_path)
    (dist / "app.bundle.0f6159c501addfe9.js").write_bytes(b"no public path")
    with pytest.raises(MedlabError, match="public path"):
        viewer.viewer_routes("/viewer/", "/dicom-web", dist)
