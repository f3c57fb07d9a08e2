"""Sample data by name, fully offline.

Two kinds:

* **Real files** that pydicom and pydicom-data ship (CT, MR, CR stored as
  MONOCHROME1, ultrasound palette and RGB, multi-frame, SR, RT, ECG, SEG...),
  listed in :data:`SAMPLES`. ``medlab.data.get_path("ct")`` gives the path,
  ``medlab.data.ct`` (or ``medlab.data.dataset("ct")``) a pydicom Dataset.
* **Built studies** that ``medlab data build`` writes into the data folder,
  the same bytes on every build (see :mod:`medlab.data.build`):
  ``ct_phantom`` (a two-series CT of a chest phantom in Hounsfield units),
  ``mr_phantom`` (a T1 MR head series), ``cr_mono1`` (a chest CR stored as
  MONOCHROME1), ``deid_private`` (a study with PHI in private tags) and
  ``hl7`` (HL7 v2 messages about the same patients and orders).
  ``medlab.data.study("ct_phantom")`` gives their folder.

``medlab.data.catalogue()`` shows every sample with modality, size, transfer
syntax, photometric interpretation and what it is good for in the course.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError

if TYPE_CHECKING:
    from pydicom import Dataset


@dataclass(frozen=True)
class Sample:
    """One named real sample file and why the course uses it."""

    name: str
    filename: str
    purpose: str
    #: False for the files without File Meta Information (no preamble, no
    #: "DICM"): pydicom reads them only with ``force=True``.
    file_meta: bool = True


#: The real files the course uses, by name. ``filename`` is as pydicom's
#: ``get_testdata_file`` knows it (pydicom-data supplies the larger ones).
SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample("ct", "CT_small.dcm", "a small CT slice: header tour, Hounsfield units"),
        Sample(
            "ct_512", "693_UNCR.dcm", "a full 512x512 CT slice: windowing widget and its benchmark"
        ),
        Sample("ct_512_j2k", "693_J2KR.dcm", "the same CT, JPEG 2000 lossless: compression twins"),
        Sample("mr", "MR_small.dcm", "MR in Explicit VR Little Endian: the file byte by byte"),
        Sample("mr_implicit", "MR_small_implicit.dcm", "the same MR in Implicit VR Little Endian"),
        Sample("mr_big_endian", "MR_small_bigendian.dcm", "the same MR in Explicit VR Big Endian"),
        Sample("mr_rle", "MR_small_RLE.dcm", "the same MR, RLE lossless"),
        Sample("mr_jpeg_ls", "MR_small_jpeg_ls_lossless.dcm", "the same MR, JPEG-LS lossless"),
        Sample("mr_j2k", "MR_small_jp2klossless.dcm", "the same MR, JPEG 2000 lossless"),
        Sample(
            "mr_truncated", "MR_truncated.dcm", "an MR whose pixel data is cut short: what breaks"
        ),
        Sample(
            "no_meta",
            "ExplVR_LitEndNoMeta.dcm",
            "an RT Ion Plan without preamble or File Meta: read with force=True",
            file_meta=False,
        ),
        Sample(
            "no_meta_stray_byte",
            "no_meta.dcm",
            "CT_small minus File Meta plus one stray first byte: force=True misreads it",
            file_meta=False,
        ),
        Sample(
            "mr_overlay",
            "MR-SIEMENS-DICOM-WithOverlays.dcm",
            "a Siemens MR with private tags and overlays",
        ),
        Sample("cr_mono1", "RG1_UNCR.dcm", "a real CR stored as MONOCHROME1 (low values white)"),
        Sample("cr_mono1_j2k", "RG1_J2KR.dcm", "the same CR, JPEG 2000 lossless"),
        Sample("us_palette", "OBXXXX1A.dcm", "ultrasound in PALETTE COLOR: applying the palette"),
        Sample("us_palette_rle", "OBXXXX1A_rle.dcm", "the same ultrasound, RLE lossless"),
        Sample("us_rgb", "US1_UNCR.dcm", "ultrasound in RGB"),
        Sample("us_rgb_j2k", "US1_J2KR.dcm", "the same ultrasound, JPEG 2000 lossless (YBR_RCT)"),
        Sample("us_ybr_jpeg", "SC_rgb_dcmtk_+eb+cy+np.dcm", "JPEG baseline in YBR_FULL_422"),
        Sample("rgb_jpeg_twin", "SC_rgb.dcm", "uncompressed RGB twin of the small JPEG samples"),
        Sample(
            "us_multiframe",
            "examples_ybr_color.dcm",
            "a 30-frame ultrasound cine (JPEG, YBR_FULL_422)",
        ),
        Sample("mr_multiframe", "emri_small.dcm", "an enhanced MR with 10 frames"),
        Sample("nm_jpeg_ll", "JPEG-LL.dcm", "NM, JPEG lossless"),
        Sample(
            "nm_uncompressed",
            "JPEG2000_UNC.dcm",
            "NM, uncompressed (the JPEG 2000 sample's twin; not the JPEG-LL one)",
        ),
        Sample("sr_basic", "reportsi.dcm", "a Basic Text SR: walking a content tree"),
        Sample("sr_comprehensive", "test-SR.dcm", "a Comprehensive SR with codes and numbers"),
        Sample("rt_plan", "rtplan.dcm", "an RT Plan: beams, no pixel data"),
        Sample("rt_dose", "rtdose.dcm", "an RT Dose grid (15 frames)"),
        Sample(
            "rt_struct", "rtstruct.dcm", "an RT Structure Set: ROIs and contours", file_meta=False
        ),
        Sample("ecg", "waveform_ecg.dcm", "a 12-lead ECG waveform"),
        Sample("seg", "liver.dcm", "a Segmentation with three segments"),
        Sample("deflated", "image_dfl.dcm", "Deflated Explicit VR Little Endian"),
        Sample("un_private", "explicit_VR-UN.dcm", "private elements stored with VR UN (Unknown)"),
    )
}


#: Old names that still work. ``mr_no_meta`` was pydicom's ``no_meta.dcm``, which
#: is not an MR and starts with a stray byte, so not even ``force=True`` reads it.
ALIASES = {"mr_no_meta": "no_meta"}


def get_path(name: str) -> Path:
    """Return the path of the real sample ``name`` (see :data:`SAMPLES`)."""
    name = ALIASES.get(name, name)
    try:
        sample = SAMPLES[name]
    except KeyError:
        raise MedlabError(
            f"There is no sample called {name!r}",
            fix=f"Choose one of: {', '.join(sorted(SAMPLES))}.",
        ) from None
    from pydicom.data import get_testdata_file

    path = get_testdata_file(sample.filename)
    if path is None:  # pydicom-data missing and the file is not in pydicom itself
        raise MedlabError(
            f"The sample file {sample.filename} is not installed",
            fix="Install pydicom-data (`pip install pydicom-data`, or run `make lab`).",
        )
    return Path(path)


def dataset(name: str) -> Dataset:
    """Read the real sample ``name`` with pydicom (``force=True`` for the files without File Meta)."""
    import pydicom

    path = get_path(name)
    return pydicom.dcmread(path, force=not SAMPLES[ALIASES.get(name, name)].file_meta)


def all_sample_files() -> list[Path]:
    """Every DICOM file pydicom and pydicom-data ship, found on disk (for the sweeping tests).

    Lists the two installed folders directly: pydicom's own ``get_testdata_files`` also
    tries to download the files it knows only by URL, which is slow (and pointless) offline.
    """
    import importlib.util

    folders = []
    for package, sub in (("pydicom", ("data", "test_files")), ("data_store", ("data",))):
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            folders.append(Path(next(iter(spec.submodule_search_locations))).joinpath(*sub))
    return sorted(
        {path for folder in folders for path in folder.glob("*.dcm")}, key=lambda p: p.name
    )


#: The folders ``medlab data build`` writes (see :mod:`medlab.data.build`).
BUILT = ("ct_phantom", "mr_phantom", "cr_mono1", "deid_private", "hl7")


def study(name: str) -> Path:
    """Return the folder of a built study (``medlab data build`` writes them).

    ``ct_phantom`` (CT, two series), ``mr_phantom`` (MR, 8 slices), ``cr_mono1``
    (a chest CR stored as MONOCHROME1), ``deid_private`` (PHI in private tags,
    for de-identification) and ``hl7`` (HL7 v2 messages about the same patients).
    """
    from medlab import paths

    if name not in BUILT:
        raise MedlabError(
            f"There is no built study called {name!r}",
            fix=f"Choose one of: {', '.join(BUILT)}.",
        )
    folder = paths.data_dir() / name
    if not folder.is_dir():
        raise MedlabError(
            f"The built sample {name!r} is missing from {paths.data_dir()}",
            fix="Run `medlab data build` (or `make lab`) to build the sample data.",
        )
    return folder


def catalogue() -> Any:
    """A table of every named sample: modality, size, transfer syntax, photometric, purpose."""
    from medlab.data._catalogue import Catalogue

    return Catalogue.build()


def __getattr__(name: str) -> Any:
    if name in SAMPLES or name in ALIASES:
        return dataset(name)
    raise AttributeError(f"module 'medlab.data' has no attribute {name!r}")
