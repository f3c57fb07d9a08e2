"""A real JupyterHub with a class of trainees, run once for tests/hub/test_classroom.py.

The machinery lives in bench/classroom.py (the benchmark runs the same class for
5-30 users); here it runs for a few users and the tests read its verdict.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import pytest
import support

#: Users in the test class (the benchmark goes to 30).
USERS = int(os.environ.get("MEDLAB_HUB_TEST_USERS", "3"))


def load_classroom():
    """bench/classroom.py as a module (bench/ is not a package)."""
    name = "medlab_bench_classroom"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, support.REPO / "bench" / "classroom.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def classroom():
    return load_classroom()


@pytest.fixture(scope="session")
def class_lessons(classroom):
    """The lessons the class runs: MEDLAB_HUB_LESSONS (comma-separated) or those present
    of bench/classroom.py's defaults (00, 07, 08 store/query/retrieve, 13 HL7 ACKs and MLLP)."""
    wanted = os.environ.get("MEDLAB_HUB_LESSONS")
    names = (
        [n.strip() for n in wanted.split(",") if n.strip()] if wanted else classroom.DEFAULT_LESSONS
    )
    found = classroom.lessons_present(names)
    if wanted:
        assert found == [n.removesuffix(".ipynb") for n in names], f"missing lessons in {wanted}"
    return found


@pytest.fixture(scope="session")
def class_run(classroom, class_lessons, tmp_path_factory):
    """Start the hub, run the class, stop everything; the result with its verdicts."""
    bin_dir = support.REPO / ".venv" / "bin"
    support.require(
        importlib.util.find_spec("jupyterhub") is not None,
        "jupyterhub is not installed (pip install jupyterhub)",
    )
    support.require(
        (bin_dir / "jupyterhub-singleuser").exists() or shutil.which("jupyterhub-singleuser"),
        "jupyterhub-singleuser is not installed (pip install jupyterhub)",
    )
    support.require(
        shutil.which("node") is not None or shutil.which("nodejs") is not None,
        "Node.js is not installed (apt-get install nodejs npm)",
    )
    support.require(
        classroom.find_chp() is not None,
        "configurable-http-proxy is not installed "
        "(npm install --prefix .venv/chp configurable-http-proxy)",
    )
    workdir = tmp_path_factory.mktemp("class")
    log = []
    # A cell that hangs (a deadlock under load) fails after 5 minutes instead of 15.
    result = classroom.run_class(USERS, class_lessons, workdir, log=log.append, cell_timeout=300)
    result.log = log
    result.workdir = workdir
    return result
