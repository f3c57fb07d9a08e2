"""Exercises of lesson 13 (HL7 ACKs, MLLP and orders)."""

from __future__ import annotations

from typing import Any

from medlab.check import Exercise, WrongAnswer, expect_choice, expect_element

_SETUP = "import medlab.hl7\nfrom medlab.hl7 import samples\n"


#: The message exercise 13.2 answers, and what its acknowledgement must say.
_ORIGINAL_ID = "CH0009"
_REASON_WORDS = ("birth", "dob", "born", "pid-7", "pid 7")


def _segments(answer: Any) -> tuple[Any, dict[str, list[list[str]]]]:
    from medlab.errors import MedlabError
    from medlab.hl7 import er7, parse
    from medlab.hl7.message import delimiters, segment_fields

    try:
        text = er7(parse(answer)) if isinstance(answer, (str, bytes)) else er7(answer)
    except (MedlabError, AttributeError, TypeError, ValueError):
        raise WrongAnswer(
            "Give the acknowledgement as a message (what medlab.hl7.ack returns) or its text."
        ) from None
    d = delimiters(text)
    segs: dict[str, list[list[str]]] = {}
    for segment in filter(None, text.split("\r")):
        segs.setdefault(segment[:3], []).append(segment_fields(segment, d))
    return d, segs


def _field(fields: list[str], n: int) -> str:
    return fields[n] if len(fields) > n else ""


def _ack_of_a06(answer: Any) -> None:
    """13.2: an AE acknowledgement of ADT_A06_NO_DOB, as HL7 v2.5.1 chapter 2 builds it."""
    from medlab.hl7.escaping import unescape

    d, segs = _segments(answer)
    if "MSA" not in segs or "PID" in segs:
        raise WrongAnswer(
            "An acknowledgement is a new, short message (MSH and MSA, plus ERR on "
            "errors), not the original message sent back."
        )
    msh, msa = segs["MSH"][0], segs["MSA"][0]
    msg_type = _field(msh, 9).split(d.component)
    if msg_type[:2] != ["ACK", "A06"]:
        raise WrongAnswer(
            "Look at MSH-9 of your answer: an acknowledgement has its own message "
            "code, and keeps the trigger event of the message it answers."
        )
    if msg_type[2:3] != ["ACK"]:
        raise WrongAnswer(
            "MSH-9.3 is the message structure, and an acknowledgement has the structure of "
            "an acknowledgement, whatever message it answers (HL7 v2.5.1 chapter 2, ACK)."
        )
    if (_field(msh, 3), _field(msh, 5)) != ("RIS", "PAS"):
        raise WrongAnswer("Who sends the acknowledgement? Sender and receiver swap places.")
    if _field(msh, 10) in ("", _ORIGINAL_ID):
        raise WrongAnswer(
            "MSH-10 is the control ID of *this* message: the acknowledgement is a new "
            "message and needs its own. The original's control ID goes elsewhere."
        )
    if _field(msa, 1) != "AE":
        raise WrongAnswer(
            "MSA-1 must say the message could not be processed because of its "
            "content: which code is that?"
        )
    if _field(msa, 2) != _ORIGINAL_ID:
        raise WrongAnswer("MSA-2 must let the sender know which message is answered.")
    if "ERR" not in segs:
        raise WrongAnswer(
            "The sender needs to know what to fix: an application error carries an ERR "
            "segment saying where (ERR-2) and why (ERR-3, and a text). Look at ack's arguments."
        )
    err = segs["ERR"][0]
    location = _field(err, 2).split(d.component) if _field(err, 2) else []
    if not location:  # before v2.5: ERR-1, segment^sequence^field^code
        location = _field(err, 1).split(d.component)
    segment, field_no = (location + ["", "", ""])[0], (location + ["", "", ""])[2]
    if segment != "PID" or field_no != "7":
        raise WrongAnswer(
            "The ERR location (ERR-2: segment^sequence^field) must point at the field that "
            "is missing. Which field of which segment holds the date of birth?"
        )
    code = _field(err, 3).split(d.component)[0]
    if code != "101":
        raise WrongAnswer(
            f"ERR-3 says error {code or '(none)'}: look the condition up in HL7 table 0357 "
            "(medlab.hl7.acks.ERROR_CODES). Which code says a required field is missing?"
        )
    if _field(err, 4) not in ("E", "F"):
        raise WrongAnswer("ERR-4 (severity, HL7 table 0516) must say this is an error.")
    reason = " ".join(
        unescape(text, d) for text in (_field(err, 8), _field(msa, 3)) if text
    ).casefold()
    if not any(word in reason for word in _REASON_WORDS):
        raise WrongAnswer(
            "Say why in words the sender's staff understand (ack's text argument): what is "
            "wrong with this patient's data?"
        )


