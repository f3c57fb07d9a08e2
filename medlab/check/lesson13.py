"""Exercises of lesson 13 (HL7 ACKs, MLLP and orders)."""

from __future__ import annotations

from typing import Any

from medlab.check import Exercise, WrongAnswer, expect_choice, expect_element

_SETUP = "import medlab.hl7\nfrom medlab.hl7 import samples\n"


def _ack_of_a06(answer: Any) -> None:
    from medlab.errors import MedlabError
    from medlab.hl7 import er7, parse
    from medlab.hl7.message import delimiters, segment_fields

    try:
        text = er7(answer) if not isinstance(answer, (str, bytes)) else er7(parse(answer))
    except (MedlabError, AttributeError, TypeError):
        raise WrongAnswer(
            "Give the acknowledgement as a message (what medlab.hl7.ack returns) or its text."
        ) from None
    d = delimiters(text)
    segs = {s[:3]: segment_fields(s, d) for s in text.split("\r")}
    msh = segs["MSH"]
    if "MSA" not in segs or "PID" in segs:
        raise WrongAnswer(
            "An acknowledgement is a new, short message (MSH and MSA, plus ERR on "
            "errors), not the original message sent back."
        )
    if msh[9].split(d.component)[:2] != ["ACK", "A06"]:
        raise WrongAnswer(
            "Look at MSH-9 of your answer: an acknowledgement has its own message "
            "type, which keeps the trigger event of the message it answers."
        )
    if (msh[3], msh[5]) != ("RIS", "PAS"):
        raise WrongAnswer("Who sends the acknowledgement? Sender and receiver swap places.")
    msa = segs["MSA"]
    if msa[1] != "AE":
        raise WrongAnswer(
            "MSA-1 must say the message could not be processed because of its "
            "content: which code is that?"
        )
    if len(msa) < 3 or msa[2] != "CH0007":
        raise WrongAnswer("MSA-2 must let the sender know which message is answered.")


def _end_block(answer: Any) -> None:
    if not isinstance(answer, (bytes, bytearray)):
        raise WrongAnswer("Give bytes, e.g. b'\\x0b'.")
    if bytes(answer) == b"\x0b":
        raise WrongAnswer("That byte opens a frame. What closes it?")
    if bytes(answer) != b"\x1c\x0d":
        raise WrongAnswer(
            "A frame ends with two bytes: the file separator character and a carriage return."
        )


ex1 = Exercise(
    id="13.1",
    title="Which code for an unsupported message?",
    question="A RIS that only handles ADT and orders receives an ORU^R01. Which "
    "acknowledgement code (MSA-1) should it answer?",
    checker=expect_choice(
        "AR", "Is the message's content wrong, or is this kind of message not handled at all?"
    ),
    hints=(
        "AE means: I understood it but its content is wrong. AR means: I do not process "
        "this at all (type, version, processing ID), or I am not able to right now.",
    ),
    choices=("AA", "AE", "AR", "CA"),
    setup=_SETUP,
    solution_code='answer = "AR"',
    wrong_code='answer = "AE"',
)

ex2 = Exercise(
    id="13.2",
    title="Build the acknowledgement",
    question="samples.ADT_A06 has no usable date of birth in the receiver's opinion. Build the "
    "acknowledgement the RIS sends back: an application error, saying why.",
    checker=_ack_of_a06,
    hints=(
        "medlab.hl7.ack(message, code, text, where=...) builds it.",
        "An error in the content is AE; where is the date of birth?",
    ),
    setup=_SETUP + "msg = medlab.hl7.parse(samples.ADT_A06)\n",
    solution_code='answer = medlab.hl7.ack(msg, "AE", "date of birth missing", where="PID-7")',
    wrong_code="answer = msg",
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
)

ex4 = Exercise(
    id="13.4",
    title="Where does OBR-18 go?",
    question="In the order-to-worklist mapping, which DICOM attribute (keyword) is filled from "
    "OBR-18 of an ORM^O01?",
    checker=expect_element(
        "AccessionNumber",
        "Not that one. Look up OBR-18 in the mapping table (medlab.hl7.orders.mapping_table()).",
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
)
