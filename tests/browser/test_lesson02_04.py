"""Lessons 02-04 in a real browser: run every cell, then use each lesson's interactive output.

02: pick Patient Name in the Hexplorer and see its bytes; 03: search the tag browser
and switch to private elements; 04: unfold a series in the hierarchy tree.
"""

from __future__ import annotations

import support


def test_hexplorer_shows_the_chosen_element(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "02_file_anatomy.ipynb")
    assert page.get_by_text("'DICM' prefix (PS3.10 §7.1)").count() >= 1  # the hex views rendered
    explorer = page.locator(".widget-vbox:has(.widget-dropdown select)").last
    explorer.wait_for()
    explorer.locator(".widget-dropdown select").select_option(label="(0010,0010) PatientName")
    page.get_by_text("Showing (0010,0010) PatientName").wait_for()
    pane = page.locator(
        ".widget-html", has_text="Showing (0010,0010) PatientName"
    ).last.text_content()
    assert "43 6F 6D 70 72 65 73 73" in pane and "CompressedSamples^MR1" in pane


def test_tag_browser_searches_and_filters(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "03_tags.ipynb")
    box = page.locator(".widget-text input").last
    box.wait_for()
    box.fill("0029")
    page.get_by_text("9 of 143 elements match search='0029'").wait_for()
    page.locator(".widget-toggle-buttons button", has_text="Public").last.click()
    page.get_by_text("0 of 143 elements match search='0029', private=False").wait_for()
    page.locator(".widget-toggle-buttons button", has_text="Private").last.click()
    page.get_by_text("9 of 143 elements match search='0029', private=True").wait_for()
    assert page.get_by_text("SIEMENS MEDCOM OOG").count() >= 1


def test_hierarchy_tree_unfolds(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "04_uids.ipynb")
    tree = page.locator(".medlab-hierarchy").first
    tree.wait_for()
    instance = tree.get_by_text("ct1_1.dcm")
    assert not instance.is_visible()  # series start folded
    tree.locator("summary", has_text="CT axial").first.click()
    instance.wait_for(state="visible")
