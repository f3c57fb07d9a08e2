"""Benchmark: C-STORE throughput of the medlab PACS against DCMTK storescp (and Orthanc).

DCMTK ``storescu`` sends the same CT-sized instances (512x512, 16-bit) over one
association to each server in turn, round after round (the machines are noisy:
only figures from the same run are compared; between runs the files are deleted
and the disk synced, so no server pays for the previous one's writeback). Every
DCMTK/Orthanc process gets
TCP_NODELAY=1 (without it they crawl at ~22 inst/s on loopback). The medlab
PACS runs as ``python -m medlab pacs serve`` in its own process, with the
index row committed before each Success.

The target that stands (see shared notes, pacs.md): medlab ≥ Orthanc's
throughput in the same run. Beside them: a pynetdicom server with the PACS's
tuning and a C-STORE handler that does nothing (the engine's ceiling), and with
``--to-disk`` the PACS receiving every C-STORE to disk (by default a data set is
held in memory up to 16 MiB and spilled to disk beyond, see
medlab/net/server/dimse.py: these 0.5 MB CTs stay in memory). It also
reports the medlab server's peak resident
memory while 8 concurrent storescu associations store 2,000 small instances
(target: < 300 MB).

Usage: .venv/bin/python bench/pacs_store.py [--count 300] [--rounds 3] [--no-orthanc] [--to-disk]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from medlab.net.samples import write_instances  # noqa: E402

STORESCU = "/usr/bin/storescu"  # DCMTK, never pynetdicom's look-alike in .venv/bin
STORESCP = "/usr/bin/storescp"
ORTHANC = shutil.which("Orthanc")
ENV = {**os.environ, "TCP_NODELAY": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Target:
    name = ""
    aet = "ANY"

    def start(self, workdir: Path) -> None: ...
    def stop(self) -> None: ...


class StoreSCP(Target):
    name, aet = "DCMTK storescp", "STORESCP"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        out = workdir / "storescp"
        out.mkdir()
        self.proc = subprocess.Popen(
            [STORESCP, "-aet", self.aet, "-od", str(out), str(self.port)],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class Medlab(Target):
    name, aet = "medlab PACS", "MEDLAB"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "medlab",
                "pacs",
                "serve",
                "--root",
                str(workdir / "medlab"),
                "--port",
                str(self.port),
                "--log",
                "none",
                "--aet",
                self.aet,
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class MedlabToDisk(Medlab):
    """The same server with every C-STORE received to disk (spill threshold 0).

    By default a data set spills to disk only past 16 MiB: the 300 CTs here are
    received in memory; this variant shows what receiving them to disk would cost.
    """

    name, aet = "medlab (all to disk)", "MEDLAB"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        code = (
            "import sys; import medlab.net.server.dimse as s; s.SPILL_THRESHOLD = 0; "
            "from medlab.cli import main; sys.exit(main(sys.argv[1:]))"
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                "pacs",
                "serve",
                "--root",
                str(workdir / "medlab"),
                "--port",
                str(self.port),
                "--log",
                "none",
                "--aet",
                self.aet,
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)


NOOP_SERVER = """
import sys
from pynetdicom import AE, _config, evt
from pynetdicom.presentation import AllStoragePresentationContexts
from medlab.net.server.engine import tune_association
_config.LOG_HANDLER_LEVEL = "none"
ae = AE(ae_title="NOOP")
ae.maximum_pdu_size = 128 * 1024
for cx in AllStoragePresentationContexts:
    ae.add_supported_context(cx.abstract_syntax)
handlers = [(evt.EVT_C_STORE, lambda event: 0x0000),
            (evt.EVT_CONN_OPEN, lambda event: tune_association(event.assoc))]
ae.start_server(("127.0.0.1", int(sys.argv[1])), evt_handlers=handlers)
"""


class NoopPynetdicom(Target):
    """pynetdicom 3.0 with the PACS's tuning and a handler that does nothing: the engine's ceiling."""

    name, aet = "pynetdicom no-op", "NOOP"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", NOOP_SERVER, str(self.port)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class Orthanc(Target):
    name, aet = "Orthanc", "ORTHANC"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        base = workdir / "orthanc"
        base.mkdir()
        config = {
            "Name": "bench",
            "StorageDirectory": str(base / "storage"),
            "IndexDirectory": str(base / "index"),
            "DicomAet": self.aet,
            "DicomPort": self.port,
            "HttpPort": free_port(),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "SyncStorageArea": False,
            "Plugins": [],
            "DicomCheckCalledAet": False,
            "StorageCompression": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
        }
        (base / "orthanc.json").write_text(json.dumps(config))
        self.proc = subprocess.Popen(
            [ORTHANC, str(base / "orthanc.json")],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def send(target: Target, files: list[Path]) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(
        [STORESCU, "-aec", target.aet, "127.0.0.1", str(target.port), *map(str, files)],
        env=ENV,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"storescu to {target.name} failed: {out.stderr[-500:]}")
    return elapsed


PLAIN_CLIENT = """
import sys, time
from pynetdicom import AE
from medlab.net.samples import make_instance
items = [make_instance(1, 1, 1, n) for n in range(1, 201)]
ae = AE()  # as a lesson writes it: no TCP_NODELAY, pynetdicom's defaults
ae.add_requested_context(items[0].SOPClassUID, items[0].file_meta.TransferSyntaxUID)
assoc = ae.associate("127.0.0.1", int(sys.argv[1]), ae_title=sys.argv[2])
t0 = time.perf_counter()
for ds in items:
    assert assoc.send_c_store(ds).Status == 0
