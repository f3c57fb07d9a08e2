"""Toggle an image between "as stored" and "through its presentation state".

``gsps_toggle(image, pr)`` renders both views once (see
:func:`medlab.dicom.gsps.apply_presentation_state`) into one figure and a
toggle button only switches which artists are visible, then redraws the same
canvas into an ``ipywidgets.Image``. The image's Pixel Data is never changed:
:attr:`GSPSToggle.pixel_data_unchanged` compares it with the bytes it had
when the widget was created. Each redraw writes ``presentation state on
drawn`` (or ``off``) into :attr:`GSPSToggle.status`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from medlab import plotting
from medlab.dicom.gsps import apply_presentation_state, draw_presented
from medlab.widgets._display import WidgetDisplay

if TYPE_CHECKING:
    from pydicom import Dataset

OFF, ON = "original", "with presentation state"


class GSPSToggle(WidgetDisplay):
    """The widget object; ``toggle.value`` is ``"original"`` or ``"with presentation state"``."""

    def __init__(self, image: Dataset, pr: Dataset) -> None:
        import ipywidgets as w

        self.image_ds = image
        self._digest = hashlib.sha256(image.PixelData).hexdigest()
        self.plain = apply_presentation_state(image, None)
        self.presented = apply_presentation_state(image, pr)
        self.figure = fig = plotting.figure(4.0, 4.0, layout=None)
        ax = fig.add_axes((0, 0, 1, 0.93))
        self._artists = {
            OFF: draw_presented(ax, self.plain),
            ON: draw_presented(ax, self.presented),
        }
        self.title = ax.set_title("", fontsize=9)
        label = str(pr.get("ContentLabel", "GSPS"))
        self.toggle = w.ToggleButtons(
            options=[OFF, ON], value=OFF, description=label, style={"description_width": "initial"}
        )
        self.image = w.Image(format="png", layout={"width": "320px"})
        self.status = w.HTML()
        self.status.add_class("medlab-gsps-status")
        self.toggle.observe(lambda _change: self.redraw(), names="value")
        self.widget = w.VBox([self.toggle, self.image, self.status])
        self.widget.add_class("medlab-gsps-toggle")
        self.redraws = 0
        self.redraw()

    @property
    def applied(self) -> bool:
        return self.toggle.value == ON

    @property
    def pixel_data_unchanged(self) -> bool:
        """True while the image's Pixel Data still has the bytes it had at the start."""
        return hashlib.sha256(self.image_ds.PixelData).hexdigest() == self._digest

    def shown(self) -> Any:
        """The array on screen now (the presented one when the state is applied)."""
        return (self.presented if self.applied else self.plain).pixels

    def redraw(self) -> None:
        for key, artists in self._artists.items():
            for artist in artists:
                artist.set_visible(key == self.toggle.value)
        rows, cols = self.shown().shape[:2]
        ax = self.title.axes
        ax.set_xlim(-0.5, cols - 0.5)
        ax.set_ylim(rows - 0.5, -0.5)
        self.title.set_text(self.toggle.value)
        self.image.value = plotting.png_bytes(self.figure)
        self.redraws += 1
        self.status.value = (
            f"<span>presentation state {'on' if self.applied else 'off'} drawn</span>"
        )

    def __repr__(self) -> str:
        p = self.presented
        return (
            f"GSPSToggle(showing {self.toggle.value!r}; state: window {p.window}, "
            f"rotation {p.rotation}, flip {p.flip}, {len(p.annotations)} annotation(s))"
        )


def gsps_toggle(image: Dataset, pr: Dataset) -> GSPSToggle:
    """Return a widget that shows ``image`` with and without presentation state ``pr``."""
    return GSPSToggle(image, pr)
