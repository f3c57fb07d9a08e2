"""The vocabulary of the V2-to-FHIR IG's maps: code system URLs and v2 table translations.

Each dict is one of the IG's table concept maps (``Table HL70001 to Administrative
Gender`` and so on, v1.0.0), reduced to the codes with a target; a v2 code missing
from a dict has no translation, and :func:`medlab.fhir.from_v2` says so naming the
field. ``ORDER_STATUS`` is the one local agreement here (the IG leaves ORC-5 open).
"""

from __future__ import annotations

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"

#: HL7 table 0396 coding-system names (CWE.3) -> FHIR system URIs (HL7 Terminology).
CODE_SYSTEMS = {
    "LN": "http://loinc.org",
    "C4": "http://www.ama-assn.org/go/cpt",
    "CPT": "http://www.ama-assn.org/go/cpt",
    "DCM": "http://dicom.nema.org/resources/ontology/DCM",
    "SCT": "http://snomed.info/sct",
    "I10": "http://hl7.org/fhir/sid/icd-10",
    "UCUM": "http://unitsofmeasure.org",
}

# The IG's vocabulary maps: Table HL70001 to Administrative Gender, HL70002 to V3
# MaritalStatus, HL70004 to V3 ActCode / to Encounter Status, HL70200 to Name Use,
# HL70190 to Address Use, HL70201 to Contact Point Use, HL70202 to Contact Point System.
GENDER = {"F": "female", "M": "male", "O": "other", "U": "unknown", "A": "other", "N": "other"}
MARITAL = {
    **{"A": "L", "D": "D", "M": "M", "S": "S", "W": "W", "C": "C", "G": "T", "P": "T"},
    **{"R": "T", "E": "L", "N": "A", "I": "I", "B": "U"},
}
ENCOUNTER_CLASS = {"E": "EMER", "I": "IMP", "O": "AMB", "P": "PRENC"}
ENCOUNTER_STATUS = {
    **dict.fromkeys("EIORBCN", "in-progress"),
    "P": "planned",
    "U": "unknown",
}
NAME_USE = {
    **{"BAD": "old", "D": "usual", "L": "official", "M": "maiden", "MSK": "anonymous"},
    **{"N": "nickname", "NAV": "temp", "R": "official", "TEMP": "temp"},
}
ADDRESS_USE = {"H": "home", "B": "work", "O": "work", "C": "temp", "BA": "old", "BI": "billing"}
CONTACT_USE = {"PRN": "home", "WPN": "work", "PRS": "mobile"}
CONTACT_SYSTEM = {
    **{"PH": "phone", "FX": "fax", "BP": "pager", "Internet": "email", "X.400": "email"},
    **dict.fromkeys(["MD", "SAT", "TDD", "TTY"], "other"),
}
REQUEST_STATUS = {  # Table HL70119 to Request Status (ORC-1)
    **dict.fromkeys(["AF", "CA", "HD", "NW", "OK", "PR", "PY", "RL", "RO", "RQ"], "active"),
    **dict.fromkeys(["CR", "DC", "DF", "DR", "OC", "OD"], "revoked"),
    "FU": "completed",
    "HR": "on-hold",
    "OH": "on-hold",
}
#: ORC-5 (HL7 table 0038) -> ServiceRequest.status: local agreement, the IG leaves it open.
ORDER_STATUS = {
    "A": "active",
    "CA": "revoked",
    "CM": "completed",
    "DC": "revoked",
    "ER": "entered-in-error",
    "HD": "on-hold",
    "IP": "active",
    "RP": "revoked",
    "SC": "active",
}
PRIORITY = {"S": "stat", "A": "asap", "R": "routine"}
OBSERVATION_STATUS = {
    "A": "amended",
    "C": "corrected",
    "D": "entered-in-error",
    "F": "final",
    "P": "preliminary",
    "X": "cancelled",
    "W": "entered-in-error",
}
REPORT_STATUS = {
    "O": "registered",
    "I": "registered",
    "S": "registered",
    "P": "preliminary",
    "C": "corrected",
    "R": "partial",
    "F": "final",
    "X": "cancelled",
}
