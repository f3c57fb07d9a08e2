"""medlab.dicom.deid: the PS3.15 Annex E Basic Profile, its options and its report (lesson 11)."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset

import medlab.dicom
from medlab.data import build
from medlab.dicom import deid, deid_profile
from medlab.dicom.phi import scan_phi
from medlab.errors import MedlabError

PATIENT = build.PATIENTS["ferreira"]
KNOWN = [PATIENT.name, PATIENT.id, PATIENT.birth_date, "FR-778812", PATIENT.phone]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The deid_private study, built into a temporary folder (independent of data/)."""
    folder = tmp_path_factory.mktemp("deid_private") / "series01_axial"
    folder.mkdir()
    for i in (1, 2, 3):
        (folder / f"CT{i:04d}.dcm").write_bytes(build._encode(build._deid_instance(i)))
    return folder.parent


@pytest.fixture(scope="module")
def basic(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return deid.deidentify(source, out, key="test"), out


def test_every_keyword_of_the_table_is_in_the_dictionary():
    assert len(deid_profile.BASIC_PROFILE) > 300
    unknown = [k for k in deid_profile.BASIC_PROFILE if tag_for_keyword(k) is None]
    assert unknown == []
    assert set(deid_profile.BASIC_PROFILE.values()) <= {
        "D",
        "Z",
        "X",
        "U",
        "Z/D",
        "X/Z",
        "X/D",
        "X/Z/D",
        "X/Z/U*",
    }


@pytest.mark.parametrize(
    ("keyword", "action"),
    [
        ("PatientName", "Z"),
        ("PatientID", "Z"),
        ("PatientBirthDate", "Z"),
        ("AccessionNumber", "Z"),
        ("StudyInstanceUID", "U"),
        ("SOPInstanceUID", "U"),
        ("FrameOfReferenceUID", "U"),
        ("InstitutionName", "X/Z/D"),
        ("ImageComments", "X"),
        ("OtherPatientIDsSequence", "X"),
        ("ContentDate", "Z/D"),
        ("SeriesDate", "X/D"),
        ("ReferencedImageSequence", "X/Z/U*"),
    ],
)
def test_table_rows_match_the_standard(keyword, action):
    assert deid_profile.action_for(keyword) == action


def test_combined_actions_resolve_by_type():
    assert deid_profile.resolve("X/Z/D", "InstitutionName") == "X"  # Type 3 in General Equipment
    assert deid_profile.resolve("Z/D", "ContentDate") == "Z"  # Type 2C in General Image
    assert deid_profile.resolve("X/D", "SeriesDate") == "X"
    assert deid_profile.resolve("Z", "PatientID") == "Z"


def test_profile_output_has_no_phi_and_all_private_elements_are_gone(basic, source):
    report, out = basic
    assert len(scan_phi(source, KNOWN)) > 20  # the input really is full of PHI
    assert scan_phi(out, KNOWN).clean
    for path in report.written:
        ds = pydicom.dcmread(path)
        assert not any(elem.tag.is_private for elem in ds)
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.PatientName == "" and "PatientName" in ds  # Z: present, empty
        assert "ImageComments" not in ds and "InstitutionName" not in ds  # X


def test_uids_are_replaced_consistently_so_the_hierarchy_survives(basic, source):
    report, out = basic
    originals = [pydicom.dcmread(p) for p in sorted(source.rglob("*.dcm"))]
    copies = [pydicom.dcmread(p) for p in report.written]
    assert len({c.StudyInstanceUID for c in copies}) == 1
    assert len({c.SeriesInstanceUID for c in copies}) == 1
    assert len({c.SOPInstanceUID for c in copies}) == 3
    assert not {c.StudyInstanceUID for c in copies} & {o.StudyInstanceUID for o in originals}
    assert all(
        c.SOPClassUID == o.SOPClassUID for c, o in zip(copies, originals, strict=True)
    )  # registered UID kept
    tree = medlab.dicom.hierarchy(out)
    assert "1 patient, 1 study, 1 series, 3 instances; 0 problems" in repr(tree)
    assert all(
        (c.pixel_array == o.pixel_array).all() for c, o in zip(copies, originals, strict=True)
    )


def test_same_key_same_uids_other_key_other_uids(source):
    a = deid.deidentify(pydicom.dcmread(next(source.rglob("*.dcm"))), key="k1").dataset
    b = deid.deidentify(pydicom.dcmread(next(source.rglob("*.dcm"))), key="k1").dataset
    c = deid.deidentify(pydicom.dcmread(next(source.rglob("*.dcm"))), key="k2").dataset
    assert a.StudyInstanceUID == b.StudyInstanceUID != c.StudyInstanceUID
    assert pydicom.uid.UID(a.StudyInstanceUID).is_valid and a.StudyInstanceUID.startswith("2.25.")


def test_report_lists_every_change_with_old_and_new_values(basic):
    report, _ = basic
    first = report.for_file("series01_axial/CT0001.dcm")
    by_path = {c.path: c for c in first}
    assert by_path["(0010,0010)"].action == "Z" and by_path["(0010,0010)"].old == PATIENT.name
    assert by_path["(0029,1013)"].action == "X (private)"
    assert by_path["(0020,4000)"].action == "X"
    assert by_path["(0020,000D)"].action == "U"
    assert "De-identified 3 file(s)" in repr(report) and "<table>" in report._repr_html_()
    assert len(report.to_frame()) == len(report.changes)


def test_date_shift_option_keeps_intervals_and_says_so(source):
    ds = pydicom.dcmread(next(source.rglob("*.dcm")))
    out = deid.deidentify(ds, profile=deid.Profile.basic(date_shift_days=-10), key="k").dataset
    assert out.StudyDate == "20260425" and out.AcquisitionDate == "20260425"
    assert out.PatientBirthDate == ""  # never shifted: removed by the profile
    assert out.StudyTime == ds.StudyTime
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    assert [i.CodeValue for i in out.DeidentificationMethodCodeSequence] == ["113100", "113107"]


def test_retain_safe_private_keeps_only_the_listed_element(source):
    ds = pydicom.dcmread(next(source.rglob("*.dcm")))
    prof = deid.Profile.basic(safe_private=[("MEDLAB VENDOR 1.0", 0x0029, 0x12)])
    out = deid.deidentify(ds, profile=prof, key="k").dataset
    private = sorted(f"{e.tag.group:04X},{e.tag.element:04X}" for e in out if e.tag.is_private)
    assert private == ["0029,0010", "0029,1012"]
    assert "113111" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]


