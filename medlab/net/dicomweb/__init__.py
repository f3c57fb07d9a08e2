"""DICOMweb (PS3.18): QIDO-RS, WADO-RS and STOW-RS over the PACS's store.

``from medlab.net.dicomweb import DicomWebServer`` imports tornado only when a
server is created, so ``import medlab`` stays light.
"""

from __future__ import annotations

from medlab._lazy import install

__all__ = ["DicomWebServer"]

_EXPORTS: dict[str, str] = {"DicomWebServer": "medlab.net.dicomweb.server"}

__getattr__, __dir__ = install(__name__, _EXPORTS)
