"""Trainees do not see nbgrader's instructor tools in `make lab`; instructors do.

Both labs are started from `make lab-command` (conftest.running_lab: fixtures `lab` and
`instructor_lab`), so this is the lab
`make lab` and `make lab INSTRUCTOR=1` start. The instructor half shows the checks can fail: the
very same selectors find nbgrader's menu, Validate button and Create Assignment sidebar there.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import support

LESSON_00 = "00_start_here.ipynb"


def open_lesson_00(page, lab: dict):
    """Open lesson 00 and wait until the lab has finished starting (all plugins activated)."""
    page.goto(f"{lab['url']}/lab/tree/{LESSON_00}?token={support.LAB_TOKEN}&reset")
    page.wait_for_selector(".jp-NotebookPanel")
    page.locator("#jp-main-statusbar").get_by_text("Idle").first.wait_for(timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.wait_for()
    return page


def nbgrader_tools(page) -> dict[str, int]:
    """How many of nbgrader's trainee-visible tools the page shows."""
    return {
        "Nbgrader menu": page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").count(),
        "Validate button": page.locator(".jp-NotebookPanel-toolbar")
        .get_by_text("Validate", exact=True)
        .count(),
        "Create Assignment sidebar": page.locator(
            ".jp-SideBar .lm-TabBar-tab[title*='Create Assignment'],"
            " [id='nbgrader-create_assignemnt']"
        ).count(),
    }


def http_status(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=30).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_trainees_lab_has_no_nbgrader_tools(lab, lab_page):
    page = open_lesson_00(lab_page, lab)
    assert page.locator(".lm-MenuBar-itemLabel", has_text="Run").count() >= 1
    assert nbgrader_tools(page) == {
        "Nbgrader menu": 0,
        "Validate button": 0,
        "Create Assignment sidebar": 0,
    }
    # nbgrader's server side is off too: no formgrader page behind the menu.
    assert http_status(f"{lab['url']}/formgrader?token={support.LAB_TOKEN}") == 404


def test_instructors_lab_keeps_nbgrader_tools(instructor_lab, browser_context):
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_lesson_00(page, instructor_lab)
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.wait_for()
        tools = nbgrader_tools(page)
        assert all(count >= 1 for count in tools.values()), tools
    finally:
        page.close()
    assert http_status(f"{instructor_lab['url']}/formgrader?token={support.LAB_TOKEN}") == 200
