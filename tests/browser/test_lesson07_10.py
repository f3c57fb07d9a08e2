"""Lessons 07, 08 and 10 in a real browser: run each lesson up to its final "stop
the PACS" cell, drive its widget against the running PACS (negotiate, query,
edit a conformance), see the result change, then run the rest so the PACS stops.
Lesson 09 is run whole: its day-long sequence diagram must be shown at its size."""

from __future__ import annotations

import support
from diagram_screen import diagram_on_screen


def _wait_until_run(page) -> None:
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => !p.textContent.includes('*'))
                && prompts.some(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=180_000,
    )
    page.locator("#jp-main-statusbar").get_by_text("Idle").first.wait_for(timeout=180_000)


def _run_menu(page, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def open_and_run_until_stop(page, lab, notebook: str):
    """Open ``notebook``, run every cell above the one that stops the PACS."""
    page.goto(f"{lab['url']}/lab/tree/{notebook}?token={support.LAB_TOKEN}&reset")
    page.wait_for_selector(".jp-NotebookPanel")
    page.locator("#jp-main-statusbar").get_by_text("Idle").first.wait_for(timeout=90_000)
    stop_cell = page.locator(".jp-CodeCell", has_text="pacs.stop()").last
    stop_cell.locator(".jp-InputPrompt").click()
    _run_menu(page, "Run All Above Selected Cell")
    _wait_until_run(page)
    return stop_cell


def finish(page, stop_cell) -> None:
    """Run the stop cell and everything below: the lesson's PACS must stop."""
    stop_cell.locator(".jp-InputPrompt").click()
    _run_menu(page, "Run Selected Cell and All Below")
    _wait_until_run(page)
    assert page.get_by_text("still listening: False").count() >= 1
    assert (
        page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).count()
        == 0
    )


def test_lesson07_negotiation_widget(lab, lab_page):
    page = lab_page
    stop_cell = open_and_run_until_stop(page, lab, "07_associations.ipynb")
    assert page.get_by_text("C-ECHO status: 0x0000").count() >= 1
    echo = diagram_on_screen(page, "C-ECHO, as the PACS recorded it")
    assert echo["natural"][1] >= 30 * 8  # one 30 px row per message of the echo
    widget = page.locator(".medlab-negotiation").first
    widget.wait_for()
    lists = widget.locator(".widget-select-multiple select")
    lists.nth(0).select_option(label=["Verification", "Basic Grayscale Print Management (Meta)"])
    lists.nth(1).select_option(label=["JPEG Baseline (lossy)"])
    widget.locator("button.medlab-negotiate").click()
    support.wait_for_text(
        page, ".medlab-negotiation-status", "negotiation #1 done: 0 accepted, 2 rejected"
    )
    table = widget.locator(".medlab-negotiation-table").inner_text()
    assert "transfer-syntaxes-not-supported" in table and "abstract-syntax-not-supported" in table
    lists.nth(1).select_option(label=["Implicit VR Little Endian"])
    widget.locator("button.medlab-negotiate").click()
    support.wait_for_text(
        page, ".medlab-negotiation-status", "negotiation #2 done: 1 accepted, 1 rejected"
    )
    finish(page, stop_cell)


def test_lesson08_query_builder(lab, lab_page):
    page = lab_page
    stop_cell = open_and_run_until_stop(page, lab, "08_store_query_retrieve.ipynb")
    builder = page.locator(".medlab-query-builder").first
    builder.wait_for()
    builder.locator(".widget-text", has_text="Patient name").locator("input").fill("OKO*")
    builder.locator("button.medlab-find").click()
    support.wait_for_text(page, ".medlab-query-status", "query #1 done: 1 match(es)")
    assert "OKONKWO^BENEDICT" in builder.locator(".medlab-query-result").inner_text()
    builder.locator(".widget-text", has_text="Patient name").locator("input").fill("")
    builder.locator(".widget-dropdown select").select_option("PATIENT")
    builder.locator("button.medlab-find").click()
    support.wait_for_text(page, ".medlab-query-status", "query #2 done: 2 match(es)")
    # a key that does not apply at the level is flagged and the query refused, never dropped
    builder.locator(".widget-dropdown select").select_option("STUDY")
    builder.locator(".widget-text", has_text="Patient ID").locator("input").fill("MLB-1005??")
    builder.locator(".widget-dropdown select").select_option("SERIES")
    builder.locator(".medlab-not-a-key").first.wait_for(timeout=30_000)
    support.wait_for_text(page, ".medlab-query-status", "not sent: Patient ID is not a key")
    builder.locator("button.medlab-find").click()
    support.wait_for_text(
        page, ".medlab-query-status", "query #3 not sent: Patient ID is not a key"
    )
    builder.locator(".widget-text", has_text="Patient ID").locator("input").fill("")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.medlab-query-builder .widget-text')]
            .some(w => w.textContent.includes('Patient ID') && w.querySelector('input').disabled)""",
        timeout=30_000,
    )
    finish(page, stop_cell)


def test_lesson09_day_diagram_is_readable_on_screen(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "09_worklist_and_mpps.ipynb")
    day = diagram_on_screen(page, "The modality's day (DIMSE only)")
    assert day["natural"][1] >= 30 * 15  # 22 messages folded into 15 rows, 30 px each
    assert page.get_by_text("still listening: False").count() >= 1


def test_lesson10_compat_editor(lab, lab_page):
    page = lab_page
    stop_cell = open_and_run_until_stop(page, lab, "10_conformance.ipynb")
    editor = page.locator(".medlab-compat-editor").first
    editor.wait_for()
    support.wait_for_text(page, ".medlab-compat-status", "verdict #1: 7 will work, 0 will not")
    row = editor.locator(".widget-hbox", has_text="Modality Worklist - FIND")
    row.locator("select").nth(1).select_option(label="JPEG 2000 only")
    support.wait_for_text(page, ".medlab-compat-status", "verdict #2: 6 will work, 1 will not")
    assert "transfer-syntaxes-not-supported" in editor.locator(".medlab-compat").inner_text()
    row.locator("select").nth(0).select_option(label="not supported")
    support.wait_for_text(page, ".medlab-compat-status", "verdict #3: 6 will work, 0 will not")
    finish(page, stop_cell)
