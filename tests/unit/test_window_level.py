"""The window/level and frame widgets, driven through their traits (no browser).

Each interaction must change what is drawn: the image artist's clim, the
PNG sent to the Image widget, and the status marker the browser test waits for.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import medlab.data
from medlab.dicom.display import PRESETS
from medlab.widgets.cine import frames
from medlab.widgets.windowing import linear_limits, window_level


@pytest.fixture(scope="module")
def ct():
    return medlab.data.dataset("ct_512")


@pytest.fixture
def wl(ct):
    return window_level(ct)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("L"), dtype=np.int16)


def test_starts_with_the_header_window(ct, wl):
    assert wl.window == (float(ct.WindowCenter), float(ct.WindowWidth))
    assert wl.artist.get_clim() == linear_limits(*wl.window)
    assert wl.units == "HU"
    assert "drawn" in wl.status.value and wl.redraws == 1
    assert bytes(wl.image.value).startswith(b"\x89PNG")


def test_center_slider_changes_the_picture(wl):
    before = _pixels(wl.image.value)
    wl.center.value = 400
    assert wl.artist.get_clim() == linear_limits(400, wl.width.value)
    assert f"window 400/{wl.width.value:g} drawn" in wl.status.value
    after = _pixels(wl.image.value)
    assert np.abs(after - before).sum() > 10_000  # the picture changed, not only the title


def test_width_slider_moves_the_histogram_span(wl):
    wl.width.value = 1000
    low, high = linear_limits(wl.center.value, 1000)
    assert wl.span.get_x() == pytest.approx(low)
    assert wl.span.get_width() == pytest.approx(high - low)


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_sets_both_sliders_and_draws_once(wl, name):
    count = wl.redraws
    wl.preset.value = name
    assert wl.window == PRESETS[name]
    assert wl.redraws == count + 1
    assert f"window {PRESETS[name][0]:g}/{PRESETS[name][1]:g} drawn" in wl.status.value


def test_moving_a_slider_after_a_preset_returns_to_custom(wl):
    wl.preset.value = "lung"
    wl.width.value = 1200
    assert wl.preset.value == "custom"


def test_pixel_readout_gives_hounsfield_units(ct, wl):
    wl.row.value, wl.column.value = 100, 200
    hu = ct.pixel_array[100, 200] * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
    assert "row 100, column 200" in wl.readout.value
    assert f"{hu:g} HU" in wl.readout.value
    assert tuple(wl.marker.get_data()[0]) == (200,) and tuple(wl.marker.get_data()[1]) == (100,)


def test_redraw_reuses_the_figure_and_its_artist(wl):
    artist, figure = wl.artist, wl.figure
    n_images = len(figure.axes[0].images)
    for c in (0, 50, 100):
        wl.center.value = c
    assert wl.artist is artist and wl.figure is figure
    assert len(figure.axes[0].images) == n_images == 1


def test_monochrome1_uses_an_inverted_grey_scale():
    cr = medlab.data.dataset("cr_mono1")
    w = window_level(cr, max_side=256)
    assert w.artist.get_cmap().name == "gray_r"
    assert w.artist.get_array().shape[0] <= 256  # thinned for display
    assert w.values.shape == (cr.Rows, cr.Columns)  # read-out uses every pixel


def test_repr_is_plain_and_deterministic(wl):
    assert repr(wl) == "WindowLevel(512x512, window 40/100, units 'HU', preset 'custom')"
    bundle = wl._repr_mimebundle_()
    assert bundle["text/plain"] == repr(wl)
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_frame_slider_swaps_frames():
    viewer = frames(medlab.data.dataset("us_multiframe"))
    assert viewer.count == 30 and viewer.slider.max == 30
    first = viewer.artist.get_array().copy()
    png = bytes(viewer.image.value)
    viewer.slider.value = 15
    assert "frame 15/30 drawn" in viewer.status.value
    assert not np.array_equal(viewer.artist.get_array(), first)
    assert bytes(viewer.image.value) != png
    assert viewer.play.max == 30 and viewer.play.interval > 0


def test_center_slider_has_a_fine_step_over_the_values_the_image_holds(ct, wl):
    """A 40-pixel drag of the center moved it ~1,200 HU: the range was the padding's
    -3024 HU to the maximum. Now it spans the tissue and every preset center."""
    from medlab.widgets.windowing import SLIDER_PX

    span = wl.center.max - wl.center.min
    track = SLIDER_PX - 120  # description and read-out take the rest
    assert span / track * 40 <= 250  # HU moved by a 40-pixel drag
    assert wl.center.step == 1
    assert wl.center.min > -1100 and wl.center.max >= 1000  # air to dense bone, no padding
    for center, _width in PRESETS.values():
        assert wl.center.min <= center <= wl.center.max
    assert wl.center.layout.width == f"{SLIDER_PX}px"


def test_width_slider_is_logarithmic_so_narrow_windows_are_as_easy_as_wide(wl):
    import ipywidgets as w

    assert isinstance(wl.width, w.FloatLogSlider)
    assert 10**wl.width.min <= 1 and 10**wl.width.max >= max(v for _c, v in PRESETS.values())
    # one step changes the width by the same ratio everywhere: ~1 % of it
    assert 10**wl.width.step - 1 <= 0.012
    wl.set_window(40, 20000)  # beyond the slider: it grows to fit
    assert wl.window == (40, 20000)
