"""medlab PACS driven by DCMTK: echoscu, storescu, findscu, movescu, getscu, storescp.

DCMTK is always called by absolute path (support.dcmtk): pynetdicom installs
look-alike ``storescu`` etc. in the venv, which would turn this into a test of
pynetdicom against itself. Every DCMTK process gets TCP_NODELAY=1.
"""

from __future__ import annotations

import socket
import subprocess
import time
import warnings
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydicom
import pytest
import support
from support import same_dataset

from medlab.net import PACS, PACSConfig
from medlab.net.samples import make_instance, shipped_sample_files, write_instances

pytestmark = [pytest.mark.interop, pytest.mark.filterwarnings("ignore::UserWarning")]


def run(
    tool: str, *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [support.dcmtk(tool), *args],
        capture_output=True,
        text=True,
        env=support.dcmtk_env(),
        cwd=cwd,
        timeout=timeout,
    )


def wait_listening(port: int, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening on port {port}")


@pytest.fixture(scope="module")
def study_files(tmp_path_factory):
    """Two patients x 2 series x 3 small CT images, as files."""
    folder = tmp_path_factory.mktemp("study")
    paths = []
    for p in (1, 2):
        for se in (1, 2):
            for i in (1, 2, 3):
                ds = make_instance(p, 1, se, i, study_date=f"2025{p:02d}10", seed="interop")
                path = folder / f"p{p}s{se}i{i}.dcm"
                ds.save_as(path, enforce_file_format=True)
                paths.append(path)
    return paths


@pytest.fixture(scope="module")
def pacs(tmp_path_factory, study_files):
    """A PACS loaded with study_files through DCMTK storescu."""
    root = tmp_path_factory.mktemp("pacs")
    with PACS(root=root) as server:
        out = run(
            "storescu",
            "-aet",
            "STORESCU",
            "-aec",
            "MEDLAB",
            "127.0.0.1",
            str(server.port),
            *map(str, study_files),
        )
        assert out.returncode == 0, out.stderr
        assert server.instance_count() == len(study_files)
        yield server


# ---------------------------------------------------------------- C-ECHO
def test_echoscu(pacs):
    out = run("echoscu", "-aet", "ECHOSCU", "-aec", "MEDLAB", "127.0.0.1", str(pacs.port))
    assert out.returncode == 0, out.stderr
    echo = [e for e in pacs.events if e.message == "C-ECHO-RSP"]
    assert echo and echo[-1].receiver == "ECHOSCU" and echo[-1].status == 0


def test_echoscu_wrong_called_aet_is_rejected(pacs):
    out = run("echoscu", "-v", "-aet", "ECHOSCU", "-aec", "NOTME", "127.0.0.1", str(pacs.port))
    assert out.returncode != 0
    assert "Called AE Title Not Recognized" in out.stdout + out.stderr


# ---------------------------------------------------------------- C-STORE: every sample
def sendable_samples() -> dict[tuple[str, str], list[Path]]:
    """Shipped samples grouped by (SOP Class, transfer syntax); those DCMTK can parse."""
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in shipped_sample_files():
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            key = (str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID))
        except Exception:  # noqa: BLE001 - no meta or no SOP class: storescu skips it too
            continue
        groups[key].append(path)
    return groups


def intact(path: Path) -> bool:
    """True if the file's data set is complete (not one of the truncated samples)."""
    import io

    from pydicom.filereader import _read_file_meta_info, read_preamble

    from medlab.net.received import check_structure

    data = path.read_bytes()
    fp = io.BytesIO(data)
    read_preamble(fp, False)
    meta = _read_file_meta_info(fp)
    try:
        check_structure(data[fp.tell() :], str(meta.TransferSyntaxUID))
    except Exception:  # noqa: BLE001
        return False
    return True


