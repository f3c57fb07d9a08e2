"""The PACS's storage: files under ``root/`` and their SQLite index.

Rules this module keeps (they are what makes the PACS safe to kill):

1. **UIDs are checked before they touch a path**: digits and dots only, no empty
   component, at most 64 characters (PS3.5 §9.1). A crafted UID such as
   ``../../etc`` is refused, so nothing is ever written outside ``root/``.
2. **Atomic files**: an instance is written to ``.<uid>.<random>.tmp`` in its
   series folder, then renamed over ``<uid>.dcm`` (``os.replace``, atomic on
   POSIX). A reader never sees half a file.
3. **Index after file**: the SQLite row (WAL journal) is committed only once the
   file is in place; C-STORE answers Success only after both. A crash between the
   two leaves a file without a row, which :meth:`Store.recover` indexes again
   (after checking it reads) at the next start; temp files are deleted.
4. **Re-sending replaces**: the SOP Instance UID is the primary key, so a second
   copy overwrites the file and updates the row, never duplicates it.
5. **Bytes as received**: the data set is written exactly as it arrived, after a
   File Meta Information group (PS3.10 §7.1) saying which transfer syntax it is in.
   A large C-STORE, spilled to disk as it arrived, is copied after ours in the
   kernel (``copy_file_range``), never through Python.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab import paths
from medlab.errors import MedlabError
from medlab.net.received import (
    _INDEX_TAGS,
    DEFLATED_LE,
    EXPLICIT_VR_BE,
    IMPLICIT_VR_LE,
    ReceivedFile,
    StoreFailure,
    _copy_tail,
    _file_meta_bytes,
    _identifiers,
)

if TYPE_CHECKING:
    from pydicom import Dataset

_UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


#: Columns of the index: one row per instance, with the patient, study and series
#: attributes copied into it (a denormalised table: simple, and fast enough for a
#: teaching archive — a STUDY query is a GROUP BY over an indexed column).
#: keyword -> column name
INDEX_COLUMNS: dict[str, str] = {
    "PatientID": "patient_id",
    "PatientName": "patient_name",
    "PatientBirthDate": "patient_birth_date",
    "PatientSex": "patient_sex",
    "StudyInstanceUID": "study_uid",
    "StudyDate": "study_date",
    "StudyTime": "study_time",
    "AccessionNumber": "accession",
    "StudyID": "study_id",
    "StudyDescription": "study_description",
    "ReferringPhysicianName": "referring_physician",
    "SeriesInstanceUID": "series_uid",
    "Modality": "modality",
    "SeriesNumber": "series_number",
    "SeriesDescription": "series_description",
    "SOPInstanceUID": "sop_uid",
    "SOPClassUID": "sop_class",
    "InstanceNumber": "instance_number",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    sop_uid TEXT PRIMARY KEY,
    sop_class TEXT NOT NULL,
    instance_number INTEGER,
    series_uid TEXT NOT NULL,
    modality TEXT,
    series_number INTEGER,
    series_description TEXT,
    study_uid TEXT NOT NULL,
    study_date TEXT,
    study_time TEXT,
    accession TEXT,
    study_id TEXT,
    study_description TEXT,
    referring_physician TEXT,
    patient_id TEXT,
    patient_name TEXT,
    patient_birth_date TEXT,
    patient_sex TEXT,
    transfer_syntax TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    source_aet TEXT,
    stored_at REAL
);
CREATE INDEX IF NOT EXISTS ix_study ON instances(study_uid);
CREATE INDEX IF NOT EXISTS ix_series ON instances(series_uid);
CREATE INDEX IF NOT EXISTS ix_patient ON instances(patient_id);
CREATE INDEX IF NOT EXISTS ix_study_date ON instances(study_date);
CREATE INDEX IF NOT EXISTS ix_accession ON instances(accession);
CREATE TABLE IF NOT EXISTS worklist (
    sps_id TEXT PRIMARY KEY,
    patient_id TEXT, patient_name TEXT, accession TEXT, study_uid TEXT,
    requested_procedure_id TEXT,
    modality TEXT, station_aet TEXT, start_date TEXT, start_time TEXT,
    physician TEXT, sps_status TEXT,
    dataset TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mpps (
    sop_uid TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    dataset TEXT NOT NULL,
    updated_at REAL
);
"""


def is_valid_uid(uid: str) -> bool:
    """True if ``uid`` is digits and dots, with no empty component, ≤ 64 chars (PS3.5 §9.1)."""
    return isinstance(uid, str) and 0 < len(uid) <= 64 and bool(_UID_RE.match(uid))


