"""``medlab.data``: every named sample resolves, and the catalogue tells the truth, deterministically."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pydicom
import pytest

import medlab.data
from medlab.data import build
from medlab.data._catalogue import NO_META, SHORT_TRANSFER_SYNTAX, Catalogue
from medlab.errors import MedlabError


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("catalogue-data")
    build.build_data(out)
    return out


@pytest.mark.parametrize("name", sorted(medlab.data.SAMPLES))
def test_every_sample_resolves_and_reads(name):
    path = medlab.data.get_path(name)
    assert path.is_file() and path.name == medlab.data.SAMPLES[name].filename
    if name == "no_meta_stray_byte":  # the trap it documents: force=True reads garbage
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom: "VR lookup failed ..."
            ds = medlab.data.dataset(name)
            assert len(ds) == 1 and "Modality" not in ds
        return
    ds = medlab.data.dataset(name)
    assert len(ds) > 5
    assert ("file_meta" in dir(ds) and "TransferSyntaxUID" in ds.file_meta) == medlab.data.SAMPLES[
        name
    ].file_meta


def test_attribute_access_and_unknown_names():
    assert medlab.data.mr.Modality == "MR"
    assert medlab.data.get_path("mr_no_meta") == medlab.data.get_path("no_meta")  # old name
    with pytest.raises(MedlabError, match="no sample called 'mri'"):
        medlab.data.get_path("mri")
    with pytest.raises(AttributeError):
        medlab.data.not_a_sample  # noqa: B018
    with pytest.raises(MedlabError, match="no built study called"):
        medlab.data.study("ct")


def test_study_folders(built, monkeypatch, tmp_path):
    monkeypatch.setenv("MEDLAB_DATA", str(built))
    for name in medlab.data.BUILT:
        assert medlab.data.study(name) == built / name
    monkeypatch.setenv("MEDLAB_DATA", str(tmp_path / "empty"))
    with pytest.raises(MedlabError) as info:
        medlab.data.study("ct_phantom")
    assert "medlab data build" in info.value.fix


@pytest.fixture(scope="module")
def catalogue(built) -> Catalogue:
    return Catalogue.build(built)


def test_catalogue_agrees_with_pydicom(catalogue):
    samples = catalogue.samples()
    assert [e.name for e in samples] == list(medlab.data.SAMPLES)
    for entry in samples:
        sample = medlab.data.SAMPLES[entry.name]
        path = medlab.data.get_path(entry.name)
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=not sample.file_meta)
        assert entry.file == path.name
        assert entry.modality == ds.get("Modality", "-") or (
            entry.modality == "-" and not ds.get("Modality")
        )
        assert entry.photometric == ds.get("PhotometricInterpretation", "-")
        if sample.file_meta:
            ts = ds.file_meta.TransferSyntaxUID
            assert entry.transfer_syntax_uid == ts
            assert entry.transfer_syntax == SHORT_TRANSFER_SYNTAX.get(ts, ts.name)
        else:
            assert entry.transfer_syntax_uid is None and entry.transfer_syntax == NO_META
        if "Rows" in ds:
            assert entry.pixels.startswith(f"{ds.Rows}x{ds.Columns}")
        assert entry.size_kb == round(path.stat().st_size / 1000)
        assert entry.purpose == sample.purpose
    # Spot checks against facts the lessons rely on.
    assert catalogue["cr_mono1"].photometric == "MONOCHROME1"
    assert catalogue["mr_big_endian"].transfer_syntax == "Explicit VR BE"
    assert catalogue["us_rgb_j2k"].photometric == "YBR_RCT"
    assert catalogue["us_multiframe"].pixels == "240x320 x30 frames"


def test_catalogue_lists_the_built_series(catalogue):
    built = {e.name: e for e in catalogue.built()}
    assert sorted(built) == sorted(build.SERIES_PURPOSE)
    assert built["ct_phantom/series01_axial_5mm"].file == "12"
    assert built["ct_phantom/series01_axial_5mm"].pixels == "512x512"
    assert built["cr_mono1/series01_chest_pa"].photometric == "MONOCHROME1"
    assert "7 HL7 v2 messages" in catalogue.built_note


def test_catalogue_text_and_html_are_deterministic(built, catalogue):
    again = Catalogue.build(built)
    text, html = repr(catalogue), catalogue._repr_html_()
    assert text == repr(again) and html == again._repr_html_()
    for needle in (str(built), str(Path.home()), "site-packages"):
        assert needle not in text and needle not in html
    assert not re.search(r"0x[0-9a-f]{6}", text + html)  # no memory addresses
    # Every row appears in both renderings with its modality, syntax and photometric.
    for entry in catalogue:
        row = next(line for line in text.splitlines() if line.startswith(entry.name + " "))
        size = f"{entry.size_kb:,} kB" if entry.size_kb else "<1 kB"
        for value in (entry.modality, entry.transfer_syntax, entry.photometric, size):
            assert value in row, (entry.name, value)
        assert f"<td style='text-align:left'>{entry.name}</td>" in html
    assert re.search(r"<table>.*</table>", html, re.S)
    assert html.count("<tr>") == len(catalogue) + 2  # two header rows


def test_catalogue_without_built_data_says_how_to_build(tmp_path):
    cat = Catalogue.build(tmp_path)
    assert not cat.built()
    assert "Not built yet" in repr(cat) and "medlab data build" in repr(cat)


def test_catalogue_dataframe(catalogue):
    frame = catalogue.to_dataframe()
    assert len(frame) == len(catalogue)
    assert {"name", "modality", "transfer_syntax_uid", "photometric", "size_kb", "purpose"} <= set(
        frame.columns
    )
    assert frame.set_index("name").loc["ct", "modality"] == "CT"
