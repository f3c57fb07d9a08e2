"""Crash recovery of a :class:`~medlab.net.store.Store`: make files and index agree, delete nothing unexplained.

Run at every PACS start (:meth:`Store.recover`):

* our own temporary files (named by ``store._temp_name``) are deleted: they
  never answered Success. Any other file is left where it is;
* rows whose file is missing are dropped (there is nothing to keep);
* ``.dcm`` files without a row (renamed, then killed before the commit; copied
  in by hand; a row dropped because the file's size changed) are indexed if they
  read back completely and sit where their UIDs say. Otherwise, or if indexing
  fails for any reason (SQLite, permissions), they are *moved* to
  ``<root>/quarantine/`` with a log line and counted (:func:`quarantine_count`,
  shown by ``medlab doctor``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from medlab.net.store import _is_own_temp, _row_from

if TYPE_CHECKING:
    from medlab.net.store import Store

LOGGER = logging.getLogger("medlab.net")

#: Folder (inside a store's root) where recovery moves files it cannot index.
QUARANTINE = "quarantine"


def quarantine_count(root: str | Path) -> int:
    """Files set aside in ``<root>/quarantine`` by recovery (no index is opened)."""
    folder = Path(root) / QUARANTINE
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def recover(store: Store) -> dict[str, int]:
    """Recover ``store`` (see the module docstring); return what was done, as counts."""
    import pydicom

    counts = {
        "temp_removed": 0,
        "rows_dropped": 0,
        "files_indexed": 0,
        "files_quarantined": 0,
    }
    indexed: dict[str, int] = {}
    with store._lock:
        for rel, size in store._db.execute("SELECT path, size FROM instances"):
            indexed[rel] = size
    quarantine = store.root / QUARANTINE
    on_disk: set[str] = set()
    for dirpath, dirs, files in os.walk(store.root):
        if Path(dirpath) == store.root and QUARANTINE in dirs:
            dirs.remove(QUARANTINE)  # already explained: never re-read, never deleted
        for name in files:
            full = Path(dirpath) / name
            if _is_own_temp(name):
                full.unlink(missing_ok=True)
                counts["temp_removed"] += 1
            elif name.endswith(".dcm"):
                on_disk.add(str(full.relative_to(store.root)))
    unindexed = on_disk - set(indexed)
    for rel, size in indexed.items():
        full = store.root / rel
        if rel in on_disk and full.stat().st_size == size:
            continue
        with store._lock:
            store._db.execute("DELETE FROM instances WHERE path=?", (rel,))
        counts["rows_dropped"] += 1
        if rel in on_disk:  # the file changed under the index: re-check it below
            LOGGER.warning("recover: %s changed size since it was indexed", rel)
            unindexed.add(rel)
    for rel in sorted(unindexed):
        full = store.root / rel
        try:
            ds = pydicom.dcmread(full)
            ds.PixelData if "PixelData" in ds else None  # noqa: B018 - force a full read
            row = _row_from(ds)
            if store.path_for(row["study_uid"], row["series_uid"], row["sop_uid"]) != full:
                raise ValueError("its file name does not match its UIDs")
            row.update(
                transfer_syntax=str(ds.file_meta.TransferSyntaxUID),
                path=rel,
                size=full.stat().st_size,
                source_aet=str(ds.file_meta.get("SourceApplicationEntityTitle", "") or ""),
                stored_at=full.stat().st_mtime,
            )
            store._index(row)
            counts["files_indexed"] += 1
        except Exception as err:  # noqa: BLE001 - whatever the reason, keep the file
            target = quarantine / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(full, target)
            except OSError as move_err:
                LOGGER.error(
                    "recover: cannot index %s (%s) nor move it to quarantine (%s): left in place",
                    full,
                    err,
                    move_err,
                )
                continue
            LOGGER.warning(
                "recover: cannot index %s (%s: %s); moved to %s",
                full,
                type(err).__name__,
                err,
                target,
            )
            counts["files_quarantined"] += 1
    return counts
