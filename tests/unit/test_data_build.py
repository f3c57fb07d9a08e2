"""``medlab data build``: same bytes every time, valid DICOM, realistic values, idempotent."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
import support
from pydicom.uid import UID

from medlab.data import _recipe, build, phantom
from medlab.errors import MedlabError


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data-a")
    build.build_data(out)
    return out


@pytest.fixture(scope="module")
def studies(built) -> dict[str, list[pydicom.Dataset]]:
    """Every built instance, by study folder, in file-name order."""
    return {
        folder: [pydicom.dcmread(p) for p in sorted((built / folder).rglob("*.dcm"))]
        for folder in build.STUDIES
    }


def test_two_builds_give_identical_bytes(built, tmp_path):
    other = tmp_path / "data-b"
    build.build_data(other)
    first, second = _hashes(built), _hashes(other)
    assert len(first) == 40  # 32 DICOM files, 7 HL7 messages, the manifest
    assert first == second


def test_manifest_lists_every_file_with_its_hash(built):
    manifest = json.loads((built / "MANIFEST.json").read_text())
    listed = {e["path"]: e["sha256"] for e in manifest["files"]}
    on_disk = _hashes(built)
    on_disk.pop("MANIFEST.json")
    assert listed == on_disk
    assert all(e["bytes"] == (built / e["path"]).stat().st_size for e in manifest["files"])
    assert str(built) not in (built / "MANIFEST.json").read_text()  # no absolute paths


def test_data_is_small(built):
    total = sum(p.stat().st_size for p in built.rglob("*") if p.is_file())
    assert 5e6 < total < 30e6


def test_every_file_is_a_consistent_dicom_hierarchy(studies):
    sop_uids = set()
    for folder, datasets in studies.items():
        info = build.STUDIES[folder]
        patient = build.PATIENTS[info.patient]
        assert datasets, folder
        assert {ds.StudyInstanceUID for ds in datasets} == {info.study_uid}
        assert {str(ds.PatientName) for ds in datasets} == {patient.name}
        assert {ds.PatientID for ds in datasets} == {patient.id}
        assert {ds.AccessionNumber for ds in datasets} == {info.accession}
        assert {ds.StudyDate for ds in datasets} == {info.date}
        series = {}
        for ds in datasets:
            series.setdefault(ds.SeriesInstanceUID, set()).add(ds.SeriesNumber)
            for value in (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID):
                assert value.startswith("2.25.") and UID(value).is_valid, value
            meta = ds.file_meta
            assert meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
            assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
            assert meta.MediaStorageSOPClassUID == ds.SOPClassUID
            assert meta.ImplementationClassUID == build.IMPLEMENTATION_CLASS_UID
            assert meta.ImplementationVersionName == build.IMPLEMENTATION_VERSION_NAME
            assert ds.pixel_array.shape == (ds.Rows, ds.Columns)
            sop_uids.add(ds.SOPInstanceUID)
        assert all(len(numbers) == 1 for numbers in series.values())  # one number per series
    assert len(sop_uids) == sum(len(d) for d in studies.values())  # SOP Instance UIDs unique


def test_ct_study_has_two_series_with_consistent_geometry(studies):
    ct = studies["ct_phantom"]
    by_series: dict[int, list[pydicom.Dataset]] = {}
    for ds in ct:
        by_series.setdefault(ds.SeriesNumber, []).append(ds)
    assert sorted(by_series) == [1, 2]
    assert len(by_series[1]) == 12 and 6 <= len(by_series[2]) <= 12
    assert len({ds.FrameOfReferenceUID for ds in ct}) == 1
    for series in by_series.values():
        series.sort(key=lambda d: d.InstanceNumber)
        assert [d.InstanceNumber for d in series] == list(range(1, len(series) + 1))
        z = [float(d.ImagePositionPatient[2]) for d in series]
        steps = np.diff(z)
        assert np.allclose(steps, -float(series[0].SliceThickness))  # contiguous, head to feet
        for ds in series:
            assert (ds.Rows, ds.Columns) == (512, 512)
            assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
            assert float(ds.SliceLocation) == float(ds.ImagePositionPatient[2])
            assert ds.BitsAllocated == 16 and ds.RescaleType == "HU"
            assert float(ds.RescaleSlope) == 1 and float(ds.RescaleIntercept) == -1024


# The course's reference values (HU): air -1000, lung about -850, fat about -100,
# water 0, soft tissue about 40, bone +700..+1000.
EXPECTED_HU = {
    "air": (-1010, -990),
    "lung": (-880, -820),
    "fat": (-125, -75),
    "water": (-10, 10),
    "soft_tissue": (25, 55),
    "bone": (650, 1050),
    "dense_bone": (650, 1050),
}


def _roi_mean_hu(ds: pydicom.Dataset, roi: phantom.ROI) -> float:
    """Mean HU in ``roi``, located from the file's own Image Position and Pixel Spacing."""
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    x0, y0 = float(ds.ImagePositionPatient[0]), float(ds.ImagePositionPatient[1])
    cols, rows = np.meshgrid(np.arange(ds.Columns), np.arange(ds.Rows))
    x, y = x0 + cols * col_mm, y0 + rows * row_mm
    mask = (x - roi.x) ** 2 + (y - roi.y) ** 2 <= roi.radius**2
    assert mask.sum() >= 10
    return float(hu[mask].mean())


