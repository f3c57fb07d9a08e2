"""Exercises for lesson 03, Tags, VR, VM, public and private (PS3.5 §6-7, PS3.6)."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice

#: The name exercise 03.1 asks about: 23 characters, so one byte of padding.
NAME = "FERREIRA-SANTOS^LUCIA^M"


def _name_length(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give the length as a whole number of bytes (an int).")
    chars = len(NAME)
    if answer == chars:
        raise WrongAnswer(
            "That is the number of characters. What must every defined value length be "
            "(PS3.5 §7.1.1), and what does a PN value get to reach it (PS3.5 §6.2)?"
        )
    if answer in (chars - 1, chars + 3):
        raise WrongAnswer(
            "Padding adds one character to an odd-length value; it never removes one."
        )
    if answer in (chars + 8, chars + 9):
        raise WrongAnswer(
            "The Length field counts the value only, not the tag, VR and length bytes in front of it."
        )
    if answer in (64, 320):
        raise WrongAnswer(
            "That is the most a PN may hold (per component group, or in all); the Length field says "
            "how many bytes this value really takes."
        )
    if answer != chars + chars % 2:
        raise WrongAnswer(
            "Count the characters of the name (the ^ separators count too), then pad to an even length."
        )


def _vm(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give the value multiplicity as a whole number (an int).")
    if answer == 1:
        raise WrongAnswer(
            "It is one element, but how many backslash-separated values does it hold?"
        )
    if answer == 2:
        raise WrongAnswer(
            "Count the values, not the backslashes between them (and the dictionary's '2-n' is "
            "the rule for every file, not this file's count)."
        )
    if answer in (22, 23):
        raise WrongAnswer("That is a number of bytes; VM counts values.")
    if answer != 3:
        raise WrongAnswer(
            "Count the values between the backslashes of Image Type, or use ds['ImageType'].VM."
        )


ex1 = Exercise(
    id="03.1",
    title="What Length really means",
    question=f"A modality writes the name {NAME} into Patient Name (0010,0010) of an Explicit VR "
    "Little Endian file. What will the element's Length field say (an int, in bytes)?",
    checker=_name_length,
    hints=(
        "The Length field is the actual number of bytes of the value in this file, not a maximum.",
        "Every defined length is even; a text value of odd length gets one trailing space.",
    ),
    setup=f"name = {NAME!r}",
    solution_code=f"name = {NAME!r}\nanswer = len(name) + len(name) % 2  # pad an odd length",
    wrong_code="answer = len(name)",
    wrong_answers=(
        "answer = len(name)  # the characters, unpadded",
        "answer = len(name) - 1  # padding rounded down",
        "answer = len(name) + 1 + 8  # the whole element, tag, VR and length included",
        "answer = 64  # the most a PN component group may hold",
        "answer = 22  # CompressedSamples^CT1, the sample's name seen in the lesson",
    ),
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
    wrong_answers=(
        "answer = 1  # one element",
        "answer = str(ds['ImageType'].value).count('\\\\')  # backslashes, not values",
        "answer = 2  # the dictionary's minimum, 2-n",
        "answer = len(b'ORIGINAL\\\\PRIMARY\\\\AXIAL')  # the length in bytes",
    ),
)

ex3 = Exercise(
    id="03.3",
    title="Who owns this private element?",
    question="In the Siemens MR sample (siemens above), which private creator reserves the block "
    "that holds (0029,1108)? Give the creator's text (a str).",
    checker=expect_choice(
        "SIEMENS MEDCOM OOG",
        "The element number's high byte names the block; find the private creator element (0029,00xx) with that xx.",
        wrong={
            "SIEMENS MEDCOM HEADER": "That creator reserves another block of group 0029. Which "
            "block does element 08 of (0029,1108) sit in?",
            "SIEMENS": "Give the private creator's whole text, as it is stored in the creator "
            "element: one vendor can reserve several blocks.",
            "(0029,0011)": "That is the tag of the creator element; the question asks for its "
            "value, the creator's text.",
            "MEDCOM OOG 2": "That is the value of (0029,1108) itself. Who reserved its block?",
        },
    ),
    hints=(
        "(gggg,xxyy): xx is the block, reserved by the private creator element (gggg,00xx).",
        "For (0029,1108) the block is 11, so read the value of (0029,0011).",
    ),
    setup="import pydicom\nimport medlab.data\nds = pydicom.dcmread(medlab.data.get_path('mr_overlay'))",
    solution_code="answer = ds[0x0029, 0x0011].value",
    wrong_code="answer = ds[0x0029, 0x0010].value",
    wrong_answers=(
        "answer = ds[0x0029, 0x0010].value  # the first creator of the group",
        'answer = "SIEMENS"  # the vendor, not the creator text',
        'answer = "(0029,0011)"  # the creator\'s tag, not its text',
        "answer = ds[0x0029, 0x1108].value  # the element's own value",
    ),
)
