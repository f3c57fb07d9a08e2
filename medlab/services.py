"""Which medlab services (PACS, HL7 listener, ...) this user is running, and where.

Each running service leaves a small JSON *record* in ``<medlab home>/run/``
(one file per service: kind, host, port, process id, storage folder). The
record is removed when the service stops; a record whose process has died (a
crashed kernel, a killed terminal) is *stale* and ignored by :func:`running`.
``medlab doctor`` lists the running services from these records, so a trainee
can see "my PACS is on port 41231" without remembering it.

Every start and stop is also appended to ``<medlab home>/run/history.jsonl``
(one JSON object per line, never rewritten): the class tests and
``bench/classroom.py`` read it to prove that no two users' services shared a
port or a storage folder.

A service that writes files under a *root* folder (the PACS storage and index,
the HL7 message store) also takes an exclusive lock on ``<root>/.medlab-lock``
while it runs, so two services can never write one folder at the same time —
in one process or in two. The lock is an OS lock (``flock``): it disappears
with the process, so a crash never leaves a folder locked.

Everything here lives under :func:`medlab.paths.home` (``$MEDLAB_HOME`` or
``~/.medlab``): one user's records are never seen by another user.

Example::

    from medlab import services
    handle = services.register("pacs", "127.0.0.1", 41231, root=pacs_root)
    services.running()      # [<pacs on 127.0.0.1:41231, pid 1234, root ...>]
    handle.stop()           # record removed, lock released, "stop" in the history
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medlab import paths
from medlab.errors import MedlabError

try:  # POSIX only; on Windows a root is not locked (one user per machine there)
    import fcntl
except ImportError:  # pragma: no cover - not on the course's Linux/macOS targets
    fcntl = None  # type: ignore[assignment]

RUN_DIR = "run"
HISTORY = "history.jsonl"
LOCK_NAME = ".medlab-lock"

_lock = threading.Lock()


def run_dir() -> Path:
    """The folder with this user's service records (created if missing)."""
    return paths.private_dir(paths.home() / RUN_DIR)


def history_path() -> Path:
    """The append-only start/stop history (``<medlab home>/run/history.jsonl``)."""
    return run_dir() / HISTORY


def _user() -> str:
    name = os.environ.get("JUPYTERHUB_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "?"


def _process_start(pid: int) -> str:
    """The kernel's start time of ``pid`` (Linux), to tell a reused pid from ours."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22 (starttime); the command name (field 2) may contain spaces and
    # parentheses, so count from the last ')'.
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, start: str = "") -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    return not start or not Path("/proc").is_dir() or _process_start(pid) == start


@dataclass(frozen=True)
class Service:
    """One running service, as recorded."""

    kind: str
    host: str
    port: int
    pid: int
    started: float
    root: str | None = None
    user: str = ""
    aet: str | None = None
    record: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        """One line for ``medlab doctor``."""
        name = f"{self.kind} {self.aet}" if self.aet else self.kind
        where = f", storage {self.root}" if self.root else ""
        return f"{name} on {self.address} (process {self.pid}{where})"

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


class Handle:
    """What :func:`register` returns: stop it when the service stops."""

    def __init__(self, service: Service, record: Path, lock_fd: int | None) -> None:
        self.service = service
        self.record = record
        self._lock_fd = lock_fd
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Remove the record, release the root lock, note the stop in the history."""
        with _lock:
            if self._stopped:
                return
            self._stopped = True
        with contextlib.suppress(FileNotFoundError):
            self.record.unlink()
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)  # closing the file releases the flock
            self._lock_fd = None
        _append_history("stop", self.service)

    close = stop

    def __enter__(self) -> Handle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<medlab.services.Handle {self.service.describe()} ({state})>"


class RootLock:
    """An exclusive lock on a storage folder, from :func:`lock_root`."""

    def __init__(self, root: str, fd: int | None) -> None:
        self.root = root
        self.fd = fd

    def release(self) -> None:
        """Give the folder free (closing the lock file releases the OS lock)."""
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __repr__(self) -> str:
        return f"<medlab.services.RootLock {self.root} ({'held' if self.fd is not None else 'released'})>"


def lock_root(root: str | Path, kind: str = "service") -> RootLock:
    """Lock ``root`` for one service *before* it opens its files; raise if another holds it.

    A PACS takes this before opening its index (its crash recovery must never
    run under another PACS's feet), then passes it to :func:`register` once it
    listens. Raises :class:`MedlabError` naming the holder.
    """
    root_text = str(Path(root).expanduser().resolve())
    probe = Service(
        kind=kind,
        host="",
        port=0,
        pid=os.getpid(),
        started=time.time(),
        root=root_text,
        user=_user(),
    )
    return RootLock(root_text, _lock_root(probe))


