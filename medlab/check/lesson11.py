"""Exercises for lesson 11, Outside the PACS: de-identification and DICOMDIR."""

from __future__ import annotations

import re
from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice, expect_element

#: What lesson 11 knows about the patient of the deid_private study.
KNOWN = ["FERREIRA-SANTOS^LUCIA^M", "MLB-100911", "19820123"]

_SETUP_NAIVE = (
    "import pydicom\n"
    "import medlab.data\n"
    "import medlab.dicom\n"
    "path = medlab.data.study('deid_private') / 'series01_axial' / 'CT0001.dcm'\n"
    "naive = pydicom.dcmread(path)\n"
    "naive.PatientName = ''\n"
    "naive.PatientID = ''\n"
    f"known = {KNOWN!r}\n"
)


def _leaks() -> set[str]:
    import pydicom

    import medlab.data
    from medlab.dicom.phi import scan_phi

    ds = pydicom.dcmread(medlab.data.study("deid_private") / "series01_axial" / "CT0001.dcm")
    ds.PatientName = ""
    ds.PatientID = ""
    return {h.where[:11] for h in scan_phi(ds, KNOWN).hits if h.keyword.startswith("private")}


_TAG = re.compile(r"^\(?([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\)?$")


def _private_leaks(answer: Any) -> None:
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        raise WrongAnswer('Give a set of tags as strings, e.g. {"(0009,1001)", "(0011,1002)"}.')
    tags = set()
    for item in answer:
        match = _TAG.match(str(item).strip())
        if not match:
            raise WrongAnswer(f"{item!r} is not a tag: write each one as '(gggg,eeee)'.")
        tags.add(f"({match.group(1).upper()},{match.group(2).upper()})")
    truth = _leaks()
    if any(int(t[1:5], 16) % 2 == 0 for t in tags):
        raise WrongAnswer("Only private elements count here: their group number is odd.")
    if tags < truth:
        raise WrongAnswer(
            "Some are missing: look at every hit whose attribute is private, "
            "including those found inside a sequence (keep the top-level tag)."
        )
    if tags != truth:
        raise WrongAnswer(
            "Some of these tags do not carry the patient's identity: take the tags from "
            "the hits of scan_phi, not from the whole private block."
        )


ex1 = Exercise(
    id="11.1",
    title="Patient ID: remove, empty or replace?",
    question="In the Basic Profile (PS3.15 Table E.1-1), what is the action for Patient ID (0010,0020)? "
    "Answer with its code letter.",
    checker=expect_choice(
        "Z",
        "Patient ID is Type 2 in the Patient module: it must be present even when it has no value. "
        "Which action keeps the element but not its value?",
        wrong={
            "D": "D gives a non-empty dummy value, for Type 1 attributes. Patient ID is Type 2: "
            "may it be present but empty?",
            "U": "U is for UIDs: a new UID, the same everywhere. Patient ID is not a UID.",
            "K": "Keeping the Patient ID would leave the patient identifiable.",
        },
    ),
    hints=(
        "The action codes are D (dummy), Z (zero length), X (remove), K (keep), C (clean), U (new UID).",
        "medlab.dicom.deid.action_for('PatientID') looks it up in medlab's copy of the table.",
    ),
    solution_code='answer = "Z"',
    wrong_code='answer = "X"',
    wrong_answers=(
        'answer = "X"  # removed, as a Type 3 attribute would be',
        'answer = "D"  # a dummy, as for Type 1',
        'answer = "U"',
        'answer = "K"',
    ),
    choices=("D", "Z", "X", "U"),
)

ex2 = Exercise(
    id="11.2",
    title="What a naive anonymiser leaves behind",
    question="The naive copy of CT0001 had only Patient Name and Patient ID blanked. Which private "
    "elements (top-level tags, as '(gggg,eeee)' strings) still carry the patient's name, ID or "
    "birth date according to scan_phi? Give a set.",
    checker=_private_leaks,
    hints=(
        "scan = medlab.dicom.scan_phi(naive, known); each hit has .where (a tag path) and .keyword.",
        "Private hits have a keyword starting with 'private'; for a nested hit, keep the first 11 "
        "characters of .where (the top-level tag).",
    ),
    setup=_SETUP_NAIVE,
    solution_code="scan = medlab.dicom.scan_phi(naive, known)\n"
    "answer = {h.where[:11] for h in scan.hits if h.keyword.startswith('private')}",
    wrong_code='answer = {"(0019,1010)", "(0019,1011)"}',
    wrong_answers=(
        'answer = {"(0019,1010)", "(0019,1011)"}',
        "scan = medlab.dicom.scan_phi(naive, known)\n"
        "answer = {h.where[:11] for h in scan.hits}  # public hits too",
        "scan = medlab.dicom.scan_phi(naive, known)\n"
        "answer = {h.where[:11] for h in scan.hits if h.keyword.startswith('private')}\n"
        "answer = set(sorted(answer)[:-1])  # one missing",
        "answer = {f'({e.tag.group:04X},{e.tag.element:04X})' for e in naive if e.tag.is_private}"
        "  # the whole private blocks",
    ),
)


_STUDY_RECORD = expect_element(
    "StudyID",
    "Read the error message of write_media: it names the element and its tag.",
    wrong={
        "StudyDate": "With the date-shift option the study date keeps a (shifted) value. "
        "Read the error message again.",
        "StudyTime": "With the date-shift option the study time keeps a value. "
        "Read the error message again.",
        "AccessionNumber": "Accession Number is Type 2 in a STUDY record: it may be empty. "
        "Which Type 1 key is empty?",
        "StudyInstanceUID": "The Basic Profile replaces UIDs with new ones (U); they are never "
        "empty. Which Type 1 key is empty?",
        "PatientID": "Step 10 gave a pseudonym for Patient ID, and that is a PATIENT record key. "
        "Which key of the STUDY record is empty?",
    },
)


ex3 = Exercise(
    id="11.3",
    title="What a DICOMDIR record cannot do without",
    question="With the date-shift option, the study date and time survive de-identification, yet "
    "pydicom still refuses to write the STUDY record of the DICOMDIR. Which attribute, emptied by "
    "the Basic Profile, does that record require (Type 1)? Give its keyword.",
    checker=_STUDY_RECORD,
    hints=(
        "The error message names the element that cannot be empty.",
        "A STUDY record (PS3.3 F.5.2) needs Study Date, Study Time and one more Type 1 attribute "
        "that identifies the study for people.",
    ),
    setup="",
    solution_code='answer = "StudyID"',
    wrong_code='answer = "AccessionNumber"',
    wrong_answers=(
        'answer = "AccessionNumber"  # Type 2 in the STUDY record',
        'answer = "StudyDate"  # what the old advice named',
        'answer = "StudyTime"',
        'answer = "StudyInstanceUID"',
        'answer = "(0010,0020)"  # Patient ID, a PATIENT record key',
    ),
)
