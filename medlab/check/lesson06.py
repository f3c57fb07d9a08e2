"""Exercises for lesson 06, Composite objects beyond images."""

from __future__ import annotations

import math
from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice


def _num_items(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give a whole number (an int).")
    if answer == 0:
        raise WrongAnswer(
            "None at the top level - but content items nest. Walk the whole tree, "
            "every Content Sequence inside every item."
        )
    if answer != 2:
        raise WrongAnswer("Count the items whose Value Type is NUM, at every depth of the tree.")


def _ecg_seconds(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise WrongAnswer("Give a number of seconds.")
    if math.isclose(float(answer), 10000, rel_tol=1e-6):
        raise WrongAnswer("That is a number of samples. How many samples are taken per second?")
    if not math.isclose(float(answer), 10.0, rel_tol=1e-6):
        raise WrongAnswer(
            "Use Number of Waveform Samples and Sampling Frequency of the first group."
        )


def _dose_max(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise WrongAnswer("Give one number.")
    import medlab.data

    ds = medlab.data.dataset("rt_dose")
    stored = float(ds.pixel_array.max())
    correct = stored * float(ds.DoseGridScaling)
    if math.isclose(float(answer), stored, rel_tol=1e-6):
        raise WrongAnswer("That is the largest stored value. Which attribute turns it into a dose?")
    if not math.isclose(float(answer), correct, rel_tol=1e-6):
        raise WrongAnswer("Take the maximum of the pixel array and scale it.")


ex2 = Exercise(
    id="06.2",
    title="Numbers in a report",
    question="How many NUM content items does the sr_comprehensive sample hold, at any depth "
    "of its content tree?",
    checker=_num_items,
    hints=(
        "medlab.dicom.sr_outline(ds) walks the whole tree.",
        "The outline object has a count(value_type) method.",
    ),
    setup="import medlab.data\nimport medlab.dicom\nds = medlab.data.dataset('sr_comprehensive')",
    solution_code="answer = medlab.dicom.sr_outline(ds).count('NUM')",
    wrong_code="answer = sum(item.get('ValueType') == 'NUM' for item in ds.ContentSequence)",
)

ex4 = Exercise(
    id="06.4",
    title="How long is the ECG?",
    question="How many seconds does the first multiplex group of the ecg sample last?",
    checker=_ecg_seconds,
    hints=(
        "Look in ds.WaveformSequence[0].",
        "duration = Number of Waveform Samples / Sampling Frequency.",
    ),
    setup="import medlab.data\nds = medlab.data.dataset('ecg')",
    solution_code=(
        "group = ds.WaveformSequence[0]\n"
        "answer = group.NumberOfWaveformSamples / float(group.SamplingFrequency)"
    ),
    wrong_code="answer = ds.WaveformSequence[0].NumberOfWaveformSamples",
)

ex3 = Exercise(
    id="06.3",
    title="Highest dose in the grid",
    question="What is the highest dose in the rt_dose grid, in its Dose Units?",
    checker=_dose_max,
    hints=(
        "The dose grid is the Pixel Data of the RT Dose, one frame per plane.",
        "Dose = stored value x Dose Grid Scaling (3004,000E).",
    ),
    setup="import medlab.data\nds = medlab.data.dataset('rt_dose')",
    solution_code="answer = float(ds.pixel_array.max() * ds.DoseGridScaling)",
    wrong_code="answer = float(ds.pixel_array.max())",
)

ex1 = Exercise(
    id="06.1",
    title="Where a presentation state keeps its window",
    question='A radiologist saves a window as a GSPS. Where is the window stored: "in the image '
    'header", "in the pixel data" or "in the presentation state"?',
    checker=expect_choice(
        "in the presentation state",
        "A presentation state is a separate instance that refers to the image; the image "
        "itself is not rewritten. Which object gains the Softcopy VOI LUT Sequence?",
    ),
    hints=(
        "Compare the image's Pixel Data before and after creating the GSPS.",
        "The GSPS has its own SOP Instance UID, in its own series.",
    ),
    solution_code='answer = "in the presentation state"',
    wrong_code='answer = "in the image header"',
    choices=("in the image header", "in the pixel data", "in the presentation state"),
)
