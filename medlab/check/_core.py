"""Checked exercises: one :class:`Exercise` per question, three outcomes (and a fourth).

Each exercise keeps, in one place, its id, question, checker, hints, points
and reference solution (as code). A trainee calls ``check(answer)``,
``hint()`` and ``solution()``; the unit tests run the same reference solution
to prove the checker accepts it, and a plausible wrong answer and the
placeholder to prove it rejects them.

Outcomes (as learntools does it):

* **correct** - the answer is right;
* **incorrect** - with a hint that points the way and never reveals the answer;
* **not attempted** - the placeholder ``...`` is still there.

plus **check failed** - the checker itself crashed: a bug in medlab, never blamed
on the trainee and never shown as the exception's text.

Building checkers (one home for every lesson)
---------------------------------------------
Text answers are compared by :func:`normalise` (case, spaces, hyphens, underscores,
parentheses, quotes and a leading "the"/"a"/"an" do not matter), DICOM elements by
:func:`element_keyword` (keyword, name or tag, through pydicom's dictionary)::

    checker=expect_choice(
        "transfer-syntaxes-not-supported",
        "The PACS knows the SOP class: which part of the proposal did it not like?",
        accept=["transfer syntax not supported"],          # other right phrasings
        wrong={"abstract-syntax-not-supported": "The PACS does know Verification..."},
        choices=[...],                                     # or Exercise(choices=...)
    )
    checker=expect_element("AccessionNumber", "Look up OBR-18 in the mapping table.",
                           wrong={"StudyInstanceUID": "That one the RIS makes up itself..."})

A right answer written differently from the canonical form is judged correct with a note
("Well done. (The lesson writes it '...'.)"). An answer outside a multiple-choice
exercise's choices is told so (without listing the choices in the verdict). A library
object given where text is expected is told what to call (:func:`not_text_hint`). A checker
may return a text: it is added to the "Correct" verdict as a note.

Displaying an exercise (``lesson14.ex1`` in a cell) shows its title, question and choices,
never its solution or wrong answers: notebooks show the question this way, so the registry
holds the only copy.
"""

from __future__ import annotations

import html
import re
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

#: What the notebook leaves in an answer cell until the trainee fills it in.
PLACEHOLDER = ...

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"
CHECK_FAILED = "check failed"

_STYLE = {
    CORRECT: ("#1b7f3b", "#e8f5ec", "Correct"),
    INCORRECT: ("#a4262c", "#fdecee", "Not quite"),
    NOT_ATTEMPTED: ("#5c5c5c", "#f3f3f3", "Not attempted yet"),
    CHECK_FAILED: ("#8a5a00", "#fff4e0", "Could not check"),
}

#: What the trainee is told when a checker crashes (the traceback goes to ``Verdict.detail``).
CHECK_FAILED_MESSAGE = (
    "The checker of exercise {id} failed on this answer: that is a bug in medlab, not a "
    "verdict on your answer. Please report it to your instructor (or as an issue of the "
    "course) with the exercise id {id} and the answer you gave; meanwhile "
    "{name}.hint() and {name}.solution() still work."
)


