"""Small figure helpers shared by the lessons' plots and widgets.

Figures are built with :class:`matplotlib.figure.Figure` on the Agg canvas,
not with ``pyplot``: no global state, nothing is shown twice, and a widget can
redraw the same figure into PNG bytes for an ``ipywidgets.Image`` (the classic
inline backend cannot update a figure already shown). Sizes respect the
course's notebook budget (at most 8 x 4 inches at 80 dpi).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

#: Resolution of every course figure (stored notebooks stay small).
DPI = 80


def figure(
    width: float = 6.0, height: float = 3.0, *, layout: str | None = "constrained"
) -> Figure:
    """A new Agg-backed figure (``width`` x ``height`` inches at :data:`DPI`).

    It shows itself in a notebook as a PNG (``_repr_png_``) even when
    ``pyplot`` was never imported, and is otherwise a normal matplotlib
    ``Figure`` (``fig.savefig("plot.png")`` works).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _course_figure_class()(
        figsize=(min(width, 8.0), min(height, 4.0)), dpi=DPI, layout=layout
    )
    FigureCanvasAgg(fig)
    return fig


_FIGURE_CLASS: Any = None


def _course_figure_class() -> Any:
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        from matplotlib.figure import Figure

        class CourseFigure(Figure):
            """A matplotlib Figure that renders itself as PNG in IPython."""

            def _repr_png_(self) -> bytes:
                out = io.BytesIO()
                self.savefig(out, format="png", dpi=DPI)
                return out.getvalue()

        _FIGURE_CLASS = CourseFigure
    return _FIGURE_CLASS


def png_bytes(fig: Figure, *, draw: bool = True) -> bytes:
    """Draw ``fig`` once and encode it as PNG (fast, low compression).

    ``draw=False`` encodes the canvas as it is, e.g. after blitting only the
    artists that changed (:class:`Blitter`).
    """
    from PIL import Image

    canvas = fig.canvas
    if draw:
        canvas.draw()
    rgba = canvas.buffer_rgba()
    image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="png", compress_level=1)
    return out.getvalue()


class Blitter:
    """Redraw only some artists of a figure over a cached background (Agg blitting).

    The figure is drawn once without the ``artists`` (marked animated); the
    pixels are kept. Each :meth:`draw` restores them and draws just the
    artists that change - axes, ticks and a histogram are not redrawn.
    """

    def __init__(self, fig: Figure, artists: Sequence[Any]) -> None:
        self.figure = fig
        self.artists = list(artists)
        for artist in self.artists:
            artist.set_animated(True)
        self._background: Any = None

    def draw(self) -> bytes:
        """Blit the changing artists and return the figure as PNG bytes."""
        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw()  # everything but the animated artists
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        canvas.restore_region(self._background)
        for artist in self.artists:
            artist.axes.draw_artist(artist)
        return png_bytes(self.figure, draw=False)


def shrink(img: np.ndarray, max_side: int = 512) -> np.ndarray:
    """Every n-th pixel so that no side exceeds ``max_side`` (display only, never analysis)."""
    step = max(1, -(-max(img.shape[:2]) // max_side))
    return img[::step, ::step]


def show_images(
    images: Sequence[np.ndarray],
    titles: Sequence[str] = (),
    *,
    width: float = 8.0,
    height: float = 3.0,
    cmap: str = "gray",
    max_side: int = 384,
) -> Figure:
    """Images side by side, titled, without axes ticks.

    Grey arrays are shown with ``vmin=0, vmax=1`` (what
    :func:`medlab.dicom.to_display` returns); RGB arrays as they are. Large
    images are thinned to ``max_side`` pixels for display.
    """
    fig = figure(width, height)
    axes = fig.subplots(1, len(images), squeeze=False)[0]
    for i, (ax, img) in enumerate(zip(axes, images, strict=True)):
        small = shrink(img, max_side)
        kwargs: dict[str, Any] = {"cmap": cmap, "vmin": 0, "vmax": 1} if small.ndim == 2 else {}
        ax.imshow(small, interpolation="nearest", **kwargs)
        ax.set_axis_off()
        if i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    return fig
