"""Where medlab reads shared sample data and writes each user's own files.

Two places, kept apart on purpose so that a whole class can share one install:

* **Sample data** (read-only once built): ``$MEDLAB_DATA`` if set, else the
  ``data/`` folder of a source checkout, else ``~/.medlab/data``.
* **The user's home** (everything a lesson writes: PACS storage and index, HL7
  message store, de-identified output, progress): ``$MEDLAB_HOME`` if set,
  else ``~/.medlab``. Never inside the installed package or a shared folder.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def home() -> Path:
    """Return the user's own writable medlab directory (created if missing)."""
    path = Path(os.environ.get("MEDLAB_HOME") or Path.home() / ".medlab").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_source_checkout() -> bool:
    """True when medlab runs from a clone of the repository (``make lab``)."""
    return (REPO_DIR / "pyproject.toml").is_file() and (REPO_DIR / "notebooks").is_dir()


def data_dir() -> Path:
    """Return the folder that holds the built sample data."""
    env = os.environ.get("MEDLAB_DATA")
    if env:
        return Path(env).expanduser()
    if is_source_checkout():
        return REPO_DIR / "data"
    return Path.home() / ".medlab" / "data"


def new_folder(prefix: str, area: str = "lessons") -> Path:
    """A fresh folder ``home()/area/<prefix>XXXXXXXX`` of this user's own (mode 0700).

    The one home of "a new folder for this lesson run": the lesson's PACS
    archive, its HL7 message store, a C-GET's received files. A fresh folder per
    run keeps a lesson's output the same on every run, and no two users share it.
    """
    import tempfile

    base = home() / area
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
