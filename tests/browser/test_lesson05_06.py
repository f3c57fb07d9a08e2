"""Lessons 05-06 in a real browser: run every cell, then use each widget once and
see the picture change (each widget writes "... drawn" when a redraw is finished)."""

from __future__ import annotations

import support


def _src(widget) -> str:
    image = widget.locator("img").first
    image.wait_for()
    box = image.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50, "the image did not render"
    return image.get_attribute("src") or ""


def test_lesson05_window_level_and_frames(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "05_pixels_and_photometric.ipynb")

    # Window/level: after Run All the lesson set the brain preset (40/80) from code.
    wl = page.locator(".medlab-window-level").first
    wl.wait_for()
    support.wait_for_text(page, ".medlab-wl-status", "window 40/80 drawn")
    before = _src(wl)
    wl.locator(".widget-dropdown select").select_option("bone")
    support.wait_for_text(page, ".medlab-wl-status", "window 400/1800 drawn")
    assert _src(wl) != before, "the window changed but the picture did not"

    # Frame slider: one step to the right shows frame 2.
    frames = page.locator(".medlab-frames").first
    frames.wait_for()
    support.wait_for_text(page, ".medlab-frames-status", "frame 1/30 drawn")
    before = _src(frames)
    frames.locator(".widget-hslider .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    support.wait_for_text(page, ".medlab-frames-status", "frame 2/30 drawn")
    assert _src(frames) != before


def test_lesson06_presentation_state_toggle(lab, lab_page):
    page = support.run_notebook(lab_page, lab, "06_composite_objects.ipynb")
    assert page.get_by_text("Grayscale Softcopy Presentation State Storage").count() >= 1
    toggle = page.locator(".medlab-gsps-toggle").first
    toggle.wait_for()
    support.wait_for_text(page, ".medlab-gsps-status", "presentation state off drawn")
    before = _src(toggle)
    toggle.get_by_role("button", name="with presentation state").click()
    support.wait_for_text(page, ".medlab-gsps-status", "presentation state on drawn")
    assert _src(toggle) != before
