"""Every exercise in the course: the reference solution passes, a plausible wrong
answer fails with a hint that does not give the answer away, and the untouched
placeholder counts as not attempted. Also the checker machinery itself."""

from __future__ import annotations

import json
import re

import pytest

from medlab.check import (
    CHECK_FAILED,
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Exercise,
    WrongAnswer,
    _progress,
    element_keyword,
    expect_choice,
    expect_element,
    normalise,
    registry,
)
from medlab.check._core import TextAnswer

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


def _forms(right) -> list[re.Pattern]:
    """Patterns that find ``right`` written in a text, whatever its type.

    Token boundaries, not substrings: the code "AR" is found in "answer AR" but not in "ARE";
    the number 2 in "2 studies" but not in "PS3.2" or "A02".
    """
    before, after = r"(?<![\w.])", r"(?!\w|\.\d)"
    if isinstance(right, (set, frozenset, list)):
        return [p for item in right for p in _forms(item)]
    if isinstance(right, tuple):
        sep = r"\s*[,x\u00d7]\s*"
        return [re.compile(before + r"\(?" + sep.join(map(str, right)) + r"\)?" + after)]
    if isinstance(right, (bytes, bytearray)):
        right = bytes(right)
        escaped = "".join(f"\\x{b:02x}" for b in right)
        return [
            re.compile(re.escape(repr(right)[2:-1]), re.I),
            re.compile(re.escape(escaped), re.I),
            re.compile(r"\b" + r"[\s:]?".join(f"{b:02x}" for b in right) + r"\b", re.I),
        ]
    if isinstance(right, bool):
        return [re.compile(before + str(right) + after)]
    if isinstance(right, (int, float)):
        numbers = {repr(right)}
        if float(right).is_integer():
            numbers |= {str(int(right)), f"{int(right)}.0"}
            if abs(right) > 255:
                numbers |= {f"0x{int(right):04x}", f"{int(right):04x}h", f"{int(right):04x}"}
        return [re.compile(before + re.escape(n) + after, re.I) for n in sorted(numbers)]
    if isinstance(right, str):
        words = re.findall(r"[A-Za-z0-9]+", right)
        if re.fullmatch(r"[A-Za-z0-9 _\-]+", right) and words:
            return [re.compile(before + r"[\W_]*".join(words) + after, re.I)]
        return [re.compile(before + re.escape(right) + after, re.I)]
    return []  # a message object: each such exercise has its own test


def _reveals(right, text: str, choices=()) -> bool:
    """Does ``text`` give ``right`` away? A text that names every choice reveals none."""
    if choices and all(any(p.search(text) for p in _forms(c)) for c in choices):
        return False
    if isinstance(right, list):  # an ordered answer (a path): given away when all of it shows
        return all(any(p.search(text) for p in _forms(item)) for item in right)
    return any(pattern.search(text) for pattern in _forms(right))


def _texts_a_trainee_sees(ex) -> list[tuple[str, str]]:
    """Every hint and every incorrect verdict of ``ex``'s listed wrong answers."""
    seen = [(f"hint {i + 1}", h) for i, h in enumerate(ex.hints)]
    for code in (ex.wrong_code, *ex.wrong_answers):
        seen.append((f"verdict on {code!r}", ex.judge(ex.run_code(code)).message))
    checker = ex.checker
    if isinstance(checker, TextAnswer):
        seen.append(("checker hint", checker.hint))
        seen += [(f"checker hint for {w!r}", h) for w, h in checker.wrong]
    return seen


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_plausible_wrong_answer_is_rejected(ex_id):
    ex = EXERCISES[ex_id]
    verdict = ex.check(ex.run_code(ex.wrong_code))
    assert verdict.outcome == INCORRECT, verdict
    assert verdict.message


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_no_hint_and_no_incorrect_verdict_gives_the_answer_away(ex_id):
    ex = EXERCISES[ex_id]
    right = ex.run_code(ex.solution_code)
    leaks = [
        where for where, text in _texts_a_trainee_sees(ex) if _reveals(right, text, ex.choices)
    ]
    assert not leaks, f"{ex_id}: the answer {right!r} shows in {leaks}"


