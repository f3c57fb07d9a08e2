"""HL7 v2 to FHIR R4: the capstone's messages and study as FHIR resources (lesson 17).

* :func:`from_v2` - a v2 message (text or :func:`medlab.hl7.parse`'s result) to the
  ``fhir.resources`` objects it maps to, after HL7's V2-to-FHIR implementation guide,
  with what was dropped (:mod:`medlab.fhir.v2`);
* :func:`imaging_study` - a study of the PACS as an ImagingStudy (:mod:`medlab.fhir.imaging`);
* :func:`bundle` - a transaction Bundle of them (:mod:`medlab.fhir.transaction`).

Resources are FHIR R4, what the IG is written for (4.0.1) and what most hospitals run,
built and validated with ``fhir.resources.R4B`` (FHIR 4.3, the R4-family release that
library ships; it has no 4.0.1 package). Imported on first use:
``import medlab.fhir`` does not import fhir.resources.
"""

# ruff: noqa: F401 - the TYPE_CHECKING imports are for IDEs; __all__ is built from _EXPORTS

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "from_v2": "medlab.fhir.v2",
    "Mapping": "medlab.fhir.v2",
    "SUPPORTED": "medlab.fhir.v2",
    "Dropped": "medlab.fhir._reader",
    "imaging_study": "medlab.fhir.imaging",
    "bundle": "medlab.fhir.transaction",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from medlab.fhir._reader import Dropped
    from medlab.fhir.imaging import imaging_study
    from medlab.fhir.transaction import bundle
    from medlab.fhir.v2 import SUPPORTED, Mapping, from_v2


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
