"""The shared test helpers (tests/support.py) are the only copies, and they can tell a difference."""

from __future__ import annotations

import ast

import pydicom
import support
from pydicom.dataset import Dataset

SHARED = {"sample_files", "same_dataset", "wait_for", "wait_for_text", "free_port"}


def test_no_test_module_keeps_its_own_copy_of_a_shared_helper():
    copies = {}
    for path in sorted((support.REPO / "tests").rglob("*.py")):
        if path.name == "support.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in SHARED:
                copies.setdefault(str(path.relative_to(support.REPO)), []).append(node.name)
    assert copies == {}, "import these from tests/support.py"


def _ds(**values) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def test_same_dataset_ignores_padding_and_group_lengths_but_not_values():
    a = _ds(PatientName="DOE^J", PatientID="1")
    b = _ds(PatientName="DOE^J ", PatientID="1")
    b.add_new(0x00100000, "UL", 42)  # a group length
    assert support.same_dataset(a, b) == []
    assert support.same_dataset(a, _ds(PatientName="DOE^K", PatientID="1")) == [
        "(0010,0010) 'DOE^J' != 'DOE^K'"
    ]
    assert support.same_dataset(a, _ds(PatientName="DOE^J")) == ["(0010,0020) only in one"]


def test_same_dataset_looks_inside_sequences_and_bytes():
    a, b = _ds(), _ds()
    a.ReferencedImageSequence = [_ds(ReferencedSOPInstanceUID="1.2")]
    b.ReferencedImageSequence = [_ds(ReferencedSOPInstanceUID="1.3"), _ds()]
    diffs = support.same_dataset(a, b)
    assert diffs[0] == "(0008,1140) has 1 vs 2 items" and "(0008,1140)>(0008,1155)" in diffs[1]
    x, y = _ds(), _ds()
    x.add_new(0x00291010, "OB", b"\x01\x02")
    y.add_new(0x00291010, "OB", b"\x01\x02\x00")
    assert support.same_dataset(x, y) == []
    y[0x00291010].value = b"\x01\x03"
    assert support.same_dataset(x, y) == ["(0029,1010) bytes differ"]


def test_sample_files_finds_pydicoms_files():
    names = {p.name for p in support.sample_files()}
    assert {"CT_small.dcm", "MR_small.dcm"} <= names
    assert all(p.suffix == ".dcm" for p in support.sample_files())
    assert pydicom.data  # the helper imports pydicom.data on its own


def test_wait_for_returns_false_after_the_timeout():
    assert support.wait_for(lambda: True)
    assert not support.wait_for(lambda: False, timeout=0.05)