def clean_uid(value: Any) -> str:
    """A UID value as text, without the trailing NUL/space padding some writers leave."""
    return str(value or "").strip("\x00 ")


@dataclass(frozen=True)
class StoredInstance:
    """What :meth:`Store.put` indexed."""

    sop_uid: str
    sop_class: str
    series_uid: str
    study_uid: str
    path: Path
    size: int
    replaced: bool


_OWN_TEMP = re.compile(r"^\..+\.\d+\.\d+\.tmp$")


def _temp_name(sop_uid: str) -> str:
    """The name of our temporary file for one write (unique per process and thread)."""
    return f".{sop_uid}.{os.getpid()}.{threading.get_ident()}.tmp"


def out_of_resources(err: OSError) -> StoreFailure:
    """The C-STORE failure for a file the disk would not take (0xA700, PS3.4 B.2.3)."""
    return StoreFailure(0xA700, f"Out of resources: cannot write the file ({err.strerror or err})")


def _write_new(path: Path, parts: tuple[bytes | memoryview, ...], fsync: bool) -> None:
    """Create ``path`` (it must not exist) private to its owner and write ``parts`` into it.

    One ``writev`` for the File Meta and the data set as received, no Python
    file object: this runs for every stored instance. ``O_EXCL`` with mode 0600
    makes the file private from its first byte whatever the umask (a umask can
    only take permissions away), as :func:`medlab.paths.open_private` does.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, paths.PRIVATE_FILE_MODE)
    except FileExistsError:  # our own leftover of a failed write: its name is ours
        os.unlink(path)
        fd = os.open(path, flags, paths.PRIVATE_FILE_MODE)
    try:
        views = [memoryview(part).cast("B") for part in parts]
        while views:
            written = os.writev(fd, views)
            while views and written >= len(views[0]):
                written -= len(views[0])
                views.pop(0)
            if views and written:
                views[0] = views[0][written:]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _is_own_temp(name: str) -> bool:
    """True for a name :func:`_temp_name` makes: the only files recovery deletes."""
    return bool(_OWN_TEMP.match(name))


class Store:
    """Files and index of one PACS root. Thread-safe (one SQLite connection behind a lock)."""

    def __init__(self, root: Path, *, fsync: bool = False) -> None:
        self.root = Path(root)
        self.fsync = fsync
        try:
            # Private by default (0700 folders, 0600 files): on a shared host the
            # trainee's studies are theirs alone (docs/classroom.md, isolation).
            paths.private_dir(self.root)
            paths.private_file(self.root / "index.sqlite")  # SQLite's -wal/-shm take its mode
        except OSError as err:
            raise MedlabError(
                f"Cannot create the PACS folder: {err.strerror or err}",
                where=str(self.root),
                fix="Choose another --root, or check its permissions.",
            ) from None
        self.db_path = self.root / "index.sqlite"
        self._dirs: set[Path] = set()  # series folders known to exist
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit is durable against a process crash (it is in
        # the OS's hands), fsync happens at checkpoints. Power loss may lose the last
        # commits but never corrupts the database.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    # ------------------------------------------------------------------ paths
    def path_for(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        """``root/<study>/<series>/<sop>.dcm`` after checking each UID is safe for a path."""
        for what, uid in (
            ("Study Instance UID", study_uid),
            ("Series Instance UID", series_uid),
            ("SOP Instance UID", sop_uid),
        ):
            if not is_valid_uid(uid):
                raise StoreFailure(
                    0xC000 if uid else 0xA900,
                    f"Invalid {what} (digits and dots, ≤ 64 chars, PS3.5 §9.1): {uid[:80]!r}",
                )
        path = self.root / study_uid / series_uid / f"{sop_uid}.dcm"
        # Belt and braces (lexical, no file system call): the checks above
        # already make escaping impossible.
        if os.path.normpath(path).count(os.sep) != os.path.normpath(self.root).count(os.sep) + 3:
            raise StoreFailure(0xC000, "refusing a path outside the PACS root")
        return path

    # ------------------------------------------------------------------ store
    def put(
        self,
        data: bytes | memoryview | ReceivedFile,
        transfer_syntax: str,
        sop_class: str | None = None,
        sop_instance: str | None = None,
        source_aet: str = "",
    ) -> StoredInstance:
        """Store one received data set (bytes in ``transfer_syntax``, or a file) and index it.

        ``data`` is the encoded data set, or a :class:`ReceivedFile` (then the
        data set is checked and copied from disk in bounded memory).
        ``sop_class``/``sop_instance`` are the C-STORE command's Affected SOP
        Class/Instance UIDs; the data set must agree with them (PS3.4 B.2.3).
        Raises :class:`StoreFailure` with the status to answer.
        """
        try:
            ids = _identifiers(data, transfer_syntax)
        except StoreFailure:
            raise  # an identifier too long for its VR, named
        except Exception as err:  # noqa: BLE001 - any decoding problem is the sender's
            raise StoreFailure(0xC210, f"Cannot decode the data set: {err}"[:200]) from None
        try:
            row = _row_from(ids)
        except Exception as err:  # noqa: BLE001 - e.g. a bad character set
            raise StoreFailure(
                0xC210, f"Cannot read the identifying attributes: {err}"[:200]
            ) from None
        sop_uid = row["sop_uid"]
        if sop_instance is not None and clean_uid(sop_instance) != sop_uid:
            raise StoreFailure(
                0xA900,
                "SOP Instance UID of the data set differs from the C-STORE request's "
                "Affected SOP Instance UID",
            )
        if sop_class is not None and row["sop_class"] and clean_uid(sop_class) != row["sop_class"]:
            raise StoreFailure(
                0xA900,
                "SOP Class UID of the data set differs from the C-STORE request's "
                "Affected SOP Class UID",
            )
        if sop_class is not None and not row["sop_class"]:
            row["sop_class"] = clean_uid(sop_class)
        path = self.path_for(row["study_uid"], row["series_uid"], sop_uid)
        size = self._write_atomically(
            path, data, row["sop_class"], sop_uid, transfer_syntax, source_aet
        )
        row.update(
            transfer_syntax=transfer_syntax,
            path=str(path.relative_to(self.root)),
            size=size,
            source_aet=source_aet,
            stored_at=time.time(),
        )
        old = self._index(row)
        replaced = old is not None
        if old is not None and old != row["path"]:
            # Same instance re-sent under another study/series: drop the old copy.
            try:
                (self.root / old).unlink()
            except OSError:
                pass
        return StoredInstance(
            sop_uid, row["sop_class"], row["series_uid"], row["study_uid"], path, size, replaced
        )

    def put_dataset(self, ds: Dataset, source_aet: str = "") -> StoredInstance:
        """Store a pydicom Dataset (encoded in its own transfer syntax) — for tests and seeding."""
        from pydicom.filebase import DicomBytesIO
        from pydicom.filewriter import write_dataset
        from pydicom.uid import ExplicitVRLittleEndian

        ts = str(
            getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "")
            or ExplicitVRLittleEndian
        )
        fp = DicomBytesIO()
        fp.is_implicit_VR = ts == IMPLICIT_VR_LE
        fp.is_little_endian = ts != EXPLICIT_VR_BE
        write_dataset(fp, ds)
        data = fp.getvalue()
        if ts == DEFLATED_LE:
            comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
            data = comp.compress(data) + comp.flush()
        buf = io.BytesIO(data)
        return self.put(buf.getvalue(), ts, source_aet=source_aet)

    def _write_atomically(
        self,
        path: Path,
        data: bytes | memoryview | ReceivedFile,
        sop_class: str,
        sop_uid: str,
        ts: str,
        aet: str,
    ) -> int:
        meta = _file_meta_bytes(sop_class, sop_uid, ts, aet)
        # Unique among concurrent writers: one thread writes one file at a time.
        tmp = path.parent / _temp_name(sop_uid)
        try:
            if path.parent not in self._dirs:
                paths.private_dir(path.parent)
                if len(self._dirs) > 10_000:
                    self._dirs.clear()
                self._dirs.add(path.parent)
            if isinstance(data, ReceivedFile):
                with paths.open_private(tmp, "wb") as fh:
                    fh.write(meta)
                    length = _copy_tail(data.path, data.offset, fh)
                    if self.fsync:
                        fh.flush()
                        os.fsync(fh.fileno())
            else:
                length = len(data)
                _write_new(tmp, (meta, data), self.fsync)
            os.replace(tmp, path)
        except OSError as err:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise out_of_resources(err) from None
        return len(meta) + length

    def _index(self, row: dict[str, Any]) -> str | None:
        """Insert or replace the row; return the previous relative path, if any."""
        cols = list(row)
        sql = (
            f"INSERT INTO instances ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT(sop_uid) DO UPDATE SET "
            + ", ".join(f"{c}=excluded.{c}" for c in cols if c != "sop_uid")
        )
        values = [row[c] for c in cols]
        with self._lock:
            try:  # the usual case, a new instance: one statement, one commit (autocommit)
                self._db.execute(self._insert_sql(cols), values)
                return None
            except sqlite3.IntegrityError:
                pass
            old = self._db.execute(
                "SELECT path FROM instances WHERE sop_uid=?", (row["sop_uid"],)
            ).fetchone()
            self._db.execute(sql, values)
        return old[0] if old else None

    @staticmethod
    def _insert_sql(cols: list[str]) -> str:
        return f"INSERT INTO instances ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"

    # ------------------------------------------------------------------ recovery
    def recover(self) -> dict[str, int]:
        """Make files and index agree after a crash (run at start); never delete evidence.

        Deletes only our own temporary files; what cannot be indexed is moved to
        ``<root>/quarantine/`` with a log line. See :func:`medlab.net.recovery.recover`.
        """
        from medlab.net.recovery import recover

        return recover(self)

    def quarantine_count(self) -> int:
        """How many files recovery has set aside in ``<root>/quarantine``."""
        from medlab.net.recovery import quarantine_count

        return quarantine_count(self.root)

    # ------------------------------------------------------------------ reading
    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """Run a read-only SQL query on the index (under the store lock)."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple | list = ()) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def count(self) -> int:
        return self.query("SELECT COUNT(*) FROM instances")[0][0]

    def instance(self, sop_uid: str) -> dict[str, Any] | None:
        """The index row of one instance, or None."""
        with self._lock:
            cur = self._db.execute("SELECT * FROM instances WHERE sop_uid=?", (sop_uid,))
            row = cur.fetchone()
            if row is None:
                return None
            return dict(zip([d[0] for d in cur.description], row, strict=True))

    def file_of(self, sop_uid: str) -> Path | None:
        row = self.instance(sop_uid)
        return self.root / row["path"] if row else None

    def is_intact(self, sop_uid: str, sop_class: str | None = None) -> tuple[bool, int]:
        """Check an instance for Storage Commitment: indexed, file present and complete.

        Returns ``(ok, failure_reason)`` with PS3.4 J.3.3.1 reasons: 0x0112 no such
        object instance, 0x0119 class/instance conflict, 0x0110 processing failure.
        """
        import pydicom

        row = self.instance(sop_uid)
        if row is None:
            return False, 0x0112
        if sop_class and clean_uid(sop_class) != row["sop_class"]:
            return False, 0x0119
        path = self.root / row["path"]
        try:
            if path.stat().st_size != row["size"]:
                return False, 0x0110
            ds = pydicom.dcmread(path)
            check = ds.get("SOPInstanceUID")
            if clean_uid(check) != sop_uid:
                return False, 0x0110
        except Exception:  # noqa: BLE001
            return False, 0x0110
        return True, 0

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass

    # ------------------------------------------------------------------ JSON blobs
    @staticmethod
    def to_json(ds: Dataset) -> str:
        return json.dumps(ds.to_json_dict(), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Dataset:
        from pydicom import Dataset

        return Dataset.from_json(text)


def _text(ds: Dataset, keyword: str) -> str | None:
    """The value of one indexed attribute as text (None if absent).

    Plain ASCII values (nearly all identifiers) are decoded straight from the
    raw bytes — pydicom's conversion and validation would cost more than the
    rest of the C-STORE handling; anything else (other character sets, VM > 1
    in odd encodings) goes through pydicom.
    """
    tag = _INDEX_TAGS[keyword]
    if tag not in ds:
        return None
    raw = ds.get_item(tag)  # the raw (unconverted) element, if still raw
    value = getattr(raw, "value", None)
    if isinstance(value, bytes) and value.isascii() and type(raw).__name__ == "RawDataElement":
        return value.decode("ascii").strip("\x00 ")
    elem = ds.get(keyword)
    if elem is None or elem == "":
        return None if elem is None else ""
    if isinstance(elem, (list, tuple)) or type(elem).__name__ == "MultiValue":
        return "\\".join(str(v) for v in elem)
    return str(elem).strip("\x00 ")


def _row_from(ds: Dataset) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for keyword, column in INDEX_COLUMNS.items():
        value = _text(ds, keyword)
        if column in {"series_number", "instance_number"}:
            try:
                value = int(value.strip()) if value not in (None, "") else None
            except ValueError:
                value = None
        elif keyword.endswith("UID"):
            value = clean_uid(value)
        row[column] = value
    row["study_time"] = normalise_time(row["study_time"])
    return row


def normalise_time(value: str | None) -> str | None:
    """TM ``HHMM``/``HH:MM:SS`` → ``HHMMSS.ffffff`` so that ranges compare as text."""
    if not value:
        return value
    value = value.replace(":", "").strip()
    whole, _, frac = value.partition(".")
    whole = (whole + "000000")[:6]
    return f"{whole}.{(frac + '000000')[:6]}"
