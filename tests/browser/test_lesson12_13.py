"""Lessons 12-13 in a real browser: run every cell; in lesson 12 use the HL7 explorer
(click a segment, pick another message, paste one) and see its field table change."""

from __future__ import annotations

import support


def test_lesson12_hl7_explorer(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "12_hl7_messages.ipynb")
    assert page.get_by_text("ATKINSONTEST^JAMES^^JNR").count() >= 1  # the print cell ran
    explorer = page.locator(".medlab-hl7-explorer").first
    explorer.wait_for()
    support.wait_for_text(page, ".medlab-hl7-status", "showing PID")
    fields = explorer.locator(".medlab-hl7-fields")
    assert "Patient Name" in fields.inner_text()

    # click the PV1 segment button: its fields replace PID's
    explorer.locator(".medlab-hl7-segments button", has_text="PV1").first.click()
    support.wait_for_text(page, ".medlab-hl7-status", "showing PV1")
    text = fields.inner_text()
    assert "Patient Class" in text and "Patient Name" not in text

    # pick the A&E registration: the escaped location reads "A&E"
    explorer.locator(".medlab-hl7-picker select").select_option("ADT_A04_AE")
    support.wait_for_text(page, ".medlab-hl7-status", "HL7 v2.4")
    explorer.locator(".medlab-hl7-segments button", has_text="PV1").first.click()
    support.wait_for_text(page, ".medlab-hl7-status", "showing PV1")
    assert "A&E" in fields.inner_text()

    # paste a message of one's own and dissect it
    explorer.locator("textarea").fill(
        "MSH|^~\\&|LAB|H|RIS|R|2024||ORU^R01|X9|P|2.5\nOBX|1|NM|^Pulse||72|/min"
    )
    explorer.get_by_role("button", name="Dissect").click()
    support.wait_for_text(page, ".medlab-hl7-status", "showing OBX")
    assert "Observation Value" in fields.inner_text() and "72" in fields.inner_text()


def test_lesson13_runs_listener_and_worklist(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "13_hl7_acks_and_orders.ipynb")
    assert page.get_by_text("MSA|AR|CH0007").count() >= 1
    assert page.get_by_text("ACC20240001 CT chest with contrast").count() >= 1
    assert (
        page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).count()
        == 0
    )
