"""Exercises for lesson 10, Conformance: will these two devices talk?"""

from __future__ import annotations

from medlab.check._core import Exercise, expect_choice

_SETUP = """\
from medlab.net import compatible
ct = {"name": "CT", "aet": "CT02", "services": {
    "CTImageStorage": {"roles": ["SCU"], "transfer_syntaxes": ["JPEG2000Lossless"]}}}
archive = {"name": "Archive", "aet": "ARCH", "services": {
    "CTImageStorage": {"roles": ["SCP"],
                       "transfer_syntaxes": ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian"]}}}
"""

ex1 = Exercise(
    id="10.1",
    title="JPEG 2000 only",
    question="The two descriptions are given in the exercise's setup: a CT that sends CT images only"
    " as JPEG 2000 Lossless, an archive that accepts only Explicit or Implicit VR Little "
    'Endian. What is the verdict for CT Image Storage ("works", "works, with a caveat" or '
    '"will not work")?',
    checker=expect_choice(
        "will not work",
        "Both sides know the SOP class and have the right roles. What else must they share?",
        wrong={
            "works, with a caveat": "A caveat is a condition outside the negotiation. Can this "
            "negotiation itself succeed: is there a transfer syntax both accept?",
        },
    ),
    hints=(
        "compatible(ct, archive).verdict('CT Image Storage')",
        "A presentation context needs one transfer syntax both accept (PS3.8 §9.3.3.2).",
    ),
    setup=_SETUP,
    solution_code="answer = compatible(ct, archive).verdict('CT Image Storage')",
    wrong_code='answer = "works"',
    wrong_answers=(
        'answer = "works"  # roles and SOP class match',
        'answer = "works, with a caveat"',
        'answer = "works with a caveat"',
    ),
    choices=("works", "works, with a caveat", "will not work"),
)

ex2 = Exercise(
    id="10.2",
    title="The service outside the negotiation",
    question='Which retrieve service needs configuration beyond negotiation: "C-FIND", "C-MOVE", '
    '"C-GET" or "C-ECHO"?',
    checker=expect_choice(
        "C-MOVE",
        "Which retrieve makes the archive open a new association to somebody: how does it find "
        "the host and port?",
        wrong={
            "C-GET": "C-GET brings the instances back on the requestor's own association: the "
            "archive needs no address. Which retrieve needs one?",
            "C-FIND": "C-FIND only answers a query on the same association; and 0xA801 is a "
            "retrieve status.",
            "C-ECHO": "C-ECHO retrieves nothing; it only checks the association.",
        },
    ),
    hints=(
        "0xA801 is 'Move Destination unknown' (PS3.4 C.4.2).",
        "Look at the caveats compatible() prints for the viewer.",
    ),
    solution_code='answer = "C-MOVE"',
    wrong_code='answer = "C-GET"',
    wrong_answers=(
        'answer = "C-GET"  # the other retrieve',
        'answer = "C-FIND"',
        'answer = "C-ECHO"',
        'answer = "C-STORE"',
    ),
    choices=("C-FIND", "C-MOVE", "C-GET", "C-ECHO"),
)
