"""The PACS's web side: DICOMweb and the viewer on a second port of the same process.

STOW-RS stores through the C-STORE path (``PACS.store_received``) into the same
archive: C-FIND finds a STOWed instance, the event log shows the request, and
storage commitment commits it. ``medlab pacs serve`` prints the DICOMweb line,
``--web-port -1`` turns the web side off, and another Unix user gets HTTP 403.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
import requests
from dicomweb_client import DICOMwebClient
from pydicom.uid import generate_uid

import medlab.data
from medlab.errors import MedlabError
from medlab.net import events as ev
from medlab.net.server import PACS


def _new_instance() -> pydicom.Dataset:
    path = sorted(medlab.data.study("mr_phantom").rglob("*.dcm"))[0]
    ds = pydicom.dcmread(path)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


@pytest.fixture
def pacs(tmp_path):
    with PACS(root=tmp_path / "pacs") as running:
        yield running


def test_urls_and_viewer_link(pacs):
    assert pacs.web_port and pacs.web_port != pacs.port
    assert pacs.dicomweb_url == f"http://127.0.0.1:{pacs.web_port}/dicom-web"
    assert requests.get(f"{pacs.dicomweb_url}/studies", timeout=10).status_code == 204
    if pacs.viewer_url is None:  # OHIF not installed here: the link says how to get it
        with pytest.raises(MedlabError, match="OHIF"):
            pacs.viewer()
        return
    assert pacs.viewer_url == f"http://127.0.0.1:{pacs.web_port}/viewer/"
    link = pacs.viewer("1.2.3.4")
    assert link.url == f"{pacs.viewer_url}viewer?StudyInstanceUIDs=1.2.3.4"
    assert f'href="{link.url}"' in link._repr_html_()
    page = requests.get(pacs.viewer_url, timeout=10)
    assert page.status_code == 200 and "app-config.js" in page.text
    config = requests.get(f"{pacs.viewer_url}app-config.js", timeout=10).text
    assert '"/dicom-web"' in config  # the viewer reads this PACS's own DICOMweb


def test_viewer_url_goes_through_the_jupyter_proxy_on_a_hub(pacs, monkeypatch):
    if pacs.viewer_url is None:
        pytest.skip("OHIF is not installed (make install)")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    assert pacs.viewer_url == f"/user/ana/proxy/{pacs.web_port}/viewer/"
    assert pacs.dicomweb_url.startswith("http://127.0.0.1:")  # the kernel is on this host


def test_web_port_minus_one_turns_it_off(tmp_path):
    with PACS(root=tmp_path, web_port=-1) as pacs:
        assert pacs.dicomweb_url is None and pacs.viewer_url is None and pacs.web_port is None
        with pytest.raises(MedlabError, match="web side is not running"):
            pacs.viewer()


def test_web_port_is_validated():
    with pytest.raises(MedlabError, match="web_port"):
        PACS(web_port=70000)


def test_web_port_in_use_is_a_clear_error_and_dimse_is_let_go(tmp_path):
    from medlab.net.scu import port_is_listening

    with PACS(root=tmp_path / "a") as first:
        second = PACS(root=tmp_path / "b", web_port=first.web_port)
        with pytest.raises(MedlabError, match="cannot listen"):
            second.start()
        assert not second.is_running and not port_is_listening(second.port)


def test_stow_is_stored_like_a_c_store_found_by_c_find_and_logged(pacs, monkeypatch):
    from medlab.net.scu import find

    calls = []
    real = pacs.store_received

    def spy(*args, **kwargs):
        calls.append(args[2] if len(args) > 2 else kwargs.get("calling_aet"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pacs, "store_received", spy)
    ds = _new_instance()
    DICOMwebClient(pacs.dicomweb_url).store_instances([ds])
    assert calls == ["WEB 127.0.0.1"]  # the C-STORE path, with who sent it

    found = find(pacs, "IMAGE", StudyInstanceUID=ds.StudyInstanceUID,
                 SeriesInstanceUID=ds.SeriesInstanceUID, SOPInstanceUID=ds.SOPInstanceUID)  # fmt: skip
    assert found.column("SOPInstanceUID") == [ds.SOPInstanceUID]

    (record,) = [e for e in pacs.events if isinstance(e, ev.WebRequest)]
    assert record.message == "STOW-RS" and record.status == 200
    assert record.stored == [ds.SOPInstanceUID]
    assert record.sender == "WEB 127.0.0.1" and record.receiver == pacs.aet
    assert "POST /dicom-web/studies  HTTP 200  1 stored (MR Image Storage)" in pacs.events_text()


def test_stow_refused_parts_are_logged_with_their_failure_reason(pacs):
    body = b"--XX\r\nContent-Type: application/dicom\r\n\r\nnot dicom\r\n--XX--\r\n"
    rsp = requests.post(
        f"{pacs.dicomweb_url}/studies",
        data=body,
        headers={"Content-Type": 'multipart/related; type="application/dicom"; boundary=XX'},
        timeout=10,
    )
    assert rsp.status_code == 409
    (record,) = [e for e in pacs.events if isinstance(e, ev.WebRequest)]
    assert record.status == 409 and record.stored == []
    assert "1 failed (Failure Reason 0xC000)" in str(record)

    rsp = requests.post(
        f"{pacs.dicomweb_url}/studies", data=b"{}", headers={"Content-Type": "application/json"}
    )
    assert rsp.status_code == 415
    last = [e for e in pacs.events if isinstance(e, ev.WebRequest)][-1]
    assert last.status == 415 and "multipart/related" in last.info
    assert pacs.instance_count() == 0


def test_stow_numbers_share_the_association_sequence(pacs):
    from medlab.net.scu import echo

    echo(pacs)
    DICOMwebClient(pacs.dicomweb_url).store_instances([_new_instance()])
    echo(pacs)
    numbers = [e.assoc for e in pacs.events if e.message in ("TCP-OPEN", "STOW-RS")]
    assert numbers == [1, 2, 3]


def test_storage_commitment_of_a_stowed_instance_succeeds(pacs):
    from medlab.net.scu import commit

    ds = _new_instance()
    DICOMwebClient(pacs.dicomweb_url).store_instances([ds])
    result = commit([(ds.SOPClassUID, ds.SOPInstanceUID)], pacs)
    assert result.all_committed and result.committed == [ds.SOPInstanceUID]


def test_start_pacs_serves_dicomweb_and_receivers_do_not(monkeypatch, tmp_path):
    from medlab.net.scu import start_pacs, start_receiver

    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path))
    monkeypatch.delenv("MEDLAB_PACS", raising=False)
    pacs = start_pacs()
    receiver = start_receiver()
    try:
        assert requests.get(f"{pacs.dicomweb_url}/studies", timeout=10).status_code == 204
        assert receiver.dicomweb_url is None
    finally:
        receiver.stop()
        pacs.stop()


def test_conformance_lists_the_dicomweb_services(pacs):
    text = pacs.conformance()
    assert f"http://127.0.0.1:{pacs.web_port}/dicom-web" in text
    for service in ("QIDO-RS", "WADO-RS", "STOW-RS", "PS3.18 §10.6", "application/dicom+json"):
        assert service in text, service


# ---------------------------------------------------------------- the command line


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, list[str]]:
    """Start ``medlab pacs serve``; return it and its lines up to the listening line(s)."""
    env = {**os.environ, "MEDLAB_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "medlab", "pacs", "serve", "--port", "0"]
    cmd += ["--root", str(tmp_path / "pacs"), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "listening on" in line:
            # the web lines, if any, follow at once; a sentinel request ends the wait
            break
    return proc, lines


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out


def test_cli_prints_the_dicomweb_line_and_serves_it(tmp_path):
    proc, lines = _serve(tmp_path)
    try:
        web = proc.stdout.readline().rstrip("\n")
        assert web.startswith("DICOMweb: http://127.0.0.1:") and web.endswith("/dicom-web"), lines
        url = web.split(" ", 1)[1]
        assert requests.get(f"{url}/studies", timeout=10).status_code == 204
    finally:
        rest = _stop(proc)
    assert "medlab PACS stopped" in rest


def test_cli_web_port_minus_one_prints_no_dicomweb_line(tmp_path):
    proc, lines = _serve(tmp_path, "--web-port", "-1")
    rest = _stop(proc)
    assert any("listening on" in line for line in lines)
    assert "DICOMweb" not in "\n".join(lines) + rest


def test_cli_web_port_given_is_used(tmp_path):
    from medlab.net.scu import unused_port

    port = unused_port()
    proc, _ = _serve(tmp_path, "--web-port", str(port))
    try:
        assert proc.stdout.readline().strip() == f"DICOMweb: http://127.0.0.1:{port}/dicom-web"
    finally:
        _stop(proc)


def test_a_refused_request_writes_nothing_to_stderr(tmp_path):
    """A notebook shows stderr in red: a 4xx answer is logged at DEBUG, not as a warning."""
    code = (
        "import requests, tempfile\n"
        "from medlab.net.server import PACS\n"
        "with PACS(root=tempfile.mkdtemp()) as p:\n"
        "    r = requests.get(p.dicomweb_url + '/studies?StudyDate=2026-04')\n"
        "    print(r.status_code)\n"
    )
    env = {**os.environ, "MEDLAB_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "400" and out.stderr == ""


def test_a_client_that_goes_away_mid_retrieve_is_no_error(pacs, caplog):
    """A viewer cancels the frames it no longer shows: the server logs no error for it."""
    import logging
    import socket

    from medlab.net.scu import store

    store(medlab.data.study("ct_phantom"), pacs)
    ds = pydicom.dcmread(sorted(medlab.data.study("ct_phantom").rglob("*.dcm"))[0])
    path = f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
    caplog.set_level(logging.DEBUG)
    with socket.create_connection(("127.0.0.1", pacs.web_port)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert sock.recv(1000).startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    deadline = time.monotonic() + 10
    while "client closed the connection" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "client closed the connection" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert requests.get(f"{pacs.dicomweb_url}/studies", timeout=10).status_code == 200


def test_the_web_side_asks_with_the_pacs_own_peer_policy(tmp_path, monkeypatch):
    """accept_peers widens (or keeps) both doors alike: the web side passes the same policy."""
    import medlab.peers
    from medlab.net.config import PACSConfig

    asked = []
    real = medlab.peers.check_peer

    def spy(sock, policy=None):
        asked.append(policy)
        return real(sock, policy)

    monkeypatch.setattr(medlab.peers, "check_peer", spy)
    config = PACSConfig(root=tmp_path, port=0, accept_peers="local")
    with PACS(config=config) as pacs:
        assert requests.get(f"{pacs.dicomweb_url}/studies", timeout=10).status_code == 204
    assert "local" in asked


def test_viewer_in_a_frame_and_a_remote_pacs_says_it_has_no_viewer(pacs):
    from medlab.net.scu import RemotePACS

    if pacs.viewer_url is not None:
        html = pacs.viewer("1.2.3", iframe=True)._repr_html_()
        assert "<iframe" in html and "viewer?StudyInstanceUIDs=1.2.3" in html
    remote = RemotePACS("ARCHIVE", "127.0.0.1", 104)
    assert remote.dicomweb_url is None and remote.viewer_url is None
    with pytest.raises(MedlabError, match="bundled PACS"):
        remote.viewer()


def test_doctor_lists_the_pacs_web_port_and_dicomweb_url(tmp_path, monkeypatch):
    from medlab import health

    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "home"))
    with PACS(root=tmp_path / "pacs") as pacs:
        text = repr(health.doctor())
        line = f"dicomweb on 127.0.0.1:{pacs.web_port} (process {os.getpid()}): {pacs.dicomweb_url}"
        assert line in text
        assert f"pacs MEDLAB on 127.0.0.1:{pacs.port}" in text
    assert str(pacs.web_port) not in repr(health.doctor()).split("Your running medlab")[1]
