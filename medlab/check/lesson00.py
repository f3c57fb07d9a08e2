"""Exercises for lesson 00, Start here (using JupyterLab and the sample data)."""

from __future__ import annotations

from medlab.check._core import Exercise, WrongAnswer


def _shift_enter(answer: object) -> None:
    if not isinstance(answer, str):
        raise WrongAnswer("Give the key combination as text, in quotes.")
    keys = sorted(part.strip().casefold() for part in answer.replace("-", "+").split("+"))
    if keys == ["enter", "shift"]:
        return
    if keys == ["ctrl", "enter"]:
        raise WrongAnswer("That one runs the cell but leaves the cursor where it is.")
    if keys == ["alt", "enter"]:
        raise WrongAnswer("That one inserts a new empty cell; look for the one that moves on.")
    raise WrongAnswer("Look at section 1: the combination runs the cell *and* moves on.")


def _pixel_count(answer: object) -> None:
    """The number of pixels of the 'cr_mono1' image: Rows x Columns (one frame, PS3.3 C.7.6.3)."""
    from medlab import data

    ds = data.dataset("cr_mono1")
    rows, columns = int(ds.Rows), int(ds.Columns)
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give a whole number (an int), computed from the data set's attributes.")
    if answer == rows * columns:
        return
    ct = data.dataset("ct")
    if answer == int(ct.Rows) * int(ct.Columns):
        raise WrongAnswer("That is the CT sample of section 3; load the sample called 'cr_mono1'.")
    if answer in (rows, columns):
        raise WrongAnswer("That is one side of the image; the pixels fill the whole rectangle.")
    if answer == rows + columns:
        raise WrongAnswer("The pixels fill a rectangle: adding its sides does not count them.")
    if answer == rows * columns * (int(ds.BitsAllocated) // 8):
        raise WrongAnswer("That counts bytes (each pixel takes more than one); count pixels.")
    raise WrongAnswer("Count the pixels from two attributes of the data set: rows and columns.")


ex1 = Exercise(
    id="00.1",
    title="Run a cell",
    question="Which key combination runs the current cell and moves to the next one?",
    checker=_shift_enter,
    hints=("It uses the Enter key and one modifier key.",),
    solution_code='answer = "Shift+Enter"',
    wrong_code='answer = "Ctrl+Enter"',
    wrong_answers=(
        'answer = "Ctrl+Enter"  # runs the cell, stays on it',
        'answer = "Enter"  # a new line in the cell',
        'answer = "Alt+Enter"  # runs and inserts a new cell below',
        'answer = "Ctrl+S"  # the example of the question: saves',
    ),
)

ex2 = Exercise(
    id="00.2",
    title="Use the sample data",
    question="Load the sample called 'cr_mono1' with medlab.data.dataset(...), as in section 3, "
    "and work out how many pixels its image has in all.",
    checker=_pixel_count,
    hints=(
        "medlab.data.dataset(name) returns a pydicom Dataset; attributes are read with a dot.",
        "An image is Rows pixels high and Columns pixels wide (the attributes Rows and Columns).",
    ),
    setup="import medlab.data",
    solution_code='ds = medlab.data.dataset("cr_mono1")\nanswer = ds.Rows * ds.Columns',
    wrong_code='ds = medlab.data.dataset("ct")\nanswer = ds.Rows * ds.Columns',
    wrong_answers=(
        'ds = medlab.data.dataset("ct")\nanswer = ds.Rows * ds.Columns  # the sample of section 3',
        'ds = medlab.data.dataset("cr_mono1")\nanswer = ds.Rows  # one side only',
        'ds = medlab.data.dataset("cr_mono1")\nanswer = ds.Rows + ds.Columns  # added, not multiplied',
        'ds = medlab.data.dataset("cr_mono1")\nanswer = ds.Rows * ds.Columns * 2  # bytes, not pixels',
        'ds = medlab.data.dataset("cr_mono1")\nanswer = f"{ds.Rows}x{ds.Columns}"  # a size, not a count',
        'ds = medlab.data.dataset("cr_mono1")\nanswer = ds.Modality  # the question before the rewrite',
    ),
)
