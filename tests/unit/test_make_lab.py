"""`make lab` serves the course on 127.0.0.1 with a token, on the port asked for."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import support


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


def _get(url: str, attempts: int = 50):
    """GET `url`, retrying briefly while the server finishes starting."""
    for _ in range(attempts):
        try:
            return urllib.request.urlopen(url, timeout=10)
        except ConnectionRefusedError:
            time.sleep(0.2)
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError):
                raise
            time.sleep(0.2)
    return urllib.request.urlopen(url, timeout=10)


def test_make_lab_serves_lesson_00_on_loopback(tmp_path):
    port = support.free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "BROWSER": "true"}
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"PORT={port}", "LAB_ARGS=--no-browser"],
        cwd=support.REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    url = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(rf"(http://127\.0\.0\.1:{port}/lab\S*\?token=\w+)", line)
            url = match.group(1) if match else None
        assert url, "no URL with a token was printed:\n" + "".join(lines)
        token = url.split("token=")[1]
        status = _get(f"http://127.0.0.1:{port}/api/status?token={token}")
        assert status.status == 200
        page = _get(
            f"http://127.0.0.1:{port}/api/contents/00_start_here.ipynb?content=0&token={token}"
        )
        assert page.status == 200
        assert _listening_addresses(port) == {"0100007F"}, "JupyterLab must bind 127.0.0.1 only"
        assert "00_start_here.ipynb" in "".join(lines) or "/lab" in url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
