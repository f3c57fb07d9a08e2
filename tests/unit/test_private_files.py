"""A trainee's medlab home is theirs alone: 0700 folders, 0600 files, whatever the umask.

Each writer medlab has outside the PACS (service records and history, the HL7
listener's store, HL7 logs, de-identified output, the demo study, a messy
archive, a DICOMDIR File-set, progress, sample data built into the home) runs
under a permissive umask into a fresh home; then every path under the home is
checked. ``medlab doctor`` flags a home others can read, with the fix.

The PACS store (medlab/net) calls the same helpers of :mod:`medlab.paths`; its
check is the ``pacs`` case below (expected to fail until it is wired).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from medlab import paths


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def loose_umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _not_private(root: Path) -> list[str]:
    bad = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        want = paths.PRIVATE_DIR_MODE if path.is_dir() else paths.PRIVATE_FILE_MODE
        if mode != want:
            bad.append(f"{path.relative_to(root.parent)} {mode:03o} (want {want:03o})")
    return bad


def _hl7_listener(home: Path) -> None:
    from medlab.hl7 import Listener, samples, send

    with Listener(port=0) as listener:
        send(listener.host, listener.port, samples.ADT_A01)


def _hl7_files(home: Path) -> None:
    from medlab.hl7.feed import ward_feed
    from medlab.hl7.log import write_log

    ward_feed()
    write_log(home / "hl7" / "copy.hl7", ["MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5"])


def _deid(home: Path) -> None:
    from medlab import data
    from medlab.dicom import deidentify

    deidentify(data.study("deid_private"), home / "deid")


def _demo_and_media(home: Path) -> None:
    from medlab.dicom import deidentify
    from medlab.dicom.media import write_media
    from medlab.dicom.uids import demo_study

    demo = demo_study(home / "demo")
    deidentify(demo, home / "deid-demo")
    write_media(demo, home / "media")


def _messy_archive(home: Path) -> None:
    from medlab.dicom import messy_archive

    messy_archive(home / "archive")


def _progress(home: Path) -> None:
    from medlab.check import _progress

    _progress.save({"demo": {"passed": True}})


def _sample_data_in_home(home: Path) -> None:
    from medlab.data.build import build_data

    build_data(home / "data")


def _pacs(home: Path) -> None:
    from medlab.net import PACS, scu
    from medlab.net.samples import make_instance

    with PACS(port=0) as pacs:
        scu.echo(pacs)
        scu.store([make_instance(1, 1, 1, 1)], pacs)  # a study folder, a file, the index
        assert pacs.instance_count() == 1


def _lesson_listener(home: Path) -> None:
    from medlab.hl7.endpoint import start_listener

    start_listener().stop()


WRITERS = {
    "home": lambda home: paths.home(),
    "hl7-listener": _hl7_listener,
    "hl7-files": _hl7_files,
    "deid": _deid,
    "demo-media": _demo_and_media,
    "messy-archive": _messy_archive,
    "progress": _progress,
    "sample-data": _sample_data_in_home,
    "pacs": _pacs,
    "lesson-listener": _lesson_listener,
}


@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_everything_under_home_is_private(writer, loose_umask, tmp_path, monkeypatch):
    home = tmp_path / "user" / ".medlab"
    monkeypatch.setenv("MEDLAB_HOME", str(home))
    writer(home)
    assert home.is_dir()
    assert _not_private(home) == []


def test_private_helpers_ignore_the_umask(tmp_path, loose_umask):
    folder = paths.private_dir(tmp_path / "a" / "b")
    with paths.open_private(folder / "f.txt", "w") as fh:
        fh.write("x")
    paths.private_file(folder / "db.sqlite")
    assert _not_private(tmp_path / "a") == []
    # an existing loose file is tightened before anything is written to it
    loose = folder / "loose"
    loose.write_text("old")
    loose.chmod(0o644)
    with paths.open_private(loose, "a") as fh:
        fh.write("new")
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    assert loose.read_text() == "oldnew"
    # an existing folder (not created by medlab) keeps its mode
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    paths.private_dir(shared / "mine")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    with pytest.raises(ValueError):
        paths.open_private(folder / "f.txt", "r")


def test_doctor_flags_a_home_others_can_read(tmp_path, monkeypatch):
    from medlab import health

    home = tmp_path / "home"
    monkeypatch.setenv("MEDLAB_HOME", str(home))
    assert health._home_private().ok  # not there yet: it will be created private
    paths.home()
    line = health._home_private()
    assert line.ok and "700" in line.detail
    home.chmod(0o755)  # what `mkdir` under umask 022 made before
    line = health._home_private()
    assert not line.ok
    assert "readable by others" in line.detail and "755" in line.detail
    assert line.fix == f"chmod -R go-rwx {home}"
    assert line in health.checks()
    assert not health.doctor().ok
