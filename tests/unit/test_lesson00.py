"""Lesson 00 and what it shows: the environment check, the course map, the progress view.

Each test here fails on the faults a trainee and a new instructor met: the doctor telling the
trainee to stop their own JupyterLab, DCMTK's version typeset as maths, status icons drawn as
empty boxes, the lesson times called "min of exercises left", exercise 2's placeholder holding
its answer, and a stored output that shows the author's own folders or an old course map.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess

import nbformat
import pytest
import support

import medlab.health as health
from medlab import course
from medlab.check import lesson00, registry
from medlab.check._view import Progress

LESSON00 = support.NOTEBOOKS / "00_start_here.ipynb"


# ---------------------------------------------------------------- the environment check
@pytest.fixture
def busy_port(monkeypatch):
    """A port taken by a listening socket, as the only default port the doctor checks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        monkeypatch.setattr(health, "DEFAULT_PORTS", {"JupyterLab": port})
        yield port


def _port_line(port):
    return next(c for c in health.checks() if c.name == f"port {port}")


def test_the_trainees_own_jupyterlab_on_the_port_is_fine(busy_port, tmp_path, monkeypatch):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    # What jupyter_server writes for a running server (make lab: port 8888).
    (runtime / "jpserver-4242.json").write_text(
        json.dumps({"port": busy_port, "pid": os.getpid(), "url": f"http://127.0.0.1:{busy_port}/"})
    )
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    line = _port_line(busy_port)
    assert line.ok and "your own JupyterLab" in line.detail and not line.fix


def test_a_port_held_by_something_else_still_needs_fixing(busy_port, tmp_path, monkeypatch):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    # The stale file of a server that is gone does not count, nor a nonsense pid.
    gone = subprocess.Popen(["true"])
    gone.wait()
    (runtime / "jpserver-1.json").write_text(json.dumps({"port": busy_port, "pid": gone.pid}))
    (runtime / "jpserver-2.json").write_text(json.dumps({"port": busy_port, "pid": 0}))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    line = _port_line(busy_port)
    assert not line.ok and "in use" in line.detail and "Stop" in line.fix


def test_dcmtk_version_has_no_dollar_signs():
    out = "$dcmtk: echoscu v3.6.7 2022-04-22 $\n\nechoscu: DICOM verification (C-ECHO) SCU\n"
    assert health._dcmtk_version(out) == "dcmtk: echoscu v3.6.7 2022-04-22"
    assert "$" not in next(c for c in health.checks() if c.name == "DCMTK").detail


def test_doctor_html_is_safe_from_mathjax_and_needs_no_emoji_font(monkeypatch):
    monkeypatch.setattr(health, "PACKAGES", (("no-such-package-medlab", "testing"),))
    page = health.doctor()._repr_html_()
    assert "mathjax_ignore" in page and "tex2jax_ignore" in page
    # Marks are plain text coloured by CSS: any character beyond Latin-1 and general
    # punctuation may be an empty box in a browser without an emoji font.
    assert not [ch for ch in page if ord(ch) > 0x2000], "use text marks, not emoji"
    assert ">ok</b>" in page and ">fix</b>" in page


# ---------------------------------------------------------------- progress wording
def test_progress_counts_lesson_minutes_and_says_so(medlab_home):
    view = Progress()
    with_exercises = {ex.lesson for ex in registry().values()}
    expected = sum(les.minutes for les in course.LESSONS if les.number in with_exercises)
    assert view.minutes_left == expected
    assert f"About {expected} min of lessons left (" in repr(view)
    assert "exercises left" not in repr(view) + view._repr_html_()


# ---------------------------------------------------------------- exercise 2
def _cell_of(nb, exercise_name: str) -> str:
    return next(c.source for c in nb.cells if f"{exercise_name}.check(answer)" in c.source)


