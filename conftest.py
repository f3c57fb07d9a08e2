"""Test-suite wide setup (tests and notebooks): every run has its own medlab home."""

from __future__ import annotations

import os
import tempfile

import pytest

# Before anything imports medlab: keep the developer's ~/.medlab out of the tests
# (each xdist worker gets its own home; notebook kernels inherit it).
os.environ["MEDLAB_HOME"] = tempfile.mkdtemp(prefix="medlab-test-home-")


@pytest.fixture
def medlab_home(tmp_path, monkeypatch):
    """A fresh, empty per-test medlab home."""
    home = tmp_path / "medlab-home"
    monkeypatch.setenv("MEDLAB_HOME", str(home))
    return home
