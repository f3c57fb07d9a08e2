"""medlab.dicom.phi.scan_phi: an independent search for known identifiers (lesson 11)."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.dataset import Dataset

from medlab.data import build
from medlab.dicom.phi import scan_phi, spellings
from medlab.errors import MedlabError

PATIENT = build.PATIENTS["ferreira"]
KNOWN = [PATIENT.name, PATIENT.id, PATIENT.birth_date]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    base = tmp_path_factory.mktemp("phi")
    for i in (1, 2):
        (base / f"CT{i:04d}.dcm").write_bytes(build._encode(build._deid_instance(i)))
    return base


def test_spellings_cover_name_parts_and_date_forms():
    terms = spellings(["FERREIRA-SANTOS^LUCIA^M", "19820123", "ab"])
    for t in (
        "FERREIRA-SANTOS^LUCIA^M",
        "FERREIRA-SANTOS",
        "FERREIRA",
        "SANTOS",
        "LUCIA",
        "1982-01-23",
        "23/01/1982",
        "01/23/1982",
        "19820123",
    ):
        assert t in terms
    assert "M" not in terms and "AB" not in terms  # too short to search without noise


def test_every_listed_phi_element_of_the_sample_is_found(folder):
    """The builder's DEID_PHI lists where the sample hides the patient's identity."""
    scan = scan_phi(folder, KNOWN)
    where = {h.where for h in scan.hits if h.file == "CT0001.dcm"}
    patient_elements = [
        e
        for e in build.DEID_PHI
        if e.carries.startswith(("patient name", "patient ID", "birth date", "free text"))
    ]
    for element in patient_elements:
        if element.tag in ("(0010,1002)[0](0010,0020)",):  # another hospital's ID: not in KNOWN
            continue
        assert element.tag in where, element


def test_naive_blanking_leaves_private_hits(folder):
    ds = pydicom.dcmread(folder / "CT0001.dcm")
    ds.PatientName = ""
    ds.PatientID = ""
    scan = scan_phi(ds, KNOWN)
    private = {h.where[:11] for h in scan.hits if h.keyword.startswith("private")}
    assert private == {
        "(0019,1010)",
        "(0019,1011)",
        "(0029,1010)",
        "(0029,1011)",
        "(0029,1012)",
        "(0029,1013)",
        "(0029,1020)",
    }
    assert "(0029,1020)[0](0029,1010)" in {h.where for h in scan.hits}  # nested private sequence
    assert "(0010,0010)" not in {h.where for h in scan.hits}


def test_raw_bytes_pass_finds_what_the_parser_does_not_show(tmp_path, folder):
    data = bytearray((folder / "CT0001.dcm").read_bytes())
    marker = PATIENT.id.encode()
    data[-200 : -200 + len(marker)] = marker  # hide the ID inside the pixel data
    target = tmp_path / "IM0001"
    target.write_bytes(bytes(data))
    scan = scan_phi(target, [PATIENT.id])
    raw = [h for h in scan.hits if h.where.startswith("bytes 0x")]
    assert len(raw) == 1 and raw[0].keyword == "inside (7FE0,0010)"
    assert int(raw[0].where.split("0x")[1], 16) == len(data) - 200
    # Element hits are not reported twice by the raw pass.
    assert sum(1 for h in scan.hits if h.where == "(0010,0020)") == 1


def test_file_names_and_burned_in_annotation(tmp_path, folder):
    ds = pydicom.dcmread(folder / "CT0001.dcm")
    del ds.BurnedInAnnotation
    ds.save_as(tmp_path / "FERREIRA.dcm")
    scan = scan_phi(tmp_path, KNOWN)
    assert any(h.where == "file name" for h in scan.hits)
    assert scan.burned_in == ["FERREIRA.dcm"]
    assert "Burned In Annotation" in repr(scan) and "Check the pixels" in scan._repr_html_()


def test_clean_data_set_and_errors(tmp_path):
    ds = Dataset()
    ds.PatientName = "ANON"
    scan = scan_phi(ds, KNOWN)
    assert scan.clean and len(scan) == 0 and "0 hit(s)" in repr(scan)
    with pytest.raises(MedlabError, match="Nothing to search"):
        scan_phi(ds, [""])
    with pytest.raises(MedlabError, match="No such file"):
        scan_phi(tmp_path / "missing", KNOWN)
