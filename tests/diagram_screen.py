"""Browser check shared by the lesson tests: a sequence diagram shown at its natural size."""

from __future__ import annotations


def diagram_on_screen(page, marker: str) -> dict:
    """The sequence diagram in the output of the cell containing ``marker``, as the lab shows it.

    Its labels were measured on the figure itself (>= 10 px, none overlapping:
    ``SequenceDiagram.readability_problems``, tests/unit/test_diagram.py); here the
    screen must show the image at its natural size, so those pixels are screen pixels.
    """
    cell = page.locator(".jp-CodeCell", has_text=marker).first
    img = cell.locator(".jp-OutputArea-output img").first
    img.scroll_into_view_if_needed()
    img.wait_for()
    size = img.evaluate(
        """img => { const r = img.getBoundingClientRect();
            return {natural: [img.naturalWidth, img.naturalHeight], shown: [r.width, r.height]}; }"""
    )
    (nw, nh), (sw, sh) = size["natural"], size["shown"]
    assert abs(sw - nw) <= 1 and abs(sh - nh) <= 1, f"the lab scaled the diagram: {size}"
    shot = img.screenshot()
    assert shot.startswith(b"\x89PNG")
    return size
