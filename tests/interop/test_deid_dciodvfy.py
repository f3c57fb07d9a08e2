"""De-identified files against dicom3tools' dciodvfy and the DICOMDIR against DCMTK's dcmdump."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pydicom
import pytest
import support

import medlab.dicom
from medlab.data import build
from medlab.dicom import deid

DCIODVFY = Path("/usr/bin/dciodvfy")


def dciodvfy_errors(path: Path, iod: str) -> list[str]:
    """dciodvfy's Error lines for ``path``, after checking it recognised the expected IOD."""
    support.require(
        DCIODVFY.is_file(), "dicom3tools' dciodvfy is not installed (apt-get install dicom3tools)"
    )
    out = subprocess.run([str(DCIODVFY), str(path)], capture_output=True, text=True, timeout=60)
    text = out.stdout + out.stderr
    assert iod in text.split(), text[:500]
    return [line for line in text.splitlines() if line.startswith("Error")]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for i in (1, 2, 3):
        (src / f"CT{i:04d}.dcm").write_bytes(build._encode(build._deid_instance(i)))
    return src


@pytest.mark.parametrize(
    "profile",
    [
        deid.Profile(),
        deid.Profile.basic(
            date_shift_days=-30, replace={"PatientName": "CASE", "PatientID": "C1", "StudyID": "1"}
        ),
    ],
    ids=["basic", "teaching"],
)
def test_deidentified_files_validate_no_worse(study, tmp_path, profile):
    report = deid.deidentify(study, tmp_path, profile, key="k")
    originals = sorted(study.glob("*.dcm"))
    for original, copy in zip(originals, report.written, strict=True):
        before, after = dciodvfy_errors(original, "CTImage"), dciodvfy_errors(copy, "CTImage")
        assert len(after) <= len(before), after
        ds = pydicom.dcmread(copy)
        assert medlab.dicom.to_display(ds).shape == (256, 256)


def test_dicomdir_is_read_by_dcmdump_and_matches_the_files(study, tmp_path):
    prof = deid.Profile.basic(
        date_shift_days=-30, replace={"PatientName": "CASE", "PatientID": "C1", "StudyID": "1"}
    )
    deid.deidentify(study, tmp_path / "copies", prof, key="k")
    tree = medlab.dicom.write_media(tmp_path / "copies", tmp_path / "cd", fileset_id="INTEROP")
    out = subprocess.run(
        [
            support.dcmtk("dcmdump"),
            "+P",
            "0004,1500",
            "+P",
            "0004,1511",
            str(tmp_path / "cd" / "DICOMDIR"),
        ],
        capture_output=True,
        text=True,
        env=support.dcmtk_env(),
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    file_ids = [
        v.replace("\\", "/") for v in re.findall(r"\(0004,1500\) CS \[([^\]]+)\]", out.stdout)
    ]
    uids = re.findall(r"\(0004,1511\) UI \[([^\]]+)\]", out.stdout)
    assert file_ids == tree.file_ids() and len(uids) == 3
    for file_id, uid in zip(file_ids, uids, strict=True):
        assert pydicom.dcmread(tmp_path / "cd" / file_id).SOPInstanceUID == uid
    errors = dciodvfy_errors(tmp_path / "cd" / "DICOMDIR", "BasicDirectory")
    assert errors == [], errors
