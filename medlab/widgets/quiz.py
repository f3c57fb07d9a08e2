"""A self-check quiz: one card per multiple-choice exercise, checked by medlab.check."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from medlab.widgets._display import WidgetDisplay

if TYPE_CHECKING:
    from medlab.check import Exercise

#: What Check says when no option is selected (no verdict, nothing recorded).
PICK_FIRST = "Pick one of the options above, then press Check."


class QuizCard(WidgetDisplay):
    """One question: its choices as radio buttons, a Check button and the verdict."""

    def __init__(self, exercise: Exercise) -> None:
        import ipywidgets as w

        if not exercise.choices:
            raise ValueError(f"Exercise {exercise.id} has no choices; it cannot be a quiz card.")
        self.exercise = exercise
        title = f" {html.escape(exercise.title)}" if exercise.title else ""
        self.question = w.HTML(
            f"<b>{html.escape(exercise.id)}{title}</b><br>{html.escape(exercise.question)}"
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
        if self.options.value is None:  # nothing chosen: not an attempt, nothing recorded
            self.verdict.value = f'<div class="medlab-quiz-pick">{html.escape(PICK_FIRST)}</div>'
            return
        self.verdict.value = self.exercise.check(self.options.value)._repr_html_()

    def __repr__(self) -> str:
        return f"Quiz card {self.exercise.id}: {self.exercise.question}"


class Quiz(WidgetDisplay):
    """Quiz cards, one per multiple-choice exercise, shown one below the other."""

    def __init__(self, exercises: Sequence[Exercise]) -> None:
        import ipywidgets as w

        self.cards = [QuizCard(ex) for ex in exercises if ex.choices]
        self.widget = w.VBox([card.widget for card in self.cards])
        self.widget.add_class("medlab-quiz")

    def __repr__(self) -> str:
        lines = [f"Quiz: {len(self.cards)} question(s); pick an option on each card, then Check."]
        lines += [f"- {card.exercise.id}: {card.exercise.question}" for card in self.cards]
        return "\n".join(lines)


def quiz(exercises: Sequence[Exercise]) -> Quiz:
    """Return a quiz with one card per multiple-choice exercise (others are skipped)."""
    return Quiz(exercises)
