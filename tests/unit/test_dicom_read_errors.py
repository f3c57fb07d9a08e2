"""Bad input to medlab's DICOM helpers gives one MedlabError that says what, where and what to try.

Inputs: a missing path, a folder, an empty file, a non-DICOM file, a file cut
short at many points, and a bare data set without force=True. pydicom itself
reads a truncated file silently; that is why medlab scans the bytes first.
"""

from __future__ import annotations

import io
import warnings

import pydicom
import pytest

import medlab.data
import medlab.dicom
from medlab.dicom._scan import scan
from medlab.errors import MedlabError

HELPERS = {
    "read": lambda src: medlab.dicom.read(src),
    "hexview": lambda src: medlab.dicom.hexview(src),
    "header_table": lambda src: medlab.dicom.header_table(src),
    "private_blocks": lambda src: medlab.dicom.private_blocks(src),
}


@pytest.fixture
def mr_bytes():
    return medlab.data.get_path("mr").read_bytes()


def _assert_clear(err: MedlabError, *words: str) -> None:
    text = str(err)
    for word in words:
        assert word in text, text
    assert err.fix, "every error says what to try"
    assert err._render_traceback_() == [f"MedlabError: {text}"]  # one line in IPython
    assert "Traceback" not in text


@pytest.mark.parametrize("helper", HELPERS)
def test_missing_path(helper, tmp_path):
    with pytest.raises(MedlabError) as err:
        HELPERS[helper](tmp_path / "nope.dcm")
    _assert_clear(err.value, "There is no file 'nope.dcm'")
    assert err.value.__cause__ is None and err.value.__context__ is None


@pytest.mark.parametrize("helper", HELPERS)
def test_folder_instead_of_file(helper, tmp_path):
    with pytest.raises(MedlabError) as err:
        HELPERS[helper](tmp_path)
    _assert_clear(err.value, "is a folder, not a file", "hierarchy")


@pytest.mark.parametrize("helper", HELPERS)
def test_empty_file(helper, tmp_path):
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    with pytest.raises(MedlabError) as err:
        HELPERS[helper](empty)
    _assert_clear(err.value, "empty.dcm is empty (0 bytes)")


@pytest.mark.parametrize("helper", HELPERS)
def test_not_dicom(helper, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Patient: Smith\n" * 20)
    with pytest.raises(MedlabError) as err:
        HELPERS[helper](notes)
    _assert_clear(
        err.value, "not a DICOM Part 10 file", "'DICM'", "byte 128 of notes.txt", "force=True"
    )


def test_not_dicom_even_with_force(tmp_path):
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(MedlabError) as err:
        medlab.dicom.read(png, force=True)
    _assert_clear(err.value, "not a plausible tag", "byte 0 of image.png")


def test_a_tiny_file(tmp_path):
    tiny = tmp_path / "tiny.dcm"
    tiny.write_bytes(b"DICM")
    with pytest.raises(MedlabError) as err:
        medlab.dicom.read(tiny)
    _assert_clear(err.value, "only 4 bytes")


def test_bare_data_set_needs_force():
    path = pydicom.data.get_testdata_file("ExplVR_LitEndNoMeta.dcm")
    with pytest.raises(MedlabError, match="force=True"):
        medlab.dicom.read(path)
    ds = medlab.dicom.read(path, force=True)
    assert ds.SOPClassUID and "TransferSyntaxUID" not in getattr(ds, "file_meta", {})


@pytest.mark.parametrize("helper", HELPERS)
def test_truncated_sample(helper):
    with pytest.raises(MedlabError) as err:
        HELPERS[helper](medlab.data.get_path("mr_truncated"))
    _assert_clear(
        err.value,
        "(7FE0,0010) PixelData at byte 1488",
        "8192 bytes",
        "truncated",
        "MR_truncated.dcm",
    )
    assert err.value.where == "byte 1488 of MR_truncated.dcm"


def test_pydicom_itself_reads_the_truncated_sample_silently():
    """Why medlab scans first: pydicom hands back a shortened value without a word."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = pydicom.dcmread(medlab.data.get_path("mr_truncated"))
    assert len(ds.PixelData) < ds.Rows * ds.Columns * 2


def test_every_cut_inside_an_element_is_reported(mr_bytes):
    layout = scan(mr_bytes, name="mr")
    boundaries = (
        {0, 128, 132} | {e.offset for e in layout.elements} | {e.end for e in layout.elements}
    )
    for cut in range(1, len(mr_bytes), 23):
        data = mr_bytes[:cut]
        if cut in boundaries:
            continue
        with pytest.raises(MedlabError) as err:
            medlab.dicom.read(data)
        assert "byte" in err.value.where, cut
        if cut >= 132:
            assert "truncated" in str(err.value) or "ends in the middle" in str(err.value), (
                cut,
                str(err.value),
            )


def test_pydicom_reads_most_of_those_cuts_without_complaint(mr_bytes):
    quiet = 0
    for cut in (300, 1000, 2000, 5000):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(mr_bytes[:cut]))
        quiet += len(ds) >= 0
    assert quiet == 4


def test_wrong_type():
    with pytest.raises(MedlabError, match="Expected a path, bytes or a pydicom Dataset, got int"):
        medlab.dicom.read(42)


def test_read_passes_a_dataset_through():
    ds = medlab.data.dataset("ct")
    assert medlab.dicom.read(ds) is ds


def test_reading_emits_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = medlab.dicom.read(pydicom.data.get_testdata_file("bad_sequence.dcm"))
        repr(medlab.dicom.header_table(ds))
