"""Every lesson is stored executed, in order, without errors or stderr, and has
the lesson shape: title, time, prerequisites, objectives, exercises checked by
medlab.check, a summary and pointers into the standard."""

from __future__ import annotations

import json
import re

import pytest
import support

from medlab import course
from medlab.check import registry

LESSON_FILES = sorted(support.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
ALL_FILES = [*LESSON_FILES, support.NOTEBOOKS / "_template.ipynb"]
MAX_CELL_LINES = 15


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def text(cell):
    return "".join(cell["source"])


def test_there_are_lessons_and_a_template():
    assert len(LESSON_FILES) >= 2
    assert (support.NOTEBOOKS / "_template.ipynb").is_file()


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_stored_executed_in_order_without_errors(path):
    nb = load(path)
    counts = [c["execution_count"] for c in code_cells(nb)]
    assert counts and None not in counts, "store the notebook executed (make notebooks)"
    assert counts == list(range(1, len(counts) + 1)), "re-run the whole notebook top to bottom"
    for cell in code_cells(nb):
        src = text(cell)
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                assert "NBVAL_RAISES_EXCEPTION" in src, f"error output in:\n{src}"
                # the tag lets JupyterLab's Run All (and nbconvert) go on past the cell
                assert "raises-exception" in cell.get("metadata", {}).get("tags", []), src
            assert out.get("name") != "stderr", f"stderr (a warning?) in:\n{src}\n{out.get('text')}"


NBVAL_MARKERS = {
    "NBVAL_IGNORE_OUTPUT",
    "NBVAL_CHECK_OUTPUT",
    "NBVAL_RAISES_EXCEPTION",
    "NBVAL_SKIP",
}


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_nbval_markers_are_whole_lines(path):
    """nbval only sees a marker alone on its comment line: `# NBVAL_SKIP (why)` is silently ignored."""
    for cell in code_cells(load(path)):
        for line in text(cell).splitlines():
            if "NBVAL_" in line:
                assert line.strip().lstrip("#").strip() in NBVAL_MARKERS, (
                    f"put the nbval marker alone on its line (explain on the next): {line!r}"
                )


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_cells_are_thin_and_the_file_small(path):
    for cell in code_cells(load(path)):
        lines = text(cell).strip().splitlines()
        assert len(lines) <= MAX_CELL_LINES, f"move scaffolding into medlab:\n{text(cell)}"
    assert path.stat().st_size < 1_000_000


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.name)
def test_lesson_shape(path):
    nb = load(path)
    number, slug = path.stem.split("_", 1)
    lesson = next((les for les in course.LESSONS if les.number == number), None)
    assert lesson is not None and lesson.slug == slug, f"add {path.name} to medlab/course.py"
    first = text(nb["cells"][0])
    assert nb["cells"][0]["cell_type"] == "markdown"
    assert first.startswith(f"# {number} · {lesson.title}\n"), "title must match medlab/course.py"
    assert f"**Time:** about {lesson.minutes} minutes" in first
    assert "**Prerequisites:**" in first
    objectives = first.split("## What you'll learn", 1)
    assert len(objectives) == 2 and objectives[1].count("\n- ") >= 2, "list the objectives"
    markdown = [text(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    headings = [line for md in markdown for line in md.splitlines() if line.startswith("## ")]
    assert "## Summary" in headings and "## Further reading" in headings
    assert headings.index("## Summary") > headings.index("## What you'll learn")


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.name)
def test_at_least_two_checked_exercises(path):
    nb = load(path)
    number = path.stem[:2]
    cells = nb["cells"]
    checked = 0
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and re.match(r"## Exercise \d+", text(cell)):
            follow = next(c for c in cells[i + 1 :] if c["cell_type"] == "code")
            match = re.search(rf"lesson{number}\.ex(\d+)\.check\(answer\)", text(follow))
            assert match, (
                f"the cell after {text(cell).splitlines()[0]!r} must call lesson{number}.exN.check(answer)"
            )
            assert f"{number}.{match.group(1)}" in registry()
            assert re.search(r"^answer = \.\.\.", text(follow), re.M), (
                "store the placeholder answer = ..."
            )
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.name)
def test_every_registered_exercise_appears_in_its_lesson(path):
    number = path.stem[:2]
    source = "\n".join(text(c) for c in load(path)["cells"] if c["cell_type"] == "code")
    for ex_id in (k for k in registry() if k.startswith(f"{number}.")):
        k = ex_id.split(".")[1]
        assert re.search(rf"lesson{number}\.ex{k}\b", source), (
            f"exercise {ex_id} is not used in {path.name}"
        )


def test_every_lesson_module_has_a_notebook():
    from medlab.check import lesson_modules

    numbers = {p.stem[:2] for p in LESSON_FILES}
    for module in lesson_modules():
        assert module.removeprefix("lesson") in numbers, f"{module} has no notebook"
