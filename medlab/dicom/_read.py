"""Reading DICOM safely: bad input becomes one :class:`~medlab.MedlabError`.

:func:`load` and :func:`read` first walk the bytes with :func:`~medlab.dicom._scan.scan`, then
let pydicom read them; :func:`dataset_errors` words what goes wrong later, in a function of
a data set, for the trainee.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from medlab.dicom._layout import Layout, tag_text
from medlab.dicom._scan import scan
from medlab.errors import MedlabError

if TYPE_CHECKING:
    from pydicom import Dataset


@dataclass
class Loaded:
    """A file read both ways: its bytes' layout and pydicom's data set."""

    name: str
    data: bytes
    layout: Layout
    dataset: Dataset


def _source_bytes(src: Any) -> tuple[bytes, str]:
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src), "the bytes given"
    if isinstance(src, (str, Path)):
        path = Path(src)
        name = path.name
        if not path.exists():
            raise MedlabError(
                f"There is no file {name!r}",
                where=str(path),
                fix="Check the spelling and the folder; medlab.data.get_path('ct') gives a real sample.",
            )
        if path.is_dir():
            raise MedlabError(
                f"{name!r} is a folder, not a file",
                where=str(path),
                fix="Pass one .dcm file (or use medlab.dicom.hierarchy() for a whole folder).",
            )
        try:
            return path.read_bytes(), name
        except OSError as exc:
            raise MedlabError(
                f"{name!r} cannot be read: {exc.strerror}",
                where=str(path),
                fix="Check its permissions.",
            ) from None
    raise MedlabError(
        f"Expected a path, bytes or a pydicom Dataset, got {type(src).__name__}",
        fix="Pass a file path such as medlab.data.get_path('mr').",
    )


def load(src: Any, *, force: bool = False, strict: bool = True) -> Loaded:
    """Scan and read ``src`` (path or bytes); raise :class:`MedlabError` on bad input.

    With ``strict=False`` a structural problem is kept in ``layout.problem``
    instead of raised (the hex view then shows where the bytes stop making sense).
    """
    data, name = _source_bytes(src)
    layout = scan(data, force=force, name=name)
    if layout.problem is not None and strict:
        raise layout.problem
    dataset = _dcmread(data, force=force, name=name)
    return Loaded(name, data, layout, dataset)


def _dcmread(data: bytes, *, force: bool, name: str) -> Dataset:
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # tolerated oddities; scan() already judged the structure
            ds = pydicom.dcmread(io.BytesIO(data), force=force)
            # pydicom converts values lazily and warns about odd ones on first access:
            # convert everything now, while its warnings are silenced.
            for _ in ds.iterall():
                pass
            for _ in getattr(ds, "file_meta", None) or ():  # group 0002 too
                pass
            return ds
    except Exception as exc:  # pydicom's own errors, worded for a trainee
        raise MedlabError(
            f"pydicom could not read {name}: {exc}".rstrip(". "),
            where=name,
            fix="Check that this is a DICOM file; try medlab.dicom.hexview() on it to see its bytes.",
        ) from None


def read(src: Any, *, force: bool = False) -> Dataset:
    """Read a DICOM file with pydicom, or raise one clear :class:`MedlabError`.

    Parameters
    ----------
    src:
        A path, the file's bytes, or a ``pydicom.Dataset`` (returned unchanged).
    force:
        Read bytes without preamble/File Meta Information as a bare data set
        (as ``pydicom.dcmread(force=True)``).

    A missing path, a folder, an empty file, a non-DICOM file and a truncated
    file each give a message saying what is wrong, at which byte, and what to try.
    """
    from pydicom import Dataset

    if isinstance(src, Dataset):
        return src
    return load(src, force=force).dataset


# --------------------------------------------------------------------------- data sets
F = TypeVar("F", bound=Callable[..., Any])

_NO_ATTRIBUTE = re.compile(r"object has no attribute '(\w+)'")


def dataset_name(ds: Any) -> str:
    """How to name a data set in a message: its file name, else "the data set"."""
    try:
        name = getattr(ds, "filename", None)
    except Exception:  # noqa: BLE001 - a broken data set must not break its own error message
        name = None
    return Path(name).name if isinstance(name, (str, Path)) and str(name) else "the data set"


def explain(exc: Exception, *, action: str, where: str, fix: str) -> MedlabError:
    """Turn what pydicom (or a library reading a data set) raised into one MedlabError.

    A missing attribute is named with its tag; a value pydicom cannot decode
    (an unknown VR, a length that does not fit the VR, a cut deflated stream)
    is said to be damaged; anything else keeps the library's own words.
    """
    import zlib

    text = str(exc).strip() or type(exc).__name__
    missing = _NO_ATTRIBUTE.search(text) if isinstance(exc, AttributeError) else None
    if missing:
        from pydicom.datadict import tag_for_keyword

        keyword = missing.group(1)
        tag = tag_for_keyword(keyword)
        if tag is not None:
            return MedlabError(
                f"Cannot {action}: the data set has no {keyword} {tag_text(tag)}",
                where=where,
                fix=fix,
            )
    if isinstance(exc, zlib.error):
        what = f"Cannot {action}: the deflated data set is cut short or damaged ({text})"
    elif type(exc).__name__ == "BytesLengthException" or "Value Representation" in text:
        what = f"Cannot {action}: a value in the data set cannot be decoded ({text})"
    else:
        what = f"Cannot {action} ({type(exc).__name__}: {text})"
    return MedlabError(what, where=where, fix=fix)


def dataset_errors(action: str, fix: str) -> Callable[[F], F]:
    """Decorator for a function of a data set: whatever goes wrong is one MedlabError.

    A data set read with ``force=True``, or from a damaged file, can lack what
    the function needs or hold values pydicom cannot decode; the trainee gets
    "Cannot <action>: ..." with the data set's name and ``fix``, never a
    traceback from inside pydicom or highdicom. MedlabErrors pass unchanged.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except MedlabError:
                raise
            except Exception as exc:  # noqa: BLE001 - worded for the trainee below
                where = dataset_name(args[0]) if args else "the data set"
                raise explain(exc, action=action, where=where, fix=fix) from None

        return wrapper  # type: ignore[return-value]

    return decorate
