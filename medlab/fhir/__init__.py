"""HL7 v2 to FHIR R4: the capstone's messages and study as FHIR resources (lesson 17).

* :func:`from_v2` - a v2 message (text or :func:`medlab.hl7.parse`'s result) to the
  ``fhir.resources`` objects it maps to, after HL7's V2-to-FHIR implementation guide,
  with what was dropped (:mod:`medlab.fhir.v2`);
* :func:`imaging_study` - a study of the PACS as an ImagingStudy (:mod:`medlab.fhir.imaging`);
* :func:`bundle` - a transaction Bundle of them (:mod:`medlab.fhir.bundle`).

Resources are FHIR R4, what the IG is written for (4.0.1) and what most hospitals run,
built and validated with ``fhir.resources.R4B`` (FHIR 4.3, the R4-family release that
library ships; it has no 4.0.1 package). Imported on first use:
``import medlab.fhir`` does not import fhir.resources.
"""

from __future__ import annotations

from medlab._lazy import install

_EXPORTS: dict[str, str] = {
    "from_v2": "medlab.fhir.v2",
    "Mapping": "medlab.fhir.v2",
    "SUPPORTED": "medlab.fhir.v2",
    "Dropped": "medlab.fhir._reader",
    "imaging_study": "medlab.fhir.imaging",
    "bundle": "medlab.fhir.bundle",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = install(__name__, _EXPORTS)
