"""medlab's networking room: a small real PACS built on pynetdicom.

``from medlab.net import PACS`` is cheap: pynetdicom is imported only when a
PACS is created (module ``__getattr__``), so ``import medlab`` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "PACS", "PACSConfig", "Recorder", "compatible", "events_text", "explain", "sequence_diagram",
    "side_by_side", "start_pacs", "transcript",
]

#: Implementation Class UID written into files and A-ASSOCIATE-RQ/AC (PS3.7 D.3.3.2).
#: Under the 2.25 (UUID-derived) root, so it needs no registered organisation root.
IMPLEMENTATION_CLASS_UID = "2.25.186240651473926584418209406131117213549"
IMPLEMENTATION_VERSION = "MEDLAB_PACS_01"

_LAZY = {
    "PACS": ("medlab.net.server", "PACS"),
    "PACSConfig": ("medlab.net.config", "PACSConfig"),
    "events_text": ("medlab.net.events", "events_text"),
    "sequence_diagram": ("medlab.net.diagram", "sequence_diagram"),
    "side_by_side": ("medlab.net.diagram", "side_by_side"),
    "transcript": ("medlab.net.diagram", "transcript"),
    "explain": ("medlab.net.explain", "explain"),
    "compatible": ("medlab.net.compat", "compatible"),
    "Recorder": ("medlab.net.scu", "Recorder"),
    "start_pacs": ("medlab.net.scu", "start_pacs"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'medlab.net' has no attribute {name!r}")
