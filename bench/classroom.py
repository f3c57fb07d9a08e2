"""A whole class on one JupyterHub: N trainees run the networking lessons at once.

Usage::

    .venv/bin/python bench/classroom.py --users 5 10 20 30
    .venv/bin/python bench/classroom.py --users 3 --lessons 08_store_query_retrieve

For each N this starts a real JupyterHub (DummyAuthenticator, the
SimpleLocalProcessSpawner, configurable-http-proxy) on 127.0.0.1 from
``deploy/jupyterhub/jupyterhub_config.py``, logs N users in through the hub's
REST API, starts their servers, and in every user's server — through that
server's own REST API and kernel websocket, as JupyterLab in a browser does —
runs a probe notebook, the lessons, and the probe again, all users at the same
time. It then prints, per N: wall time until every user's lessons finished,
failures, port clashes, cross-user leaks, and peak memory per user server with
its kernels and services.

How each verdict is reached, independently of medlab's own bookkeeping:

* **failures** — a cell that raised (outside ``NBVAL_RAISES_EXCEPTION`` cells),
  a server that did not start, a probe whose own study or message is missing.
* **port clashes** — a background :class:`Sampler` reads the kernel's table of
  listening sockets (``/proc/net/tcp{,6}``) and maps each socket inode to the
  process holding it (``/proc/<pid>/fd``) and that process to its user (its
  ``JUPYTERHUB_USER``); a port held by two owners at overlapping times is a
  clash. The users' ``medlab.services`` histories are checked the same way, and
  for two users' services on one storage folder; so is a PACS index file seen
  open by two users' processes, or by a user's process outside that user's home.
* **cross-user leaks** — each user's probe stores a study whose PatientID is
  ``MLU-<user>`` in the user's own PACS and sends an HL7 message with that
  patient to the user's own listener. At the end every PACS root under each
  user's ``MEDLAB_HOME`` (the default one and the lessons' own) is opened and
  asked (C-FIND) for all its studies, and every HL7 store is read: a user's PACS
  or store holding another user's patient is a leak (and a user missing its own
  patient is a failure). A file written into the shared sample data during the
  run is also a leak.

The functions the verdict uses (:func:`port_clashes`, :func:`history_clashes`,
:func:`index_clashes`, :func:`index_outside_home`, :func:`content_leaks`) are unit-tested in tests/unit/test_isolation.py with
forced clashes, so a clean verdict here means something.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEPLOY_CONFIG = REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py"
VENV_BIN = Path(sys.executable).parent
#: Where `make install` puts the proxy (npm install --prefix .venv/chp configurable-http-proxy).
CHP_LOCAL = REPO / ".venv" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
#: The lessons run by default, when present: lesson 00 (every class opens it first; it runs
#: `medlab.doctor()`), 07 (the bundled PACS, associations), the networking lesson with
#: C-STORE/C-FIND/C-GET (08) and the HL7 lesson with the MLLP listener (13).
DEFAULT_LESSONS = (
    "00_start_here",
    "07_associations",
    "08_store_query_retrieve",
    "13_hl7_acks_and_orders",
)
COURSE_DIR = "medlab"  # the course's folder in each user's home, as in the deploy config
MARKER_PREFIX = "MLU-"
RUN_ENV = "MEDLAB_CLASSROOM_RUN"
CELL_TIMEOUT = 900.0


# --------------------------------------------------------------------------- tools
def find_chp() -> str | None:
    """configurable-http-proxy: the repository's own install, else one on PATH."""
    if CHP_LOCAL.is_file() and os.access(CHP_LOCAL, os.X_OK):
        return str(CHP_LOCAL)
    return shutil.which("configurable-http-proxy")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_inodes() -> set[int]:
    """The socket inodes of every listening TCP socket right now."""
    inodes = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            inodes |= {inode for inode, _address, _port in _parse_proc_net(Path(name).read_text())}
    return inodes


def listening_ports() -> set[int]:
    """Every TCP port something listens on right now (from /proc/net/tcp{,6})."""
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            ports |= {port for _inode, _address, port in _parse_proc_net(Path(name).read_text())}
    return ports


def lessons_present(names: Iterable[str], folder: Path = REPO / "notebooks") -> list[str]:
    """The lesson names (``NN_slug``, with or without ``.ipynb``) whose notebook exists."""
    found = []
    for name in names:
        name = name.removesuffix(".ipynb")
        if (folder / f"{name}.ipynb").is_file():
            found.append(name)
    return found


def marker(user: str) -> str:
    """The PatientID of a user's own probe study (and PID-3 of its HL7 message)."""
    return f"{MARKER_PREFIX}{user}"


