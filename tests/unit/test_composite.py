"""Lesson 06 helpers: GSPS, SR outline and builder, RT summaries, ECG, SEG, twins table."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest

import medlab.data
from medlab.dicom.composite import (
    dose_grid,
    ecg_leads,
    measurement_sr,
    plot_dose,
    plot_ecg,
    plot_seg,
    rt_summary,
    seg_masks,
    sr_outline,
)
from medlab.dicom.compression import compare_twins
from medlab.dicom.display import apply_window, modality_values
from medlab.dicom.gsps import apply_presentation_state, create_gsps
from medlab.errors import MedlabError
from medlab.widgets.presentation import gsps_toggle

BOX = [(280.0, 200.0), (340.0, 200.0), (340.0, 260.0), (280.0, 260.0), (280.0, 200.0)]


@pytest.fixture(scope="module")
def ct():
    return medlab.data.dataset("ct_512")


@pytest.fixture(scope="module")
def pr(ct):
    return create_gsps(
        ct,
        window=(40, 80),
        rotation=90,
        flip=True,
        text="look here",
        text_at=(300, 150),
        polyline=BOX,
    )


def _roundtrip(ds):
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    buf.seek(0)
    return pydicom.dcmread(buf)


# -- GSPS -------------------------------------------------------------------------


def test_gsps_records_window_rotation_flip_and_annotations(ct, pr):
    pr = _roundtrip(pr)
    assert pr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.11.1"  # Grayscale Softcopy PS Storage
    assert pr.Modality == "PR"
    voi = pr.SoftcopyVOILUTSequence[0]
    assert (float(voi.WindowCenter), float(voi.WindowWidth)) == (40.0, 80.0)
    assert pr.ImageRotation == 90 and pr.ImageHorizontalFlip == "Y"
    ref = pr.ReferencedSeriesSequence[0].ReferencedImageSequence[0]
    assert ref.ReferencedSOPInstanceUID == ct.SOPInstanceUID
    ann = pr.GraphicAnnotationSequence[0]
    assert ann.TextObjectSequence[0].UnformattedTextValue == "look here"
    assert ann.GraphicObjectSequence[0].GraphicType == "POLYLINE"
    assert "PixelData" not in pr
    assert pr.SeriesInstanceUID != ct.SeriesInstanceUID


def test_gsps_is_deterministic(ct, pr):
    again = create_gsps(
        ct,
        window=(40, 80),
        rotation=90,
        flip=True,
        text="look here",
        text_at=(300, 150),
        polyline=BOX,
    )
    assert again.SOPInstanceUID == pr.SOPInstanceUID
    assert again.PresentationCreationDate == pr.PresentationCreationDate


def test_applying_the_state_rotates_flips_and_windows(ct, pr):
    shown = apply_presentation_state(ct, pr)
    expected = apply_window(modality_values(ct), 40, 80)
    expected = np.rot90(expected, k=-1)[:, ::-1]  # clockwise first, then flip (PS3.3 C.10.6)
    np.testing.assert_array_equal(shown.pixels, expected)
    text = next(a for a in shown.annotations if a[0] == "text")
    # (x=300, y=150) -> rotate cw: (511-150, 300) = (361, 300) -> flip: (511-361, 300)
    assert text[1][0] == (150.0, 300.0) and text[2] == "look here"


def test_rotation_must_be_a_quarter_turn(ct):
    with pytest.raises(MedlabError, match="Image Rotation"):
        create_gsps(ct, rotation=45)


def test_toggle_switches_the_view_and_leaves_pixel_data_alone(ct, pr):
    before = bytes(ct.PixelData)
    toggle = gsps_toggle(ct, pr)
    plain_png = bytes(toggle.image.value)
    assert "presentation state off drawn" in toggle.status.value
    toggle.toggle.value = toggle.toggle.options[1]
    assert "presentation state on drawn" in toggle.status.value
    assert bytes(toggle.image.value) != plain_png
    assert toggle.shown() is toggle.presented.pixels
    assert toggle.pixel_data_unchanged and bytes(ct.PixelData) == before
    toggle.toggle.value = toggle.toggle.options[0]
    assert bytes(toggle.image.value) == plain_png


# -- SR ---------------------------------------------------------------------------


def test_sr_outline_walks_the_whole_tree():
    outline = sr_outline(medlab.data.dataset("sr_comprehensive"))
    assert outline.count("NUM") == 2 and outline.count("CONTAINER") >= 2
    text = repr(outline)
    assert text.startswith("Diagnosis  [COMPLETE, VERIFIED]")
    assert "- CONTAINS NUM Diameter: 3 cm" in text
    assert "(by reference)" in text
    assert "<ul>" in outline._repr_html_()


def test_sr_outline_of_the_basic_text_sr():
    outline = sr_outline(medlab.data.dataset("sr_basic"))
    assert outline.count("TEXT") >= 2
    assert any(line.relationship == "HAS OBS CONTEXT" for line in outline.lines)


def test_sr_outline_rejects_an_image():
    with pytest.raises(MedlabError, match="not a Structured Report"):
        sr_outline(medlab.data.dataset("ct"))


def test_measurement_sr_round_trips(ct):
    sr = _roundtrip(measurement_sr(ct, diameter_mm=12.5))
    assert sr.Modality == "SR" and sr.SOPClassUID.name == "Enhanced SR Storage"
    outline = sr_outline(sr)
    assert "- CONTAINS NUM Diameter: 12.5 mm" in repr(outline)
    assert "INFERRED FROM IMAGE" in repr(outline)
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == ct.StudyInstanceUID


# -- RT ---------------------------------------------------------------------------


def test_rt_plan_has_beams_and_no_pixels():
    plan = medlab.data.dataset("rt_plan")
    summary = rt_summary(plan)
    assert "PixelData" not in plan
    assert ("Pixel Data", "none") in summary.facts
    assert "Beam 1 'Field 1'" in repr(summary) and "STATIC PHOTON" in repr(summary)


def test_rt_struct_lists_rois():
    ds = pydicom.dcmread(medlab.data.get_path("rt_struct"), force=True)
    text = repr(rt_summary(ds))
    assert "ROI 1 'patient'" in text and "3 contour(s)" in text and "CLOSED_PLANAR" in text


def test_rt_dose_grid_is_scaled():
    ds = medlab.data.dataset("rt_dose")
    grid = dose_grid(ds)
    assert grid.shape == (15, 10, 10)
    assert grid.max() == pytest.approx(ds.pixel_array.max() * float(ds.DoseGridScaling))
    fig = plot_dose(ds)
    assert len([ax for ax in fig.axes if ax.images]) == 15


def test_rt_summary_rejects_other_objects():
    with pytest.raises(MedlabError, match="Not an RT"):
        rt_summary(medlab.data.dataset("ct"))


# -- ECG and SEG -------------------------------------------------------------------


def test_ecg_has_twelve_labelled_leads_and_a_time_axis():
    ds = medlab.data.dataset("ecg")
    data, labels, hz, units = ecg_leads(ds)
    assert data.shape == (10000, 12) and hz == 1000 and units == "uV"
    assert labels[:3] == ["Lead I (Einthoven)", "Lead II", "Lead III"] and labels[-1] == "Lead V6"
    fig = plot_ecg(ds, seconds=2.0)
    ax = fig.axes[0]
    assert len(ax.lines) == 12
    assert ax.get_xlim()[1] == pytest.approx(1.999)
    assert [t.get_text() for t in ax.texts][:2] == ["Lead I", "Lead II"]


def test_seg_masks_and_overlay():
    ds = medlab.data.dataset("seg")
    frames, segments = seg_masks(ds)
    assert [s[1] for s in segments] == ["Liver"]
    assert len(frames) == 3 and all(m.dtype == bool and m.any() for _, _, m in frames)
    r, g, b = segments[0][2]
    assert r > g > b  # the recommended CIELab colour is a liver brown/red
    assert len(plot_seg(ds).axes) == 3


# -- twins -------------------------------------------------------------------------------


def test_twins_table_lossless_zero_lossy_small():
    table = compare_twins()
    by_name = {row.name: row for row in table.rows}
    for row in table.rows:
        assert row.encapsulated
        if row.lossy:
            assert 0 < row.max_difference < 128
        else:
            assert row.max_difference == 0, row.name
    assert by_name["us_ybr_jpeg"].lossy and not by_name["ct_512_j2k"].lossy
    assert by_name["ct_512_j2k"].pixel_bytes < by_name["ct_512_j2k"].twin_pixel_bytes
    assert "RLE Lossless" in repr(table)
