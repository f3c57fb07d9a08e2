"""medlab.dicom.hierarchy, demo_study and the UID helpers (lesson 04)."""

from __future__ import annotations

import re
import warnings
from collections import Counter
from pathlib import Path

import pydicom
import pydicom.data
import pytest
import support

import medlab.data
import medlab.dicom
from medlab.dicom.uids import course_uid, uid_info
from medlab.errors import MedlabError


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return medlab.dicom.demo_study(tmp_path_factory.mktemp("clean") / "study")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    return medlab.dicom.demo_study(tmp_path_factory.mktemp("broken") / "study", broken=True)


def test_clean_demo_study(clean):
    h = medlab.dicom.hierarchy(clean)
    assert h.counts == {"patients": 1, "studies": 1, "series": 3, "instances": 7}
    assert h.problems == []
    (patient,) = h.patients.values()
    (study,) = patient.studies.values()
    assert [(s.number, s.modality, len(s.instances)) for s in study.series.values()] == [
        (1, "CT", 3),
        (2, "MR", 2),
        (3, "CT", 2),
    ]
    text = repr(h)
    assert text.splitlines()[0] == "study: 1 patient, 1 study, 3 series, 7 instances; 0 problems"
    assert "Patient MEDLAB-001 (MEDLAB^DEMO): 1 study, 3 series, 7 instances" in text
    assert "<details open" in h._repr_html_()


def test_broken_demo_study_flags_the_three_mistakes(broken):
    h = medlab.dicom.hierarchy(broken)
    kinds = sorted(p.kind for p in h.problems)
    assert kinds == ["duplicate_sop", "series_studies", "study_patients"]
    by_kind = {p.kind: p for p in h.problems}
    assert "'MEDLAB-001' (5 files), 'MEDLAB-002' (1 file)" in by_kind["study_patients"].message
    assert by_kind["duplicate_sop"].message.endswith("used by 2 files: mr_1.dcm, mr_2.dcm")
    assert "spread across 2 studies" in by_kind["series_studies"].message
    assert h.counts == {"patients": 2, "studies": 2, "series": 3, "instances": 7}
    assert repr(h).count("<-- problem") >= 5 and "⚠" in h._repr_html_()
    # independent check of the duplicate with plain pydicom
    uids = Counter(pydicom.dcmread(p).SOPInstanceUID for p in sorted(broken.glob("*.dcm")))
    assert [u for u, n in uids.items() if n > 1] == [by_kind["duplicate_sop"].uid]


def test_demo_study_is_deterministic(tmp_path, broken):
    again = medlab.dicom.demo_study(tmp_path / "again", broken=True)
    for path in sorted(broken.glob("*.dcm")):
        assert (again / path.name).read_bytes() == path.read_bytes()


def test_every_sample_file_at_once():
    files = support.sample_files()
    h = medlab.dicom.hierarchy(files)
    assert repr(h) and h._repr_html_()
    readable = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in files:
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:
                continue
            if all(ds.get(k) for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")):
                readable.append(str(ds.SOPInstanceUID))
    assert h.counts["instances"] == len(readable)
    unreadable = {p.uid for p in h.problems if p.kind == "unreadable"}
    assert {"no_meta.dcm", "rtstruct.dcm", "OT-PAL-8-face.dcm"} <= {
        Path(u).name for u in unreadable
    }
    duplicated = {u for u, n in Counter(readable).items() if n > 1}
    assert duplicated == {p.uid for p in h.problems if p.kind == "duplicate_sop"}
    assert len(duplicated) > 3  # pydicom ships the same MR in many encodings


@pytest.mark.parametrize("name", ["ct_phantom", "mr_phantom", "cr_mono1", "deid_private"])
def test_built_studies_agree_with_pydicom(name):
    """The course's built studies (``medlab data build``) form a clean tree that matches the files."""
    try:
        folder = medlab.data.study(name)
    except MedlabError:
        support.require(False, f"{name} is not built (run `make data`)")  # fails under CI=true
    h = medlab.dicom.hierarchy(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    assert h.problems == []
    assert h.counts == {
        "patients": len({d.PatientID for d in datasets}),
        "studies": len({d.StudyInstanceUID for d in datasets}),
        "series": len({d.SeriesInstanceUID for d in datasets}),
        "instances": len(datasets),
    }


def test_unbuilt_data_fails_under_ci_instead_of_skipping(monkeypatch):
    def not_built(name):
        raise MedlabError("not built", where=name)

    monkeypatch.setattr(medlab.data, "study", not_built)
    monkeypatch.setattr(support, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        test_built_studies_agree_with_pydicom("ct_phantom")
    monkeypatch.setattr(support, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception):
        test_built_studies_agree_with_pydicom("ct_phantom")


def test_a_non_dicom_file_in_the_folder_is_skipped(clean, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "README.txt").write_text("not dicom")
    (folder / "a.dcm").write_bytes((clean / "ct1_1.dcm").read_bytes())
    h = medlab.dicom.hierarchy(folder)
    assert h.counts["instances"] == 1
    assert [p.kind for p in h.problems] == ["unreadable"] and "README.txt skipped" in h.problems[
        0
    ].message


def test_bad_paths(tmp_path):
    with pytest.raises(MedlabError, match="There is no file or folder 'nothing'"):
        medlab.dicom.hierarchy(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MedlabError, match="contains no files"):
        medlab.dicom.hierarchy(tmp_path / "empty")


@pytest.mark.parametrize(
    ("uid", "valid", "why"),
    [
        ("1.2.840.10008.1.2.1", True, None),
        ("2.25.329800735698586629295641978511506172918", True, None),
        ("1.2.840.10008.01.2", False, "leading zero"),
        ("1.2.3.abc", False, "only digits and dots"),
        ("1.2..3", False, "empty component"),
        ("1." + "2" * 63, False, "at most 64"),
        ("", False, "empty"),
    ],
)
def test_uid_info(uid, valid, why):
    info = uid_info(uid)
    assert info.valid is valid
    if why:
        assert any(why in p for p in info.problems), info.problems


def test_uid_names_and_roots():
    info = uid_info("1.2.840.10008.1.2.4.90")
    assert (info.name, info.kind) == (
        "JPEG 2000 Image Compression (Lossless Only)",
        "Transfer Syntax",
    )
    assert "defined by the DICOM standard" in info.root
    assert uid_info("1.2.840.10008.5.1.4.1.1.2").name == "CT Image Storage"
    assert "2.25" in uid_info(course_uid("x")).root
    assert "organisation" in uid_info("1.3.12.2.1107.5.1.4").root
    assert "registered name: CT Image Storage (SOP Class)" in repr(
        uid_info("1.2.840.10008.5.1.4.1.1.2")
    )


def test_course_uid_is_deterministic_valid_and_distinct():
    a, b = course_uid("study", 1), course_uid("study", 2)
    assert a == course_uid("study", 1) and a != b
    for uid in (a, b):
        assert re.fullmatch(r"2\.25\.[1-9]\d*", uid) and len(uid) <= 64 and uid_info(uid).valid


def test_module_doctests():
    import doctest

    from medlab.dicom import uids

    result = doctest.testmod(uids)
    assert result.attempted and not result.failed