# --------------------------------------------------------------------------- probe notebook
PROBE_CELLS = [
    """import os
from medlab import paths, services
from medlab.net import PACS
from medlab.hl7 import Listener, send
USER = os.environ["JUPYTERHUB_USER"]
MARKER, PHASE = "MLU-" + USER, "{phase}"
# Isolation by construction: this user's medlab home is inside this user's own home.
assert paths.home().resolve().is_relative_to(os.path.realpath(os.environ["HOME"])), paths.home()
print(USER, PHASE)""",
    """pacs = PACS(port=0).start()  # the bundled PACS, default root, a free port
assert pacs.root.resolve().is_relative_to(paths.home().resolve()), pacs.root
# Until PACS.start registers itself (medlab.services), the probe records it.
handles = [] if any(s.port == pacs.port for s in services.running()) else [
    services.register("pacs", pacs.host, pacs.port, root=pacs.root, aet=pacs.aet)]""",
    """from pydicom import Dataset
from pynetdicom import AE, build_role, evt
from pynetdicom.sop_class import (CTImageStorage, StudyRootQueryRetrieveInformationModelFind,
                                  StudyRootQueryRetrieveInformationModelGet)
from medlab.net.samples import make_instance
ds = make_instance(seed="classroom-" + USER + "-" + PHASE)
ds.PatientID, ds.PatientName = MARKER, "CLASS^" + USER""",
    '''ae = AE(ae_title="PROBE")
for cx in (CTImageStorage, StudyRootQueryRetrieveInformationModelFind,
           StudyRootQueryRetrieveInformationModelGet):
    ae.add_requested_context(cx)
got = []
def on_store(event):
    got.append(str(event.dataset.PatientID))
    return 0x0000
assoc = ae.associate(pacs.host, pacs.port, ae_title=pacs.aet,
                     ext_neg=[build_role(CTImageStorage, scu_role=True, scp_role=True)],
                     evt_handlers=[(evt.EVT_C_STORE, on_store)])
assert assoc.is_established, "no association with my own PACS"''',
    """status = assoc.send_c_store(ds)                                 # C-STORE
assert status.Status == 0x0000, status
q = Dataset(); q.QueryRetrieveLevel = "STUDY"; q.PatientID = ""; q.StudyInstanceUID = ""
found = [str(i.PatientID) for s, i in assoc.send_c_find(q, StudyRootQueryRetrieveInformationModelFind)
         if s and s.Status in (0xFF00, 0xFF01)]                   # C-FIND
assert MARKER in found, found
g = Dataset(); g.QueryRetrieveLevel = "STUDY"; g.StudyInstanceUID = ds.StudyInstanceUID
statuses = [s.Status for s, _ in assoc.send_c_get(g, StudyRootQueryRetrieveInformationModelGet) if s]
assert statuses[-1] == 0x0000 and got == [MARKER], (statuses, got)  # C-GET
assoc.release()
print("PACS", pacs.port, sorted(set(found)))""",
    """listener = Listener(port=0).start()  # the bundled MLLP listener, default store, a free port
if not any(s.port == listener.port for s in services.running()):
    handles.append(services.register("hl7", listener.host, listener.port, root=listener.store))
msg = ("MSH|^~\\\\&|CLASS|PROBE|MEDLAB|LAB|20260105120000||ADT^A01^ADT_A01|CTRL-" + USER + "-"
       + PHASE + "|P|2.5\\rEVN|A01|20260105120000\\rPID|1||" + MARKER + "^^^MEDLAB||CLASS^"
       + USER + "||19700101|F\\rPV1|1|O")
reply = send(listener.host, listener.port, msg)
assert "MSA|AA|" in reply.to_er7(), reply.to_er7()
print("HL7", listener.port, len(listener.messages))""",
    """listener.stop()
pacs.stop()
for handle in handles:
    handle.stop()
print(services.running())""",
]


def probe_notebook(phase: str) -> dict:
    """The probe as notebook JSON (nbformat 4), for one phase ("before"/"after")."""
    return notebook_json([src.replace("{phase}", phase) for src in PROBE_CELLS], "probe")


