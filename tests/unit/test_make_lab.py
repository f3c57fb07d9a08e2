"""`make lab` serves the course on 127.0.0.1 with a token, on the port asked for, with nbgrader's
instructor tools off for trainees (on with INSTRUCTOR=1); binder/start does the same."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

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
        # nbgrader's server side is off in the trainees' lab (the browser test checks its UI).
        try:
            formgrader = _get(f"http://127.0.0.1:{port}/formgrader?token={token}").status
        except urllib.error.HTTPError as exc:
            formgrader = exc.code
        assert formgrader == 404
        assert "00_start_here.ipynb" in "".join(lines) or "/lab" in url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# What a launch with a given environment would enable, computed the way Jupyter Server and
# JupyterLab compute it (config files merged along JUPYTER_CONFIG_PATH), without starting one.
_EFFECTIVE = """
import json
from jupyter_core.paths import jupyter_config_path, jupyter_path
from jupyter_server.extension.config import ExtensionConfigManager
from jupyterlab_server.config import get_page_config
server = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
page = get_page_config(jupyter_path("labextensions"))
print(json.dumps({"server": server, "disabled": sorted(page["disabledExtensions"])}))
"""


def _effective(tmp_path, launch_env: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}
    env.update(launch_env, JUPYTER_CONFIG_DIR=str(tmp_path / "user-config"))
    out = subprocess.run(
        [sys.executable, "-c", _EFFECTIVE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _nbgrader_installed(effective: dict) -> None:
    nbgrader = [name for name in effective["server"] if name.startswith("nbgrader.")]
    support.require(bool(nbgrader), "nbgrader is not installed (test extra)")


def test_make_lab_turns_nbgrader_off_and_instructor_keeps_it(tmp_path):
    trainee_env, trainee_cmd = support.lab_command(8888)
    instructor_env, instructor_cmd = support.lab_command(8888, instructor=True)
    assert trainee_env == {"JUPYTER_CONFIG_PATH": str(support.REPO / "etc" / "jupyter")}
    assert instructor_env == {}
    assert trainee_cmd == instructor_cmd  # the same lab, only the course config differs

    trainee = _effective(tmp_path, trainee_env)
    instructor = _effective(tmp_path, instructor_env)
    _nbgrader_installed(instructor)
    nbgrader = {name for name in instructor["server"] if name.startswith("nbgrader.")}
    assert all(instructor["server"][name] for name in nbgrader), instructor
    assert "@jupyter/nbgrader" not in instructor["disabled"]
    # Every nbgrader server extension the install enables is off for trainees, and only those.
    assert {name for name, on in trainee["server"].items() if not on} == nbgrader
    assert "@jupyter/nbgrader" in trainee["disabled"]
    assert [name for name in trainee["disabled"] if "nbgrader" not in name] == instructor[
        "disabled"
    ]


def test_make_lab_keeps_the_users_config_path_after_the_course_one():
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "lab-command"],
        cwd=support.REPO,
        env={**os.environ, "JUPYTER_CONFIG_PATH": "/opt/site-jupyter"},
        capture_output=True,
        text=True,
        check=True,
    )
    course = support.REPO / "etc" / "jupyter"
    assert out.stdout.startswith(f'JUPYTER_CONFIG_PATH="{course}:/opt/site-jupyter" ')


def test_binder_start_uses_the_same_course_config_as_make_lab(tmp_path):
    make_env, _ = support.lab_command(8888)
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"JUPYTER_CONFIG_PATH", "MEDLAB_INSTRUCTOR"}
        },
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "MEDLAB_HOME": str(tmp_path / "home"),
        "MEDLAB_DATA": str(tmp_path / "data"),
    }
    show = ["sh", "-c", 'echo "[$JUPYTER_CONFIG_PATH]"']
    start = str(support.REPO / "binder" / "start")
    trainee = subprocess.run([start, *show], env=env, capture_output=True, text=True, timeout=600)
    assert trainee.returncode == 0, trainee.stderr
    assert trainee.stdout.strip().splitlines()[-1] == f"[{make_env['JUPYTER_CONFIG_PATH']}]"
    instructor = subprocess.run(
        [start, *show],
        env={**env, "MEDLAB_INSTRUCTOR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert instructor.stdout.strip().splitlines()[-1] == "[]"
