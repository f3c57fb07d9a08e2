"""Sample HL7 v2 messages for the lessons and tests, and a synthetic feed.

Every patient, practitioner and identifier here is fictitious. Sources:

* ``ADT_A01`` - the lecture's admission example, reconstructed (the lecture's
  copy lost every ``^`` to OCR). The lecture adapted the well-known example of
  the Wikipedia article "Health Level 7" (itself modelled on HL7 v2.x
  Chapter 3 examples); names are replaced by invented ones. HL7 v2.8.2.
* The other messages were written for medlab after the examples of HL7 v2.x
  Chapter 3 (ADT), Chapter 4 (orders: ORM^O01, OMI^O23) and Chapter 7
  (observations: ORU^R01), and of the IHE Radiology Technical Framework
  (Scheduled Workflow: the ZDS segment carrying the Study Instance UID).

``SAMPLES`` maps a name to the message text with ``\\r`` segment separators;
:func:`synthetic_feed` yields any number of varied ADT/ORM/ORU messages for
benchmarks and the log lessons.
"""

from __future__ import annotations

import random
from collections.abc import Iterator


def _segment(seg_id: str, fields: dict[int, str]) -> str:
    """Build a segment from ``{field number: value}`` so positions are never miscounted."""
    size = max(fields)
    return "|".join([seg_id, *(fields.get(n, "") for n in range(1, size + 1))])


def _msh(
    sender: str,
    sending_facility: str,
    receiver: str,
    receiving_facility: str,
    when: str,
    msg_type: str,
    control_id: str,
    version: str,
    enc: str = "^~\\&",
) -> str:
    return "|".join(
        [
            "MSH",
            enc,
            sender,
            sending_facility,
            receiver,
            receiving_facility,
            when,
            "",
            msg_type,
            control_id,
            "P",
            version,
        ]
    )


#: The lecture's ADT^A01 (admit an inpatient), reconstructed; HL7 v2.8.2.
ADT_A01 = "\r".join(
    [
        _msh(
            "MegaReg",
            "DSNHSFT",
            "ImgOrdMgr",
            "RadImgCtr",
            "20170115090131-0500",
            "ADT^A01^ADT_A01",
            "01052901",
            "2.8.2",
        ),
        "EVN||201701150901||||201701150900",
        _segment(
            "PID",
            {
                3: "56782445^^^UAReg^PI~999855750^^^USSSA^SS",  # hospital number and national number
                5: "ATKINSONTEST^JAMES^^JNR",  # family^given^middle^suffix
                7: "19800910",
                8: "M",
                10: "2028-9^^HL70005^RA99999^^XYZ",
                11: "12 SEASHORE ROAD^^NEWPORT^DEVON^SS10 3AH^^H",
                18: "0105I30001^^^99DEF^AN",  # patient account number
            },
        ),
        _segment(
            "PV1",
            {
                2: "I",  # patient class: inpatient
                3: "W^389^1^UABH^^^^3",  # point of care^room^bed^facility^^^^floor
                7: "1234567890^MARLOWE^ANNA^^^^MD^0010^UAMC^L",  # attending doctor
                9: "0123456789^OKAFOR^PETER^^^^MD^0010^UAMC^L",  # consulting doctor
                10: "MED",  # hospital service
                15: "A0",  # ambulatory status: no functional limitations
                17: "13579^LINDQVIST^JENNA^^^^MD^0010^UAMC^L",  # admitting doctor
            },
        ),
        "OBX|1|NM|^Body Height||1.85|m^Meter^ISO+|||||F",
        "OBX|2|NM|^Body Weight||85|kg^Kilogram^ISO+|||||F",
        "AL1|1|DA|^CONTRAST AGENT|SV|HIVES",
    ]
)

#: Register an emergency patient in A&E (the department name needs \T\); HL7 v2.4.
ADT_A04_AE = "\r".join(
    [
        _msh(
            "MegaReg",
            "GENHOSP",
            "RIS",
            "RADIOLOGY",
            "20240312093000",
            "ADT^A04^ADT_A01",
            "AE0001",
            "2.4",
        ),
        "EVN|A04|20240312093000",
        _segment(
            "PID", {1: "1", 3: "PAT0099^^^GENHOSP^MR", 5: "RIVERS^SAM", 7: "19910704", 8: "F"}
        ),
        _segment("PV1", {1: "1", 2: "E", 3: "A\\T\\E^BAY2^1^GENHOSP", 10: "EME"}),
    ]
)

