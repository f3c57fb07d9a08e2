"""Window/level widget: the VOI window of PS3.3 C.11.2 under a trainee's fingers.

``window_level(ds)`` shows a grey image in modality units (Hounsfield units
for CT) with

* sliders for Window Center and Window Width, and a preset dropdown
  (brain, mediastinum, lung, bone - :data:`medlab.dicom.display.PRESETS`);
* the value of a chosen pixel (row/column boxes; a red cross marks it);
* a histogram of the whole image with the window shaded.

Redrawing is cheap on purpose: the figure is built once; a change only calls
``AxesImage.set_clim`` (a LINEAR window is exactly a clipped linear grey scale
between ``center - 0.5 - (width-1)/2`` and ``center - 0.5 + (width-1)/2``),
moves the shaded span and the marker, redraws just those artists over the
cached rest of the same Agg canvas (blitting: axes and histogram are not
redrawn) and sends PNG bytes to an ``ipywidgets.Image``. (With an interactive backend such as
ipympl the same artists would be refreshed by ``fig.canvas.draw_idle()``.)
Each redraw ends by writing ``window C/W drawn`` into :attr:`WindowLevel.status`,
which the browser test waits for.
"""

from __future__ import annotations

import html
import math
import time
from typing import TYPE_CHECKING, Any

from medlab import plotting
from medlab.dicom.display import PRESETS, _header_window, modality_values
from medlab.widgets._display import WidgetDisplay

if TYPE_CHECKING:
    from pydicom import Dataset

CUSTOM = "custom"

#: Width of the center and width sliders on screen (the track is about 120 px less).
SLIDER_PX = 600


def center_range(values: Any, units: str, center: float) -> tuple[float, float]:
    """The span of the center slider: where the image's values are, not its padding.

    The 1st to 99th percentile of the pixels above the image's minimum (a CT's
    padding outside the field of view is its minimum), widened to hold the
    current center and, for Hounsfield units, every preset's center.
    """
    import numpy as np

    lo = float(values.min())
    inside = values[values > lo]
    if inside.size:
        low, high = (float(v) for v in np.percentile(inside, [1, 99]))
    else:
        low, high = lo, float(values.max())
    centers = [center, *(c for c, _w in PRESETS.values())] if units == "HU" else [center]
    low, high = min(low, *centers), max(high, *centers)
    return math.floor(low), math.ceil(max(high, low + 1))


def linear_limits(center: float, width: float) -> tuple[float, float]:
    """The values mapped to black and white by a LINEAR window (PS3.3 C.11.2.1.2.1)."""
    return center - 0.5 - (width - 1) / 2.0, center - 0.5 + (width - 1) / 2.0


