"""Binder without Docker: repo2docker's generated build, and the scripts run directly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import support

BIN = Path(sys.executable).parent


def test_repo2docker_uses_the_binder_folder(tmp_path):
    repo2docker = BIN / "repo2docker"
    support.require(repo2docker.exists(), "jupyter-repo2docker is not installed (test extra)")
    out = subprocess.run(
        [
            str(repo2docker),
            "--no-build",
            "--debug",
            "--user-id",
            "1000",
            "--user-name",
            "jovyan",
            str(support.REPO),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    dockerfile = out.stdout + out.stderr
    assert '--file "binder/environment.yml"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile
    assert "dcmtk" in dockerfile  # from binder/apt.txt


def _env(tmp_path):
    return {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "MEDLAB_DATA": str(tmp_path / "data"),
        "MEDLAB_HOME": str(tmp_path / "home"),
        "HOME": str(tmp_path),
        "MEDLAB_OHIF_DIST": str(tmp_path / "ohif" / "dist"),
    }


@pytest.mark.slow
def test_postbuild_builds_the_sample_data_and_fetches_the_viewer(tmp_path):
    out = subprocess.run(
        ["bash", str(support.REPO / "binder" / "postBuild")],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert (tmp_path / "data" / "ct_phantom").is_dir()
    # The OHIF viewer, fetched from npm where medlab.net.dicomweb.viewer looks for it.
    assert (tmp_path / "ohif" / "dist" / "index.html").is_file()
    assert not (tmp_path / "ohif" / "dist" / "ort").exists()


def test_start_prepares_the_home_and_hands_over(tmp_path):
    shutil.copytree(support.REPO / "binder", tmp_path / "binder")
    out = subprocess.run(
        [str(support.REPO / "binder" / "start"), "sh", "-c", 'echo "ran with $MEDLAB_HOME"'],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(f"ran with {tmp_path / 'home'}")
    assert (tmp_path / "home").is_dir()


def test_start_passes_the_exit_code_through(tmp_path):
    out = subprocess.run(
        [str(support.REPO / "binder" / "start"), "false"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 1
