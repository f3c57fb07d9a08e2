"""medlab.net storage and C-FIND matching, without the network."""

from __future__ import annotations

import io
import warnings

import pydicom
import pytest
from pydicom import Dataset
from pydicom.filereader import _read_file_meta_info, read_preamble

import medlab.data
from medlab.net.query import QueryError, find, find_worklist, instances_for
from medlab.net.samples import make_instance, shipped_sample_files
from medlab.net.store import Store, StoreFailure, is_valid_uid

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # crafted UIDs make pydicom warn


def raw_of(path) -> tuple[bytes, str]:
    """The data set bytes of a file (after its meta group) and its transfer syntax."""
    data = open(path, "rb").read()
    fp = io.BytesIO(data)
    read_preamble(fp, False)
    meta = _read_file_meta_info(fp)
    return data[fp.tell() :], str(meta.TransferSyntaxUID)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "pacs")
    yield s
    s.close()


def seed(store: Store, patients: int = 3, series: int = 2, per_series: int = 3) -> None:
    dates = ["20250101", "20250615", "20260105"]
    for p in range(1, patients + 1):
        for se in range(1, series + 1):
            for i in range(1, per_series + 1):
                ds = make_instance(
                    p, 1, se, i, study_date=dates[(p - 1) % 3], modality="CT" if se == 1 else "MR"
                )
                store.put_dataset(ds)


@pytest.mark.parametrize(
    "uid, ok",
    [
        ("1.2.840.10008.1.2", True),
        ("1.2.3." + "4" * 58, True),
        ("1.2.3." + "4" * 59, False),  # 65 characters
        ("../../etc/passwd", False),
        ("1.2..3", False),
        (".1.2", False),
        ("1.2.3.", False),
        ("1.2.3/4", False),
        ("1.2.a", False),
        ("", False),
        ("1.2.3\x00", False),
    ],
)
def test_uid_validation(uid, ok):
    assert is_valid_uid(uid) is ok


def test_store_writes_bytes_as_received_with_meta(store):
    path = medlab.data.get_path("mr_jpeg_ls")
    data, ts = raw_of(path)
    stored = store.put(data, ts, source_aet="TEST")
    on_disk = stored.path.read_bytes()
    assert on_disk.endswith(data)  # the data set bytes, unchanged
    ds = pydicom.dcmread(stored.path)
    assert ds.file_meta.TransferSyntaxUID == ts
    assert ds.file_meta.SourceApplicationEntityTitle == "TEST"
    assert stored.path.relative_to(store.root).parts == (
        ds.StudyInstanceUID,
        ds.SeriesInstanceUID,
        f"{ds.SOPInstanceUID}.dcm",
    )
    assert store.count() == 1
    assert not list(store.root.rglob("*.tmp"))


def test_resending_replaces_without_duplicate_row(store):
    ds = make_instance(1, 1, 1, 1)
    first = store.put_dataset(ds)
    ds.SeriesDescription = "changed"
    second = store.put_dataset(ds)
    assert second.replaced and not first.replaced
    assert store.count() == 1
    assert pydicom.dcmread(second.path).SeriesDescription == "changed"


def test_resend_under_another_series_moves_the_file(store):
    ds = make_instance(1, 1, 1, 1)
    first = store.put_dataset(ds)
    ds.SeriesInstanceUID = "1.2.3.4.5"
    second = store.put_dataset(ds)
    assert not first.path.exists() and second.path.exists()
    assert store.count() == 1


@pytest.mark.parametrize("field", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
@pytest.mark.parametrize("evil", ["../../../../tmp/evil", "..", "1.2/../../x", "/etc/passwd"])
def test_crafted_uid_never_escapes_root(store, tmp_path, field, evil):
    ds = make_instance(1, 1, 1, 1)
    setattr(ds, field, evil)
    with pytest.raises(StoreFailure) as err:
        store.put_dataset(ds)
    assert err.value.status in (0xC000, 0xA900)
    assert store.count() == 0
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and store.root not in p.parents]
    assert outside == []


def test_mismatch_with_command_uids_is_refused(store):
    ds = make_instance(1, 1, 1, 1)
    data, ts = raw_of(_save(ds, store.root.parent / "x.dcm"))
    with pytest.raises(StoreFailure) as err:
        store.put(data, ts, ds.SOPClassUID, "1.2.3.999")
    assert err.value.status == 0xA900
    with pytest.raises(StoreFailure) as err:
        store.put(data, ts, "1.2.840.10008.5.1.4.1.1.4", ds.SOPInstanceUID)
    assert err.value.status == 0xA900
    assert store.count() == 0


