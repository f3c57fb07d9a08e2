"""De-identification: the PS3.15 Annex E Basic Application Level Confidentiality Profile.

Images leave the PACS for teaching files, research, second opinions and the CD
a patient takes home. PS3.15 Annex E says what a de-identifier must do with
each attribute so that the copy no longer identifies the patient, yet stays a
valid, displayable DICOM object whose hierarchy (Patient > Study > Series >
Instance) still holds together.

The PS3.15 Table E.1-1 actions and the profile's options are data in
:mod:`medlab.dicom.deid_profile`; the report is :mod:`medlab.dicom.deid_report`.

What was done is recorded in the object itself (PS3.15 E.1.1, PS3.3 C.7.1.1):
Patient Identity Removed (0012,0062) = YES, De-identification Method
(0012,0063) and De-identification Method Code Sequence (0012,0064) with the
codes of CID 7050, and Longitudinal Temporal Information Modified (0028,0303).

What Annex E leaves to you: pixel data with burned-in text (Burned In
Annotation (0028,0301) YES, PS3.15 E.3.1 Clean Pixel Data Option) and
recognisable faces in 3-D reconstructions (E.3.2). :func:`deidentify` does not
clean pixels; it lists such images in its report so that they are not sent
on by mistake.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import secrets
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab import paths
from medlab.dicom._read import dataset_errors
from medlab.dicom.deid_profile import (  # noqa: F401 - lesson 11 reads these here
    BASIC_PROFILE,
    METHOD_CODES,
    PATIENT_CHARACTERISTICS,
    Profile,
    _profile,
    action_for,
    profile_table,
    resolve,
)
from medlab.dicom.deid_report import Change, DeidReport
from medlab.errors import MedlabError

if TYPE_CHECKING:
    from pydicom import Dataset
    from pydicom.dataelem import DataElement

_DUMMY_TEXT = {
    "PN": "ANONYMOUS",
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "AS": "000Y",
    "DS": "0",
    "IS": "0",
    "CS": "ANONYMIZED",
}


# --------------------------------------------------------------------------- engine
class _Deidentifier:
    """Applies a :class:`Profile`; one instance per call so UID and date maps are shared."""

    def __init__(self, profile: Profile, key: str) -> None:
        self.profile = profile
        self.key = key
        self.uid_map: dict[str, str] = {}
        self.replace = dict(profile.replace)
        self.safe = {(c.upper(), g, e) for c, g, e in profile.safe_private}
        self.changes: list[Change] = []
        self.file = ""

    # UIDs: the same original always gives the same replacement within this call
    # (and across calls with the same key), so references between instances still
    # resolve. A keyed hash, not a plain one: anybody could otherwise recompute the
    # mapping from a known original UID.
    def new_uid(self, old: str) -> str:
        from pydicom.uid import UID_dictionary

        if old in UID_dictionary:  # a registered (well-known) UID identifies nobody
            return old
        if old not in self.uid_map:
            digest = hashlib.sha256(f"{self.key}\0{old}".encode()).digest()
            self.uid_map[old] = f"2.25.{uuid.UUID(bytes=digest[:16], version=4).int}"
        return self.uid_map[old]

    def record(self, path: str, keyword: str, action: str, old: Any, new: Any) -> None:
        self.changes.append(Change(self.file, path, keyword, action, _text(old), _text(new)))

    def apply(self, ds: Dataset, prefix: str = "") -> None:
        from pydicom.datadict import keyword_for_tag

        # Private creators first (PS3.5 7.8.1): (gggg,00xx) names the owner of (gggg,xx00-xxFF),
        # and the creator element is removed before the block is walked.
        creators = {
            (e.tag.group, e.tag.element): str(e.value)
            for e in ds
            if e.tag.is_private and 0x0010 <= e.tag.element <= 0x00FF
        }
        for elem in list(ds):  # list(): we delete while walking
            tag = elem.tag
            path = f"{prefix}({tag.group:04X},{tag.element:04X})"
            if tag.is_private:
                self._private(ds, elem, path, creators)
                continue
            keyword = elem.keyword or keyword_for_tag(tag)
            action = self._action(tag, keyword)
            if action is None:
                if elem.VR == "SQ":
                    self._walk_items(elem, path)
                continue
            self._do(ds, elem, path, keyword, action)

    def _action(self, tag: Any, keyword: str) -> str | None:
        group = tag.group
        if 0x6000 <= group <= 0x60FF and tag.element in (0x3000, 0x4000):
            return "X"  # Overlay Data, Overlay Comments (60xx,3000/4000)
        if 0x5000 <= group <= 0x50FF:
            return "X"  # Curve Data (50xx,xxxx), retired
        action = BASIC_PROFILE.get(keyword)
        if action is None:
            return None
        if self.profile.retain_patient_characteristics and keyword in PATIENT_CHARACTERISTICS:
            return "K"
        if self.profile.retain_uids and action == "U":
            return "K"
        return action

    def _walk_items(self, elem: DataElement, path: str) -> None:
        for i, item in enumerate(elem.value):
            self.apply(item, f"{path}[{i}]")

    def _do(self, ds: Dataset, elem: DataElement, path: str, keyword: str, action: str) -> None:
        vr = elem.VR
        shift = self.profile.date_shift_days
        if (
            shift is not None
            and vr in ("DA", "DT")
            and keyword != "PatientBirthDate"
            and action != "K"
        ):
            old = elem.value
            if old not in (None, ""):
                elem.value = _shift(str(old), vr, shift)
                self.record(path, keyword, "shift", old, elem.value)
            return
        if shift is not None and vr == "TM" and action != "K":
            return  # times are kept when dates are shifted (E.3.6)
        if action == "K":
            if vr == "SQ":
                self._walk_items(elem, path)
            return
        single = resolve(action, keyword)
        if action == "X/Z/U*" and single != "X":
            single = "U"
        old = elem.value
        if single == "X":
            del ds[elem.tag]
            self.record(path, keyword, "X", old if vr != "SQ" else f"<{len(old)} item(s)>", "")
        elif single == "U":
            if vr == "UI":
                new = self._uids(old)
                if new != old:
                    elem.value = new
                    self.record(path, keyword, "U", old, new)
            elif vr == "SQ":
                self._walk_items(elem, path)  # UIDs inside are replaced by their own rows
        elif single == "Z" or (single == "D" and keyword in self.replace):
            new = self.replace.get(keyword, None if vr == "SQ" else "")
            if vr == "SQ":
                elem.value = []
                self.record(path, keyword, "Z", f"<{len(old)} item(s)>", "<empty>")
            elif str(old or "") != str(new):
                elem.value = new
                self.record(path, keyword, "Z" if keyword not in self.replace else "D", old, new)
        elif single == "D":
            if vr == "SQ":
                self._walk_items(elem, path)
                return
            new = _dummy(vr, self, old)
            if _text(old) != _text(new):
                elem.value = new
                self.record(path, keyword, "D", old, new)
        elif single == "C":  # clean: medlab has no cleaner for free text, so it removes
            del ds[elem.tag]
            self.record(path, keyword, "X", old, "")

    def _uids(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)) or (
            hasattr(value, "__iter__") and not isinstance(value, str)
        ):
            return [self.new_uid(str(v)) for v in value]
        return self.new_uid(str(value)) if value else value

    def _private(
        self, ds: Dataset, elem: DataElement, path: str, creators: dict[tuple[int, int], str]
    ) -> None:
        tag = elem.tag
        if tag.element <= 0x00FF and tag.element >= 0x0010:  # a private creator
            if self.profile.retain_safe_private and self._creator_kept(ds, tag, elem.value):
                return
            del ds[tag]
            self.record(path, "Private Creator", "X (private)", elem.value, "")
            return
        creator = creators.get((tag.group, tag.element >> 8), "(no private creator)")
        key = (str(creator).upper(), tag.group, tag.element & 0xFF)
        if self.profile.retain_safe_private and key in self.safe:
            return
        value = elem.value if elem.VR != "SQ" else f"<{len(elem.value)} item(s)>"
        del ds[tag]
        self.record(path, f"private {creator}", "X (private)", value, "")

    def _creator_kept(self, ds: Dataset, tag: Any, creator: Any) -> bool:
        block = tag.element
        wanted = [(g, e) for c, g, e in self.safe if c == str(creator).upper() and g == tag.group]
        return any(ds.get((tag.group << 16) | (block << 8) | e) is not None for _, e in wanted)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").rstrip("\x00 ")
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def _dummy(vr: str, engine: _Deidentifier, old: Any) -> Any:
    if vr == "UI":
        return engine._uids(old)
    if vr in _DUMMY_TEXT:
        return _DUMMY_TEXT[vr]
    if vr in ("US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"):
        return 0
    if vr in ("OB", "OW", "UN", "OD", "OF", "OL", "OV"):
        return b"\x00\x00"
    return "ANONYMIZED"


def _shift(value: str, vr: str, days: int) -> str:
    """Shift a DA (YYYYMMDD) or the date part of a DT by ``days``; keep what follows."""
    try:
        date = _dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except (ValueError, IndexError):
        return "" if vr == "DA" else value
    return (date + _dt.timedelta(days=days)).strftime("%Y%m%d") + value[8:]


def _record_method(ds: Dataset, profile: Profile) -> None:
    """Write what was done into the object (PS3.3 C.7.1.1 Patient Identification / C.12.1)."""
    from pydicom.dataset import Dataset

    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = profile.method_text()
    codes = []
    for name in ["basic", *profile.options()]:
        value, meaning = METHOD_CODES[name]
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        codes.append(item)
    ds.DeidentificationMethodCodeSequence = codes
    if "PixelData" in ds or "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        # Longitudinal Temporal Information Modified (0028,0303), General Image module
        ds.LongitudinalTemporalInformationModified = (
            "MODIFIED" if profile.date_shift_days is not None else "REMOVED"
        )


# --------------------------------------------------------------------------- public
def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name != "DICOMDIR" and not p.name.startswith(".")
    )


_DEID_FIX = (
    "pydicom cannot decode part of it, so it cannot be de-identified safely; look at it "
    "with medlab.dicom.hexview(), and leave it out or fix it."
)


def _deidentify_file(
    name: str, source: Any, prof: Profile, engine: _Deidentifier
) -> tuple[Dataset, Dataset, list[Change]]:
    """Read (a path) and de-identify one data set; any failure is one MedlabError."""
    from medlab.dicom._read import explain, read

    try:
        ds = read(source)  # the byte-level scan first: a cut file is named, not half-read
        new, changes = deidentify_dataset(ds, prof, _engine=engine, name=name)
    except MedlabError:
        raise
    except Exception as exc:  # noqa: BLE001 - pydicom's errors, worded for the trainee
        raise explain(exc, action="de-identify this file", where=name, fix=_DEID_FIX) from None
    return ds, new, changes


def _save(new: Dataset, target: Path, name: str) -> None:
    """Write atomically (a temporary file renamed): a failed write leaves no half file."""
    import os
    import tempfile

    from medlab.dicom._read import explain

    paths.private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=".deid-", suffix=".dcm", dir=target.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            new.save_as(fh, enforce_file_format=True)
        os.replace(tmp, target)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, MedlabError):
            raise
        raise explain(
            exc, action="write the de-identified copy", where=name, fix=_DEID_FIX
        ) from None


def deidentify_dataset(
    ds: Dataset,
    profile: str | Profile | None = "basic",
    *,
    key: str | None = None,
    _engine: _Deidentifier | None = None,
    name: str = "dataset",
) -> tuple[Dataset, list[Change]]:
    """De-identify a copy of ``ds``; return the copy and the changes made."""
    import copy

    engine = _engine or _Deidentifier(_profile(profile), key or secrets.token_hex(16))
    engine.file = name
    start = len(engine.changes)
    out = copy.deepcopy(ds)
    engine.apply(out)
    meta = getattr(out, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta and "SOPInstanceUID" in out:
        meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
        meta.pop("SourceApplicationEntityTitle", None)  # the sender's AE title (PS3.10 7.1)
    for keyword in ("PatientName", "PatientID"):  # a dummy asked for, but the element was absent
        if keyword in engine.replace and keyword not in out:
            setattr(out, keyword, engine.replace[keyword])
    _record_method(out, engine.profile)
    return out, engine.changes[start:]


@dataset_errors(
    "de-identify this data set",
    "pydicom cannot decode part of it, so it cannot be de-identified safely; look at it with medlab.dicom.hexview().",
)
def deidentify(
    ds_or_folder: Dataset | str | Path,
    out: str | Path | None = None,
    profile: str | Profile | None = "basic",
    *,
    key: str | None = None,
) -> DeidReport:
    """De-identify a data set, a file or a folder of files with the PS3.15 Basic Profile.

    Parameters
    ----------
    ds_or_folder:
        A pydicom Dataset, a DICOM file or a folder (searched recursively).
    out:
        Where to write: a folder. Files are named ``STUDY01/SERIES01/IM0001.dcm``
        by order of appearance, because original names and folders may carry
        identity too. ``None`` for a Dataset input: nothing is written, the copy
        is in ``report.dataset``.
    profile:
        ``"basic"`` or a :class:`Profile` with options (PS3.15 E.3).
    key:
        Secret that keys the UID replacement: the same key gives the same new
        UIDs (use one per project to link later exports); without it a random
        key is used and the mapping cannot be recomputed.

    Returns
    -------
    DeidReport
        Every attribute changed (with the original value: keep it private),
        the files written, and the images whose pixels may carry burned-in text.
    """
    from pydicom.dataset import Dataset

    prof = _profile(profile)
    engine = _Deidentifier(prof, key or secrets.token_hex(16))
    report = DeidReport(prof, out=Path(out) if out is not None else None)
    # A folder goes on past a file it cannot de-identify (listed in report.skipped, with
    # why); a single data set or file raises that MedlabError instead.
    in_folder = False
    if isinstance(ds_or_folder, Dataset):
        sources: list[tuple[str, Any]] = [("dataset", ds_or_folder)]
    else:
        source = Path(ds_or_folder)
        if source.is_dir():
            in_folder = True
            sources = [(p.relative_to(source).as_posix(), p) for p in _files(source)]
            if not sources:
                raise MedlabError(
                    "No files to de-identify in this folder",
                    where=str(source),
                    fix="Check the path (it should hold DICOM files, at any depth).",
                )
        elif source.is_file():
            sources = [(source.name, source)]
        else:
            raise MedlabError(
                "No such file or folder",
                where=str(source),
                fix="Check the path, e.g. medlab.data.study('deid_private').",
            )
    studies: dict[str, int] = {}
    series: dict[str, tuple[int, int]] = {}
    counters: dict[str, int] = {}
    for name, item in sources:  # one file in memory at a time
        try:
            ds, new, changes = _deidentify_file(name, item, prof, engine)
            burned_in = _needs_pixel_check(ds)
            study_uid = str(ds.get("StudyInstanceUID", ""))
            series_key = str(ds.get("SeriesInstanceUID", ""))
            if out is not None:
                study = studies.get(study_uid, len(studies) + 1)
                if series_key in series:
                    s_no, se_no = series[series_key]
                else:
                    s_no = study
                    se_no = sum(1 for s, _ in series.values() if s == study) + 1
                folder = f"STUDY{s_no:02d}/SERIES{se_no:02d}"
                target = Path(out) / folder / f"IM{counters.get(folder, 0) + 1:04d}.dcm"
                _save(new, target, name)
                # numbered only once written: a skipped file leaves no gap
                studies.setdefault(study_uid, study)
                series.setdefault(series_key, (s_no, se_no))
                counters[folder] = counters.get(folder, 0) + 1
                report.written.append(target)
            else:
                report.datasets.append(new)
        except MedlabError as err:
            if not in_folder:
                raise
            report.skipped.append((name, err.what))
            continue
        if burned_in:
            report.burned_in.append(name)
        report.changes.extend(changes)
    return report


def _needs_pixel_check(ds: Dataset) -> bool:
    """True for an image whose Burned In Annotation (0028,0301) is YES or absent (unknown)."""
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        return False
    return str(ds.get("BurnedInAnnotation", "")).upper() != "NO"