@pytest.mark.parametrize("folder", ["ct_phantom", "deid_private"])
def test_ct_hounsfield_units_in_known_regions(studies, folder):
    assert {r.name for r in phantom.CT_ROIS} == set(EXPECTED_HU)
    for ds in studies[folder]:
        for roi in phantom.CT_ROIS:
            low, high = EXPECTED_HU[roi.name]
            mean = _roi_mean_hu(ds, roi)
            assert low <= mean <= high, (ds.SeriesDescription, ds.InstanceNumber, roi.name, mean)


def test_ct_noise_differs_between_kernels_and_slices(studies):
    ct = studies["ct_phantom"]
    soft = [d for d in ct if d.SeriesNumber == 1]
    sharp = [d for d in ct if d.SeriesNumber == 2]
    water = next(r for r in phantom.CT_ROIS if r.name == "soft_tissue")

    def sd(ds):
        hu = ds.pixel_array.astype(float) - 1024
        return float(hu[water.mask(ds.Rows, ds.Columns, float(ds.PixelSpacing[0]))].std())

    assert 4 < sd(soft[0]) < 14 and 15 < sd(sharp[0]) < 40
    assert not np.array_equal(soft[0].pixel_array, soft[1].pixel_array)


def test_mr_series(studies):
    mr = studies["mr_phantom"]
    assert len(mr) == 8
    for ds in mr:
        assert ds.Modality == "MR" and (ds.Rows, ds.Columns) == (256, 256)
        assert float(ds.RepetitionTime) > 0 and float(ds.EchoTime) > 0
        assert "RescaleSlope" not in ds
    image = mr[4].pixel_array.astype(float)
    assert image[128, 128] > 4 * image[2, 2] > 0  # head bright, Rician background not zero