def _end_block(answer: Any) -> None:
    if isinstance(answer, str):
        raise WrongAnswer("Give bytes (a b'...' literal), not text: a socket carries bytes.")
    if not isinstance(answer, (bytes, bytearray)):
        raise WrongAnswer("Give bytes, e.g. b'\\x0b'.")
    given = bytes(answer)
    if given == b"\x0b":
        raise WrongAnswer("That byte opens a frame. What closes it?")
    if given == b"\x1c":
        raise WrongAnswer("That is the first of the closing bytes: what follows it?")
    if given == b"\r":
        raise WrongAnswer(
            "A carriage return ends every segment too, so alone it cannot end a frame: "
            "which byte comes just before it?"
        )
    if given != b"\x1c\x0d":
        raise WrongAnswer(
            "A frame ends with two bytes: the file separator character and a carriage return."
        )


ex1 = Exercise(
    id="13.1",
    title="Which code for an unsupported message?",
    question="A RIS that only handles ADT and orders receives an ORU^R01. Which "
    'acknowledgement code (MSA-1) should it answer: "AA", "AE", "AR" or "CA"?',
    checker=expect_choice(
        "AR",
        "Is the message's content wrong, or is this kind of message not handled at all?",
        wrong={
            "AE": "AE says: I understood this message, but its content is wrong. Nothing is "
            "wrong with this report; the RIS does not handle reports at all.",
            "AA": "AA tells the sender the report was processed. Was it?",
            "CA": "CA is a commit accept of enhanced mode: the transport layer's receipt, "
            "before any application looks at the message. Which original-mode application "
            "code turns the message down?",
        },
    ),
    hints=(
        "AA, AE and AR are the application acknowledgement codes of original mode (HL7 table "
        "0008); CA, CE and CR are enhanced mode's commit acknowledgements.",
        "Which one says 'I do not process this kind of message at all' (type, version, "
        "processing ID), rather than 'your content is wrong'?",
    ),
    choices=("AA", "AE", "AR", "CA"),
    setup=_SETUP,
    solution_code='answer = "AR"',
    wrong_code='answer = "AE"',
    wrong_answers=(
        'answer = "AE"  # the content is fine: the message type is not handled',
        'answer = "AA"  # the message is not processed',
        'answer = "CA"  # enhanced mode commit accept, not an application answer',
        'answer = "CR"  # enhanced mode, and not one of the choices',
    ),
)

_ACK_SETUP = _SETUP + "msg = medlab.hl7.parse(samples.ADT_A06_NO_DOB)\n"

