"""Per-user isolation, and the checks the class test (tests/hub/) trusts to see it broken.

Two halves:

* by construction: two users' bundled services get different free ports and
  different storage folders under each user's own home, and forcing them onto
  one port or one storage folder fails loudly (MedlabError);
* the verdict of bench/classroom.py (used by the hub test) must report a clash
  or a leak when one is forced on it: two real processes of two "users" on one
  port (SO_REUSEPORT lets the kernel allow it) or one PACS index, a PACS holding
  another user's study, histories with a shared port or root.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import support

from medlab import services
from medlab.errors import MedlabError


def _load_classroom():
    path = support.REPO / "bench" / "classroom.py"
    spec = importlib.util.spec_from_file_location("medlab_bench_classroom", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


classroom = _load_classroom()


def _user_home(tmp_path: Path, monkeypatch, user: str) -> Path:
    home = tmp_path / user / ".medlab"
    monkeypatch.setenv("MEDLAB_HOME", str(home))
    return home


# --------------------------------------------------------------------------- by construction
def test_two_users_get_their_own_ports_and_folders(tmp_path, monkeypatch):
    from medlab.hl7 import Listener
    from medlab.net import PACS

    started = {}
    try:
        for user in ("alice", "bob"):
            home = _user_home(tmp_path, monkeypatch, user)
            pacs = PACS(port=0).start()
            listener = Listener(port=0).start()
            started[user] = (home, pacs, listener)
        ports = [p.port for _h, p, _l in started.values()] + [
            li.port for _h, _p, li in started.values()
        ]
        assert len(set(ports)) == 4 and 0 not in ports
        for home, pacs, listener in started.values():
            assert pacs.root.resolve().is_relative_to(home.resolve())
            assert listener.store.resolve().is_relative_to(home.resolve())
        assert started["alice"][1].root != started["bob"][1].root
    finally:
        for _home, pacs, listener in started.values():
            listener.stop()
            pacs.stop()


def test_second_pacs_forced_onto_a_taken_port_fails(tmp_path, monkeypatch):
    from medlab.net import PACS

    _user_home(tmp_path, monkeypatch, "alice")
    with PACS(port=0) as alice:
        _user_home(tmp_path, monkeypatch, "bob")
        with pytest.raises(MedlabError) as err:
            PACS(port=alice.port).start()
    assert f"127.0.0.1:{alice.port}" in str(err.value)


def test_second_listener_forced_onto_a_taken_port_fails(tmp_path, monkeypatch):
    from medlab.hl7 import Listener

    _user_home(tmp_path, monkeypatch, "alice")
    with Listener(port=0) as alice:
        _user_home(tmp_path, monkeypatch, "bob")
        with pytest.raises(MedlabError) as err:
            Listener(port=alice.port).start()
    assert f"127.0.0.1:{alice.port}" in str(err.value)


def test_two_services_forced_onto_one_root_fail(tmp_path):
    """The registry's root lock, as PACS.start/Listener.start use it once wired."""
    shared = tmp_path / "one-pacs-root"
    first = services.register("pacs", "127.0.0.1", 41001, root=shared)
    try:
        with pytest.raises(MedlabError, match="already used by another running pacs"):
            services.register("pacs", "127.0.0.1", 41002, root=shared)
    finally:
        first.stop()


def test_second_pacs_on_one_root_is_refused(tmp_path, medlab_home):
    from medlab.net import PACS

    root = tmp_path / "one-root"
    with PACS(root=root, port=0) as first:
        assert [s.port for s in services.running() if s.kind == "pacs"] == [first.port]
        with pytest.raises(MedlabError, match="already used by another running pacs"):
            PACS(root=root, port=0).start()
    assert not [s for s in services.running() if s.kind == "pacs"]
    with PACS(root=root, port=0):  # the lock went with the first PACS
        pass


def test_second_listener_on_one_store_is_refused(tmp_path, medlab_home):
    from medlab.hl7 import Listener

    store = tmp_path / "one-store"
    with Listener(port=0, store=store) as first:
        assert [s.port for s in services.running() if s.kind == "hl7"] == [first.port]
        with pytest.raises(MedlabError, match="already used by another running hl7"):
            Listener(port=0, store=store).start()
    assert not [s for s in services.running() if s.kind == "hl7"]


