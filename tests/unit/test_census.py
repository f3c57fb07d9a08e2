"""medlab.dicom.census: the per-instance table, the QA checks and the plots (lesson 14)."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian

import medlab.dicom
from medlab.data import build
from medlab.dicom import archive
from medlab.errors import MedlabError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The course's built studies: data/ when intact, else built into a temporary folder."""
    from medlab import paths

    if not build.verify(paths.data_dir()):
        return paths.data_dir()
    out = tmp_path_factory.mktemp("data")
    for item in build.plan():
        if not item.path.startswith("hl7/"):
            target = out / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.make())
    return out


@pytest.fixture(scope="module")
def messy(built, tmp_path_factory):
    return medlab.dicom.messy_archive(tmp_path_factory.mktemp("messy"), source=built)


def test_one_row_per_instance_with_values_decoded_like_pydicom(built):
    df = medlab.dicom.census(built)
    files = sorted(built.rglob("*.dcm"))
    assert len(df) == len(files) == 32
    assert list(df["path"]) == sorted(p.relative_to(built).as_posix() for p in files)
    for path in files[::7]:
        ds = pydicom.dcmread(path)
        row = df[df["path"] == path.relative_to(built).as_posix()].iloc[0]
        assert row["PatientName"] == str(ds.PatientName)
        assert row["SOPInstanceUID"] == ds.SOPInstanceUID
        assert row["Rows"] == ds.Rows and row["InstanceNumber"] == ds.InstanceNumber
        if "KVP" in ds:
            assert row["KVP"] == pytest.approx(float(ds.KVP))
        else:
            assert pd.isna(row["KVP"])
        assert row["PixelSpacing"] == (
            tuple(float(v) for v in ds.PixelSpacing) if "PixelSpacing" in ds else None
        )
        assert bool(row["has_pixels"]) and row["missing_type1"] == ()
    deid = df[df["path"].str.startswith("deid_private")]
    assert set(deid["private_creators"]) == {("0019:MEDLAB VENDOR 1.0", "0029:MEDLAB VENDOR 1.0")}


def test_qa_is_clean_on_the_built_data_and_finds_each_planted_problem(built, messy):
    assert len(medlab.dicom.qa(medlab.dicom.census(built))) == 0
    report = medlab.dicom.qa(medlab.dicom.census(messy))
    found = {check: [f.detail for f in items] for check, items in report.by_check().items()}
    assert found["missing Type 1"] == ["RescaleIntercept"]
    assert found["mixed photometric interpretation in a series"] == ["MONOCHROME1 vs MONOCHROME2"]
    assert found["mixed pixel spacing in a series"] == ["(0.7, 0.7) vs (0.8, 0.8)"]
    assert (
        len(found["duplicate SOP Instance UID"]) == 1
        and "CT0003_resent.dcm" in found["duplicate SOP Instance UID"][0]
    )
    assert found["study with more than one patient"] == ["Patient IDs MLB-100587 vs MLB-10587"]
    assert report.private == {"0019:MEDLAB VENDOR 1.0": 3, "0029:MEDLAB VENDOR 1.0": 3}
    assert "5 finding(s)" in repr(report) and "medlab-qa" in report._repr_html_()


def test_non_dicom_files_are_skipped_and_bad_keywords_explained(tmp_path, built):
    (tmp_path / "notes.txt").write_text("not DICOM")
    (tmp_path / "a.dcm").write_bytes((built / "cr_mono1/series01_chest_pa/CR0001.dcm").read_bytes())
    df = medlab.dicom.census(tmp_path)
    assert len(df) == 1 and len(df.attrs["skipped"]) == 1
    with pytest.raises(MedlabError, match="not a DICOM keyword"):
        medlab.dicom.census(tmp_path, attributes=["PatientNmae"])
    with pytest.raises(MedlabError, match="No such folder"):
        medlab.dicom.census(tmp_path / "missing")


def test_implicit_vr_specific_character_set_and_type1(tmp_path):
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Müller^Jürgen"
    ds.PatientID = "X1"
    ds.Modality = "CT"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = "1.2.3"
    ds.StudyInstanceUID = "1.2.3.4"
    ds.SeriesInstanceUID = "1.2.3.4.5"
    ds.Rows = ds.Columns = 2
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [0.5, 0.25]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    df = medlab.dicom.census(tmp_path)
    row = df.iloc[0]
    assert row["PatientName"] == "Müller^Jürgen" and row["PixelSpacing"] == (0.5, 0.25)
    assert "PixelRepresentation" not in row["missing_type1"]  # a binary 0 is a value
    assert {"BitsAllocated", "ImageType", "RescaleSlope"} <= set(row["missing_type1"])


def test_plots_and_timeline(built):
    df = medlab.dicom.census(built)
    fig = medlab.dicom.plot_census(df)
    assert len(fig.axes) == 3 and fig.get_size_inches()[0] <= 8
    bars = fig.axes[0].patches
    assert sorted(round(b.get_height()) for b in bars) == [1, 8, 23]
    times = archive.timeline(df)
    assert times.notna().all() and times.min().strftime("%Y%m%d") == "20260210"