def storescu_config(pairs: list[tuple[str, str]], path: Path) -> Path:
    """A storescu config file proposing exactly these (SOP Class, transfer syntax) pairs."""
    lines = ["[[TransferSyntaxes]]"]
    syntaxes = sorted({ts for _, ts in pairs})
    for i, ts in enumerate(syntaxes):
        lines += [f"[TS{i}]", f"TransferSyntax1 = {ts}"]
    lines += ["[[PresentationContexts]]", "[Sweep]"]
    for i, (sop, ts) in enumerate(pairs, 1):
        lines.append(f"PresentationContext{i} = {sop}\\TS{syntaxes.index(ts)}")
    lines += ["[[Profiles]]", "[Sweep]", "PresentationContexts = Sweep"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_storescu_every_sample_file(tmp_path):
    """Every sample pydicom and pydicom-data ship, in its own transfer syntax, stored as received."""
    groups = sendable_samples()
    pairs = sorted(groups)
    assert len(pairs) > 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with PACS(root=tmp_path / "pacs") as server:
            for start in range(0, len(pairs), 128):  # ≤ 128 presentation contexts per association
                chunk = pairs[start : start + 128]
                cfg = storescu_config(chunk, tmp_path / f"sweep{start}.cfg")
                files = [str(p) for pair in chunk for p in groups[pair]]
                out = run(
                    "storescu",
                    "--no-halt",
                    "-xf",
                    str(cfg),
                    "Sweep",
                    "-aet",
                    "STORESCU",
                    "-aec",
                    "MEDLAB",
                    "127.0.0.1",
                    str(server.port),
                    *files,
                )
                assert "Association Request Failed" not in out.stderr, out.stderr
            stores = [e for e in server.events if e.message == "C-STORE-RSP"]
            ok = [e for e in stores if e.status == 0]
            # Compression twins share a SOP Instance UID (the last accepted wins), so
            # compare byte-for-byte semantics on the UIDs sent exactly once.
            by_uid: dict[str, list[Path]] = defaultdict(list)
            for pair in pairs:
                for path in groups[pair]:
                    by_uid[
                        str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
                    ].append(path)
            assert len(ok) > 100
            assert server.instance_count() == len({e.sop_instance for e in ok})
            checked, stored_ts = 0, set()
            for uid, sources in by_uid.items():
                stored = server.file_of(uid)
                if len(sources) != 1 or stored is None or not intact(sources[0]):
                    continue  # a twin, refused, or a truncated sample DCMTK sends as far as it parsed
                src, got = pydicom.dcmread(sources[0]), pydicom.dcmread(stored)
                # stored in the transfer syntax it was sent in: never transcoded
                assert got.file_meta.TransferSyntaxUID == src.file_meta.TransferSyntaxUID, sources[
                    0
                ].name
                assert same_dataset(src, got) == [], sources[0].name
                stored_ts.add(str(got.file_meta.TransferSyntaxUID))
                checked += 1
            assert checked > 20
            compressed = stored_ts - {
                "1.2.840.10008.1.2",
                "1.2.840.10008.1.2.1",
                "1.2.840.10008.1.2.2",
                "1.2.840.10008.1.2.1.99",
            }
            assert len(compressed) >= 3, stored_ts
            archive_ts = {
                r[0] for r in server.store.query("SELECT DISTINCT transfer_syntax FROM instances")
            }
            assert (
                len(archive_ts - stored_ts - {"1.2.840.10008.1.2"}) >= 2
            )  # e.g. RLE, JPEG-LS from twins
            failures = [e for e in stores if e.status != 0]
            assert all(e.status >= 0xA700 for e in failures)
            assert not list(server.root.rglob("*.tmp"))


# ---------------------------------------------------------------- C-FIND
def findscu(pacs, model: str, *keys: str, tmp: Path) -> list[pydicom.Dataset]:
    out_dir = tmp / f"find{time.monotonic_ns()}"
    out_dir.mkdir()
    args = [model, "-X", "-od", str(out_dir), "-aet", "FINDSCU", "-aec", "MEDLAB"]
    for key in keys:
        args += ["-k", key]
    out = run("findscu", *args, "127.0.0.1", str(pacs.port))
    assert out.returncode == 0, out.stderr
    return [pydicom.dcmread(p) for p in sorted(out_dir.glob("rsp*.dcm"))]


@pytest.mark.parametrize(
    "model, keys, expected",
    [
        ("-P", ["QueryRetrieveLevel=PATIENT", "PatientID", "PatientName"], 2),
        (
            "-P",
            ["QueryRetrieveLevel=STUDY", "PatientID=PAT0001", "StudyInstanceUID", "StudyDate"],
            1,
        ),
        (
            "-P",
            [
                "QueryRetrieveLevel=SERIES",
                "PatientID=PAT0002",
                "StudyInstanceUID",
                "SeriesInstanceUID",
                "Modality",
            ],
            2,
        ),
        (
            "-P",
            ["QueryRetrieveLevel=IMAGE", "PatientID=PAT0002", "SOPInstanceUID", "InstanceNumber=2"],
            2,
        ),
        (
            "-S",
            [
                "QueryRetrieveLevel=STUDY",
                "PatientName=DOE*",
                "StudyDate=20250201-",
                "StudyInstanceUID",
            ],
            1,
        ),
        (
            "-S",
            [
                "QueryRetrieveLevel=STUDY",
                "PatientName=doe^p?",
                "StudyInstanceUID",
                "ModalitiesInStudy",
                "NumberOfStudyRelatedInstances",
            ],
            2,
        ),
        ("-S", ["QueryRetrieveLevel=SERIES", "SeriesNumber=1", "SeriesInstanceUID"], 2),
        ("-S", ["QueryRetrieveLevel=IMAGE", "SOPInstanceUID", "InstanceNumber"], 12),
    ],
)
def test_findscu_levels(pacs, tmp_path, model, keys, expected):
    found = findscu(pacs, model, *keys, tmp=tmp_path)
    assert len(found) == expected
    level = keys[0].split("=")[1]
    for ds in found:
        assert ds.QueryRetrieveLevel == level
        for key in keys[1:]:
            name = key.split("=")[0]
            assert name in ds  # every requested key comes back, matched or filled in
    if "NumberOfStudyRelatedInstances" in keys:
        assert [int(d.NumberOfStudyRelatedInstances) for d in found] == [6, 6]


def test_findscu_list_of_uids(pacs, tmp_path):
    studies = findscu(pacs, "-S", "QueryRetrieveLevel=STUDY", "StudyInstanceUID", tmp=tmp_path)
    uids = "\\".join(d.StudyInstanceUID for d in studies)
    again = findscu(
        pacs, "-S", "QueryRetrieveLevel=STUDY", f"StudyInstanceUID={uids}", tmp=tmp_path
    )
    assert len(again) == 2


def test_findscu_worklist(pacs, tmp_path):
    pacs.schedule(
        PatientName="DOE^JANE",
        PatientID="W1",
        Modality="CT",
        ScheduledStationAETitle="CT01",
        ScheduledProcedureStepStartDate="20260105",
        ScheduledProcedureStepStartTime="0800",
        AccessionNumber="WA1",
    )
    pacs.schedule(
        PatientName="ROE^RICHARD",
        PatientID="W2",
        Modality="MR",
        ScheduledStationAETitle="MR01",
        ScheduledProcedureStepStartDate="20260109",
    )
    keys = [
        "PatientName",
        "PatientID",
        "AccessionNumber",
        "(0040,0100)[0].Modality=MR",
        "(0040,0100)[0].ScheduledStationAETitle",
        "(0040,0100)[0].ScheduledProcedureStepStartDate=20260101-20260131",
        "(0040,0100)[0].ScheduledProcedureStepID",
    ]
    found = findscu(pacs, "-W", *keys, tmp=tmp_path)
    assert [d.PatientID for d in found] == ["W2"]
    assert found[0].ScheduledProcedureStepSequence[0].ScheduledStationAETitle == "MR01"
    everyone = findscu(pacs, "-W", "PatientID", "(0040,0100)[0].Modality", tmp=tmp_path)
    assert sorted(d.PatientID for d in everyone) == ["W1", "W2"]


# ---------------------------------------------------------------- C-MOVE
@pytest.fixture
def storescp(tmp_path):
    """DCMTK storescp as a C-MOVE destination (AE STORESCP); yields (port, folder)."""
    folder = tmp_path / "received"
    folder.mkdir()
    port = support.free_port()
    proc = subprocess.Popen(
        [support.dcmtk("storescp"), "-aet", "STORESCP", "-od", str(folder), str(port)],
        env=support.dcmtk_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        yield port, folder
    finally:
        proc.terminate()
        proc.wait(10)


def test_movescu_to_dcmtk_storescp(pacs, study_files, storescp):
    port, folder = storescp
    sent = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in study_files}
    study = next(iter(sent.values())).StudyInstanceUID
    pacs.config.peers["STORESCP"] = ("127.0.0.1", port)
    try:
        out = run(
            "movescu",
            "-v",
            "-S",
            "-aet",
            "MOVESCU",
            "-aec",
            "MEDLAB",
            "-aem",
            "STORESCP",
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            f"StudyInstanceUID={study}",
            "127.0.0.1",
            str(pacs.port),
        )
    finally:
        del pacs.config.peers["STORESCP"]
    assert out.returncode == 0, out.stderr
    received = [pydicom.dcmread(p) for p in folder.iterdir()]
    assert len(received) == 6
    for ds in received:
        assert same_dataset(ds, sent[ds.SOPInstanceUID]) == []
    final = [e for e in pacs.events if e.message == "C-MOVE-RSP"][-1]
    assert final.status == 0 and "completed=6" in final.info


def test_movescu_unknown_destination(pacs):
    out = run(
        "movescu",
        "-v",
        "-S",
        "-aet",
        "MOVESCU",
        "-aec",
        "MEDLAB",
        "-aem",
        "NOWHERE",
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        "StudyInstanceUID=1.2.3",
        "127.0.0.1",
        str(pacs.port),
    )
    text = out.stdout + out.stderr
    assert "MoveDestinationUnknown" in text or "a801" in text.lower()


# ---------------------------------------------------------------- C-GET
def test_getscu_whole_study(pacs, study_files, tmp_path):
    sent = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in study_files}
    study = next(iter(sent.values())).StudyInstanceUID
    out = run(
        "getscu",
        "-S",
        "-aet",
        "GETSCU",
        "-aec",
        "MEDLAB",
        "-od",
        str(tmp_path),
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        f"StudyInstanceUID={study}",
        "127.0.0.1",
        str(pacs.port),
    )
    assert out.returncode == 0, out.stderr
    got = [pydicom.dcmread(p) for p in tmp_path.iterdir() if p.is_file()]
    assert len(got) == 6
    for ds in got:
        assert ds.StudyInstanceUID == study
        assert same_dataset(ds, sent[ds.SOPInstanceUID]) == []