def notebook_json(sources: list[str], name: str = "cell") -> dict:
    """Code cells (their sources) as notebook JSON (nbformat 4) with a Python 3 kernel."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"{name}-{i}",
            "metadata": {},
            "outputs": [],
            "source": src,
        }
        for i, src in enumerate(sources)
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# --------------------------------------------------------------------------- sampler
@dataclass
class ListenObservation:
    """One listening socket seen by the sampler, and who held it."""

    owner: str  # a user name, or "(hub)"
    pid: int
    port: int
    address: str
    first: float
    last: float


def _parse_proc_net(text: str) -> list[tuple[int, str, int]]:
    """``/proc/net/tcp{,6}`` -> [(inode, local address hex, port)] of LISTEN sockets."""
    found = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 10 or parts[3] != "0A":  # 0A = TCP_LISTEN
            continue
        address, port_hex = parts[1].rsplit(":", 1)
        found.append((int(parts[9]), address, int(port_hex, 16)))
    return found


def _loopback(address_hex: str) -> bool:
    if len(address_hex) == 8:
        return address_hex.endswith("7F")  # 127.x.x.x, little-endian
    return address_hex == "00000000000000000000000001000000"  # ::1


class Sampler(threading.Thread):
    """Watches this run's processes: listening ports, open PACS indexes, memory.

    A process belongs to the run when its environment carries ``RUN_ENV=<run id>``;
    its owner is its ``JUPYTERHUB_USER`` (user servers, their kernels and
    anything those start), else ``"(hub)"`` (the hub and the proxy).
    """

    def __init__(self, run_id: str, interval: float = 0.1, mem_interval: float = 0.5) -> None:
        super().__init__(name="classroom-sampler", daemon=True)
        self.run_id = run_id.encode()
        self.interval = interval
        self.mem_interval = mem_interval
        self._stop_event = threading.Event()
        self._owners: dict[tuple[int, str], str | None] = {}
        self.listeners: dict[int, ListenObservation] = {}
        self._unresolved: dict[int, int] = {}
        self._foreign: set[int] = set()
        self.index_files: dict[str, set[str]] = {}
        self.peak_rss: dict[str, int] = {}
        self.peak_pss: dict[str, int] = {}
        self.samples = 0
        self.errors: list[str] = []

    # -- process ownership
    def _owner(self, pid: int) -> str | None:
        start = _start_time(pid)
        key = (pid, start)
        if key not in self._owners:
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                return None
            owner = None
            if RUN_ENV.encode() + b"=" + self.run_id in environ:
                owner = "(hub)"
                for item in environ:
                    if item.startswith(b"JUPYTERHUB_USER="):
                        owner = item.split(b"=", 1)[1].decode()
            self._owners[key] = owner
        return self._owners[key]

    def processes(self) -> dict[int, str]:
        """pid -> owner for every live process of this run."""
        found = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                owner = self._owner(int(entry))
                if owner is not None:
                    found[int(entry)] = owner
        return found

    # -- one round
    def sample(self) -> None:
        now = time.time()
        procs = self.processes()
        listening = []
        for name in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                listening += _parse_proc_net(Path(name).read_text())
        unknown = [
            item
            for item in listening
            if item[0] not in self.listeners and item[0] not in self._foreign
        ]
        if unknown:
            holders = self._walk(procs)
            for inode, address, port in unknown:
                if inode in holders:
                    pid = holders[inode]
                    self.listeners[inode] = ListenObservation(
                        procs[pid], pid, port, address, now, now
                    )
                    self._unresolved.pop(inode, None)
                else:  # not ours, or created after the process list was read: retry twice
                    tries = self._unresolved.get(inode, 0) + 1
                    self._unresolved[inode] = tries
                    if tries >= 3:
                        self._foreign.add(inode)
        for inode, _address, _port in listening:
            if inode in self.listeners:
                self.listeners[inode].last = now
        self.samples += 1

    def _walk(self, procs: dict[int, str]) -> dict[int, int]:
        """socket inode -> pid for every fd of our processes; notes open PACS indexes."""
        holders = {}
        for pid, owner in procs.items():
            folder = f"/proc/{pid}/fd"
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for fd in names:
                try:
                    target = os.readlink(f"{folder}/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    holders[int(target[8:-1])] = pid
                elif target.endswith("index.sqlite"):
                    self.index_files.setdefault(target, set()).add(owner)
        return holders

    def measure_memory(self) -> None:
        rss: dict[str, int] = {}
        pss: dict[str, int] = {}
        for pid, owner in self.processes().items():
            if owner == "(hub)":
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss[owner] = rss.get(owner, 0) + int(line.split()[1]) * 1024
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        pss[owner] = pss.get(owner, 0) + int(line.split()[1]) * 1024
        for owner, value in rss.items():
            self.peak_rss[owner] = max(self.peak_rss.get(owner, 0), value)
        for owner, value in pss.items():
            self.peak_pss[owner] = max(self.peak_pss.get(owner, 0), value)

    def run(self) -> None:
        next_mem = 0.0
        while not self._stop_event.is_set():
            try:
                self.sample()
                if time.monotonic() >= next_mem:
                    self.measure_memory()
                    next_mem = time.monotonic() + self.mem_interval
            except Exception as exc:  # noqa: BLE001 - report, keep sampling
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def observations(self) -> list[ListenObservation]:
        return list(self.listeners.values())


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return ""


# --------------------------------------------------------------------------- verdicts
def port_clashes(observations: Iterable[ListenObservation]) -> list[str]:
    """Ports held by two different owners at overlapping times (one line each)."""
    by_port: dict[int, list[ListenObservation]] = {}
    for obs in observations:
        by_port.setdefault(obs.port, []).append(obs)
    clashes = []
    for port, seen in sorted(by_port.items()):
        for i, a in enumerate(seen):
            for b in seen[i + 1 :]:
                if a.owner != b.owner and a.first <= b.last and b.first <= a.last:
                    clashes.append(
                        f"port {port}: {a.owner} (pid {a.pid}) and {b.owner} (pid {b.pid})"
                    )
    return clashes


def history_clashes(histories: dict[str, list[dict]], homes: dict[str, Path]) -> list[str]:
    """From each user's ``medlab.services`` history: shared ports or roots, roots outside home.

    ``histories`` maps user -> that user's start/stop events; a service runs from
    its "start" to its "stop" (or to the end of the run if it never stopped).
    """
    spans = []  # (user, kind, port, root, start, end)
    for user, events in histories.items():
        open_: dict[tuple, dict] = {}
        for event in events:
            key = (event.get("kind"), event.get("port"), event.get("pid"))
            if event.get("event") == "start":
                open_[key] = event
            elif event.get("event") == "stop" and key in open_:
                start = open_.pop(key)
                spans.append(
                    (
                        user,
                        start.get("kind"),
                        start.get("port"),
                        start.get("root"),
                        start["time"],
                        event["time"],
                    )
                )
        for start in open_.values():
            spans.append(
                (
                    user,
                    start.get("kind"),
                    start.get("port"),
                    start.get("root"),
                    start["time"],
                    float("inf"),
                )
            )
    clashes = []
    for user, kind, port, root, _s, _e in spans:
        home = homes.get(user)
        if (
            root
            and home is not None
            and not Path(root).resolve().is_relative_to(Path(home).resolve())
        ):
            clashes.append(f"{user}'s {kind} on port {port} writes outside its home: {root}")
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if a[0] == b[0] or not (a[4] <= b[5] and b[4] <= a[5]):
                continue
            if a[2] == b[2]:
                clashes.append(f"port {a[2]}: {a[0]}'s {a[1]} and {b[0]}'s {b[1]} at the same time")
            if a[3] and a[3] == b[3]:
                clashes.append(f"root {a[3]}: {a[0]}'s {a[1]} and {b[0]}'s {b[1]} at the same time")
    return clashes


def index_clashes(index_files: dict[str, set[str]]) -> list[str]:
    """A PACS index file that processes of two different users had open."""
    return [
        f"{path} open by {', '.join(sorted(users))}"
        for path, users in sorted(index_files.items())
        if len(users) > 1
    ]


def index_outside_home(index_files: dict[str, set[str]], homes: dict[str, Path]) -> list[str]:
    """A PACS index a user's process had open outside that user's own medlab home."""
    found = []
    for path, users in sorted(index_files.items()):
        for user in sorted(users):
            home = homes.get(user)
            if home is not None and not Path(path).resolve().is_relative_to(Path(home).resolve()):
                found.append(f"{user}'s process had {path} open, outside {home}")
    return found


def pacs_roots(home: Path) -> list[Path]:
    """Every PACS storage folder under a medlab home (a folder holding an ``index.sqlite``)."""
    return sorted(p.parent for p in Path(home).rglob("index.sqlite")) if Path(home).is_dir() else []


def content_leaks(
    contents: dict[str, set[str]], markers: dict[str, str], what: str = "PACS"
) -> tuple[list[str], list[str]]:
    """Compare what each user's store holds with every user's own marker.

    Returns ``(leaks, missing)``: another user's marker in a user's store is a
    leak; a user's own marker absent from its own store is missing (so an empty
    store cannot pass for an isolated one).
    """
    leaks, missing = [], []
    owner_of = {m: u for u, m in markers.items()}
    for user, held in sorted(contents.items()):
        if markers.get(user) not in held:
            missing.append(f"{user}'s {what} lacks its own {markers.get(user)}")
        for item in sorted(held):
            other = owner_of.get(item)
            if other is not None and other != user:
                leaks.append(f"{user}'s {what} holds {other}'s {item}")
    return leaks, missing


def pacs_patients(root: Path) -> set[str]:
    """Open a PACS on ``root`` and C-FIND every study: the set of PatientIDs it holds."""
    from pydicom import Dataset
    from pynetdicom import AE
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

    from medlab.net import PACS

    with PACS(root=root, port=0) as pacs:
        ae = AE(ae_title="AUDIT")
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        assoc = ae.associate(pacs.host, pacs.port, ae_title=pacs.aet)
        if not assoc.is_established:
            raise RuntimeError(f"cannot associate with the PACS on {root}")
        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.PatientID = ""
        query.StudyInstanceUID = ""
        ids = {
            str(ident.PatientID)
            for status, ident in assoc.send_c_find(
                query, StudyRootQueryRetrieveInformationModelFind
            )
            if status and status.Status in (0xFF00, 0xFF01) and ident is not None
        }
        assoc.release()
    return ids


def hl7_patients(store: Path) -> set[str]:
    """PID-3 (first component) of every message stored under ``store`` (any depth)."""
    ids = set()
    for path in sorted(store.rglob("*.hl7")) if store.is_dir() else ():
        for segment in path.read_bytes().decode("utf-8", errors="replace").splitlines():
            if segment.startswith("PID|"):
                fields = segment.split("|")
                if len(fields) > 3:
                    ids.add(fields[3].split("^")[0])
    return ids


def tree_snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file under ``folder`` (skipping __pycache__)."""
    snap = {}
    if not folder.is_dir():
        return snap
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                st = os.stat(path)
                snap[path] = (st.st_size, st.st_mtime_ns)
    return snap


