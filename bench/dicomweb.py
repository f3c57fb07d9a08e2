"""Benchmark: medlab's DICOMweb server beside Orthanc's DICOMweb plugin, same data, same run.

1. QIDO-RS study searches over the 10,000-instance index of bench/pacs_find.py
   (built and stored the same way: DCMTK storescu into the medlab PACS and into
   Orthanc): wildcard name, date range, exact accession. Median latency of a
   whole HTTP request (one kept-alive connection, ``requests``), printed beside
   medlab's own C-FIND of the same keys (in one association, pynetdicom).
2. WADO-RS of a 300-image 512x512 16-bit CT series (``transfer-syntax=*``,
   the body read to the end): instances per second, alternating rounds.
3. A rendered 128-pixel thumbnail of one CT image: median latency.

The medlab DICOMweb server runs in its own process on the PACS's store (the
DIMSE side wrote it); Orthanc runs with /usr/share/orthanc/plugins/libOrthancDicomWeb.so
and TCP_NODELAY=1, its HTTP server on loopback. No timed assertion: figures only.

Usage: .venv/bin/python bench/dicomweb.py [--instances 10000] [--repeat 15] [--rounds 3] [--no-orthanc]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pacs_find import ENV, QUERIES, build, pynetdicom_latency  # noqa: E402
from pacs_store import ORTHANC, Medlab, free_port, wait_port  # noqa: E402

from medlab.net.samples import write_instances  # noqa: E402

PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
STORESCU = "/usr/bin/storescu"
#: The study-level searches of pacs_find.py, as QIDO-RS query strings. '*' is sent as
#: is and '^' avoided: Orthanc's plugin does not percent-decode before matching
#: (shared/notes/ohif.md), so DOE%5EP1* would find nothing there.
QIDO = {
    "wildcard PatientName=DOE*P1*": "PatientName=DOE*P1*",
    "StudyDate 3-month range": "StudyDate=20250401-20250630",
    "exact AccessionNumber": "AccessionNumber=ACC025001",
}
CFIND = {label: keys for level, label, keys in QUERIES if level == "STUDY"}
CFIND_FOR = {
    "wildcard PatientName=DOE*P1*": "PatientName=DOE^P1* (111 studies)",
    "StudyDate 3-month range": "StudyDate 3-month range",
    "exact AccessionNumber": "exact AccessionNumber",
}

SERVE = """
import sys
from pathlib import Path
from medlab.net.store import Store
from medlab.net.dicomweb import DicomWebServer
server = DicomWebServer(Store(Path(sys.argv[1])), port=int(sys.argv[2])).start()
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""


