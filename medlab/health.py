"""``medlab doctor``: is everything the course needs installed, and what to fix.

Checks Python, each key package, the sample data, DCMTK, Chromium (for the
browser tests) and whether the default ports are free, and shows where this
user's medlab data lives. Every problem comes with the command that fixes it.
"""

from __future__ import annotations

import html
import importlib.metadata
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from medlab import paths

#: (distribution, why the course needs it)
PACKAGES: tuple[tuple[str, str], ...] = (
    ("jupyterlab", "runs the lessons"),
    ("ipywidgets", "interactive widgets"),
    ("pydicom", "reads and writes DICOM files"),
    ("pynetdicom", "DICOM networking and the bundled PACS"),
    ("hl7apy", "HL7 v2 message definitions"),
    ("matplotlib", "figures"),
    ("numpy", "pixel arrays"),
    ("pandas", "tables for analysis"),
    ("pydicom-data", "the larger real sample files"),
    ("highdicom", "presentation states and SR"),
    ("pylibjpeg", "decoding compressed pixel data"),
    ("pylibjpeg-libjpeg", "JPEG and JPEG-LS decoder"),
    ("pylibjpeg-openjpeg", "JPEG 2000 decoder"),
)

#: Ports the course uses by default (a lesson picks a free one when these are busy).
DEFAULT_PORTS = {"JupyterLab": 8888, "medlab PACS": 11112, "HL7 MLLP listener": 2575}


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _package(dist: str, why: str) -> Check:
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return Check(dist, False, f"missing ({why})", f"pip install {dist}   (or: make lab)")
    return Check(dist, True, version)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _dcmtk() -> Check:
    # Ask /usr/bin directly: pynetdicom installs look-alike `echoscu` scripts in the venv.
    for candidate in ("/usr/bin/echoscu", "/usr/local/bin/echoscu", "/opt/homebrew/bin/echoscu"):
        if Path(candidate).is_file():
            try:
                out = subprocess.run(
                    [candidate, "--version"], capture_output=True, text=True, timeout=10
                ).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            first = next((line for line in out.splitlines() if "dcmtk" in line.lower()), "")
            return Check("DCMTK", True, first.strip() or candidate)
    return Check(
        "DCMTK",
        False,
        "not found (optional: the command-line tools the lessons compare with)",
        "sudo apt-get install dcmtk   (macOS: brew install dcmtk)",
    )


def _sample_data() -> Check:
    folder = paths.data_dir()
    built = (
        (folder / ".built").exists()
        or any(folder.glob("*/MANIFEST.json"))
        or (folder / "MANIFEST.json").exists()
    )
    if built:
        return Check("sample data", True, "built")
    return Check("sample data", False, "not built yet", "medlab data build   (or: make lab)")


def _real_samples() -> Check:
    try:
        from medlab import data

        data.get_path("cr_mono1")
    except Exception as exc:  # reported, not raised: the doctor must always finish
        return Check("real samples", False, str(exc), "pip install pydicom-data")
    return Check("real samples", True, "pydicom and pydicom-data files present")


def _quarantined() -> list[Check]:
    """A line per PACS folder of this user where crash recovery set files aside."""
    from medlab.net.recovery import QUARANTINE, quarantine_count

    home = paths.home()
    found = []
    for pattern in ("pacs", "lessons/*", "capstone/*/pacs"):
        for root in sorted(home.glob(pattern)):
            count = quarantine_count(root)
            if count:
                found.append(
                    Check(
                        "PACS quarantine",
                        False,
                        f"{count} file(s) recovery could not index, in {root / QUARANTINE}",
                        "Read the log lines, re-send what you need (C-STORE), then delete them",
                    )
                )
    return found


def _home_private() -> Check:
    """Is the user's medlab home closed to other users of a shared host?"""
    home = paths.home_path()
    if not home.exists():
        return Check("private home", True, f"{home} will be created private (0700)")
    import os
    import stat

    info = home.stat()
    mode = stat.S_IMODE(info.st_mode)
    fix = f"chmod -R go-rwx {home}"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return Check("private home", False, f"{home} belongs to another user", fix)
    if mode & 0o077:
        return Check(
            "private home", False, f"{home} is readable by others (mode {mode:03o}, want 700)", fix
        )
    return Check("private home", True, f"{home} (mode {mode:03o})")


