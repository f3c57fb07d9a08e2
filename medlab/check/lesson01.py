"""Exercises for lesson 01, What is DICOM? (vocabulary and history)."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice


def _year_1993(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give the year as a whole number, e.g. 2001.")
    if answer == 1983:
        raise WrongAnswer(
            "In that year ACR and NEMA formed their joint committee; no standard was published yet."
        )
    if answer == 2006:
        raise WrongAnswer(
            "That is when ISO adopted the standard as ISO 12052; it already had its name by then."
        )
    if answer in (1985, 1988):
        raise WrongAnswer(
            "That year saw an ACR-NEMA standard, the predecessor. The first edition to carry "
            "the name DICOM came later, with network support."
        )
    if answer != 1993:
        raise WrongAnswer(
            "Look again at the timeline in section 2: which edition added networking?"
        )


ex1 = Exercise(
    id="01.1",
    title="Who is the SCU?",
    question="A CT scanner sends its images to the PACS with C-STORE. Which role does the CT play "
    "for the Storage service: SCU or SCP?",
    checker=expect_choice(
        "SCU",
        "The Service Class User is the side that asks for the service to be performed; "
        "the provider performs it. Which side asks for the images to be stored?",
        accept=("Storage SCU", "Service Class User"),
        wrong={
            "association requestor": "That is a role in the association (who opens it), not in "
            "the service. Which side uses the Storage service, and which provides it?",
        },
    ),
    hints=(
        "SCU = Service Class User, SCP = Service Class Provider.",
        "The PACS provides storage; the modality uses it.",
    ),
    solution_code='answer = "SCU"',
    wrong_code='answer = "SCP"',
    wrong_answers=(
        'answer = "SCP"  # the other side of the role',
        'answer = "Storage SCP"',
        'answer = "Service Class Provider"',
        'answer = "association requestor"  # who dials, not the service role',
    ),
    choices=("SCU", "SCP"),
)

ex2 = Exercise(
    id="01.2",
    title="Composite or normalised?",
    question="A modality tells the RIS that an exam has started, and later that it has finished, "
    'with Modality Performed Procedure Step. Does MPPS use "composite" or "normalised" '
    "operations?",
    checker=expect_choice(
        "normalised",
        "Composite operations move whole composite objects (an image with its patient and study "
        "context). Does MPPS move an image, or create and update one record of its own?",
        normalise=lambda text: {
            "normalized": "normalised",
            "n": "normalised",
            "n-": "normalised",
            "c": "composite",
            "c-": "composite",
        }.get(text, text),
    ),
    hints=(
        "MPPS uses N-CREATE and N-SET.",
        "Ask what MPPS makes and changes: a whole image with its patient and study context, or "
        "one record of one real-world entity (a performed procedure step)?",
    ),
    solution_code='answer = "normalised"',
    wrong_code='answer = "composite"',
    wrong_answers=(
        'answer = "composite"',
        'answer = "C-"',
        'answer = "DIMSE-C"',
    ),
    choices=("composite", "normalised"),
)

ex3 = Exercise(
    id="01.3",
    title="When did DICOM get its name?",
    question="In which year was the first standard called DICOM (version 3.0) published?",
    checker=_year_1993,
    hints=(
        "ACR-NEMA published standards in 1985 and 1988 before the name DICOM existed.",
        "DICOM 3.0 added networking over TCP/IP in the early 1990s.",
    ),
    solution_code="answer = 1993",
    wrong_code="answer = 1985",
    wrong_answers=(
        "answer = 1985  # ACR-NEMA 300-1985",
        "answer = 1988  # ACR-NEMA version 2.0",
        "answer = 1983  # the joint committee",
        "answer = 2006  # ISO 12052",
    ),
)

ex4 = Exercise(
    id="01.4",
    title="What a transfer syntax says",
    question="Which of these does a transfer syntax specify?",
    checker=expect_choice(
        "how the data is encoded",
        "A transfer syntax is about bytes, not about meaning: which option describes encoding?",
        wrong={
            "which compression is used": "Compression is one thing it can say, but an "
            "uncompressed transfer syntax still says something about the bytes: what?",
            "the SOP class": "The SOP class is the topic of the conversation (what is sent); the "
            "transfer syntax is something else.",
        },
    ),
    hints=(
        "Think of the analogy: if the SOP class is the topic of conversation, the transfer syntax is "
        "the language it is spoken in.",
    ),
    solution_code='answer = "how the data is encoded"',
    wrong_code='answer = "what kind of object is sent"',
    wrong_answers=(
        'answer = "what kind of object is sent"  # that is the SOP class',
        'answer = "which AE title receives it"',
        'answer = "which compression is used"  # only a part of it',
        'answer = "the SOP class"',
    ),
    choices=(
        "what kind of object is sent",
        "how the data is encoded",
        "which AE title receives it",
    ),
)
