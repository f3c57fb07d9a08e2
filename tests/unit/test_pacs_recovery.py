"""Store.recover() never deletes what it cannot explain: it quarantines, logs and counts."""

from __future__ import annotations

import logging
import sqlite3

import pydicom
import pytest

from medlab.net.recovery import QUARANTINE
from medlab.net.samples import make_instance
from medlab.net.store import Store, _temp_name


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "pacs")
    yield s
    s.close()


def test_only_our_own_temporary_files_are_deleted(store):
    good = store.put_dataset(make_instance(1, 1, 1, 1))
    ours = good.path.parent / _temp_name("1.2.3.9")
    ours.write_bytes(b"half a file")
    theirs = good.path.parent / ".notes.tmp"  # someone else's file: not ours to delete
    theirs.write_bytes(b"keep me")
    counts = store.recover()
    assert counts["temp_removed"] == 1
    assert not ours.exists()
    assert theirs.read_bytes() == b"keep me"


def test_hand_copied_file_is_quarantined_with_a_log_line(store, caplog):
    store.put_dataset(make_instance(1, 1, 1, 1))
    copied = make_instance(2, 1, 1, 1)
    hand = store.root / "my-copy.dcm"  # readable, but not where its UIDs say
    copied.save_as(hand, enforce_file_format=True)
    junk = store.root / "junk.dcm"
    junk.write_bytes(b"DICM?")
    with caplog.at_level(logging.WARNING, logger="medlab.net"):
        counts = store.recover()
    assert counts["files_quarantined"] == 2 and counts["files_indexed"] == 0
    assert not hand.exists() and not junk.exists()
    kept = store.root / QUARANTINE / "my-copy.dcm"
    assert pydicom.dcmread(kept).SOPInstanceUID == copied.SOPInstanceUID  # moved intact
    assert (store.root / QUARANTINE / "junk.dcm").read_bytes() == b"DICM?"
    assert "my-copy.dcm" in caplog.text and "junk.dcm" in caplog.text
    assert store.quarantine_count() == 2
    # the quarantine is never re-read nor emptied by the next recovery
    assert store.recover()["files_quarantined"] == 0
    assert store.quarantine_count() == 2


def test_index_error_quarantines_instead_of_deleting(store, monkeypatch):
    good = store.put_dataset(make_instance(1, 1, 1, 1))
    with store._lock:
        store._db.execute("DELETE FROM instances")  # killed before the commit

    def broken_index(row):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "_index", broken_index)
    counts = store.recover()
    assert counts["files_quarantined"] == 1
    assert not good.path.exists()
    assert store.quarantine_count() == 1
    rel = good.path.relative_to(store.root)
    assert pydicom.dcmread(store.root / QUARANTINE / rel).SOPInstanceUID == good.sop_uid


def test_permission_error_quarantines_instead_of_deleting(store, monkeypatch):
    good = store.put_dataset(make_instance(1, 1, 1, 1))
    with store._lock:
        store._db.execute("DELETE FROM instances")

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pydicom, "dcmread", refused)
    counts = store.recover()
    assert counts["files_quarantined"] == 1
    assert (store.root / QUARANTINE / good.path.relative_to(store.root)).is_file()


def test_a_file_that_changed_size_is_rechecked_not_lost(store):
    good = store.put_dataset(make_instance(1, 1, 1, 1))
    with store._lock:
        store._db.execute("UPDATE instances SET size = size + 1")
    counts = store.recover()
    assert counts["rows_dropped"] == 1 and counts["files_indexed"] == 1
    assert store.file_of(good.sop_uid) == good.path


def test_doctor_shows_the_quarantine(tmp_path, monkeypatch):
    from medlab import health

    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "home"))
    assert not [c for c in health.checks() if c.name == "PACS quarantine"]
    folder = tmp_path / "home" / "lessons" / "pacs-abc" / QUARANTINE / "x"
    folder.mkdir(parents=True)
    (folder / "a.dcm").write_bytes(b"?")
    (folder / "b.dcm").write_bytes(b"?")
    lines = [c for c in health.checks() if c.name == "PACS quarantine"]
    assert len(lines) == 1 and not lines[0].ok
    assert "2 file(s)" in lines[0].detail and "pacs-abc" in lines[0].detail
