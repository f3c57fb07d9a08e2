"""Re-running the networking lessons' cells out of order, as trainees do (issue 14).

The cells' own code is run from the stored notebooks, top to bottom, then some
cells again: each diagram still shows the association it is about, the
scheduling cell does not list the worklist twice, a repeated N-CREATE is named
and explained, and a cell re-run after the PACS was stopped says so plainly.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from medlab.errors import MedlabError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


class Lesson:
    """The code cells of a stored lesson, run in one namespace like a kernel."""

    def __init__(self, name: str) -> None:
        nb = json.loads((NOTEBOOKS / name).read_text())
        self.cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        self.ns: dict = {}

    def cell(self, marker: str) -> str:
        hits = [c for c in self.cells if marker in c]
        assert len(hits) == 1, f"{marker!r} is in {len(hits)} cells"
        return hits[0]

    def run(self, marker: str):
        """Run the cell containing ``marker``; return its last expression's value."""
        return self._exec(self.cell(marker), marker)

    def _exec(self, source: str, marker: str):
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, marker, "exec"), self.ns)
        if last is not None:
            return eval(compile(ast.Expression(last.value), marker, "eval"), self.ns)
        return None

    def run_until(self, marker: str) -> None:
        """Run every cell above the one containing ``marker`` (the lesson's stop cell)."""
        for source in self.cells:
            if marker in source:
                return
            self._exec(source, source[:40])


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path))
    monkeypatch.delenv("MEDLAB_PACS", raising=False)


def _dimse(diagram, panel=0):
    return {r.message for r in diagram.panels[panel][2] if r.kind in ("dimse", "failure")}


def test_lesson07_echo_diagram_shows_the_echo_after_any_rerun():
    lesson = Lesson("07_associations.ipynb")
    lesson.run_until("pacs.stop()")
    try:
        for _rerun in range(2):
            diagram = lesson.run("C-ECHO, as the PACS recorded it")
            assert len({r.assoc for r in diagram.rows}) == 1, diagram.text()
            assert _dimse(diagram) == {"C-ECHO-RQ", "C-ECHO-RSP"}
            assert diagram.participants == ["TRAINEE", "MEDLAB"]
            lesson.run("status = echo_assoc.send_c_echo()")  # the echo cell, again
            lesson.run("BasicGrayscalePrintManagementMeta, CTImageStorage")  # negotiation
    finally:
        lesson.run("pacs.stop()")
    with pytest.raises(MedlabError) as caught:  # the echo cell after the PACS was stopped
        lesson.run("status = echo_assoc.send_c_echo()")
    assert "stopped" in str(caught.value) and "Is the PACS running?" in str(caught.value)


def test_lesson08_side_by_side_keeps_move_and_get_apart_after_reruns():
    lesson = Lesson("08_store_query_retrieve.ipynb")
    lesson.run_until("pacs.stop()")
    try:
        for rerun in ("retrieved = get(", "move_assoc.send_c_move(", "retrieved = get("):
            lesson.run(rerun)
            diagram = lesson.run("side_by_side(")
            move, get = diagram.panels
            assert move[1] == ["TRAINEE", "MEDLAB", "RECEIVER"], diagram.text()
            assert {"C-MOVE-RQ", "C-MOVE-RSP", "C-STORE-RQ"} <= _dimse(diagram, 0)
            assert not any(m.startswith(("C-GET", "C-FIND")) for m in _dimse(diagram, 0))
            assert get[1] == ["TRAINEE", "MEDLAB"]
            assert {"C-GET-RQ", "C-GET-RSP", "C-STORE-RQ"} <= _dimse(diagram, 1)
            assert not any(m.startswith(("C-MOVE", "C-FIND")) for m in _dimse(diagram, 1))
        commitment = lesson.run("Storage commitment (push model)")
        assert _dimse(commitment) == {
            "N-ACTION-RQ",
            "N-ACTION-RSP",
            "N-EVENT-REPORT-RQ",
            "N-EVENT-REPORT-RSP",
        }
    finally:
        lesson.run("pacs.stop()")


def test_lesson09_reruns_do_not_duplicate_and_explain_themselves(capsys):
    lesson = Lesson("09_worklist_and_mpps.ipynb")
    lesson.run_until("pacs.stop()")
    try:
        assert lesson.run("pacs.schedule(") == ["SPS0001", "SPS0002", "SPS0003"]
        assert len(lesson.ns["pacs"].worklist()) == 3
        capsys.readouterr()
        lesson.run("assoc.send_n_create(")
        out = capsys.readouterr().out
        assert "N-CREATE: [failure] Status 0x0111 Duplicate SOP Instance" in out
        assert "already exists" in out and "N-SET" in out
    finally:
        lesson.run("pacs.stop()")
    with pytest.raises(MedlabError, match="stopped"):
        lesson.run("assoc.send_c_find(query, MWL)")
