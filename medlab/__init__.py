"""medlab: the scaffolding behind a hands-on DICOM and HL7 course.

The lessons teach pydicom, pynetdicom and hl7apy directly; medlab supplies what
would clutter a notebook cell: sample data, widgets, a local PACS, an HL7
listener and exercise checks.

``import medlab`` stays light: each room (``medlab.dicom``, ``medlab.net``,
``medlab.hl7``, ``medlab.widgets``, ``medlab.data``, ``medlab.check``) is
imported on first use, so a notebook pays only for what it touches. Every package
of medlab does this the same way: a ``_EXPORTS`` table (name -> module), a module
``__getattr__`` (PEP 562) that imports on first use and keeps the value, and a
``TYPE_CHECKING`` block that shows the names to IDEs and type checkers.
"""

# ruff: noqa: F401 - the TYPE_CHECKING imports are for IDEs; __all__ is built from _EXPORTS

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError

__version__ = "0.1.0"

#: public name -> module that defines it (a name that is the module itself maps to it)
_EXPORTS: dict[str, str] = {
    "check": "medlab.check",
    "cli": "medlab.cli",
    "data": "medlab.data",
    "dicom": "medlab.dicom",
    "hl7": "medlab.hl7",
    "net": "medlab.net",
    "paths": "medlab.paths",
    "widgets": "medlab.widgets",
    "doctor": "medlab.health",
    "progress": "medlab.check._view",
}

__all__ = ["MedlabError", "__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from medlab import check, cli, data, dicom, hl7, net, paths, widgets
    from medlab.check._view import progress
    from medlab.health import doctor


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use, and keep the value."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | {n for n in globals() if not n.startswith("_")})