@pytest.mark.parametrize(
    ("right", "text", "leaks"),
    [
        ("AR", "ARE you sure?", False),
        ("AR", "The answer is AR.", True),
        ("A06", "ADT^A06 changes the class", True),
        ("A06", "ADT^A061", False),
        ("General Series", "Modality sits in the General Series module", True),
        ("transfer-syntaxes-not-supported", "transfer syntaxes not supported", True),
        (2, "see PS3.2 and A02", False),
        (2, "it has 2 studies", True),
        (43009, "a status of 0xA801", True),
        (24.0, "about 24 HU", True),
        (b"\x1c\r", "ends with \\x1c\\x0d", True),
        (b"\x1c\r", "ends with 1C 0D", True),
        ((600, 800, 3), "the shape is (600, 800, 3)", True),
        ((600, 800, 3), "600 x 800", False),
        ({"MLB-200004", "MLB-200011"}, 'e.g. {"MLB-200004"}', True),
        ("E", "the department A&E", True),
        ("E", "PV1-2 or EMERGENCY", False),
    ],
)
def test_the_leak_check_finds_every_kind_of_answer(right, text, leaks):
    assert _reveals(right, text) is leaks


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_each_exercise_lists_at_least_three_misconceptions(ex_id):
    assert len(EXERCISES[ex_id].wrong_answers) >= 3, (
        f"{ex_id}: list the plausible wrong answers in Exercise.wrong_answers"
    )


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_placeholder_is_not_attempted(ex_id):
    assert EXERCISES[ex_id].check(...).outcome == NOT_ATTEMPTED


@pytest.mark.parametrize("ex_id", [k for k, ex in EXERCISES.items() if ex.choices])
def test_multiple_choice_solution_is_one_of_the_choices(ex_id):
    ex = EXERCISES[ex_id]
    assert ex.run_code(ex.solution_code) in ex.choices


def _broken_checker(answer):
    raise KeyError("boom")


def test_a_checker_that_crashes_says_the_checker_failed_not_the_exception(medlab_home):
    ex = Exercise(
        id="99.1",
        question="q",
        checker=_broken_checker,
        hints=("look again",),
        solution_code="answer = 1",
        wrong_code="answer = 2",
    )
    verdict = ex.check(3)
    assert verdict.outcome == CHECK_FAILED and not verdict.passed
    assert "checker of exercise 99.1 failed" in verdict.message
    assert "report it" in verdict.message and "lesson99.ex1.hint()" in verdict.message
    for leaked in ("boom", "KeyError", "Traceback"):
        assert leaked not in verdict.message and leaked not in verdict._repr_html_()
        assert leaked not in repr(verdict)
    assert "KeyError: 'boom'" in verdict.detail  # for whoever fixes the checker
    assert "Could not check" in verdict._repr_html_()
    assert not (medlab_home / "progress.json").exists()  # medlab's bug is not an attempt


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
    ex.check(ex.run_code(ex.wrong_code))
    assert (
        json.loads((medlab_home / "progress.json").read_text())["exercises"][ex.id]["outcome"]
        == INCORRECT
    )


def test_running_the_placeholder_is_not_an_attempt(medlab_home):
    ex = EXERCISES[next(iter(EXERCISES))]
    assert ex.check(...).outcome == NOT_ATTEMPTED
    assert not (medlab_home / "progress.json").exists()
    ex.check(ex.run_code(ex.wrong_code))
    ex.check(...)
    ex.check(...)
    entry = json.loads((medlab_home / "progress.json").read_text())["exercises"][ex.id]
    assert (entry["outcome"], entry["attempts"]) == (INCORRECT, 1)


# --- one normalisation for every checker (issue 14) --------------------------------------


@pytest.mark.parametrize(
    ("ex_id", "answer"),
    [
        ("07.2", "Transfer Syntax(es) Not Supported"),  # what the lesson's own output prints
        ("07.2", "transfer_syntaxes_not_supported"),
        ("07.1", "called AE title not recognized"),
        ("07.3", "time out"),
        ("08.3", "TRAINEE"),
        ("13.4", "Accession Number"),
        ("13.4", "(0008,0050)"),
        ("13.4", "00080050"),
        ("13.4", "accession_number"),
    ],
)
def test_right_answers_written_another_way_are_accepted(ex_id, answer):
    verdict = EXERCISES[ex_id].judge(answer)
    assert verdict.outcome == CORRECT, verdict


def test_normalise_drops_only_what_does_not_change_the_meaning():
    same = [
        "Transfer Syntax(es) Not Supported",
        "transfer-syntaxes-not-supported",
        " TRANSFER_SYNTAXES not supported ",
    ]
    assert len({normalise(text) for text in same}) == 1
    assert normalise("time out") == normalise("timeout")
    assert normalise("TRAINEE") == normalise("the trainee")
    # dots, digits, + and ^ keep their meaning
    assert normalise("1.2.840.10008.1.2") != normalise("1.2.840.10008.12")
    assert normalise("1.2..840") != normalise("1.2.840")
    assert normalise("ACK^A06") != normalise("ACKA06")
    assert normalise("Shift+Enter") != normalise("Shift Enter")


def test_an_element_is_the_same_by_keyword_name_or_tag():
    from pydicom.tag import Tag

    forms = [
        "AccessionNumber",
        "Accession Number",
        "accession-number",
        "(0008,0050)",
        "(0008, 0050)",
        "0008,0050",
        "00080050",
        "0x00080050",
        0x00080050,
        (0x0008, 0x0050),
        Tag(0x0008, 0x0050),
    ]
    assert {element_keyword(form) for form in forms} == {"AccessionNumber"}
    assert element_keyword("Patient's Name") == "PatientName"
    assert element_keyword("no such thing") is None and element_keyword(True) is None


