"""Lessons 12-14: the HL7 verdicts the walk-throughs found wrong, and the lesson texts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from medlab.check import CORRECT, INCORRECT, lesson12, lesson13, lesson14

pytestmark = pytest.mark.usefixtures("medlab_home")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _ack_setup():
    import medlab.hl7
    from medlab.hl7 import samples

    return medlab.hl7, samples, medlab.hl7.parse(samples.ADT_A06_NO_DOB)


def test_the_reference_ack_is_a_valid_v251_ack_under_hl7apy_strict_validation():
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    ex = lesson13.ex2
    reply = ex.run_code(ex.solution_code)
    text = reply.to_er7()
    strict = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT)
    strict.validate()  # raises if the structure is not an ACK of v2.5.1
    assert strict.msh.msh_9.to_er7() == "ACK^A06^ACK"
    assert strict.msa.msa_1.to_er7() == "AE" and strict.msa.msa_2.to_er7() == "CH0009"
    assert strict.msh.msh_10.to_er7() not in ("", "CH0009")
    err = strict.err
    assert err.err_2.to_er7() == "PID^1^7"  # ERR-2 error location: segment^sequence^field
    assert err.err_3.to_er7().split("^")[:2] == ["101", "Required field missing"]  # table 0357
    assert err.err_4.to_er7() == "E"  # ERR-4 severity, table 0516


@pytest.mark.parametrize(
    "answer",
    [
        # the walk-through's ACK: not an ACK structure, the original's control ID, no ERR
        "MSH|^~\\&|RIS|GENHOSP|PAS|GENHOSP|20240312||ACK^A06^ADT_A06|CH0009|P|2.5.1\rMSA|AE|CH0009",
        "MSH|^~\\&|RIS|GENHOSP|PAS|GENHOSP|20240312||ACK^A06^ACK|CH0009|P|2.5.1\rMSA|AE|CH0009",
        "MSH|^~\\&|RIS|GENHOSP|PAS|GENHOSP|20240312||ACK^A06^ACK|A1|P|2.5.1\rMSA|AE|CH0009",
    ],
)
def test_13_2_rejects_hand_written_acks_that_are_wrong(answer):
    assert lesson13.ex2.judge(answer).outcome == INCORRECT


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        ('ack(msg, "AE")', "ERR"),
        ('ack(msg, "AE", "date of birth missing", where="PID-3", error_code=101)', "field"),
        ('ack(msg, "AE", "Patient is fine", where="PID-7", error_code=101)', "why"),
        ('ack(msg, "AE", "date of birth missing", where="PID-7")', "207"),
    ],
)
def test_13_2_rejects_acks_that_do_not_say_why_or_where(call, complaint):
    hl7, samples, msg = _ack_setup()
    answer = eval("hl7." + call, {"hl7": hl7, "msg": msg})
    verdict = lesson13.ex2.judge(answer)
    assert verdict.outcome == INCORRECT and complaint in verdict.message, verdict
    assert "101" not in verdict.message and "PID-7" not in verdict.message


def test_13_2_accepts_a_right_ack_written_by_hand():
    hand = (
        "MSH|^~\\&|RIS|RADIOLOGY|PAS|GENHOSP|20240312141600||ACK^A06^ACK|R0001|P|2.5.1\r"
        "MSA|AE|CH0009\r"
        "ERR||PID^1^7|101^Required field missing^HL70357|E||||Date of birth is missing"
    )
    assert lesson13.ex2.judge(hand).outcome == CORRECT


def test_12_4_names_what_to_call_instead_of_the_library_class():
    import medlab.hl7
    from medlab.hl7 import samples

    field = medlab.hl7.parse(samples.ADT_A04_AE).pv1.pv1_2
    message = lesson12.ex4.judge(field).message
    assert "ElementProxy" not in message
    assert ".to_er7()" in message and ".value" in message


def test_14_hints_diagnose_what_the_answer_counted():
    ex = lesson14.ex1
    series = ex.run_code(ex.wrong_answers[1])
    assert "series" in ex.judge(series).message and "rows" not in ex.judge(series).message
    everyone = ex.run_code(ex.wrong_answers[2])
    assert "every patient" in ex.judge(everyone).message
    ex2 = lesson14.ex2
    message = ex2.judge(ex2.run_code(ex2.wrong_code)).message
    assert "discharged" not in message  # nobody in that answer was discharged
    assert "A11" in message and "A13" in message


def test_14_3_question_names_the_surviving_record_and_the_other_merge_gets_a_hint():
    assert "MLB-200002" in lesson14.ex3.question
    verdict = lesson14.ex3.judge("TMP-909")
    assert verdict.outcome == INCORRECT and "another patient" in verdict.message


def test_14_1_names_the_patient():
    assert "ABERNATHY" in lesson14.ex1.question and "MLB-100234" in lesson14.ex1.question


def _cells(name: str) -> list[dict]:
    path = next(NOTEBOOKS.glob(f"{name}_*.ipynb"))
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    return "".join(cell["source"])


LESSONS = sorted(p.stem[:2] for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_lesson_13_drops_the_read_back_framing():
    text = "\n".join(_text(c) for c in _cells("13")).casefold()
    assert "read-back" not in text and "read back" not in text
    assert "## 1. the acknowledgement: a new message" in text


def test_lesson_13_shows_acks_text_where_and_error_code_arguments():
    calls = [
        _text(c)
        for c in _cells("13")
        if c["cell_type"] == "code" and "medlab.hl7.ack(" in _text(c) and "display(" not in _text(c)
    ]
    shown = [c for c in calls if "where=" in c and "error_code=" in c and re.search(r'"AE", "', c)]
    assert shown, "a lesson cell must call ack with a reason text, where= and error_code="
    outputs = [
        "".join(o.get("text", ""))
        for c in _cells("13")
        if "where=" in _text(c)
        for o in c.get("outputs", [])
    ]
    assert any(re.search(r"^ERR\|\|[A-Z0-9]{3}\^1\^\d+\|\d{3}\^", out, re.M) for out in outputs)


@pytest.mark.parametrize("lesson", LESSONS)
def test_step_numbers_run_through_the_lesson_without_restarting(lesson):
    steps = [
        int(n)
        for c in _cells(lesson)
        if c["cell_type"] == "markdown"
        for n in re.findall(r"\*\*(\d+)\.", _text(c))
    ]
    assert steps == list(range(1, len(steps) + 1)), f"lesson {lesson} numbers its steps {steps}"


@pytest.mark.parametrize("lesson", LESSONS[:-1])
def test_each_lesson_links_to_the_next(lesson):
    from medlab import course

    numbers = [les.number for les in course.LESSONS]
    nxt = course.LESSONS[numbers.index(lesson) + 1]
    last = _text(_cells(lesson)[-1])
    link = f"Next: [{nxt.number} · {nxt.title}]({nxt.number}_{nxt.slug}.ipynb)"
    assert link in last, f"lesson {lesson} ends without {link!r}"


def test_the_version_ranges_lesson_13_and_orders_give_match_hl7apys_definitions():
    import importlib

    import medlab.hl7.orders as orders_module

    def has(version: str, structure: str) -> bool:
        return structure in importlib.import_module(f"hl7apy.{version}.messages").MESSAGES

    # ORM^O01 exists from the first versions up to v2.6; OMI^O23 from v2.5
    assert has("v2_1", "ORM_O01") and has("v2_6", "ORM_O01") and not has("v2_7", "ORM_O01")
    assert has("v2_5", "OMI_O23") and not has("v2_4", "OMI_O23")
    lesson = "\n".join(_text(c) for c in _cells("13"))
    assert "**ORM^O01** (up to v2.6; **OMI^O23** from v2.5)" in lesson
    assert "ORM^O01 (up to v2.6, withdrawn in v2.7)" in orders_module.__doc__