#: Transfer a patient (A02) in v2.3: the oldest version the course reads.
ADT_A02_V23 = "\r".join(
    [
        _msh("PAS", "GENHOSP", "RIS", "RADIOLOGY", "20240312120000", "ADT^A02", "TR0042", "2.3"),
        "EVN|A02|20240312120000",
        _segment(
            "PID", {1: "1", 3: "PAT0042^^^GENHOSP^MR", 5: "DOE^JANE^Q", 7: "19750312", 8: "F"}
        ),
        _segment("PV1", {1: "1", 2: "I", 3: "W2^12^1^GENHOSP", 6: "W1^3^2^GENHOSP"}),
    ]
)

#: Change an outpatient to an inpatient (A06) in v2.5.1.
ADT_A06 = "\r".join(
    [
        _msh(
            "PAS",
            "GENHOSP",
            "RIS",
            "RADIOLOGY",
            "20240312140000",
            "ADT^A06^ADT_A06",
            "CH0007",
            "2.5.1",
        ),
        "EVN|A06|20240312140000",
        _segment(
            "PID", {1: "1", 3: "PAT0042^^^GENHOSP^MR", 5: "DOE^JANE^Q", 7: "19750312", 8: "F"}
        ),
        _segment("PV1", {1: "1", 2: "I", 3: "W2^12^1^GENHOSP"}),
    ]
)

#: The same change of class, sent again without the date of birth (PID-7 empty), which the
#: RIS requires: what a receiver answers with an application error (lesson 13).
ADT_A06_NO_DOB = "\r".join(
    [
        _msh(
            "PAS",
            "GENHOSP",
            "RIS",
            "RADIOLOGY",
            "20240312141500",
            "ADT^A06^ADT_A06",
            "CH0009",
            "2.5.1",
        ),
        "EVN|A06|20240312141500",
        _segment("PID", {1: "1", 3: "PAT0042^^^GENHOSP^MR", 5: "DOE^JANE^Q", 8: "F"}),
        _segment("PV1", {1: "1", 2: "I", 3: "W2^12^1^GENHOSP"}),
    ]
)

#: Update patient information (A08) in v2.7, with a site Z-segment.
ADT_A08_Z = "\r".join(
    [
        _msh(
            "PAS",
            "GENHOSP",
            "RIS",
            "RADIOLOGY",
            "20240313080000",
            "ADT^A08^ADT_A01",
            "UP0100",
            "2.7",
        ),
        "EVN||20240313080000",
        _segment(
            "PID", {1: "1", 3: "PAT0042^^^GENHOSP^MR", 5: "DOE^JANE^Quinn", 7: "19750312", 8: "F"}
        ),
        _segment("PV1", {1: "1", 2: "I"}),
        "ZPI|1|PREFERRED NAME^JQ|WHEELCHAIR",
    ]
)

#: Discharge (A03) in v2.6 with custom delimiters declared in MSH-1/MSH-2.
ADT_A03_CUSTOM = "\r".join(
    [
        "MSH!$%\\@!PAS!GENHOSP!RIS!RADIOLOGY!20240314160000!!ADT$A03$ADT_A03!DC0003!P!2.6",
        "EVN!A03!20240314160000",
        "PID!1!!PAT0042$$$GENHOSP$MR%NHS123$$$NHS$NH!!DOE$JANE$Q!!19750312!F",
        "PV1!1!I!W2$12$1$GENHOSP",
    ]
)

#: An order for a CT (ORM^O01) as an order placer sends it to the RIS; HL7 v2.5.1.
#: OBR-18/19/20 carry the accession number, requested procedure ID and scheduled
#: procedure step ID as the IHE Scheduled Workflow profile does; ZDS-1 the Study Instance UID.
ORM_O01 = "\r".join(
    [
        _msh(
            "OrderPlacer",
            "GENHOSP",
            "ImgOrdMgr",
            "RADIOLOGY",
            "20240312101500",
            "ORM^O01^ORM_O01",
            "ORD000123",
            "2.5.1",
        ),
        _segment(
            "PID",
            {
                1: "1",
                3: "PAT0042^^^GENHOSP^MR",
                5: "DOE^JANE^Q",
                7: "19750312",
                8: "F",
                11: "1 MAIN STREET^^SPRINGFIELD^^12345^^H",
            },
        ),
        _segment(
            "PV1",
            {1: "1", 2: "O", 3: "RAD^CT1^1^GENHOSP", 8: "1234^WELBY^MARCUS^^^DR", 19: "V000777"},
        ),
        _segment(
            "ORC",
            {
                1: "NW",
                2: "PLC0001^OrderPlacer",
                5: "SC",
                7: "^^^20240312110000^^R",
                9: "20240312101500",
                12: "1234^WELBY^MARCUS^^^DR",
            },
        ),
        _segment(
            "OBR",
            {
                1: "1",
                2: "PLC0001^OrderPlacer",
                4: "CTCHEST^CT chest with contrast^L",
                16: "1234^WELBY^MARCUS^^^DR",
                18: "ACC20240001",
                19: "RP0001",
                20: "SPS0001",
                24: "CT",
                27: "^^^20240312110000^^R",
                31: "^Suspected pulmonary embolism",
                34: "T01&RAY&TESSA",
                36: "20240312110000",
            },
        ),
        "ZDS|1.2.826.0.1.3680043.8.498.10.20240312^100^Application^DICOM",
    ]
)