def shared_writes(before: dict, after: dict) -> list[str]:
    return [
        f"shared file written: {p}"
        for p in sorted(set(after) | set(before))
        if before.get(p) != after.get(p)
    ]


# --------------------------------------------------------------------------- the hub
def hub_config_text(hub: ClassHub) -> str:
    """The test hub's config: the deploy config, then what a test machine needs."""
    return f"""# Generated by bench/classroom.py: the class deploy config, then test-only overrides.
import sys
c = get_config()  # noqa: F821
load_subconfig({str(DEPLOY_CONFIG)!r})  # noqa: F821

# Test-only: any user name logs in, users are not system accounts (all run as this user,
# each with its own home), everything on 127.0.0.1 at free ports.
c.JupyterHub.authenticator_class = "jupyterhub.auth.DummyAuthenticator"
c.Authenticator.allowed_users = {set(hub.users)!r}
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = {str(hub.workdir / "users" / "{username}")!r}
c.JupyterHub.bind_url = "http://127.0.0.1:{hub.proxy_port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub.hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{hub.api_port}"
c.ConfigurableHTTPProxy.command = [{hub.chp!r}]
c.ConfigurableHTTPProxy.pid_file = {str(hub.workdir / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{hub.workdir / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(hub.workdir / "cookie_secret")!r}
c.JupyterHub.pid_file = {str(hub.workdir / "jupyterhub.pid")!r}
c.Spawner.cmd = [{str(VENV_BIN / "jupyterhub-singleuser")!r}]
# This machine runs as root: let the single-user servers start anyway.
c.Spawner.args.append("--ServerApp.allow_root=True")
c.Spawner.environment.update({{{RUN_ENV!r}: {hub.run_id!r}}})
# Each user's temporary folder apart from its home, to see what a lesson writes outside it
# (on a real server that is the shared /tmp).
c.Spawner.environment.update({{"TMPDIR": lambda spawner: {str(hub.workdir / "tmp")!r} + "/" + spawner.user.name}})
# Kernels use Unix sockets (deploy config) in the runtime folder; a test home is too deep
# for a socket path (~107 characters), so each user's runtime folder is a short one.
c.Spawner.environment.update({{"JUPYTER_RUNTIME_DIR": lambda spawner: {hub.runtime_root!r} + "/" + spawner.user.name}})
c.Spawner.start_timeout = 900
c.Spawner.http_timeout = 900
c.JupyterHub.init_spawners_timeout = 60
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.services.append({{"name": "classroom-harness", "api_token": {hub.admin_token!r}}})
c.JupyterHub.load_roles.append({{"name": "classroom-harness", "services": ["classroom-harness"],
                               "scopes": ["admin:users", "admin:servers", "list:users", "read:users"]}})
"""


@dataclass
class NotebookRun:
    user: str
    notebook: str
    cells: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


