"""The one exception type medlab raises for a trainee's mistake or bad input.

A :class:`MedlabError` says *what* is wrong, *where* (a file and byte offset, a
segment and field, a host and port) and *what to try*. In a notebook it is
shown as that short message, without the long traceback, so a trainee reads
the explanation instead of library internals.
"""

from __future__ import annotations


class MedlabError(Exception):
    """A problem a trainee can understand and fix.

    Parameters
    ----------
    what:
        One sentence: what went wrong.
    where:
        Where it happened, e.g. ``"byte 132 of scan.dcm"`` or ``"PID-5"``.
    fix:
        What to try next.

    Examples
    --------
    >>> err = MedlabError("Not a DICOM file", where="notes.txt", fix="Check the path.")
    >>> print(err)
    Not a DICOM file (at notes.txt). Check the path.
    """

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self._text())

    def _text(self) -> str:
        text = self.what.rstrip(".")
        if self.where:
            text += f" (at {self.where})"
        text += "."
        if self.fix:
            text += f" {self.fix}"
        return text

    def _render_traceback_(self) -> list[str]:
        """IPython hook: show only the message, never a deep traceback."""
        return [f"{type(self).__name__}: {self}"]
