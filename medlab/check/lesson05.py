"""Exercises for lesson 05, Pixels and photometric interpretation."""

from __future__ import annotations

import math
from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice

#: The pixel exercise 05.1 asks about (row, column) of the ct_512 sample.
PIXEL = (256, 256)


def _ct_value_at_pixel() -> float:
    import medlab.data

    ds = medlab.data.dataset("ct_512")
    stored = float(ds.pixel_array[PIXEL])
    return stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def _hounsfield(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise WrongAnswer("Give one number (an int or a float), in Hounsfield units.")
    correct = _ct_value_at_pixel()
    if math.isclose(float(answer), correct - (-1024.0), abs_tol=0.5):
        raise WrongAnswer(
            "That is the stored value. Stored values become Hounsfield units only through the "
            "Modality LUT: which two attributes describe it?"
        )
    if not math.isclose(float(answer), correct, abs_tol=0.5):
        raise WrongAnswer("Read the stored value at that row and column, then apply the rescale.")


def _palette_shape(answer: Any) -> None:
    if not isinstance(answer, tuple) or not all(isinstance(v, int) for v in answer):
        raise WrongAnswer("Give the shape as a tuple of ints, as numpy's .shape gives it.")
    if len(answer) == 2:
        raise WrongAnswer(
            "That is the shape of the stored indices. What does applying the palette add to each pixel?"
        )
    if answer != (600, 800, 3):
        raise WrongAnswer("Call to_display on the palette sample and look at .shape.")


ex1 = Exercise(
    id="05.1",
    title="From stored value to Hounsfield units",
    question="What is the value, in Hounsfield units, of the pixel at row 256, column 256 of the "
    "ct_512 sample?",
    checker=_hounsfield,
    hints=(
        "ds.pixel_array[256, 256] is the stored value; it is not in HU yet.",
        "HU = stored value x Rescale Slope (0028,1053) + Rescale Intercept (0028,1052).",
    ),
    setup="import medlab.data\nds = medlab.data.dataset('ct_512')",
    solution_code="answer = float(ds.pixel_array[256, 256] * ds.RescaleSlope + ds.RescaleIntercept)",
    wrong_code="answer = float(ds.pixel_array[256, 256])",
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
    ),
    hints=(
        "The window 40/400 covers about -160 to 240 HU.",
        "Values above the window are clipped to the brightest grey in MONOCHROME2.",
    ),
    solution_code='answer = "white"',
    wrong_code='answer = "grey"',
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
)
