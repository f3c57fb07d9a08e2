"""Interactive widgets for the lessons (ipywidgets), imported on first use.

Each widget is also a plain object with a deterministic ``__repr__``, and its
callbacks only change traits (HTML values), so the notebooks stay comparable by
nbval and the unit tests can drive the widgets without a browser.

Names are imported on first use through a module ``__getattr__`` (PEP 562). To add a widget,
add one line to ``_EXPORTS`` (``"Name": "medlab.widgets.module"``) and one to the
``TYPE_CHECKING`` block. A module is never named like a name it exports (``window_level`` lives
in ``windowing.py``): Python binds an imported submodule over the package attribute of that name.
"""

# ruff: noqa: F401 - the TYPE_CHECKING imports are for IDEs; __all__ is built from _EXPORTS

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Hexplorer": "medlab.widgets.hexplorer",
    "TagBrowser": "medlab.widgets.tag_browser",
    "window_level": "medlab.widgets.windowing",
    "WindowLevel": "medlab.widgets.windowing",
    "frames": "medlab.widgets.cine",
    "FrameViewer": "medlab.widgets.cine",
    "gsps_toggle": "medlab.widgets.presentation",
    "GSPSToggle": "medlab.widgets.presentation",
    "negotiation": "medlab.widgets.association",
    "Negotiation": "medlab.widgets.association",
    "query_builder": "medlab.widgets.query_form",
    "QueryBuilder": "medlab.widgets.query_form",
    "compat_editor": "medlab.widgets.compatibility",
    "CompatEditor": "medlab.widgets.compatibility",
    "HL7Explorer": "medlab.widgets.hl7_explorer",
    "FHIRExplorer": "medlab.widgets.fhir_explorer",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from medlab.widgets.association import Negotiation, negotiation
    from medlab.widgets.cine import FrameViewer, frames
    from medlab.widgets.compatibility import CompatEditor, compat_editor
    from medlab.widgets.fhir_explorer import FHIRExplorer
    from medlab.widgets.hexplorer import Hexplorer
    from medlab.widgets.hl7_explorer import HL7Explorer
    from medlab.widgets.presentation import GSPSToggle, gsps_toggle
    from medlab.widgets.query_form import QueryBuilder, query_builder
    from medlab.widgets.tag_browser import TagBrowser
    from medlab.widgets.windowing import WindowLevel, window_level


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use, and keep the value."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | {n for n in globals() if not n.startswith("_")})
