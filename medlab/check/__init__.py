"""Exercise checks for every lesson, in one registry.

Each lesson's exercises live in ``medlab/check/lessonNN.py`` as module-level
:class:`Exercise` objects named ``ex1``, ``ex2`` ... In a notebook::

    from medlab.check import lesson01
    answer = ...            # your answer here
    lesson01.ex1.check(answer)

``registry()`` collects every exercise of the course (for the tests, the
progress view and the grading export). The lesson modules and :func:`progress` are
imported on first use through a module ``__getattr__`` (PEP 562), like every package
of medlab.
"""

# ruff: noqa: F401 - the TYPE_CHECKING imports are for IDEs

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

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

#: public name -> module that defines it; each ``lessonNN`` maps to its own module.
_EXPORTS: dict[str, str] = {
    "progress": "medlab.check._view",
    **{
        info.name: f"medlab.check.{info.name}"
        for info in pkgutil.iter_modules(__path__)
        if info.name.startswith("lesson")
    },
}

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
    *sorted(_EXPORTS),
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from medlab.check._view import progress


def lesson_modules() -> list[str]:
    """Names of the per-lesson exercise modules, in course order."""
    return sorted(name for name in _EXPORTS if name.startswith("lesson"))


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
    """Import the module that defines ``name`` on first use, and keep the value."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | {n for n in globals() if not n.startswith("_")})
