"""Export the course as an nbgrader course directory (``medlab course export-nbgrader``).

For every lesson with exercises, ``DEST/source/<lesson>/<lesson>.ipynb`` is the lesson with each
exercise cell split in two nbgrader cells:

* an **autograded answer** cell holding the reference solution between
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (the same code the unit tests run), which
  ``nbgrader generate_assignment`` replaces with a stub for the released version;
* a read-only **autograder tests** cell worth the exercise's points, which fails exactly when
  ``medlab.check`` says the answer is wrong or missing.

Everything else in the lesson stays as it is, so lessons that start the bundled PACS or HL7
listener start and stop them as in the course itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from medlab import course
from medlab.check import Exercise, registry

CONFIG = """\
# nbgrader configuration for the medlab course (written by `medlab course export-nbgrader`).
import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader

# Graded answers are nobody's progress: every notebook nbgrader runs here records its checks in
# this course folder's grader-home/, never in the grader's own ~/.medlab (or $MEDLAB_HOME).
# The kernels nbgrader starts inherit this environment.
os.environ["MEDLAB_HOME"] = str(Path(__file__).resolve().parent / "grader-home")

c.CourseDirectory.course_id = "medlab"
# Lessons that start the bundled PACS or HL7 listener need a little longer than a plain notebook.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
"""

_CHECK = re.compile(r"^(lesson(\d\d)\.ex(\d+))\.check\(answer\)\s*$", re.M)


def _nbgrader_meta(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _answer_cell(nbformat, exercise: Exercise, original: str, name: str):
    keep = [line for line in original.splitlines() if line.startswith(("from ", "import "))]
    body = "\n".join(
        [
            *keep,
            f"# Exercise {exercise.id}: {exercise.question}",
            "### BEGIN SOLUTION",
            *([exercise.setup.strip()] if exercise.setup.strip() else []),
            exercise.solution_code.strip(),
            "### END SOLUTION",
            f"{name}.check(answer)",
        ]
    )
    cell = nbformat.v4.new_code_cell(body)
    cell.metadata["nbgrader"] = _nbgrader_meta(
        f"ex{exercise.id.replace('.', '_')}_answer", solution=True, grade=False
    )
    return cell


def _test_cell(nbformat, exercise: Exercise, name: str):
    module = name.split(".")[0]
    body = "\n".join(
        [
            f"# Autograder test for exercise {exercise.id} ({exercise.points} point"
            f"{'s' if exercise.points != 1 else ''}): passes exactly when medlab.check accepts the answer.",
            f"from medlab.check import {module}",
            f"_verdict = {name}.judge(answer)",
            "assert _verdict.passed, _verdict.message",
        ]
    )
    cell = nbformat.v4.new_code_cell(body)
    cell.metadata["nbgrader"] = _nbgrader_meta(
        f"ex{exercise.id.replace('.', '_')}_test",
        solution=False,
        grade=True,
        points=exercise.points,
    )
    return cell


def export_lesson(notebook: Path, out: Path) -> list[str]:
    """Write the nbgrader source version of one lesson; return the exercise ids it grades."""
    import nbformat

    exercises = registry()
    nb = nbformat.read(notebook, as_version=4)
    cells = []
    graded: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            match = _CHECK.search(cell.source)
            if match and re.search(r"^answer = \.\.\.", cell.source, re.M):
                name, lesson, number = match.groups()
                exercise = exercises[f"{lesson}.{int(number)}"]
                cells += [
                    _answer_cell(nbformat, exercise, cell.source, name),
                    _test_cell(nbformat, exercise, name),
                ]
                graded.append(exercise.id)
                continue
        cells.append(cell)
    # Exercises answered another way (a quiz widget): grade them right after the cell that uses them.
    lesson_number = notebook.name[:2]
    for exercise in (ex for ex in exercises.values() if ex.lesson == lesson_number):
        if exercise.id in graded:
            continue
        name = f"lesson{exercise.lesson}.ex{exercise.id.split('.')[1]}"
        where = next(
            (
                i
                for i, c in enumerate(cells)
                if c.cell_type == "code" and re.search(rf"{re.escape(name)}\b", c.source)
            ),
            len(cells) - 1,
        )
        stub = (
            f"from medlab.check import lesson{exercise.lesson}\nanswer = ...\n{name}.check(answer)"
        )
        cells[where + 1 : where + 1] = [
            _answer_cell(nbformat, exercise, stub, name),
            _test_cell(nbformat, exercise, name),
        ]
        graded.append(exercise.id)
    for index, cell in enumerate(cells):
        cell["id"] = f"medlab-{index:03d}"
    nb.cells = cells
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return graded


def export_nbgrader(dest: Path, lessons: list[str] | None = None) -> dict[str, list[str]]:
    """Write an nbgrader course directory at ``dest``; return ``{lesson: [exercise ids]}``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "nbgrader_config.py").write_text(CONFIG)
    have_exercises = {ex.lesson for ex in registry().values()}
    written: dict[str, list[str]] = {}
    for lesson in course.available():
        stem = lesson.notebook.removesuffix(".ipynb")
        if lesson.number not in have_exercises or (lessons and stem not in lessons):
            continue
        target = dest / "source" / stem / lesson.notebook
        written[stem] = export_lesson(course.notebooks_dir() / lesson.notebook, target)
    return written
