"""Census speed: ``medlab.dicom.census`` against a bare ``pydicom.dcmread`` loop, same files.

Writes N small CT headers (default 10,000, 64x64 pixels so the folder stays ~100 MB)
into a temporary folder, then times, alternately and twice each:

* the reference: ``for p in files: pydicom.dcmread(p, stop_before_pixels=True)``
* ``medlab.dicom.census(folder)`` (which also reads the attributes it reports,
  finds private creators and checks Type 1 attributes).

Target: census >= 0.8x the reference's files per second. Not a test (no timed
assertions in the suite); run ``.venv/bin/python bench/census.py [N]``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import pydicom

import medlab.dicom
from medlab.data import build

#: Alternating rounds; the best of each is kept (a shared machine is noisy).
ROUNDS = 5


def make_files(folder: Path, count: int) -> list[Path]:
    template = build._deid_instance(1)
    template.Rows = template.Columns = 64
    template.PixelData = bytes(64 * 64 * 2)
    paths = []
    for n in range(count):
        ds = template.copy()
        series = n // 200
        ds.SeriesInstanceUID = build.uid("bench", "series", str(series))
        ds.SOPInstanceUID = build.uid("bench", "instance", str(n))
        ds.InstanceNumber = n % 200 + 1
        path = folder / f"S{series:03d}" / f"IM{n:05d}.dcm"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(build._encode(ds))
        paths.append(path)
    return paths


def bare(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        pydicom.dcmread(path, stop_before_pixels=True)
    return time.perf_counter() - start


def with_census(folder: Path) -> float:
    start = time.perf_counter()
    df = medlab.dicom.census(folder, progress=False)
    elapsed = time.perf_counter() - start
    assert len(df) > 0
    return elapsed


def main(count: int = 10_000) -> None:
    folder = Path(tempfile.mkdtemp(prefix="medlab-bench-census-"))
    try:
        paths = make_files(folder, count)
        paths.sort()
        bare(paths)  # warm the page cache once
        times_bare, times_census = [], []
        for _ in range(ROUNDS):
            times_bare.append(bare(paths))
            times_census.append(with_census(folder))
        ref = count / min(times_bare)
        ours = count / min(times_census)
        print(f"{count} headers (best of {ROUNDS} alternating runs each)")
        print(f"  bare dcmread(stop_before_pixels=True) loop: {ref:8.0f} files/s")
        print(f"  medlab.dicom.census:                        {ours:8.0f} files/s")
        print(f"  ratio census / bare: {ours / ref:.2f} (target >= 0.80)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