def test_getscu_compressed_comes_back_as_stored(tmp_path):
    """A JPEG 2000 object stored as such is retrieved unchanged (getscu must propose it)."""
    import medlab.data

    source = medlab.data.get_path("mr_j2k")
    with PACS(root=tmp_path / "pacs") as server:
        out = run("storescu", "-xv", "-aec", "MEDLAB", "127.0.0.1", str(server.port), str(source))
        assert out.returncode == 0, out.stderr
        src = pydicom.dcmread(source)
        out_dir = tmp_path / "got"
        out_dir.mkdir()
        out = run(
            "getscu",
            "-S",
            "+xv",
            "-aec",
            "MEDLAB",
            "-od",
            str(out_dir),
            "-k",
            "QueryRetrieveLevel=SERIES",
            "-k",
            f"StudyInstanceUID={src.StudyInstanceUID}",
            "-k",
            f"SeriesInstanceUID={src.SeriesInstanceUID}",
            "127.0.0.1",
            str(server.port),
        )
        assert out.returncode == 0, out.stderr
    got = [pydicom.dcmread(p) for p in out_dir.iterdir()]
    assert len(got) == 1
    assert got[0].file_meta.TransferSyntaxUID == src.file_meta.TransferSyntaxUID
    assert same_dataset(got[0], src) == []