# --------------------------------------------------------------------------- the verdict
def _obs(owner, port, first, last, pid=1):
    return classroom.ListenObservation(owner, pid, port, "0100007F", first, last)


def test_port_clash_needs_two_owners_at_the_same_time():
    assert classroom.port_clashes([_obs("alice", 5000, 0, 10), _obs("bob", 5000, 5, 20)])
    assert classroom.port_clashes([_obs("alice", 5000, 0, 10), _obs("(hub)", 5000, 10, 10)])
    # the same port reused later by someone else, or two of one user's sockets: no clash
    assert not classroom.port_clashes([_obs("alice", 5000, 0, 10), _obs("bob", 5000, 11, 20)])
    assert not classroom.port_clashes([_obs("alice", 5000, 0, 10), _obs("alice", 5000, 5, 20, 2)])
    assert not classroom.port_clashes([_obs("alice", 5000, 0, 10), _obs("bob", 5001, 0, 10)])


def _start(kind, port, root, t, pid=1):
    return {"event": "start", "kind": kind, "port": port, "root": root, "time": t, "pid": pid}


def _stop(kind, port, t, pid=1):
    return {"event": "stop", "kind": kind, "port": port, "time": t, "pid": pid}


def test_history_clashes(tmp_path):
    homes = {u: tmp_path / u / ".medlab" for u in ("alice", "bob")}
    a_root, b_root = str(homes["alice"] / "pacs"), str(homes["bob"] / "pacs")
    clean = {
        "alice": [_start("pacs", 5000, a_root, 0), _stop("pacs", 5000, 10)],
        "bob": [_start("pacs", 5000, b_root, 11), _stop("pacs", 5000, 20)],
    }
    assert classroom.history_clashes(clean, homes) == []
    same_port = {
        "alice": [_start("pacs", 5000, a_root, 0)],  # never stopped: runs to the end
        "bob": [_start("pacs", 5000, b_root, 11), _stop("pacs", 5000, 20)],
    }
    assert any("port 5000" in c for c in classroom.history_clashes(same_port, homes))
    same_root = {
        "alice": [_start("pacs", 5000, a_root, 0), _stop("pacs", 5000, 10)],
        "bob": [_start("pacs", 5001, a_root, 5), _stop("pacs", 5001, 20)],
    }
    found = classroom.history_clashes(same_root, homes)
    assert any("root" in c for c in found) and any("outside its home" in c for c in found)


def test_index_outside_home_and_pacs_roots(tmp_path):
    homes = {u: tmp_path / u / ".medlab" for u in ("alice", "bob")}
    inside = str(homes["alice"] / "lessons" / "pacs-x" / "index.sqlite")
    outside = str(tmp_path / "shared" / "index.sqlite")
    assert classroom.index_outside_home({inside: {"alice"}}, homes) == []
    assert classroom.index_outside_home({inside: {"bob"}, outside: {"alice"}}, homes) == [
        f"bob's process had {inside} open, outside {homes['bob']}",
        f"alice's process had {outside} open, outside {homes['alice']}",
    ]
    for root in ("pacs", "lessons/pacs-1", "lessons/receiver-2"):
        (homes["alice"] / root).mkdir(parents=True)
        (homes["alice"] / root / "index.sqlite").write_bytes(b"")
    assert [
        p.relative_to(homes["alice"]).as_posix() for p in classroom.pacs_roots(homes["alice"])
    ] == ["lessons/pacs-1", "lessons/receiver-2", "pacs"]
    assert classroom.pacs_roots(homes["bob"]) == []


def test_content_leaks_and_missing():
    markers = {"alice": "MLU-alice", "bob": "MLU-bob"}
    common = {"PAT0001"}
    leaks, missing = classroom.content_leaks(
        {"alice": {"MLU-alice", *common}, "bob": {"MLU-bob", *common}}, markers
    )
    assert (leaks, missing) == ([], [])
    leaks, missing = classroom.content_leaks(
        {"alice": {"MLU-alice", "MLU-bob"}, "bob": set()}, markers
    )
    assert leaks == ["alice's PACS holds bob's MLU-bob"]
    assert missing == ["bob's PACS lacks its own MLU-bob"]


