"""Lessons 00-01 in a real browser: run every cell, answer a quiz question and see
the verdict, then see lesson 00's progress view count the answer."""

from __future__ import annotations

import re

import support


def lesson01_done(page) -> int:
    cell = page.locator('.medlab-progress tr:has-text("What is DICOM?") td').nth(2)
    cell.wait_for()
    return int(re.match(r"(\d+)/\d+", cell.inner_text().strip()).group(1))


def test_quiz_answer_shows_a_verdict_and_counts_as_progress(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "00_start_here.ipynb")
    before = lesson01_done(page)

    page = support.run_notebook(lab_page, lab, "01_what_is_dicom.ipynb")
    # Run All really ran the lesson: the vocabulary cell printed the SOP class name.
    assert page.get_by_text("CT Image Storage").count() >= 1
    card = page.locator(".medlab-quiz-card").first
    card.wait_for()
    card.get_by_text("SCP", exact=True).click()
    card.get_by_role("button", name="Check").click()
    card.locator(".medlab-quiz-verdict .medlab-incorrect").wait_for()
    assert "Not quite" in card.locator(".medlab-quiz-verdict").inner_text()
    card.get_by_text("SCU", exact=True).click()
    card.get_by_role("button", name="Check").click()
    card.locator(".medlab-quiz-verdict .medlab-correct").wait_for()
    assert "Correct" in card.locator(".medlab-quiz-verdict").inner_text()

    page = support.run_notebook(lab_page, lab, "00_start_here.ipynb")
    # Outputs are replaced cell by cell: wait for the re-run progress table to show the answer.
    page.wait_for_function(
        """(want) => [...document.querySelectorAll('.medlab-progress tr')]
            .some(tr => tr.textContent.includes('What is DICOM?') && tr.textContent.includes(want))""",
        arg=f"{before + 1}/",
        timeout=60_000,
    )
    assert lesson01_done(page) == before + 1
