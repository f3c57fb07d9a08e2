"""medlab.dicom.to_display over every image sample pydicom and pydicom-data ship.

* every decodable sample gives floats in [0, 1], grey 2-D or RGB (rows, cols, 3);
* the deliberately damaged samples raise a MedlabError naming the file;
* MONOCHROME1 samples come out inverted relative to their stored values;
* PALETTE COLOR samples come out RGB;
* compressed samples equal their uncompressed twins (exactly for lossless
  codecs, within a small tolerance for lossy ones);
* the VOI window follows the formulas of PS3.3 C.11.2.1.2.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.data.data_manager import external_data_sources

from medlab.dicom.display import PRESETS, apply_window, modality_values, stored_values, to_display
from medlab.errors import MedlabError


def _local_sample_files() -> list[Path]:
    """Every .dcm shipped by pydicom and pydicom-data, found on disk (no download attempts)."""
    own = Path(pydicom.data.__file__).parent / "test_files"
    files = {p.name: p for p in own.glob("**/*.dcm")}
    for source in external_data_sources().values():
        for path in source.get_paths("*.dcm", 0):
            files.setdefault(Path(path).name, Path(path))
    return sorted(files.values())


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path)
        except pydicom.errors.InvalidDicomError:
            return pydicom.dcmread(path, force=True)


def _has_pixels(path: Path) -> bool:
    ds = _read(path)
    return any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))


ALL_FILES = _local_sample_files()
IMAGE_FILES = [p for p in ALL_FILES if _has_pixels(p)]

#: Samples that pydicom ships *to test failure paths*; each must raise MedlabError.
DAMAGED = {
    "JPEG-lossy.dcm": "12-bit JPEG Extended stream that no installed plugin decodes",
    "JPEG2000-embedded-sequence-delimiter.dcm": "a fragment holds a stray sequence delimiter",
    "MR_truncated.dcm": "Pixel Data shorter than Rows x Columns x Bits Allocated",
    "badVR.dcm": "Number of Frames is '1A'",
    "meta_missing_tsyntax.dcm": "no Bits Allocated",
    "nested_priv_SQ.dcm": "no Image Pixel module",
}


def test_the_sweep_covers_the_samples():
    names = {p.name for p in IMAGE_FILES}
    assert len(IMAGE_FILES) >= 120
    for name in (
        "RG1_UNCR.dcm",
        "OBXXXX1A.dcm",
        "693_J2KR.dcm",
        "examples_ybr_color.dcm",
        *DAMAGED,
    ):
        assert name in names


@pytest.mark.parametrize("path", IMAGE_FILES, ids=lambda p: p.name)
def test_to_display_every_image_sample(path):
    ds = _read(path)
    if path.name in DAMAGED:
        with (
            pytest.raises(MedlabError, match=path.name.replace(".", r"\.")),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            to_display(ds)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warnings leak into a lesson
        img = to_display(ds)
    assert img.dtype == np.float32
    assert img.shape[:2] == (ds.Rows, ds.Columns)
    assert img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)
    assert np.isfinite(img).all() and img.min() >= 0.0 and img.max() <= 1.0
    if ds.PhotometricInterpretation in ("MONOCHROME1", "MONOCHROME2"):
        assert img.ndim == 2
    else:
        assert img.ndim == 3


MONO1 = [
    p
    for p in IMAGE_FILES
    if p.name not in DAMAGED and _read(p).get("PhotometricInterpretation") == "MONOCHROME1"
]
PALETTE = [
    p
    for p in IMAGE_FILES
    if p.name not in DAMAGED and _read(p).get("PhotometricInterpretation") == "PALETTE COLOR"
]


def test_there_are_monochrome1_and_palette_samples():
    assert len(MONO1) >= 4 and len(PALETTE) >= 4


@pytest.mark.parametrize("path", MONO1, ids=lambda p: p.name)
def test_monochrome1_comes_out_inverted(path):
    ds = _read(path)
    stored, photometric = stored_values(ds)
    assert photometric == "MONOCHROME1"
    full = to_display(ds, voi=False)
    normalised = (stored - stored.min()) / float(stored.max() - stored.min())
    np.testing.assert_allclose(full, 1.0 - normalised, atol=1e-5)
    windowed = to_display(ds)
    assert np.corrcoef(windowed[::8, ::8].ravel(), stored[::8, ::8].ravel())[0, 1] < -0.5
    ignored = to_display(ds, honour_photometric=False)
    np.testing.assert_allclose(ignored, 1.0 - windowed, atol=1e-6)


def test_monochrome2_is_not_inverted():
    ds = pydicom.dcmread(get_testdata_file("693_UNCR.dcm"))
    stored, _ = stored_values(ds)
    img = to_display(ds, voi=False)
    assert np.corrcoef(img.ravel(), stored.ravel())[0, 1] > 0.99


@pytest.mark.parametrize("path", PALETTE, ids=lambda p: p.name)
def test_palette_comes_out_rgb(path):
    ds = _read(path)
    stored, _ = stored_values(ds)
    img = to_display(ds)
    assert stored.ndim == 2 and img.shape == (*stored.shape, 3)
    channels_differ = not (
        np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 1], img[..., 2])
    )
    assert channels_differ, "the palette was not applied as colour"


def test_palette_matches_the_lookup_tables():
    ds = pydicom.dcmread(get_testdata_file("OBXXXX1A.dcm"))
    stored, _ = stored_values(ds)
    img = to_display(ds)
    red = np.frombuffer(ds.RedPaletteColorLookupTableData, dtype="<u2")
    first = int(ds.RedPaletteColorLookupTableDescriptor[1])
    r, c = 300, 400
    assert img[r, c, 0] == pytest.approx(red[int(stored[r, c]) - first] / 65535, abs=1e-6)


# -- compressed twins --------------------------------------------------------------

LOSSLESS_TWINS = [
    ("693_UNCR", "693_J2KR"),
    ("693_UNCI", "693_J2KI"),
    ("MR2_UNCR", "MR2_J2KR"),
    ("RG1_UNCR", "RG1_J2KR"),
    ("RG3_UNCR", "RG3_J2KR"),
    ("US1_UNCR", "US1_J2KR"),
    ("MR_small", "MR_small_RLE"),
    ("MR_small", "MR_small_jpeg_ls_lossless"),
    ("MR_small", "MR_small_jp2klossless"),
    ("MR_small", "MR_small_bigendian"),
    ("MR_small", "MR_small_implicit"),
    ("emri_small", "emri_small_RLE"),
    ("emri_small", "emri_small_jpeg_ls_lossless"),
    ("emri_small", "emri_small_jpeg_2k_lossless"),
    ("OBXXXX1A", "OBXXXX1A_rle"),
    ("OBXXXX1A_2frame", "OBXXXX1A_rle_2frame"),
    ("SC_rgb", "SC_rgb_rle"),
    ("SC_rgb", "SC_rgb_jpeg_gdcm"),
    ("SC_rgb", "SC_rgb_gdcm_KY"),
    ("SC_rgb_16bit", "SC_rgb_rle_16bit"),
    ("SC_rgb_32bit", "SC_rgb_rle_32bit"),
    ("rtdose", "rtdose_rle"),
    ("JPEG2000_UNC", "JPEG2000"),
]

#: Lossy codecs: (reference, compressed, max mean |difference| in display units [0, 1]).
LOSSY_TWINS = [
    ("SC_rgb", "SC_rgb_dcmtk_+eb+cr", 0.005),
    ("SC_rgb", "SC_rgb_dcmtk_+eb+cy+np", 0.02),  # JPEG baseline YBR_FULL_422
    ("SC_rgb", "SC_rgb_dcmtk_+eb+cy+s2", 0.01),
    ("SC_rgb", "SC_rgb_jpeg_dcmtk", 0.01),
    ("SC_rgb", "SC_rgb_jpeg_lossy_gdcm", 0.02),
    ("SC_rgb", "SC_rgb_jls_lossy_line", 0.005),  # JPEG-LS near-lossless
    ("SC_rgb_jpeg_dcmd", "SC_rgb_jpeg", 0.001),
]


def _twin(name: str, frame: int = 0):
    return to_display(_read(Path(get_testdata_file(f"{name}.dcm"))), frame)


@pytest.mark.parametrize(("plain", "packed"), LOSSLESS_TWINS, ids=lambda n: n)
def test_lossless_twins_are_identical(plain, packed):
    ds = pydicom.dcmread(get_testdata_file(f"{packed}.dcm"))
    frames = int(ds.get("NumberOfFrames") or 1)
    for frame in {0, frames - 1}:
        np.testing.assert_array_equal(_twin(plain, frame), _twin(packed, frame))


@pytest.mark.parametrize(("plain", "packed", "tolerance"), LOSSY_TWINS, ids=str)
def test_lossy_twins_are_close(plain, packed, tolerance):
    a, b = _twin(plain), _twin(packed)
    assert a.shape == b.shape
    diff = np.abs(a - b)
    assert diff.mean() <= tolerance
    assert diff.max() <= 0.5


def test_decoders_for_every_compressed_sample_are_installed():
    from pydicom.pixels import get_decoder

    syntaxes = set()
    for path in IMAGE_FILES:
        meta = getattr(_read(path), "file_meta", None)
        ts = meta.get("TransferSyntaxUID") if meta is not None else None
        if ts is not None and ts.is_compressed:
            syntaxes.add(ts)
    assert len(syntaxes) >= 6
    for ts in syntaxes:
        assert get_decoder(ts).is_available, f"no decoder for {ts.name}: declare its plugin"


# -- pipeline steps -----------------------------------------------------------------------


def test_hounsfield_units_from_rescale():
    ds = pydicom.dcmread(get_testdata_file("693_UNCR.dcm"))
    hu = modality_values(ds)
    assert hu[256, 256] == ds.pixel_array[256, 256] * float(ds.RescaleSlope) + float(
        ds.RescaleIntercept
    )


def test_linear_window_follows_ps3_3_c_11_2_1_2():
    c, w = 40.0, 400.0
    x = np.array([-1000, c - 0.5 - (w - 1) / 2, c - 0.5, c - 0.5 + (w - 1) / 2, 240, 1000])
    y = apply_window(x, c, w)
    assert y[0] == 0 and y[1] == 0
    assert y[2] == pytest.approx(0.5)
    assert y[3] == pytest.approx(1.0) and y[4] == 1 and y[5] == 1


def test_sigmoid_and_linear_exact_windows():
    assert apply_window(np.array([40.0]), 40, 400, "SIGMOID")[0] == pytest.approx(0.5)
    y = apply_window(np.array([-160.0, 40.0, 240.0]), 40, 400, "LINEAR_EXACT")
    np.testing.assert_allclose(y, [0, 0.5, 1])


def test_window_width_below_one_is_rejected():
    with pytest.raises(MedlabError, match="Window Width"):
        apply_window(np.zeros(3), 0, 0.5)


def test_presets_change_the_picture():
    ds = pydicom.dcmread(get_testdata_file("693_UNCR.dcm"))
    lung, bone = to_display(ds, window="lung"), to_display(ds, window="bone")
    assert not np.allclose(lung, bone)
    assert set(PRESETS) == {"brain", "mediastinum", "lung", "bone"}
    with pytest.raises(MedlabError, match="preset"):
        to_display(ds, window="liver-ish")


def test_header_window_is_used_by_default():
    ds = pydicom.dcmread(get_testdata_file("693_UNCR.dcm"))
    c, w = float(ds.WindowCenter), float(ds.WindowWidth)
    np.testing.assert_array_equal(to_display(ds), apply_window(modality_values(ds), c, w))


def test_voi_lut_sequence_is_applied():
    ds = pydicom.dcmread(get_testdata_file("vlut_04.dcm"))
    assert "VOILUTSequence" in ds
    # Replace the table by a square law we can predict: out = (stored / 255) ** 2.
    ds.VOILUTSequence[0].LUTData = [round(65535 * (i / 255) ** 2) for i in range(256)]
    stored = ds.pixel_array.astype(float)
    expected = (stored / 255) ** 2
    expected = (expected - expected.min()) / (expected.max() - expected.min())
    np.testing.assert_allclose(to_display(ds), expected, atol=1e-4)
    assert not np.allclose(to_display(ds), to_display(ds, voi=False), atol=0.01)


def test_ybr_is_converted_to_rgb():
    ds = pydicom.dcmread(get_testdata_file("SC_ybr_full_uncompressed.dcm"))
    stored, photometric = stored_values(ds)
    assert photometric == "YBR_FULL"
    rgb = to_display(ds)
    reference = to_display(pydicom.dcmread(get_testdata_file("SC_rgb.dcm")))
    assert np.abs(rgb - reference).mean() < 0.01
    assert np.abs(stored / 255.0 - reference).mean() > 0.1  # YBR shown as RGB would be wrong


def test_multiframe_frames_and_bounds():
    ds = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))
    first, last = to_display(ds, 0), to_display(ds, 29)
    assert first.shape == last.shape == (240, 320, 3)
    assert not np.array_equal(first, last)
    with pytest.raises(MedlabError, match="30 frame"):
        to_display(ds, 30)


def test_no_pixel_data_is_a_clear_error():
    ds = pydicom.dcmread(get_testdata_file("rtplan.dcm"))
    with pytest.raises(MedlabError, match="no Pixel Data"):
        to_display(ds)


def test_missing_transfer_syntax_is_inferred_from_the_encoding():
    ds = pydicom.dcmread(get_testdata_file("OT-PAL-8-face.dcm"), force=True)
    assert "TransferSyntaxUID" not in getattr(ds, "file_meta", {})
    img = to_display(ds)
    assert img.shape == (ds.Rows, ds.Columns, 3)
    assert "TransferSyntaxUID" not in getattr(ds, "file_meta", {})  # the caller's ds is untouched
