"""Helpers shared by the test suite (import as ``import support``)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

#: DCMTK by absolute path: pynetdicom installs look-alike console scripts
#: (echoscu, storescu, ...) into the venv, and those must never stand in for DCMTK.
DCMTK_BIN = Path("/usr/bin")
CHROMIUM = Path("/usr/bin/chromium")


def require(condition: bool, why: str) -> None:
    """Skip when a tool is missing locally, but FAIL under CI=true.

    CI must never go green by skipping the interop or browser tests.
    """
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{why} (CI=true: this test must not skip; .ci/run should install it)")
    pytest.skip(why)


def dcmtk(tool: str) -> str:
    """Absolute path of a DCMTK tool, skipping (or failing in CI) if absent."""
    path = DCMTK_BIN / tool
    require(
        path.is_file() and _is_dcmtk(path),
        f"DCMTK's {tool} is not installed (apt-get install dcmtk)",
    )
    return str(path)


def _is_dcmtk(path: Path) -> bool:
    import subprocess

    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10)
    except OSError:
        return False
    return "dcmtk" in (out.stdout + out.stderr).lower()


def chromium() -> str:
    require(CHROMIUM.is_file(), "Debian's chromium is not installed (apt-get install chromium)")
    return str(CHROMIUM)


def which(tool: str) -> str | None:
    return shutil.which(tool)


def free_port() -> int:
    """A port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dcmtk_env() -> dict[str, str]:
    """Environment for DCMTK processes: TCP_NODELAY=1, or Nagle makes them crawl."""
    return {**os.environ, "TCP_NODELAY": "1"}


LAB_TOKEN = "medlab-browser-test"


def run_notebook(page, lab: dict, notebook: str):
    """Open ``notebook`` in JupyterLab, wait for an idle kernel, run all cells."""
    page.goto(f"{lab['url']}/lab/tree/{notebook}?token={LAB_TOKEN}&reset")
    page.wait_for_selector(".jp-NotebookPanel")
    status = page.locator("#jp-main-statusbar")
    status.get_by_text("Idle").first.wait_for(timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    # Wait until every code cell has run: no "[*]" prompts remain and the kernel is idle.
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => !p.textContent.includes('*'))
                && prompts.some(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=180_000,
    )
    status.get_by_text("Idle").first.wait_for(timeout=180_000)
    return page


def lab_command(port: int, *, instructor: bool = False) -> tuple[dict[str, str], list[str]]:
    """The environment variables and command `make lab` runs, read from `make lab-command`.

    Tests start JupyterLab from this, so they cannot drift from `make lab`. Returns the
    ``NAME=value`` assignments in front of the command, and the command (its program made
    absolute, relative to the repository).
    """
    import re
    import shlex
    import subprocess

    require(which("make") is not None, "make is not installed")
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "lab-command", f"PORT={port}"]
        + (["INSTRUCTOR=1"] if instructor else []),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    words = shlex.split(out.stdout)
    assignments = {}
    while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
        name, value = words.pop(0).split("=", 1)
        assignments[name] = value
    words[0] = str(REPO / words[0])
    return assignments, words
