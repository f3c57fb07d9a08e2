"""The PACS under junk, floods and plain echoes, side by side with DCMTK's storescp.

Run from the repository root (about a minute)::

    PYTHONPATH=$PWD .venv/bin/python bench/pacs_abuse.py [--rounds 21] [--connections 1000]

Three servers run as child processes in the same run: medlab's PACS (the
default configuration a lesson starts), DCMTK's ``storescp`` (``TCP_NODELAY=1``,
see /work/shared/notes/pacs.md) and a bare pynetdicom Verification SCP (the
engine's floor: one context, no handlers). The figures, each printed beside
storescp's:

1. a whole ``/usr/bin/echoscu`` run, median of ``--rounds`` runs taken in
   alternation (target: medlab <= storescp + 10 ms);
2. after 20 connections that send garbage (first byte 0xEE) and stay open, and
   after ``--connections`` connections opened and closed without a byte: the
   time until a C-ECHO is answered (target: <= 0.5 s after each burst);
3. the PACS's resident memory before and after the bursts (target: <= 1.2x).

Everything is on loopback. Run as root, the bench re-runs itself inside a new
network namespace (``unshare -n``) with only ``lo`` up, so storescp (which
listens on every interface) is unreachable from outside; otherwise it runs on
the host's loopback and says so. Loops are bounded; nothing here is a test
(tests/unit/test_pacs_guard.py holds the untimed checks).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ECHOSCU = "/usr/bin/echoscu"
STORESCP = "/usr/bin/storescp"
NETNS_FLAG = "MEDLAB_BENCH_IN_NETNS"

#: A lesson's PACS, in a child process: prints its port, stops on stdin EOF.
MEDLAB_CHILD = """
import sys
from medlab.net import PACS, PACSConfig
pacs = PACS(config=PACSConfig(port=0, root=sys.argv[1])).start()
print(pacs.port, flush=True)
sys.stdin.read()
pacs.stop()
"""

#: pynetdicom with one context and nothing else: the engine's own floor.
BARE_CHILD = """
import sys
from pynetdicom import AE
ae = AE(ae_title="BARE")
ae.add_supported_context("1.2.840.10008.1.1")
server = ae.start_server(("127.0.0.1", 0), block=False)
print(server.server_address[1], flush=True)
sys.stdin.read()
server.shutdown()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """A server child process: name, AE title, port, pid."""

    def __init__(self, name: str, aet: str, argv: list[str], env: dict, port: int | None) -> None:
        self.name, self.aet = name, aet
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if port is None else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=env.get("BENCH_CWD"),
        )
        self.port = port if port is not None else int(self.proc.stdout.readline())
        if not wait_for_echo(self, 20):
            self.stop()
            raise SystemExit(f"{name} did not answer C-ECHO")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()  # the Python children stop on EOF
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()  # storescp has no stdin protocol
            self.proc.wait(10)


ENV = {**os.environ, "TCP_NODELAY": "1"}


def echo_once(server: Server, timeout: float = 10) -> tuple[bool, float]:
    """One whole echoscu run: (answered 0x0000, seconds)."""
    start = time.perf_counter()
    done = subprocess.run(
        [ECHOSCU, "-to", "5", "-ta", "5", "-aec", server.aet, "127.0.0.1", str(server.port)],
        env=ENV,
        capture_output=True,
        timeout=timeout,
    )
    return done.returncode == 0, time.perf_counter() - start


