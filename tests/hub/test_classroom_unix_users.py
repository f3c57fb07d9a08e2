"""Two real Unix users on one real JupyterHub: B's kernel cannot use A's services or files.

tests/hub/test_classroom.py runs every trainee as the same Unix user
(SimpleLocalProcessSpawner), where the PACS's same-user peer check and the private
medlab home cannot show. Here the hub (deploy/jupyterhub/jupyterhub_config.py,
DummyAuthenticator, configurable-http-proxy) uses JupyterHub's own
``LocalProcessSpawner``, so each trainee's server and kernels run as that trainee's
Unix user, created for the test (``two_users`` from tests/unit/test_two_users.py;
it needs root, which CI has). Both log in through the hub's REST API and start their
servers; then, through each server's kernel websocket (bench/classroom.py):

* A's kernel starts its own PACS and HL7 listener (``start_pacs()``,
  ``start_listener()``), stores a study, and its own pynetdicom C-ECHO/C-FIND/C-GET,
  DCMTK ``echoscu``/``findscu`` (no extra option) and MLLP send all pass;
* B's kernel, told A's ports and home, gets A-ASSOCIATE-RJ (rejected-permanent,
  service-user, calling-AE-title-not-recognized) for pynetdicom's C-ECHO/C-FIND/C-GET
  and for ``/usr/bin/echoscu`` and ``/usr/bin/findscu``, a closed connection for its
  MLLP send, and PermissionError listing or reading anything of A's ``~/.medlab``;
* afterwards A's own calls still pass, A's logs name B as refused, and A's stores
  hold only A's study and message.

The servers run as other users, so they must reach this repository (PYTHONPATH),
the venv and its interpreter (here under /root; in CI under a root-owned temporary
folder). ``_traversable`` adds search permission (o+x, never read) to those paths'
parent folders that lack it, for the duration of the test, and restores each mode
it changed; the files themselves must already be readable by others (a git clone
and a venv are, under umask 022), else the test fails saying which.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib.util
import inspect
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import support

pytestmark = pytest.mark.slow


def _load_two_users():
    """tests/unit/test_two_users.py as a module: its users fixture and pynetdicom peer."""
    name = "medlab_tests_two_users"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, support.REPO / "tests" / "unit" / "test_two_users.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_two = _load_two_users()
two_users = _two.two_users  # the fixture: users A and B, removed with their homes afterwards


@contextlib.contextmanager
def _traversable(paths: list[Path]) -> Iterator[list[str]]:
    """Let other users reach ``paths``: o+x on every parent folder lacking it, then restored."""
    changed: dict[Path, int] = {}
    try:
        for path in paths:
            for folder in [*reversed(path.parents), path]:
                if folder.is_dir() and folder not in changed:
                    mode = stat.S_IMODE(folder.stat().st_mode)
                    if not mode & stat.S_IXOTH:
                        changed[folder] = mode
                        folder.chmod(mode | stat.S_IXOTH)
        yield [f"{folder} {mode:o} -> {mode | stat.S_IXOTH:o}" for folder, mode in changed.items()]
    finally:
        for folder, mode in changed.items():
            folder.chmod(mode)


def _unreadable_by_others(paths: list[Path]) -> list[str]:
    """Files other users could not read (the servers need them)."""
    return [
        str(p) for p in paths if p.exists() and not stat.S_IMODE(p.stat().st_mode) & stat.S_IROTH
    ]


# ----------------------------------------------------------------------- the kernels' cells
_SETUP = """import logging, os, pwd, subprocess, json, socket, time
from pathlib import Path
from typing import Any
USER = os.environ["JUPYTERHUB_USER"]
assert pwd.getpwuid(os.getuid()).pw_name == USER, "the server does not run as its trainee"
import medlab
assert medlab.__file__.startswith({repo!r}), medlab.__file__
from medlab import MedlabError, paths
from medlab.hl7 import samples, send, start_listener
from medlab.net import scu
print(USER, os.getuid(), paths.home())
"""

#: pynetdicom C-ECHO, C-FIND, C-GET as one peer (the same function the unit test runs as B).
_PEER = inspect.getsource(_two._pynetdicom_as_peer)

_DCMTK = """def dcmtk(tool, port, *args):
    out = subprocess.run([f"/usr/bin/{tool}", "-aec", "MEDLAB", *args, "127.0.0.1", str(port)],
                         capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout + out.stderr
def findscu(port, folder):
    os.makedirs(folder, exist_ok=True)
    return dcmtk("findscu", port, "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
                 "StudyInstanceUID", "-X", "-od", folder)
"""

_A_CELLS = [
    _SETUP,
    _PEER,
    _DCMTK,
    """for name in ("medlab.net", "medlab.hl7"):
    logging.getLogger(name).addHandler(logging.FileHandler(Path.home() / "services.log"))
pacs = scu.start_pacs(web_port=-1)
listener = start_listener()
from medlab.net.samples import make_instance
ds = make_instance(1, 1, 1, 1)
ds.PatientID = "MLU-" + USER
scu.store([ds], pacs)
STUDY = str(ds.StudyInstanceUID)""",
    """def my_own_work(tag):
    mine = _pynetdicom_as_peer(pacs.port)
    assert mine["echo"] == 0 and mine["found"] == [STUDY], mine
    assert mine["get"] == 0 and len(mine["received"]) == 1, mine
    assert dcmtk("echoscu", pacs.port)[0] == 0
    code, said = findscu(pacs.port, str(Path.home() / ("found-" + tag)))
    assert code == 0 and list((Path.home() / ("found-" + tag)).glob("rsp*.dcm")), said
    ack = send("127.0.0.1", listener.port, samples.ADT_A01, timeout=10).to_er7()
    assert "MSA|AA|" in ack, ack
my_own_work("before")
assert os.listdir(paths.home())""",
    """files = sorted(str(p) for p in paths.home().rglob("*") if p.is_file())
assert any(f.endswith("index.sqlite") for f in files) and any(f.endswith(".hl7") for f in files)
target = {"pacs": pacs.port, "hl7": listener.port, "home": str(paths.home()), "files": files}
(Path.home() / "target.json").write_text(json.dumps(target))""",
    """done = Path.home() / "b-done.json"
for _ in range(2400):  # the harness writes it when B's notebook has finished (<= 4 min)
    if done.exists():
        break
    time.sleep(0.1)
B = json.loads(done.read_text())""",
    """my_own_work("after")  # B's attempts changed nothing for A
log = (Path.home() / "services.log").read_text()
assert f"belongs to another user ({B['name']}, uid {B['uid']})" in log, log
assert log.count("refused") >= 4, log  # B's pynetdicom, echoscu, findscu, MLLP send
stored = [p.read_text() for p in Path(listener.store).rglob("*.hl7")]
assert len(stored) == 2 and not any("ORM^O01" in s for s in stored), stored  # A's two only
listener.stop()
pacs.stop()""",
]

_B_CELLS = [
    _SETUP,
    _PEER,
    _DCMTK,
    """A = json.loads((Path.home() / "target.json").read_text())
assert A["home"] != str(paths.home())
theirs = _pynetdicom_as_peer(A["pacs"])  # C-ECHO, C-FIND, C-GET: the association is refused
assert theirs == {"rejected": True, "rj": (1, 1, 3)}, theirs""",
    """for tool, (code, said) in (("echoscu", dcmtk("echoscu", A["pacs"])),
                          ("findscu", findscu(A["pacs"], str(Path.home() / "found")))):
    assert code != 0 and "Association Rejected" in said, (tool, said)
    assert "Rejected Permanent, Source: Service User" in said, (tool, said)
    assert "Reason: Calling AE Title Not Recognized" in said, (tool, said)
assert not os.listdir(Path.home() / "found")""",
    '''try:
    send("127.0.0.1", A["hl7"], samples.ORM_O01, timeout=10)
    raise AssertionError("A's listener acknowledged B's message")
except MedlabError as exc:
    print("MLLP:", exc)
with socket.create_connection(("127.0.0.1", A["hl7"]), timeout=10) as raw:
    raw.sendall(b"\\x0b" + samples.ORM_O01.encode() + b"\\x1c\\r")
    try:
        answer = raw.recv(100)
    except ConnectionResetError:  # closed with a reset: no answer either
        answer = b""
    assert answer == b"", "A's listener answered B"''',
    """os.stat(A["home"])  # the folder exists and is reachable: only its modes keep B out
for attempt in (lambda: os.listdir(A["home"]), *(lambda f=f: open(f, "rb").read(1) for f in A["files"])):
    try:
        attempt()
        raise AssertionError("B read A's medlab home")
    except PermissionError:
        pass
print("denied", len(A["files"]) + 1)""",
]


def _wait(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout:.0f} s"
        time.sleep(0.2)


def _hand(user, path: Path, data: dict) -> None:  # noqa: ANN001
    path.write_text(json.dumps(data))
    os.chown(path, user.uid, user.gid)


async def _drive(hub, user_a, user_b, cell_timeout: float = 300):  # noqa: ANN001
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=16)
    a, b = user_a.name, user_b.name
    for user in (a, b):
        await hub.login(user)
    await asyncio.gather(hub.start_server(a, 300), hub.start_server(b, 300))
    try:
        a_task = asyncio.ensure_future(hub.run_notebook(a, "isolation_a", cell_timeout))
        target = user_a.home / "target.json"
        deadline = time.monotonic() + 2 * cell_timeout
        while not target.exists() and not a_task.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
        if not target.exists():
            if a_task.done():
                raise AssertionError(f"A's services did not start: {a_task.result().errors}")
            a_task.cancel()
            raise AssertionError("A's services did not start in time")
        _hand(user_b, user_b.home / "target.json", json.loads(target.read_text()))
        b_run = await hub.run_notebook(b, "isolation_b", cell_timeout)
        _hand(user_a, user_a.home / "b-done.json", {"name": b, "uid": user_b.uid})
        a_run = await a_task
        return a_run, b_run
    finally:
        await asyncio.gather(hub.stop_server(a), hub.stop_server(b))


def test_b_kernel_cannot_use_a_services_nor_read_a_files_on_a_real_hub(
    two_users, classroom, tmp_path
):
    user_a, user_b = two_users
    support.require(
        importlib.util.find_spec("jupyterhub") is not None,
        "jupyterhub is not installed (pip install jupyterhub)",
    )
    support.require(classroom.find_chp() is not None, "configurable-http-proxy is not installed")
    for tool in ("echoscu", "findscu"):
        support.dcmtk(tool)
    venv = Path(sys.prefix)
    needed = [support.REPO, venv.resolve(), Path(sys.base_prefix).resolve()]
    unreadable = _unreadable_by_others(
        [
            support.REPO / "medlab" / "__init__.py",
            classroom.VENV_BIN / "jupyterhub-singleuser",
            Path(sys.executable).resolve(),
        ]
    )
    assert not unreadable, f"other users cannot read {unreadable}: the servers could not start"

    hub = classroom.SystemUsersHub(
        tmp_path / "hub", [user_a.name, user_b.name], classroom.find_chp()
    )
    t0 = time.monotonic()
    repo = str(support.REPO)
    hub.give(
        user_a.name,
        {
            "isolation_a": classroom.notebook_json(
                [c.replace("{repo!r}", repr(repo)) for c in _A_CELLS], "a"
            )
        },
    )
    hub.give(
        user_b.name,
        {
            "isolation_b": classroom.notebook_json(
                [c.replace("{repo!r}", repr(repo)) for c in _B_CELLS], "b"
            )
        },
    )
    with _traversable(needed) as opened:
        try:
            hub.start()
            # In a thread of its own: a session-wide Playwright (browser tests on the same
            # xdist worker) keeps an event loop running in this one.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                drive = asyncio.wait_for(_drive(hub, user_a, user_b), timeout=600)
                a_run, b_run = pool.submit(asyncio.run, drive).result()
        finally:
            leftovers = hub.stop()
    wall = time.monotonic() - t0
    print(f"two Unix users on a real hub: {wall:.1f} s; made traversable: {opened}")
    log = hub.log_tail(60)
    assert not (a_run.errors or b_run.errors), f"A: {a_run.errors}\nB: {b_run.errors}\n{log}"
    assert a_run.cells == len(_A_CELLS) and b_run.cells == len(_B_CELLS), (a_run, b_run)
    assert leftovers == [], leftovers
