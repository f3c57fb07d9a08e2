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
    ),
    hints=(
        "N-SET changes an instance that already exists (PS3.7 §10.1.1).",
        "PS3.4 F.7.2: the N-CREATE must carry the first status of a step.",
    ),
    solution_code='answer = "N-CREATE IN PROGRESS"',
    wrong_code='answer = "N-SET IN PROGRESS"',
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
)

ex3 = Exercise(
    id="09.3",
    title="What does the worklist prevent?",
    question="Taking the patient's name, ID and accession number from the worklist instead of typing "
    "them at the console mainly prevents which problem?",
    checker=expect_choice(
        "mismatched demographics",
        "Think about what happens at the PACS when the images say one thing and the order another.",
    ),
    hints=(
        "The images must be matched to the order and to the patient's record (reconciliation).",
        "Typing at the console is where 'SMITH^JON' and 'SMITH^JOHN' come from.",
    ),
    solution_code='answer = "mismatched demographics"',
    wrong_code='answer = "lost images"',
    choices=("lost images", "mismatched demographics", "unknown progress", "slow transfers"),
)