print(len(items) / (time.perf_counter() - t0))
assoc.release()
"""


def plain_client_rate(target: Target) -> float:
    """Instances/s a plain pynetdicom client (a lesson's own code) stores into ``target``."""
    out = subprocess.run(
        [sys.executable, "-c", PLAIN_CLIENT, str(target.port), target.aet],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def memory_run(workdir: Path) -> tuple[float, float, float]:
    """8 concurrent storescu, 2,000 small instances, into a fresh medlab server."""
    files = write_instances(workdir / "small", 2000, seed="bench-memory")
    server = Medlab()
    server.start(workdir)
    try:
        chunks = [files[i::8] for i in range(8)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda c: send(server, c), chunks))
        elapsed = time.perf_counter() - t0
        current, peak = rss_mib(server.proc.pid)
    finally:
        server.stop()
    return current, peak, 2000 / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="CT instances per run (300-500)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-orthanc", action="store_true")
    parser.add_argument(
        "--to-disk",
        action="store_true",
        help="also run medlab with every C-STORE received to disk (what that would cost)",
    )
    args = parser.parse_args()
    targets: list[Target] = [StoreSCP(), Medlab(), NoopPynetdicom()]
    if args.to_disk:
        targets.append(MedlabToDisk())
    if ORTHANC and not args.no_orthanc:
        targets.append(Orthanc())
    with tempfile.TemporaryDirectory(prefix="medlab-bench-") as tmp:
        tmp_path = Path(tmp)
        files = write_instances(tmp_path / "ct", args.count, rows=512, columns=512, seed="bench-ct")
        size = sum(f.stat().st_size for f in files) / 2**20
        print(
            f"{args.count} CT instances, 512x512 16-bit, {size:.0f} MiB; storescu, one association; "
            f"{args.rounds} alternating rounds; TCP_NODELAY=1"
        )
        times: dict[str, list[float]] = {t.name: [] for t in targets}
        for r in range(args.rounds):
            for target in targets:
                work = tmp_path / f"r{r}-{target.aet}"
                work.mkdir()
                target.start(work)
                try:
                    times[target.name].append(send(target, files))
                finally:
                    target.stop()
                shutil.rmtree(work, ignore_errors=True)
                # Each server starts from the same disk state: no other run's 150 MB
                # still being written back (it cost the next server 20-30 %).
                os.sync()
            print(
                f"  round {r + 1}: "
                + ", ".join(f"{n} {args.count / ts[-1]:.0f} inst/s" for n, ts in times.items())
            )
        rate = {n: args.count / statistics.median(ts) for n, ts in times.items()}
        print("\nmedian throughput")
        for name, value in rate.items():
            print(f"  {name:<16} {value:7.0f} inst/s")
        ref = rate["DCMTK storescp"]
        print(f"\nmedlab / storescp = {rate['medlab PACS'] / ref:.2f}x")
        ceiling = rate["pynetdicom no-op"]
        print(
            f"pynetdicom no-op / storescp = {ceiling / ref:.2f}x  (the engine's ceiling); "
            f"medlab reaches {rate['medlab PACS'] / ceiling:.2f}x of it"
        )
        if "medlab (all to disk)" in rate:
            print(
                f"medlab all to disk / default (here: in memory) = "
                f"{rate['medlab (all to disk)'] / rate['medlab PACS']:.2f}x"
            )
        if "Orthanc" in rate:
            print(f"Orthanc / storescp = {rate['Orthanc'] / ref:.2f}x")
            ratio = rate["medlab PACS"] / rate["Orthanc"]
            verdict = "meets" if ratio >= 1 else "misses"
            print(
                f"medlab / Orthanc  = {ratio:.2f}x  ({verdict} the target: >= Orthanc in the same run)"
            )
        else:
            print("Orthanc not installed: no medlab/Orthanc ratio")
        rates = {}
        for target in (StoreSCP(), Medlab()):
            work = tmp_path / f"plain-{target.aet}"
            work.mkdir()
            target.start(work)
            try:
                rates[target.name] = plain_client_rate(target)
            finally:
                target.stop()
        print(
            "\na plain pynetdicom client (Nagle on, as in a lesson), 200 small C-STOREs: "
            + ", ".join(f"{name} {rate:.0f} inst/s" for name, rate in rates.items())
        )
        current, peak, small_rate = memory_run(tmp_path)
        verdict = "under" if peak < 300 else "OVER"
        print(
            f"\nmemory: 8 concurrent storescu x 2,000 small instances ({small_rate:.0f} inst/s): "
            f"medlab server RSS {current:.0f} MiB, peak {peak:.0f} MiB ({verdict} the 300 MB limit)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