def test_replace_gives_dummy_values_and_patient_characteristics_option(source):
    ds = pydicom.dcmread(next(source.rglob("*.dcm")))
    prof = deid.Profile.basic(
        replace={"PatientName": "CASE^ONE", "PatientID": "C1"}, retain_patient_characteristics=True
    )
    out = deid.deidentify(ds, profile=prof, key="k").dataset
    assert (out.PatientName, out.PatientID, out.PatientSex, out.PatientAge) == (
        "CASE^ONE",
        "C1",
        "F",
        "044Y",
    )


def test_overlays_and_nested_uids():
    ds = Dataset()
    ds.PatientName = "DOE^JANE"
    ds.add_new(0x60003000, "OW", b"\x00\x01" * 8)
    ds.add_new(0x60000010, "US", 4)
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ref.ReferencedSOPInstanceUID = "1.2.3.4.5"
    ds.SourceImageSequence = [ref]
    out = deid.deidentify(ds, key="k").dataset
    assert 0x60003000 not in out and 0x60000010 in out  # Overlay Data removed, Rows kept
    assert "SourceImageSequence" not in out  # X/Z/U*: Type 3 -> removed


def test_burned_in_annotation_is_reported(source, tmp_path):
    ds = pydicom.dcmread(next(source.rglob("*.dcm")))
    del ds.BurnedInAnnotation
    report = deid.deidentify(ds, key="k")
    assert report.burned_in == ["dataset"]


def test_bad_input_is_a_medlab_error(tmp_path):
    with pytest.raises(MedlabError, match="No such file"):
        deid.deidentify(tmp_path / "nope", tmp_path / "out")
    with pytest.raises(MedlabError, match="Unknown de-identification profile"):
        deid.deidentify(Dataset(), profile="strict")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MedlabError, match="No files"):
        deid.deidentify(tmp_path / "empty", tmp_path / "out")


def test_dummy_values_fit_their_vr():
    for keyword in ("PersonName", "VerifyingObserverName", "DeviceLabel", "Date"):
        assert deid_profile.action_for(keyword) == "D"
        vr = dictionary_VR(tag_for_keyword(keyword))
        assert deid._dummy(vr, deid._Deidentifier(deid.Profile(), "k"), "x") not in ("", None)
