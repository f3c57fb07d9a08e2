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
    if answer == 1:
        raise WrongAnswer("There is more than one: keep walking every branch of the tree.")
    if answer != 2:
        raise WrongAnswer("Count the items whose Value Type is NUM, at every depth of the tree.")


def _ecg_seconds(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise WrongAnswer("Give a number of seconds.")
    if math.isclose(float(answer), 10000, rel_tol=1e-6):
        raise WrongAnswer("That is a number of samples. How many samples are taken per second?")
    if math.isclose(float(answer), 2.5, rel_tol=1e-6):
        raise WrongAnswer("The plot shows only the first 2.5 s; the recording is longer.")
    if math.isclose(float(answer), 1.2, rel_tol=1e-6):
        raise WrongAnswer("That is the second multiplex group; the question asks about the first.")
    if math.isclose(float(answer), 0.001, rel_tol=1e-6):
        raise WrongAnswer("That is the time between two samples; how many samples are there?")
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
    scaling = float(ds.DoseGridScaling)
    if math.isclose(float(answer), stored / scaling, rel_tol=1e-6):
        raise WrongAnswer(
            "The scaling multiplies the stored value (PS3.3 C.8.8.3); it does not divide it."
        )
    if math.isclose(float(answer), float(ds.pixel_array.mean()) * scaling, rel_tol=1e-6):
        raise WrongAnswer("That is the mean dose of the grid; the question asks for the highest.")
    if math.isclose(float(answer), scaling, rel_tol=1e-6):
        raise WrongAnswer(
            "That is the scaling factor itself; apply it to the largest stored value."
        )
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
    wrong_answers=(
        "answer = sum(item.get('ValueType') == 'NUM' for item in ds.ContentSequence)  # top level",
        "answer = 1  # stopped at the first one",
        "answer = medlab.dicom.sr_outline(ds).count('CODE')  # another value type",
    ),
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
    wrong_answers=(
        "answer = ds.WaveformSequence[0].NumberOfWaveformSamples  # samples, not seconds",
        "answer = 2.5  # what the plot shows",
        "group = ds.WaveformSequence[1]\n"
        "answer = group.NumberOfWaveformSamples / float(group.SamplingFrequency)  # 2nd group",
        "answer = 1 / float(ds.WaveformSequence[0].SamplingFrequency)  # one sample",
    ),
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
    wrong_answers=(
        "answer = float(ds.pixel_array.max())  # stored value",
        "answer = float(ds.pixel_array.max() / ds.DoseGridScaling)  # scaling the wrong way",
        "answer = float(ds.pixel_array.mean() * ds.DoseGridScaling)  # the mean",
        "answer = float(ds.DoseGridScaling)  # the factor itself",
    ),
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
        wrong={
            "in the Window Center of the image": "Compare the image before and after the "
            "GSPS was created: did any of its attributes change?",
        },
    ),
    hints=(
        "Compare the image's Pixel Data before and after creating the GSPS.",
        "The GSPS has its own SOP Instance UID, in its own series.",
    ),
    solution_code='answer = "in the presentation state"',
    wrong_code='answer = "in the image header"',
    wrong_answers=(
        'answer = "in the image header"',
        'answer = "in the pixel data"  # burned in',
        'answer = "in the Window Center of the image"',
    ),
    choices=("in the image header", "in the pixel data", "in the presentation state"),
)
