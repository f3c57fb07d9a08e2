"""The nbgrader round trip of one lesson, shared by tests/unit/test_nbgrader*.py.

The lessons are split over two test files so that ``pytest -n 2 --dist loadfile`` grades them
on both workers; ``make test-lesson NN=07`` runs one lesson's round trip alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import support

from medlab import course
from medlab.check import registry
from medlab.check.nbgrader_export import export_nbgrader

BIN = Path(sys.executable).parent
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def graded_lessons() -> list[str]:
    """Notebook stems of the lessons that have exercises, in course order.

    ``MEDLAB_GRADE_LESSONS=08,11`` limits them to those lessons (``make test-under-load``
    grades them while busy loops occupy every core).
    """
    have = {ex.lesson for ex in registry().values()}
    only = {n.strip() for n in os.environ.get("MEDLAB_GRADE_LESSONS", "").split(",") if n.strip()}
    return [
        les.notebook.removesuffix(".ipynb")
        for les in course.available()
        if les.number in have and (not only or les.number in only)
    ]


def export(root: Path) -> dict[str, list[str]]:
    support.require((BIN / "nbgrader").exists(), "nbgrader is not installed (test extra)")
    written = export_nbgrader(root)
    assert written, "no lesson with exercises was exported"
    return written


def nbgrader(course_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run nbgrader as an instructor would: from the course folder, with their own MEDLAB_HOME.

    The exported nbgrader_config.py must move MEDLAB_HOME to the course's grader-home/, so that
    graded answers never count as the grader's own progress (checked by :func:`round_trip`).
    """
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",  # nbgrader calls `alembic` by name
        "MEDLAB_HOME": str(course_dir / "graders-own-home"),
    }
    out = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def answered(release_nb: Path, dest: Path, wrong_id: str | None) -> None:
    """A submission from the released notebook, every stub answered (one of them wrongly)."""
    import nbformat

    exercises = registry()
    nb = nbformat.read(release_nb, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and STUB in cell.source:
            ex = exercises[
                meta["grade_id"].removeprefix("ex").removesuffix("_answer").replace("_", ".")
            ]
            code = ex.wrong_code if ex.id == wrong_id else ex.solution_code
            cell.source = cell.source.replace(STUB, f"{ex.setup}\n{code}".strip())
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def round_trip(root: Path, lesson: str, ids: list[str]) -> None:
    """Release, submit (untouched, solved, one wrong answer), autograde and check the scores."""
    from nbgrader.api import Gradebook

    nbgrader(root, "generate_assignment", lesson, "--force")
    release = root / "release" / lesson / f"{lesson}.ipynb"
    source = root / "source" / lesson / f"{lesson}.ipynb"
    released = _source_text(release)
    assert STUB in released and "BEGIN SOLUTION" not in released
    shutil.copy(release, _submission(root, "untouched", lesson))
    shutil.copy(source, _submission(root, "solved", lesson))
    answered(release, _submission(root, "onewrong", lesson), wrong_id=ids[0])
    nbgrader(root, "autograde", lesson, "--force")

    exercises = registry()
    full = sum(exercises[i].points for i in ids)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "medlab") as book:
        untouched = book.find_submission(lesson, "untouched")
        assert untouched.max_score == full
        assert untouched.score == 0, lesson
        assert book.find_submission(lesson, "solved").score == full, lesson
        onewrong = book.find_submission(lesson, "onewrong").score
        assert onewrong == full - exercises[ids[0]].points, lesson
    # The graded checks went to the course's grader-home, not to the grader's own progress.
    assert not (root / "graders-own-home" / "progress.json").exists()
    assert (root / "grader-home" / "progress.json").is_file()


def _source_text(path: Path) -> str:
    import nbformat

    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)


def _submission(root: Path, student: str, lesson: str) -> Path:
    path = root / "submitted" / student / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
