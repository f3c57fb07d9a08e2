"""Exercises for lesson 03, Tags, VR, VM, public and private (PS3.5 §6-7, PS3.6)."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice


def _name_length(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give the length as a whole number of bytes (an int).")
    if answer == 21:
        raise WrongAnswer(
            "That is the number of characters. What must every value length be (PS3.5 §7.1.1)?"
        )
    if answer == 64:
        raise WrongAnswer(
            "That is the most a PN component group may hold; the Length column is something else."
        )
    if answer != 22:
        raise WrongAnswer(
            "Read the Length column of (0010,0010) in header_table, or count the characters and pad."
        )


def _vm(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give the value multiplicity as a whole number (an int).")
    if answer == 1:
        raise WrongAnswer(
            "It is one element, but how many backslash-separated values does it hold?"
        )
    if answer != 3:
        raise WrongAnswer(
            "Count the values between the backslashes of Image Type, or use ds['ImageType'].VM."
        )


ex1 = Exercise(
    id="03.1",
    title="What Length really means",
    question="Patient Name in CT_small.dcm is 'CompressedSamples^CT1'. What is its value length in bytes, "
    "as written in the file's Length field?",
    checker=_name_length,
    hints=(
        "The Length field is the actual number of bytes of the value in this file, not a maximum.",
        "Every value occupies an even number of bytes; text is padded with one trailing space if needed.",
    ),
    setup="import pydicom\nimport medlab.data\nds = pydicom.dcmread(medlab.data.get_path('ct'))",
    solution_code="answer = len(str(ds.PatientName)) + len(str(ds.PatientName)) % 2",
    wrong_code="answer = len(str(ds.PatientName))",
)

ex2 = Exercise(
    id="03.2",
    title="Value multiplicity",
    question="How many values does Image Type (0008,0008) hold in CT_small.dcm?",
    checker=_vm,
    hints=(
        "Multiple values of a text VR are separated by backslashes in one element (PS3.5 §6.4).",
        "pydicom gives each element a .VM attribute.",
    ),
    setup="import pydicom\nimport medlab.data\nds = pydicom.dcmread(medlab.data.get_path('ct'))",
    solution_code="answer = ds['ImageType'].VM",
    wrong_code="answer = 1",
)

ex3 = Exercise(
    id="03.3",
    title="Who owns this private element?",
    question="In the Siemens MR sample (siemens above), which private creator reserves the block "
    "that holds (0029,1108)? Give the creator's text (a str).",
    checker=expect_choice(
        "SIEMENS MEDCOM OOG",
        "The element number's high byte names the block; find the private creator element (0029,00xx) with that xx.",
    ),
    hints=(
        "(gggg,xxyy): xx is the block, reserved by the private creator element (gggg,00xx).",
        "For (0029,1108) the block is 11, so read the value of (0029,0011).",
    ),
    setup="import pydicom\nimport medlab.data\nds = pydicom.dcmread(medlab.data.get_path('mr_overlay'))",
    solution_code="answer = ds[0x0029, 0x0011].value",
    wrong_code="answer = ds[0x0029, 0x0010].value",
)
