"""Lesson 16 in a real JupyterLab: run it, click the viewer links it prints, see OHIF render.

The lesson's own PACS (started by its first cell) serves DICOMweb and OHIF on its web port; the
link printed by ``pacs.viewer(...)`` is opened as a trainee opens it, in a new tab. The CT must
render (a non-blank viewport) and the MONOCHROME1 CR must show its collimated border white.
Then the rest of the lesson runs and both of the PACS's ports close.
"""

from __future__ import annotations

import io
import time

import pytest
import support
from browser.test_lesson07_10 import finish, open_and_run_until_stop
from browser.test_ohif import _image_box, _mean

pytestmark = pytest.mark.browser


def _viewer_links(page) -> list[str]:
    links = page.locator(".jp-OutputArea-output a", has_text="/viewer/viewer?StudyInstanceUIDs=")
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def _rendered(tab) -> object:
    """Wait until the first viewport shows an image; return it as 8-bit grey."""
    from PIL import Image, ImageStat

    canvas = tab.locator("canvas.cornerstone-canvas").first
    canvas.wait_for(timeout=90_000)
    deadline = time.monotonic() + 90
    while True:
        skip = tab.get_by_text("Skip all")  # OHIF's first-visit tour
        if skip.count():
            skip.first.click()
        image = Image.open(io.BytesIO(canvas.screenshot())).convert("L")
        if ImageStat.Stat(image).stddev[0] > 20:
            return image
        assert time.monotonic() < deadline, "the viewport stayed blank"
        tab.wait_for_timeout(500)


def _overlay(tab, corner: str) -> str:
    return tab.locator(f"[data-cy=viewport-overlay-{corner}]").first.inner_text()


def _scroll_window_and_measure(tab) -> None:
    """What the lesson asks the trainee to do in the CT: scroll, window/level, measure."""
    import re

    canvas = tab.locator("canvas.cornerstone-canvas").first
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    assert "I:1 (1/12)" in _overlay(tab, "bottom-right")
    tab.mouse.move(cx, cy)
    tab.mouse.wheel(0, 300)  # scroll: the next slice
    tab.get_by_text("I:2 (2/12)").first.wait_for(timeout=30_000)
    before = _overlay(tab, "bottom-left")
    tab.locator("[data-cy=WindowLevel-btn]").first.click()
    tab.mouse.move(cx, cy)
    tab.mouse.down()
    tab.mouse.move(cx + 80, cy + 40, steps=8)  # window/level: drag with the left button
    tab.mouse.up()
    tab.wait_for_timeout(800)
    assert _overlay(tab, "bottom-left") != before  # W and L changed
    tab.locator("[data-cy=Length-btn]").first.click()
    tab.mouse.move(cx - 100, cy)
    tab.mouse.down()
    tab.mouse.move(cx + 100, cy, steps=10)  # measure: 200 screen pixels across the phantom
    tab.mouse.up()
    tab.wait_for_timeout(1500)
    lengths = [float(v) for v in re.findall(r"([\d.]+) mm", tab.inner_text("body"))]
    # 512x512 image fitted in the canvas; Pixel Spacing 0.7 mm (the CT phantom)
    scale = min(box["width"], box["height"]) / 512
    expected = 200 / scale * 0.7
    assert any(abs(v - expected) < 1.5 for v in lengths), (lengths, expected)


def test_lesson16_runs_and_its_viewer_links_open_the_studies(lab, lab_page):
    from PIL import ImageStat

    page = lab_page
    try:
        from medlab.net.dicomweb.viewer import viewer_dist

        viewer_dist()
    except Exception as err:  # noqa: BLE001 - MedlabError: not installed
        support.require(False, f"{err}")
    stop_cell = open_and_run_until_stop(page, lab, "16_dicomweb_and_the_viewer.ipynb")
    assert page.get_by_text("pixel data identical: True").count() >= 1
    assert page.get_by_text("1 stored (MR Image Storage)").count() >= 1
    ct_link, cr_link = _viewer_links(page)

    link = page.locator(".jp-OutputArea-output a", has_text=ct_link).first
    with page.context.expect_page() as opened:
        link.click()  # target=_blank: a new tab, as for a trainee
    tab = opened.value
    try:
        image = _rendered(tab)
        assert ImageStat.Stat(image).stddev[0] > 20
        _scroll_window_and_measure(tab)
        tab.goto(cr_link)
        tab.wait_for_timeout(1000)  # the previous study's viewport is replaced
        cr = _rendered(tab)
        rows, cols = 1024, 832  # the chest CR (medlab/data/phantom.py: chest_cr)
        # MONOCHROME1: the mediastinum and the collimator edge (low values) white, lungs dark.
        lung = _mean(cr, _image_box(cr, rows, cols, 0.29, 0.45))
        mediastinum = _mean(cr, _image_box(cr, rows, cols, 0.5, 0.45))
        assert mediastinum > lung + 60, (mediastinum, lung)
    finally:
        tab.close()
    finish(page, stop_cell)
