"""Exercises for lesson 05, Pixels and photometric interpretation."""

from __future__ import annotations

import math
from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice

#: The pixel exercise 05.1 asks about (row, column) of the ct_512 sample. Not the centre
#: pixel: the lesson prints that one just before the exercise.
PIXEL = (300, 200)


def _ct_value_at(row: int, column: int) -> tuple[float, float, float]:
    """(stored value, slope, intercept) of one pixel of ct_512."""
    import medlab.data

    ds = medlab.data.dataset("ct_512")
    stored = float(ds.pixel_array[row, column])
    return stored, float(ds.RescaleSlope), float(ds.RescaleIntercept)


def _hounsfield(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise WrongAnswer("Give one number (an int or a float), in Hounsfield units.")
    stored, slope, intercept = _ct_value_at(*PIXEL)
    correct = stored * slope + intercept
    value = float(answer)
    if math.isclose(value, correct, abs_tol=0.5):
        return
    if math.isclose(value, stored, abs_tol=0.5):
        raise WrongAnswer(
            "That is the stored value. Stored values become Hounsfield units only through the "
            "Modality LUT: which two attributes describe it?"
        )
    if math.isclose(value, stored * slope - intercept, abs_tol=0.5):
        raise WrongAnswer(
            "Check the sign: the Rescale Intercept is added, and here it is negative."
        )
    swapped, *_ = _ct_value_at(PIXEL[1], PIXEL[0])
    if math.isclose(value, swapped * slope + intercept, abs_tol=0.5):
        raise WrongAnswer(
            "That is the pixel at row 200, column 300: numpy indexes an image as [row, column]."
        )
    centre, *_ = _ct_value_at(256, 256)
    if math.isclose(value, centre * slope + intercept, abs_tol=0.5):
        raise WrongAnswer(
            "That is the centre pixel the lesson printed; this exercise asks for another."
        )
    raise WrongAnswer("Read the stored value at that row and column, then apply the rescale.")


def _palette_shape(answer: Any) -> None:
    if not isinstance(answer, tuple) or not all(isinstance(v, int) for v in answer):
        raise WrongAnswer("Give the shape as a tuple of ints, as numpy's .shape gives it.")
    if len(answer) == 2:
        raise WrongAnswer(
            "That is the shape of the stored indices. What does applying the palette add to each pixel?"
        )
    if answer[:2] == (800, 600):
        raise WrongAnswer("numpy gives shapes as (rows, columns, ...): rows come first.")
    if answer[:1] == (3,):
        raise WrongAnswer(
            "to_display, like pixel_array, keeps the samples of a pixel together, in the last axis."
        )
    if answer != (600, 800, 3):
        raise WrongAnswer("Call to_display on the palette sample and look at .shape.")


ex1 = Exercise(
    id="05.1",
    title="From stored value to Hounsfield units",
    question="What is the value, in Hounsfield units, of the pixel at row 300, column 200 of the "
    "ct_512 sample?",
    checker=_hounsfield,
    hints=(
        "ds.pixel_array[row, column] is the stored value; it is not in HU yet.",
        "HU = stored value x Rescale Slope (0028,1053) + Rescale Intercept (0028,1052).",
    ),
    setup="import medlab.data\nds = medlab.data.dataset('ct_512')",
    solution_code="answer = float(ds.pixel_array[300, 200] * ds.RescaleSlope + ds.RescaleIntercept)",
    wrong_code="answer = float(ds.pixel_array[300, 200])",
    wrong_answers=(
        "answer = float(ds.pixel_array[300, 200])  # the stored value",
        "answer = float(ds.pixel_array[300, 200] * ds.RescaleSlope - ds.RescaleIntercept)  # sign",
        "answer = float(ds.pixel_array[200, 300] * ds.RescaleSlope + ds.RescaleIntercept)  # x, y",
        "answer = float(ds.pixel_array[256, 256] * ds.RescaleSlope + ds.RescaleIntercept)  # centre",
    ),
)

ex2 = Exercise(
    id="05.2",
    title="What does a window do to 300 HU?",
    question="A MONOCHROME2 CT is shown with window center 40 and width 400. How is a pixel of 300 "
    'HU displayed? Answer "black", "white" or "grey".',
    checker=expect_choice(
        "white",
        "A window spreads the grey scale over center - width/2 .. center + width/2. Where does "
        "300 fall relative to that range, and what does MONOCHROME2 do with the top of it?",
        wrong={
            "black": "In MONOCHROME2 the values at the bottom of the window and below are black. "
            "Is 300 HU below the window, or on the other side of it?",
            "light grey": "Shades of grey are for values inside the window. Work out the window's "
            "edges first: center - width/2 and center + width/2.",
        },
    ),
    hints=(
        "The window 40/400 covers about -160 to 240 HU.",
        "Values above the window are clipped to the brightest grey in MONOCHROME2.",
    ),
    solution_code='answer = "white"',
    wrong_code='answer = "grey"',
    wrong_answers=(
        'answer = "grey"  # as if 300 were inside the window',
        'answer = "light grey"',
        'answer = "black"  # MONOCHROME1 thinking',
    ),
    choices=("black", "white", "grey"),
)

ex3 = Exercise(
    id="05.3",
    title="What the palette gives",
    question="What is the shape of medlab.dicom.to_display(us) for the us_palette sample (600 rows, "
    "800 columns)? Give a tuple.",
    checker=_palette_shape,
    hints=(
        "Stored PALETTE COLOR values are indices into three lookup tables.",
        "Each index becomes a red, a green and a blue value.",
    ),
    setup="import medlab.data\nimport medlab.dicom\nds = medlab.data.dataset('us_palette')",
    solution_code="answer = medlab.dicom.to_display(ds).shape",
    wrong_code="answer = ds.pixel_array.shape",
    wrong_answers=(
        "answer = ds.pixel_array.shape  # the stored indices",
        "answer = (800, 600, 3)  # columns first",
        "answer = (3, 600, 800)  # samples first",
        "answer = (600, 800, 4)  # RGBA",
    ),
)
