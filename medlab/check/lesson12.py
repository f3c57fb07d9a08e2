"""Exercises of lesson 12 (HL7 v2 messages)."""

from __future__ import annotations

import re
from typing import Any

from medlab.check import Exercise, WrongAnswer, expect_choice, normalise
from medlab.check._core import not_text_hint

_SETUP = "import medlab.hl7\nfrom medlab.hl7 import samples\n"


def _position(answer: Any) -> None:
    if not isinstance(answer, str):
        raise WrongAnswer("Give the position as text, e.g. 'PID-5.1'.")
    norm = re.sub(r"[\s_]", "", answer.upper()).replace(".", "-")
    if norm == "MSH-9-2":
        return
    if norm in ("MSH-9", "MSH-9-1", "MSH-9-3"):
        raise WrongAnswer(
            "MSH-9 is the whole message type, made of components: the message code, the "
            "trigger event and the message structure. Which component is the trigger?"
        )
    if norm.startswith("EVN-1"):
        raise WrongAnswer(
            "EVN-1 repeats the trigger in ADT messages only, and is kept for backward "
            "compatibility. Which field carries it in every message, whatever its type?"
        )
    if norm.startswith("MSH-10"):
        raise WrongAnswer(
            "MSH-10 is the message control ID, which an acknowledgement quotes. The trigger "
            "event is part of another MSH field."
        )
    raise WrongAnswer(
        "The trigger event is part of the message type, which the header (MSH) "
        "carries. Look at the dissection of MSH."
    )


def _escaped(answer: Any) -> None:
    if not isinstance(answer, str):
        raise WrongAnswer("Give the escaped value as text (a str).")
    if answer.strip() == "A\\T\\E":
        return
    if "&amp;" in answer:
        raise WrongAnswer(
            "That is how HTML and XML escape it. HL7 v2 has escape sequences of its own, "
            "built from the escape character that MSH-2 declares."
        )
    if "&" in answer:
        raise WrongAnswer(
            "A literal & is the sub-component separator: a receiver would split "
            "the name there. Replace it with its escape sequence."
        )
    raise WrongAnswer(
        "Each delimiter becomes the escape character, one letter, and the escape character "
        "again, and the letter names the delimiter: which delimiter is &?"
    )


def _patient_class(answer: Any) -> None:
    if not isinstance(answer, str):
        raise WrongAnswer(not_text_hint(answer))
    if normalise(answer) in ("emergency", "emergencypatient"):
        raise WrongAnswer(
            "That is what the code means. Give the value as PV1-2 carries it (a code from "
            "HL7 table 0004)."
        )
    if answer.strip().upper() == "I":
        raise WrongAnswer(
            "That is the class of the lesson's ADT^A01 patient. Read PV1-2 of the message "
            "the question names."
        )
    if answer.strip() != "E":
        raise WrongAnswer(
            "Parse the message the question names and read PV1-2 (msg.pv1.pv1_2.to_er7())."
        )


ex1 = Exercise(
    id="12.1",
    title="Where is the trigger event?",
    question="Give the position (like PID-5.1, in the form SEG-n.m) of the trigger event, e.g. "
    "A01, in any message. Use the dissection above, or compute it from "
    "medlab.hl7.dissect(...).",
    checker=_position,
    hints=(
        "It is in the message header, inside the message type field.",
        "The message type field has components: message code, trigger event, structure.",
    ),
    setup=_SETUP,
    solution_code="d = medlab.hl7.dissect(samples.ADT_A01)\n"
    'answer = next(r.position for r in d.rows if r.value == "A01")',
    wrong_code='answer = "MSH-9"',
    wrong_answers=(
        'answer = "MSH-9"  # the whole message type',
        'answer = "MSH-9.1"  # the message code',
        'answer = "MSH-9.3"  # the message structure',
        'answer = "EVN-1"  # ADT only, backward compatible',
        'answer = "MSH-10"  # the control ID',
    ),
)

ex2 = Exercise(
    id="12.2",
    title="Escape A&E",
    question='Give the text that must appear in a field for the department called "A&E", with '
    "the default delimiters.",
    checker=_escaped,
    hints=(
        "Which delimiter is &? Each delimiter has a one-letter escape code.",
        "medlab.hl7.escape does it for you; check the result with medlab.hl7.unescape.",
    ),
    setup=_SETUP,
    solution_code='answer = medlab.hl7.escape("A&E")',
    wrong_code='answer = "A&E"',
    wrong_answers=(
        'answer = "A&E"  # unescaped',
        'answer = "A\\\\&E"  # a C-style backslash escape',
        'answer = "A\\\\S\\\\E"  # S is the component separator',
        'answer = "A&amp;E"  # HTML escaping',
        'answer = "A\\\\E\\\\E"  # E is the escape character itself',
    ),
)

ex3 = Exercise(
    id="12.3",
    title="Outpatient becomes inpatient",
    question="A patient seen in an outpatient clinic is admitted to a ward. Which trigger event "
    'tells the RIS that the patient class of the visit changed? Answer "A01", "A04", "A06" '
    'or "A08".',
    checker=expect_choice(
        "A06",
        "That event exists, but it is not the one that changes an outpatient into an "
        "inpatient. Look at the table of trigger events.",
        accept=("ADT^A06", "ADT^A06^ADT_A06"),
        wrong={
            "A01": "A01 admits a patient and opens a new inpatient visit. This patient's "
            "visit exists already, as an outpatient one: which event changes its class?",
            "A04": "A04 registers an outpatient or emergency patient: the start of the "
            "outpatient visit, not its change into an inpatient one.",
            "A08": "A08 updates patient information in general. HL7 has a dedicated event for "
            "this change, so the receiver knows what happened: which one?",
        },
    ),
    hints=(
        "A01 admits a new inpatient visit; A08 updates demographics; which event changes "
        "the class of an existing visit?",
    ),
    choices=("A01", "A04", "A06", "A08"),
    setup=_SETUP,
    solution_code='answer = "A06"',
    wrong_code='answer = "A08"',
    wrong_answers=(
        'answer = "A01"  # a new admission',
        'answer = "A04"  # a registration',
        'answer = "A08"  # a generic update',
        'answer = "A07"  # the other direction, and not one of the choices',
    ),
)

ex4 = Exercise(
    id="12.4",
    title="Read a field with hl7apy",
    question="Parse samples.ADT_A04_AE and give its patient class (PV1-2) as text.",
    checker=_patient_class,
    hints=("msg = medlab.hl7.parse(samples.ADT_A04_AE), then msg.pv1.pv1_2.to_er7().",),
    setup=_SETUP,
    solution_code="msg = medlab.hl7.parse(samples.ADT_A04_AE)\nanswer = msg.pv1.pv1_2.to_er7()",
    wrong_code='answer = "I"',
    wrong_answers=(
        'answer = "I"  # the lesson\'s ADT^A01 patient',
        "msg = medlab.hl7.parse(samples.ADT_A04_AE)\nanswer = msg.pv1.pv1_2  # the field object",
        'answer = "Emergency"  # the meaning, not the code',
        'answer = "O"  # outpatient',
    ),
)