@pytest.mark.parametrize("name", ["MR_truncated.dcm", "rtplan_truncated.dcm"])
def test_truncated_data_set_is_refused(store, name):
    from pydicom.data import get_testdata_file

    data, ts = raw_of(get_testdata_file(name))
    with pytest.raises(StoreFailure) as err:
        store.put(data, ts)
    assert err.value.status == 0xC210
    assert store.count() == 0
    assert not [p for p in store.root.rglob("*") if p.is_file() and p.suffix in (".dcm", ".tmp")]


def test_garbage_data_set_is_refused(store):
    with pytest.raises(StoreFailure):
        store.put(b"\x08\x00\x18\x00UI\xff\xff" + b"garbage" * 10, "1.2.840.10008.1.2.1")
    assert store.count() == 0


def test_recover_cleans_temp_files_and_orphans(store):
    good = store.put_dataset(make_instance(1, 1, 1, 1))
    # a temp file left by a kill mid-write (named as the store names its own)
    (good.path.parent / ".1.2.3.4242.139876.tmp").write_bytes(b"half a file")
    # a complete file renamed into place but never indexed (killed before the commit)
    orphan_ds = make_instance(1, 1, 1, 2)
    orphan = good.path.parent / f"{orphan_ds.SOPInstanceUID}.dcm"
    orphan_ds.save_as(orphan, enforce_file_format=True)
    # an unreadable .dcm leftover
    (good.path.parent / "1.2.3.4.dcm").write_bytes(b"DICM?")
    # a row whose file vanished
    gone = store.put_dataset(make_instance(1, 1, 1, 3))
    gone.path.unlink()
    counts = store.recover()
    assert counts == {
        "temp_removed": 1,
        "rows_dropped": 1,
        "files_indexed": 1,
        "files_quarantined": 1,
    }
    assert store.count() == 2
    for (rel,) in store.query("SELECT path FROM instances"):
        pydicom.dcmread(store.root / rel)
    assert not list(store.root.rglob("*.tmp"))


