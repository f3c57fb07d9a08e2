"""The `medlab` command and the promise that `import medlab` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from medlab import cli
from medlab.errors import MedlabError

HEAVY = (
    "pydicom",
    "pynetdicom",
    "numpy",
    "matplotlib",
    "ipywidgets",
    "hl7apy",
    "pandas",
    "IPython",
)


def run(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "medlab", *args], capture_output=True, text=True, timeout=120, **kw
    )


@pytest.mark.parametrize(
    "statement",
    [
        "import medlab",
        "import medlab.check",
        "import medlab.data",
        "import medlab.cli",
        "import medlab.course",
    ],
)
def test_light_imports_pull_in_no_heavy_library(statement):
    code = f"{statement}; import sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & set(HEAVY), f"{statement} imports {loaded & set(HEAVY)}"


def test_rooms_load_on_first_use():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import medlab, sys; medlab.check.registry(); print(callable(medlab.doctor))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"


def test_help_lists_the_subcommands():
    out = run("--help")
    assert out.returncode == 0
    for name in ("doctor", "data"):
        assert name in out.stdout


def test_doctor_reports_every_check(medlab_home):
    out = run("doctor", env={**__import__("os").environ, "MEDLAB_HOME": str(medlab_home)})
    assert out.returncode == 0, out.stderr
    for item in ("Python", "pydicom", "pynetdicom", "hl7apy", "sample data", "DCMTK", "port 11112"):
        assert item in out.stdout
    assert str(medlab_home) in out.stdout


def test_doctor_strict_fails_and_says_how_to_fix_a_missing_package(monkeypatch):
    import medlab.health as health

    monkeypatch.setattr(health, "PACKAGES", (("no-such-package-medlab", "testing"),))
    report = health.doctor()
    assert not report.ok
    assert "pip install no-such-package-medlab" in repr(report)
    assert "pip install no-such-package-medlab" in report._repr_html_()
    assert cli.main(["doctor", "--strict"]) == 1


def test_doctor_flags_a_busy_port(monkeypatch):
    import socket

    import medlab.health as health

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        monkeypatch.setattr(health, "DEFAULT_PORTS", {"test service": port})
        line = [c for c in health.checks() if c.name == f"port {port}"][0]
    assert not line.ok and "in use" in line.detail


def test_a_medlab_error_prints_one_line_not_a_traceback(capsys, monkeypatch):
    def boom(args):
        raise MedlabError(
            "The sample is missing", where="data/ct_phantom", fix="Run `medlab data build`."
        )

    import medlab.health as health

    monkeypatch.setattr(health, "_run", boom)
    assert cli.main(["doctor"]) == 1
    err = capsys.readouterr().err
    assert err == "medlab: The sample is missing (at data/ct_phantom). Run `medlab data build`.\n"


def test_medlab_error_hides_the_traceback_in_ipython():
    err = MedlabError("Not a DICOM file", where="byte 128 of x.txt", fix="Check the path.")
    assert err._render_traceback_() == [
        "MedlabError: Not a DICOM file (at byte 128 of x.txt). Check the path."
    ]


def test_python_dash_m_and_console_script_agree():
    import shutil

    script = shutil.which("medlab", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert script, "the medlab console script is installed with the package"
    a = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert a.stdout == run("--version").stdout and a.stdout.startswith("medlab ")