def test_cr_is_monochrome1_with_bones_low_and_lungs_high(studies):
    (ds,) = studies["cr_mono1"]
    assert ds.Modality == "CR" and ds.PhotometricInterpretation == "MONOCHROME1"
    assert ds.ViewPosition == "PA" and ds.BodyPartExamined == "CHEST"
    image = ds.pixel_array.astype(float)
    rows, cols = image.shape
    spine = image[rows // 2 - 50 : rows // 2 + 50, cols // 2 - 10 : cols // 2 + 10].mean()
    lung = image[rows // 2 - 120 : rows // 2 - 20, cols // 2 - 200 : cols // 2 - 140].mean()
    air = image[60:100, 60:100].mean()
    # MONOCHROME1 shows the minimum white: mediastinum/spine white, lungs dark, air black.
    assert spine + 1000 < lung < air - 400


def test_deid_private_elements_carry_the_patients_name_and_id(studies):
    patient = build.PATIENTS["ferreira"]
    family = patient.name.split("^")[0].title()
    for ds in studies["deid_private"]:
        assert ds.BurnedInAnnotation == "NO"
        p19 = ds.private_block(0x0019, build.PRIVATE_CREATOR)
        p29 = ds.private_block(0x0029, build.PRIVATE_CREATOR)
        assert str(p19[0x10].value) == patient.name and p19[0x10].VR == "PN"
        assert p19[0x11].value == patient.id
        assert p29[0x10].value == patient.name
        assert family in p29[0x11].value and patient.id in p29[0x11].value
        assert p29[0x12].value == patient.birth_date
        assert patient.name.encode() in p29[0x13].value
        assert (
            p29[0x20].value[0].private_block(0x0029, build.PRIVATE_CREATOR)[0x10].value
            == patient.name
        )
        assert family in ds.ImageComments and patient.id in ds.ImageComments
        assert family in ds.AdditionalPatientHistory
        assert ds.OtherPatientIDsSequence[0].PatientID


def test_deid_phi_list_matches_the_files(studies):
    """Every element DEID_PHI documents is present and non-empty in every instance."""
    for ds in studies["deid_private"]:
        for phi in build.DEID_PHI:
            current = ds
            for part in phi.tag.replace("[0]", " ").split():
                group, elem = (int(v, 16) for v in part.strip("()").split(","))
                element = current[group, elem]
                current = element.value[0] if element.VR == "SQ" else element
            assert element.value not in (None, "", b""), phi.tag
            assert element.VR == phi.vr, phi.tag


def test_hl7_messages_parse_and_match_the_studies(built, studies):
    from hl7apy.parser import parse_message

    folder = built / "hl7"
    names = sorted(p.stem for p in folder.glob("*.hl7"))
    assert names == ["ack", "adt_a01", "adt_a03", "adt_a04", "adt_a08", "orm_o01", "oru_r01"]
    parsed = {}
    for name in names:
        raw = (folder / f"{name}.hl7").read_bytes()
        assert b"\n" not in raw and raw.count(b"\r") >= 2 and raw.startswith(b"MSH|^~\\&|")
        parsed[name] = parse_message(raw.decode("ascii"), find_groups=False)
    types = {n: m.msh.msh_9.to_er7() for n, m in parsed.items()}
    assert types == {
        "ack": "ACK^O01^ACK",
        "adt_a01": "ADT^A01^ADT_A01",
        "adt_a03": "ADT^A03^ADT_A03",
        "adt_a04": "ADT^A04^ADT_A01",
        "adt_a08": "ADT^A08^ADT_A01",
        "orm_o01": "ORM^O01^ORM_O01",
        "oru_r01": "ORU^R01^ORU_R01",
    }
    versions = sorted(m.msh.msh_12.to_er7() for m in parsed.values())
    assert versions == ["2.5.1"] * 6 + ["2.8.2"]
    ct = studies["ct_phantom"][0]
    for name in ("adt_a01", "adt_a08", "adt_a03", "orm_o01", "oru_r01"):
        pid = parsed[name].pid
        assert pid.pid_3.to_er7().split("^")[0] == ct.PatientID
        assert pid.pid_5.to_er7().split("^")[:3] == str(ct.PatientName).split("^")
        assert pid.pid_7.to_er7() == ct.PatientBirthDate
    mr = studies["mr_phantom"][0]
    assert parsed["adt_a04"].pid.pid_3.to_er7().split("^")[0] == mr.PatientID
    orm, oru = parsed["orm_o01"], parsed["oru_r01"]
    assert orm.obr.obr_18.to_er7() == ct.AccessionNumber == oru.obr.obr_18.to_er7()
    assert orm.zds.zds_1.to_er7().split("^")[0] == ct.StudyInstanceUID
    assert ct.StudyInstanceUID in oru.to_er7()
    assert parsed["ack"].msa.msa_1.to_er7() == "AA"
    assert parsed["ack"].msa.msa_2.to_er7() == orm.msh.msh_10.to_er7()


def test_hl7_messages_validate_strictly_where_hl7apy_can():
    """Strict structure validation (hl7apy 1.3.5 cannot validate ORM^O01's choice group)."""
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    for name, text in build.hl7_messages().items():
        if name == "orm_o01":
            continue
        parse_message(text, validation_level=VALIDATION_LEVEL.STRICT).validate()


def test_second_build_skips_and_damaged_files_are_rebuilt(built, tmp_path):
    out = tmp_path / "data"
    shutil.copytree(built, out)
    reference = _hashes(out)
    report = build.build_data(out)
    assert report.up_to_date and len(report.kept) == 39 and report.written == []

    damaged = out / "ct_phantom/series01_axial_5mm/CT0003.dcm"
    data = bytearray(damaged.read_bytes())
    data[-5] ^= 0xFF  # one pixel byte
    damaged.write_bytes(bytes(data))
    (out / "hl7/ack.hl7").unlink()
    (out / "mr_phantom/series01_t1_axial/stray.dcm").write_bytes(b"not ours")
    assert sorted(build.verify(out)) == ["ct_phantom/series01_axial_5mm/CT0003.dcm", "hl7/ack.hl7"]

    report = build.build_data(out)
    assert sorted(report.written) == ["ct_phantom/series01_axial_5mm/CT0003.dcm", "hl7/ack.hl7"]
    assert report.removed == ["mr_phantom/series01_t1_axial/stray.dcm"]
    assert _hashes(out) == reference
    assert build.verify(out) == []

    assert len(build.build_data(out, force=True).written) == 39
    assert _hashes(out) == reference


def test_recipe_fingerprint_covers_every_module_that_makes_the_data(monkeypatch):
    """A change to any code that makes the files (writers, recipe, phantom) means a rebuild."""
    read: set[str] = set()
    real_read_bytes = Path.read_bytes

    def recording(path: Path) -> bytes:
        read.add(str(path.resolve()))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", recording)
    build.recipe_fingerprint()
    makers = {str(Path(item.make.__code__.co_filename).resolve()) for item in build.plan()}
    modules = {str(Path(m.__file__).resolve()) for m in (build, _recipe, phantom)}
    assert makers | modules <= read


def test_stale_manifest_rebuilds_everything(built, tmp_path):
    out = tmp_path / "data"
    shutil.copytree(built, out)
    manifest = json.loads((out / "MANIFEST.json").read_text())
    manifest["recipe"] = "older code"
    (out / "MANIFEST.json").write_text(json.dumps(manifest))
    assert len(build.build_data(out).written) == 39
    assert _hashes(out) == _hashes(built)


def test_failed_write_leaves_no_partial_file(built, tmp_path, monkeypatch):
    out = tmp_path / "data"
    shutil.copytree(built, out)
    target = out / "cr_mono1/series01_chest_pa/CR0001.dcm"
    before = target.read_bytes()
    target.write_bytes(before[:1000])  # damaged: will be rebuilt

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build.os, "replace", fail)
    with pytest.raises(MedlabError) as info:
        build.build_data(out)
    assert "No space left" in str(info.value) and "CR0001.dcm" in str(info.value)
    assert target.read_bytes() == before[:1000]  # untouched, not half-replaced
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


def test_unwritable_output_folder_is_a_medlab_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(MedlabError) as info:
        build.build_data(blocker / "data")
    err = info.value
    assert err.where == str(blocker / "data") and "--out" in err.fix


def test_uids_are_name_based_and_stable():
    assert build.uid("ct_phantom", "study") == build.uid("ct_phantom", "study")
    assert build.uid("ct_phantom", "study") != build.uid("mr_phantom", "study")
    # Pinned: a change here changes every built file (bump DATA_FORMAT and say why).
    assert build.STUDIES["ct_phantom"].study_uid == "2.25.173125077796930229583186771111577857988"
    assert len(build.IMPLEMENTATION_VERSION_NAME) <= 16  # SH


def test_noise_is_platform_independent():
    # Pinned values: only integer arithmetic and exact float operations produce them,
    # so they must be the same on every CPU and numpy version.
    values = phantom.noise((3,), seed=0)
    assert values.tolist() == [-2.4258263832023017, 1.6975680033381573, -0.5094148130158724]
    assert not np.array_equal(values, phantom.noise((3,), seed=1))
    big = phantom.noise((200, 200), seed=5)
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1) < 0.02