def test_put_every_sample_file_is_safe(store):
    """Every sample pydicom ships either stores and reads back, or fails with a status."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = shipped_sample_files()
    stored = failed = 0
    for path in files:
        try:
            data, ts = raw_of(path)
        except Exception:  # noqa: BLE001 - no file meta: not sendable as is
            continue
        if not ts:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                store.put(data, ts)
            stored += 1
        except StoreFailure as err:
            assert err.status >= 0xA700
            failed += 1
    assert stored > 100
    for rel, size in store.query("SELECT path, size FROM instances"):
        assert (store.root / rel).stat().st_size == size
    assert failed >= 3  # the truncated samples at least


def _save(ds: Dataset, path):
    ds.save_as(path, enforce_file_format=True)
    return path


# ---------------------------------------------------------------- matching
def q(level: str, **keys) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(ds, k, v)
    return ds


def results(store, model, ident):
    return [m.identifier for m in find(store, model, ident)]


def test_find_patient_level(store):
    seed(store)
    out = results(
        store,
        "PATIENT",
        q("PATIENT", PatientID="", PatientName="", NumberOfPatientRelatedInstances=""),
    )
    assert [r.PatientID for r in out] == ["PAT0001", "PAT0002", "PAT0003"]
    assert all(r.NumberOfPatientRelatedInstances == 6 for r in out)


def test_single_value_and_case_insensitive_pn(store):
    seed(store)
    assert len(results(store, "STUDY", q("STUDY", PatientName="doe^p2", StudyInstanceUID=""))) == 1
    assert len(results(store, "STUDY", q("STUDY", PatientID="pat0002", StudyInstanceUID=""))) == 0
    assert len(results(store, "STUDY", q("STUDY", PatientID="PAT0002", StudyInstanceUID=""))) == 1


def test_wildcards(store):
    seed(store)
    assert len(results(store, "STUDY", q("STUDY", PatientName="DOE*", StudyInstanceUID=""))) == 3
    assert len(results(store, "STUDY", q("STUDY", PatientID="PAT000?", StudyInstanceUID=""))) == 3
    assert len(results(store, "STUDY", q("STUDY", PatientID="PAT*3", StudyInstanceUID=""))) == 1
    assert len(results(store, "STUDY", q("STUDY", PatientID="PAT00?", StudyInstanceUID=""))) == 0
    assert len(results(store, "STUDY", q("STUDY", AccessionNumber="*", StudyInstanceUID=""))) == 3


def test_date_and_time_ranges(store):
    seed(store)

    def n(**k):
        return len(results(store, "STUDY", q("STUDY", StudyInstanceUID="", **k)))

    assert n(StudyDate="20250101-20251231") == 2
    assert n(StudyDate="20260101-") == 1
    assert n(StudyDate="-20250101") == 1
    assert n(StudyDate="20250615") == 1
    assert n(StudyTime="0900-0959") == 3  # study 1 -> 09:xx for every patient
    assert n(StudyTime="1000-") == 0


def test_list_of_uids_and_levels(store):
    seed(store)
    studies = results(store, "STUDY", q("STUDY", StudyInstanceUID=""))
    two = [s.StudyInstanceUID for s in studies[:2]]
    assert len(results(store, "STUDY", q("STUDY", StudyInstanceUID=two))) == 2
    series = results(
        store,
        "STUDY",
        q(
            "SERIES",
            StudyInstanceUID=two[0],
            SeriesInstanceUID="",
            Modality="",
            NumberOfSeriesRelatedInstances="",
        ),
    )
    assert sorted(s.Modality for s in series) == ["CT", "MR"]
    assert all(s.NumberOfSeriesRelatedInstances == 3 for s in series)
    images = results(
        store,
        "STUDY",
        q(
            "IMAGE",
            StudyInstanceUID=two[0],
            SeriesInstanceUID=series[0].SeriesInstanceUID,
            SOPInstanceUID="",
            InstanceNumber="",
        ),
    )
    assert [i.InstanceNumber for i in images] == [1, 2, 3]


def test_return_keys_echoed_empty_and_unsupported_flagged(store):
    seed(store, patients=1)
    matches = list(
        find(
            store, "STUDY", q("STUDY", StudyInstanceUID="", StudyDescription="", InstitutionName="")
        )
    )
    assert len(matches) == 1
    m = matches[0]
    assert "InstitutionName" in m.identifier and m.identifier.InstitutionName in ("", None)
    assert m.all_keys_supported is False  # -> Pending 0xFF01
    ok = list(find(store, "STUDY", q("STUDY", StudyInstanceUID="", ModalitiesInStudy="")))[0]
    assert ok.all_keys_supported and list(ok.identifier.ModalitiesInStudy) == ["CT", "MR"]


def test_modalities_in_study_matching(store):
    seed(store)
    store.put_dataset(make_instance(9, 1, 1, 1, modality="CR"))
    assert (
        len(results(store, "STUDY", q("STUDY", ModalitiesInStudy="MR", StudyInstanceUID=""))) == 3
    )
    assert (
        len(results(store, "STUDY", q("STUDY", ModalitiesInStudy="CR", StudyInstanceUID=""))) == 1
    )


def test_bad_level_is_a_failure(store):
    with pytest.raises(QueryError) as err:
        list(find(store, "STUDY", q("PATIENT", PatientID="")))
    assert err.value.status == 0xA900
    with pytest.raises(QueryError):
        list(find(store, "PATIENT", q("FOO")))


def test_retrieve_selection(store):
    seed(store)
    study = results(store, "STUDY", q("STUDY", StudyInstanceUID=""))[0].StudyInstanceUID
    assert len(instances_for(store, "STUDY", q("STUDY", StudyInstanceUID=study))) == 6
    assert len(instances_for(store, "PATIENT", q("PATIENT", PatientID="PAT0002"))) == 6
    with pytest.raises(QueryError):
        instances_for(store, "STUDY", q("SERIES", StudyInstanceUID=study))


def test_worklist_matching(store, tmp_path):
    from medlab.net import PACS

    pacs = PACS(root=store.root)
    pacs.store = store
    a = pacs.schedule(
        PatientName="DOE^JANE",
        PatientID="P1",
        Modality="CT",
        ScheduledStationAETitle="CT01",
        ScheduledProcedureStepStartDate="20260105",
        ScheduledProcedureStepStartTime="0900",
        AccessionNumber="A1",
    )
    b = pacs.schedule(
        PatientName="ROE^RICHARD",
        PatientID="P2",
        Modality="MR",
        ScheduledStationAETitle="MR01",
        ScheduledProcedureStepStartDate="20260106",
        ScheduledProcedureStepStartTime="1400",
    )
    assert (a, b) == ("SPS0001", "SPS0002")

    def wl(**sps):
        ident = Dataset()
        ident.PatientName = sps.pop("PatientName", "")
        ident.PatientID = ""
        item = Dataset()
        item.Modality = sps.pop("Modality", "")
        item.ScheduledStationAETitle = sps.pop("ScheduledStationAETitle", "")
        item.ScheduledProcedureStepStartDate = sps.pop("date", "")
        item.ScheduledProcedureStepID = ""
        ident.ScheduledProcedureStepSequence = [item]
        return [m.identifier for m in find_worklist(store, ident)]

    assert [r.PatientID for r in wl()] == ["P1", "P2"]
    assert [r.PatientID for r in wl(Modality="MR")] == ["P2"]
    assert [r.PatientID for r in wl(ScheduledStationAETitle="CT01")] == ["P1"]
    assert [r.PatientID for r in wl(date="20260106-")] == ["P2"]
    assert [r.PatientID for r in wl(PatientName="doe*")] == ["P1"]
    r = wl(Modality="CT")[0]
    assert r.ScheduledProcedureStepSequence[0].ScheduledProcedureStepID == "SPS0001"
    assert "ScheduledStationAETitle" in r.ScheduledProcedureStepSequence[0]
