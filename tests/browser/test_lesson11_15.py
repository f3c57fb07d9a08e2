"""Lessons 11, 14 and 15 in a real browser: every cell runs, the rich outputs render,
and each lesson's quiz card answers a wrong and then the right choice."""

from __future__ import annotations

import support
from diagram_screen import diagram_on_screen


def answer_quiz(page, wrong: str, right: str) -> None:
    card = page.locator(".medlab-quiz-card").first
    card.wait_for()
    card.get_by_text(wrong, exact=True).click()
    card.get_by_role("button", name="Check").click()
    card.locator(".medlab-quiz-verdict .medlab-incorrect").wait_for()
    assert "Not quite" in card.locator(".medlab-quiz-verdict").text_content()
    card.get_by_text(right, exact=True).click()
    card.get_by_role("button", name="Check").click()
    card.locator(".medlab-quiz-verdict .medlab-correct").wait_for()
    assert "Correct" in card.locator(".medlab-quiz-verdict").text_content()


def test_lesson11_deidentification_and_dicomdir(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "11_outside_the_pacs.ipynb")
    # The naive copy leaks (red count), the profile's output is clean, the DICOMDIR tree renders.
    page.locator(".medlab-phi-scan").first.wait_for()
    assert "18 hit(s)" in page.locator(".medlab-phi-scan").first.text_content()
    assert "0 hit(s)" in page.locator(".medlab-phi-scan").nth(1).text_content()
    assert page.locator(".medlab-deid table tr").count() > 20
    tree = page.locator(".medlab-dicomdir").first
    tree.wait_for()
    assert (
        "TEACHING^CASE^11" in tree.text_content()
        and "PT000000/ST000000/SE000000/IM000002" in tree.text_content()
    )
    # The deliberate error is shown as one MedlabError line, not a traceback.
    assert page.get_by_text("MedlabError: pydicom cannot index this instance").count() >= 1
    answer_quiz(page, wrong="X", right="Z")


def test_lesson14_census_qa_and_feed(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "14_analysis.ipynb")
    qa = page.locator(".medlab-qa").first
    qa.wait_for()
    text = qa.text_content()
    for finding in (
        "RescaleIntercept",
        "MONOCHROME1 vs MONOCHROME2",
        "CT0003_resent.dcm",
        "MLB-10587",
    ):
        assert finding in text
    assert page.locator(".jp-OutputArea-output img").count() >= 2  # census plots and feed plot
    assert page.get_by_text("ROSSETTI").count() >= 1  # the visit reopened by A13 is still open
    answer_quiz(
        page,
        wrong="delete the instances with the odd ID",
        right="correct the ID on the wrong instances from the RIS record",
    )


def test_lesson15_capstone_timeline_and_broken_links(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "15_capstone_a_ct_exam.ipynb")
    exam = page.locator(".medlab-exam").first
    exam.wait_for()
    assert "The whole exam ran." in exam.text_content()
    assert (
        page.get_by_text(
            "CommitmentResult(event type 1 = all committed: 4 committed, 0 failed)"
        ).count()
        == 1
    )
    timeline = diagram_on_screen(page, "timeline = hospital.timeline()")
    assert timeline["natural"][1] >= 30 * 25  # ~27 rows of the exam, 30 px each
    answer_quiz(
        page,
        wrong="the images are not archived",
        right="the RIS never learns that the exam was performed",
    )