ex2 = Exercise(
    id="13.2",
    title="Build the acknowledgement",
    question="samples.ADT_A06_NO_DOB arrives without the patient's date of birth, which the "
    "RIS requires. Build the acknowledgement the RIS sends back: an application error that "
    "says why (a reason in words and the HL7 error code) and where (the missing field).",
    checker=_ack_of_a06,
    hints=(
        "medlab.hl7.ack(msg, code, text, where=..., error_code=...) builds it: see step 2 "
        "of the lesson.",
        "An error in the content is AE; the date of birth is a field of PID (lesson 12); "
        "medlab.hl7.acks.ERROR_CODES is HL7 table 0357.",
    ),
    setup=_ACK_SETUP,
    solution_code='answer = medlab.hl7.ack(msg, "AE", "date of birth missing", where="PID-7", '
    "error_code=101)",
    wrong_code="answer = msg",
    wrong_answers=(
        "answer = msg  # the original sent back",
        # written by hand: MSH-9 is not an ACK structure, MSH-10 reuses the original's
        # control ID, and there is no ERR
        'answer = "MSH|^~\\\\&|RIS|GENHOSP|PAS|GENHOSP|20240312||ACK^A06^ADT_A06|CH0009|P|2.5.1'
        '\\rMSA|AE|CH0009"',
        'answer = "MSH|^~\\\\&|RIS|GENHOSP|PAS|GENHOSP|20240312||ACK^A06^ACK|CH0009|P|2.5.1'
        '\\rMSA|AE|CH0009"  # the original control ID reused',
        'answer = "MSH|^~\\\\&|RIS|GENHOSP|PAS|GENHOSP|20240312||ACK^A06^ACK|ACK01|P|2.5.1'
        '\\rMSA|AE|CH0009"  # no ERR: says neither why nor where',
        'answer = medlab.hl7.ack(msg, "AE")  # no reason, no ERR',
        'answer = medlab.hl7.ack(msg, "AE", "date of birth missing", where="PID-3", '
        "error_code=101)  # PID-3 is the identifier",
        'answer = medlab.hl7.ack(msg, "AE", "Patient is fine", where="PID-7", error_code=101)',
        'answer = medlab.hl7.ack(msg, "AE", "date of birth missing", where="PID-7")'
        "  # error 207, application internal error",
        'answer = medlab.hl7.ack(msg, "AR", "date of birth missing", where="PID-7", '
        "error_code=101)  # reject: the message type is handled",
        'answer = medlab.hl7.ack(msg, "AA")',
        'answer = medlab.hl7.ack(medlab.hl7.parse(samples.ADT_A06), "AE", "date of birth '
        'missing", where="PID-7", error_code=101)  # answers another message',
    ),
)

ex3 = Exercise(
    id="13.3",
    title="The end of a frame",
    question="Which bytes end an MLLP frame? Give them as a bytes literal.",
    checker=_end_block,
    hints=("medlab.hl7.frame('MSH|...') shows a whole frame.",),
    setup=_SETUP,
    solution_code='answer = medlab.hl7.frame("MSH")[-2:]',
    wrong_code='answer = b"\\x0b"',
    wrong_answers=(
        'answer = b"\\x0b"  # the start block',
        'answer = b"\\x1c"  # only the first of the two',
        'answer = b"\\r"  # only the last, which also ends every segment',
        'answer = b"\\x1c\\n"  # a line feed is not a carriage return',
        'answer = "\\x1c\\r"  # a str, not bytes',
    ),
)

ex4 = Exercise(
    id="13.4",
    title="Where does OBR-18 go?",
    question="In the order-to-worklist mapping, which DICOM attribute is filled from OBR-18 of "
    "an ORM^O01? Give its keyword, name or tag.",
    checker=expect_element(
        "AccessionNumber",
        "Not that one. Look up OBR-18 in the mapping table (orders.WORKLIST_MAPPING).",
        wrong={
            "StudyInstanceUID": "In IHE's mapping of an ORM the study's UID does not come from "
            "OBR: the RIS assigns it and sends it in the Z-segment ZDS.",
            "RequestedProcedureID": "That one comes from the next field, OBR-19.",
            "ScheduledProcedureStepID": "That one comes from OBR-20, the filler's field.",
        },
    ),
    hints=(
        "The RIS uses this number to identify the imaging request; the modality copies it "
        "into every image.",
    ),
    choices=(
        "AccessionNumber",
        "StudyInstanceUID",
        "RequestedProcedureID",
        "ScheduledProcedureStepID",
    ),
    setup=_SETUP,
    solution_code="from medlab.hl7.orders import WORKLIST_MAPPING\n"
    'answer = next(k for k, tag, orm, omi in WORKLIST_MAPPING if orm == "OBR-18")',
    wrong_code='answer = "StudyInstanceUID"',
    wrong_answers=(
        'answer = "Study Instance UID"  # the RIS assigns it (ZDS)',
        'answer = "(0040,1001)"  # Requested Procedure ID, from OBR-19',
        'answer = "ScheduledProcedureStepID"  # from OBR-20',
        'answer = "PatientID"  # from PID-3, and not one of the choices',
    ),
)
