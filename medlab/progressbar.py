"""One progress display for every long operation of medlab.

Domain code (a folder census, a C-STORE of many files) knows no screen: it wraps
its loop in :func:`progress_bar` and this module decides how to show it. In a
Jupyter kernel with ipywidgets the trainee sees an ``IntProgress`` bar; anywhere
else (a terminal, a test, a script) one ``\\r``-updated line on stderr. Updates are
throttled to about a hundred per run, so the display never slows the work down.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

#: about this many display updates per run, whatever the number of items
UPDATES = 100


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not a terminal IPython, not plain Python)."""
    if "IPython" not in sys.modules:
        return False  # a kernel always has IPython loaded; a script never pays for importing it
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def progress_bar(
    iterable: Iterable[T], total: int | None = None, description: str = ""
) -> Iterator[T]:
    """Yield the items of ``iterable`` while showing how many have been handled.

    Parameters
    ----------
    iterable:
        The items to go through.
    total:
        How many there are; by default ``len(iterable)`` when it has a length.
    description:
        A word for what is being done (``"census"``, ``"C-STORE"``).

    The bar stays on screen at the end with its final count, so a trainee sees that
    the operation finished (and how far it got, if it stopped on an error).
    """
    if total is None:
        total = len(iterable) if hasattr(iterable, "__len__") else None  # type: ignore[arg-type]
    show = _Widget(total, description) if in_notebook() else _Line(total, description)
    step = max(1, (total or 0) // UPDATES)
    done = 0  # items handled: counted when the caller comes back for the next one
    try:
        for item in iterable:
            yield item
            done += 1
            if done % step == 0:
                show.update(done)
    finally:
        show.finish(done)


class _Line:
    """``description n/total`` on one stderr line, rewritten in place."""

    def __init__(self, total: int | None, description: str) -> None:
        self.total, self.description = total, description

    def update(self, n: int) -> None:
        of = f"/{self.total}" if self.total is not None else ""
        sys.stderr.write(f"\r{self.description} {n}{of}")

    def finish(self, n: int) -> None:
        self.update(n)
        sys.stderr.write("\n")


class _Widget:
    """An ipywidgets ``IntProgress`` displayed in the cell's output."""

    def __init__(self, total: int | None, description: str) -> None:
        import ipywidgets
        from IPython.display import display

        self.bar: Any = ipywidgets.IntProgress(
            value=0, min=0, max=total or 1, description=description
        )
        display(self.bar)

    def update(self, n: int) -> None:
        if n > self.bar.max:
            self.bar.max = n
        self.bar.value = n

    def finish(self, n: int) -> None:
        self.update(n)
        self.bar.bar_style = "success" if n >= self.bar.max else "warning"