class WindowLevel(WidgetDisplay):
    """The widget object; display it in a notebook, or drive its sliders from code.

    Attributes a test or a curious trainee can use: ``center``, ``width``,
    ``preset``, ``row``, ``column`` (the ipywidgets controls), ``image`` (the
    ``ipywidgets.Image``), ``status`` and ``readout`` (HTML), ``artist``
    (matplotlib ``AxesImage``), ``values`` (the frame in modality units),
    ``redraws`` (how many times it drew) and ``last_redraw_ms``.
    """

    def __init__(self, ds: Dataset, *, frame: int = 0, max_side: int = 512) -> None:
        import ipywidgets as w
        import numpy as np

        self.values = modality_values(ds, frame)
        self.monochrome1 = ds.get("PhotometricInterpretation") == "MONOCHROME1"
        self.units = _units(ds)
        lo, hi = float(self.values.min()), float(self.values.max())
        header = _header_window(ds, frame)
        if header is not None:
            center, width = header[0], header[1]
        elif ds.get("Modality") == "CT":
            center, width = PRESETS["mediastinum"]
        else:
            center, width = (lo + hi) / 2.0, max(hi - lo, 1.0)
        self.redraws = 0
        self.last_redraw_ms = 0.0
        self._quiet = False

        # -- the figure: built once, its artists reused by every redraw --------
        self.figure = fig = plotting.figure(7.5, 3.4, layout=None)
        ax_img = fig.add_axes((0.01, 0.04, 0.44, 0.90))
        ax_hist = fig.add_axes((0.55, 0.15, 0.42, 0.75))
        shown = plotting.shrink(self.values, max_side)
        self.artist = ax_img.imshow(
            shown,
            cmap="gray_r" if self.monochrome1 else "gray",
            interpolation="nearest",
            extent=(-0.5, self.values.shape[1] - 0.5, self.values.shape[0] - 0.5, -0.5),
        )
        ax_img.set_axis_off()
        row0, col0 = self.values.shape[0] // 2, self.values.shape[1] // 2
        (self.marker,) = ax_img.plot([col0], [row0], "+", color="tab:red", markersize=12, mew=1.5)
        counts, edges = np.histogram(self.values, bins=200)
        ax_hist.stairs(counts, edges, fill=True, color="0.45")
        ax_hist.set_yscale("log")
        ax_hist.set_xlabel(self.units, fontsize=8)
        ax_hist.set_ylabel("pixels", fontsize=8)
        ax_hist.tick_params(labelsize=7)
        ax_hist.set_xlim(lo, hi)
        self.span = ax_hist.axvspan(lo, hi, color="tab:orange", alpha=0.3, lw=0)
        self.title = ax_hist.set_title("", fontsize=9)
        self._blitter = plotting.Blitter(fig, [self.artist, self.marker, self.span, self.title])

        # -- the controls ------------------------------------------------------
        # The center slider spans the values the image really holds (not the padding
        # outside a CT's field of view, often -3024 HU), and every preset center:
        # about 2,000 HU for a CT, so a 40-pixel drag moves it by ~150 HU, not 1,200.
        # Width gets a logarithmic slider: as fine at 80 HU (brain) as at 1,500 (lung).
        style = {"description_width": "60px"}
        c_lo, c_hi = center_range(self.values, self.units, center)
        self.center = w.FloatSlider(
            value=center,
            min=c_lo,
            max=c_hi,
            step=1,
            description="Center",
            continuous_update=False,
            style=style,
            readout_format=".0f",
            layout={"width": f"{SLIDER_PX}px"},
        )
        top = max(2 * max(hi - lo, 1.0), width, 2.0)
        self.width = w.FloatLogSlider(
            value=max(width, 1.0),
            base=10,
            min=0,
            max=math.log10(top),
            step=0.005,
            description="Width",
            continuous_update=False,
            style=style,
            readout_format=".0f",
            layout={"width": f"{SLIDER_PX}px"},
        )
        self.preset = w.Dropdown(
            options=[CUSTOM, *PRESETS], value=CUSTOM, description="Preset", style=style
        )
        self.row = w.BoundedIntText(
            value=row0,
            min=0,
            max=self.values.shape[0] - 1,
            description="Row",
            style=style,
            layout={"width": "150px"},
        )
        self.column = w.BoundedIntText(
            value=col0,
            min=0,
            max=self.values.shape[1] - 1,
            description="Column",
            style=style,
            layout={"width": "150px"},
        )
        self.readout = w.HTML()
        self.status = w.HTML()
        self.status.add_class("medlab-wl-status")
        self.image = w.Image(format="png", layout={"width": "600px"})
        self.image.add_class("medlab-wl-image")
        for control in (self.center, self.width):
            control.observe(self._on_window, names="value")
        self.preset.observe(self._on_preset, names="value")
        for control in (self.row, self.column):
            control.observe(self._on_pixel, names="value")
        self.widget = w.VBox(
            [
                self.preset,
                self.center,
                self.width,
                self.image,
                w.HBox([self.row, self.column, self.readout]),
                self.status,
            ]
        )
        self.widget.add_class("medlab-window-level")
        self._update_readout()
        self.redraw()

    # -- callbacks ------------------------------------------------------------
    def _on_window(self, _change: Any = None) -> None:
        if self._quiet:
            return
        if self.preset.value != CUSTOM and PRESETS[self.preset.value] != self.window:
            self._quiet = True
            self.preset.value = CUSTOM
            self._quiet = False
        self.redraw()

    def _on_preset(self, change: Any) -> None:
        if self._quiet or change["new"] == CUSTOM:
            return
        self.set_window(*PRESETS[change["new"]], preset=change["new"])

    def _on_pixel(self, _change: Any = None) -> None:
        self._update_readout()
        self.redraw()

    # -- public API -----------------------------------------------------------
    @property
    def window(self) -> tuple[float, float]:
        """The current (center, width)."""
        return float(self.center.value), float(self.width.value)

    def set_window(self, center: float, width: float, *, preset: str = CUSTOM) -> None:
        """Set both sliders at once and redraw once."""
        self._quiet = True
        try:
            self.center.max = max(self.center.max, center)
            self.center.min = min(self.center.min, center)
            self.width.max = max(self.width.max, math.log10(max(width, 2.0)))
            self.center.value, self.width.value = center, width
            self.preset.value = preset
        finally:
            self._quiet = False
        self.redraw()

    def value_at(self, row: int, column: int) -> float:
        """The modality value (e.g. HU) of one pixel."""
        return float(self.values[row, column])

    def redraw(self) -> None:
        """Update the existing artists and send the new picture to the Image widget."""
        start = time.perf_counter()
        center, width = self.window
        low, high = linear_limits(center, width)
        self.artist.set_clim(low, high)
        self.span.set_x(low)
        self.span.set_width(high - low)
        self.marker.set_data([self.column.value], [self.row.value])
        self.title.set_text(f"window {center:g}/{width:g} ({self.units})")
        self.image.value = self._blitter.draw()
        self.redraws += 1
        self.last_redraw_ms = (time.perf_counter() - start) * 1000
        self.status.value = f"<span>window {center:g}/{width:g} drawn</span>"

    def _update_readout(self) -> None:
        r, c = int(self.row.value), int(self.column.value)
        self.readout.value = (
            f"<span>pixel (row {r}, column {c}): <b>{self.value_at(r, c):g} "
            f"{html.escape(self.units)}</b></span>"
        )

    # -- display --------------------------------------------------------------
    def __repr__(self) -> str:
        center, width = self.window
        rows, cols = self.values.shape
        return (
            f"WindowLevel({rows}x{cols}, window {center:g}/{width:g}, "
            f"units {self.units!r}, preset {self.preset.value!r})"
        )


def _units(ds: Dataset) -> str:
    """Rescale Type (0028,1054) if given; CT rescales to Hounsfield units (PS3.3 C.8.2.1)."""
    kind = str(ds.get("RescaleType", "") or "")
    if kind:
        return kind
    if ds.get("Modality") == "CT":
        return "HU"
    return "stored value"


def window_level(ds: Dataset, *, frame: int = 0, max_side: int = 512) -> WindowLevel:
    """Return a window/level widget for one grey frame of ``ds``.

    ``max_side`` thins very large images (a 2000-pixel CR) for display only;
    the read-out and histogram always use every pixel.
    """
    return WindowLevel(ds, frame=frame, max_side=max_side)
