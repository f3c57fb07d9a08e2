"""The nbgrader round trip, with real nbgrader, for every lesson with exercises:
untouched release scores 0, the source (solutions in) full marks, and a single
wrong answer loses exactly that exercise's points.

``MEDLAB_GRADE_LESSONS=08,11`` limits the round trip to those lessons (``make
test-under-load`` grades them while busy loops occupy every core)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import support

from medlab.check import registry
from medlab.check.nbgrader_export import export_nbgrader

BIN = Path(sys.executable).parent
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

pytestmark = pytest.mark.slow


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",  # nbgrader calls `alembic` by name
        "MEDLAB_HOME": str(course / "grader-home"),
    }  # graded answers must not count as anyone's progress
    out = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course,
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


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    support.require((BIN / "nbgrader").exists(), "nbgrader is not installed (test extra)")
    root = tmp_path_factory.mktemp("nbgrader-course")
    written = export_nbgrader(root)
    assert written, "no lesson with exercises was exported"
    return root, written


def test_export_marks_answer_and_test_cells(course):
    import nbformat

    root, written = course
    assert (root / "nbgrader_config.py").is_file()
    graded = sorted(ex for ids in written.values() for ex in ids)
    assert graded == sorted(registry()), "every exercise of the course is graded"
    nb = nbformat.read(
        root / "source" / "01_what_is_dicom" / "01_what_is_dicom.ipynb", as_version=4
    )
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(answers) == len(tests) == 4
    assert all("### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source for c in answers)
    assert all(
        c.metadata["nbgrader"]["locked"] and c.metadata["nbgrader"]["points"] >= 1 for c in tests
    )


def test_round_trip_scores(course):
    from nbgrader.api import Gradebook

    root, written = course
    only = [n.strip() for n in os.environ.get("MEDLAB_GRADE_LESSONS", "").split(",") if n.strip()]
    if only:
        written = {k: v for k, v in written.items() if k.split("_")[0] in only}
        assert sorted(k.split("_")[0] for k in written) == sorted(only), written
    expected = {}
    for lesson, ids in written.items():
        nbgrader(root, "generate_assignment", lesson, "--force")
        release = root / "release" / lesson / f"{lesson}.ipynb"
        source = root / "source" / lesson / f"{lesson}.ipynb"
        released = _source_text(release)
        assert STUB in released and "BEGIN SOLUTION" not in released
        shutil.copy(release, _submission(root, "untouched", lesson))
        shutil.copy(source, _submission(root, "solved", lesson))
        answered(release, _submission(root, "onewrong", lesson), wrong_id=ids[0])
        expected[lesson] = ids[0]
        nbgrader(root, "autograde", lesson, "--force")

    exercises = registry()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "medlab") as book:
        for lesson, ids in written.items():
            full = sum(exercises[i].points for i in ids)
            untouched = book.find_submission(lesson, "untouched")
            solved = book.find_submission(lesson, "solved")
            onewrong = book.find_submission(lesson, "onewrong")
            assert untouched.max_score == full
            assert untouched.score == 0, lesson
            assert solved.score == full, lesson
            assert onewrong.score == full - exercises[expected[lesson]].points, lesson


def _source_text(path: Path) -> str:
    import nbformat

    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)


def _submission(root: Path, student: str, lesson: str) -> Path:
    path = root / "submitted" / student / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
