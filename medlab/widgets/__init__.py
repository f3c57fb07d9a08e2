"""Interactive widgets for the lessons (ipywidgets), imported on first use.

Each widget is also a plain object with a deterministic ``__repr__``, and its
callbacks only change traits (HTML values), so the notebooks stay comparable by
nbval and the unit tests can drive the widgets without a browser.
To add a widget, add one line to ``_EXPORTS``: ``"Name": "medlab.widgets.module"``.
"""

from __future__ import annotations

from medlab._lazy import install

_EXPORTS: dict[str, str] = {
    "Hexplorer": "medlab.widgets.hexplorer",
    "TagBrowser": "medlab.widgets.tag_browser",
    "window_level": "medlab.widgets.window_level",
    "WindowLevel": "medlab.widgets.window_level",
    "frames": "medlab.widgets.frames",
    "FrameViewer": "medlab.widgets.frames",
    "gsps_toggle": "medlab.widgets.gsps_toggle",
    "GSPSToggle": "medlab.widgets.gsps_toggle",
    "negotiation": "medlab.widgets.negotiation",
    "Negotiation": "medlab.widgets.negotiation",
    "query_builder": "medlab.widgets.query_builder",
    "QueryBuilder": "medlab.widgets.query_builder",
    "compat_editor": "medlab.widgets.compat_editor",
    "CompatEditor": "medlab.widgets.compat_editor",
    "HL7Explorer": "medlab.widgets.hl7_explorer",
    "FHIRExplorer": "medlab.widgets.fhir_explorer",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = install(__name__, _EXPORTS)