#: The same order as OMI^O23 (imaging order, v2.5 onwards; IPC carries the DICOM keys).
OMI_O23 = "\r".join(
    [
        _msh(
            "OrderPlacer",
            "GENHOSP",
            "ImgOrdMgr",
            "RADIOLOGY",
            "20240312101500",
            "OMI^O23^OMI_O23",
            "ORD000124",
            "2.6",
        ),
        _segment(
            "PID", {1: "1", 3: "PAT0042^^^GENHOSP^MR", 5: "DOE^JANE^Q", 7: "19750312", 8: "F"}
        ),
        _segment("PV1", {1: "1", 2: "O"}),
        _segment("ORC", {1: "NW", 2: "PLC0002^OrderPlacer", 5: "SC", 9: "20240312101500"}),
        "TQ1|1||||||20240312113000",
        _segment(
            "OBR",
            {
                1: "1",
                2: "PLC0002^OrderPlacer",
                4: "CTHEAD^CT head without contrast^L",
                16: "1234^WELBY^MARCUS^^^DR",
            },
        ),
        "IPC|ACC20240002|RP0002|1.2.826.0.1.3680043.8.498.10.20240312.2|SPS0002|CT",
    ]
)

#: The radiologist's report for the CT (ORU^R01), sent by the RIS; HL7 v2.5.1.
ORU_R01 = "\r".join(
    [
        _msh(
            "RIS",
            "RADIOLOGY",
            "EHR",
            "GENHOSP",
            "20240312123000",
            "ORU^R01^ORU_R01",
            "RPT000123",
            "2.5.1",
        ),
        _segment(
            "PID", {1: "1", 3: "PAT0042^^^GENHOSP^MR", 5: "DOE^JANE^Q", 7: "19750312", 8: "F"}
        ),
        _segment(
            "OBR",
            {
                1: "1",
                2: "PLC0001^OrderPlacer",
                3: "ACC20240001^RIS",
                4: "CTCHEST^CT chest with contrast^L",
                7: "20240312110500",
                16: "1234^WELBY^MARCUS^^^DR",
                18: "ACC20240001",
                22: "20240312123000",
                24: "CT",
                25: "F",
            },
        ),
        "OBX|1|TX|59776-5^Procedure findings^LN||No filling defect in the pulmonary arteries.||||||F",
        "OBX|2|TX|19005-8^Impression^LN||No pulmonary embolism.||||||F",
    ]
)

SAMPLES: dict[str, str] = {
    "ADT_A01": ADT_A01,
    "ADT_A02_V23": ADT_A02_V23,
    "ADT_A03_CUSTOM": ADT_A03_CUSTOM,
    "ADT_A04_AE": ADT_A04_AE,
    "ADT_A06": ADT_A06,
    "ADT_A06_NO_DOB": ADT_A06_NO_DOB,
    "ADT_A08_Z": ADT_A08_Z,
    "ORM_O01": ORM_O01,
    "OMI_O23": OMI_O23,
    "ORU_R01": ORU_R01,
}

#: ADT trigger events the course covers (HL7 v2.x Chapter 3) and what each tells a RIS/PACS.
ADT_EVENTS: dict[str, tuple[str, str]] = {
    "A01": (
        "Admit/visit notification",
        "An inpatient is admitted: create the patient and visit; location and doctors known.",
    ),
    "A02": (
        "Transfer a patient",
        "The patient moved bed/ward: update the location porters and reports use.",
    ),
    "A03": (
        "Discharge/end visit",
        "The visit ended: close it; pending orders may need cancelling.",
    ),
    "A04": (
        "Register a patient",
        "An outpatient or emergency patient is registered (no admission).",
    ),
    "A05": (
        "Pre-admit a patient",
        "An admission is planned: demographics arrive before the patient does.",
    ),
    "A06": (
        "Change an outpatient to an inpatient",
        "The patient class becomes I: billing and worklists change category.",
    ),
    "A08": (
        "Update patient information",
        "Demographics or visit data changed: update them (the commonest ADT event).",
    ),
    "A11": (
        "Cancel admit/visit notification",
        "The A01/A04 was a mistake: undo the admission or registration.",
    ),
    "A12": ("Cancel transfer", "The A02 was a mistake: move the patient back."),
    "A13": ("Cancel discharge/end visit", "The A03 was a mistake: reopen the visit."),
    "A18": (
        "Merge patient information",
        "Two records are one patient: merge them (withdrawn after v2.6; use A40 and "
        "related events in newer versions).",
    ),
}

