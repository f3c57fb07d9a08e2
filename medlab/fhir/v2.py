"""HL7 v2 messages to FHIR R4 resources, after HL7's V2-to-FHIR implementation guide.

The maps followed are the IG's concept maps (HL7 Version 2 to FHIR, v1.0.0,
built on FHIR 4.0.1; https://build.fhir.org/ig/HL7/v2-to-fhir/), by name:

* messages: *Message ADT_A01 to Bundle* (also used for A04 and A08, which share
  the ADT_A01 structure), *Message ORM_O01 to Bundle*, *Message ORU_R01 to
  Bundle*; OMI^O23 has no message map in the IG, so its segments go through
  the same segment maps (and IPC, which has none, as listed below);
* segments: *Segment PID to Patient*, *Segment PV1 to Encounter*, *Segment ORC
  to ServiceRequest*, *Segment OBR to ServiceRequest*, *Segment OBR to
  DiagnosticReport*, *Segment OBX to Observation*;
* data types: *CX to Identifier*, *XPN to HumanName*, *XAD to Address*, *XTN
  to ContactPoint*, *CWE to CodeableConcept*, *EIP[PlacerAssignedIdentifier]*
  and *EIP[FillerAssignedIdentifier] to Identifier*, *TQ to ServiceRequest*;
* vocabulary: *Table HL70001 to Administrative Gender*, *HL70002 to V3
  MaritalStatus*, *HL70004 to V3 ActCode* and *to Encounter Status*,
  *HL70085 to Observation Status*, *HL70119 to Request Status*,
  *HL70123[Queries] to Diagnostic Report Status*, *HL70190 to Address Use*,
  *HL70200 to Name Use*, *HL70201 to Contact Point Use*, *HL70202 to Contact
  Point System*, *HL70485 to Request Priority*.

What the IG leaves to local agreement is decided here and said so:

* the accession number (OBR-18 in IHE's ORM, IPC-1 in an OMI) becomes a
  ServiceRequest identifier of type ``ACSN`` (the IG does not map OBR-18);
* an OBX of type HD carrying the Study Instance UID (code ``113014`` "Study",
  DCM, as IHE reports do) links ``DiagnosticReport.imagingStudy`` instead of
  making an Observation;
* ORC-5 (order status, "unspecified" in the IG) sets ServiceRequest.status;
* a time of day with no UTC offset: FHIR requires a zone with any time, v2 does
  not, so ``timezone=`` supplies it; without it only the date is kept (and the
  time is listed as dropped).

Resources reference each other by ``urn:uuid:`` ids derived from their v2
identifiers (the same patient or order gets the same id from every message),
which is what a transaction Bundle (:func:`medlab.fhir.bundle`, in :mod:`medlab.fhir.transaction`) needs.
Everything a map did not carry (MSH, EVN, set IDs, Z-segments, fields FHIR has
no element for...) is listed in :attr:`Mapping.dropped`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from medlab.errors import MedlabError
from medlab.fhir._datatypes import _Builder
from medlab.fhir._reader import Dropped, Reader
from medlab.fhir._segments import _encounter, _observations, _patient, _report, _service_request

#: What the maps used here leave out, segment by segment (listed as dropped).
SEGMENT_REASONS = {
    "MSH": "maps to MessageHeader and Provenance of a message Bundle; a transaction Bundle "
    "has neither (Message ..._to Bundle maps)",
    "EVN": "maps to Provenance (Message ADT_A01 to Bundle), not produced here",
    "ZDS": "Z-segment: site-defined, no IG map (the ImagingStudy carries the Study Instance UID)",
    "AL1": "maps to AllergyIntolerance (Segment AL1), not produced here",
    "IPC": "no IG map; IPC-1 (accession) is carried by local agreement",
}

#: message code^trigger -> what it maps to (the message maps of the IG this module follows)
SUPPORTED = {
    ("ADT", "A01"): "Patient, Encounter",
    ("ADT", "A04"): "Patient, Encounter",
    ("ADT", "A08"): "Patient, Encounter",
    ("ORM", "O01"): "Patient, Encounter, ServiceRequest",
    ("OMI", "O23"): "Patient, Encounter, ServiceRequest",
    ("ORU", "R01"): "Patient, ServiceRequest, DiagnosticReport, Observation",
}


class Mapping(list):
    """The resources one message maps to (a list), with what was dropped and where each field went.

    Attributes
    ----------
    message_type:
        MSH-9 as ``"ADT^A04"``.
    dropped:
        Every valued v2 position no map carried, with the reason (:class:`Dropped`).
    links:
        ``{"PID-5": [(0, "name")], ...}``: each v2 field and the elements (resource
        index in this list, top-level element name) it filled.
    """

    def __init__(
        self,
        resources: list[Any],
        message_type: str,
        dropped: list[Dropped],
        links: dict[str, list[tuple[int, str]]],
        text: str,
    ) -> None:
        super().__init__(resources)
        self.message_type = message_type
        self.dropped = dropped
        self.links = links
        self.text = text

    def __repr__(self) -> str:
        kinds = ", ".join(f"{r.__resource_type__}/{r.id[:8]}" for r in self)
        return (
            f"<{self.message_type} -> {len(self)} resources: {kinds}; "
            f"{len(self.dropped)} value(s) dropped>"
        )

    def dropped_report(self) -> str:
        """What the mapping did not carry, one line each."""
        return "\n".join(str(d) for d in self.dropped)


# --------------------------------------------------------------------------- messages
def from_v2(message: Any, *, timezone: str | None = None) -> Mapping:
    """Map one v2 message to validated ``fhir.resources`` objects (a :class:`Mapping`).

    The objects are ``fhir.resources.R4B`` models (FHIR 4.3, the R4-family release the
    library ships); only elements and types that FHIR R4 (4.0.1, the IG's target) also
    has are produced.

    ``message`` is text or what :func:`medlab.hl7.parse` returns. Mapped:
    ADT^A01/A04/A08 (Patient, Encounter), ORM^O01 and OMI^O23 (Patient,
    Encounter, ServiceRequest), ORU^R01 (Patient, ServiceRequest,
    DiagnosticReport, Observations). ``timezone`` (``"-04:00"``) is the UTC
    offset to assume for times the message sends without one.

    Raises
    ------
    MedlabError
        For a message type with no map, a field a required element cannot do
        without, or a value no map translates; the error names the segment
        and field (``PID-8``, ``OBR-25``...).
    """
    if not isinstance(message, (str, bytes)) and not hasattr(message, "to_er7"):
        raise MedlabError(
            f"from_v2 takes an HL7 v2 message, not {type(message).__name__}",
            where="message",
            fix="Pass the message text or what medlab.hl7.parse returns.",
        )
    reader = Reader(message)
    code, trigger = reader.values.get("MSH-9.1", ""), reader.values.get("MSH-9.2", "")
    mtype = f"{code}^{trigger}"
    if (code, trigger) not in SUPPORTED:
        known = ", ".join(f"{c}^{t}" for c, t in SUPPORTED)
        raise MedlabError(
            f"There is no map for {mtype} messages here",
            where="MSH-9",
            fix=f"medlab.fhir maps {known}. The V2-to-FHIR IG has maps for more ADT events; "
            "acknowledgements and queries are not data to store as resources.",
        )
    if timezone is not None and not re.fullmatch(r"[+-]\d{2}:?\d{2}|Z", timezone):
        raise MedlabError(
            f"timezone={timezone!r} is not a UTC offset",
            where="timezone",
            fix="Give an offset such as '-04:00' or '+01:00'.",
        )
    b = _Builder(reader, "+00:00" if timezone == "Z" else timezone)
    patient = _patient(b)
    encounter = _encounter(b, patient) if code != "ORU" else None
    if code in ("ORM", "OMI", "ORU"):
        orcs, obrs = reader.all("ORC"), reader.all("OBR")
        if not obrs:
            reader.require("OBR-4", "observation request", "an order or result needs its OBR")
        for n, obr in enumerate(obrs):
            orc = orcs[n] if n < len(orcs) else (orcs[0] if orcs else obr)
            order = _service_request(b, patient, encounter, orc, obr)
            if code == "ORU":
                report = _report(b, patient, order, obr)
                _observations(b, patient, report)
    return Mapping(
        [_validate(res, b.origin[i]) for i, res in enumerate(b.resources)],
        mtype,
        reader.dropped(SEGMENT_REASONS),
        reader.links,
        _text(message),
    )


def _text(message: Any) -> str:
    from medlab.hl7 import er7

    return er7(message)


_MODELS: dict[str, Callable[..., Any]] = {}


def model(resource_type: str) -> Any:
    """The ``fhir.resources`` R4B class of a resource type (``"Patient"``)."""
    if resource_type not in _MODELS:
        from fhir.resources.R4B import get_fhir_model_class

        _MODELS[resource_type] = get_fhir_model_class(resource_type)
    return _MODELS[resource_type]


def _validate(resource: dict[str, Any], segment: str) -> Any:
    from pydantic import ValidationError

    try:
        return model(resource["resourceType"]).model_validate(resource)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise MedlabError(
            f"The {resource['resourceType']} mapped from {segment} is not valid FHIR: "
            f"{where}: {first['msg']}",
            where=segment,
            fix="Check the fields of that segment against their HL7 data types.",
        ) from None
