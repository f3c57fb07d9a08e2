"""Lesson 01 in a real browser: run every cell, answer a quiz question, see the verdict."""

from __future__ import annotations

import support


def test_quiz_answer_shows_a_verdict(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "01_what_is_dicom.ipynb")
    card = page.locator(".medlab-quiz-card").first
    card.wait_for()
    card.get_by_text("SCP", exact=True).click()
    card.get_by_role("button", name="Check").click()
    verdict = card.locator(".medlab-quiz-verdict .medlab-verdict")
    verdict.wait_for()
    assert "Not quite" in verdict.inner_text()
    card.get_by_text("SCU", exact=True).click()
    card.get_by_role("button", name="Check").click()
    page.locator(".medlab-quiz-card .medlab-correct").first.wait_for()
    assert "Correct" in card.locator(".medlab-quiz-verdict").inner_text()
    # Run All really ran the lesson: the vocabulary cell printed the SOP class name.
    assert page.get_by_text("CT Image Storage").count() >= 1
