"""Benchmark: C-FIND latency of the medlab PACS over 10,000 indexed instances (and Orthanc's).

Builds 10,000 small instances (500 patients x 1 study x 2 series x 10 images,
study dates spread over 2025), indexes them in a medlab PACS (and loads them
into Orthanc, if installed, with DCMTK storescu), then times queries:

* in one open association with pynetdicom (the server's latency as a client
  program sees it), median of repeated runs;
* as whole DCMTK ``findscu`` processes minus a whole ``echoscu`` process (the
  figure the shared notes give for Orthanc), for medlab and Orthanc alike.

Target: median STUDY-level latency ≤ 50 ms.

Usage: .venv/bin/python bench/pacs_find.py [--instances 10000] [--repeat 15] [--no-orthanc]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pacs_store import ORTHANC, Medlab, Orthanc  # noqa: E402

from medlab.net.samples import make_instance  # noqa: E402

ENV = {**os.environ, "TCP_NODELAY": "1"}

QUERIES = [
    (
        "STUDY",
        "PatientName=DOE^P1* (111 studies)",
        {"PatientName": "DOE^P1*", "StudyInstanceUID": "", "StudyDate": "", "AccessionNumber": ""},
    ),
    (
        "STUDY",
        "StudyDate 3-month range",
        {"StudyDate": "20250401-20250630", "StudyInstanceUID": "", "PatientName": ""},
    ),
    ("STUDY", "exact AccessionNumber", {"AccessionNumber": "ACC025001", "StudyInstanceUID": ""}),
    ("STUDY", "exact PatientID", {"PatientID": "PAT0250", "StudyInstanceUID": "", "StudyDate": ""}),
    ("IMAGE", "all images of one series (10)", None),  # filled in with real UIDs
    ("IMAGE", "one SOPInstanceUID", None),
]


def build(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        patient = i // 20 + 1
        series = (i // 10) % 2 + 1
        day = (patient * 7) % 365
        month, mday = day // 31 + 1, day % 28 + 1
        ds = make_instance(
            patient,
            1,
            series,
            i % 10 + 1,
            study_date=f"2025{min(month, 12):02d}{mday:02d}",
            seed="bench-find",
        )
        path = folder / f"{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def identifier(level: str, keys: dict):
    from pydicom import Dataset

    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(ds, k, v)
    return ds


def pynetdicom_latency(
    port: int, aet: str, level: str, keys: dict, repeat: int
) -> tuple[float, int]:
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as FIND

    from medlab.net.server import tune_association

    ae = AE(ae_title="BENCH")
    ae.add_requested_context(FIND)
    # TCP_NODELAY on the client too (as for every DCMTK process): else Nagle + delayed
    # ACK add ≈ 40 ms to each exchange, whichever server answers.
    assoc = ae.associate(
        "127.0.0.1",
        port,
        ae_title=aet,
        evt_handlers=[(evt.EVT_CONN_OPEN, lambda e: tune_association(e.assoc))],
    )
    times, hits = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        hits = sum(
            1
            for status, _ in assoc.send_c_find(identifier(level, keys), FIND)
            if status.get("Status") in (0xFF00, 0xFF01)
        )
        times.append(time.perf_counter() - t0)
    assoc.release()
    return statistics.median(times) * 1000, hits


def process_latency(port: int, aet: str, level: str, keys: dict, repeat: int) -> float:
    """Median whole findscu process minus median whole echoscu process, ms."""

    def timed(args):
        t0 = time.perf_counter()
        subprocess.run(args, env=ENV, capture_output=True, check=True)
        return time.perf_counter() - t0

    find_args = ["/usr/bin/findscu", "-S", "-aec", aet, "-k", f"QueryRetrieveLevel={level}"]
    for k, v in keys.items():
        find_args += ["-k", f"{k}={v}"]
    find_args += ["127.0.0.1", str(port)]
    echo_args = ["/usr/bin/echoscu", "-aec", aet, "127.0.0.1", str(port)]
    finds, echoes = [], []
    for _ in range(repeat):
        finds.append(timed(find_args))
        echoes.append(timed(echo_args))
    return (statistics.median(finds) - statistics.median(echoes)) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-orthanc", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="medlab-bench-find-") as tmp:
        tmp_path = Path(tmp)
        t0 = time.perf_counter()
        files = build(tmp_path / "in", args.instances)
        print(f"{args.instances} instances written in {time.perf_counter() - t0:.0f} s")
        import pydicom

        first = pydicom.dcmread(files[0])
        QUERIES[4] = (
            QUERIES[4][0],
            QUERIES[4][1],
            {
                "StudyInstanceUID": first.StudyInstanceUID,
                "SeriesInstanceUID": first.SeriesInstanceUID,
                "SOPInstanceUID": "",
                "InstanceNumber": "",
            },
        )
        QUERIES[5] = (
            QUERIES[5][0],
            QUERIES[5][1],
            {
                "StudyInstanceUID": first.StudyInstanceUID,
                "SeriesInstanceUID": first.SeriesInstanceUID,
                "SOPInstanceUID": first.SOPInstanceUID,
            },
        )

        servers = [Medlab()]
        if ORTHANC and not args.no_orthanc:
            servers.append(Orthanc())
        results: dict[str, dict[str, tuple]] = {}
        for server in servers:
            work = tmp_path / server.aet
            work.mkdir()
            server.start(work)
            try:
                t0 = time.perf_counter()
                chunks = [files[i::4] for i in range(4)]
                procs = [
                    subprocess.Popen(
                        [
                            "/usr/bin/storescu",
                            "-aec",
                            server.aet,
                            "127.0.0.1",
                            str(server.port),
                            *map(str, c),
                        ],
                        env=ENV,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for c in chunks
                ]
                assert all(p.wait() == 0 for p in procs), "storescu failed"
                print(
                    f"{server.name}: {args.instances} instances indexed in {time.perf_counter() - t0:.0f} s"
                )
                results[server.name] = {}
                for level, label, keys in QUERIES:
                    in_assoc, hits = pynetdicom_latency(
                        server.port, server.aet, level, keys, args.repeat
                    )
                    proc = process_latency(
                        server.port, server.aet, level, keys, max(5, args.repeat // 3)
                    )
                    results[server.name][label] = (level, in_assoc, proc, hits)
            finally:
                server.stop()

        names = list(results)
        print(
            "\nmedian C-FIND latency, ms (in one association with pynetdicom | findscu minus echoscu)"
        )
        header = f"{'query':<40}" + "".join(f"{n:>28}" for n in names)
        print(header)
        for level, label, _ in QUERIES:
            row = f"{level + ' ' + label:<40}"
            for n in names:
                _, a, p, hits = results[n][label]
                row += f"{a:9.1f} | {p:6.1f}  ({hits:3d} hits)"
            print(row)
        study = [
            results["medlab PACS"][label][1] for level, label, _ in QUERIES if level == "STUDY"
        ]
        image = [
            results["medlab PACS"][label][1] for level, label, _ in QUERIES if level == "IMAGE"
        ]
        med = statistics.median(study)
        print(
            f"\nmedlab median over STUDY-level queries: {med:.1f} ms "
            f"({'meets' if med <= 50 else 'MISSES'} the ≤ 50 ms target); IMAGE level: "
            f"{statistics.median(image):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