def test_pacs_query_sees_a_study_stored_into_the_wrong_users_pacs(tmp_path):
    """The end-of-run C-FIND over each user's root reports a study forced into another's."""
    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage

    from medlab.net import PACS
    from medlab.net.samples import make_instance

    roots = {u: tmp_path / u / ".medlab" / "pacs" for u in ("alice", "bob")}
    for target, patients in (("alice", ["MLU-alice", "MLU-bob"]), ("bob", [])):
        with PACS(root=roots[target], port=0) as pacs:
            ae = AE(ae_title="TEST")
            ae.add_requested_context(CTImageStorage)
            assoc = ae.associate(pacs.host, pacs.port, ae_title=pacs.aet)
            for patient in patients:
                ds = make_instance(seed=patient)
                ds.PatientID = patient
                assert assoc.send_c_store(ds).Status == 0
            assoc.release()
    held = {u: classroom.pacs_patients(root) for u, root in roots.items()}
    assert held == {"alice": {"MLU-alice", "MLU-bob"}, "bob": set()}
    leaks, missing = classroom.content_leaks(held, {"alice": "MLU-alice", "bob": "MLU-bob"})
    assert leaks and missing


def test_hl7_store_reader(tmp_path):
    (tmp_path / "000001_ADT_A01_x_AA.hl7").write_bytes(
        b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01|x|P|2.5\rPID|1||MLU-bob^^^MEDLAB||X\r"
    )
    assert classroom.hl7_patients(tmp_path) == {"MLU-bob"}
    assert classroom.hl7_patients(tmp_path / "absent") == set()


# --------------------------------------------------------------------------- the sampler, for real
_HOLDER = textwrap.dedent("""
    import os, socket, sys
    port, index = int(sys.argv[1]), sys.argv[2]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # lets two processes share it
    sock.bind(("127.0.0.1", port))
    sock.listen()
    fh = open(index, "ab")  # as a PACS holds its index open
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
""")


def _hold(user, run_id, port, index):
    env = {**os.environ, "JUPYTERHUB_USER": user, classroom.RUN_ENV: run_id}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(port), str(index)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc, int(proc.stdout.readline())


@pytest.mark.skipif(
    not Path("/proc/net/tcp").exists() or not hasattr(socket, "SO_REUSEPORT"),
    reason="needs Linux /proc and SO_REUSEPORT",
)
def test_sampler_sees_two_users_forced_onto_one_port_and_one_index(tmp_path):
    run_id = uuid.uuid4().hex
    index = tmp_path / "pacs" / "index.sqlite"
    index.parent.mkdir()
    sampler = classroom.Sampler(run_id, interval=0.05, mem_interval=0.05)
    sampler.start()
    procs = []
    try:
        alice, port = _hold("alice", run_id, 0, index)
        procs.append(alice)
        bob, _ = _hold("bob", run_id, port, index)  # forced onto alice's port and index
        procs.append(bob)
        other, other_port = _hold("carol", run_id, 0, tmp_path / "carol-index.sqlite")
        procs.append(other)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and {o.owner for o in sampler.observations()} < {
            "alice",
            "bob",
            "carol",
        }:
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        sampler.stop()
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)
            proc.stdout.close()
            proc.stdin.close()
    owners = {(o.owner, o.port) for o in sampler.observations()}
    assert {("alice", port), ("bob", port), ("carol", other_port)} <= owners
    clashes = classroom.port_clashes(sampler.observations())
    assert len(clashes) == 1 and f"port {port}:" in clashes[0]
    assert classroom.index_clashes(sampler.index_files) == [f"{index} open by alice, bob"]
    assert set(sampler.peak_rss) >= {"alice", "bob", "carol"}
    assert sampler.errors == []


def test_shared_writes_are_noticed(tmp_path):
    (tmp_path / "a.dcm").write_bytes(b"x")
    before = classroom.tree_snapshot(tmp_path)
    assert classroom.shared_writes(before, classroom.tree_snapshot(tmp_path)) == []
    (tmp_path / "new.sqlite").write_bytes(b"y")
    assert classroom.shared_writes(before, classroom.tree_snapshot(tmp_path)) == [
        f"shared file written: {tmp_path / 'new.sqlite'}"
    ]
