"""QIDO-RS, the Search transaction (PS3.18 §10.6), over the PACS index.

A QIDO-RS request is turned into the same C-FIND identifier a DIMSE peer
would send, and :func:`medlab.net.query.find` does the matching: one home for
the matching rules (wildcards, date/time ranges, lists of UIDs, PN without
case), so the web and DIMSE sides can never disagree.

What this module adds is the web's part of PS3.18 §8.3.4:

* query parameters — ``{attribute}={value}`` with a keyword or an 8-digit tag,
  ``includefield`` (a list, or ``all``), ``limit``/``offset``,
  ``fuzzymatching`` — checked before anything runs, so that a bad request is
  a 400 with a reason, never a 500 (the query string is percent-decoded by
  tornado before it gets here: ``PatientName=DOE%2A`` is ``DOE*``);
* the attributes each level must return (Tables 10.6.3-3, -4 and -5), with
  Retrieve URL and Instance Availability; the counts of the levels above come
  from a query at their own level;
* attributes the index does not hold (Rows, Columns…) read from the header of
  one instance per result (cached), never from the pixels.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from medlab.net.query import COMPUTED, KEYS, UNIQUE_KEY, QueryError, find
from medlab.net.store import INDEX_COLUMNS, Store, is_valid_uid

if TYPE_CHECKING:
    from pydicom import Dataset

_RANK = {"STUDY": 1, "SERIES": 2, "IMAGE": 3}

#: Table 10.6.3-3 "Study Resource Search Response Payload" (PS3.18 2024).
STUDY_RETURN = (
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "InstanceAvailability",
    "ModalitiesInStudy",
    "ReferringPhysicianName",
    "RetrieveURL",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyID",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)
#: Table 10.6.3-4 "Series Resources Search Response Payload".
SERIES_RETURN = (
    "Modality",
    "SeriesDescription",
    "RetrieveURL",
    "SeriesInstanceUID",
    "SeriesNumber",
    "NumberOfSeriesRelatedInstances",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "RequestAttributesSequence",
)
#: Table 10.6.3-5 "Instance Resources Search Response Payload".
INSTANCE_RETURN = (
    "SOPClassUID",
    "SOPInstanceUID",
    "InstanceAvailability",
    "RetrieveURL",
    "InstanceNumber",
    "Rows",
    "Columns",
    "BitsAllocated",
    "NumberOfFrames",
)
_RETURN = {"STUDY": STUDY_RETURN, "SERIES": SERIES_RETURN, "IMAGE": INSTANCE_RETURN}

#: Attributes read from an instance's header when asked for (not in the index),
#: with the level they describe. ``includefield=all`` adds them all.
FILE_BACKED: dict[str, str] = {
    "PatientAge": "STUDY",
    "StudyDescription": "STUDY",  # also indexed; listed for includefield=all
    "BodyPartExamined": "SERIES",
    "SeriesDate": "SERIES",
    "SeriesTime": "SERIES",
    "PerformedProcedureStepStartDate": "SERIES",
    "PerformedProcedureStepStartTime": "SERIES",
    "RequestAttributesSequence": "SERIES",
    "ProtocolName": "SERIES",
    "Rows": "IMAGE",
    "Columns": "IMAGE",
    "BitsAllocated": "IMAGE",
    "NumberOfFrames": "IMAGE",
    "ContentDate": "IMAGE",
    "ContentTime": "IMAGE",
    "ImageType": "IMAGE",
}
_GENERATED = {"RetrieveURL", "InstanceAvailability"}
_PARAMS = {"includefield", "limit", "offset", "fuzzymatching"}
_TRUE_FALSE = {"true", "false"}
#: Jupyter's own authentication parameters (its login ``token``, tornado's ``_xsrf``), which
#: jupyter-server-proxy passes on with the rest of the query string: not QIDO keys, ignored.
JUPYTER_AUTH_PARAMS = frozenset({"token", "_xsrf"})


class BadQuery(Exception):
    """A QIDO-RS request that cannot be processed: answered 400 with this reason."""


@dataclass
class Search:
    """A parsed QIDO-RS request."""

    level: str  # STUDY, SERIES or IMAGE
    keys: dict[str, str] = field(default_factory=dict)  # keyword -> C-FIND value
    include: list[str] = field(default_factory=list)
    include_all: bool = False
    limit: int | None = None
    offset: int = 0
    warnings: list[str] = field(default_factory=list)
    fixed: dict[str, str] = field(default_factory=dict)  # UIDs from the path


def _keyword(attribute: str) -> str:
    """A keyword or an 8-digit hex tag → the keyword, or BadQuery."""
    from pydicom.datadict import dictionary_keyword, keyword_for_tag, tag_for_keyword

    if "." in attribute:
        raise BadQuery(f"{attribute!r}: matching inside sequences is not supported by this archive")
    if re.fullmatch(r"[0-9A-Fa-f]{8}", attribute):
        keyword = keyword_for_tag(int(attribute, 16))
        if not keyword:
            raise BadQuery(f"{attribute!r} is not a tag of the DICOM dictionary (PS3.6)")
        return dictionary_keyword(int(attribute, 16))
    if tag_for_keyword(attribute) is None:
        raise BadQuery(
            f"{attribute!r} is neither a DICOM keyword nor an 8-digit tag (PS3.18 §8.3.4.1)"
        )
    return attribute


def _uint(name: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", value):
        raise BadQuery(f"{name}={value!r}: an unsigned integer is required (PS3.18 §8.3.4.4)")
    return int(value)


_DA = re.compile(r"[0-9]{8}")
_TM = re.compile(r"[0-9]{2}(:?[0-9]{2}(:?[0-9]{2}(\.[0-9]{1,6})?)?)?")
_DT = re.compile(r"[0-9]{4}([0-9]{2}([0-9]{2}([0-9]{2}([0-9]{2}([0-9]{2}(\.[0-9]{1,6})?)?)?)?)?)?")


def _check_date(text: str) -> None:
    if not _DA.fullmatch(text):
        raise ValueError
    datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _check_time(text: str) -> None:
    if not _TM.fullmatch(text):
        raise ValueError
    digits = text.replace(":", "").split(".")[0]
    if int(digits[:2]) > 23 or (len(digits) >= 4 and int(digits[2:4]) > 59):
        raise ValueError
    if len(digits) >= 6 and int(digits[4:6]) > 60:
        raise ValueError


def _check_value(keyword: str, vr: str, value: str) -> str:
    """Check one matching value for its VR; return it in C-FIND form (UID list with ``\\``)."""
    if value in ("", "*"):
        return value
    if vr == "UI":
        uids = [u for u in re.split(r"[,\\]", value)]
        bad = [u for u in uids if not is_valid_uid(u)]
        if bad:
            raise BadQuery(f"{keyword}={bad[0]!r} is not a valid UID (PS3.5 §9.1)")
        return "\\".join(uids)
    if vr in {"DA", "TM", "DT"}:
        check = {"DA": _check_date, "TM": _check_time, "DT": lambda t: _DT.fullmatch(t) or 1 / 0}[
            vr
        ]
        low, dash, high = value.partition("-")
        try:
            if dash and not (low or high):
                raise ValueError
            for part in (low, high) if dash else (value,):
                if part:
                    check(part)
        except (ValueError, ZeroDivisionError):
            form = {"DA": "YYYYMMDD", "TM": "HHMMSS", "DT": "YYYYMMDDHHMMSS"}[vr]
            raise BadQuery(
                f"{keyword}={value!r}: expected {form} or a range {form}-{form} (PS3.4 C.2.2.2.5)"
            ) from None
        if dash and low and high and low > high and vr != "TM":
            raise BadQuery(f"{keyword}={value!r}: the range ends before it starts")
        return value
    if vr == "IS" and not re.fullmatch(r"[+-]?[0-9]{1,12}", value):
        raise BadQuery(f"{keyword}={value!r}: an integer is required")
    return value


def parse(level: str, args: dict[str, list[str]], fixed: dict[str, str]) -> Search:
    """Check and parse the query parameters of a search at ``level``.

    ``args`` maps each parameter name to its (already percent-decoded) values;
    ``fixed`` holds the UIDs taken from the path (``/studies/{uid}/series``).
    Raises :class:`BadQuery` with the reason for a 400.
    """
    search = Search(level, fixed=dict(fixed))
    rank = _RANK[level]
    for name, values in args.items():
        if name in JUPYTER_AUTH_PARAMS:
            continue
        if name == "includefield":
            for value in values:
                for item in filter(None, (v.strip() for v in value.split(","))):
                    if item.lower() == "all":
                        search.include_all = True
                    else:
                        search.include.append(_keyword(item))
            continue
        if len(values) != 1 and not (
            name not in _PARAMS and KEYS.get(_keyword(name), ("", ""))[1] == "UI"
        ):
            raise BadQuery(f"{name} is given {len(values)} times; give it once")
        value = ",".join(values)  # a repeated UID key is a list of UIDs
        if name in ("limit", "offset"):
            setattr(search, name, _uint(name, value))
        elif name in ("fuzzymatching", "emptyvaluematching", "multiplevaluematching"):
            if value.lower() not in _TRUE_FALSE:
                raise BadQuery(f"{name}={value!r}: true or false (PS3.18 §8.3.4)")
            if value.lower() == "true":
                search.warnings.append(
                    f"The {name} parameter is not supported. Only literal matching has been "
                    "performed."
                )
        else:
            keyword = _keyword(name)
            spec = KEYS.get(keyword)
            if spec is None or keyword in COMPUTED and keyword != "ModalitiesInStudy":
                raise BadQuery(
                    f"{keyword} is not supported as a matching key by this archive; supported: "
                    + ", ".join(k for k in KEYS if k not in COMPUTED or k == "ModalitiesInStudy")
                )
            key_level = "STUDY" if spec[0] == "PATIENT" else spec[0]
            if _RANK[key_level] > rank:
                raise BadQuery(
                    f"{keyword} is a {key_level.lower()}-level attribute: it cannot match at the "
                    f"{level.lower().replace('image', 'instance')} level"
                    + ("; use ModalitiesInStudy" if keyword == "Modality" else "")
                )
            if keyword in search.fixed:
                raise BadQuery(f"{keyword} is already given in the path")
            search.keys[keyword] = _check_value(keyword, spec[1], value)
    return search


@lru_cache(maxsize=20_000)
def _header(path: str, mtime_ns: int, keywords: tuple[str, ...]) -> Dataset:
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(keywords))
    return ds


def _from_file(store: Store, rel_path: str, keywords: Iterable[str]) -> Dataset:
    path = store.root / rel_path
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        from pydicom import Dataset

        return Dataset()
    return _header(str(path), mtime, tuple(sorted(set(keywords)) + ["SpecificCharacterSet"]))


def run(store: Store, search: Search, base_url: str) -> tuple[list[dict[str, Any]], int]:
    """Run a parsed search: ``(results as DICOM JSON, number of matches before paging)``."""
    from pydicom import Dataset

    level = search.level
    rank = _RANK[level]
    wanted = list(_RETURN[level])
    if level == "SERIES" and "StudyInstanceUID" not in search.fixed:
        wanted += STUDY_RETURN  # All Series: the study attributes too (§10.6.3.3.2)
    if level == "IMAGE":
        if "StudyInstanceUID" not in search.fixed:
            wanted += STUDY_RETURN
        if "SeriesInstanceUID" not in search.fixed:
            wanted += SERIES_RETURN
    if search.include_all:
        wanted += [k for k, (lvl, _vr) in KEYS.items() if _level(lvl) <= rank]
        wanted += [k for k, lvl in FILE_BACKED.items() if _RANK[lvl] <= rank]
    for keyword in search.include:
        lvl = KEYS[keyword][0] if keyword in KEYS else FILE_BACKED.get(keyword, level)
        if _level(lvl) <= rank:  # lower-level includefields are not returned (§10.6.3.3.2)
            wanted.append(keyword)
    wanted += list(search.keys)
    wanted = list(dict.fromkeys(k for k in wanted if k != "SpecificCharacterSet"))

    unique = UNIQUE_KEY[level]
    ident = Dataset()
    ident.QueryRetrieveLevel = level
    direct, upper, from_file = [], [], []
    for keyword in wanted:
        if keyword in _GENERATED:
            continue
        if keyword in KEYS:
            if keyword in COMPUTED and _level(KEYS[keyword][0]) < rank:
                upper.append(keyword)  # e.g. NumberOfStudyRelatedSeries at SERIES level
            else:
                direct.append(keyword)
        else:
            from_file.append(keyword)
    for keyword in dict.fromkeys([unique, "StudyInstanceUID", *direct]):
        if _level(KEYS[keyword][0]) <= rank:
            setattr(ident, keyword, "")
    for keyword, value in {**search.keys, **search.fixed}.items():
        setattr(ident, keyword, value)
    if level != "STUDY":
        ident.SeriesInstanceUID = search.fixed.get("SeriesInstanceUID") or search.keys.get(
            "SeriesInstanceUID", ""
        )
    try:
        matches = list(find(store, "STUDY", ident))
    except QueryError as err:
        raise BadQuery(err.comment) from None
    total = len(matches)
    page = matches[search.offset :]
    if search.limit is not None:
        page = page[: search.limit]
    datasets = [m.identifier for m in page]

    for keyword in upper:
        _fill_from_level(store, datasets, keyword)
    if from_file and datasets:
        _fill_from_files(store, datasets, level, from_file)

    keep = {*wanted, unique, "StudyInstanceUID"}
    if level == "IMAGE":
        keep.add("SeriesInstanceUID")
    results = []
    for ds in datasets:
        for keyword in ("QueryRetrieveLevel", "SpecificCharacterSet"):
            if keyword in ds:
                del ds[keyword]
        if "InstanceAvailability" in wanted:
            ds.InstanceAvailability = "ONLINE"
        if "RetrieveURL" in wanted:
            ds.RetrieveURL = _retrieve_url(base_url, ds, level)
        for tag in list(ds.keys()):
            if ds[tag].keyword not in keep:
                del ds[tag]
        results.append(ds.to_json_dict())
    return results, total


def _level(level: str) -> int:
    return _RANK.get("STUDY" if level == "PATIENT" else level, 0)


def _retrieve_url(base: str, ds: Dataset, level: str) -> str:
    url = f"{base}/studies/{ds.StudyInstanceUID}"
    if level in ("SERIES", "IMAGE"):
        url += f"/series/{ds.SeriesInstanceUID}"
    if level == "IMAGE":
        url += f"/instances/{ds.SOPInstanceUID}"
    return url


def _fill_from_level(store: Store, datasets: list[Dataset], keyword: str) -> None:
    """Set a count/ModalitiesInStudy of a higher level from a query at that level."""
    from pydicom import Dataset

    level = "STUDY" if KEYS[keyword][0] in ("PATIENT", "STUDY") else "SERIES"
    unique = UNIQUE_KEY[level]
    uids = sorted({str(ds.get(unique, "")) for ds in datasets} - {""})
    values: dict[str, Any] = {}
    for chunk in _chunks(uids, 500):
        ident = Dataset()
        ident.QueryRetrieveLevel = level
        setattr(ident, unique, "\\".join(chunk))
        setattr(ident, keyword, "")
        if level == "SERIES":
            ident.StudyInstanceUID = ""
        for match in find(store, "STUDY", ident):
            values[str(match.identifier.get(unique))] = match.identifier[keyword].value
    for ds in datasets:
        setattr(ds, keyword, values.get(str(ds.get(unique, "")), ""))


def _fill_from_files(
    store: Store, datasets: list[Dataset], level: str, keywords: list[str]
) -> None:
    """Attributes the index lacks, from the header of one instance of each result."""
    unique = UNIQUE_KEY[level]
    column = INDEX_COLUMNS[unique]
    uids = [str(ds.get(unique, "")) for ds in datasets]
    paths: dict[str, str] = {}
    for chunk in _chunks(sorted(set(uids)), 500):
        rows = store.query(
            f"SELECT {column}, MIN(path) FROM instances WHERE {column} IN "
            f"({', '.join('?' * len(chunk))}) GROUP BY {column}",
            chunk,
        )
        paths.update(dict(rows))
    for ds, uid in zip(datasets, uids, strict=True):
        rel = paths.get(uid)
        header = _from_file(store, rel, keywords) if rel else None
        for keyword in keywords:  # absent from the file: not known, so not returned
            if header is not None and keyword in header:
                ds[keyword] = header[keyword]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def search(
    store: Store,
    level: str,
    args: dict[str, list[str]],
    fixed: dict[str, str],
    base_url: str,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse and run one QIDO-RS request: ``(results, Warning texts)``."""
    parsed = parse(level, args, fixed)
    results, total = run(store, parsed, base_url)
    warnings = list(parsed.warnings)
    remaining = total - parsed.offset - len(results)
    if remaining > 0:
        warnings.append(f"There are {remaining} additional results that can be requested")
    return results, warnings
