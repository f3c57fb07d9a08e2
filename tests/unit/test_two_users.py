"""Two real Unix users on one host: user B cannot use user A's services or read A's files.

This is the shared-host case of a JupyterHub (every user's server shares the
machine's loopback, and ``ss -ltn`` shows everyone's ports). The test creates two
throw-away users with ``useradd`` (it needs root: CI runs as root; elsewhere it
skips, and under CI=true it fails rather than skip), runs A's services as A and
B's clients as B, and checks:

* B's MLLP send to A's HL7 listener fails (the connection is closed, A logs why,
  nothing is stored), while A's own send is acknowledged AA;
* B cannot list A's medlab home nor read any file in it, while A can; A's home
  directory itself is left traversable (0755) on purpose, so only medlab's own
  modes (0700/0600, :mod:`medlab.paths`) protect A's files.

Reusable for more services: ``UnixUser.serve(start)`` runs a server as that user
(``start()`` returns an object with ``port`` and ``stop()``), ``UnixUser.run(argv)``
runs a program as that user (e.g. DCMTK's ``/usr/bin/echoscu``), and
``UnixUser.call(fn)`` runs a Python function as that user. For the PACS::

    port = user_a.serve(lambda: PACS(port=0).start())
    result = user_b.run(["/usr/bin/echoscu", "-aec", "MEDLAB", "127.0.0.1", str(port)])
    assert result.returncode != 0

Python code run as a user is forked from this (root) process after the
privileges are dropped, so it reuses the modules already imported: the
interpreter's own files may not be readable by the new user. Run the same code
once as root first (see ``_warm_up``) so every module it needs is loaded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import pwd
import select
import shutil
import signal
import subprocess
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import support

#: Write ends of the servers' stop pipes (closed in every forked child).
_STOP_PIPES: set[int] = set()


@dataclass
class Outcome:
    """What a function run as another user returned or raised (as text)."""

    value: Any = None
    error_type: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error_type


@dataclass
class UnixUser:
    name: str
    uid: int
    gid: int
    home: Path
    servers: list[tuple[int, int]] = field(default_factory=list)  # (pid, stop-pipe fd)

    @staticmethod
    def _close_other_servers_pipes() -> None:
        """In a forked child: let go of every server's stop pipe (or it would never see EOF)."""
        for fd in list(_STOP_PIPES):
            with contextlib.suppress(OSError):
                os.close(fd)

    @property
    def medlab_home(self) -> Path:
        return self.home / ".medlab"

    def _become(self) -> None:
        """In a forked child: drop root for this user, with a permissive umask."""
        os.setgroups([])
        os.setgid(self.gid)
        os.setuid(self.uid)
        os.environ.update(
            HOME=str(self.home), USER=self.name, LOGNAME=self.name,
            MEDLAB_HOME=str(self.medlab_home),
        )  # fmt: skip
        os.environ.pop("MEDLAB_ACCEPT_PEERS", None)
        os.environ.pop("MEDLAB_CONFIG", None)
        os.umask(0o022)  # the common default: medlab must not rely on a strict one
        os.chdir(self.home)

    def run(
        self, argv: list[str], timeout: float = 60, **kwargs: Any
    ) -> subprocess.CompletedProcess:
        """Run a program as this user (``runuser``), capturing its output as text."""
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "TCP_NODELAY": "1"}
        return subprocess.run(
            [shutil.which("runuser") or "/usr/sbin/runuser", "-u", self.name, "--", *argv],
            capture_output=True, text=True, timeout=timeout, env=env, cwd="/", **kwargs,
        )  # fmt: skip

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 60) -> Outcome:
        """Run ``fn(*args)`` as this user in a forked child; its result must pickle."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            code = 0
            try:
                os.close(read_fd)
                self._close_other_servers_pipes()
                self._become()
                try:
                    outcome = Outcome(value=fn(*args))
                except BaseException as exc:  # reported to the parent, as text
                    outcome = Outcome(error_type=type(exc).__name__, error=str(exc))
                data = pickle.dumps(outcome)
                while data:
                    data = data[os.write(write_fd, data) :]
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        try:
            data = _read_all(read_fd, timeout)
        finally:
            os.close(read_fd)
            _reap(pid)
        if not data:
            raise AssertionError(f"the child running as {self.name} died without an answer")
        return pickle.loads(data)

    def serve(self, start: Callable[[], Any], timeout: float = 60) -> int:
        """Start a server as this user in a forked child; return its port.

        ``start()`` returns an object with ``port`` and ``stop()``; the child
        stops it when :meth:`stop_servers` runs (the fixture's teardown).
        """
        port_r, port_w = os.pipe()
        stop_r, stop_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            code = 0
            try:
                os.close(port_r)
                os.close(stop_w)
                self._close_other_servers_pipes()
                self._become()
                server = start()
                os.write(port_w, str(server.port).encode() + b"\n")
                os.close(port_w)
                os.read(stop_r, 1)  # blocks until the parent closes its end
                server.stop()
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        os.close(port_w)
        os.close(stop_r)
        self.servers.append((pid, stop_w))
        _STOP_PIPES.add(stop_w)
        try:
            line = _read_all(port_r, timeout).decode().strip()
        finally:
            os.close(port_r)
        if not line:
            raise AssertionError(f"the server started as {self.name} did not report a port")
        return int(line)

    def stop_servers(self) -> None:
        for pid, stop_w in self.servers:
            _STOP_PIPES.discard(stop_w)
            with contextlib.suppress(OSError):
                os.close(stop_w)
            _reap(pid)
        self.servers.clear()


def _read_all(fd: int, timeout: float) -> bytes:
    chunks, deadline = [], time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError("no answer from the child process in time")
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _create_user(name: str) -> UnixUser:
    subprocess.run(["userdel", "-r", name], capture_output=True)  # a leftover of a killed run
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
    entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    home.chmod(0o755)  # traversable on purpose: only medlab's own modes may protect .medlab
    return UnixUser(name, entry.pw_uid, entry.pw_gid, home)


@pytest.fixture(scope="module")
def two_users() -> Iterator[tuple[UnixUser, UnixUser]]:
    """Users A and B, created for this module and removed (with their homes) after it."""
    support.require(
        hasattr(os, "geteuid") and os.geteuid() == 0,
        "creating two Unix users needs root (CI runs as root)",
    )
    for tool in ("useradd", "userdel", "runuser"):
        support.require(shutil.which(tool) is not None, f"{tool} is not installed")
    tag = f"{os.getpid() % 100000}"
    users = []
    try:
        users = [_create_user(f"medlab_a{tag}"), _create_user(f"medlab_b{tag}")]
        yield users[0], users[1]
    finally:
        for user in users:
            user.stop_servers()
            subprocess.run(["userdel", "-r", user.name], capture_output=True)


# ---------------------------------------------------------------- what A and B run
def _listener_with_log():
    """A's HL7 listener (bundled defaults), logging to ~/listener.log."""
    from medlab.hl7 import Listener

    handler = logging.FileHandler(Path.home() / "listener.log")
    logging.getLogger("medlab.hl7").addHandler(handler)
    return Listener(port=0).start()


def _send(port: int, text: str) -> str:
    from medlab.hl7 import send
    from medlab.hl7.message import original_text

    return original_text(send("127.0.0.1", port, text, timeout=10)).split("\r")[1]


def _warm_up(tmp_path: Path, monkeypatch) -> None:
    """Run A's and B's code once as root, so the forked children import nothing new."""
    from medlab.hl7 import samples

    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "warm"))
    monkeypatch.setenv("HOME", str(tmp_path))
    listener = _listener_with_log()
    try:
        _send(listener.port, samples.ADT_A01)
    finally:
        listener.stop()
        for handler in logging.getLogger("medlab.hl7").handlers[:]:
            logging.getLogger("medlab.hl7").removeHandler(handler)
            handler.close()


