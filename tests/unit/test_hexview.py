"""medlab.dicom.hexview over every sample file pydicom and pydicom-data ship.

Each file renders (text and HTML), the scan accounts for every byte, and the
bytes at the offsets the view reports decode to pydicom's own values. Files
that are not Part 10 files, truncated files and plain garbage are expected to
fail deliberately, with a MedlabError.
"""

from __future__ import annotations

import doctest
import struct

import pytest
import support

import medlab.data
import medlab.dicom
import medlab.widgets
from medlab.dicom._scan import scan
from medlab.dicom.hexdump import HexView, describe_value
from medlab.errors import MedlabError

SAMPLES = support.sample_files()
NO_META, GARBAGE_FORCED, TRUNCATED = support.NO_META, support.GARBAGE_FORCED, support.TRUNCATED
#: Tags whose value bytes are checked against pydicom at the offsets the view reports.
CHECKED = (
    "SOPInstanceUID",
    "PatientName",
    "Modality",
    "StudyDate",
    "Rows",
    "Columns",
    "BitsAllocated",
    "ImageType",
    "PixelSpacing",
    "TransferSyntaxUID",
)


def test_there_are_many_samples():
    assert len(SAMPLES) > 100
    names = {p.name for p in SAMPLES}
    assert NO_META | TRUNCATED <= names


def _decoded_matches(view: HexView, ds, keyword: str) -> None:
    elem = (ds.file_meta if keyword == "TransferSyntaxUID" else ds)[keyword]
    info = view.element(keyword)
    raw = info.part("value")
    little = view.layout.little or keyword == "TransferSyntaxUID"
    if elem.VR == "US":
        assert struct.unpack(("<" if little else ">") + "H", raw)[0] == elem.value
    else:
        text = raw.decode("latin-1").rstrip("\x00 ")
        expected = "\\".join(str(v) for v in elem.value) if elem.VM > 1 else str(elem.value)
        if elem.VR in ("DS", "IS"):  # numbers as text: compare as numbers
            assert [float(v) for v in text.split("\\")] == pytest.approx(
                [float(v) for v in expected.split("\\")]
            )
        else:
            assert text == expected
    assert len(raw) % 2 == 0 and len(raw) == (info.length or 0)
    assert info.value == describe_value(elem)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_renders_or_fails_cleanly(path):
    if path.name in NO_META:
        with pytest.raises(MedlabError, match="DICM") as err:
            medlab.dicom.hexview(path)
        assert "force=True" in str(err.value)
        if path.name in GARBAGE_FORCED:
            with pytest.raises(
                MedlabError,
                match="declares a value of 173228800 bytes.*do not start with a DICOM data element",
            ):
                medlab.dicom.hexview(path, force=True)
            return
        view = medlab.dicom.hexview(path, force=True)
    elif path.name in TRUNCATED:
        with pytest.raises(MedlabError, match="truncated|runs past") as err:
            medlab.dicom.hexview(path)
        assert err.value.where.startswith("byte ")
        view = medlab.dicom.hexview(path, strict=False)
        assert "Problem:" in repr(view)
        return
    else:
        view = medlab.dicom.hexview(path)
    text, page = repr(view), view._repr_html_()
    assert text.splitlines()[0].startswith(path.name)
    assert 'class="hx-tag"' in page and "<pre" in page
    layout = view.layout
    assert layout.problem is None
    if (
        not layout.deflated
    ):  # every byte is accounted for: the last element ends at the end of the file
        top = [e for e in layout.elements if e.depth == 0]
        assert max(e.end for e in top) == path.stat().st_size
    ds = view.loaded.dataset
    for keyword in CHECKED:
        if keyword in ds and not layout.deflated and ds[keyword].value not in (None, ""):
            _decoded_matches(view, ds, keyword)


def test_the_same_mr_three_ways():
    """Explicit VR LE, Implicit VR LE, Explicit VR BE: same element, different bytes."""
    ex = medlab.dicom.hexview(medlab.data.get_path("mr")).element("PatientName")
    im = medlab.dicom.hexview(medlab.data.get_path("mr_implicit")).element("PatientName")
    be = medlab.dicom.hexview(medlab.data.get_path("mr_big_endian")).element("PatientName")
    assert ex.part("tag") == im.part("tag") == b"\x10\x00\x10\x00"
    assert be.part("tag") == b"\x00\x10\x00\x10"
    assert ex.part("vr") == be.part("vr") == b"PN" and im.part("vr") == b"" and not im.vr_in_file
    assert ex.part("length") == b"\x16\x00" and be.part("length") == b"\x00\x16"
    assert im.part("length") == b"\x16\x00\x00\x00"
    assert ex.part("value") == im.part("value") == be.part("value") == b"CompressedSamples^MR1 "
    # A long-VR header: 2 reserved bytes and a 4-byte length (PS3.5 Table 7.1-1)
    pixels = medlab.dicom.hexview(medlab.data.get_path("mr")).element("PixelData")
    assert pixels.part("reserved") == b"\x00\x00" and len(pixels.part("length")) == 4


