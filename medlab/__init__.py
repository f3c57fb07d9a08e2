"""medlab: the scaffolding behind a hands-on DICOM and HL7 course.

The lessons teach pydicom, pynetdicom and hl7apy directly; medlab supplies what
would clutter a notebook cell: sample data, widgets, a local PACS, an HL7
listener and exercise checks.

``import medlab`` stays light: each room (``medlab.dicom``, ``medlab.net``,
``medlab.hl7``, ``medlab.widgets``, ``medlab.data``, ``medlab.check``) is
imported on first use, so a notebook pays only for what it touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError

__version__ = "0.1.0"

_SUBMODULES = ("check", "data", "dicom", "hl7", "net", "widgets", "paths", "cli")
_FUNCTIONS = {"doctor": "medlab.health", "progress": "medlab.check._view"}

__all__ = ["MedlabError", "__version__", "doctor", "progress", *_SUBMODULES]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from medlab import check, data, dicom, hl7, net, paths, widgets  # noqa: F401


def __getattr__(name: str) -> Any:
    """Import a room of medlab (or a top-level helper) on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f"medlab.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'medlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
