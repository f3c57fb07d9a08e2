"""Synthetic studies for exercising the PACS (tests, benchmarks, lessons).

Deterministic: the same arguments give the same UIDs and bytes, so a lesson's
stored output and a benchmark's data set do not change between runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom import Dataset

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"


def uid(*parts: object) -> str:
    """A deterministic UID under the 2.25 (UUID) root, from any parts."""
    import hashlib

    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"  # a UUID-sized integer (PS3.5 B.2)


def make_instance(
    patient: int = 1,
    study: int = 1,
    series: int = 1,
    instance: int = 1,
    *,
    rows: int = 16,
    columns: int = 16,
    modality: str = "CT",
    study_date: str = "20260105",
    seed: str = "medlab",
) -> Dataset:
    """One CT image with a file meta header (16-bit, ``rows`` × ``columns``).

    Patient ``p`` is ``PAT{p:04d}``/``DOE^P{p}``; study ``s`` of that patient gets
    accession ``ACC{p:04d}{s:02d}``; UIDs derive from (seed, patient, study, …).
    A valid CT Image IOD (PS3.3 A.3): dciodvfy reports no error on it
    (``tests/interop/test_dciodvfy_writers.py``), so what a lesson "acquires"
    is what a real modality would send.
    """
    from pydicom.dataset import Dataset, FileMetaDataset

    study_uid = uid(seed, "study", patient, study)
    series_uid = uid(seed, "series", patient, study, series)
    sop_uid = uid(seed, "sop", patient, study, series, instance)
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = study_date
    ds.StudyTime = f"{8 + (study % 10):02d}{(series * 7) % 60:02d}00"
    ds.AccessionNumber = f"ACC{patient:04d}{study:02d}"
    ds.Modality = modality
    ds.ReferringPhysicianName = "WHO^DR"
    ds.StudyDescription = f"{modality} study {study}"
    ds.SeriesDescription = f"series {series}"
    ds.PatientName = f"DOE^P{patient}"
    ds.PatientID = f"PAT{patient:04d}"
    ds.PatientBirthDate = f"19{50 + patient % 50:02d}0101"
    ds.PatientSex = "FM"[patient % 2]
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = str(study)
    ds.SeriesNumber = series
    ds.InstanceNumber = instance
    ds.Manufacturer = "medlab"  # General Equipment (Type 2)
    ds.BodyPartExamined = "CHEST"  # not paired: Laterality (Type 2C) is not needed
    ds.PatientPosition = "HFS"  # head first, supine (General Series, Type 2C for CT)
    ds.FrameOfReferenceUID = uid(seed, "frame", patient, study, series)
    ds.PositionReferenceIndicator = ""  # Type 2: empty
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]  # CT Image (Type 1, value 3 required)
    ds.AcquisitionNumber = 1
    ds.KVP = 120
    ds.SliceThickness = 1
    ds.ImagePositionPatient = [0, 0, instance]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.PixelSpacing = [0.5, 0.5]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    # A cheap deterministic pattern (no numpy needed).
    row = bytes((instance + c) & 0xFF for c in range(columns * 2))
    ds.PixelData = row * rows
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = EXPLICIT_VR_LE
    return ds


def write_instances(
    folder: str | Path,
    count: int,
    *,
    rows: int = 16,
    columns: int = 16,
    per_series: int = 50,
    series_per_study: int = 2,
    seed: str = "medlab",
) -> list[Path]:
    """Write ``count`` instances as files into ``folder``; return their paths.

    Instances fill series of ``per_series``, studies of ``series_per_study``
    series, one patient per study (so 2,000 instances = 20 patients/studies).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        series_index = i // per_series
        study = series_index // series_per_study + 1
        ds = make_instance(
            patient=study,
            study=1,
            series=series_index % series_per_study + 1,
            instance=i % per_series + 1,
            rows=rows,
            columns=columns,
            seed=seed,
        )
        path = folder / f"img{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def shipped_sample_files() -> list[Path]:
    """Every ``.dcm`` file pydicom and pydicom-data ship, found on disk.

    Same files as ``medlab.data.all_sample_files()``, without going through
    pydicom's data manager (which tries to download and can take many seconds
    offline).
    """
    import pydicom.data

    folders = [Path(pydicom.data.__file__).parent / "test_files"]
    try:
        import data_store  # pydicom-data

        folders.append(Path(data_store.__file__).parent / "data")
    except ImportError:
        pass
    return sorted({p for folder in folders for p in folder.rglob("*.dcm")})
