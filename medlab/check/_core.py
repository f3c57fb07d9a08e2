"""Checked exercises: one :class:`Exercise` per question, three outcomes.

Each exercise keeps, in one place, its id, question, checker, hints, points
and reference solution (as code). A trainee calls ``check(answer)``,
``hint()`` and ``solution()``; the unit tests run the same reference solution
to prove the checker accepts it, and a plausible wrong answer and the
placeholder to prove it rejects them.

Outcomes (as learntools does it):

* **correct** - the answer is right;
* **incorrect** - with a hint that points the way and never reveals the answer;
* **not attempted** - the placeholder ``...`` is still there.

The checker never raises into the notebook: whatever goes wrong while
checking becomes an "incorrect" verdict with a plain explanation.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: What the notebook leaves in an answer cell until the trainee fills it in.
PLACEHOLDER = ...

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"

_STYLE = {
    CORRECT: ("#1b7f3b", "#e8f5ec", "Correct"),
    INCORRECT: ("#a4262c", "#fdecee", "Not quite"),
    NOT_ATTEMPTED: ("#5c5c5c", "#f3f3f3", "Not attempted yet"),
}


@dataclass(frozen=True)
class Verdict:
    """The result of checking one answer; renders as a coloured box in a notebook."""

    exercise_id: str
    outcome: str
    message: str

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


Checker = Callable[[Any], None]


@dataclass
class Exercise:
    """One checked exercise.

    Parameters
    ----------
    id:
        ``"<lesson>.<number>"``, e.g. ``"01.2"``; unique across the course.
    question:
        What the trainee is asked, in one or two sentences.
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
        For multiple-choice questions: the options a quiz widget offers.
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

    @property
    def lesson(self) -> str:
        return self.id.split(".")[0]

    def check(self, answer: Any = PLACEHOLDER) -> Verdict:
        """Check ``answer``, remember the outcome for the trainee, return the verdict.

        Never raises: whatever goes wrong becomes an "incorrect" verdict.
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
            self.checker(answer)
        except WrongAnswer as wrong:
            return Verdict(self.id, INCORRECT, str(wrong) or self.hints[0])
        except Exception as exc:  # a checker must never show a traceback
            return Verdict(
                self.id,
                INCORRECT,
                f"Your answer could not be checked ({type(exc).__name__}: {exc}). "
                f"Hint: {self.hints[0]}",
            )
        return Verdict(self.id, CORRECT, "Well done.")

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


def expect_choice(
    correct: str, hint: str, *, normalise: Callable[[str], str] | None = None
) -> Checker:
    """Build a checker that accepts one text answer (case and spaces ignored)."""

    def norm(text: str) -> str:
        text = " ".join(str(text).split()).casefold()
        return normalise(text) if normalise else text

    def checker(answer: Any) -> None:
        if not isinstance(answer, str):
            raise WrongAnswer(f"Give your answer as text (a str), not {type(answer).__name__}.")
        if norm(answer) != norm(correct):
            raise WrongAnswer(hint)

    return checker


def expect_equal(correct: Any, hint: str) -> Checker:
    """Build a checker that accepts exactly ``correct`` (numbers compared as numbers)."""

    def checker(answer: Any) -> None:
        if answer != correct:
            raise WrongAnswer(hint)

    return checker
