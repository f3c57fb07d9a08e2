"""medlab.dicom.header_table, the dictionary lookups, VRs and private blocks.

The sweep renders the table of every sample file pydicom and pydicom-data ship
and checks, for a set of tags, that each column agrees with pydicom: the
Length column with the length field pydicom read from the file, VR, VM,
Description and Value with pydicom's element.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pydicom
import pydicom.data
import pytest
import support
from pydicom.dataelem import RawDataElement

import medlab.data
import medlab.dicom
import medlab.widgets
from medlab.errors import MedlabError

NO_META, GARBAGE_FORCED, TRUNCATED = support.NO_META, support.GARBAGE_FORCED, support.TRUNCATED
TAGS = (
    "SpecificCharacterSet",
    "ImageType",
    "SOPClassUID",
    "SOPInstanceUID",
    "StudyDate",
    "StudyTime",
    "Modality",
    "Manufacturer",
    "PatientName",
    "PatientID",
    "PatientSex",
    "PatientAge",
    "SliceThickness",
    "Rows",
    "Columns",
    "PixelSpacing",
    "BitsAllocated",
    "WindowCenter",
    "PhotometricInterpretation",
    "InstanceNumber",
)


def _raw_lengths(path: Path, force: bool) -> dict[int, int]:
    """The length fields as pydicom read them (before it converts the values)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, force=force)
    return {
        int(tag): raw.length for tag, raw in ds._dict.items() if isinstance(raw, RawDataElement)
    }


@pytest.mark.parametrize("path", support.sample_files(), ids=lambda p: p.name)
def test_every_sample_table_agrees_with_pydicom(path):
    force = path.name in NO_META
    if path.name in TRUNCATED or path.name in GARBAGE_FORCED:
        with pytest.raises(MedlabError, match="truncated|do not start with a DICOM data element"):
            medlab.dicom.header_table(path, force=force)
        return
    if force:
        with pytest.raises(MedlabError, match="DICM"):
            medlab.dicom.header_table(path)
    lengths = _raw_lengths(path, force)
    table = medlab.dicom.header_table(path, force=force)
    text, page = repr(table), table._repr_html_()
    assert text.startswith(f"{path.name}: {table.total} elements") and "<table" in page
    ds = table.dataset
    assert table.total >= len(ds)
    for keyword in TAGS:
        if keyword not in ds:
            continue
        elem, row = ds[keyword], table.row(keyword)
        assert (row.group, row.element) == (f"{elem.tag.group:04X}", f"{elem.tag.element:04X}")
        assert (row.vr, row.vm, row.description) == (elem.VR, elem.VM, elem.name)
        if int(elem.tag) in lengths:
            assert row.length == lengths[int(elem.tag)]
        if row.length is not None:
            assert row.length % 2 == 0, "PS3.5 §7.1.1: value lengths are even"
        value = elem.value
        if elem.VR in ("US", "UL", "SS", "SL"):
            assert row.value == ("\\".join(map(str, value)) if elem.VM > 1 else str(value))
        elif elem.VM == 0:
            assert row.value == "<empty>"
        else:
            assert (
                row.value == '"' + ("\\".join(map(str, value)) if elem.VM > 1 else str(value)) + '"'
            )


def test_row_looks_like_the_teaching_layout():
    text = repr(medlab.dicom.header_table(medlab.data.get_path("ct")))
    line = next(x for x in text.splitlines() if x.startswith("0008  0020"))
    assert re.sub(r"\s+", " ", line) == '0008 0020 | 8 | Study Date | DA | 1 | "20040119"'
    image_type = next(x for x in text.splitlines() if x.startswith("0008  0008"))
    assert (
        re.sub(r"\s+", " ", image_type)
        == '0008 0008 | 22 | Image Type | CS | 3 | "ORIGINAL\\PRIMARY\\AXIAL"'
    )


def test_sequences_are_indented_and_pixel_data_summarised():
    table = medlab.dicom.header_table(medlab.data.get_path("ct"))
    lines = repr(table).splitlines()
    seq = next(i for i, x in enumerate(lines) if "Other Patient IDs Sequence" in x)
    assert "<sequence of 2 items>" in lines[seq]
    assert lines[seq + 1].split("|")[2].startswith("   Item 1")
    assert lines[seq + 2].split("|")[2].startswith("   > Patient ID")
    pixel = next(x for x in lines if x.startswith("7FE0  0010"))
    assert "|  32768 | Pixel Data" in pixel and pixel.endswith("<pixel data, 32768 bytes>")
    html = table._repr_html_()
    assert "padding-left:1.5em" in html and "<i>Item 1</i>" in html