def register(
    kind: str,
    host: str,
    port: int,
    *,
    root: str | Path | None = None,
    aet: str | None = None,
    pid: int | None = None,
    lock: RootLock | None = None,
) -> Handle:
    """Record that a service of ``kind`` listens on ``host:port``; return its handle.

    Call it once the service is listening (so ``port`` is the real one, even
    when the service was asked for port 0). With ``root``, the folder the service
    writes is locked for as long as the handle is not stopped: a second service
    on the same root raises :class:`MedlabError` naming the one that holds it.
    A ``lock`` already taken with :func:`lock_root` is handed over instead (and
    released when the handle stops).

    Raises
    ------
    MedlabError
        When ``root`` is already in use by another running service.
    """
    if not kind or not kind.replace("-", "").replace("_", "").isalnum():
        raise MedlabError(
            f"Service kind {kind!r} is not a simple name", fix="Use a word such as 'pacs' or 'hl7'."
        )
    port = int(port)
    if not 0 < port < 65536:
        raise MedlabError(
            f"Port {port} is not a listening port",
            where=f"{host}:{port}",
            fix="Register the service after it started listening, with its real port.",
        )
    pid = os.getpid() if pid is None else int(pid)
    if lock is not None and root is None:
        root = lock.root
    root_text = str(Path(root).expanduser().resolve()) if root is not None else None
    service = Service(
        kind=kind,
        host=host,
        port=port,
        pid=pid,
        started=time.time(),
        root=root_text,
        user=_user(),
        aet=aet,
    )
    if lock is not None and lock.fd is not None and lock.root == root_text:
        lock_fd, lock.fd = lock.fd, None  # the handle owns it now
        _describe_lock(lock_fd, service)
    else:
        lock_fd = _lock_root(service) if root_text else None
    folder = run_dir()
    # A live record for the same address can only be stale (two sockets cannot
    # listen on one address): e.g. a service object that was never stopped.
    for old in running():
        if old.host == host and old.port == port and old.record:
            with contextlib.suppress(FileNotFoundError):
                Path(old.record).unlink()
    record = folder / f"{kind}-{pid}-{port}-{uuid.uuid4().hex[:8]}.json"
    service = Service(**{**service.__dict__, "record": str(record)})
    data = {**service.__dict__, "pid_start": _process_start(pid), "home": str(paths.home())}
    tmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
    with paths.open_private(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=1))
    os.replace(tmp, record)  # readers never see half a record
    handle = Handle(service, record, lock_fd)
    _append_history("start", service)
    return handle


def _lock_root(service: Service) -> int | None:
    """Take the exclusive lock on ``<root>/.medlab-lock``; raise if someone holds it."""
    if fcntl is None:
        return None
    root = Path(service.root)  # type: ignore[arg-type]
    paths.private_dir(root)
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, paths.PRIVATE_FILE_MODE)
    with contextlib.suppress(OSError):  # not ours (a shared folder): leave its mode
        os.fchmod(fd, paths.PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = ""
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(os.pread(fd, 4096, 0) or b"{}")
            holder = f"{info.get('kind', 'a service')} on {info.get('host')}:{info.get('port')} (process {info.get('pid')})"
        os.close(fd)
        raise MedlabError(
            f"This folder is already used by another running {service.kind}"
            + (f": {holder}" if holder else ""),
            where=str(root),
            fix="Two services must not write one folder. Stop the other one first "
            "(medlab doctor lists your running services), or give this one its own folder.",
        ) from None
    _describe_lock(fd, service)
    return fd


def _describe_lock(fd: int, service: Service) -> None:
    """Write who holds the lock into the lock file (read by the next one refused)."""
    os.ftruncate(fd, 0)
    os.pwrite(
        fd,
        json.dumps(
            {
                "kind": service.kind,
                "host": service.host,
                "port": service.port,
                "pid": service.pid,
                "user": service.user,
            }
        ).encode(),
        0,
    )


def _read(record: Path) -> tuple[Service, str] | None:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        start = str(data.pop("pid_start", ""))
        data.pop("home", None)
        data["record"] = str(record)
        fields = {k: data[k] for k in Service.__dataclass_fields__ if k in data}
        return Service(**fields), start
    except (OSError, ValueError, TypeError):
        return None


def running(kind: str | None = None) -> list[Service]:
    """This user's running services (optionally of one kind), oldest first.

    Records whose process is gone are stale: they are skipped (and removed).
    """
    folder = paths.home() / RUN_DIR
    found = []
    for record in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        read = _read(record)
        if read is None:
            continue
        service, start = read
        if not _alive(service.pid, start):
            with contextlib.suppress(OSError):
                record.unlink()
            continue
        if kind is None or service.kind == kind:
            found.append(service)
    return sorted(found, key=lambda s: (s.started, s.kind, s.port))


def _append_history(event: str, service: Service) -> None:
    line = json.dumps(
        {
            "event": event,
            "time": time.time(),
            "kind": service.kind,
            "host": service.host,
            "port": service.port,
            "pid": service.pid,
            "root": service.root,
            "user": service.user,
            "aet": service.aet,
            "home": str(paths.home()),
        }
    )
    # O_APPEND: each short line lands whole at the end, even with several writers.
    fd = os.open(history_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, paths.PRIVATE_FILE_MODE)
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, paths.PRIVATE_FILE_MODE)
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def history(kind: str | None = None, *, home: str | Path | None = None) -> list[dict[str, Any]]:
    """Every start/stop event recorded (optionally of one kind), in order.

    ``home`` reads another medlab home (the class tests read each user's).
    """
    path = (
        (Path(home) / RUN_DIR / HISTORY) if home is not None else paths.home() / RUN_DIR / HISTORY
    )
    events = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if kind is None or event.get("kind") == kind:
                events.append(event)
    return events


__all__ = [
    "Handle",
    "RootLock",
    "Service",
    "history",
    "history_path",
    "lock_root",
    "register",
    "run_dir",
    "running",
]
