"""A real JupyterLab, driven in Debian's Chromium by Python Playwright.

One JupyterLab server per test session, started as `make lab` starts it (the command comes
from `make lab-command`; bound to 127.0.0.1, fresh settings, no network calls), one fresh
browser profile. Lesson tests call
``support.run_notebook(lab_page, lab, "01_what_is_dicom.ipynb")`` to open a lesson, wait
for the kernel, run all cells, and then interact with its widgets.

Facts this relies on (shared/notes/testing-notebooks.md): Playwright cannot
download its own browser here, so it is pointed at /usr/bin/chromium; the
status bar must read "Idle" before Run All, or Run All is sometimes lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import support

pytestmark = pytest.mark.browser

TOKEN = support.LAB_TOKEN


def _write_settings(settings_dir: Path) -> None:
    tracker = settings_dir / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"autoStartDefaultKernel": True})
    )
    notes = settings_dir / "@jupyterlab" / "apputils-extension"
    notes.mkdir(parents=True)
    (notes / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


@contextlib.contextmanager
def running_lab(base: Path, *, instructor: bool = False):
    """JupyterLab started exactly as `make lab` starts it, on a copy of notebooks/.

    The command and its environment come from `make lab-command` (support.lab_command): the
    trainees' lab, or with ``instructor=True`` the one `make lab INSTRUCTOR=1` starts. It runs
    from ``base``, where the copy sits as ``notebooks`` (the `--ServerApp.root_dir` make passes),
    so the originals stay untouched. Only what a test needs is added: no browser, a fixed token,
    no network calls, fresh settings and runtime folders.
    """
    support.chromium()
    root = base / "notebooks"
    shutil.copytree(support.NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = base / "settings"
    _write_settings(settings)
    port = support.free_port()
    make_env, command = support.lab_command(port, instructor=instructor)
    env = {
        **{k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"},
        **make_env,
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "jdata"),
        # The lab's kernels record progress here, apart from anything else this worker ran.
        "MEDLAB_HOME": str(base / "medlab-home"),
        "PYTHONUNBUFFERED": "1",
    }
    extra = [
        "--no-browser",
        f"--IdentityProvider.token={TOKEN}",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    if "--allow-root" not in command:
        extra.append("--allow-root")
    log = open(base / "lab.log", "w")
    proc = subprocess.Popen(
        command + extra, cwd=base, stdout=log, stderr=subprocess.STDOUT, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # Generous: on a loaded shared host (load ~17 on 2 cores) JupyterLab took over 60 s to
        # answer; a server that dies is reported at once by proc.poll() below.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((base / "lab.log").read_text()) from None
                time.sleep(0.3)
        else:
            raise RuntimeError("JupyterLab did not start:\n" + (base / "lab.log").read_text())
        yield {"url": url, "root": root, "log": base / "lab.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """The trainees' JupyterLab (as `make lab` starts it), one per test session."""
    with running_lab(tmp_path_factory.mktemp("lab")) as info:
        yield info


@pytest.fixture(scope="module")
def instructor_lab(tmp_path_factory):
    """The instructor's JupyterLab (as `make lab INSTRUCTOR=1` starts it): nbgrader's tools on."""
    with running_lab(tmp_path_factory.mktemp("instructor-lab"), instructor=True) as info:
        yield info


@pytest.fixture(scope="session")
def chromium_context(tmp_path_factory):
    """Debian's Chromium with a fresh profile, off the network (one per test session)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=support.chromium(),
            headless=True,
            viewport={"width": 1400, "height": 1000},
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield context
        context.close()


@pytest.fixture(scope="session")
def browser_context(lab, chromium_context):
    """The browser the lesson tests drive, once JupyterLab runs."""
    return chromium_context


@pytest.fixture
def lab_page(lab, browser_context):
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    yield page
    page.close()
