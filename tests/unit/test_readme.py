"""The README's lesson table is the course of medlab/course.py, lesson for lesson."""

from __future__ import annotations

import re

import support

from medlab import course


def readme_lessons() -> list[tuple[str, str, int]]:
    text = (support.REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The course", 1)[1].split("\n## ", 1)[0]
    return [
        (number, title.strip(), int(minutes))
        for number, title, minutes in re.findall(
            r"^\|\s*(\d\d)\s*\|\s*(.+?)\s*\|\s*(\d+) min\s*\|\s*$", section, re.M
        )
    ]


def test_readme_lesson_table_matches_the_course():
    expected = [(les.number, les.title, les.minutes) for les in course.LESSONS]
    assert readme_lessons() == expected, (
        "update the table under '## The course' in README.md to match medlab/course.py"
    )
