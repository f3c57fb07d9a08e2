"""``medlab hl7 ...`` as a user runs it (subprocesses)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import support

import medlab.hl7 as hl7
from medlab.hl7 import log, samples

MEDLAB = [sys.executable, "-m", "medlab"]


def run(*args, **kw):
    return subprocess.run(
        [*MEDLAB, *args], capture_output=True, text=True, timeout=60, cwd=str(support.REPO), **kw
    )


def test_dissect_and_summary(tmp_path):
    path = tmp_path / "two.hl7"
    log.write_log(path, [samples.ADT_A01, samples.ORU_R01])
    out = run("hl7", "dissect", str(path))
    assert out.returncode == 0, out.stderr
    assert "# message 2" in out.stdout and "PID-5.1" in out.stdout and "Patient Name" in out.stdout
    out = run("hl7", "summary", str(path))
    assert out.returncode == 0 and out.stdout.startswith("2 messages")
    assert "ORU^R01" in out.stdout


def test_dissect_of_a_bad_file_is_one_plain_line(tmp_path):
    path = tmp_path / "bad.hl7"
    path.write_text("PID|1||42\n")
    out = run("hl7", "dissect", str(path))
    assert out.returncode == 1
    assert out.stderr.startswith("medlab: The message does not start with an MSH segment")
    assert "Traceback" not in out.stderr


def test_listen_and_send(tmp_path):
    port = support.free_port()
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [*MEDLAB, "hl7", "listen", "--port", str(port), "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(support.REPO),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert "Listening" in proc.stdout.readline()
        path = tmp_path / "msgs.hl7"
        log.write_log(path, [samples.ADT_A01, samples.ADT_A06.replace("ADT^A06", "QRY^A19")])
        out = run("hl7", "send", str(path), "--port", str(port))
        assert out.stdout.splitlines()[0] == "message 1: MSA|AA|01052901"
        assert out.stdout.splitlines()[1].startswith("message 2: MSA|AR|CH0007")
        assert out.returncode == 2  # not everything was accepted
        assert len(list(store.glob("*.hl7"))) == 2
        assert hl7.parse(sorted(store.glob("*.hl7"))[0].read_bytes()).name == "ADT_A01"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    assert "Stopped after 2 message(s)" in out
    time.sleep(0)