def checks() -> list[Check]:
    """Run every check and return the report lines in order."""
    py_ok = sys.version_info >= (3, 10)
    found = [
        Check(
            "Python",
            py_ok,
            sys.version.split()[0],
            "" if py_ok else "Install Python 3.10 or newer",
        )
    ]
    found += [_package(dist, why) for dist, why in PACKAGES]
    found += [_sample_data(), _real_samples(), _dcmtk(), _home_private(), *_quarantined()]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    found.append(
        Check(
            "Chromium",
            bool(chromium),
            "present" if chromium else "not found (only the browser tests need it)",
            "" if chromium else "sudo apt-get install chromium",
        )
    )
    for service, port in DEFAULT_PORTS.items():
        free = _port_free(port)
        found.append(
            Check(
                f"port {port}",
                free,
                f"free for {service}" if free else f"in use ({service} default)",
                ""
                if free
                else "Stop what uses it, or choose another port (lessons pick a free one)",
            )
        )
    return found


# ---- "Where your data lives" and "Your running services" (the class issue) ----------------
def your_data() -> list[tuple[str, str]]:
    """Where this user's files are, and which PACS / HL7 endpoint the lessons use.

    Every writable path is under the user's own medlab home (``$MEDLAB_HOME`` or
    ``~/.medlab``), so on a shared JupyterHub no two trainees share a folder; only
    the sample data may be shared, read-only.
    """
    home = paths.home()
    rows = [
        ("your medlab home", str(home)),
        ("PACS storage and index", str(home / "pacs")),
        ("HL7 message store", str(home / "hl7")),
        ("progress and service records", f"{home / 'progress.json'}, {home / 'run'}"),
        ("sample data (read-only, may be shared)", str(paths.data_dir())),
    ]
    try:
        from medlab import settings

        rows.append(("PACS the lessons use", str(settings.pacs())))
        rows.append(("HL7 endpoint the lessons use", str(settings.hl7())))
    except Exception as exc:  # noqa: BLE001 - a bad setting is reported, the doctor goes on
        rows.append(("PACS / HL7 setting", f"cannot be read: {exc}"))
    return rows


def your_services() -> list[str]:
    """This user's running medlab services (PACS, HL7 listener, ...), one line each."""
    try:
        from medlab import services

        return [service.describe() for service in services.running()]
    except Exception as exc:  # noqa: BLE001
        return [f"(cannot list them: {exc})"]


class Report:
    """The doctor's report: a table in a notebook, aligned text in a terminal."""

    def __init__(self, lines: list[Check]) -> None:
        self.lines = lines
        self.data = your_data()
        self.services = your_services()

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)

    def __repr__(self) -> str:
        width = max(len(line.name) for line in self.lines)
        rows = [
            f"{'ok ' if line.ok else 'FIX'}  {line.name:<{width}}  {line.detail}"
            + (f"\n     {'':<{width}}  -> {line.fix}" if line.fix and not line.ok else "")
            for line in self.lines
        ]
        rows.append("Where your data lives:")
        width = max(len(label) for label, _ in self.data)
        rows += [f"     {label:<{width}}  {value}" for label, value in self.data]
        rows.append("Your running medlab services:")
        rows += [f"     {line}" for line in self.services] or ["     none"]
        rows.append("All good." if self.ok else "Some items need attention (see -> lines).")
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'✅' if line.ok else '⚠️'}</td><td>{html.escape(line.name)}</td>"
            f"<td>{html.escape(line.detail)}</td><td><code>{html.escape(line.fix if not line.ok else '')}</code></td></tr>"
            for line in self.lines
        )
        return (
            '<table class="medlab-doctor"><thead><tr><th></th><th>Item</th><th>Status</th>'
            f"<th>Fix</th></tr></thead><tbody>{rows}</tbody></table>"
            '<p><b>Where your data lives</b></p><table class="medlab-doctor-data"><tbody>'
            + "".join(
                f"<tr><td>{html.escape(label)}</td><td><code>{html.escape(value)}</code></td></tr>"
                for label, value in self.data
            )
            + "</tbody></table><p><b>Your running medlab services</b></p><ul>"
            + (
                "".join(f"<li>{html.escape(line)}</li>" for line in self.services)
                or "<li>none</li>"
            )
            + "</ul>"
        )


def doctor() -> Report:
    """Check the installation; in a notebook the report shows as a table."""
    return Report(checks())


def register(subparsers) -> None:  # noqa: ANN001 - argparse's private type
    parser = subparsers.add_parser("doctor", help="check the installation and show what to fix")
    parser.add_argument("--strict", action="store_true", help="exit 1 if anything needs fixing")
    parser.set_defaults(func=_run)


def _run(args) -> int:  # noqa: ANN001
    report = doctor()
    print(repr(report))
    return 1 if args.strict and not report.ok else 0
