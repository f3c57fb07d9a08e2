"""medlab.services: the per-user registry of running services, its history and root locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from medlab import services
from medlab.errors import MedlabError


def test_register_lists_then_stop_removes(medlab_home):
    handle = services.register("pacs", "127.0.0.1", 41231, aet="MEDLAB")
    [record] = (medlab_home / "run").glob("*.json")
    assert handle.record == record and record.name.startswith(f"pacs-{os.getpid()}-41231-")
    data = json.loads(record.read_text())
    assert (data["kind"], data["host"], data["port"], data["pid"]) == (
        "pacs",
        "127.0.0.1",
        41231,
        os.getpid(),
    )
    [service] = services.running()
    assert (service.kind, service.port, service.aet) == ("pacs", 41231, "MEDLAB")
    assert "pacs MEDLAB on 127.0.0.1:41231" in service.describe()
    handle.stop()
    assert not record.exists()
    assert services.running() == []
    handle.stop()  # idempotent
    events = [(e["event"], e["kind"], e["port"]) for e in services.history()]
    assert events == [("start", "pacs", 41231), ("stop", "pacs", 41231)]


def test_running_filters_by_kind_and_context_manager_stops(medlab_home):
    with (
        services.register("pacs", "127.0.0.1", 40001),
        services.register("hl7", "127.0.0.1", 40002),
    ):
        assert [s.port for s in services.running("hl7")] == [40002]
        assert {s.kind for s in services.running()} == {"pacs", "hl7"}
    assert services.running() == []
    assert [e["event"] for e in services.history("hl7")] == ["start", "stop"]


def test_record_of_a_dead_process_is_stale_and_ignored(medlab_home):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    handle = services.register("pacs", "127.0.0.1", 40003, pid=pid)
    assert handle.record.exists()
    assert services.running() == []
    assert not handle.record.exists()  # cleaned up


def test_reused_pid_is_stale(medlab_home):
    """A record naming our pid but another process start time is from a previous process."""
    handle = services.register("pacs", "127.0.0.1", 40004)
    data = json.loads(handle.record.read_text())
    if not data["pid_start"]:
        pytest.skip("no /proc here: pid reuse cannot be told apart")
    data["pid_start"] = "1"
    handle.record.write_text(json.dumps(data))
    assert services.running() == []


def test_each_home_sees_only_its_own_services(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "alice"))
    alice = services.register("pacs", "127.0.0.1", 40005)
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "bob"))
    assert services.running() == []
    bob = services.register("pacs", "127.0.0.1", 40006)
    assert [s.port for s in services.running()] == [40006]
    assert [e["port"] for e in services.history(home=tmp_path / "alice")] == [40005]
    alice.stop()
    bob.stop()


def test_same_address_again_replaces_the_stale_record(medlab_home):
    first = services.register("pacs", "127.0.0.1", 40007)  # e.g. never stopped
    second = services.register("pacs", "127.0.0.1", 40007)
    assert not first.record.exists() and second.record.exists()
    assert [s.record for s in services.running()] == [str(second.record)]
    first.stop()  # late: must not remove the new record
    assert [s.record for s in services.running()] == [str(second.record)]
    second.stop()


def test_bad_kind_or_port_is_refused(medlab_home):
    with pytest.raises(MedlabError, match="listening port"):
        services.register("pacs", "127.0.0.1", 0)
    with pytest.raises(MedlabError, match="simple name"):
        services.register("../x", "127.0.0.1", 40008)


def test_one_root_cannot_be_used_by_two_services(medlab_home, tmp_path):
    root = tmp_path / "pacs"
    first = services.register("pacs", "127.0.0.1", 40009, root=root)
    with pytest.raises(MedlabError) as err:
        services.register("pacs", "127.0.0.1", 40010, root=root)
    assert "already used by another running pacs" in str(err.value)
    assert "40009" in str(err.value) and str(root.resolve()) in str(err.value)
    assert [s.port for s in services.running()] == [40009]
    first.stop()
    again = services.register("pacs", "127.0.0.1", 40010, root=root)  # free once stopped
    again.stop()


def test_root_lock_holds_across_processes_and_dies_with_them(medlab_home, tmp_path):
    root = tmp_path / "shared-root"
    other_home = tmp_path / "other-home"
    code = textwrap.dedent(f"""
        import sys, time
        from medlab import services
        services.register("pacs", "127.0.0.1", 40011, root={str(root)!r})
        print("locked", flush=True)
        sys.stdin.read()
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MEDLAB_HOME": str(other_home)},
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(MedlabError, match="already used"):
            services.register("pacs", "127.0.0.1", 40012, root=root)
    finally:
        proc.kill()  # no clean stop: the OS releases the lock with the process
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stdin.close()
    deadline = time.monotonic() + 5
    while True:
        try:
            handle = services.register("pacs", "127.0.0.1", 40012, root=root)
            break
        except MedlabError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    handle.stop()
    # and the killed process's record, in its own home, is stale there
    os.environ["MEDLAB_HOME"], saved = str(other_home), os.environ["MEDLAB_HOME"]
    try:
        assert services.running() == []
    finally:
        os.environ["MEDLAB_HOME"] = saved


def test_history_survives_garbage_lines(medlab_home):
    services.register("hl7", "127.0.0.1", 40013).stop()
    with open(services.history_path(), "a") as fh:
        fh.write("not json\n")
    assert [e["event"] for e in services.history()] == ["start", "stop"]


def test_lock_root_first_then_hand_it_to_register(medlab_home, tmp_path):
    """How a PACS uses it: lock before opening its index, register once listening."""
    root = tmp_path / "pacs"
    lock = services.lock_root(root, "pacs")
    with pytest.raises(MedlabError, match="already used"):
        services.lock_root(root, "pacs")
    handle = services.register("pacs", "127.0.0.1", 40014, lock=lock)
    assert handle.service.root == str(root.resolve())
    assert lock.fd is None  # owned by the handle now
    lock.release()  # harmless
    with pytest.raises(MedlabError, match="40014"):  # the lock file names the holder's port
        services.register("pacs", "127.0.0.1", 40015, root=root)
    handle.stop()
    services.lock_root(root).release()
    # a lock released without registering frees the folder too
    services.lock_root(root).release()


def test_doctor_lists_running_services_and_where_data_lives(medlab_home, tmp_path):
    from medlab import health

    with services.register("pacs", "127.0.0.1", 40016, root=tmp_path / "p", aet="MEDLAB"):
        report = health.doctor()
        text = repr(report)
        assert "Your running medlab services:" in text
        assert "pacs MEDLAB on 127.0.0.1:40016" in text
        assert "pacs MEDLAB on 127.0.0.1:40016" in report._repr_html_()
        assert f"PACS storage and index                  {medlab_home / 'pacs'}" in text
        assert str(medlab_home / "hl7") in text
    after = repr(health.doctor())
    assert "40016" not in after
    assert after.split("Your running medlab services:")[1].split("\n")[1].strip() == "none"
