"""Exercises for lesson 09, The modality's day: worklist and MPPS."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice


def _late_nset(answer: Any) -> None:
    if isinstance(answer, str):
        try:
            answer = int(answer, 16)
        except ValueError:
            raise WrongAnswer("Give the status as an int such as 0x0000.") from None
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give the status as an int such as 0x0000.")
    if answer == 0x0000:
        raise WrongAnswer("Did the PACS really accept it? Read the status of the N-SET response.")
    if answer == 0x0106:
        raise WrongAnswer(
            "DISCONTINUED is a valid value for the status; the PACS refused for another reason. "
            "Read the Status it sent."
        )
    if answer == 0x0111:
        raise WrongAnswer(
            "That is the answer to a second N-CREATE of the same instance; this was an N-SET."
        )
    if answer != 0x0110:
        raise WrongAnswer(
            "Read Status from the dataset send_n_set returns: it is a failure that "
            "says the step may no longer be updated (PS3.4 F.7.2)."
        )


ex1 = Exercise(
    id="09.1",
    title="How does a modality say 'I have started'?",
    question="Which DIMSE message and Performed Procedure Step Status does the modality send when it "
    "starts the examination? Choose one.",
    checker=expect_choice(
        "N-CREATE IN PROGRESS",
        "The MPPS instance does not exist until the modality starts: which N- service makes a new "
        "instance, and which status must a new step have?",
        wrong={
            "N-SET IN PROGRESS": "N-SET changes an instance that already exists; before the exam "
            "starts there is no MPPS instance yet.",
            "N-CREATE COMPLETED": "A step created as COMPLETED could never be updated again. What "
            "is the first status of a step?",
            "N-SET COMPLETED": "That is how the modality says it has finished.",
            "C-STORE": "C-STORE sends the images; the start of the exam is reported with MPPS.",
        },
    ),
    hints=(
        "N-SET changes an instance that already exists (PS3.7 §10.1.3).",
        "PS3.4 F.7.2: the N-CREATE must carry the first status of a step.",
    ),
    solution_code='answer = "N-CREATE IN PROGRESS"',
    wrong_code='answer = "N-SET IN PROGRESS"',
    wrong_answers=(
        'answer = "N-SET IN PROGRESS"',
        'answer = "N-CREATE COMPLETED"',
        'answer = "N-SET COMPLETED"  # the end, not the start',
        'answer = "C-STORE"',
    ),
    choices=("N-CREATE IN PROGRESS", "N-SET IN PROGRESS", "N-CREATE COMPLETED", "N-SET COMPLETED"),
)

ex2 = Exercise(
    id="09.2",
    title="Too late to change",
    question='What Status (an int) did the PACS answer to the N-SET "DISCONTINUED" after COMPLETED '
    "(step 8)?",
    checker=_late_nset,
    hints=(
        "Run the N-SET again with DISCONTINUED and print hex(status.Status).",
        "A COMPLETED or DISCONTINUED step is final: the SCP must refuse further changes.",
    ),
    solution_code="answer = 0x0110",
    wrong_code="answer = 0x0000",
    wrong_answers=(
        "answer = 0x0000  # as if it had been accepted",
        "answer = 0x0106  # invalid attribute value",
        "answer = 0x0111  # duplicate SOP instance, the N-CREATE status",
        "answer = 0xC000",
    ),
)

ex3 = Exercise(
    id="09.3",
    title="What does the worklist prevent?",
    question="Taking the patient's name, ID and accession number from the worklist instead of typing "
    "them at the console mainly prevents which problem?",
    checker=expect_choice(
        "mismatched demographics",
        "Think about what happens at the PACS when the images say one thing and the order another.",
        wrong={
            "lost images": "Images that were never archived are what storage commitment "
            "prevents. What goes wrong when demographics are typed by hand?",
            "unknown progress": "Knowing that an exam started or finished is what MPPS gives. "
            "What goes wrong when demographics are typed by hand?",
            "slow transfers": "The worklist does not touch how images travel. What goes wrong "
            "when demographics are typed by hand?",
        },
    ),
    hints=(
        "The images must be matched to the order and to the patient's record (reconciliation).",
        "Typing at the console is where 'SMITH^JON' and 'SMITH^JOHN' come from.",
    ),
    solution_code='answer = "mismatched demographics"',
    wrong_code='answer = "lost images"',
    wrong_answers=(
        'answer = "lost images"  # storage commitment',
        'answer = "unknown progress"  # MPPS',
        'answer = "slow transfers"',
    ),
    choices=("lost images", "mismatched demographics", "unknown progress", "slow transfers"),
)
