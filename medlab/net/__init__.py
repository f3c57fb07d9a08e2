"""medlab's networking room: a small real PACS built on pynetdicom.

``from medlab.net import PACS`` is cheap: pynetdicom is imported only when a
PACS is created (lazy exports, see :mod:`medlab._lazy`), so ``import medlab`` stays light.
"""

from __future__ import annotations

from medlab._lazy import install

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

_EXPORTS: dict[str, str] = {
    "PACS": "medlab.net.server",
    "PACSConfig": "medlab.net.config",
    "events_text": "medlab.net.events",
    "sequence_diagram": "medlab.net.diagram",
    "side_by_side": "medlab.net.diagram",
    "transcript": "medlab.net.diagram",
    "explain": "medlab.net.explain",
    "compatible": "medlab.net.compat",
    "Recorder": "medlab.net.scu",
    "start_pacs": "medlab.net.scu",
}

# Lazy, and `medlab.net.explain` stays the function even after its same-named
# submodule is imported (see medlab._lazy).
__getattr__, __dir__ = install(__name__, _EXPORTS)
