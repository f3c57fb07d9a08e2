"""Exercises for lesson 07, Associations: who talks to whom."""

from __future__ import annotations

from medlab.check._core import Exercise, expect_choice

ex1 = Exercise(
    id="07.1",
    title="Why was the association rejected?",
    question="Associate with the PACS using the Called AE Title 'PACS'. Which reason does the "
    "A-ASSOCIATE-RJ give?",
    checker=expect_choice(
        "called-AE-title-not-recognized",
        "Look at the A-ASSOCIATE-RJ: which of the two AE titles in the request did the PACS not "
        "accept, the one naming us or the one naming it?",
    ),
    hints=(
        "Run ae.associate(pacs.host, pacs.port, ae_title='PACS'), then explain(assoc).",
        "An A-ASSOCIATE-RQ carries a Calling AE Title (who we are) and a Called AE Title (whom we "
        "want to talk to) - PS3.8 §9.3.2.",
    ),
    solution_code='answer = "called-AE-title-not-recognized"',
    wrong_code='answer = "calling-AE-title-not-recognized"',
    choices=(
        "called-AE-title-not-recognized",
        "calling-AE-title-not-recognized",
        "abstract-syntax-not-supported",
        "connection-refused",
    ),
)

ex2 = Exercise(
    id="07.2",
    title="What does the acceptor answer for this context?",
    question="You propose Verification with only JPEG Baseline. What is that context's result in the"
    ' A-ASSOCIATE-AC? (Choose one of: "accepted", "abstract-syntax-not-supported", '
    '"transfer-syntaxes-not-supported", "association rejected".)',
    checker=expect_choice(
        "transfer-syntaxes-not-supported",
        "The PACS does know the SOP class. So which part of the proposal did it not like? Try it in "
        "the negotiation widget.",
    ),
    hints=(
        "A presentation context pairs one abstract syntax (SOP class) with the transfer syntaxes "
        "proposed for it; the acceptor judges both (PS3.8 §9.3.3.2).",
        "Use the widget: tick Verification and only JPEG Baseline, then Negotiate.",
    ),
    solution_code='answer = "transfer-syntaxes-not-supported"',
    wrong_code='answer = "abstract-syntax-not-supported"',
    choices=(
        "accepted",
        "abstract-syntax-not-supported",
        "transfer-syntaxes-not-supported",
        "association rejected",
    ),
)

ex3 = Exercise(
    id="07.3",
    title="Refused or timed out?",
    question="A Recorder shows TCP-OPEN, then an A-ASSOCIATE-RQ, then nothing from the other side. "
    'Which failure is it: "connection refused", "association rejected", "context rejected" '
    'or "timeout"?',
    checker=expect_choice(
        "timeout",
        "Did the TCP connection open? If it did, somebody is listening on the port.",
    ),
    hints=(
        "'Connection refused' happens before any DICOM is spoken: there would be no TCP-OPEN.",
        "Compare the SilentPeer example with the stopped-PACS example in section 5.",
    ),
    solution_code='answer = "timeout"',
    wrong_code='answer = "connection refused"',
    choices=("connection refused", "association rejected", "context rejected", "timeout"),
)