def test_cli_build_and_list_in_a_subprocess(tmp_path):
    out = tmp_path / "cli-data"
    run = subprocess.run(
        [sys.executable, "-m", "medlab", "data", "build", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=support.REPO,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == ""
    assert (out / "MANIFEST.json").is_file() and build.verify(out) == []
    listing = subprocess.run(
        [sys.executable, "-m", "medlab", "data", "list", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=support.REPO,
        timeout=120,
    )
    assert listing.returncode == 0, listing.stderr
    assert "ct_phantom/series01_axial_5mm   12" in listing.stdout
    assert "cr_mono1/series01_chest_pa" in listing.stdout and "MONOCHROME1" in listing.stdout
    assert "mr_big_endian" in listing.stdout  # the named real samples too
    again = subprocess.run(
        [sys.executable, "-m", "medlab", "data", "build", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=support.REPO,
        timeout=120,
    )
    assert again.returncode == 0 and again.stdout.startswith("Sample data up to date: 39 files")


def test_cli_reports_an_unwritable_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    run = subprocess.run(
        [sys.executable, "-m", "medlab", "data", "build", "--out", str(blocker / "d")],
        capture_output=True,
        text=True,
        cwd=support.REPO,
        timeout=120,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("medlab: Cannot write the sample data") and "--out" in run.stderr


def test_build_module_imports_light():
    code = (
        "import sys, medlab.data, medlab.data.build, medlab.data.cli; "
        "print(sorted(m for m in ('numpy', 'pydicom', 'hl7apy', 'pandas') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=support.REPO
    )
    assert run.stdout.strip() == "[]", run.stderr


@pytest.mark.parametrize("folder", list(build.STUDIES))
def test_dciodvfy_finds_no_errors(built, folder):
    dciodvfy = Path("/usr/bin/dciodvfy")
    support.require(
        dciodvfy.is_file(), "dicom3tools' dciodvfy is not installed (apt-get install dicom3tools)"
    )
    first = sorted((built / folder).rglob("*.dcm"))[0]
    run = subprocess.run([str(dciodvfy), str(first)], capture_output=True, text=True, timeout=60)
    output = run.stdout + run.stderr
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert not errors, output
    assert "Image" in output  # it recognised the IOD (CTImage, MRImage, CRImage)


@pytest.mark.parametrize(("rows", "spacing"), [(512, 0.7), (256, 1.4)])
def test_each_roi_lies_inside_one_material_on_every_slice(rows, spacing):
    material = {
        "air": "air",
        "lung": "lung",
        "fat": "fat",
        "soft_tissue": "soft_tissue",
        "water": "water",
        "bone": "cancellous_bone",
        "dense_bone": "cortical_bone",
    }
    for z in np.arange(-30.0, 25.1, 2.5):
        hu = phantom.ct_hu(float(z), rows, spacing)
        for roi in phantom.CT_ROIS:
            values = np.unique(hu[roi.mask(rows, rows, spacing)])
            assert values.tolist() == [phantom.HU[material[roi.name]]], (z, roi.name)


def test_interrupted_build_leaves_whole_files_and_the_next_build_finishes(
    built, tmp_path, monkeypatch
):
    out = tmp_path / "data"
    real_plan = build.plan

    def interrupted_plan():
        items = real_plan()

        def boom():
            raise KeyboardInterrupt

        items[5] = build.Item(items[5].path, boom)
        return items

    monkeypatch.setattr(build, "plan", interrupted_plan)
    with pytest.raises(KeyboardInterrupt):
        build.build_data(out)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == 5 and not (out / "MANIFEST.json").exists()
    for path in files:  # each file already written is complete
        assert path.read_bytes() == (built / path.relative_to(out)).read_bytes()
    # A killed process can still leave a temporary file: the next build removes it.
    leftover = out / "ct_phantom/series01_axial_5mm/.CT0009.dcm.tmp-99999"
    leftover.write_bytes(b"half")
    monkeypatch.setattr(build, "plan", real_plan)
    report = build.build_data(out)
    assert len(report.written) == 39 and report.kept == []  # no manifest yet: nothing is trusted
    assert report.removed == ["ct_phantom/series01_axial_5mm/.CT0009.dcm.tmp-99999"]
    assert _hashes(out) == _hashes(built)