@dataclass(frozen=True)
class Verdict:
    """The result of checking one answer; renders as a coloured box in a notebook."""

    exercise_id: str
    outcome: str
    message: str
    #: For a crashed checker: the traceback, for whoever fixes it (never displayed).
    detail: str = field(default="", repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.outcome == CORRECT

    def __repr__(self) -> str:
        label = _STYLE[self.outcome][2]
        return f"[{self.exercise_id}] {label}: {self.message}"

    def _repr_html_(self) -> str:
        fg, bg, label = _STYLE[self.outcome]
        return (
            f'<div class="medlab-verdict medlab-{self.outcome.replace(" ", "-")}" '
            f'style="border-left:4px solid {fg};background:{bg};padding:6px 10px">'
            f'<b style="color:{fg}">{label}</b> '
            f"<span>[{html.escape(self.exercise_id)}] {html.escape(self.message)}</span></div>"
        )


@dataclass(frozen=True)
class Note:
    """A hint or a solution, rendered as text in a terminal and HTML in a notebook."""

    title: str
    body: str
    code: bool = False

    def __repr__(self) -> str:
        return f"{self.title}:\n{self.body}"

    def _repr_html_(self) -> str:
        body = html.escape(self.body)
        body = f"<pre>{body}</pre>" if self.code else f"<span>{body}</span>"
        return f'<div class="medlab-note"><b>{html.escape(self.title)}</b> {body}</div>'


class WrongAnswer(Exception):
    """Raised by a checker to reject an answer; its text is the hint shown."""


class NotAChoice(WrongAnswer):
    """Raised by a choice checker when the answer is none of the exercise's choices."""


#: ``checker(answer)`` returns None (or a note for the "Correct" verdict) or raises WrongAnswer.
Checker = Callable[[Any], "str | None"]


def exercise_name(exercise_id: str) -> str:
    """How a notebook names exercise ``"07.2"``: ``"lesson07.ex2"``."""
    lesson, number = exercise_id.split(".")
    return f"lesson{lesson}.ex{number}"


@dataclass
class Exercise:
    """One checked exercise.

    Parameters
    ----------
    id:
        ``"<lesson>.<number>"``, e.g. ``"01.2"``; unique across the course.
    question:
        What the trainee is asked, in one or two sentences. This text is the only copy of the
        question: the notebook displays the exercise (``lesson14.ex1``), which renders it.
    title:
        A short heading for the exercise (a few words, e.g. "Refused or timed out?"), shown
        above the question when the exercise is displayed and in the quiz card.
    checker:
        ``checker(answer)`` returns normally when the answer is right and
        raises :class:`WrongAnswer` with a hint when it is not.
    hints:
        Progressively stronger hints; none gives the answer away.
    solution_code:
        Reference solution as code that assigns ``answer`` (after ``setup``).
    setup:
        Code the solution needs first (imports, loading a sample), as in the
        lesson's cells before the exercise.
    wrong_code:
        Code that assigns a plausible *wrong* ``answer``; the tests prove the
        checker rejects it.
    wrong_answers:
        The plausible wrong answers a confused trainee gives (the neighbouring tag, the
        other side of a role, the common wrong code, the off-by-one length), each as code
        that assigns ``answer`` after ``setup``, e.g. ``"answer = 'SCP'  # the other role"``.
        The tests prove every one is rejected with a hint that does not reveal the answer.
    choices:
        For multiple-choice questions: the options a quiz widget offers and the display
        lists. A checker built by :func:`expect_choice` or :func:`expect_element` gets them
        too (answers outside them are told so), and the reference answer must be one of them
        (checked when the exercise is defined).
    points:
        What the exercise is worth when graded.
    """

    id: str
    question: str
    checker: Checker
    hints: Sequence[str]
    solution_code: str
    wrong_code: str
    setup: str = ""
    wrong_answers: Sequence[str] = ()
    choices: Sequence[str] = ()
    points: int = 1
    title: str = ""
    _hint_index: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.checker, TextAnswer):
            if self.choices and not self.checker.choices:
                self.checker = self.checker.with_choices(self.choices)
            elif self.checker.choices and not self.choices:
                self.choices = tuple(self.checker.choices)
            if self.choices:
                self.checker.validate_choices(self.id, self.choices)

    @property
    def lesson(self) -> str:
        return self.id.split(".")[0]

    @property
    def name(self) -> str:
        """How the notebook names this exercise, e.g. ``lesson14.ex1``."""
        return exercise_name(self.id)

    def __repr__(self) -> str:
        """The question only: never the solution, the wrong answers or the checker."""
        lines = [f"Exercise {self.id}" + (f": {self.title}" if self.title else ""), self.question]
        lines += [f"  - {choice}" for choice in self.choices]
        lines.append(f"Answer with {self.name}.check(answer); {self.name}.hint() helps.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        title = f": {html.escape(self.title)}" if self.title else ""
        choices = "".join(f"<li>{html.escape(str(c))}</li>" for c in self.choices)
        choices = f"<ul>{choices}</ul>" if choices else ""
        return (
            f'<div class="medlab-exercise"><b>Exercise {html.escape(self.id)}{title}</b>'
            f"<p>{html.escape(self.question)}</p>{choices}"
            f"<p><small>Answer with <code>{self.name}.check(answer)</code>; "
            f"<code>{self.name}.hint()</code> helps.</small></p></div>"
        )

    def check(self, answer: Any = PLACEHOLDER) -> Verdict:
        """Check ``answer``, remember the outcome for the trainee, return the verdict.

        Never raises: a crashing checker gives a "check failed" verdict.
        """
        verdict = self.judge(answer)
        from medlab.check import _progress

        _progress.record(self, verdict)
        return verdict

    def judge(self, answer: Any) -> Verdict:
        """Return the verdict on ``answer`` without recording it (used for grading)."""
        if answer is PLACEHOLDER:
            return Verdict(
                self.id,
                NOT_ATTEMPTED,
                "Replace the ... placeholder with your answer, then run the cell again.",
            )
        try:
            note = self.checker(answer)
        except NotAChoice:
            return Verdict(
                self.id,
                INCORRECT,
                f"That is not one of the choices of this exercise: type {self.name} in a cell "
                "to see them, and answer with one of them.",
            )
        except WrongAnswer as wrong:
            return Verdict(self.id, INCORRECT, str(wrong) or self.hints[0])
        except Exception:  # a checker must never show a traceback, nor blame the trainee
            return Verdict(
                self.id,
                CHECK_FAILED,
                CHECK_FAILED_MESSAGE.format(id=self.id, name=self.name),
                detail=traceback.format_exc(),
            )
        return Verdict(self.id, CORRECT, "Well done." + (f" {note}" if note else ""))

    def hint(self, number: int | None = None) -> Note:
        """Return the next hint (or hint ``number``, counting from 1)."""
        if number is None:
            number = min(self._hint_index + 1, len(self.hints))
            self._hint_index = number
        number = max(1, min(number, len(self.hints)))
        return Note(f"Hint {number} of {len(self.hints)}", self.hints[number - 1])

    def solution(self) -> Note:
        """Reveal the reference solution (the same code the tests run)."""
        return Note(f"Solution to {self.id}", self.solution_code, code=True)

    def run_code(self, code: str) -> Any:
        """Run ``setup`` then ``code`` in a fresh namespace and return ``answer``."""
        namespace: dict[str, Any] = {}
        exec(compile(self.setup + "\n" + code, f"<exercise {self.id}>", "exec"), namespace)
        return namespace["answer"]


# --------------------------------------------------------------------------------------
# Comparing answers: one place for every lesson.

_ARTICLE = re.compile(r"^(?:the|an?)\s+")
_IGNORED = re.compile(r"[\s\-_()\[\],;:!?'\"`\u2018\u2019\u201c\u201d]+")


def normalise(text: Any) -> str:
    """The comparison key of a text answer: what does not change its meaning is dropped.

    Case, spaces, hyphens, underscores, parentheses, commas, quotes and a leading article
    do not matter: ``"Transfer Syntax(es) Not Supported"``, ``"transfer-syntaxes-not-supported"``
    and ``"transfer_syntaxes_not_supported"`` share one key; so do ``"time out"`` and
    ``"timeout"``, ``"TRAINEE"`` and ``"the trainee"``. Dots, digits, ``+`` and ``^`` are
    kept (UIDs, key combinations and HL7 codes keep their meaning).
    """
    cleaned = unicodedata.normalize("NFKC", str(text)).casefold().strip()
    cleaned = _ARTICLE.sub("", cleaned)
    return _IGNORED.sub("", cleaned)


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


_TAG_TEXT = re.compile(r"^\(?\s*(?:0x)?([0-9a-f]{4})\s*,?\s*(?:0x)?([0-9a-f]{4})\s*\)?$", re.I)


@lru_cache(maxsize=1)
def _element_names() -> dict[str, str]:
    """Normalised keyword and name -> keyword, from pydicom's data dictionary."""
    from pydicom.datadict import DicomDictionary

    names: dict[str, str] = {}
    # Current elements first, so that a retired element never takes a current one's name.
    for _tag, (_vr, _vm, name, _retired, keyword) in sorted(
        DicomDictionary.items(), key=lambda item: bool(item[1][3])
    ):
        if keyword:
            names.setdefault(normalise(keyword), keyword)
            names.setdefault(normalise(name), keyword)
    return names


def element_keyword(answer: Any) -> str | None:
    """The keyword of the DICOM element ``answer`` names, or None.

    ``"AccessionNumber"``, ``"Accession Number"``, ``"accession_number"``,
    ``"(0008,0050)"``, ``"0008,0050"``, ``"00080050"``, ``0x00080050``, ``(0x0008, 0x0050)``
    and a pydicom ``Tag`` all give ``"AccessionNumber"`` (pydicom's dictionary).
    """
    from pydicom.datadict import keyword_for_tag

    tag: int | None = None
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        tag = answer
    elif isinstance(answer, tuple) and len(answer) == 2 and all(isinstance(p, int) for p in answer):
        tag = (answer[0] << 16) | answer[1]
    elif isinstance(answer, str):
        match = _TAG_TEXT.match(answer.strip())
        if match:
            tag = int(match.group(1) + match.group(2), 16)
        else:
            return _element_names().get(normalise(answer))
    if tag is None or not 0 <= tag <= 0xFFFFFFFF:
        return None
    return keyword_for_tag(tag) or None


def not_text_hint(answer: Any) -> str:
    """What to say when a text answer is some library's object: what to call to get the text."""
    if hasattr(answer, "to_er7"):
        return (
            "That is an hl7apy element, not its text: call .to_er7() on it (or read its "
            ".value) and give that string."
        )
    if hasattr(answer, "value") and not callable(answer.value):
        return f"That is a {type(answer).__name__} object, not text: give its .value (as a str)."
    return f"Give your answer as text (a str), not {type(answer).__name__}."


@dataclass(frozen=True)
class TextAnswer:
    """A checker for one right text answer; build it with :func:`expect_choice`
    or :func:`expect_element`.

    Answers are compared by ``key`` (:func:`normalise`, or :func:`element_keyword`);
    ``accept`` lists other right phrasings, ``wrong`` maps known wrong answers to the hint
    that fits each, ``choices`` (if any) are the only answers a multiple-choice exercise
    takes.
    """

    correct: str
    hint: str
    accept: tuple[str, ...] = ()
    wrong: tuple[tuple[str, str], ...] = ()
    choices: tuple[str, ...] = ()
    kind: str = "text"  # "text" or "element"
    pre: Callable[[str], str] | None = None

    def key(self, answer: Any) -> str | None:
        if self.kind == "element":
            keyword = element_keyword(answer)
            return keyword if keyword else None
        if not isinstance(answer, str):
            return None
        text = " ".join(answer.split()).casefold()
        return normalise(self.pre(text) if self.pre else text)

    def with_choices(self, choices: Iterable[str]) -> TextAnswer:
        return TextAnswer(
            self.correct,
            self.hint,
            self.accept,
            self.wrong,
            tuple(choices),
            self.kind,
            self.pre,
        )

    def validate_choices(self, exercise_id: str, choices: Sequence[str]) -> None:
        """The exercise definition is sound: distinct choices, the right answer among them."""
        keys = [self.key(choice) for choice in choices]
        if None in keys or len(set(keys)) != len(keys):
            raise ValueError(
                f"Exercise {exercise_id}: two choices mean the same, or one is unreadable"
            )
        if self.key(self.correct) not in keys:
            raise ValueError(f"Exercise {exercise_id}: the right answer is not one of its choices")
        if set(keys) != {self.key(c) for c in self.choices or choices}:
            raise ValueError(
                f"Exercise {exercise_id}: the checker and the exercise differ in choices"
            )

    def __call__(self, answer: Any) -> str | None:
        if self.kind == "text" and not isinstance(answer, str):
            raise WrongAnswer(not_text_hint(answer))
        key = self.key(answer)
        if key is None:
            raise WrongAnswer(
                f"{answer!r} does not name a DICOM element: give its keyword (no spaces), "
                "its name, or its tag as '(gggg,eeee)'."
            )
        if key == self.key(self.correct) or key in {self.key(a) for a in self.accept}:
            if self.kind == "element" or _plain(answer) == _plain(self.correct):
                return None
            return f"(The lesson writes it '{self.correct}'.)"
        for wrong, hint in self.wrong:
            if key == self.key(wrong):
                raise WrongAnswer(hint)
        if self.choices and key not in {self.key(c) for c in self.choices}:
            raise NotAChoice(self.hint)
        raise WrongAnswer(self.hint)


def expect_choice(
    correct: str,
    hint: str,
    *,
    accept: Iterable[str] = (),
    wrong: Mapping[str, str] | None = None,
    choices: Iterable[str] = (),
    normalise: Callable[[str], str] | None = None,
) -> TextAnswer:
    """Build a checker that accepts one text answer, compared by :func:`normalise`.

    Parameters
    ----------
    correct:
        The right answer in its canonical form (as the standard or the lesson writes it).
    hint:
        What an incorrect verdict says; it must not contain the answer.
    accept:
        Other phrasings that are right too (``"timed out"`` for ``"timeout"``); accepted
        with the note "(The lesson writes it '...'.)".
    wrong:
        Known wrong answers -> the hint that fits each one (the other side of a role, the
        neighbouring code). No hint may contain the right answer.
    choices:
        For multiple-choice exercises (or give ``choices`` to the :class:`Exercise`): an
        answer outside them is told it is not one of the choices.
    normalise:
        An extra rewrite of the (casefolded, space-collapsed) answer before the comparison,
        e.g. ``lambda t: t.replace(" endian", "")``.
    """
    return TextAnswer(
        correct,
        hint,
        tuple(accept),
        tuple((wrong or {}).items()),
        tuple(choices),
        "text",
        normalise,
    )


def expect_element(
    keyword: str,
    hint: str,
    *,
    wrong: Mapping[str, str] | None = None,
    choices: Iterable[str] = (),
) -> TextAnswer:
    """Build a checker that accepts one DICOM element, however the trainee names it.

    Keyword, name and tag mean the same (``"AccessionNumber"``, ``"Accession Number"``,
    ``"(0008,0050)"``, ``"00080050"``, ``0x00080050``): see :func:`element_keyword`.
    ``wrong`` maps elements (any form) to the hint for each; ``choices`` as in
    :func:`expect_choice`.
    """
    if element_keyword(keyword) != keyword:
        raise ValueError(f"{keyword!r} is not a DICOM keyword")
    return TextAnswer(
        keyword,
        hint,
        (),
        tuple((wrong or {}).items()),
        tuple(choices),
        "element",
    )


def expect_equal(correct: Any, hint: str) -> Checker:
    """Build a checker that accepts exactly ``correct`` (numbers compared as numbers)."""

    def checker(answer: Any) -> None:
        if answer != correct:
            raise WrongAnswer(hint)

    return checker