def test_filters():
    path = medlab.data.get_path("mr_overlay")
    full = medlab.dicom.header_table(path)
    private = medlab.dicom.header_table(path, private=True)
    public = full.filter(private=False)
    assert len(private) + len(public) == full.total
    assert all(r.private for r in private.rows)
    assert {r.keyword for r in private.rows} >= {"PrivateCreator"}
    group = full.filter(group="0010")
    assert group.rows and all(r.group == "0010" for r in group.rows)
    assert full.filter(group=0x0010).rows == group.rows
    dates = full.filter(search="DATE")
    assert dates.rows and all("date" in (r.keyword + r.description).lower() for r in dates.rows)
    assert full.filter(search="(0010,0020)").row("PatientID")
    assert "match search='DATE'" in dates.summary()
    assert len(full.filter(search="no such thing")) == 0
    with pytest.raises(MedlabError, match="not a group number"):
        full.filter(group="patient")


def test_search_keeps_the_enclosing_sequence():
    table = medlab.dicom.header_table(medlab.data.get_path("ct"), search="PatientID")
    kinds = [(r.depth, r.kind, r.keyword) for r in table.rows]
    assert (0, "element", "OtherPatientIDsSequence") in kinds and (1, "item", "") in kinds


def test_dataset_input_gives_the_lengths_pydicom_would_write():
    ds = medlab.data.dataset("ct")
    from_file = medlab.dicom.header_table(medlab.data.get_path("ct"))
    from_ds = medlab.dicom.header_table(ds)
    assert from_ds.name == "CT_small.dcm"
    for keyword in ("PatientName", "StudyDate", "ImageType", "Rows", "PixelData"):
        assert from_ds.row(keyword).length == from_file.row(keyword).length
    ds.PatientName = "A^B"
    assert (
        medlab.dicom.header_table(ds).row("PatientName").length == 4
    )  # 3 characters, padded to even


def test_lookup_every_way():
    by = [
        medlab.dicom.lookup(k)
        for k in (
            "StudyDate",
            "Study Date",
            0x00080020,
            (0x0008, 0x0020),
            "(0008,0020)",
            "00080020",
            "0008,0020",
        )
    ]
    assert all(info == by[0] for info in by)
    assert (by[0].keyword, by[0].name, by[0].vr, by[0].vm) == ("StudyDate", "Study Date", "DA", "1")
    assert medlab.dicom.lookup("ImageType").vm == "2-n"
    assert medlab.dicom.lookup("PixelSpacing").vm == "2"
    assert (
        repr(medlab.dicom.lookup("PatientName"))
        == '(0010,0010) PatientName: "Patient\'s Name", VR PN, VM 1'
    )
    with pytest.raises(MedlabError, match="private tag"):
        medlab.dicom.lookup("(0029,1010)")
    with pytest.raises(MedlabError, match="not a keyword"):
        medlab.dicom.lookup("PatientsName")


def test_vr_catalogue_has_real_examples():
    cat = medlab.dicom.vr_catalogue()
    vrs = [row[0] for row in cat.rows]
    assert vrs == [
        "AE",
        "AS",
        "CS",
        "DA",
        "DS",
        "DT",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "SQ",
        "ST",
        "TM",
        "UI",
        "UL",
        "US",
        "OB",
        "OW",
        "UN",
    ]
    examples = {row[0]: row[4] for row in cat.rows}
    assert examples["AS"] == 'PatientAge = "000Y"' and examples["DA"].startswith(
        "InstanceCreationDate"
    )
    assert all(row[3] for row in cat.rows), "every VR has a real example"
    assert examples["UN"].startswith("private (0013,1010)")
    assert "AE  Application Entity" in repr(cat) and "<table" in cat._repr_html_()


def test_private_blocks_of_the_siemens_sample():
    blocks = medlab.dicom.private_blocks(medlab.data.get_path("mr_overlay"))
    assert [(b.creator_tag, b.creator, len(b.elements)) for b in blocks] == [
        ("(0029,0010)", "SIEMENS MEDCOM HEADER", 4),
        ("(0029,0011)", "SIEMENS MEDCOM OOG", 3),
    ]
    assert blocks[1].range == "(0029,1100)-(0029,11FF)"
    assert "No private blocks." == repr(medlab.dicom.private_blocks(medlab.data.get_path("mr")))


def test_tag_browser_widget_filters_on_traits():
    browser = medlab.widgets.TagBrowser(medlab.dicom.header_table(medlab.data.get_path("ct")))
    assert repr(browser) == "TagBrowser(CT_small.dcm, 270 elements)"
    assert "CT_small.dcm: 270 elements" in browser.pane.value
    browser.search.value = "date"
    assert "8 of 270 elements match search=&#x27;date&#x27;" in browser.pane.value
    browser.show.value = "Private"
    assert len(browser.shown) == 2 and all(r.private for r in browser.shown.rows)
    browser.show.value = "Public"
    assert len(browser.shown) == 6
    browser.search.value = ""
    assert len(browser.shown) == sum(
        1 for r in browser.table.rows if r.kind == "element" and not r.private
    )
