"""The house plan of the package: one lazy-export mechanism, and domain code that knows no screen.

Every package of medlab exports its names the same way (PEP 562): a ``_EXPORTS`` table
(name -> module), a module ``__getattr__`` that imports on first use and keeps the value,
``__dir__``, ``__all__`` and a ``TYPE_CHECKING`` block for IDEs and type checkers. The
domain rooms (``medlab.dicom``, ``medlab.hl7``, ``medlab.net``) return data and rich
reprs; only ``medlab.widgets`` (and the one progress helper) import ipywidgets.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys

import pytest
import support

MEDLAB = support.REPO / "medlab"

PACKAGES = [
    "medlab",
    "medlab.check",
    "medlab.dicom",
    "medlab.hl7",
    "medlab.widgets",
    "medlab.net",
    "medlab.net.dicomweb",
    "medlab.fhir",
]


def _type_checking_names(path) -> set[str]:
    """Names imported under ``if TYPE_CHECKING:`` in a module's source."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.ImportFrom):
                    names.update(alias.asname or alias.name for alias in stmt.names)
    return names


def _top_level_functions(path) -> set[str]:
    return {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_exports_the_same_way(package):
    module = importlib.import_module(package)
    init = MEDLAB.parent / (package.replace(".", "/") + "/__init__.py")
    assert isinstance(getattr(module, "_EXPORTS", None), dict), f"{package} has no _EXPORTS"
    assert {"__getattr__", "__dir__"} <= _top_level_functions(init), (
        f"{package} defines no module-level __getattr__/__dir__ (PEP 562)"
    )
    exports = module._EXPORTS
    assert set(exports) <= set(module.__all__) and set(exports) <= set(dir(module))
    # The TYPE_CHECKING block shows every exported name that is not a submodule of its own
    # (IDEs find submodules by themselves), and nothing that is not exported.
    shown = _type_checking_names(init)
    needed = {n for n, target in exports.items() if target != f"{package}.{n}"}
    assert needed <= shown <= set(exports), (needed - shown, shown - set(exports))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_submodule_shadows_an_exported_name(package):
    """Python binds an imported submodule over the package attribute of the same name.

    So ``medlab.dicom.hexview`` would become a module (not the function) as soon as some
    code imported ``medlab.dicom.hexview`` as a module. No exported name may be the name
    of a submodule, unless what it exports is that submodule (and the submodule defines
    nothing of its own name, which would make ``name -> module`` ambiguous).
    """
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    clashes = {
        name
        for name, target in module._EXPORTS.items()
        if name in submodules
        and (target != f"{package}.{name}" or hasattr(importlib.import_module(target), name))
    }
    assert not clashes, f"{package}: rename the module(s) {sorted(clashes)}"


@pytest.mark.parametrize("package", PACKAGES)
def test_exported_names_resolve_whatever_was_imported_first(package):
    """Import every submodule first (as other code may), then every exported name still works."""
    code = f"""
import importlib, json, pkgutil
pkg = importlib.import_module({package!r})
for info in pkgutil.iter_modules(pkg.__path__):
    if info.name not in ("__main__", "cli"):
        importlib.import_module(f"{{pkg.__name__}}.{{info.name}}")
bad = {{}}
for name, target in pkg._EXPORTS.items():
    value = getattr(pkg, name)
    want = importlib.import_module(target)
    if target != f"{{pkg.__name__}}.{{name}}":
        want = getattr(want, name)
    if value is not want:
        bad[name] = repr(value)[:80]
print(json.dumps(bad))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {}


def test_lazy_packages_stay_light():
    code = (
        "import medlab, medlab.dicom, medlab.hl7, medlab.widgets, medlab.check, sys; "
        "print(sorted(m for m in ('pydicom', 'ipywidgets', 'hl7apy', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _imports(path) -> set[str]:
    """Every module a source file imports (at any depth, including inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _screen_imports(room: str) -> dict[str, list[str]]:
    out = {}
    for path in sorted((MEDLAB / room).rglob("*.py")):
        screen = sorted(
            name
            for name in _imports(path)
            if name.split(".")[0] in ("ipywidgets", "IPython")
            or name == "medlab.widgets"
            or name.startswith("medlab.widgets.")
        )
        if screen:
            out[str(path.relative_to(MEDLAB.parent))] = screen
    return out


@pytest.mark.parametrize("room", ["dicom", "hl7", "net"])
def test_domain_code_knows_no_screen(room):
    """medlab.dicom/hl7/net return data and rich reprs; widgets wrap them; long loops use
    the one progress helper (medlab.progressbar), never their own ipywidgets bar."""
    assert _screen_imports(room) == {}


def test_the_screen_check_can_fail(tmp_path, monkeypatch):
    room = tmp_path / "medlab" / "fake"
    room.mkdir(parents=True)
    (room / "a.py").write_text("def f():\n    from medlab.widgets.hexplorer import Hexplorer\n")
    (room / "b.py").write_text("import ipywidgets as w\n")
    monkeypatch.setattr(sys.modules[__name__], "MEDLAB", tmp_path / "medlab")
    assert set(_screen_imports("fake")) == {"medlab/fake/a.py", "medlab/fake/b.py"}


def test_the_old_class_swapping_mechanism_is_gone():
    """medlab/_lazy.py stays only while medlab/net/__init__.py (net branch) still uses it."""
    assert not (MEDLAB / "_lazy.py").exists()
    users = [p for p in MEDLAB.rglob("*.py") if "medlab._lazy" in _imports(p)]
    assert not users


def test_no_module_is_much_longer_than_600_lines():
    """One concern a module (issue 16): split a module before it grows past about 600 lines."""
    long = {
        str(p.relative_to(MEDLAB)): n
        for p in MEDLAB.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 650
    }
    assert long == {}, long
