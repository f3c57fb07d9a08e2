"""Helpers shared by the test suite (import as ``import support``)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on ``host:port`` now."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def stop_process(proc: Any, timeout: float = 30.0) -> None:
    """Terminate a server process the test started; kill it if it does not end in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> bool:
    """Poll ``predicate`` until it is true; False after ``timeout`` seconds (generous on purpose)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def sample_files() -> list[Path]:
    """Every .dcm file of pydicom's test files and of pydicom-data (a plain glob: fast, offline)."""
    import pydicom.data

    base = Path(pydicom.data.__file__).parent
    found = list((base / "test_files").rglob("*.dcm"))
    try:
        import data_store  # pydicom-data's package

        found += list((Path(data_store.__file__).parent / "data").glob("*.dcm"))
    except ImportError:
        pass
    return sorted(found, key=lambda p: (p.name, str(p)))


def same_dataset(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences between two pydicom data sets, element by element (empty: the same).

    Group lengths (gggg,0000), Data Set Trailing Padding (FFFC,FFFC) and trailing NUL/space
    padding are ignored: a DCMTK or PACS round trip may drop the first two and re-pad values.
    """
    diffs = []
    ignore = {0xFFFCFFFC}
    tags = {t for t in (*a.keys(), *b.keys()) if t.element != 0 and t not in ignore}
    for tag in sorted(tags):
        if tag not in a or tag not in b:
            diffs.append(f"{path}{tag} only in one")
            continue
        va, vb = a[tag].value, b[tag].value
        if a[tag].VR == "SQ":
            if len(va) != len(vb):
                diffs.append(f"{path}{tag} has {len(va)} vs {len(vb)} items")
            for ia, ib in zip(va, vb, strict=False):
                diffs += same_dataset(ia, ib, f"{path}{tag}>")
        elif isinstance(va, bytes) or isinstance(vb, bytes):
            raw = [v if isinstance(v, bytes) else b"" if v is None else None for v in (va, vb)]
            if None in raw or raw[0].rstrip(b"\x00 ") != raw[1].rstrip(b"\x00 "):
                diffs.append(f"{path}{tag} bytes differ")
        elif str(va).rstrip("\x00 ") != str(vb).rstrip("\x00 "):
            diffs.append(f"{path}{tag} {va!r} != {vb!r}")
    return diffs


def make_dry_run(*args: str) -> list[str]:
    """The commands ``make ARGS`` would run (``-n``: nothing is executed, nothing installed)."""
    import subprocess

    out = subprocess.run(
        ["make", "-n", "--no-print-directory", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()


def dcmtk_env() -> dict[str, str]:
    """Environment for DCMTK processes: TCP_NODELAY=1, or Nagle makes them crawl."""
    return {**os.environ, "TCP_NODELAY": "1"}


LAB_TOKEN = "medlab-browser-test"


def wait_for_text(page, selector: str, text: str, timeout: int = 60_000) -> None:
    """In the browser, wait until an element matching ``selector`` contains ``text``."""
    page.wait_for_function(
        """([sel, want]) => [...document.querySelectorAll(sel)]
            .some(el => el.textContent.includes(want))""",
        arg=[selector, text],
        timeout=timeout,
    )


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


# ---------------------------------------------------------------- HL7 over MLLP
def read_frame(sock, timeout: float = 30.0) -> str:
    """Read one MLLP frame (an ACK) from ``sock`` and return its text."""
    from medlab.hl7.mllp import FrameReader

    sock.settimeout(timeout)
    reader = FrameReader()
    while True:
        data = sock.recv(4096)
        assert data, "connection closed without an ACK"
        frames = [p for kind, p in reader.feed(data) if kind == "frame"]
        if frames:
            return frames[0].decode()


def msa(ack_text: str) -> list[str]:
    """The fields of an acknowledgement's MSA segment."""
    seg = next(s for s in ack_text.split("\r") if s.startswith("MSA"))
    return seg.split("|")


# ---------------------------------------------------------------- pydicom's odd test files
#: No preamble / 'DICM' (bare data sets): refused without force=True.
NO_META = {
    "OT-PAL-8-face.dcm",
    "ExplVR_BigEndNoMeta.dcm",
    "ExplVR_LitEndNoMeta.dcm",
    "no_meta.dcm",
    "rtstruct.dcm",
}
#: Starts with a stray byte: with force=True the first "element" claims 173 MB.
GARBAGE_FORCED = {"no_meta.dcm"}
#: Cut short on purpose in pydicom's test suite.
TRUNCATED = {
    "MR_truncated.dcm",
    "emri_small_jpeg_2k_lossless_too_short.dcm",
    "rtplan_truncated.dcm",
}