class MedlabWeb:
    name = "medlab"

    def start(self, root: Path) -> None:
        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(root), str(port)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not self.url:
            raise RuntimeError("the medlab DICOMweb server did not start")

    def stop(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(30)


class OrthancWeb:
    name = "Orthanc"
    aet = "ORTHANC"

    def start(self, workdir: Path) -> None:
        self.port, http = free_port(), free_port()
        config = {
            "Name": "bench-dicomweb",
            "StorageDirectory": str(workdir / "storage"),
            "IndexDirectory": str(workdir / "index"),
            "DicomAet": self.aet,
            "DicomPort": self.port,
            "HttpPort": http,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "SyncStorageArea": False,
            "StorageCompression": False,
            "Plugins": [str(PLUGIN)],
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "orthanc.json").write_text(json.dumps(config))
        self.proc = subprocess.Popen(
            [str(ORTHANC), str(workdir / "orthanc.json")],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)
        wait_port(http, self.proc)
        self.url = f"http://127.0.0.1:{http}/dicom-web"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def storescu(aet: str, port: int, files: list[Path], parallel: int = 4) -> None:
    procs = [
        subprocess.Popen(
            [STORESCU, "-aec", aet, "127.0.0.1", str(port), *map(str, files[i::parallel])],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(parallel)
    ]
    if not all(p.wait() == 0 for p in procs):
        raise RuntimeError("storescu failed")


def median_ms(session, url: str, repeat: int, headers: dict | None = None) -> tuple[float, int]:
    times, status = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rsp = session.get(url, headers=headers)
        body = rsp.content
        times.append(time.perf_counter() - t0)
        status = rsp.status_code
        if status >= 400:
            raise RuntimeError(f"{url}: HTTP {status} {body[:200]!r}")
    hits = len(json.loads(body)) if status == 200 and body.startswith(b"[") else 0
    return statistics.median(times) * 1000, hits


def retrieve_series(session, base: str, study: str, series: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    rsp = session.get(
        f"{base}/studies/{study}/series/{series}",
        headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'},
        stream=True,
    )
    size = sum(len(c) for c in rsp.iter_content(1 << 20))
    if rsp.status_code != 200:
        raise RuntimeError(f"WADO-RS: HTTP {rsp.status_code}")
    return time.perf_counter() - t0, size


def main() -> int:
    import pydicom
    import requests

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-orthanc", action="store_true")
    args = parser.parse_args()
    with_orthanc = bool(ORTHANC and PLUGIN.is_file() and not args.no_orthanc)
    with tempfile.TemporaryDirectory(prefix="medlab-bench-web-") as tmp:
        tmp_path = Path(tmp)
        t0 = time.perf_counter()
        files = build(tmp_path / "in", args.instances)
        ct = write_instances(
            tmp_path / "ct", 300, rows=512, columns=512, per_series=300, seed="bench-web-ct"
        )
        print(
            f"{args.instances} small instances + 300 CT 512x512 written in {time.perf_counter() - t0:.0f} s"
        )

        pacs = Medlab()
        pacs.start(tmp_path)
        storescu(pacs.aet, pacs.port, files)
        storescu(pacs.aet, pacs.port, ct, parallel=1)
        web = MedlabWeb()
        web.start(tmp_path / "medlab")
        servers = {"medlab": web.url}
        orthanc = None
        if with_orthanc:
            orthanc = OrthancWeb()
            orthanc.start(tmp_path / "orthanc")
            storescu(orthanc.aet, orthanc.port, files)
            storescu(orthanc.aet, orthanc.port, ct, parallel=1)
            servers["Orthanc"] = orthanc.url
        print(f"indexed in both archives in {time.perf_counter() - t0:.0f} s")
        try:
            sessions = {name: requests.Session() for name in servers}
            qido: dict[str, dict[str, tuple[float, int]]] = {n: {} for n in servers}
            for label, query in QIDO.items():
                for name, base in servers.items():
                    qido[name][label] = median_ms(
                        sessions[name], f"{base}/studies?{query}", args.repeat
                    )
            cfind = {
                label: pynetdicom_latency(
                    pacs.port, pacs.aet, "STUDY", CFIND[CFIND_FOR[label]], args.repeat
                )
                for label in QIDO
            }
            print("\nQIDO-RS study search, median ms (whole HTTP request; hits)")
            print(
                f"{'query':<32}" + "".join(f"{n:>20}" for n in servers) + f"{'medlab C-FIND':>20}"
            )
            for label in QIDO:
                row = f"{label:<32}"
                for name in servers:
                    ms, hits = qido[name][label]
                    row += f"{ms:12.1f} ({hits:3d})"
                ms, hits = cfind[label]
                row += f"{ms:12.1f} ({hits:3d})"
                print(row)

            first = pydicom.dcmread(ct[0], stop_before_pixels=True)
            rates: dict[str, list[float]] = {n: [] for n in servers}
            sizes: dict[str, int] = {}
            for _ in range(args.rounds):
                for name, base in servers.items():
                    elapsed, sizes[name] = retrieve_series(
                        sessions[name], base, first.StudyInstanceUID, first.SeriesInstanceUID
                    )
                    rates[name].append(300 / elapsed)
            on_disk = sum(f.stat().st_size for f in ct) / 2**20
            print(
                f"\nWADO-RS of the 300-image 512x512 CT series ({on_disk:.0f} MiB of files), inst/s"
            )
            for name, values in rates.items():
                print(
                    f"  {name:<10} body {sizes[name] / 2**20:5.0f} MiB, median {statistics.median(values):6.0f}   rounds {', '.join(f'{v:.0f}' for v in values)}"
                )
            if "Orthanc" in rates:
                ratio = statistics.median(rates["medlab"]) / statistics.median(rates["Orthanc"])
                print(f"  medlab / Orthanc = {ratio:.2f}x")

            print("\nrendered thumbnail of one CT image (viewport=128,128), median ms")
            path = (
                f"/studies/{first.StudyInstanceUID}/series/{first.SeriesInstanceUID}"
                f"/instances/{first.SOPInstanceUID}/rendered?viewport=128,128"
            )
            for name, base in servers.items():
                ms, _ = median_ms(sessions[name], base + path, 20, {"Accept": "image/jpeg"})
                print(f"  {name:<10} {ms:6.1f}")
        finally:
            web.stop()
            pacs.stop()
            if orthanc is not None:
                orthanc.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
