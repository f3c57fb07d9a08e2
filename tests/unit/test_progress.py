"""The trainee's progress view and `medlab progress [--reset]`."""

from __future__ import annotations

import os
import subprocess
import sys

from medlab.check import lesson00, lesson01
from medlab.check._view import progress


def medlab_cmd(home, *args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "medlab", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "MEDLAB_HOME": str(home)},
        timeout=60,
    )


def test_progress_counts_correct_answers_in_course_order(medlab_home):
    before = progress()
    assert [row.lesson.number for row in before.rows][:2] == ["00", "01"]
    assert before.next == "00.1"
    lesson00.ex1.check("Shift+Enter")
    lesson01.ex2.check("composite")  # wrong: does not count
    after = progress()
    row00 = next(r for r in after.rows if r.lesson.number == "00")
    row01 = next(r for r in after.rows if r.lesson.number == "01")
    assert (row00.done, row00.total) == (1, 2) and row01.done == 0
    assert after.next == "00.2"
    assert after.minutes_left < before.minutes_left
    assert "00  Start here" in repr(after) and "1/2" in repr(after)
    assert "<table>" in after._repr_html_()
    # the figure is the lessons' time, not a time for the exercises alone (issue 14)
    assert "min of lessons left" in repr(after) and "min of exercises left" not in repr(after)


def test_cli_shows_progress_and_reset_asks_first(medlab_home):
    lesson00.ex1.check("Shift+Enter")
    shown = medlab_cmd(medlab_home, "progress")
    assert shown.returncode == 0 and "1/2" in shown.stdout

    refused = medlab_cmd(medlab_home, "progress", "--reset", stdin="")
    assert refused.returncode == 1 and "--yes" in refused.stdout
    assert (medlab_home / "progress.json").exists()

    cleared = medlab_cmd(medlab_home, "progress", "--reset", "--yes")
    assert cleared.returncode == 0 and not (medlab_home / "progress.json").exists()
    assert "0/2" in medlab_cmd(medlab_home, "progress").stdout


def test_reset_prompt_answer_no_keeps_the_record(medlab_home, monkeypatch, capsys):
    from medlab import cli

    lesson00.ex1.check("Shift+Enter")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert cli.main(["progress", "--reset"]) == 1
    assert (medlab_home / "progress.json").exists()
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert cli.main(["progress", "--reset"]) == 0
    assert not (medlab_home / "progress.json").exists()


def test_a_read_only_home_warns_but_never_breaks_a_lesson(medlab_home):
    import pytest

    medlab_home.mkdir(parents=True, exist_ok=True)
    (medlab_home / "progress.json").mkdir()  # cannot be replaced by a file
    with pytest.warns(UserWarning):
        verdict = lesson00.ex1.check("Shift+Enter")
    assert verdict.passed
