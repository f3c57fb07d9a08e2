"""A self-check quiz: one card per multiple-choice exercise, checked by medlab.check."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ipywidgets

    from medlab.check import Exercise


class QuizCard:
    """One question: its choices as radio buttons, a Check button and the verdict."""

    def __init__(self, exercise: Exercise) -> None:
        import ipywidgets as w

        if not exercise.choices:
            raise ValueError(f"Exercise {exercise.id} has no choices; it cannot be a quiz card.")
        self.exercise = exercise
        self.question = w.HTML(
            f"<b>{html.escape(exercise.id)}</b> {html.escape(exercise.question)}"
        )
        self.options = w.RadioButtons(
            options=list(exercise.choices), value=None, layout={"width": "auto"}
        )
        self.button = w.Button(description="Check", button_style="primary")
        self.verdict = w.HTML("")
        self.verdict.add_class("medlab-quiz-verdict")
        self.button.on_click(self._on_check)
        self.widget = w.VBox([self.question, self.options, self.button, self.verdict])
        self.widget.add_class("medlab-quiz-card")

    def _on_check(self, _button: object = None) -> None:
        answer = ... if self.options.value is None else self.options.value
        self.verdict.value = self.exercise.check(answer)._repr_html_()


def quiz(exercises: Sequence[Exercise]) -> ipywidgets.VBox:
    """Return a quiz widget with one card per multiple-choice exercise."""
    import ipywidgets as w

    cards = [QuizCard(ex) for ex in exercises if ex.choices]
    box = w.VBox([card.widget for card in cards])
    box.add_class("medlab-quiz")
    box.cards = cards  # for tests and for instructors who want to inspect answers
    return box
