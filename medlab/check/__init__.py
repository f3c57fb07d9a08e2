"""Exercise checks for every lesson, in one registry.

Each lesson's exercises live in ``medlab/check/lessonNN.py`` as module-level
:class:`Exercise` objects named ``ex1``, ``ex2`` ... In a notebook::

    from medlab.check import lesson01
    answer = ...            # your answer here
    lesson01.ex1.check(answer)

``registry()`` collects every exercise of the course (for the tests, the
progress view and the grading export).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from medlab.check._core import (
    CHECK_FAILED,
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    PLACEHOLDER,
    Exercise,
    Note,
    Verdict,
    WrongAnswer,
    element_keyword,
    expect_choice,
    expect_element,
    expect_equal,
    normalise,
)

__all__ = [
    "CHECK_FAILED",
    "CORRECT",
    "INCORRECT",
    "NOT_ATTEMPTED",
    "PLACEHOLDER",
    "Exercise",
    "Note",
    "Verdict",
    "WrongAnswer",
    "element_keyword",
    "expect_choice",
    "expect_element",
    "expect_equal",
    "normalise",
    "lesson_modules",
    "registry",
    "progress",
]


def lesson_modules() -> list[str]:
    """Names of the per-lesson exercise modules, in course order."""
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if info.name.startswith("lesson")
    )


def registry() -> dict[str, Exercise]:
    """Every exercise of the course by id (``"01.1"``), in course order."""
    found: dict[str, Exercise] = {}
    for name in lesson_modules():
        module = importlib.import_module(f"medlab.check.{name}")
        for value in vars(module).values():
            if isinstance(value, Exercise):
                if value.id in found and found[value.id] is not value:
                    raise ValueError(f"Two exercises share the id {value.id}")
                found[value.id] = value
    return dict(sorted(found.items(), key=lambda item: tuple(map(int, item[0].split(".")))))


def __getattr__(name: str) -> Any:
    if name.startswith("lesson"):
        return importlib.import_module(f"medlab.check.{name}")
    if name == "progress":
        from medlab.check._view import progress

        return progress
    raise AttributeError(f"module 'medlab.check' has no attribute {name!r}")