# ---------------------------------------------------------------- the proof
def test_b_cannot_send_to_a_listener_nor_read_a_files(two_users, tmp_path, monkeypatch):
    from medlab.hl7 import samples

    user_a, user_b = two_users
    _warm_up(tmp_path, monkeypatch)
    port = user_a.serve(_listener_with_log)

    # A's own send is acknowledged
    mine = user_a.call(_send, port, samples.ADT_A01)
    assert mine.ok, mine
    assert mine.value.startswith("MSA|AA|")

    # B's send: the connection is closed, nothing is acknowledged or stored
    theirs = user_b.call(_send, port, samples.ORM_O01)
    assert theirs.error_type == "MedlabError", theirs
    log = (user_a.home / "listener.log").read_text()
    assert f"belongs to another user ({user_b.name}, uid {user_b.uid})" in log
    stored = sorted(p.name for p in (user_a.medlab_home / "hl7").glob("*.hl7"))
    assert len(stored) == 1 and "_ADT_" in stored[0]

    # B's raw socket (any tool) gets no answer either
    probe = user_b.run(
        ["/usr/bin/python3", "-c",
         "import socket,sys; s=socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5);"
         "s.sendall(b'\\x0bMSH|^~\\\\&|B\\x1c\\r'); print(repr(s.recv(100)))", str(port)],
    )  # fmt: skip
    assert "MSA" not in probe.stdout and ("b''" in probe.stdout or probe.returncode != 0)

    # A's files: A reads them, B cannot even list the folder
    files = [p for p in user_a.medlab_home.rglob("*") if p.is_file()]
    names = {p.relative_to(user_a.medlab_home).parts[0] for p in files}
    assert {"run", "hl7"} <= names  # service record, history, lock, the stored message
    assert user_a.run(["/bin/ls", str(user_a.medlab_home)]).returncode == 0
    denied = user_b.run(["/bin/ls", str(user_a.medlab_home)])
    assert denied.returncode != 0 and "Permission denied" in denied.stderr
    for path in files:
        assert user_a.run(["/bin/cat", str(path)]).returncode == 0, path
        read = user_b.run(["/bin/cat", str(path)])
        assert read.returncode != 0 and "Permission denied" in read.stderr, path