def _choice_exercise(**kwargs):
    return Exercise(
        id="99.5",
        question="Which role?",
        hints=("h",),
        solution_code="answer = 'SCU'",
        wrong_code="answer = 'SCP'",
        **kwargs,
    )


def test_expect_choice_knows_its_choices_and_the_definition_is_checked():
    ex = _choice_exercise(
        checker=expect_choice("SCU", "Who asks?", wrong={"SCP": "That side answers."}),
        choices=("SCU", "SCP"),
    )
    assert ex.judge("scp").message == "That side answers."
    outside = ex.judge("client")
    assert outside.outcome == INCORRECT and "not one of the choices" in outside.message
    assert "lesson99.ex5" in outside.message and "SCU" not in outside.message
    assert ex.judge("S.C.U.").outcome == INCORRECT
    # the checker gives the exercise its choices when the exercise has none
    built = _choice_exercise(checker=expect_choice("SCU", "h", choices=("SCU", "SCP")))
    assert built.choices == ("SCU", "SCP")
    with pytest.raises(ValueError, match="not one of its choices"):
        _choice_exercise(checker=expect_choice("SCU", "h"), choices=("SCP", "both"))
    with pytest.raises(ValueError, match="mean the same"):
        _choice_exercise(checker=expect_choice("SCU", "h"), choices=("SCU", "scu", "SCP"))


def test_a_right_idea_written_differently_is_correct_with_the_canonical_form():
    ex = _choice_exercise(
        checker=expect_choice("timeout", "h", accept=["timed out"]),
        choices=("timeout", "refused"),
    )
    assert ex.judge("timeout").message == "Well done."
    assert ex.judge("TIMEOUT").message == "Well done."
    assert ex.judge("timed out").message == "Well done. (The lesson writes it 'timeout'.)"


def test_expect_element_names_the_forms_when_the_answer_is_no_element():
    ex = _choice_exercise(checker=expect_element("AccessionNumber", "Look at the table."))
    verdict = ex.judge("Accession Numbr")
    assert (
        verdict.outcome == INCORRECT and "keyword" in verdict.message and "tag" in verdict.message
    )
    assert ex.judge(42).outcome == INCORRECT
    with pytest.raises(ValueError):
        expect_element("Accession Number", "h")  # the reference is a keyword


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_displaying_an_exercise_shows_the_question_only(ex_id):
    ex = EXERCISES[ex_id]
    shown = [repr(ex), ex._repr_html_()]
    assert ex.question in shown[0]
    secret_lines = [
        line.strip()
        for code in (ex.solution_code, ex.wrong_code, *ex.wrong_answers, ex.setup)
        for line in code.splitlines()
        if len(line.strip()) > 12
    ]
    for text in shown:
        assert "solution_code" not in text and "wrong_code" not in text and "checker" not in text
        for line in secret_lines:
            assert line not in text, line


# --- the registry's question is the only one: every notebook shows it -------------------

_NOTEBOOKS = sorted(
    (__import__("pathlib").Path(__file__).resolve().parents[2] / "notebooks").glob(
        "[0-9][0-9]_*.ipynb"
    )
)


def _plain_markdown(text: str) -> str:
    """Markdown as the trainee reads it: no backticks, quotes, emphasis or line breaks."""
    text = re.sub(r"[`*_\"']", "", text)
    return " ".join(text.split())


def _shows_question(ex) -> bool:
    """Does ``ex``'s notebook render the registry's question (display or quiz), or state
    it word for word in a markdown cell?"""
    path = next(p for p in _NOTEBOOKS if p.stem.startswith(ex.lesson))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    name = ex.name.replace(".", r"\.")
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code":
            if re.search(rf"^(display\({name}\)|{name})\s*(#.*)?$", text, re.M):
                return True
            if re.search(rf"quiz\(\[[^\]]*\b{name}\b", text):
                return True
        elif _plain_markdown(ex.question) in _plain_markdown(text):
            return True
    return False


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_each_notebook_shows_its_exercise_question_from_the_registry(ex_id):
    ex = EXERCISES[ex_id]
    assert _shows_question(ex), (
        f"{ex_id}: the notebook neither displays {ex.name} nor states the registry's question "
        f"word for word: {ex.question!r}"
    )


def test_a_library_object_instead_of_text_is_told_what_to_call():
    import pydicom

    import medlab.hl7
    from medlab.hl7 import samples

    ex = _choice_exercise(checker=expect_choice("SCU", "h"), choices=("SCU", "SCP"))
    field = medlab.hl7.parse(samples.ADT_A04_AE).pv1.pv1_2
    assert ".to_er7()" in ex.judge(field).message and "ElementProxy" not in ex.judge(field).message
    element = pydicom.DataElement(0x00100010, "PN", "SCU")
    assert ".value" in ex.judge(element).message
    assert "not int" in ex.judge(3).message
