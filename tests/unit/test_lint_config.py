"""Formatting is enforced: `make lint` (which `make test` runs first) and pre-commit agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import support
import yaml

RUFF = Path(sys.executable).parent / "ruff"


def _lint_paths() -> list[str]:
    text = (support.REPO / "Makefile").read_text()
    return re.search(r"^LINT_PATHS\s*:=\s*(.+)$", text, re.M).group(1).split()


def test_make_test_lints_before_it_tests():
    lines = support.make_dry_run("test")
    ruff_check = next(i for i, line in enumerate(lines) if "ruff check" in line)
    ruff_format = next(i for i, line in enumerate(lines) if "ruff format --check" in line)
    first_pytest = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert ruff_check < first_pytest and ruff_format < first_pytest
    paths = _lint_paths()
    assert {"medlab", "tests", "bench", "conftest.py"} <= set(paths)
    assert lines[ruff_check].split()[-len(paths) :] == paths
    assert lines[ruff_format].split()[-len(paths) :] == paths
    # the lessons' imports stay sorted too (ruff's isort rules on the notebooks' code cells)
    sort_notebooks = next(i for i, line in enumerate(lines) if "--select I notebooks" in line)
    assert sort_notebooks < first_pytest


def test_the_tree_is_lint_and_format_clean():
    paths = _lint_paths()
    check = subprocess.run(
        [str(RUFF), "check", *paths], cwd=support.REPO, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout[-3000:]
    fmt = subprocess.run(
        [str(RUFF), "format", "--check", *paths], cwd=support.REPO, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout[-3000:]


def test_pre_commit_runs_the_same_ruff_on_the_same_paths():
    config = yaml.safe_load((support.REPO / ".pre-commit-config.yaml").read_text())
    (repo,) = [r for r in config["repos"] if r["repo"].endswith("astral-sh/ruff-pre-commit")]
    version = subprocess.run([str(RUFF), "--version"], capture_output=True, text=True).stdout
    assert repo["rev"] == "v" + version.split()[1], "pin the ruff of the test environment"
    hooks = {hook["id"]: hook for hook in repo["hooks"]}
    assert {"ruff-check", "ruff-format"} <= set(hooks)
    for hook in hooks.values():
        files = re.compile(hook["files"])
        for path in _lint_paths():
            sample = path if path.endswith(".py") else f"{path}/x.py"
            assert files.search(sample), (hook["id"], sample)
        assert not files.search("notebooks/00_start_here.ipynb")
        assert not files.search("deploy/jupyterhub/jupyterhub_config.py")
