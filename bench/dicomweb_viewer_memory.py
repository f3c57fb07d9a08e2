"""Benchmark: the PACS's memory while OHIF loads and scrolls a 300-image CT series.

The PACS runs as a trainee runs it, ``medlab pacs serve`` (DIMSE and the web side in
one process); the 300-image 512x512 16-bit CT series of bench/dicomweb.py is stored
into it with C-STORE; then headless Debian Chromium (Playwright) opens the link
``pacs.viewer()`` builds, waits for the first image, and scrolls through every slice.
The PACS process's resident memory (``VmRSS`` of /proc/PID/status) is sampled every
50 ms: before the viewer, its peak while OHIF loads and scrolls, and after. Printed
beside the classroom guide's per-trainee plan (docs/classroom.md). Figures only.

Usage: .venv/bin/python bench/dicomweb_viewer_memory.py [--images 300]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from medlab.net.samples import write_instances  # noqa: E402


def rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024


class Sampler(threading.Thread):
    """Peak RSS of a process between :meth:`reset` calls, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, rss_mib(self.pid))

    def reset(self) -> float:
        peak, self.peak = self.peak, 0.0
        return peak


def serve(root: Path, home: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    env = {**os.environ, "MEDLAB_HOME": str(home), "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "medlab", "pacs", "serve", "--port", "0", "--root", str(root)]
    cmd += ["--log", "none"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    found: dict[str, str] = {}
    while "viewer" not in found:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the PACS stopped before listening (is OHIF installed? make install)")
        if m := re.search(r"listening on [\d.]+:(\d+)", line):
            found["port"] = m.group(1)
        elif line.startswith("DICOMweb: "):
            found["dicomweb"] = line.split(" ", 1)[1].strip()
        elif line.startswith("OHIF viewer: "):
            found["viewer"] = line.split(" ", 2)[2].strip()
    return proc, found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    import pydicom
    from playwright.sync_api import sync_playwright

    from medlab.net.dicomweb.viewer import viewer_link
    from medlab.net.scu import store

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        ct = write_instances(
            tmp_path / "ct", args.images, rows=512, columns=512, per_series=args.images,
            seed="bench-web-ct",
        )  # fmt: skip
        first = pydicom.dcmread(ct[0], stop_before_pixels=True)
        proc, found = serve(tmp_path / "pacs", tmp_path / "home")
        sampler = Sampler(proc.pid)
        sampler.start()
        try:
            idle = rss_mib(proc.pid)
            target = type(
                "T", (), {"aet": "MEDLAB", "host": "127.0.0.1", "port": int(found["port"])}
            )
            stored = 0
            for start in range(0, len(ct), 50):  # associations of 50: short, as a modality's
                stored += len(store(ct[start : start + 50], target).succeeded)
            stored_peak = sampler.reset()
            before = rss_mib(proc.pid)
            print(f"PACS (medlab pacs serve, DIMSE + DICOMweb + OHIF), pid {proc.pid}")
            print(f"  idle after start            {idle:6.0f} MiB")
            print(
                f"  {stored:3d} CT 512x512 stored (C-STORE), peak {stored_peak:6.0f} MiB, then {before:6.0f} MiB"
            )
            link = viewer_link(found["viewer"], first.StudyInstanceUID).url
            frames: list[str] = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.on(
                    "requestfinished",
                    lambda r: frames.append(r.url) if "/frames/" in r.url else None,
                )
                t0 = time.perf_counter()
                page.goto(link)
                canvas = page.locator("canvas.cornerstone-canvas").first
                canvas.wait_for(timeout=120_000)
                shown = time.perf_counter() - t0
                canvas.hover()
                for _ in range(args.images):  # scroll through every slice, as a trainee would
                    page.mouse.wheel(0, 120)
                    page.wait_for_timeout(20)
                last, quiet = len(frames), time.perf_counter()
                while time.perf_counter() - quiet < 5 and time.perf_counter() - t0 < 300:
                    page.wait_for_timeout(250)
                    if len(frames) != last:
                        last, quiet = len(frames), time.perf_counter()
                loaded = time.perf_counter() - t0
                browser.close()
            peak = sampler.reset()
            time.sleep(1)
            after = rss_mib(proc.pid)
            print(f"  OHIF: first image after {shown:.1f} s; {len(set(frames))} frames fetched, "
                  f"scrolled through in {loaded:.0f} s")  # fmt: skip
            print(
                f"  while OHIF loads and scrolls: peak {peak:6.0f} MiB (+{peak - before:.0f} MiB)"
            )
            print(f"  after                       {after:6.0f} MiB")
            print("classroom guide (docs/classroom.md): plan ~330 MiB RSS per trainee, limit 1 GiB")
        finally:
            sampler.done.set()
            proc.terminate()
            proc.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
