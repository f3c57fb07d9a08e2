"""The quiz widget, driven through its traits as a browser would."""

import json

from medlab.check import lesson01
from medlab.widgets.quiz import PICK_FIRST, quiz


def test_quiz_has_one_card_per_multiple_choice_exercise():
    box = quiz([lesson01.ex1, lesson01.ex3, lesson01.ex4])
    assert [card.exercise.id for card in box.cards] == ["01.1", "01.4"]


def test_answering_shows_the_verdict(medlab_home):
    card = quiz([lesson01.ex1]).cards[0]
    assert card.verdict.value == ""
    card.button.click()
    assert "medlab-incorrect" not in card.verdict.value
    card.options.value = "SCP"
    card.button.click()
    assert "medlab-incorrect" in card.verdict.value
    card.options.value = "SCU"
    card.button.click()
    assert "medlab-correct" in card.verdict.value


def test_check_with_nothing_selected_asks_to_pick_and_records_nothing(medlab_home):
    card = quiz([lesson01.ex1]).cards[0]
    card.button.click()
    assert PICK_FIRST in card.verdict.value
    assert "placeholder" not in card.verdict.value and "Not attempted" not in card.verdict.value
    assert not (medlab_home / "progress.json").exists()
    card.options.value = "SCP"
    card.button.click()
    record = json.loads((medlab_home / "progress.json").read_text())["exercises"]
    assert record["01.1"]["attempts"] == 1


def test_the_stored_plain_text_is_the_questions_not_the_widget_tree():
    box = quiz([lesson01.ex1, lesson01.ex4])
    plain = box._repr_mimebundle_()["text/plain"]
    assert "VBox" not in plain and "children" not in plain
    assert plain.startswith("Quiz: 2 question(s)")
    assert lesson01.ex1.question in plain
    assert "application/vnd.jupyter.widget-view+json" in box._repr_mimebundle_()
    assert "VBox" not in repr(box.cards[0])