# ---------------------------------------------------------------- concurrency
@pytest.mark.slow
def test_eight_storescu_at_once_store_2000_instances(tmp_path):
    files = write_instances(tmp_path / "in", 2000, seed="concurrency")
    chunks = [files[i::8] for i in range(8)]
    cfg = PACSConfig(port=0, root=tmp_path / "pacs", max_associations=8)
    with PACS(config=cfg) as server:

        def send(chunk):
            return run(
                "storescu",
                "-aet",
                "STORESCU",
                "-aec",
                "MEDLAB",
                "127.0.0.1",
                str(server.port),
                *map(str, chunk),
                timeout=300,
            )

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(send, chunks))
        assert all(r.returncode == 0 for r in results), [r.stderr[-500:] for r in results]
        assert server.instance_count() == 2000
        on_disk = list(server.root.rglob("*.dcm"))
        assert len(on_disk) == 2000
        rows = server.store.query("SELECT path FROM instances")
        assert len(rows) == len({r[0] for r in rows}) == 2000
        for path in on_disk:
            pydicom.dcmread(path)
        assert not list(server.root.rglob("*.tmp"))
        accepted = [e for e in server.events if e.message == "A-ASSOCIATE-AC"]
        assert len(accepted) == 8


# ---------------------------------------------------------------- retrieve whatever the peer accepts
def one_sample_per_syntax() -> dict[str, Path]:
    """A sample file of each transfer syntax the course's sample data holds (catalogue)."""
    import medlab.data

    chosen: dict[str, Path] = {}
    for entry in medlab.data.catalogue():
        ts = entry.transfer_syntax_uid
        if entry.kind == "sample" and ts and ts not in chosen and entry.photometric != "-":
            chosen[ts] = medlab.data.get_path(entry.name)
    return chosen


