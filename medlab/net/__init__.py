"""medlab's networking room: a small real PACS built on pynetdicom.

``from medlab.net import PACS`` is cheap: names are exported lazily (PEP 562),
so pynetdicom is imported only when a PACS is created and ``import medlab``
stays light. The layout (server side, client side, shared records) is mapped
in CONTRIBUTING.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medlab.net.compat import compatible
    from medlab.net.config import PACSConfig
    from medlab.net.diagram import sequence_diagram, side_by_side, transcript
    from medlab.net.events import events_text
    from medlab.net.explanations import explain
    from medlab.net.recording import Recorder
    from medlab.net.scu.targets import start_pacs
    from medlab.net.server import PACS

__all__ = [
    "PACS",
    "PACSConfig",
    "Recorder",
    "compatible",
    "events_text",
    "explain",
    "sequence_diagram",
    "side_by_side",
    "start_pacs",
    "transcript",
]

#: Implementation Class UID written into files and A-ASSOCIATE-RQ/AC (PS3.7 D.3.3.2).
#: Under the 2.25 (UUID-derived) root, so it needs no registered organisation root.
IMPLEMENTATION_CLASS_UID = "2.25.186240651473926584418209406131117213549"
IMPLEMENTATION_VERSION = "MEDLAB_PACS_01"

#: Exported name -> the module that defines it. No submodule is named like an
#: exported name (``explain`` lives in ``explanations``), so importing a submodule
#: never replaces an exported function with a module.
_EXPORTS: dict[str, str] = {
    "PACS": "medlab.net.server",
    "PACSConfig": "medlab.net.config",
    "Recorder": "medlab.net.recording",
    "compatible": "medlab.net.compat",
    "events_text": "medlab.net.events",
    "explain": "medlab.net.explanations",
    "sequence_diagram": "medlab.net.diagram",
    "side_by_side": "medlab.net.diagram",
    "start_pacs": "medlab.net.scu.targets",
    "transcript": "medlab.net.diagram",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, "IMPLEMENTATION_CLASS_UID", "IMPLEMENTATION_VERSION"})
