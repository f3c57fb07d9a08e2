"""The lesson 01 quiz widget, driven through its traits as a browser would."""

from medlab.check import lesson01
from medlab.widgets.quiz import quiz


def test_quiz_has_one_card_per_multiple_choice_exercise():
    box = quiz([lesson01.ex1, lesson01.ex3, lesson01.ex4])
    assert [card.exercise.id for card in box.cards] == ["01.1", "01.4"]


def test_answering_shows_the_verdict(medlab_home):
    card = quiz([lesson01.ex1]).cards[0]
    assert card.verdict.value == ""
    card.button.click()
    assert "Not attempted" in card.verdict.value
    card.options.value = "SCP"
    card.button.click()
    assert "medlab-incorrect" in card.verdict.value
    card.options.value = "SCU"
    card.button.click()
    assert "medlab-correct" in card.verdict.value
