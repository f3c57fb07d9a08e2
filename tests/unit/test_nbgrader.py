"""The nbgrader round trip, with real nbgrader, for every lesson with exercises:
untouched release scores 0, the source (solutions in) full marks, and a single
wrong answer loses exactly that exercise's points. This file grades the first,
third, fifth ... lesson; test_nbgrader_more.py the others (for -n 2 --dist loadfile).
One lesson alone: ``pytest tests/unit/test_nbgrader*.py -k 07_`` (make test-lesson NN=07)."""

from __future__ import annotations

import pytest
from nbgrader_roundtrip import export, graded_lessons, round_trip

from medlab.check import registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-course")
    return root, export(root)


def test_export_marks_answer_and_test_cells(course):
    import nbformat

    root, written = course
    assert (root / "nbgrader_config.py").is_file()
    graded = sorted(ex for ids in written.values() for ex in ids)
    assert graded == sorted(registry()), "every exercise of the course is graded"
    assert list(written) == graded_lessons()
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


def test_exported_config_moves_medlab_home_to_the_course_folder(course, monkeypatch):
    """nbgrader_config.py sets MEDLAB_HOME for the kernels nbgrader starts (no nbgrader needed)."""
    import os

    from traitlets.config import Config

    root, _ = course
    monkeypatch.setenv("MEDLAB_HOME", "/somewhere/the/graders/own")
    config = root / "nbgrader_config.py"
    loaded = Config()
    namespace = {"get_config": lambda: loaded, "__file__": str(config)}
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the config edits a copy
    exec(compile(config.read_text(), str(config), "exec"), namespace)
    assert os.environ["MEDLAB_HOME"] == str(root.resolve() / "grader-home")
    assert loaded.CourseDirectory.course_id == "medlab"


@pytest.mark.parametrize("lesson", graded_lessons()[0::2])
def test_round_trip_scores(course, lesson):
    root, written = course
    round_trip(root, lesson, written[lesson])