def wait_for_echo(server: Server, limit: float) -> float | None:
    """Seconds until an echo is answered (echoscu retried), None if not within ``limit``."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        ok, _ = echo_once(server)
        if ok:
            return time.perf_counter() - start
        time.sleep(0.05)
    return None


def garbage_burst(server: Server, count: int = 20) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"\xee" * 64)
        socks.append(sock)
    return socks


def open_close_burst(server: Server, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=10).close()
        except OSError:
            pass  # a refused connection is part of the figure: the time is what counts
    return time.perf_counter() - start


def fmt(seconds: float | None) -> str:
    return "no answer" if seconds is None else f"{seconds:.3f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21, help="echoscu runs per server")
    parser.add_argument("--connections", type=int, default=1000, help="open-and-close burst")
    parser.add_argument("--no-netns", action="store_true", help="do not use unshare -n")
    args = parser.parse_args()
    for tool in (ECHOSCU, STORESCP):
        if not Path(tool).exists():
            raise SystemExit(f"{tool} is missing (apt install dcmtk)")

    if (
        not args.no_netns
        and not os.environ.get(NETNS_FLAG)
        and hasattr(os, "geteuid")
        and os.geteuid() == 0
        and shutil.which("unshare")
        and shutil.which("ip")
    ):
        inner = " ".join(map(_quote, [sys.executable, *sys.argv]))
        os.environ[NETNS_FLAG] = "1"
        os.execvp("unshare", ["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {inner}"])
    where = (
        "a private network namespace (loopback only)"
        if os.environ.get(NETNS_FLAG)
        else "the host's loopback (not root: storescp listens on every interface meanwhile)"
    )

    work = Path(tempfile.mkdtemp(prefix="pacs-abuse-"))
    env = {**ENV, "MEDLAB_HOME": str(work / "home"), "BENCH_CWD": str(work)}
    (work / "scp").mkdir()
    storescp_port = free_port()
    servers = [
        Server("medlab PACS", "MEDLAB", [sys.executable, "-c", MEDLAB_CHILD, str(work / "pacs")], env, None),
        Server("storescp", "STORESCP", [STORESCP, "-od", str(work / "scp"), "-aet", "STORESCP", str(storescp_port)], env, storescp_port),
        Server("bare pynetdicom", "BARE", [sys.executable, "-c", BARE_CHILD], env, None),
    ]  # fmt: skip
    medlab, storescp, bare = servers
    try:
        print(f"pacs_abuse: {where}; pynetdicom, DCMTK storescp; load {os.getloadavg()[0]:.1f}")
        # 1. a whole echoscu run, alternating servers round by round
        times: dict[str, list[float]] = {s.name: [] for s in servers}
        for _ in range(3):  # warm-up: imports, first association
            for server in servers:
                echo_once(server)
        for i in range(args.rounds):
            for server in servers if i % 2 == 0 else servers[::-1]:
                ok, seconds = echo_once(server)
                if ok:
                    times[server.name].append(seconds)
        median = {name: statistics.median(t) if t else float("nan") for name, t in times.items()}
        print(f"\n1. whole echoscu run, median of {args.rounds}:")
        for name, value in median.items():
            print(f"   {name:16s} {value * 1000:7.1f} ms")
        delta = (median[medlab.name] - median[storescp.name]) * 1000
        print(
            f"   medlab - storescp = {delta:+.1f} ms (target <= +10 ms): {'OK' if delta <= 10 else 'MISSED'}"
        )
        floor = (median[medlab.name] - median[bare.name]) * 1000
        print(
            f"   medlab - bare pynetdicom = {floor:+.1f} ms (what medlab adds to the engine's floor)"
        )

        # 2 + 3. bursts, each followed by an echo; RSS before and after
        rss_before = {s.name: rss_mib(s.pid) for s in (medlab, storescp)}
        print("\n2. C-ECHO answered after a burst (target <= 0.5 s):")
        verdicts = []
        for server in (medlab, storescp):
            socks = garbage_burst(server)
            after_garbage = wait_for_echo(server, 30)
            for sock in socks:
                sock.close()
            burst = open_close_burst(server, args.connections)
            after_flood = wait_for_echo(server, 30)
            print(
                f"   {server.name:16s} 20 garbage-and-stay-open: {fmt(after_garbage)};  "
                f"{args.connections} open-and-close ({burst:.1f} s of client time): {fmt(after_flood)}"
            )
            if server is medlab:
                verdicts += [after_garbage, after_flood]
        ok = all(v is not None and v <= 0.5 for v in verdicts)
        print(f"   medlab: {'OK' if ok else 'MISSED'}")
        time.sleep(1.0)  # let the last connections' threads end
        echo_once(medlab)
        print("\n3. resident memory before -> after the bursts (target medlab <= 1.2x):")
        for server in (medlab, storescp):
            before, after = rss_before[server.name], rss_mib(server.pid)
            print(
                f"   {server.name:16s} {before:6.1f} MiB -> {after:6.1f} MiB ({after / before:.2f}x)"
            )
        ratio = rss_mib(medlab.pid) / rss_before[medlab.name]
        print(f"   medlab: {'OK' if ratio <= 1.2 else 'MISSED'}")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


if __name__ == "__main__":
    sys.exit(main())
