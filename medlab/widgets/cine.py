"""Frame slider and cine player for multi-frame objects (PS3.3 C.7.6.6).

A multi-frame object keeps all its frames in one Pixel Data element: Number of
Frames (0028,0008) says how many, and Frame Time (0018,1063) or Cine Rate
(0018,0040) how fast an ultrasound cine loop was acquired. ``frames(ds)``
decodes every frame once with :func:`medlab.dicom.to_display`, then a slider
(and a Play button linked to it) swaps the image data of one matplotlib artist.
Each redraw ends with ``frame k/N drawn`` in :attr:`FrameViewer.status`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from medlab import plotting
from medlab.dicom.display import _frames, to_display
from medlab.widgets._display import WidgetDisplay

if TYPE_CHECKING:
    from pydicom import Dataset


class FrameViewer(WidgetDisplay):
    """Slider + Play over the frames of one object; frames are numbered from 1 as in DICOM."""

    def __init__(self, ds: Dataset, *, max_side: int = 320) -> None:
        import ipywidgets as w

        self.count = _frames(ds)
        self.frames = [plotting.shrink(to_display(ds, i), max_side) for i in range(self.count)]
        self.interval_ms = _frame_time(ds)
        self.figure = fig = plotting.figure(4.0, 3.0, layout=None)
        ax = fig.add_axes((0, 0, 1, 0.92))
        first = self.frames[0]
        kwargs: dict[str, Any] = {"cmap": "gray", "vmin": 0, "vmax": 1} if first.ndim == 2 else {}
        self.artist = ax.imshow(first, interpolation="nearest", **kwargs)
        ax.set_axis_off()
        self.title = ax.set_title("", fontsize=9)
        self.slider = w.IntSlider(
            value=1, min=1, max=self.count, description="Frame", continuous_update=True
        )
        self.play = w.Play(
            value=1, min=1, max=self.count, interval=self.interval_ms, description="Play cine"
        )
        w.jslink((self.play, "value"), (self.slider, "value"))
        self.image = w.Image(format="png", layout={"width": "400px"})
        self.status = w.HTML()
        self.status.add_class("medlab-frames-status")
        self.slider.observe(self._on_frame, names="value")
        self.widget = w.VBox([w.HBox([self.play, self.slider]), self.image, self.status])
        self.widget.add_class("medlab-frames")
        self.redraws = 0
        self.last_redraw_ms = 0.0
        self.redraw()

    def _on_frame(self, _change: Any = None) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Swap the artist's data for the current frame and send the new picture."""
        start = time.perf_counter()
        k = int(self.slider.value)
        self.artist.set_data(self.frames[k - 1])
        self.title.set_text(f"frame {k} of {self.count}")
        self.image.value = plotting.png_bytes(self.figure)
        self.redraws += 1
        self.last_redraw_ms = (time.perf_counter() - start) * 1000
        self.status.value = f"<span>frame {k}/{self.count} drawn</span>"

    def __repr__(self) -> str:
        return f"FrameViewer({self.count} frames, frame {self.slider.value}, every {self.interval_ms} ms)"


def _frame_time(ds: Dataset) -> int:
    """Milliseconds between frames: Frame Time, else 1000 / Cine Rate, else 100."""
    try:
        if ds.get("FrameTime"):
            return max(20, round(float(ds.FrameTime)))
        if ds.get("CineRate"):
            return max(20, round(1000 / float(ds.CineRate)))
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    return 100


def frames(ds: Dataset, *, max_side: int = 320) -> FrameViewer:
    """Return a frame slider with a cine Play button for a multi-frame ``ds``."""
    return FrameViewer(ds, max_side=max_side)