_FAMILY = [
    "DOE",
    "SMITH",
    "OKAFOR",
    "NGUYEN",
    "GARCIA",
    "MULLER",
    "KOWALSKI",
    "ROSSI",
    "TANAKA",
    "SILVA",
    "JOHANSSON",
    "DUBOIS",
    "KIM",
    "OLSEN",
    "HASSAN",
    "MURPHY",
]
_GIVEN = ["JANE", "JOHN", "ALEX", "MARIA", "WEI", "FATIMA", "LUCA", "AVA", "NOAH", "MIA", "ELIJAH"]
_FACILITIES = ["GENHOSP", "NORTHCLINIC", "EASTWING", "CHILDRENS", "DAYSURG"]
_ADT_TRIGGERS = ["A01", "A02", "A03", "A04", "A05", "A06", "A08", "A08", "A08", "A11", "A13"]
_ADT_STRUCTURE = {
    "A01": "ADT_A01",
    "A02": "ADT_A02",
    "A03": "ADT_A03",
    "A04": "ADT_A01",
    "A05": "ADT_A05",
    "A06": "ADT_A06",
    "A08": "ADT_A01",
    "A11": "ADT_A09",
    "A13": "ADT_A01",
}
_PROCEDURES = [
    ("CTCHEST", "CT chest", "CT"),
    ("CTHEAD", "CT head", "CT"),
    ("MRKNEE", "MR knee", "MR"),
    ("XRCHEST", "Chest X-ray", "CR"),
    ("USABDO", "US abdomen", "US"),
]


def synthetic_feed(count: int, seed: int = 0, start: str = "20240301") -> Iterator[str]:
    """Yield ``count`` varied messages (about 60 % ADT, 20 % ORM, 20 % ORU), reproducibly.

    Each message has an MSH with a sending facility, a time within the month of
    ``start`` (YYYYMMDD), a message type and trigger and a unique control ID,
    plus the PID, PV1, ORC/OBR and OBX segments a real feed would carry.
    """
    rng = random.Random(seed)
    month = start[:6]
    for n in range(count):
        facility = rng.choice(_FACILITIES)
        when = f"{month}{1 + rng.randrange(28):02d}{rng.randrange(24):02d}{rng.randrange(60):02d}00"
        pid = _segment(
            "PID",
            {
                1: "1",
                3: f"P{rng.randrange(10**6):06d}^^^{facility}^MR",
                5: f"{rng.choice(_FAMILY)}^{rng.choice(_GIVEN)}",
                7: f"19{rng.randrange(30, 99)}0{rng.randrange(1, 10)}1{rng.randrange(10)}",
                8: rng.choice("MF"),
            },
        )
        kind = rng.random()
        control = f"MSG{n:08d}"
        if kind < 0.6:
            trigger = rng.choice(_ADT_TRIGGERS)
            segments = [
                _msh(
                    "PAS",
                    facility,
                    "RIS",
                    "RADIOLOGY",
                    when,
                    f"ADT^{trigger}^{_ADT_STRUCTURE[trigger]}",
                    control,
                    "2.5.1",
                ),
                f"EVN|{trigger}|{when}",
                pid,
                _segment(
                    "PV1",
                    {
                        1: "1",
                        2: rng.choice("IOE"),
                        3: f"W{rng.randrange(9)}^{rng.randrange(1, 40)}^1^{facility}",
                    },
                ),
            ]
        elif kind < 0.8:
            code, text, modality = rng.choice(_PROCEDURES)
            acc = f"ACC{n:08d}"
            segments = [
                _msh(
                    "OrderPlacer",
                    facility,
                    "ImgOrdMgr",
                    "RADIOLOGY",
                    when,
                    "ORM^O01^ORM_O01",
                    control,
                    "2.5.1",
                ),
                pid,
                _segment("PV1", {1: "1", 2: "O"}),
                _segment("ORC", {1: "NW", 2: f"PLC{n:08d}", 5: "SC", 9: when}),
                _segment(
                    "OBR",
                    {
                        1: "1",
                        2: f"PLC{n:08d}",
                        4: f"{code}^{text}^L",
                        18: acc,
                        19: f"RP{n:08d}",
                        20: f"SPS{n:08d}",
                        24: modality,
                    },
                ),
            ]
        else:
            code, text, modality = rng.choice(_PROCEDURES)
            segments = [
                _msh("RIS", facility, "EHR", "GENHOSP", when, "ORU^R01^ORU_R01", control, "2.5.1"),
                pid,
                _segment(
                    "OBR", {1: "1", 3: f"ACC{n:08d}", 4: f"{code}^{text}^L", 24: modality, 25: "F"}
                ),
                f"OBX|1|TX|19005-8^Impression^LN||No acute abnormality on {text}.||||||F",
            ]
        yield "\r".join(segments)
