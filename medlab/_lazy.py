"""Lazy export tables, the old way: kept only for ``medlab.net`` until its own branch lands.

Every other package of medlab uses a plain PEP 562 ``__getattr__`` (see ``medlab/__init__.py``);
this module goes when ``medlab/net/__init__.py`` does the same
(tests/unit/test_package_layout.py, ``test_the_old_class_swapping_mechanism_is_gone``).

A package lists ``{exported name: submodule}`` in a dict and calls
:func:`install`; the submodule is imported the first time the name is used,
so ``import medlab.dicom`` costs nothing until a helper is called. Adding an
export is one line in that dict.

One subtlety is handled here: when a submodule has the same name as the
function it exports (``medlab/dicom/hexview.py`` defines ``hexview``), Python's
import system binds the *module* as an attribute of the package as soon as the
submodule is first imported, which would shadow the function.
:func:`install` makes the package keep the function in that case, so
``medlab.dicom.hexview(...)`` works whatever was imported first. Reach the
module itself with ``from medlab.dicom.hexview import HexView`` (or through
``sys.modules``).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


class _LazyPackage(types.ModuleType):
    """A package module that keeps an exported function over a same-named submodule."""

    def __setattr__(self, name: str, value: Any) -> None:
        exports = self.__dict__.get("_EXPORTS", {})
        if (
            isinstance(value, types.ModuleType)
            and exports.get(name) == value.__name__
            and hasattr(value, name)
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


def install(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Make ``package`` lazy; return its module-level ``__getattr__`` and ``__dir__``.

    Parameters
    ----------
    package:
        The package's ``__name__``.
    exports:
        ``{name: "medlab.x.submodule"}``; the same dict object can be extended later.
    """
    module = sys.modules[package]
    module.__class__ = _LazyPackage

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(target), name)
        setattr(module, name, value)  # cache: the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | {n for n in module.__dict__ if not n.startswith("_")})

    return __getattr__, __dir__
