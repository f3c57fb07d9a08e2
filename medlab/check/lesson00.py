"""Exercises for lesson 00, Start here (using JupyterLab and the sample data)."""

from __future__ import annotations

from medlab.check._core import Exercise, WrongAnswer, expect_choice


def _shift_enter(answer: object) -> None:
    if not isinstance(answer, str):
        raise WrongAnswer("Give the key combination as text, in quotes.")
    keys = sorted(part.strip().casefold() for part in answer.replace("-", "+").split("+"))
    if keys == ["enter", "shift"]:
        return
    if keys == ["ctrl", "enter"]:
        raise WrongAnswer("That one runs the cell but leaves the cursor where it is.")
    raise WrongAnswer("Look at section 1: the combination runs the cell *and* moves on.")


ex1 = Exercise(
    id="00.1",
    title="Run a cell",
    question="Which key combination runs the current cell and moves to the next one?",
    checker=_shift_enter,
    hints=("It uses the Enter key and one modifier key.",),
    solution_code='answer = "Shift+Enter"',
    wrong_code='answer = "Ctrl+Enter"',
)

ex2 = Exercise(
    id="00.2",
    title="Use the sample data",
    question="What is the modality of the sample called 'cr_mono1'?",
    checker=expect_choice(
        "CR",
        "Read the file with medlab.data.dataset('cr_mono1') and look at its Modality attribute.",
    ),
    hints=(
        "medlab.data.dataset(name) returns a pydicom Dataset; attributes are read with a dot.",
        "ds = medlab.data.dataset('cr_mono1'); then look at ds.Modality.",
    ),
    setup="import medlab.data",
    solution_code='answer = medlab.data.dataset("cr_mono1").Modality',
    wrong_code='answer = medlab.data.dataset("ct").Modality',
)