def test_file_meta_is_little_endian_even_in_a_big_endian_file():
    view = medlab.dicom.hexview(medlab.data.get_path("mr_big_endian"))
    assert view.element("TransferSyntaxUID").part("tag") == b"\x02\x00\x10\x00"
    assert view.element("Rows").part("tag") == b"\x00\x28\x00\x10"


def test_preamble_prefix_and_elision():
    text = repr(medlab.dicom.hexview(medlab.data.get_path("ct")))
    lines = text.splitlines()
    assert lines[2].startswith("00000000") and "TIFF header" in lines[2]  # CT_small is also a TIFF
    data = bytearray(medlab.data.get_path("ct").read_bytes())
    data[:128] = bytes(128)
    zeroed = repr(medlab.dicom.hexview(bytes(data)))
    assert zeroed.startswith("the bytes given:") and "Preamble, 128 bytes (all zero)" in zeroed
    assert lines[3].startswith("00000080  44 49 43 4D") and "'DICM'" in lines[3]
    pixel = next(line for line in lines if "(7FE0,0010) PixelData" in line)
    assert "… (+32752)" in pixel and "<pixel data, 32768 bytes>" in pixel
    tiff = repr(medlab.dicom.hexview(medlab.data.get_path("mr"), limit=1))
    assert "TIFF header" in tiff and "more elements not shown" in tiff


def test_only_and_limit():
    view = medlab.dicom.hexview(medlab.data.get_path("ct"), only=["PatientName", 0x00080060])
    keys = [line.key for line in view.lines if line.key]
    assert keys == ["(0008,0060)", "(0010,0010)"]
    assert (
        len(
            [ln for ln in medlab.dicom.hexview(medlab.data.get_path("ct"), limit=5).lines if ln.key]
        )
        == 5
    )


def test_nested_sequences_items_and_fragments_are_shown():
    text = repr(medlab.dicom.hexview(medlab.data.get_path("ct")))
    assert "(0010,1002) OtherPatientIDsSequence SQ = <sequence of 2 items>" in text
    assert "> Item 1" in text and "  (0010,0020) PatientID" in text
    j2k = repr(medlab.dicom.hexview(medlab.data.get_path("mr_j2k")))
    assert (
        "Basic Offset Table" in j2k and "Fragment 1" in j2k and "Sequence Delimitation Item" in j2k
    )


def test_implicit_file_has_no_vr_bytes():
    text = repr(medlab.dicom.hexview(medlab.data.get_path("mr_implicit"), only=["Rows"]))
    assert "(0028,0010) Rows US (implicit) = 64" in text


def test_explorer_widget_shows_the_chosen_element():
    explorer = medlab.widgets.Hexplorer(medlab.dicom.hexview(medlab.data.get_path("mr")))
    assert repr(explorer).startswith("Hexplorer(MR_small.dcm, ")
    explorer.select("PatientName")
    assert "Showing (0010,0010) PatientName" in explorer.pane.value
    assert "43 6F 6D 70" in explorer.pane.value and "CompressedSamples^MR1" in explorer.pane.value
    labels = [label for label, _ in explorer.dropdown.options]
    explorer.dropdown.value = labels.index(next(x for x in labels if "(0028,0010) Rows" in x))
    assert (
        "Showing (0028,0010) Rows" in explorer.pane.value
        and "value: <code>64</code>" in explorer.pane.value
    )


def test_scan_reports_offsets_and_encoding():
    layout = scan(medlab.data.get_path("mr").read_bytes(), name="mr")
    assert layout.preamble and layout.meta_start == 132 and not layout.implicit and layout.little
    assert layout.find("PatientName").offset == 706
    assert layout.dataset_start == 132 + 12 + 190


def test_module_doctest():
    from medlab.dicom import hexdump

    result = doctest.testmod(hexdump, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed
