"""medlab.dicom.media: File-sets with a DICOMDIR via pydicom's FileSet (lesson 11)."""

from __future__ import annotations

import re

import pydicom
import pytest
from pydicom.fileset import FileSet

import medlab.dicom
from medlab.data import build
from medlab.dicom import deid
from medlab.errors import MedlabError


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for i in (1, 2, 3):
        (src / f"CT{i:04d}.dcm").write_bytes(build._encode(build._deid_instance(i)))
    copies = tmp_path_factory.mktemp("copies")
    prof = deid.Profile.basic(
        date_shift_days=-7, replace={"PatientName": "CASE^A", "PatientID": "C1", "StudyID": "1"}
    )
    deid.deidentify(src, copies, prof, key="t")
    out = tmp_path_factory.mktemp("media")
    return medlab.dicom.write_media(copies, out, fileset_id="test set"), out


def test_tree_follows_the_offsets(media):
    tree, out = media
    assert (tree.fileset_id, tree.count("PATIENT"), tree.count("STUDY"), tree.count("SERIES")) == (
        "TEST SET",
        1,
        1,
        1,
    )
    assert len(tree.file_ids()) == 3
    assert [d for d, _ in tree.walk()] == [0, 1, 2, 3, 3, 3]
    assert "PATIENT C1 CASE^A" in repr(tree) and "<ul>" in tree._repr_html_()
    assert tree.missing_files() == []


def test_file_ids_follow_ps3_10(media):
    _, out = media
    for path in out.rglob("*"):
        if path.is_file():
            for part in path.relative_to(out).parts:
                assert re.fullmatch(r"[A-Z0-9_]{1,8}", part), part


def test_records_match_the_files(media):
    tree, out = media
    fs = FileSet(out / "DICOMDIR")
    by_uid = {i.SOPInstanceUID: i for i in fs}
    for file_id in tree.file_ids():
        ds = pydicom.dcmread(out / file_id)
        assert ds.SOPInstanceUID in by_uid
        assert by_uid[ds.SOPInstanceUID].path.endswith(file_id)


def test_a_broken_link_is_reported(media, tmp_path):
    tree, out = media
    victim = out / tree.file_ids()[0]
    data = victim.read_bytes()
    victim.unlink()
    try:
        assert medlab.dicom.dicomdir(out).missing_files() == [tree.file_ids()[0]]
    finally:
        victim.write_bytes(data)


def test_basic_profile_output_needs_dummy_values(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "a.dcm").write_bytes(build._encode(build._deid_instance(1)))
    deid.deidentify(tmp_path / "a.dcm", src, key="k")
    with pytest.raises(MedlabError, match="Patient ID"):
        medlab.dicom.write_media(src, tmp_path / "out")


def test_missing_dicomdir_is_explained(tmp_path):
    with pytest.raises(MedlabError, match="No DICOMDIR"):
        medlab.dicom.dicomdir(tmp_path)
    with pytest.raises(MedlabError, match="Nothing to put"):
        medlab.dicom.write_media(tmp_path, tmp_path / "out")
