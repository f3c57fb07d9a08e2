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
        wrong={
            "calling-AE-title-not-recognized": "The Calling AE Title names us, TRAINEE, and the "
            "PACS accepts any caller. Which title in the request was wrong?",
            "no-reason-given": "The PACS gave a reason: read the A-ASSOCIATE-RJ that explain() "
            "prints.",
            "connection-refused": "The TCP connection was accepted and the PACS answered with an "
            "A-ASSOCIATE-RJ: the refusal came later, in DICOM terms.",
            "abstract-syntax-not-supported": "That is a result for one presentation context in an "
            "A-ASSOCIATE-AC; here the whole association was rejected.",
        },
    ),
    hints=(
        "Run ae.associate(pacs.host, pacs.port, ae_title='PACS'), then explain(assoc).",
        "An A-ASSOCIATE-RQ carries a Calling AE Title (who we are) and a Called AE Title (whom we "
        "want to talk to) - PS3.8 §9.3.2.",
    ),
    solution_code='answer = "called-AE-title-not-recognized"',
    wrong_code='answer = "calling-AE-title-not-recognized"',
    wrong_answers=(
        'answer = "calling-AE-title-not-recognized"  # the other title',
        'answer = "no-reason-given"',
        'answer = "connection-refused"',
        'answer = "abstract-syntax-not-supported"',
    ),
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
        wrong={
            "accepted": "An accepted context names the one transfer syntax the acceptor chose. "
            "Which transfer syntax could the PACS choose for this context?",
            "association rejected": "The association was established (another context was "
            "accepted); the question is about this one context's result.",
            "user-rejection": "The PACS does offer Verification; the result says which part of "
            "the proposal it could not accept.",
        },
    ),
    hints=(
        "A presentation context pairs one abstract syntax (SOP class) with the transfer syntaxes "
        "proposed for it; the acceptor judges both (PS3.8 §9.3.3.2).",
        "Use the widget: tick Verification and only JPEG Baseline, then Negotiate.",
    ),
    solution_code='answer = "transfer-syntaxes-not-supported"',
    wrong_code='answer = "abstract-syntax-not-supported"',
    wrong_answers=(
        'answer = "abstract-syntax-not-supported"  # the SOP class is known',
        'answer = "accepted"',
        'answer = "association rejected"',
        'answer = "user-rejection"',
    ),
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
        accept=("timed out",),
        wrong={
            "association rejected": "A rejection is an answer, an A-ASSOCIATE-RJ. Did anything "
            "come back from the other side?",
            "context rejected": "Context results come in an A-ASSOCIATE-AC. Did one arrive?",
            "aborted": "The A-ABORT came from our side, after the wait: why did we give up?",
        },
    ),
    hints=(
        "'Connection refused' happens before any DICOM is spoken: there would be no TCP-OPEN.",
        "Compare the 'nobody listening' and the SilentPeer examples in section 7 of the lesson.",
    ),
    solution_code='answer = "timeout"',
    wrong_code='answer = "connection refused"',
    wrong_answers=(
        'answer = "connection refused"',
        'answer = "association rejected"',
        'answer = "context rejected"',
        'answer = "aborted"  # the abort is ours, after the wait',
    ),
    choices=("connection refused", "association rejected", "context rejected", "timeout"),
)