class ClassHub:
    """A JupyterHub for ``users`` in ``workdir``; start(), then the async helpers, then stop()."""

    def __init__(self, workdir: Path, users: list[str], chp: str, log=print) -> None:  # noqa: ANN001
        self.workdir = Path(workdir)
        self.users = list(users)
        self.chp = chp
        self.log = log
        self.run_id = uuid.uuid4().hex
        self.admin_token = secrets.token_hex(24)
        self.proxy_port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        while len({self.proxy_port, self.hub_port, self.api_port}) < 3:
            self.hub_port, self.api_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.proxy_port}"
        self.runtime_root = f"/tmp/mlrt-{self.run_id[:10]}"
        self.tokens: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self.leftovers: list[str] = []
        self.children_seen: list[str] = []

    def home(self, user: str) -> Path:
        return self.workdir / "users" / user

    def config_text(self) -> str:
        """The hub's configuration file (:class:`SystemUsersHub` adds to it)."""
        return hub_config_text(self)

    def medlab_home(self, user: str) -> Path:
        return self.home(user) / ".medlab"

    def prepare_users(self, lessons: list[str]) -> None:
        """Give each user the course, as nbgitpuller or a cloned repo would: their own copy."""
        for user in self.users:
            nbdir = self.home(user) / COURSE_DIR / "notebooks"
            nbdir.mkdir(parents=True, exist_ok=True)
            for lesson in lessons:
                shutil.copy2(REPO / "notebooks" / f"{lesson}.ipynb", nbdir / f"{lesson}.ipynb")
            for phase in ("before", "after"):
                (nbdir / f"zz_probe_{phase}.ipynb").write_text(json.dumps(probe_notebook(phase)))
            (self.workdir / "tmp" / user).mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 120) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "jupyterhub_config.py"
        config.write_text(self.config_text())
        env = {
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.workdir / "hub-home"),
            "LANG": "C.UTF-8",
            RUN_ENV: self.run_id,
            # Passed to the user servers by the deploy config's env_keep: a shared,
            # read-only sample-data folder is fine (and what a class does).
            "MEDLAB_DATA": os.environ.get("MEDLAB_DATA", str(REPO / "data")),
        }
        (self.workdir / "hub-home").mkdir(exist_ok=True)
        self._logfile = open(self.workdir / "jupyterhub.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(VENV_BIN / "jupyterhub"), "-f", str(config)],
            cwd=self.workdir,
            env=env,
            stdout=self._logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        import urllib.request

        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyterhub exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=2) as rsp:
                    if rsp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"jupyterhub did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        path = self.workdir / "jupyterhub.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    # -- REST helpers (tornado, so that many users run concurrently in one loop)
    async def api(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body=None,  # noqa: ANN001
        expect: Iterable[int] = (200, 201, 202, 204),
        timeout: float = 120,
    ):
        from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

        headers = {"Authorization": f"token {token or self.admin_token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = HTTPRequest(
            f"{self.url}{path}",
            method=method,
            headers=headers,
            body=json.dumps(body)
            if body is not None
            else (b"" if method in ("POST", "PUT", "PATCH") else None),
            request_timeout=timeout,
            follow_redirects=False,
            allow_nonstandard_methods=True,
        )
        try:
            rsp = await AsyncHTTPClient().fetch(request, raise_error=False)
        except HTTPClientError as exc:  # pragma: no cover - raise_error=False
            rsp = exc.response
        if rsp.code not in tuple(expect):
            raise RuntimeError(f"{method} {path}: HTTP {rsp.code} {rsp.body[:300]!r}")
        return rsp

    async def login(self, user: str) -> str:
        """Log ``user`` in through the REST API (the authenticator checks the credentials)."""
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest

        body = {
            "auth": {"username": user, "password": "any"},
            "note": "classroom",
            "expires_in": 7200,
        }
        rsp = await AsyncHTTPClient().fetch(
            HTTPRequest(
                f"{self.url}/hub/api/users/{user}/tokens",
                method="POST",
                body=json.dumps(body),
                headers={"Content-Type": "application/json"},
                request_timeout=120,
            ),
            raise_error=False,
        )
        if rsp.code != 201:
            raise RuntimeError(f"login of {user}: HTTP {rsp.code} {rsp.body[:300]!r}")
        self.tokens[user] = json.loads(rsp.body)["token"]
        return self.tokens[user]

    async def start_server(self, user: str, timeout: float = 900) -> None:
        token = self.tokens[user]
        await self.api("POST", f"/hub/api/users/{user}/server", token, body={})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rsp = await self.api("GET", f"/hub/api/users/{user}", token)
            server = json.loads(rsp.body).get("servers", {}).get("")
            if server and server.get("ready"):
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{user}'s server was not ready within {timeout} s")

    async def stop_server(self, user: str) -> None:
        with contextlib.suppress(Exception):
            await self.api(
                "DELETE", f"/hub/api/users/{user}/server", expect=(202, 204), timeout=120
            )
            for _ in range(240):
                rsp = await self.api("GET", f"/hub/api/users/{user}")
                if not json.loads(rsp.body).get("servers"):
                    return
                await asyncio.sleep(0.5)

    async def default_url(self, user: str) -> str:
        """Where the user's server sends a browser that opens ``/user/<name>/``."""
        rsp = await self.api(
            "GET", f"/user/{user}/", self.tokens[user], expect=(301, 302, 303, 307)
        )
        return rsp.headers.get("Location", "")

    async def run_notebook(
        self, user: str, notebook: str, cell_timeout: float = CELL_TIMEOUT
    ) -> NotebookRun:
        """Run one notebook in ``user``'s server, cell by cell, as JupyterLab does."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        result = NotebookRun(user, notebook)
        t0 = time.monotonic()
        token = self.tokens[user]
        base = f"/user/{user}/api"
        path = f"{COURSE_DIR}/notebooks/{notebook}.ipynb"
        try:
            rsp = await self.api("GET", f"{base}/contents/{path}?content=1", token)
            nb = json.loads(rsp.body)["content"]
            rsp = await self.api(
                "POST",
                f"{base}/sessions",
                token,
                body={
                    "path": path,
                    "name": f"{notebook}.ipynb",
                    "type": "notebook",
                    "kernel": {"name": "python3"},
                },
                timeout=600,
            )
            session = json.loads(rsp.body)
        except Exception as exc:  # noqa: BLE001
            result.errors.append(f"cannot open the notebook: {exc}")
            result.seconds = time.monotonic() - t0
            return result
        kernel_id = session["kernel"]["id"]
        session_id = uuid.uuid4().hex
        ws_url = (
            f"{self.url.replace('http', 'ws', 1)}{base}/kernels/{kernel_id}/channels"
            f"?session_id={session_id}"
        )
        conn = None
        try:
            # Connect as JupyterLab does, retrying: on a busy server the server's own
            # "kernel_info" nudge can time out (60 s) and close the socket before the first cell.
            for attempt in range(4):
                try:
                    conn = await websocket_connect(
                        HTTPRequest(
                            ws_url, headers={"Authorization": f"token {token}"}, request_timeout=600
                        ),
                        max_message_size=256 * 1024 * 1024,
                    )
                    await self._request(conn, session_id, "kernel_info_request", {}, 600, result)
                    break
                except Exception:  # noqa: BLE001 - retried, then reported
                    if conn is not None:
                        conn.close()
                        conn = None
                    if attempt == 3:
                        raise
                    await asyncio.sleep(2 * (attempt + 1))
            for cell in nb["cells"]:
                if cell["cell_type"] != "code":
                    continue
                source = (
                    "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                )
                tags = set(cell.get("metadata", {}).get("tags", []))
                if "NBVAL_SKIP" in source or "nbval-skip" in tags or not source.strip():
                    continue
                may_raise = "NBVAL_RAISES_EXCEPTION" in source or "raises-exception" in tags
                errors = await self._request(
                    conn,
                    session_id,
                    "execute_request",
                    {
                        "code": source,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                    cell_timeout,
                    result,
                )
                result.cells += 1
                if errors and not may_raise:
                    result.errors.append(f"cell {result.cells}: {errors[0]}")
                    break  # as "Run All" in JupyterLab: stop at the first error
        except Exception as exc:  # noqa: BLE001
            result.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            if conn is not None:
                conn.close()
            with contextlib.suppress(Exception):
                await self.api("DELETE", f"{base}/sessions/{session['id']}", token, timeout=120)
        result.seconds = time.monotonic() - t0
        return result

    @staticmethod
    async def _request(
        conn,
        session_id: str,
        msg_type: str,
        content: dict,  # noqa: ANN001
        timeout: float,
        result: NotebookRun,
    ) -> list[str]:
        """Send one shell request; wait for its reply and the kernel's idle; return errors."""
        msg_id = uuid.uuid4().hex
        msg = {
            "header": {
                "msg_id": msg_id,
                "msg_type": msg_type,
                "username": result.user,
                "session": session_id,
                "date": "",
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
        await conn.write_message(json.dumps(msg))
        errors: list[str] = []
        replied = idle = False
        deadline = time.monotonic() + timeout
        while not (replied and (idle or msg_type == "kernel_info_request")):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{msg_type} got no answer within {timeout:.0f} s")
            raw = await asyncio.wait_for(conn.read_message(), remaining)
            if raw is None:
                raise ConnectionError("the kernel websocket closed")
            if isinstance(raw, bytes):
                continue  # binary frames (widgets' buffers) are not errors
            reply = json.loads(raw)
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = reply.get("msg_type") or reply.get("header", {}).get("msg_type")
            body = reply.get("content", {})
            if kind == "error":
                errors.append(f"{body.get('ename')}: {body.get('evalue')}")
            elif kind in ("execute_reply", "kernel_info_reply"):
                replied = True
                if body.get("status") == "error" and not errors:
                    errors.append(f"{body.get('ename')}: {body.get('evalue')}")
            elif kind == "status" and body.get("execution_state") == "idle":
                idle = True
        return errors

    # -- stopping and checking nothing is left
    def run_processes(self) -> dict[int, str]:
        """Live processes of this run (hub, proxy, user servers, kernels, services)."""
        found = {}
        marker_bytes = f"{RUN_ENV}={self.run_id}".encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if marker_bytes in environ:
                found[int(entry)] = cmdline.decode(errors="replace")[:120]
        return found

    def descendants(self) -> dict[tuple[int, str], str]:
        """(pid, start time) -> command of every process below the hub (proxy, culler, servers)."""
        if self.process is None:
            return {}
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    parents[int(entry)] = int(stat.rsplit(")", 1)[-1].split()[1])
        found, todo = {}, [self.process.pid]
        while todo:
            pid = todo.pop()
            for child, parent in parents.items():
                if parent == pid:
                    todo.append(child)
                    with contextlib.suppress(OSError):
                        cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                        found[(child, _start_time(child))] = cmd.decode(errors="replace")[:120]
        return found

    def stop(self, timeout: float = 60) -> list[str]:
        """Stop the hub (which stops the servers and the proxy); return what was left over."""
        below = self.descendants()
        self.children_seen = sorted(below.values())
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.leftovers.append("jupyterhub did not stop on SIGTERM")
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(AttributeError, OSError):
            self._logfile.close()
        shutil.rmtree(self.runtime_root, ignore_errors=True)
        # Whatever still runs with this run's marker is a leftover: report it, then end it.
        deadline = time.monotonic() + 15

        def still_running() -> dict[int, str]:
            left = self.run_processes()
            for (pid, start), cmd in below.items():
                if _start_time(pid) == start:
                    left.setdefault(pid, cmd)
            return left

        left = still_running()
        while left and time.monotonic() < deadline:
            time.sleep(0.3)
            left = still_running()
        for pid, cmd in left.items():
            self.leftovers.append(f"process {pid} left running: {cmd}")
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        still = listening_ports()
        for port in (self.proxy_port, self.hub_port, self.api_port):
            if port in still:
                self.leftovers.append(f"port {port} still listening after the hub stopped")
        return self.leftovers


class SystemUsersHub(ClassHub):
    """A hub whose trainees are real Unix users: each server runs as that user.

    Plain JupyterHub's and TLJH's model (``LocalProcessSpawner``: the hub, as root,
    starts each single-user server with the user's own uid, gid and home). The users
    must exist (``useradd``) before :meth:`start`, and the repository, the venv and its
    interpreter must be readable by them. Each server imports medlab from this
    repository (``PYTHONPATH``) and keeps its temporary and kernel runtime folders in
    its own home (the base class's test folders are root's).
    """

    def home(self, user: str) -> Path:
        import pwd

        return Path(pwd.getpwnam(user).pw_dir)

    def config_text(self) -> str:
        return (
            super().config_text()
            + f"""
# Real Unix users (bench/classroom.py, SystemUsersHub): each server runs as its own user.
import pwd
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
def _in_home(folder):
    return lambda spawner: pwd.getpwnam(spawner.user.name).pw_dir + "/" + folder
c.Spawner.environment.update({{"TMPDIR": _in_home("tmp"), "JUPYTER_RUNTIME_DIR": _in_home(".rt"),
                              "PYTHONPATH": {str(REPO)!r}}})
"""
        )

    def give(self, user: str, notebooks: dict[str, dict]) -> None:
        """Write ``notebooks`` (name -> notebook JSON) into the user's course folder, theirs."""
        import pwd

        entry = pwd.getpwnam(user)
        home = self.home(user)
        nbdir = home / COURSE_DIR / "notebooks"
        for folder in (home / "tmp", home / ".rt", nbdir):
            folder.mkdir(parents=True, exist_ok=True)
        for name, nb in notebooks.items():
            (nbdir / f"{name}.ipynb").write_text(json.dumps(nb))
        for path in (
            home / "tmp",
            home / ".rt",
            home / COURSE_DIR,
            *home.joinpath(COURSE_DIR).rglob("*"),
        ):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        (home / ".rt").chmod(0o700)


# --------------------------------------------------------------------------- one class
@dataclass
class ClassResult:
    users: int
    lessons: list[str]
    wall: float = 0.0
    servers_ready: float = 0.0
    failures: list[str] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    runs: list[NotebookRun] = field(default_factory=list)
    peak_rss: dict[str, int] = field(default_factory=dict)
    peak_pss: dict[str, int] = field(default_factory=dict)
    listeners: int = 0
    services_started: int = 0
    default_urls: dict[str, str] = field(default_factory=dict)
    samples: int = 0
    patients: dict[str, set[str]] = field(default_factory=dict)
    hub_children: list[str] = field(default_factory=list)
    exposed: list[str] = field(default_factory=list)
    outside_home: list[str] = field(default_factory=list)
    indexes_seen: int = 0
    roots_queried: int = 0

    @property
    def ok(self) -> bool:
        return not (self.failures or self.clashes or self.leaks or self.leftovers)

    def report(self) -> str:
        lines = [
            f"{self.users} users, lessons {', '.join(self.lessons) or '(probe only)'}:"
            f" {self.wall:.1f} s, {len(self.failures)} failures, {len(self.clashes)} clashes,"
            f" {len(self.leaks)} leaks, {len(self.leftovers)} leftovers"
        ]
        for title, items in (
            ("failure", self.failures),
            ("clash", self.clashes),
            ("leak", self.leaks),
            ("leftover", self.leftovers),
            ("note", self.exposed),
            ("outside home", self.outside_home),
        ):
            lines += [f"  {title}: {item}" for item in items[:20]]
        return "\n".join(lines)


def run_class(
    n_users: int,
    lessons: list[str],
    workdir: Path | None = None,
    *,
    log=print,
    keep: bool = False,
    cell_timeout: float = CELL_TIMEOUT,
) -> ClassResult:  # noqa: ANN001
    """Start a hub for ``n_users``, run everything, stop it, and judge the run."""
    chp = find_chp()
    if chp is None:
        raise RuntimeError(
            "configurable-http-proxy not found (make install, or "
            "npm install --prefix .venv/chp configurable-http-proxy)"
        )
    users = [f"trainee{i:02d}" for i in range(1, n_users + 1)]
    own_tmp = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="medlab-class-")) if workdir is None else Path(workdir)
    result = ClassResult(n_users, list(lessons))
    hub = ClassHub(workdir, users, chp, log=log)
    hub.prepare_users(lessons)
    sampler = Sampler(hub.run_id)
    from medlab import paths

    shared = paths.data_dir()
    before = tree_snapshot(shared)
    sampler.start()
    t0 = time.monotonic()
    try:
        hub.start()
        log(f"hub up on {hub.url} after {time.monotonic() - t0:.1f} s")
        # In a thread of its own: an event loop may already run in this one (a session-wide
        # Playwright of browser tests on the same pytest worker).
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _drive(hub, lessons, result, log, cell_timeout)).result()
    finally:
        result.leftovers = hub.stop()
        result.hub_children = hub.children_seen
        sampler.stop()
    still = listening_inodes()
    result.leftovers += [
        f"{obs.owner}'s port {obs.port} (pid {obs.pid}) still listening"
        for inode, obs in sampler.listeners.items()
        if inode in still
    ]
    result.failures += [f"sampler: {e}" for e in sampler.errors[:5]]
    result.samples = sampler.samples
    result.peak_rss, result.peak_pss = dict(sampler.peak_rss), dict(sampler.peak_pss)
    observations = sampler.observations()
    result.listeners = sum(1 for o in observations if o.owner != "(hub)")
    # Not a clash, but worth knowing on a shared server: a listener other trainees can reach
    # from outside loopback (e.g. DCMTK's storescp, which has no bind-address option).
    result.exposed = sorted(
        {
            f"{obs.owner}'s process {obs.pid} listens on all interfaces, port {obs.port}"
            for obs in observations
            if obs.owner != "(hub)" and not _loopback(obs.address)
        }
    )
    result.clashes += port_clashes(observations)
    result.clashes += index_clashes(sampler.index_files)
    result.clashes += index_outside_home(
        sampler.index_files, {u: hub.medlab_home(u) for u in users}
    )
    result.indexes_seen = len(sampler.index_files)
    from medlab import services

    histories = {u: services.history(home=hub.medlab_home(u)) for u in users}
    result.services_started = sum(
        1 for events in histories.values() for e in events if e.get("event") == "start"
    )
    result.clashes += history_clashes(histories, {u: hub.medlab_home(u) for u in users})
    markers = {u: marker(u) for u in users}
    pacs_held, hl7_held = {}, {}
    for user in users:
        # Every PACS this user's lessons and probes created (the default root and the
        # lessons' own fresh roots under ~/.medlab/lessons/), each opened and C-FINDed.
        pacs_held[user] = set()
        roots = pacs_roots(hub.medlab_home(user))
        result.roots_queried += len(roots)
        for root in roots:
            try:
                pacs_held[user] |= pacs_patients(root)
            except Exception as exc:  # noqa: BLE001
                result.failures.append(f"{user}: cannot query its PACS at {root}: {exc}")
        # Every HL7 message any listener of this user stored (default store or a lesson's own).
        hl7_held[user] = hl7_patients(hub.medlab_home(user))
    result.patients = pacs_held
    for held, what in ((pacs_held, "PACS"), (hl7_held, "HL7 store")):
        leaks, missing = content_leaks(held, markers, what)
        result.leaks += leaks
        result.failures += missing
    result.leaks += shared_writes(before, tree_snapshot(shared))
    for user in users:
        written = sorted(tree_snapshot(workdir / "tmp" / user))
        if written:
            result.outside_home.append(
                f"{user} wrote {len(written)} file(s) into its temporary "
                f"folder (a shared /tmp on a real server), e.g. {written[0]}"
            )
    if own_tmp and not keep and result.ok:
        shutil.rmtree(workdir, ignore_errors=True)
    elif not result.ok or keep:
        log(f"kept {workdir} (hub log: {workdir / 'jupyterhub.log'})")
    return result


