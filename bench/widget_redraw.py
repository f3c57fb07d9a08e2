"""How fast does the window/level widget redraw a 512 x 512 CT?

Prints, side by side from the same run:

* the median time of one widget redraw (``set_clim`` on the existing image
  artist, move the histogram span, draw the same Agg canvas, encode PNG);
* the median time of a bare ``imshow`` of the same array: a new figure, one
  ``imshow``, draw, encode PNG - what a "rebuild the figure every time"
  callback would at least cost;
* their ratio (redraw / bare imshow).

Run: ``.venv/bin/python bench/widget_redraw.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import medlab.data
    from medlab import plotting
    from medlab.widgets.windowing import window_level

    ds = medlab.data.dataset("ct_512")
    widget = window_level(ds)
    centers = [40 + 10 * (i % 20) for i in range(args.repeat)]
    redraw = []
    for i, center in enumerate(centers):
        widget.set_window(center, 400 + 2 * (i % 2))
        redraw.append(widget.last_redraw_ms)

    bare = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        fig = plotting.figure(7.5, 3.4, layout=None)
        ax = fig.add_axes((0.01, 0.04, 0.44, 0.90))
        ax.imshow(widget.values, cmap="gray", vmin=-160, vmax=240, interpolation="nearest")
        ax.set_axis_off()
        plotting.png_bytes(fig)
        bare.append((time.perf_counter() - start) * 1000)

    r, b = statistics.median(redraw), statistics.median(bare)
    print(
        f"array: {widget.values.shape[0]}x{widget.values.shape[1]} CT, {args.repeat} redraws each"
    )
    print(f"widget redraw (median):     {r:7.1f} ms")
    print(f"bare imshow + PNG (median): {b:7.1f} ms")
    print(f"ratio redraw / bare:        {r / b:7.2f}")


if __name__ == "__main__":
    main()
