"""DICOMweb (PS3.18): QIDO-RS, WADO-RS and STOW-RS over the PACS's store.

``from medlab.net.dicomweb import DicomWebServer`` imports tornado only when a
server is created, so ``import medlab`` stays light.
"""

# ruff: noqa: F401 - the TYPE_CHECKING import is for IDEs; __all__ is built from _EXPORTS

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {"DicomWebServer": "medlab.net.dicomweb.server"}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from medlab.net.dicomweb.server import DicomWebServer


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
