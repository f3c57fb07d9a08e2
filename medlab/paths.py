"""Where medlab reads shared sample data and writes each user's own files.

Two places, kept apart on purpose so that a whole class can share one install:

* **Sample data** (read-only once built): ``$MEDLAB_DATA`` if set, else the
  ``data/`` folder of a source checkout, else ``~/.medlab/data``.
* **The user's home** (everything a lesson writes: PACS storage and index, HL7
  message store, de-identified output, progress): ``$MEDLAB_HOME`` if set,
  else ``~/.medlab``. Never inside the installed package or a shared folder.

On a shared host (a JupyterHub) a trainee's home is theirs alone: medlab creates
it and every folder in it ``0700`` and every file ``0600``, whatever the umask
(the mode is set explicitly after creation, since a umask can only remove
bits). Code that writes under the home uses :func:`private_dir`,
:func:`open_private` and :func:`private_file` (or :func:`make_private_tree`
after a library wrote a tree); ``tests/unit/test_private_files.py`` walks a home
after every writer and checks each mode, and ``medlab doctor`` flags a home
that others can read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


#: Modes of everything medlab creates under the home: the owner's alone.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def home_path() -> Path:
    """Where the user's medlab home is (``$MEDLAB_HOME`` or ``~/.medlab``), not created."""
    return Path(os.environ.get("MEDLAB_HOME") or Path.home() / ".medlab").expanduser()


def home() -> Path:
    """Return the user's own writable medlab directory (created ``0700`` if missing)."""
    path = home_path()
    if not path.is_dir():
        private_dir(path)
    return path


def private_dir(path: str | os.PathLike[str]) -> Path:
    """``mkdir -p`` whose every created folder is ``0700`` whatever the umask.

    Folders that already exist keep their mode (``medlab doctor`` reports a home
    that others can read; tightening someone's existing folder is their call).
    """
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # created meanwhile by someone else: not ours to change
        os.chmod(folder, PRIVATE_DIR_MODE)  # the umask may have removed owner bits
    if not path.is_dir():
        raise NotADirectoryError(str(path))
    return path


def open_private(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode)`` for writing (``w``, ``wb``, ``a``, ``ab``), the file ``0600``.

    The file is created ``0600`` and set to ``0600`` if it existed, before a byte
    is written, so no other user can open it in between.
    """
    if mode.strip("bt") not in ("w", "a"):
        raise ValueError(f"open_private writes only ('w' or 'a' modes), not {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` empty if missing, and make it ``0600``; return it.

    Call it before a library creates the file itself, e.g. before
    ``sqlite3.connect(path)`` (SQLite gives its ``-wal``/``-journal`` files the
    database file's mode), or after it wrote one.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return Path(path)


def make_private(path: str | os.PathLike[str]) -> Path:
    """Set ``path`` (file or folder, not its content) to the private mode; return it."""
    path = Path(path)
    os.chmod(path, PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE)
    return path


def make_private_tree(root: str | os.PathLike[str]) -> Path:
    """Make ``root`` and everything under it private (after a library wrote a tree)."""
    root = Path(root)
    make_private(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            if not full.is_symlink():
                make_private(full)
    return root


def is_in_home(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` lies inside the user's medlab home."""
    try:
        Path(path).resolve().relative_to(home_path().resolve())
    except ValueError:
        return False
    return True


def others_can_access(path: str | os.PathLike[str]) -> bool:
    """True when users other than the owner have any permission bit on ``path``."""
    return bool(stat.S_IMODE(os.stat(path).st_mode) & 0o077)


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

    base = private_dir(home() / area)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