async def _drive(
    hub: ClassHub,
    lessons: list[str],
    result: ClassResult,
    log,  # noqa: ANN001
    cell_timeout: float = CELL_TIMEOUT,
) -> None:
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=max(64, 8 * len(hub.users)))
    t0 = time.monotonic()
    notebooks = ["zz_probe_before", *lessons, "zz_probe_after"]

    async def one_user(user: str) -> None:
        try:
            await hub.login(user)
            await hub.start_server(user)
            result.default_urls[user] = await hub.default_url(user)
        except Exception as exc:  # noqa: BLE001
            result.failures.append(f"{user}: server did not start: {exc}")
            return
        result.servers_ready = max(result.servers_ready, time.monotonic() - t0)
        for nb in notebooks:
            run = await hub.run_notebook(user, nb, cell_timeout)
            result.runs.append(run)
            result.failures += [f"{user} {nb}: {e}" for e in run.errors]
            if run.errors and nb == "zz_probe_before":
                break

    await asyncio.gather(*(one_user(u) for u in hub.users))
    result.wall = time.monotonic() - t0
    log(f"all lessons finished after {result.wall:.1f} s")
    await asyncio.gather(*(hub.stop_server(u) for u in hub.users))


# --------------------------------------------------------------------------- CLI
def _mib(value: float) -> str:
    return f"{value / 2**20:.0f}"


