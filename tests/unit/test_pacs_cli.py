"""``medlab pacs …`` as a process: serve, stop on SIGTERM, survive SIGKILL, ls, worklist, conformance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pydicom
import pytest
import support
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage, Verification

from medlab.net.samples import make_instance

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def medlab(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "medlab", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=support.REPO,
        env={**os.environ, "MEDLAB_HOME": str(home)},
    )


class Server:
    """``python -m medlab pacs serve`` in a subprocess."""

    def __init__(self, root: Path, port: int, *extra: str) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "medlab",
                "pacs",
                "serve",
                "--root",
                str(root),
                "--port",
                str(port),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=support.REPO,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.ready.wait(30), f"server did not start: {self.lines}"

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))
            if "listening on" in line:
                self.ready.set()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(30)


def test_serve_logs_events_and_stops_cleanly_on_sigterm(tmp_path):
    port = support.free_port()
    server = Server(tmp_path / "pacs", port)
    try:
        ae = AE(ae_title="ECHOSCU")
        ae.add_requested_context(Verification)
        assoc = ae.associate("127.0.0.1", port, ae_title="MEDLAB")
        assert assoc.send_c_echo().Status == 0
        assoc.release()
        time.sleep(0.3)
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0
    text = "\n".join(server.lines)
    assert f"listening on 127.0.0.1:{port}" in text
    assert "ECHOSCU -> MEDLAB: A-ASSOCIATE-RQ" in text
    assert "MEDLAB -> ECHOSCU: C-ECHO-RSP  id=1  0x0000 Success" in text
    assert server.lines[-1] == "medlab PACS stopped"
    assert server.proc.stderr.read() == ""  # type: ignore[union-attr]


def test_serve_refuses_a_busy_port(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = medlab(
            "pacs", "serve", "--root", str(tmp_path / "p"), "--port", str(port), home=tmp_path
        )
    assert out.returncode == 1
    assert out.stderr.startswith("medlab: The PACS cannot listen")
    assert "Traceback" not in out.stderr


def test_serve_on_a_locked_folder_reports_the_lock_alone(tmp_path):
    """Issue 15 §5: the lock is the reason, not a port; no "port … in use" line first."""
    from medlab.net import PACS

    with PACS(root=tmp_path / "p", port=0):
        out = medlab("pacs", "serve", "--root", str(tmp_path / "p"), home=tmp_path)
    assert out.returncode == 1
    assert "in use" not in out.stdout, out.stdout
    assert out.stdout == ""
    assert out.stderr.startswith("medlab: "), out.stderr
    assert "lock" in out.stderr.lower() or "already" in out.stderr.lower(), out.stderr
    assert "Traceback" not in out.stderr


def test_sigkill_mid_transfer_then_restart_is_consistent(tmp_path):
    """Kill -9 while 512x512 images stream in; the restarted PACS has only whole, indexed files."""
    root = tmp_path / "pacs"
    port = support.free_port()
    server = Server(root, port, "--log", "none")
    images = [make_instance(1, 1, 1, i, rows=512, columns=512) for i in range(1, 101)]
    acked: list[str] = []

    def send() -> None:
        ae = AE(ae_title="MODALITY")
        ae.dimse_timeout = ae.network_timeout = 5
        ae.add_requested_context(CTImageStorage)
        assoc = ae.associate("127.0.0.1", port, ae_title="MEDLAB")
        try:
            for ds in images:
                if assoc.send_c_store(ds).get("Status") == 0:
                    acked.append(ds.SOPInstanceUID)
        except Exception:  # noqa: BLE001 - the server vanishes under us
            pass

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 30
    while len(acked) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.stop(signal.SIGKILL)
    sender.join(30)
    assert 5 <= len(acked) < len(images)

    restarted = Server(root, port, "--log", "none")
    try:
        ls = medlab("pacs", "ls", "--root", str(root), home=tmp_path)
    finally:
        assert restarted.stop() == 0
    import sqlite3

    db = sqlite3.connect(root / "index.sqlite")
    rows = db.execute("SELECT sop_uid, path, size FROM instances").fetchall()
    db.close()
    indexed = {uid for uid, _, _ in rows}
    assert set(acked) <= indexed  # every acknowledged instance survived
    for _uid, rel, size in rows:
        path = root / rel
        assert path.stat().st_size == size
        pydicom.dcmread(path).pixel_array  # noqa: B018 - readable to the last pixel
    on_disk = {p.stem for p in root.rglob("*.dcm")}
    assert on_disk == indexed
    assert not list(root.rglob("*.tmp"))
    assert f"{len(rows)} instance(s)" in ls.stdout


def test_ls_worklist_and_conformance(tmp_path):
    root = tmp_path / "pacs"
    out = medlab("pacs", "ls", "--root", str(root), home=tmp_path)
    assert out.returncode == 0 and "no instances stored" in out.stdout
    from medlab.net import PACS

    pacs = PACS(root=root)
    pacs._require_store().put_dataset(make_instance(1, 1, 1, 1))
    pacs._require_store().put_dataset(make_instance(1, 1, 2, 1, modality="MR"))
    pacs.stop()
    out = medlab("pacs", "ls", "--root", str(root), home=tmp_path)
    assert out.stdout.splitlines()[0] == "Patient DOE^P1  [ID PAT0001]"
    assert "    Series 2  MR  1 instance(s)  series 2" in out.stdout
    assert out.stdout.splitlines()[-1] == "1 patient(s), 1 study(ies), 2 instance(s)"

    add = medlab(
        "pacs",
        "worklist",
        "add",
        "--root",
        str(root),
        "--patient-name",
        "DOE^JANE",
        "--patient-id",
        "P9",
        "--modality",
        "CT",
        "--station",
        "CT01",
        "--date",
        "20260105",
        "--time",
        "0930",
        home=tmp_path,
    )
    assert add.returncode == 0 and add.stdout.strip() == "SPS0001"
    listed = medlab("pacs", "worklist", "ls", "--root", str(root), home=tmp_path)
    assert "SPS0001  20260105 0930  CT  CT01  DOE^JANE [P9]" in listed.stdout

    conf = medlab(
        "pacs",
        "conformance",
        "--aet",
        "ARCHIVE",
        "--peer",
        "STORESCP=127.0.0.1:11113",
        "VIEWER=127.0.0.1:11114",
        "--allow",
        "CT01",
        "--allow",
        "MR01",
        home=tmp_path,
    )
    assert conf.returncode == 0
    assert "AE title ............ ARCHIVE" in conf.stdout
    assert "STORESCP         127.0.0.1:11113" in conf.stdout
    assert "VIEWER           127.0.0.1:11114" in conf.stdout
    assert "Calling AE titles ... CT01, MR01" in conf.stdout
    assert "1.2.840.10008.5.1.4.31" in conf.stdout and "CT Image Storage" in conf.stdout
    bad = medlab("pacs", "conformance", "--peer", "nonsense", home=tmp_path)
    assert bad.returncode == 1 and bad.stderr.startswith("medlab: Cannot read the peer")


def test_light_import():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, medlab.net; medlab.net.PACSConfig; "
            "print('pynetdicom' in sys.modules, 'pydicom' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        cwd=support.REPO,
    )
    assert out.stdout.split() == ["False", "False"]