SYNTAXES = one_sample_per_syntax()
UNCOMPRESSED_TS = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"}


def test_samples_cover_big_endian_and_compressed():
    """The parametrised retrieval tests below see every stored syntax that matters."""
    assert "1.2.840.10008.1.2.2" in SYNTAXES  # Explicit VR Big Endian (a DCMTK file)
    assert "1.2.840.10008.1.2.4.50" in SYNTAXES  # JPEG baseline (lossy)
    assert len(SYNTAXES) >= 7


def assert_same_pixels(got: pydicom.Dataset, stored: Path) -> None:
    """Decoded arrays equal (for lossy JPEG: equal to pydicom's decode of the stored object)."""
    import numpy as np

    src = pydicom.dcmread(stored)
    assert got.SOPInstanceUID == src.SOPInstanceUID
    assert np.array_equal(got.pixel_array, src.pixel_array)


def getscu_default(port: int, ds: pydicom.Dataset, out_dir: Path) -> subprocess.CompletedProcess:
    return run(
        "getscu",
        "-aec",
        "MEDLAB",
        "-od",
        str(out_dir),
        "-k",
        "QueryRetrieveLevel=IMAGE",
        "-k",
        f"StudyInstanceUID={ds.StudyInstanceUID}",
        "-k",
        f"SeriesInstanceUID={ds.SeriesInstanceUID}",
        "-k",
        f"SOPInstanceUID={ds.SOPInstanceUID}",
        "127.0.0.1",
        str(port),
    )


@pytest.mark.parametrize("ts", sorted(SYNTAXES))
def test_getscu_default_options_retrieves_every_stored_syntax(tmp_path, ts):
    """Issue 15 §4: getscu proposes only uncompressed syntaxes; the PACS converts."""
    source = SYNTAXES[ts]
    src = pydicom.dcmread(source, stop_before_pixels=True)
    out_dir = tmp_path / "got"
    out_dir.mkdir()
    with PACS(root=tmp_path / "pacs") as server:
        stored = server.store_received(source)
        assert server.store.instance(src.SOPInstanceUID)["transfer_syntax"] == ts
        out = getscu_default(server.port, src, out_dir)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "Release Failed" not in text and "A702" not in text.upper(), text
    got = [pydicom.dcmread(p) for p in out_dir.iterdir()]
    assert len(got) == 1, text
    assert got[0].file_meta.TransferSyntaxUID in UNCOMPRESSED_TS
    assert_same_pixels(got[0], stored.path)


@pytest.mark.parametrize("ts", sorted(SYNTAXES))
def test_movescu_default_options_to_storescp_every_stored_syntax(tmp_path, storescp, ts):
    """C-MOVE: the PACS proposes the stored syntax and uncompressed ones; storescp (default:
    uncompressed only) gets each object, converted where it had to be."""
    port, folder = storescp
    source = SYNTAXES[ts]
    src = pydicom.dcmread(source, stop_before_pixels=True)
    with PACS(root=tmp_path / "pacs", peers={"STORESCP": ("127.0.0.1", port)}) as server:
        stored = server.store_received(source)
        out = run(
            "movescu",
            "-aec",
            "MEDLAB",
            "-aem",
            "STORESCP",
            "-k",
            "QueryRetrieveLevel=IMAGE",
            "-k",
            f"StudyInstanceUID={src.StudyInstanceUID}",
            "-k",
            f"SeriesInstanceUID={src.SeriesInstanceUID}",
            "-k",
            f"SOPInstanceUID={src.SOPInstanceUID}",
            "127.0.0.1",
            str(server.port),
        )
        final = [e for e in server.events if e.message == "C-MOVE-RSP"][-1]
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert final.status == 0 and "completed=1" in final.info, final
    got = [pydicom.dcmread(p) for p in folder.iterdir()]
    assert len(got) == 1
    expected_ts = ts if ts in UNCOMPRESSED_TS else "1.2.840.10008.1.2.1"
    assert got[0].file_meta.TransferSyntaxUID == expected_ts
    assert_same_pixels(got[0], stored.path)