def table(results: list[ClassResult]) -> str:
    head = (
        "| users | servers ready (s) | all lessons done (s) | failures | port clashes | "
        "cross-user leaks | peak RSS per user, max / median (MiB) | peak PSS per user, max / median (MiB) |"
    )
    rows = [head, "|" + "---|" * 8]
    for r in results:
        rss = list(r.peak_rss.values()) or [0]
        pss = list(r.peak_pss.values()) or [0]
        rows.append(
            f"| {r.users} | {r.servers_ready:.0f} | {r.wall:.0f} | {len(r.failures)} | "
            f"{len(r.clashes)} | {len(r.leaks)} | {_mib(max(rss))} / {_mib(statistics.median(rss))} | "
            f"{_mib(max(pss))} / {_mib(statistics.median(pss))} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--users",
        type=int,
        nargs="+",
        default=[5],
        help="class sizes to run, one hub each (e.g. 5 10 20 30)",
    )
    parser.add_argument(
        "--lessons",
        nargs="*",
        default=None,
        help=f"lesson notebooks to run (default: those present of {' '.join(DEFAULT_LESSONS)})",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep each run's folder (hub log, homes)"
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=CELL_TIMEOUT,
        help=f"seconds one cell may run before it counts as failed (default {CELL_TIMEOUT:g})",
    )
    args = parser.parse_args(argv)
    lessons = lessons_present(args.lessons if args.lessons is not None else DEFAULT_LESSONS)
    missing = set(args.lessons or []) - set(lessons)
    if missing:
        parser.error(f"no such lesson notebook: {', '.join(sorted(missing))}")
    print(
        f"lessons: {', '.join(lessons) or '(none)'} (+ the probe before and after); "
        f"{os.cpu_count()} cores; jupyterhub {_version('jupyterhub')}; proxy {find_chp()}"
    )
    results = []
    for n in args.users:
        result = run_class(
            n,
            lessons,
            log=lambda text, n=n: print(f"  [{n:>2} users] {text}", flush=True),
            keep=args.keep,
            cell_timeout=args.cell_timeout,
        )
        results.append(result)
        print(result.report(), flush=True)
        per_nb: dict[str, list[float]] = {}
        for run in result.runs:
            per_nb.setdefault(run.notebook, []).append(run.seconds)
        print(
            "  per notebook, median / max (s): "
            + ", ".join(f"{nb} {statistics.median(v):.1f}/{max(v):.1f}" for nb, v in per_nb.items())
        )
        print(
            f"  {result.listeners} listening sockets of users seen, {result.indexes_seen} PACS "
            f"indexes seen open, {result.services_started} medlab services recorded, "
            f"{result.roots_queried} PACS roots queried at the end, {result.samples} samples",
            flush=True,
        )
        print(table([result]).splitlines()[-1], flush=True)  # this size's row, at once
    print()
    print(table(results))
    return 0 if all(r.ok for r in results) else 1


def _version(dist: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


if __name__ == "__main__":
    sys.exit(main())