@pytest.mark.parametrize("name", ["ex1", "ex2"])
def test_placeholder_comment_does_not_give_the_answer_away(name):
    """The comment beside ``answer = ...`` says what to give, not how to compute it."""
    nb = nbformat.read(LESSON00, as_version=4)
    cell = _cell_of(nb, f"lesson00.{name}")
    comment = re.search(r"^answer = \.\.\.\s*#(.*)$", cell, re.M).group(1)
    exercise = getattr(lesson00, name)
    solution = exercise.solution_code.split("answer =")[-1].strip()
    used = set(re.findall(r"\.([A-Za-z_]\w*)", exercise.solution_code)) - {"data", "dataset"}
    assert solution not in comment
    assert not {word for word in used if re.search(rf"\b{word}\b", comment)}, comment
    assert exercise.run_code(exercise.solution_code) not in (None, ...)


def test_exercise_2_asks_for_something_the_trainee_computes():
    ds = __import__("medlab.data").data.dataset("cr_mono1")
    assert lesson00.ex2.judge(ds.Rows * ds.Columns).passed
    assert len(lesson00.ex2.wrong_answers) >= 3 and len(lesson00.ex1.wrong_answers) >= 3
    # The cell of section 3 shows the CT sample: its pixel count is the tempting wrong answer.
    verdict = lesson00.ex2.judge(lesson00.ex2.run_code(lesson00.ex2.wrong_code))
    assert not verdict.passed and "cr_mono1" in verdict.message
    assert str(ds.Rows * ds.Columns) not in verdict.message


# ---------------------------------------------------------------- the stored notebook
def _stored_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts += [v if isinstance(v, str) else "" for v in out.get("data", {}).values()]
    return "\n".join(parts)


def test_stored_outputs_show_no_local_folders():
    """Re-running lesson 00 must not store the author's paths (the doctor's "where your data
    lives"): `make notebooks` clears the outputs of cells tagged medlab-local-output."""
    nb = nbformat.read(LESSON00, as_version=4)
    doctor = next(c for c in nb.cells if c.cell_type == "code" and "medlab.doctor()" in c.source)
    assert course.LOCAL_OUTPUT_TAG in doctor.metadata.get("tags", [])
    assert doctor.outputs == [] and doctor.execution_count, "run `make notebooks`"
    stored = _stored_text(nb)
    for local in ("/home/", "/root/", "/tmp/", "/Users/", str(support.REPO)):
        assert local not in stored, f"{local} in lesson 00's stored output: run `make notebooks`"


def test_clear_local_outputs_keeps_the_execution_count(tmp_path):
    nb = nbformat.v4.new_notebook()
    tagged = nbformat.v4.new_code_cell("print(1)", execution_count=1)
    tagged.metadata["tags"] = [course.LOCAL_OUTPUT_TAG]
    tagged.outputs = [nbformat.v4.new_output("stream", text="/home/author/x\n")]
    plain = nbformat.v4.new_code_cell("print(2)", execution_count=2)
    plain.outputs = [nbformat.v4.new_output("stream", text="2\n")]
    nb.cells = [tagged, plain]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert course.clear_local_outputs(path) == 1
    back = nbformat.read(path, as_version=4)
    assert back.cells[0].outputs == [] and back.cells[0].execution_count == 1
    assert back.cells[1].outputs[0].text == "2\n"


def test_stored_course_map_and_progress_list_the_lessons_of_the_course():
    """Adding a lesson changes lesson 00's stored output: say so plainly, not "outputs differ"."""
    nb = nbformat.read(LESSON00, as_version=4)
    stale = "lesson 00 shows an old course: re-run it (`make notebooks` always re-runs lesson 00)"
    shown = next(c for c in nb.cells if "course_map()" in c.source)
    assert shown.outputs[0]["data"]["text/plain"] == repr(course.course_map()), stale
    progress = next(c for c in nb.cells if c.source.strip() == "medlab.progress()")
    numbers = re.findall(r"^(\d\d)  ", progress.outputs[0]["data"]["text/plain"], re.M)
    assert numbers == sorted({ex.lesson for ex in registry().values()}), stale


def test_make_notebooks_always_reruns_lesson_00_and_clears_local_outputs():
    script = " ".join(support.make_dry_run("notebooks", "NB=notebooks/07_associations.ipynb"))
    execute, clear = script.split("nbconvert", 1)[1].split("clear_local_outputs")
    assert "00_start_here.ipynb" in execute and "07_associations.ipynb" in execute
    assert "00_start_here.ipynb" in clear
