"""pyproject.toml, environment.yml and binder/environment.yml name the same dependencies."""

from __future__ import annotations

import re
import sys

import support

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

SPEC = re.compile(r"^\s*-\s+([A-Za-z0-9_.\-]+)\s*([<>=!~][^;]*)?(;.*)?$")


def pyproject_deps() -> dict[str, str]:
    data = tomllib.loads((support.REPO / "pyproject.toml").read_text())
    deps = {}
    for dep in data["project"]["dependencies"]:
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*([^;]*)(;.*)?", dep).groups()[:2]
        deps[name.lower()] = spec.replace(" ", "")
    return deps


def yaml_pip_deps(path) -> dict[str, str]:
    """The pip: section of a conda environment file (a deliberately small parser)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    deps = {}
    for line in lines[start + 1 :]:
        if not line.startswith(" " * 6):
            break
        entry = line.strip()
        if entry.startswith("- -e") or entry.startswith("#"):
            continue
        match = SPEC.match(line)
        assert match, f"cannot read {line!r} in {path}"
        deps[match.group(1).lower()] = (match.group(2) or "").replace(" ", "")
    return deps


def test_root_environment_matches_pyproject():
    assert yaml_pip_deps(support.REPO / "environment.yml") == pyproject_deps()


def test_binder_environment_matches_pyproject():
    assert yaml_pip_deps(support.REPO / "binder" / "environment.yml") == pyproject_deps()


def test_root_environment_installs_medlab_itself():
    assert "- -e ." in (support.REPO / "environment.yml").read_text()


def test_binder_apt_has_dcmtk():
    assert "dcmtk" in (support.REPO / "binder" / "apt.txt").read_text().split()


def test_the_parser_notices_drift(tmp_path):
    drifted = (
        (support.REPO / "binder" / "environment.yml")
        .read_text()
        .replace("pydicom>=3.0,<4", "pydicom>=2")
    )
    (tmp_path / "environment.yml").write_text(drifted)
    assert yaml_pip_deps(tmp_path / "environment.yml") != pyproject_deps()
