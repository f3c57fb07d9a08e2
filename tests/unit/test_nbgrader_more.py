"""The nbgrader round trip for the second, fourth, sixth ... lesson with exercises
(test_nbgrader.py has the others and the export checks; both files run in parallel
under ``pytest -n 2 --dist loadfile``)."""

from __future__ import annotations

import pytest
from nbgrader_roundtrip import export, graded_lessons, round_trip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-course")
    return root, export(root)


@pytest.mark.parametrize("lesson", graded_lessons()[1::2])
def test_round_trip_scores(course, lesson):
    root, written = course
    round_trip(root, lesson, written[lesson])
