"""Lesson 00's environment check as Debian's Chromium shows it in JupyterLab: DCMTK's version is
text (not typeset as maths) and every status mark is a word the lab's fonts can draw."""

from __future__ import annotations

import support


def test_doctor_renders_as_plain_text_in_the_lab(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "00_start_here.ipynb")
    report = page.locator(".jp-OutputArea-output:has(table.medlab-doctor)").first
    report.wait_for()
    dcmtk = report.locator('tr:has(td:text-is("DCMTK")) td').nth(2).inner_text()
    if "not found" not in dcmtk:
        assert dcmtk.startswith("dcmtk: "), dcmtk
    assert report.locator("mjx-container, .MathJax, .katex").count() == 0
    marks = {
        m.strip()
        for m in report.locator("table.medlab-doctor tbody tr td:first-child").all_inner_texts()
    }
    assert marks and marks <= {"ok", "fix"}, marks
