"""Exercises for lesson 08, Store, query and retrieve."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice


def _count(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give a whole number (an int): read it from the C-FIND result.")
    if answer in (12, 8):
        raise WrongAnswer(
            "That is one series. The study-level key counts the instances of the whole study."
        )
    if answer == 21:
        raise WrongAnswer(
            "The first image was sent twice, but with the same SOP Instance UID: it is one "
            "instance, and the archive keeps it once."
        )
    if answer in (1, 2):
        raise WrongAnswer(
            "That counts studies or series; NumberOfStudyRelatedInstances counts instances."
        )
    if answer != 20:
        raise WrongAnswer("Query at STUDY level and read NumberOfStudyRelatedInstances.")


def _status(answer: Any) -> None:
    if isinstance(answer, str):
        try:
            answer = int(answer, 16)
        except ValueError:
            raise WrongAnswer(
                "Give the status as an int such as 0x0000 (or its text '0x0000')."
            ) from None
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give the status as an int such as 0x0000.")
    if answer == 0x0000:
        raise WrongAnswer(
            "Did the move succeed? RECEIVER got the study; did anything reach 'NOWHERE'? "
            "Read the Status of the last response."
        )
    if answer in (0xA701, 0xA702):
        raise WrongAnswer(
            "The PACS has the resources; it cannot send because of the destination. Read "
            "the Status of the last response."
        )
    if answer == 0xB000:
        raise WrongAnswer(
            "A warning means some sub-operations ran. Did any C-STORE reach 'NOWHERE'?"
        )
    if 0xFF00 <= answer <= 0xFF01:
        raise WrongAnswer(
            "That is a Pending status: the C-MOVE never got to sending anything. "
            "Read the final response."
        )
    if answer != 0xA801:
        raise WrongAnswer(
            "Read Status from the last response of send_c_move: it is a Failure status "
            "of the C-MOVE service (PS3.4 C.4.2)."
        )


ex1 = Exercise(
    id="08.1",
    title="How many instances in the study?",
    question="Query the PACS at STUDY level for the CT phantom study (PatientID MLB-100234, Modality "
    "CT) and read NumberOfStudyRelatedInstances. How many instances does the study have?",
    checker=_count,
    hints=(
        "find(pacs, 'STUDY', PatientID='MLB-100234') returns the identifiers; each is a Dataset.",
        "result[0].NumberOfStudyRelatedInstances is an IS (integer string): int(...) it.",
    ),
    setup="import medlab.data",
    solution_code="answer = len([p for p in medlab.data.study('ct_phantom').rglob('*') if p.is_file()])",
    wrong_code="answer = 12",
    wrong_answers=(
        "answer = 12  # one series",
        "answer = 21  # the re-sent first image counted twice",
        "answer = 2  # NumberOfStudyRelatedSeries",
        "answer = 1  # the number of studies found",
    ),
)

ex2 = Exercise(
    id="08.2",
    title="A move to nowhere",
    question="C-MOVE the CT study to the destination 'NOWHERE', which the PACS does not know. What "
    "is the Status of the final response (an int)?",
    checker=_status,
    hints=(
        "The C-MOVE SCP needs the destination's host and port: where would it find them?",
        "for status, _ in assoc.send_c_move(query, 'NOWHERE', StudyRootQueryRetrieveInformationModelMove): "
        "print(hex(status.Status))",
    ),
    solution_code="answer = 0xA801",
    wrong_code="answer = 0xC000",
    wrong_answers=(
        "answer = 0xC000  # the generic 'unable to process'",
        "answer = 0x0000  # as if the move had worked",
        "answer = 0xA702  # out of resources",
        "answer = 0xFF00  # a pending response",
        "answer = 0xB000  # a warning",
    ),
)

ex3 = Exercise(
    id="08.3",
    title="Who plays the Storage SCP?",
    question="During a C-GET, which side is the Storage SCP of the C-STORE sub-operations: 'the "
    "PACS' or 'the trainee'?",
    checker=expect_choice(
        "the trainee",
        "Roles belong to a service, not to a device: who receives the C-STORE-RQ and answers the "
        "C-STORE-RSP?",
        wrong={
            "MEDLAB": "MEDLAB is the PACS. In a C-GET, who receives the C-STORE-RQ and answers "
            "the C-STORE-RSP?",
            "RECEIVER": "RECEIVER takes part only in the C-MOVE, on a second association. A C-GET "
            "has no second association: who is left to receive the C-STOREs?",
        },
    ),
    hints=(
        "Look at the C-GET diagram: which way do the C-STORE-RQ arrows point?",
        "That is why the C-GET SCU proposes SCP/SCU role selection (PS3.7 D.3.3.4).",
    ),
    solution_code='answer = "the trainee"',
    wrong_code='answer = "the PACS"',
    wrong_answers=(
        'answer = "the PACS"  # the archive is the SCP of the C-GET, not of the C-STOREs',
        'answer = "MEDLAB"',
        'answer = "RECEIVER"  # the C-MOVE destination',
    ),
    choices=("the PACS", "the trainee"),
)
