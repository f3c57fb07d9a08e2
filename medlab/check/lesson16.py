"""Exercises for lesson 16, DICOMweb and a real web viewer.

The answers are what medlab's DICOMweb server really does: the QIDO-RS target of
ex1 finds the MR study, the path of ex2 leads to the name in a real QIDO-RS
answer, and ex3's status is what the server answers (tests/unit/test_lesson16.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from medlab.check._core import Exercise, WrongAnswer

# --------------------------------------------------------------------------- 16.1

_LEVELS = {"studies", "series", "instances"}


def _keyword(name: str) -> str:
    """A QIDO-RS attribute as its keyword (``00100020`` -> ``PatientID``)."""
    from pydicom.datadict import keyword_for_tag

    if len(name) == 8 and all(c in "0123456789abcdefABCDEF" for c in name):
        return keyword_for_tag(int(name, 16)) or name
    return name


def _check_qido(answer: Any) -> None:
    if not isinstance(answer, str):
        raise WrongAnswer("Give the request target as text, e.g. '/studies?...'.")
    parts = urlsplit(answer.strip())
    path = parts.path.rstrip("/")
    resource = path.rsplit("/", 1)[-1]
    if resource not in _LEVELS:
        if "MLB" in path or "PatientID" in path:
            raise WrongAnswer(
                "The resource in the path names what you search for; the matching values go "
                "in the query string, after '?' (PS3.18 §10.6.1)."
            )
        raise WrongAnswer("Which resource lists studies? The target starts with it.")
    if resource != "studies" or path.count("/") > path.startswith("/") + path.count("dicom-web"):
        raise WrongAnswer("This searches another level: the question asks for the studies.")
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[_keyword(unquote(name))] = unquote(value)
    for extra in ("includefield", "limit", "offset"):
        query.pop(extra, None)
    if "PatientID" not in query:
        raise WrongAnswer(
            "The patient is given by an identifier: which attribute holds it (not the name)?"
        )
    if query["PatientID"] != "MLB-100587":
        raise WrongAnswer("Check the patient's identifier: copy it exactly.")
    date = query.get("StudyDate")
    if date is None:
        raise WrongAnswer("Which attribute holds the date a study was done? Match on it too.")
    if "*" in date or "?" in date or "-" not in date or len(date) != 17:
        raise WrongAnswer(
            "A date is matched as a range, first-last, both YYYYMMDD (PS3.4 C.2.2.2.5); "
            "wildcards do not apply to dates."
        )
    if date != "20260401-20260430":
        raise WrongAnswer("The range must cover April 2026 exactly: its first and its last day.")
    unknown = sorted(set(query) - {"PatientID", "StudyDate"})
    if unknown:
        raise WrongAnswer(f"Only two matching keys are needed; drop {', '.join(unknown)}.")


ex1 = Exercise(
    id="16.1",
    title="A QIDO-RS search, written by hand",
    question="Write the request target (the part after the DICOMweb base URL, starting with /) "
    "of the QIDO-RS search for the studies of the patient with ID MLB-100587 done in April 2026.",
    checker=_check_qido,
    hints=(
        "Look at the target http.last() showed for search_for_studies: a resource, then '?', "
        "then attribute=value pairs joined by '&'.",
        "Dates are matched with a range YYYYMMDD-YYYYMMDD (PS3.4 C.2.2.2.5).",
    ),
    solution_code='answer = "/studies?PatientID=MLB-100587&StudyDate=20260401-20260430"',
    wrong_code='answer = "/studies?PatientID=MLB-100587&StudyDate=202604*"',
    wrong_answers=(
        'answer = "/series?PatientID=MLB-100587&StudyDate=20260401-20260430"  # another level',
        'answer = "/studies/MLB-100587?StudyDate=20260401-20260430"  # the patient in the path',
        'answer = "/studies?PatientID=MLB-100587&StudyDate=202604*"  # a wildcard on a date',
        'answer = "/studies?PatientName=MLB-100587&StudyDate=20260401-20260430"  # ID as a name',
        'answer = "/studies?PatientID=MLB-100587&StudyDate=20260401-20260501"  # one day too many',
    ),
)

# --------------------------------------------------------------------------- 16.2

_NAME = "OKONKWO^BENEDICT"


def _qido_study() -> dict[str, Any]:
    """A QIDO-RS study result in the DICOM JSON model (PS3.18 Annex F), made by pydicom."""
    from pydicom import Dataset

    ds = Dataset()
    ds.PatientName = _NAME
    ds.PatientID = "MLB-100587"
    ds.StudyInstanceUID = "2.25.173643248222056729459918160211859652028"
    ds.StudyDate = "20260422"
    return ds.to_json_dict()


def _check_path(answer: Any) -> None:
    if not isinstance(answer, (list, tuple)):
        raise WrongAnswer("Give the path as a list of keys and indexes, e.g. ['…', 'Value', 0].")
    node: Any = _qido_study()
    for step in answer:
        if isinstance(step, str) and (
            step in ("PatientName", "Patient's Name") or "," in step or "(" in step
        ):
            raise WrongAnswer(
                "DICOM JSON keys are not keywords: each attribute is keyed by its tag, "
                "8 uppercase hex digits without comma or brackets (PS3.18 §F.2.2)."
            )
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            if isinstance(node, list):
                raise WrongAnswer("'Value' is a list (an attribute may have several values): "
                                  "index it first.") from None  # fmt: skip
            raise WrongAnswer(
                f"The step {step!r} does not exist there: print the dict at that point "
                "and look at its keys."
            ) from None
    if node == _NAME:
        return
    if isinstance(node, dict) and "Alphabetic" in node:
        raise WrongAnswer(
            "Almost: a person name is an object with up to three representations (PS3.18 "
            "§F.2.2): take the one written in the Latin alphabet."
        )
    raise WrongAnswer("That path does not lead to the name as text; follow it step by step.")


ex2 = Exercise(
    id="16.2",
    title="The JSON path of a value",
    question="In a QIDO-RS study result `study` (a dict), the list "
    '["0020000D", "Value", 0] leads to the Study Instance UID: '
    'study["0020000D"]["Value"][0]. Which list leads to the patient\'s name as text?',
    checker=_check_path,
    hints=(
        "Start from the tag of Patient's Name (0010,0010), written the JSON way.",
        "Print study[tag]: what does its 'Value' hold for a PN?",
    ),
    solution_code='answer = ["00100010", "Value", 0, "Alphabetic"]',
    wrong_code='answer = ["00100010", "Value", 0]',
    wrong_answers=(
        'answer = ["PatientName"]  # the keyword, as in pydicom',
        'answer = ["00100010", "Value", 0]  # stops at the PN object',
        'answer = ["0010,0010", "Value", 0, "Alphabetic"]  # the tag as printed by pydicom',
        'answer = ["00100010", "Alphabetic"]  # skips Value',
        'answer = ["00100010", "Value", "Alphabetic"]  # forgets that Value is a list',
    ),
)

# --------------------------------------------------------------------------- 16.3


def _check_status(answer: Any) -> None:
    try:
        status = int(answer)
    except (TypeError, ValueError):
        raise WrongAnswer("Give the HTTP status as a number, e.g. 201.") from None
    if status == 409:
        return
    hints = {
        200: "Was anything stored? 200 says every instance was (PS3.18 Table 10.5.3-1).",
        201: "Was anything stored? Read FailedSOPSequence in the answer's body.",
        202: "202 is for a request where some instances were stored and some were not.",
        400: "The body was split into its parts without trouble: the request itself was well "
        "formed. What was wrong is the content of its one part.",
        415: "415 is for a request whose Content-Type the server does not take; this one "
        "declared the right media type.",
        500: "A server error is never the answer to bad input (PS3.18 §8.1.2.1).",
    }
    raise WrongAnswer(hints.get(status, "Send it and read rsp.status_code: the archive tells you."))


ex3 = Exercise(
    id="16.3",
    title="A STOW-RS of something that is not DICOM",
    question='The body below is a well-formed multipart/related; type="application/dicom" '
    "request, but its only part is a PDF, not a DICOM file. Send it to the STOW-RS resource "
    '(pacs.dicomweb_url + "/studies") with requests.post(url, data=body, headers=headers): '
    "which HTTP status does the archive answer?",
    checker=_check_status,
    hints=(
        "Send it with requests.post as in the exercise cell, and read rsp.status_code.",
        "PS3.18 Table 10.5.3-1 lists the statuses of the Store transaction: which one says "
        "that nothing could be stored?",
    ),
    solution_code="answer = 409",
    wrong_code="answer = 415",
    wrong_answers=(
        "answer = 415  # not DICOM, so 'unsupported media type'",
        "answer = 400  # a bad request",
        "answer = 200  # HTTP worked, the failure is in the body",
        "answer = 202  # accepted for later",
    ),
)
