"""Lesson 17 in a real browser: run every cell, then use the v2-beside-FHIR explorer.

Hovering a v2 field lights it and the FHIR element(s) it became (a CSS ``:has(:hover)``
rule, no kernel round trip); picking a field in the list highlights it on both sides;
another message maps and shows its own fields.
"""

from __future__ import annotations

import support

YELLOW = "rgb(255, 224, 138)"  # medlab.widgets.fhir_explorer.HIGHLIGHT


def _background(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).backgroundColor")


def test_lesson17_fhir_explorer(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "17_hl7_v2_to_fhir.ipynb")
    assert page.get_by_text("IMPRESSION: Normal CT chest.").count() >= 1  # the cells ran
    assert (
        page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).count()
        == 0
    )
    explorer = page.locator(".medlab-fhir-explorer").first
    explorer.wait_for()
    explorer.scroll_into_view_if_needed()
    support.wait_for_text(page, ".medlab-fhir-status", "showing PID-3")

    # the pointer over PID-5 lights PID-5 and Patient.name, and nothing else
    name_v2 = explorer.locator('.medlab-v2-field[data-pos="PID-5"]')
    name_json = explorer.locator('[data-element="Patient.name"]')
    gender_json = explorer.locator('[data-element="Patient.gender"]')
    assert _background(name_json) != YELLOW
    name_v2.hover()
    page.wait_for_function(
        """() => getComputedStyle(document.querySelector(
            '.medlab-fhir-explorer [data-element="Patient.name"]')).backgroundColor
            === 'rgb(255, 224, 138)'""",
        timeout=10_000,
    )
    assert _background(name_v2) == YELLOW
    assert _background(gender_json) != YELLOW
    assert "ABERNATHY" in name_json.inner_text()

    # pick a field in the list: it stays highlighted on both sides
    explorer.locator(".medlab-fhir-field select").select_option(
        label="PV1-2 → Encounter.status, Encounter.class"
    )
    support.wait_for_text(page, ".medlab-fhir-status", "showing PV1-2")
    page.mouse.move(0, 0)
    picked_v2 = explorer.locator('.medlab-v2-field.medlab-picked[data-pos="PV1-2"]')
    picked_json = explorer.locator(".medlab-fhir-el.medlab-picked")
    assert picked_v2.count() == 1 and _background(picked_v2) == YELLOW
    assert sorted(picked_json.evaluate_all("els => els.map(e => e.dataset.element)")) == [
        "Encounter.class",
        "Encounter.status",
    ]

    # another message: the report, whose text OBX became an Observation value
    explorer.locator(".medlab-fhir-picker select").select_option("ORU^R01 (report)")
    support.wait_for_text(page, ".medlab-fhir-status", "ORU^R01")
    explorer.locator('.medlab-v2-field[data-pos="OBX(2)-5"]').hover()
    impression = explorer.locator('[data-element="Observation.valueString"]', has_text="IMPRESSION")
    page.wait_for_function(
        """() => [...document.querySelectorAll(
            '.medlab-fhir-explorer [data-element="Observation.valueString"]')]
            .some(e => e.textContent.includes('IMPRESSION')
                 && getComputedStyle(e).backgroundColor === 'rgb(255, 224, 138)')""",
        timeout=10_000,
    )
    assert _background(impression) == YELLOW
    dropped = explorer.locator('.medlab-v2-dropped[data-pos="OBX-4"]')
    assert "partOf" in dropped.get_attribute("title")
