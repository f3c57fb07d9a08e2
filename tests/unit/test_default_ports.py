"""The CLI services' default ports: the registered one, or a free one when it is taken
(on a shared hub another user's service may hold it); an explicit port is never changed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys

import pytest


@contextlib.contextmanager
def held(port: int):
    """Hold ``port`` on 127.0.0.1 (or find it already held by someone else)."""
    sock = socket.socket()
    # A TIME-WAIT left on the port by an earlier test must not stop us holding it.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except OSError:
        pass  # already in use: just as good for these tests
    try:
        yield
    finally:
        sock.close()


def first_lines(args, medlab_home, wanted: str, limit: int = 6) -> list[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "medlab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "MEDLAB_HOME": str(medlab_home)},
    )
    lines = []
    try:
        for _ in range(limit):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if wanted in line:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return lines


@pytest.mark.parametrize(
    "command, default, ready",
    [
        (["pacs", "serve"], 11112, "listening on"),
        (["hl7", "listen"], 2575, "Listening for HL7"),
    ],
)
def test_a_taken_default_port_falls_back_to_a_free_one(
    command, default, ready, medlab_home, tmp_path
):
    root = (
        ["--root", str(tmp_path / "pacs")]
        if command[0] == "pacs"
        else ["--store", str(tmp_path / "hl7")]
    )
    with held(default):
        out = "".join(first_lines([*command, *root], medlab_home, ready))
    assert f"port {default} is in use; choosing a free port instead" in out
    port = int(re.search(r"127\.0\.0\.1:(\d+)", out).group(1))
    assert port != default


@pytest.mark.parametrize("command", [["pacs", "serve"], ["hl7", "listen"]])
def test_an_explicit_busy_port_is_an_error(command, medlab_home, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        root = (
            ["--root", str(tmp_path / "p")]
            if command[0] == "pacs"
            else ["--store", str(tmp_path / "h")]
        )
        out = subprocess.run(
            [sys.executable, "-m", "medlab", *command, "--port", str(port), *root],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MEDLAB_HOME": str(medlab_home)},
        )
    assert out.returncode == 1
    assert out.stderr.startswith("medlab: ") and str(port) in out.stderr
    assert "Traceback" not in out.stderr
