"""Benchmark: the PACS's resident memory while it stores and retrieves one very large object.

A multi-frame uncompressed instance of about 800 MB (written to a temp dir in
chunks, never held whole) is sent by DCMTK ``storescu`` to ``medlab pacs
serve`` (its own process), then fetched back by DCMTK ``getscu`` (C-GET) and
moved by DCMTK ``movescu`` to a DCMTK ``storescp`` (C-MOVE). The server's
resident memory is read from /proc: its idle RSS after start, and its peak
(VmHWM) after the C-STORE, the C-GET and the C-MOVE. Target (issue 15 §3): the peak
stays within idle + 100 MB. DCMTK storescp receiving the same object is printed
beside it as a reference. The retrieved copy's pixel data is compared with the
original by SHA-256 (intact is checked, not assumed).

Usage: .venv/bin/python bench/pacs_memory.py [--mb 800]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STORESCU = "/usr/bin/storescu"  # DCMTK, never pynetdicom's look-alike in .venv/bin
GETSCU = "/usr/bin/getscu"
MOVESCU = "/usr/bin/movescu"
STORESCP = "/usr/bin/storescp"
ENV = {**os.environ, "TCP_NODELAY": "1"}
PIXEL_DATA = 0x7FE00010


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current VmRSS, peak VmHWM) of a process, MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def write_big_instance(path: Path, megabytes: int) -> dict[str, str]:
    """A multi-frame uncompressed Secondary Capture of ``megabytes`` MB, written in chunks."""
    import numpy as np
    import pydicom
    from pydicom import Dataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rows, columns = 1024, 1024
    frame = rows * columns * 2
    frames = max(1, megabytes * 2**20 // frame)
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word SC
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = "BIG"
    ds.PatientName = "Big^Object"
    ds.Modality = "OT"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, columns
    ds.NumberOfFrames = frames
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    rng = np.random.default_rng(15)
    digest = hashlib.sha256()
    with open(path, "ab") as fh:  # Pixel Data is the last element: append it in chunks
        fh.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, frames * frame))
        for _ in range(frames):
            chunk = rng.integers(0, 4096, size=rows * columns, dtype="<u2").tobytes()
            digest.update(chunk)
            fh.write(chunk)
    return {
        "study": str(ds.StudyInstanceUID),
        "sop": str(ds.SOPInstanceUID),
        "sha256": digest.hexdigest(),
        "frames": str(frames),
    }


def pixel_sha256(path: Path) -> str:
    """SHA-256 of a file's Pixel Data value, read in chunks (the file is never loaded)."""
    import pydicom

    ds = pydicom.dcmread(path, defer_size=1024)
    raw = ds.get_item(PIXEL_DATA, keep_deferred=True)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(raw.value_tell)
        left = raw.length
        while left:
            chunk = fh.read(min(left, 1 << 22))
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def run_dcmtk(tool: str, *args: str) -> float:
    """Run a DCMTK client to completion; its wall time in seconds (RuntimeError if it failed)."""
    t0 = time.perf_counter()
    out = subprocess.run([tool, *args], env=ENV, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{Path(tool).name} failed: {out.stderr[-400:]}")
    return time.perf_counter() - t0


def medlab_run(work: Path, big: Path, info: dict[str, str]) -> dict[str, float | str]:
    port = free_port()
    dest_port = free_port()
    moved = work / "moved"
    moved.mkdir()
    dest = subprocess.Popen(
        [STORESCP, "-aet", "DEST", "-od", str(moved), str(dest_port)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "medlab",
            "pacs",
            "serve",
            "--root",
            str(work / "pacs"),
            "--port",
            str(port),
            "--log",
            "none",
            "--peer",
            f"DEST=127.0.0.1:{dest_port}",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, server)
        wait_port(dest_port, dest)
        subprocess.run(
            ["/usr/bin/echoscu", "-aec", "MEDLAB", "127.0.0.1", str(port)],
            env=ENV,
            check=True,
            capture_output=True,
        )
        time.sleep(1.0)
        idle, _ = rss_mib(server.pid)
        study = [
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            f"StudyInstanceUID={info['study']}",
        ]
        store_s = run_dcmtk(STORESCU, "-aec", "MEDLAB", "127.0.0.1", str(port), str(big))
        after_store, peak_store = rss_mib(server.pid)
        got = work / "got"
        got.mkdir()
        get_s = run_dcmtk(GETSCU, "-aec", "MEDLAB", "-od", str(got), *study, "127.0.0.1", str(port))
        after_get, peak_get = rss_mib(server.pid)
        move_s = run_dcmtk(
            MOVESCU, "-aec", "MEDLAB", "-aem", "DEST", *study, "127.0.0.1", str(port)
        )
        _after_move, peak_move = rss_mib(server.pid)
        files = [*got.iterdir(), *moved.iterdir()]
        intact = len(files) == 2 and all(pixel_sha256(f) == info["sha256"] for f in files)
        stored = next((work / "pacs").rglob(f"{info['sop']}.dcm"))
        stored_intact = pixel_sha256(stored) == info["sha256"]
    finally:
        server.terminate()
        server.wait(60)
        dest.terminate()
        dest.wait(30)
    return {
        "idle": idle,
        "peak_store": peak_store,
        "peak_get": peak_get,
        "peak_move": peak_move,
        "move_s": move_s,
        "after_get": after_get,
        "store_s": store_s,
        "get_s": get_s,
        "intact": "yes" if intact and stored_intact else "NO",
    }


def storescp_run(work: Path, big: Path) -> tuple[float, float]:
    port = free_port()
    out = work / "storescp"
    out.mkdir()
    proc = subprocess.Popen(
        [STORESCP, "-od", str(out), str(port)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc)
        idle, _ = rss_mib(proc.pid)
        subprocess.run(
            [STORESCU, "127.0.0.1", str(port), str(big)], env=ENV, check=True, capture_output=True
        )
        _, peak = rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return idle, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=800, help="size of the instance, MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="medlab-bench-mem-") as tmp:
        work = Path(tmp)
        big = work / "big.dcm"
        info = write_big_instance(big, args.mb)
        size = big.stat().st_size / 2**20
        print(
            f"one multi-frame uncompressed instance: {info['frames']} frames of 1024x1024 "
            f"16-bit, {size:.0f} MiB; load average {os.getloadavg()[0]:.1f}"
        )
        ref_idle, ref_peak = storescp_run(work, big)
        print(f"DCMTK storescp: idle {ref_idle:.0f} MiB, peak after the C-STORE {ref_peak:.0f} MiB")
        r = medlab_run(work, big, info)
        limit = r["idle"] + 100  # type: ignore[operator]
        for label, key, seconds in (
            ("C-STORE (storescu)", "peak_store", "store_s"),
            ("C-GET (getscu)", "peak_get", "get_s"),
            ("C-MOVE (movescu)", "peak_move", "move_s"),
        ):
            peak = r[key]
            verdict = "within" if peak <= limit else "OVER"  # type: ignore[operator]
            print(
                f"medlab PACS {label:<19} peak RSS {peak:6.0f} MiB = idle {r['idle']:.0f} + "
                f"{peak - r['idle']:.0f} MiB ({peak / size:.2f}x the object; "  # type: ignore[operator]
                f"{verdict} idle + 100 MB) in {r[seconds]:.1f} s"
            )
        print(
            f"stored, retrieved and moved pixel data identical to the original (SHA-256): {r['intact']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
