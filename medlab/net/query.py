"""C-FIND matching over the index (PS3.4 C.2.2.2 and C.6), in SQL.

The matching rules of the standard, as implemented here:

* **Universal matching** — an empty value (or a lone ``*``) matches everything;
  the key is still returned, filled in (PS3.4 C.2.2.2.3).
* **Single value matching** — the value must be equal; for PN the comparison
  ignores case, as the standard allows (C.2.2.2.1).
* **Wildcard matching** — ``*`` (any run) and ``?`` (one character) in AE, CS,
  LO, LT, PN, SH, ST, UC, UR and UT values (C.2.2.2.4). Not in dates, times or UIDs.
* **Range matching** — ``A-B``, ``-B``, ``A-`` for DA, TM and DT (C.2.2.2.5).
* **List of UID matching** — ``uid1\\uid2\\…`` matches any of them (C.2.2.2.2).
* **Return keys** — every key of the request comes back; a key the archive has
  no value for comes back empty; a key it does not know at all also comes back
  empty, and the Pending status is then 0xFF01 ("optional keys not supported").

Levels: Patient Root has PATIENT > STUDY > SERIES > IMAGE, Study Root STUDY >
SERIES > IMAGE (patient attributes then belong to the study). A query at one
level may match on keys of that level and the levels above it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medlab.net.store import INDEX_COLUMNS, Store, normalise_time

if TYPE_CHECKING:
    from pydicom import Dataset

#: The query levels (0008,0052) and the unique key of each (PS3.4 C.6.1.1 / C.6.2.1).
UNIQUE_KEY = {
    "PATIENT": "PatientID",
    "STUDY": "StudyInstanceUID",
    "SERIES": "SeriesInstanceUID",
    "IMAGE": "SOPInstanceUID",
}

#: keyword -> (level, VR). Level = the level the attribute belongs to in the
#: Patient Root model; in Study Root the PATIENT ones belong to STUDY.
KEYS: dict[str, tuple[str, str]] = {
    # PATIENT | Unique PatientID | Required PatientName | optional others
    "PatientName": ("PATIENT", "PN"),
    "PatientID": ("PATIENT", "LO"),
    "PatientBirthDate": ("PATIENT", "DA"),
    "PatientSex": ("PATIENT", "CS"),
    "NumberOfPatientRelatedStudies": ("PATIENT", "IS"),
    "NumberOfPatientRelatedSeries": ("PATIENT", "IS"),
    "NumberOfPatientRelatedInstances": ("PATIENT", "IS"),
    # STUDY | Unique StudyInstanceUID | Required StudyDate, StudyTime, AccessionNumber, StudyID
    "StudyInstanceUID": ("STUDY", "UI"),
    "StudyDate": ("STUDY", "DA"),
    "StudyTime": ("STUDY", "TM"),
    "AccessionNumber": ("STUDY", "SH"),
    "StudyID": ("STUDY", "SH"),
    "StudyDescription": ("STUDY", "LO"),
    "ReferringPhysicianName": ("STUDY", "PN"),
    "ModalitiesInStudy": ("STUDY", "CS"),
    "NumberOfStudyRelatedSeries": ("STUDY", "IS"),
    "NumberOfStudyRelatedInstances": ("STUDY", "IS"),
    # SERIES | Unique SeriesInstanceUID | Required Modality, SeriesNumber
    "SeriesInstanceUID": ("SERIES", "UI"),
    "Modality": ("SERIES", "CS"),
    "SeriesNumber": ("SERIES", "IS"),
    "SeriesDescription": ("SERIES", "LO"),
    "NumberOfSeriesRelatedInstances": ("SERIES", "IS"),
    # IMAGE | Unique SOPInstanceUID | Required InstanceNumber
    "SOPInstanceUID": ("IMAGE", "UI"),
    "SOPClassUID": ("IMAGE", "UI"),
    "InstanceNumber": ("IMAGE", "IS"),
}

#: Keys computed over the matching instances (returned, not matched — except
#: ModalitiesInStudy, which matches if any modality of the study does).
COMPUTED = {
    "NumberOfPatientRelatedStudies": "COUNT(DISTINCT study_uid)",
    "NumberOfPatientRelatedSeries": "COUNT(DISTINCT series_uid)",
    "NumberOfPatientRelatedInstances": "COUNT(*)",
    "NumberOfStudyRelatedSeries": "COUNT(DISTINCT series_uid)",
    "NumberOfStudyRelatedInstances": "COUNT(*)",
    "NumberOfSeriesRelatedInstances": "COUNT(*)",
    "ModalitiesInStudy": "GROUP_CONCAT(DISTINCT modality)",
}

_LEVEL_RANK = {"PATIENT": 0, "STUDY": 1, "SERIES": 2, "IMAGE": 3}
_ORDER = {
    "PATIENT": "patient_name, patient_id",
    "STUDY": "study_date, study_time, study_uid",
    "SERIES": "series_number, series_uid",
    "IMAGE": "instance_number, sop_uid",
}
_WILDCARD_VRS = {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
_IGNORED = {
    "QueryRetrieveLevel",
    "SpecificCharacterSet",
    "RetrieveAETitle",
    "TimezoneOffsetFromUTC",
}


class QueryError(Exception):
    """The identifier cannot be processed: carries the C-FIND failure status."""

    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = status
        self.comment = comment


@dataclass
class Match:
    """One C-FIND result: the identifier to send, and whether all keys were supported."""

    identifier: Dataset
    all_keys_supported: bool


def _values(elem_value: Any) -> list[str]:
    if elem_value is None:
        return []
    if isinstance(elem_value, (list, tuple)) or type(elem_value).__name__ == "MultiValue":
        return [str(v).strip("\x00 ") for v in elem_value]
    text = str(elem_value).strip("\x00 ")
    return [text] if text else []


def _glob(value: str) -> str:
    """DICOM wildcard → SQLite GLOB pattern (escape GLOB's own ``[``)."""
    return value.replace("[", "[[]")


def condition(column: str, vr: str, value: Any) -> tuple[str, list[Any]] | None:
    """SQL condition for one matching key, or None for universal matching."""
    values = _values(value)
    if not values or values == ["*"]:
        return None
    parts: list[str] = []
    params: list[Any] = []
    for v in values:
        if vr in {"DA", "TM", "DT"} and "-" in v:
            low, _, high = v.partition("-")
            if vr == "TM":
                low = normalise_time(low) if low else ""
                high = _upper_time(high) if high else ""
            sub = []
            if low:
                sub.append(f"{column} >= ?")
                params.append(low)
            if high:
                sub.append(f"{column} <= ?")
                params.append(high)
            parts.append("(" + " AND ".join(sub) + ")" if sub else "1")
        elif vr == "TM":
            parts.append(f"{column} = ?")
            params.append(normalise_time(v))
        elif vr in _WILDCARD_VRS and ("*" in v or "?" in v):
            if vr == "PN":
                parts.append(f"UPPER({column}) GLOB ?")
                params.append(_glob(v.upper()))
            else:
                parts.append(f"{column} GLOB ?")
                params.append(_glob(v))
        elif vr == "PN":
            parts.append(f"UPPER({column}) = ?")
            params.append(v.upper())
        elif vr == "IS":
            parts.append(f"{column} = ?")
            try:
                params.append(int(v))
            except ValueError:
                params.append(v)
        else:
            parts.append(f"{column} = ?")
            params.append(v)
    return "(" + " OR ".join(parts) + ")", params


def _upper_time(value: str) -> str:
    """Upper bound of a TM range: ``12`` means up to 12:59:59.999999."""
    value = value.replace(":", "")
    whole, _, frac = value.partition(".")
    whole = whole + "595959"[len(whole) :] if len(whole) < 6 else whole[:6]
    return f"{whole}.{(frac + '999999')[:6]}"


def find(store: Store, model: str, identifier: Dataset, retrieve_aet: str = "") -> Iterator[Match]:
    """Run a Q/R C-FIND: ``model`` is ``"PATIENT"`` or ``"STUDY"`` (root).

    ``retrieve_aet`` answers a requested Retrieve AE Title (0008,0054): the AE
    that can C-MOVE/C-GET the match, i.e. this PACS.

    Raises :class:`QueryError` (0xA900 or 0xC000 family) for an identifier that
    cannot be processed.
    """
    from pydicom import Dataset

    level = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
    if level not in UNIQUE_KEY or (model == "STUDY" and level == "PATIENT"):
        raise QueryError(
            0xA900,
            f"Query/Retrieve Level {level!r} is not valid for the {model.title()} Root model",
        )
    rank = _LEVEL_RANK[level]
    where: list[str] = []
    having: list[str] = []
    params: list[Any] = []
    having_params: list[Any] = []
    requested: list[str] = []
    supported = True
    for elem in identifier:
        keyword = elem.keyword
        if keyword in _IGNORED or elem.tag.group in (0x0000, 0x0002):
            continue
        requested.append(keyword)
        spec = KEYS.get(keyword)
        if spec is None or elem.VR == "SQ":
            supported = False
            continue
        key_level, vr = spec
        if model == "STUDY" and key_level == "PATIENT":
            key_level = "STUDY"
        if _LEVEL_RANK[key_level] > rank:
            supported = False  # a key below the query level: returned empty
            continue
        if keyword == "ModalitiesInStudy":
            mods = _values(elem.value)
            if mods and mods != ["*"]:
                having.append("(" + " OR ".join("SUM(modality = ?) > 0" for _ in mods) + ")")
                having_params.extend(mods)
            continue
        if keyword in COMPUTED:
            continue
        cond = condition(INDEX_COLUMNS[keyword], vr, elem.value)
        if cond:
            where.append(cond[0])
            params.extend(cond[1])

    group_col = INDEX_COLUMNS[UNIQUE_KEY[level]]
    select_keys = [k for k in requested if k in KEYS and (k in COMPUTED or k in INDEX_COLUMNS)]
    exprs = [COMPUTED.get(k) or INDEX_COLUMNS[k] for k in select_keys]
    sql = f"SELECT {', '.join(exprs) or '1'} FROM instances"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" GROUP BY {group_col}"
    if having:
        sql += " HAVING " + " AND ".join(having)
    sql += f" ORDER BY {_ORDER[level]}"
    rows = store.query(sql, params + having_params)

    charset = identifier.get("SpecificCharacterSet")
    for row in rows:
        values = dict(zip(select_keys, row, strict=True))
        rsp = Dataset()
        needs_utf8 = any(isinstance(v, str) and not v.isascii() for v in row)
        if needs_utf8:
            rsp.SpecificCharacterSet = "ISO_IR 192"
        elif charset:
            rsp.SpecificCharacterSet = charset
        rsp.QueryRetrieveLevel = level
        if "RetrieveAETitle" in identifier:
            rsp.RetrieveAETitle = retrieve_aet or identifier.RetrieveAETitle or ""
        for elem in identifier:
            keyword = elem.keyword
            if keyword in _IGNORED or elem.tag.group in (0x0000, 0x0002):
                continue
            value = values.get(keyword)
            if keyword == "StudyTime" and value:
                value = _short_time(value)
            if keyword == "ModalitiesInStudy" and value:
                value = sorted(set(str(value).split(",")))
            if value is None:
                value = [] if elem.VR == "SQ" else ""
            if not keyword:  # private or unknown tag: echo empty
                rsp.add_new(elem.tag, elem.VR, None)
                continue
            setattr(rsp, keyword, value)
        yield Match(rsp, supported)


def _short_time(value: str) -> str:
    whole, _, frac = value.partition(".")
    frac = frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def instances_for(store: Store, model: str, identifier: Dataset) -> list[tuple[str, str, str]]:
    """The instances a C-MOVE/C-GET identifier selects: ``(path, sop_class, transfer_syntax)``.

    Retrieval uses the unique keys (PS3.4 C.4.2.2.1): the level's unique key,
    plus those of the levels above; lists of UIDs are allowed.
    """
    level = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
    if level not in UNIQUE_KEY or (model == "STUDY" and level == "PATIENT"):
        raise QueryError(
            0xA900,
            f"Query/Retrieve Level {level!r} is not valid for the {model.title()} Root model",
        )
    where: list[str] = []
    params: list[Any] = []
    for lvl in ("PATIENT", "STUDY", "SERIES", "IMAGE")[: _LEVEL_RANK[level] + 1]:
        keyword = UNIQUE_KEY[lvl]
        if keyword not in identifier:
            if lvl == level:
                raise QueryError(0xA900, f"The {level} level needs the unique key {keyword}")
            continue
        cond = condition(INDEX_COLUMNS[keyword], KEYS[keyword][1], identifier[keyword].value)
        if cond is None:
            if lvl == level:
                raise QueryError(0xA900, f"The unique key {keyword} must have a value to retrieve")
            continue
        where.append(cond[0])
        params.extend(cond[1])
    sql = "SELECT path, sop_class, transfer_syntax FROM instances WHERE " + " AND ".join(where)
    sql += " ORDER BY study_uid, series_number, series_uid, instance_number, sop_uid"
    return [(str(store.root / p), c, t) for p, c, t in store.query(sql, params)]


# ---------------------------------------------------------------------------- worklist
#: Matching keys of the Modality Worklist (PS3.4 K.6.1.2.2), keyword -> (column, VR).
#: Those marked SPS live inside the Scheduled Procedure Step Sequence (0040,0100).
WORKLIST_TOP = {
    "PatientName": ("patient_name", "PN"),
    "PatientID": ("patient_id", "LO"),
    "AccessionNumber": ("accession", "SH"),
    "StudyInstanceUID": ("study_uid", "UI"),
    "RequestedProcedureID": ("requested_procedure_id", "SH"),
}
WORKLIST_SPS = {
    "Modality": ("modality", "CS"),
    "ScheduledStationAETitle": ("station_aet", "AE"),
    "ScheduledProcedureStepStartDate": ("start_date", "DA"),
    "ScheduledProcedureStepStartTime": ("start_time", "TM"),
    "ScheduledPerformingPhysicianName": ("physician", "PN"),
    "ScheduledProcedureStepID": ("sps_id", "SH"),
    "ScheduledProcedureStepStatus": ("sps_status", "CS"),
}


def find_worklist(store: Store, identifier: Dataset) -> Iterator[Match]:
    """Modality Worklist C-FIND over the scheduled procedure steps."""
    where: list[str] = []
    params: list[Any] = []

    def add(table: dict[str, tuple[str, str]], ds: Dataset) -> None:
        for keyword, (column, vr) in table.items():
            if keyword in ds and ds[keyword].VR != "SQ":
                cond = condition(column, vr, ds[keyword].value)
                if cond:
                    where.append(cond[0])
                    params.extend(cond[1])

    add(WORKLIST_TOP, identifier)
    sps_seq = identifier.get("ScheduledProcedureStepSequence")
    if sps_seq:
        add(WORKLIST_SPS, sps_seq[0])
    sql = "SELECT dataset FROM worklist"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY start_date, start_time, sps_id"
    for (blob,) in store.query(sql, params):
        item = Store.from_json(blob)
        rsp, supported = _project(identifier, item)
        yield Match(rsp, supported)


def _project(request: Dataset, item: Dataset) -> tuple[Dataset, bool]:
    """Copy the requested keys (recursing into sequences) from ``item``; absent → empty."""
    from pydicom import Dataset

    rsp = Dataset()
    supported = True
    if "SpecificCharacterSet" in item:
        rsp.SpecificCharacterSet = item.SpecificCharacterSet
    for elem in request:
        if elem.tag.group in (0x0000, 0x0002) or elem.keyword == "SpecificCharacterSet":
            continue
        if elem.tag not in item:
            rsp.add_new(elem.tag, elem.VR, [] if elem.VR == "SQ" else None)
            if elem.keyword not in WORKLIST_TOP and elem.keyword not in _KNOWN_WORKLIST:
                supported = False
            continue
        have = item[elem.tag]
        if elem.VR == "SQ" and elem.value and have.VR == "SQ":
            items = []
            for sub in have.value:
                projected, ok = _project(elem.value[0], sub)
                supported = supported and ok
                items.append(projected)
            rsp.add_new(elem.tag, "SQ", items)
        else:
            rsp[elem.tag] = have
    return rsp, supported


#: Return keys the worklist knows (Table K.6-1) even when an item leaves them empty.
_KNOWN_WORKLIST = set(WORKLIST_SPS) | {
    "ScheduledProcedureStepSequence",
    "ScheduledProcedureStepDescription",
    "ScheduledProtocolCodeSequence",
    "ScheduledProcedureStepLocation",
    "ScheduledStationName",
    "RequestedProcedureDescription",
    "RequestedProcedureCodeSequence",
    "RequestedProcedurePriority",
    "PatientBirthDate",
    "PatientSex",
    "PatientWeight",
    "ReferringPhysicianName",
    "ReferencedStudySequence",
    "ReferencedPatientSequence",
    "AdmissionID",
    "CurrentPatientLocation",
    "IssuerOfPatientID",
    "OtherPatientIDsSequence",
    "PatientAge",
    "MedicalAlerts",
    "Allergies",
    "PregnancyStatus",
    "RequestingPhysician",
    "ImagingServiceRequestComments",
    "StudyDescription",
    "ScheduledProcedureStepEndDate",
    "ScheduledProcedureStepEndTime",
    "PreMedication",
    "RequestedContrastAgent",
    "CommentsOnTheScheduledProcedureStep",
}
