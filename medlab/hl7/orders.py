"""From an HL7 imaging order to a DICOM Modality Worklist item.

In a radiology department the order placer (the hospital system) sends an
order, ORM^O01 (up to v2.6, withdrawn in v2.7) or OMI^O23 (v2.5 onwards), to the RIS / Department
System Scheduler. The RIS turns it into one or more *scheduled procedure
steps* that the modality fetches with a Modality Worklist C-FIND (PS3.4
Annex K), so the radiographer never retypes patient details.

:data:`WORKLIST_MAPPING` documents which HL7 field fills which worklist
attribute. It follows the IHE Radiology Technical Framework, Vol. 2, Appendix B
("HL7 Order Mapping to DICOM MWL"), simplified to one requested procedure with
one scheduled step. The attributes are those of PS3.4 Table K.6-1. Notes:

* HL7 XPN names are family^given^middle^**suffix^prefix**; DICOM PN is
  family^given^middle^**prefix^suffix**: components 4 and 5 swap.
* IHE carries the accession number, requested procedure ID and scheduled
  procedure step ID in OBR-18, OBR-19 and OBR-20 of an ORM, and the Study
  Instance UID in the Z-segment ZDS-1; an OMI carries them in its IPC segment.
* The Scheduled Station AE Title is not in the order: the department decides
  which modality performs it, so it is a parameter here.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.hl7.escaping import unescape
from medlab.hl7.message import Delimiters, delimiters, original_text, segment_fields

if TYPE_CHECKING:
    from pydicom import Dataset

#: (DICOM keyword, tag, HL7 source in an ORM^O01, HL7 source in an OMI^O23)
WORKLIST_MAPPING: tuple[tuple[str, str, str, str], ...] = (
    ("PatientName", "(0010,0010)", "PID-5 (components reordered)", "PID-5"),
    ("PatientID", "(0010,0020)", "PID-3.1 (first identifier)", "PID-3.1"),
    ("IssuerOfPatientID", "(0010,0021)", "PID-3.4", "PID-3.4"),
    ("PatientBirthDate", "(0010,0030)", "PID-7 (date part)", "PID-7"),
    ("PatientSex", "(0010,0040)", "PID-8 (M/F, else O)", "PID-8"),
    ("AdmissionID", "(0038,0010)", "PV1-19", "PV1-19"),
    ("CurrentPatientLocation", "(0038,0300)", "PV1-3", "PV1-3"),
    ("ReferringPhysicianName", "(0008,0090)", "PV1-8", "PV1-8"),
    ("Allergies", "(0010,2110)", "AL1-3 text", "AL1-3 text"),
    ("AccessionNumber", "(0008,0050)", "OBR-18", "IPC-1"),
    ("RequestedProcedureID", "(0040,1001)", "OBR-19", "IPC-2"),
    ("StudyInstanceUID", "(0020,000D)", "ZDS-1.1 (else derived from the accession)", "IPC-3"),
    ("RequestedProcedureDescription", "(0032,1060)", "OBR-4.2", "OBR-4.2"),
    (
        "RequestedProcedureCodeSequence",
        "(0032,1064)",
        "OBR-4.1 / OBR-4.3 / OBR-4.2",
        "OBR-4.1 / OBR-4.3 / OBR-4.2",
    ),
    ("RequestingPhysician", "(0032,1032)", "OBR-16", "OBR-16"),
    ("ReasonForTheRequestedProcedure", "(0040,1002)", "OBR-31 text", "OBR-31 text"),
    ("PlacerOrderNumberImagingServiceRequest", "(0040,2016)", "ORC-2.1", "ORC-2.1"),
    ("FillerOrderNumberImagingServiceRequest", "(0040,2017)", "ORC-3.1", "ORC-3.1"),
    (
        "RequestedProcedurePriority",
        "(0040,1003)",
        "ORC-7.6 (S=STAT, A=HIGH, else ROUTINE)",
        "TQ1-9",
    ),
    ("Modality", "(0008,0060) in SPS", "OBR-24", "IPC-5"),
    ("ScheduledProcedureStepID", "(0040,0009) in SPS", "OBR-20", "IPC-4"),
    (
        "ScheduledProcedureStepStartDate/Time",
        "(0040,0002/3) in SPS",
        "OBR-27.4, else ORC-7.4, else OBR-36",
        "TQ1-7",
    ),
    ("ScheduledProcedureStepDescription", "(0040,0007) in SPS", "OBR-4.2", "OBR-4.2"),
    ("ScheduledPerformingPhysicianName", "(0040,0006) in SPS", "OBR-34", "OBR-34"),
    (
        "ScheduledStationAETitle",
        "(0040,0001) in SPS",
        "(parameter station_aet)",
        "(parameter station_aet)",
    ),
    ("ScheduledProcedureStepStatus", "(0040,0020) in SPS", "SCHEDULED", "SCHEDULED"),
)

_PRIORITY = {"S": "STAT", "A": "HIGH", "R": "ROUTINE", "P": "ROUTINE", "T": "MEDIUM"}


class _Order:
    """Position lookups (``"OBR-4.2"``) on the raw text of a message."""

    def __init__(self, text: str) -> None:
        self.d: Delimiters = delimiters(text)
        self.segments: dict[str, list[str]] = {}
        self.all: list[tuple[str, list[str]]] = []
        for segment in text.split("\r"):
            fields = segment_fields(segment, self.d)
            self.segments.setdefault(segment[:3], fields)
            self.all.append((segment[:3], fields))

    def raw(self, seg: str, field: int) -> str:
        fields = self.segments.get(seg)
        if not fields or len(fields) <= field:
            return ""
        return fields[field].split(self.d.repetition)[0]

    def get(self, position: str) -> str:
        found = re.match(r"^([A-Z0-9]{3})-(\d+)(?:\.(\d+))?(?:\.(\d+))?$", position)
        assert found, position
        seg, field, comp, sub = found.group(1), int(found.group(2)), found.group(3), found.group(4)
        value = self.raw(seg, field)
        if comp:
            parts = value.split(self.d.component)
            value = parts[int(comp) - 1] if len(parts) >= int(comp) else ""
            subs = value.split(self.d.subcomponent)
            index = int(sub) - 1 if sub else 0
            value = subs[index] if index < len(subs) else ""
        return unescape(value, self.d).strip()

    def person(self, position: str, xcn: bool) -> str:
        """XPN/XCN -> DICOM PN (family^given^middle^prefix^suffix)."""
        offset = 1 if xcn else 0
        parts = [self.get(f"{position}.{offset + i}") for i in range(1, 6)]
        family, given, middle, suffix, prefix = parts
        if xcn and not family and self.get(f"{position}.1.2"):
            # NDL (e.g. OBR-34): name^... with the person in sub-components of component 1
            family, given = self.get(f"{position}.1.2"), self.get(f"{position}.1.3")
        return "^".join([family, given, middle, prefix, suffix]).rstrip("^")


def _date_time(value: str) -> tuple[str, str]:
    digits = re.sub(r"[^0-9.].*$", "", value.split("+")[0].split("-")[0])
    return digits[:8], digits[8:14]


def order_to_worklist(msg: Any, *, station_aet: str = "CT01") -> Dataset:
    """Map an ORM^O01 or OMI^O23 new order to a Modality Worklist item (a pydicom Dataset).

    The mapping is :data:`WORKLIST_MAPPING`. Raises :class:`MedlabError` when
    the message is not an order, not a new order (ORC-1 other than NW), or
    lacks what a worklist item cannot do without (accession number, modality).
    """
    from pydicom import Dataset

    text = original_text(msg)
    o = _Order(text)
    code = o.get("MSH-9.1")
    if code not in ("ORM", "OMI"):
        raise MedlabError(
            f"This is an {code or 'unknown'} message, not an imaging order",
            where="MSH-9",
            fix="Only ORM^O01 and OMI^O23 orders become worklist items.",
        )
    control = o.get("ORC-1")
    if control not in ("NW", "XO", ""):
        raise MedlabError(
            f"ORC-1 (order control) is {control!r}, not a new order (NW)",
            where="ORC-1",
            fix="CA cancels and DC discontinues an order: remove the worklist "
            "item instead of scheduling one.",
        )
    omi = code == "OMI"
    accession = o.get("IPC-1") if omi else o.get("OBR-18")
    modality = o.get("IPC-5") if omi else o.get("OBR-24")
    for value, where, what in (
        (accession, "IPC-1" if omi else "OBR-18", "accession number"),
        (modality, "IPC-5" if omi else "OBR-24", "modality"),
    ):
        if not value:
            raise MedlabError(
                f"The order has no {what}",
                where=where,
                fix=f"A worklist item needs the {what}; check the order "
                "placer's interface configuration.",
            )
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = o.person("PID-5", xcn=False)
    ds.PatientID = o.get("PID-3.1")
    ds.IssuerOfPatientID = o.get("PID-3.4")
    ds.PatientBirthDate = o.get("PID-7")[:8]
    sex = o.get("PID-8")[:1]
    ds.PatientSex = sex if sex in ("M", "F") else ("O" if sex else "")
    ds.AdmissionID = o.get("PV1-19.1")
    location = o.raw("PV1", 3)
    ds.CurrentPatientLocation = " ".join(p for p in location.split(o.d.component) if p)[:64]
    ds.ReferringPhysicianName = o.person("PV1-8", xcn=True)
    allergies = [o.get("AL1-3.2") or o.get("AL1-3.1")] if "AL1" in o.segments else []
    if allergies and allergies[0]:
        ds.Allergies = allergies
    ds.AccessionNumber = accession
    ds.RequestedProcedureID = (o.get("IPC-2") if omi else o.get("OBR-19")) or accession
    study_uid = o.get("IPC-3") if omi else o.get("ZDS-1.1")
    # No UID in the order: derive one from a name-based UUID (PS3.5 B.2, the 2.25 root), so the
    # same order always gives the same study.
    ds.StudyInstanceUID = study_uid or "2.25." + str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"medlab-order:{o.get('PID-3.1')}:{accession}").int
    )
    description = o.get("OBR-4.2") or o.get("OBR-4.1")
    ds.RequestedProcedureDescription = description
    code_item = Dataset()
    code_item.CodeValue = o.get("OBR-4.1")
    code_item.CodingSchemeDesignator = o.get("OBR-4.3") or "L"
    code_item.CodeMeaning = description
    ds.RequestedProcedureCodeSequence = [code_item] if code_item.CodeValue else []
    ds.RequestingPhysician = o.person("OBR-16", xcn=True) or o.person("ORC-12", xcn=True)
    ds.ReasonForTheRequestedProcedure = o.get("OBR-31.2") or o.get("OBR-31.1")
    ds.PlacerOrderNumberImagingServiceRequest = o.get("ORC-2.1") or o.get("OBR-2.1")
    ds.FillerOrderNumberImagingServiceRequest = o.get("ORC-3.1") or o.get("OBR-3.1")
    priority = o.get("TQ1-9.1") if omi else o.get("ORC-7.6") or o.get("OBR-27.6")
    ds.RequestedProcedurePriority = _PRIORITY.get(priority[:1], "ROUTINE")

    sps = Dataset()
    sps.Modality = modality
    sps.ScheduledStationAETitle = station_aet
    start = (
        (o.get("TQ1-7.1") if omi else "")
        or o.get("OBR-27.4")
        or o.get("ORC-7.4")
        or o.get("OBR-36")
    )
    sps.ScheduledProcedureStepStartDate, sps.ScheduledProcedureStepStartTime = _date_time(start)
    sps.ScheduledPerformingPhysicianName = o.person("OBR-34", xcn=True)
    sps.ScheduledProcedureStepDescription = description
    sps.ScheduledProcedureStepID = (o.get("IPC-4") if omi else o.get("OBR-20")) or accession
    sps.ScheduledProcedureStepStatus = "SCHEDULED"
    ds.ScheduledProcedureStepSequence = [sps]
    return ds


def schedule_order(pacs: Any, msg: Any, *, station_aet: str = "CT01") -> Dataset:
    """Map an order with :func:`order_to_worklist` and add it to ``pacs``'s worklist.

    ``pacs`` is a running :class:`medlab.net.PACS` (anything with a
    ``schedule(dataset)`` method). Returns the worklist item.
    """
    item = order_to_worklist(msg, station_aet=station_aet)
    pacs.schedule(item)
    return item


def order_handler(pacs: Any, *, station_aet: str = "CT01"):
    """An ``on_message`` callback for :class:`medlab.hl7.Listener`: orders go to the worklist.

    Other messages (ADT, ORU ...) are accepted and left alone.
    """

    def handle(msg: Any) -> None:
        text = original_text(msg)
        d = delimiters(text)
        if segment_fields(text.split("\r")[0], d)[9].split(d.component)[0] in ("ORM", "OMI"):
            schedule_order(pacs, msg, station_aet=station_aet)

    return handle


def mapping_table() -> str:
    """:data:`WORKLIST_MAPPING` as aligned text (a notebook shows it as a table)."""
    width = max(len(k) for k, *_ in WORKLIST_MAPPING)
    lines = [f"{'DICOM attribute':<{width}}  {'tag':<20}  {'ORM^O01':<42}  OMI^O23"]
    lines += [f"{k:<{width}}  {t:<20}  {orm:<42}  {omi}" for k, t, orm, omi in WORKLIST_MAPPING]
    return "\n".join(lines)
