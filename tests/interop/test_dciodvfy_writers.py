"""Every DICOM object medlab writes, checked by dicom3tools' dciodvfy: 0 errors.

The writers: the sample data build (medlab/data/build.py), de-identified copies
(of the sample studies and of the demo study), the demo study, a DICOMDIR
File-set with its files, the measurement SR, the GSPS (every rotation and flip,
on square and non-square images, with and without Body Part Examined), the
modality's images of lesson 09 (``make_instance`` and ``scu.acquire``), and the
messy archive, whose only error is the one planted on purpose (a CT slice
without Rescale Intercept, the problem lesson 04's QA must find). The DICOMDIR
is also read back with DCMTK's dcmdump.
"""

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

pytestmark = pytest.mark.interop

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
def test_deidentified_files_validate(study, tmp_path, profile):
    report = deid.deidentify(study, tmp_path, profile, key="k")
    originals = sorted(study.glob("*.dcm"))
    for original, copy in zip(originals, report.written, strict=True):
        assert dciodvfy_errors(original, "CTImage") == []
        assert dciodvfy_errors(copy, "CTImage") == []
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


# ---------------------------------------------------------------- every other writer
IODS = {  # SOP Class UID -> the IOD name dciodvfy prints
    "1.2.840.10008.5.1.4.1.1.2": "CTImage",
    "1.2.840.10008.5.1.4.1.1.4": "MRImage",
    "1.2.840.10008.5.1.4.1.1.1": "CRImage",
    "1.2.840.10008.5.1.4.1.1.11.1": "GrayscaleSoftcopyPresentationState",
    "1.2.840.10008.5.1.4.1.1.88.22": "EnhancedSR",
    "1.2.840.10008.1.3.10": "BasicDirectory",
}


def _iod(path: Path) -> str:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    sop = str(ds.file_meta.get("MediaStorageSOPClassUID", ds.get("SOPClassUID", "")))
    assert sop in IODS, f"{path}: add {sop} to IODS"
    return IODS[sop]


def _all_errors(files: list[Path]) -> dict[str, list[str]]:
    assert files, "nothing was written"
    found = {}
    for path in files:
        errors = dciodvfy_errors(path, _iod(path))
        if errors:
            found[path.name] = errors
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    build.build_data(out)
    return out


def test_sample_data_build(built):
    files = sorted(p for p in built.rglob("*") if p.is_file() and _is_dicom(p))
    assert len(files) >= 30
    assert _all_errors(files) == {}


def _is_dicom(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(132)[128:132] == b"DICM"


@pytest.mark.parametrize("name", ["deid_private", "ct_phantom", "mr_phantom", "cr_mono1"])
def test_deidentified_sample_studies(built, tmp_path, name):
    report = deid.deidentify(built / name, tmp_path, key="k")
    assert _all_errors(report.written) == {}


def test_demo_study_its_deidentified_copy_and_its_media(tmp_path):
    from medlab.dicom.hierarchy import demo_study

    demo = demo_study(tmp_path / "demo")
    copies = deid.deidentify(demo, tmp_path / "deid", key="k").written
    tree = medlab.dicom.write_media(demo, tmp_path / "cd")
    media = [tmp_path / "cd" / "DICOMDIR"] + [tmp_path / "cd" / f for f in tree.file_ids()]
    assert _all_errors(sorted(demo.glob("*.dcm")) + copies + media) == {}


def test_messy_archive_has_only_the_planted_error(built, tmp_path):
    from medlab.dicom.census import messy_archive

    out = messy_archive(tmp_path / "messy", source=built)
    found = _all_errors(sorted(out.rglob("*.dcm")))
    assert found == {
        "CT0007.dcm": [
            "Error - Missing attribute Type 1 Required Element=<RescaleIntercept> Module=<CTImage>"
        ]
    }


@pytest.mark.parametrize("sample", ["ct", "mr", "cr_mono1"])
def test_gsps_every_rotation_and_flip(tmp_path, sample):
    from medlab import data
    from medlab.dicom.gsps import create_gsps

    image = pydicom.dcmread(data.get_path(sample))
    files = []
    for rotation in (0, 90, 180, 270):
        for flip in (False, True):
            pr = create_gsps(
                image, rotation=rotation, flip=flip, text="check", polyline=[(1, 1), (3, 4)]
            )
            files.append(tmp_path / f"pr_{rotation}_{flip}.dcm")
            pr.save_as(files[-1], enforce_file_format=True)
    plain = create_gsps(image)  # no annotation, no layer
    files.append(tmp_path / "plain.dcm")
    plain.save_as(files[-1], enforce_file_format=True)
    assert _all_errors(files) == {}


def test_measurement_sr(tmp_path):
    from medlab import data
    from medlab.dicom.composite import measurement_sr

    sr = measurement_sr(pydicom.dcmread(data.get_path("ct")), diameter_mm=12.5)
    sr.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    assert _all_errors([tmp_path / "sr.dcm"]) == {}


def test_modality_images_of_lesson_09(tmp_path):
    from medlab.hl7 import parse, samples
    from medlab.hl7.orders import order_to_worklist
    from medlab.net.samples import make_instance, write_instances
    from medlab.net.scu import acquire

    files = write_instances(tmp_path / "bench", 3, rows=32, columns=24)
    make_instance(modality="CT", rows=8, columns=8).save_as(
        tmp_path / "one.dcm", enforce_file_format=True
    )
    files.append(tmp_path / "one.dcm")
    item = order_to_worklist(parse(samples.ORM_O01))
    for n, ds in enumerate(acquire(item, count=2)):
        files.append(tmp_path / f"acquired{n}.dcm")
        ds.save_as(files[-1], enforce_file_format=True)
    assert _all_errors(files) == {}
