"""Each checked answer, recorded for the user under their own medlab home.

The record is a small JSON file (``$MEDLAB_HOME/progress.json``). A missing or
corrupt record is recreated with a warning, never a crash: progress is a
convenience and must not stop a lesson.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab import paths

if TYPE_CHECKING:
    from medlab.check._core import Exercise, Verdict


def progress_file() -> Path:
    return paths.home() / "progress.json"


def load() -> dict[str, Any]:
    """Return ``{exercise_id: {"outcome": ..., "attempts": n, "when": t}}``."""
    path = progress_file()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("exercises", {}), dict):
            raise ValueError("unexpected layout")
        return data.get("exercises", {})
    except (OSError, ValueError) as exc:
        warnings.warn(
            f"Your progress record {path} could not be read ({exc}); starting a new one.",
            stacklevel=2,
        )
        path.unlink(missing_ok=True)
        return {}


def save(exercises: dict[str, Any]) -> None:
    """Write the record atomically (a crash never leaves half a file)."""
    path = progress_file()
    fd, tmp = tempfile.mkstemp(prefix=".progress-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"version": 1, "exercises": exercises}, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def record(exercise: Exercise, verdict: Verdict) -> None:
    """Remember the latest outcome of ``exercise`` (a correct answer is kept).

    Only answers count as attempts: running a cell with the placeholder still in it, or a
    checker that failed (medlab's bug, not the trainee's answer), records nothing.
    """
    from medlab.check._core import CORRECT, INCORRECT

    if os.environ.get("MEDLAB_NO_PROGRESS") or verdict.outcome not in (CORRECT, INCORRECT):
        return
    try:
        exercises = load()
        entry = exercises.get(exercise.id, {"outcome": verdict.outcome, "attempts": 0})
        entry["attempts"] = int(entry.get("attempts", 0)) + 1
        if entry.get("outcome") != "correct":
            entry["outcome"] = verdict.outcome
        entry["when"] = int(time.time())
        exercises[exercise.id] = entry
        save(exercises)
    except OSError as exc:  # a read-only home must not break a lesson
        warnings.warn(f"Could not record progress ({exc}).", stacklevel=2)
