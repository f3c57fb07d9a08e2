"""Every exercise in the course: the reference solution passes, a plausible wrong
answer fails with a hint that does not give the answer away, and the untouched
placeholder counts as not attempted. Also the checker machinery itself."""

from __future__ import annotations

import json

import pytest

from medlab.check import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Exercise,
    WrongAnswer,
    _progress,
    expect_choice,
    registry,
)

pytestmark = pytest.mark.usefixtures("medlab_home")

EXERCISES = registry()


def test_the_course_has_exercises_with_unique_ids():
    assert len(EXERCISES) >= 2
    for ex_id, ex in EXERCISES.items():
        lesson, number = ex_id.split(".")
        assert len(lesson) == 2 and number.isdigit(), ex_id
        assert ex.question and ex.hints and ex.points > 0


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_reference_solution_is_accepted(ex_id):
    ex = EXERCISES[ex_id]
    verdict = ex.check(ex.run_code(ex.solution_code))
    assert verdict.outcome == CORRECT, verdict


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_plausible_wrong_answer_is_rejected_without_revealing(ex_id):
    ex = EXERCISES[ex_id]
    right = ex.run_code(ex.solution_code)
    verdict = ex.check(ex.run_code(ex.wrong_code))
    assert verdict.outcome == INCORRECT, verdict
    assert verdict.message
    if isinstance(right, str) and len(right) > 3:
        assert right.casefold() not in verdict.message.casefold(), "the hint gives the answer away"
    for hint in ex.hints:
        if isinstance(right, str) and len(right) > 3:
            assert right.casefold() not in hint.casefold() or ex.choices, (
                "a hint gives the answer away"
            )


@pytest.mark.parametrize(
    ("ex_id", "code"),
    [(k, code) for k, ex in EXERCISES.items() for code in ex.wrong_answers],
)
def test_each_listed_misconception_is_rejected(ex_id, code):
    ex = EXERCISES[ex_id]
    verdict = ex.judge(ex.run_code(code))
    assert verdict.outcome == INCORRECT, (code, verdict)
    assert verdict.message


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_placeholder_is_not_attempted(ex_id):
    assert EXERCISES[ex_id].check(...).outcome == NOT_ATTEMPTED


@pytest.mark.parametrize("ex_id", [k for k, ex in EXERCISES.items() if ex.choices])
def test_multiple_choice_solution_is_one_of_the_choices(ex_id):
    ex = EXERCISES[ex_id]
    assert ex.run_code(ex.solution_code) in ex.choices


def _broken_checker(answer):
    raise KeyError("boom")


def test_a_checker_that_crashes_gives_a_verdict_not_a_traceback():
    ex = Exercise(
        id="99.1",
        question="q",
        checker=_broken_checker,
        hints=("look again",),
        solution_code="answer = 1",
        wrong_code="answer = 2",
    )
    verdict = ex.check(3)
    assert verdict.outcome == INCORRECT
    assert "could not be checked" in verdict.message and "look again" in verdict.message


def test_verdict_renders_as_text_and_html():
    ex = Exercise(
        id="99.2",
        question="q",
        checker=expect_choice("SCU", "think again"),
        hints=("h1", "h2"),
        solution_code="answer = 'SCU'",
        wrong_code="answer = 'x'",
    )
    assert repr(ex.check(" scu ")) == "[99.2] Correct: Well done."
    assert "medlab-incorrect" in ex.check("SCP")._repr_html_()
    assert "Not attempted" in repr(ex.check())
    assert "not a str" not in repr(ex.check("SCP"))
    assert "Give your answer as text" in ex.check(42).message


def test_hints_come_in_order_and_solution_shows_the_reference_code():
    ex = Exercise(
        id="99.3",
        question="q",
        checker=expect_choice("a", "no"),
        hints=("one", "two"),
        solution_code="answer = 'a'",
        wrong_code="answer = 'b'",
    )
    assert "one" in repr(ex.hint()) and "two" in repr(ex.hint()) and "two" in repr(ex.hint())
    assert "answer = 'a'" in repr(ex.solution())


def test_wrong_answer_text_is_the_hint():
    def checker(answer):
        raise WrongAnswer("count the bytes again")

    ex = Exercise(
        id="99.4",
        question="q",
        checker=checker,
        hints=("h",),
        solution_code="answer = 1",
        wrong_code="answer = 2",
    )
    assert ex.check(1).message == "count the bytes again"


def test_progress_is_recorded_and_a_corrupt_record_is_recreated(medlab_home):
    ex = EXERCISES[next(iter(EXERCISES))]
    ex.check(ex.run_code(ex.wrong_code))
    record = json.loads((medlab_home / "progress.json").read_text())
    assert record["exercises"][ex.id]["outcome"] == INCORRECT
    ex.check(ex.run_code(ex.solution_code))
    ex.check(ex.run_code(ex.wrong_code))  # a later wrong try does not undo a correct answer
    record = json.loads((medlab_home / "progress.json").read_text())
    assert record["exercises"][ex.id] | {"when": 0} == {
        "outcome": CORRECT,
        "attempts": 3,
        "when": 0,
    }

    (medlab_home / "progress.json").write_text("{not json")
    with pytest.warns(UserWarning, match="could not be read"):
        assert _progress.load() == {}
    ex.check(...)
    assert (
        json.loads((medlab_home / "progress.json").read_text())["exercises"][ex.id]["outcome"]
        == NOT_ATTEMPTED
    )
