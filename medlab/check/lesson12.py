"""Exercises of lesson 12 (HL7 v2 messages)."""

from __future__ import annotations

import re
from typing import Any

from medlab.check import Exercise, WrongAnswer, expect_choice

_SETUP = "import medlab.hl7\nfrom medlab.hl7 import samples\n"


def _position(answer: Any) -> None:
    if not isinstance(answer, str):
        raise WrongAnswer("Give the position as text, e.g. 'PID-5.1'.")
    norm = re.sub(r"[\s_]", "", answer.upper()).replace(".", "-")
    if norm == "MSH-9-2":
        return
    if norm.startswith("MSH-9"):
        raise WrongAnswer(
            "MSH-9 is the whole message type; the trigger event is one of its "
            "components. Which one?"
        )
    raise WrongAnswer(
        "The trigger event is part of the message type, which the header (MSH) "
        "carries. Look at the dissection of MSH."
    )


def _escaped(answer: Any) -> None:
    if not isinstance(answer, str):
        raise WrongAnswer("Give the escaped value as text (a str).")
    if "&" in answer:
        raise WrongAnswer(
            "A literal & is the sub-component separator: a receiver would split "
            "the name there. Replace it with its escape sequence."
        )
    if answer != "A\\T\\E":
        raise WrongAnswer(
            "Each delimiter becomes the escape character, one letter, and the "
            "escape character again; & is the sub-component separator."
        )


ex1 = Exercise(
    id="12.1",
    title="Where is the trigger event?",
    question="Which position (in the form SEG-n.m) holds the trigger event, e.g. A01, of a "
    "message?",
    checker=_position,
    hints=(
        "It is in the message header, inside the message type field.",
        "The message type field has components: message code, trigger event, structure.",
    ),
    setup=_SETUP,
    solution_code="d = medlab.hl7.dissect(samples.ADT_A01)\n"
    'answer = next(r.position for r in d.rows if r.value == "A01")',
    wrong_code='answer = "MSH-9"',
)

ex2 = Exercise(
    id="12.2",
    title="Escape A&E",
    question="The emergency department is called A&E. Give the value as it must appear in an "
    "HL7 field with the default delimiters.",
    checker=_escaped,
    hints=(
        "Which delimiter is &? Each delimiter has a one-letter escape code.",
        "medlab.hl7.escape does it for you; check the result with medlab.hl7.unescape.",
    ),
    setup=_SETUP,
    solution_code='answer = medlab.hl7.escape("A&E")',
    wrong_code='answer = "A&E"',
)

ex3 = Exercise(
    id="12.3",
    title="Outpatient becomes inpatient",
    question="A patient seen in an outpatient clinic is admitted to a ward. Which ADT trigger "
    "event tells the RIS that the patient class changed?",
    checker=expect_choice(
        "A06",
        "That event exists, but it is not the one that changes an "
        "outpatient into an inpatient. Look at the table of trigger events.",
    ),
    hints=(
        "A01 admits a new inpatient visit; A08 updates demographics; which event changes "
        "the class of an existing visit?",
    ),
    choices=("A01", "A04", "A06", "A08"),
    setup=_SETUP,
    solution_code='answer = "A06"',
    wrong_code='answer = "A08"',
)

ex4 = Exercise(
    id="12.4",
    title="Read a field with hl7apy",
    question="Parse samples.ADT_A04_AE and give its patient class (PV1-2) as text.",
    checker=expect_choice(
        "E",
        "Read PV1-2 of that message (msg.pv1.pv1_2.to_er7()); the "
        "lesson's ADT^A01 is a different patient.",
    ),
    hints=("msg = medlab.hl7.parse(samples.ADT_A04_AE), then msg.pv1.pv1_2.to_er7().",),
    setup=_SETUP,
    solution_code="msg = medlab.hl7.parse(samples.ADT_A04_AE)\nanswer = msg.pv1.pv1_2.to_er7()",
    wrong_code='answer = "I"',
)
