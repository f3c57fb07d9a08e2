"""A census of a folder of DICOM files: one row per instance, quality checks, plots.

Looking across many files answers questions no single header does: how many
studies of each modality, which series mix photometric interpretations or
pixel spacings, which SOP Instance UIDs appear twice, which vendors left
private data behind, which studies disagree about their patient.

:func:`census` reads the headers only (``stop_before_pixels=True``: the pixel
data, by far the largest element, is never read) and touches only the
attributes it reports, so pydicom decodes little more than it parsed. A
progress bar appears for large folders.

:func:`qa` runs the checks on the resulting DataFrame; :func:`plot_census`
draws what a trainee wants to see first.
"""

from __future__ import annotations

import html
import io
import os
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError

if TYPE_CHECKING:
    import pandas as pd

#: The attributes of a census row by default (keywords). All are in the headers
#: of the image IODs (PS3.3 A.3 CT, A.4 MR, A.2 CR and their modules).
DEFAULT_ATTRIBUTES: tuple[str, ...] = (
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "SeriesInstanceUID",
    "SeriesNumber",
    "Modality",
    "SOPClassUID",
    "SOPInstanceUID",
    "InstanceNumber",
    "AcquisitionDate",
    "AcquisitionTime",
    "Rows",
    "Columns",
    "PhotometricInterpretation",
    "PixelSpacing",
    "SliceThickness",
    "KVP",
    "CTDIvol",
    "Manufacturer",
    "BurnedInAnnotation",
)

#: Type 1 attributes (required, non-empty) of every image instance: SOP Common
#: (PS3.3 C.12.1), General Study/Series (C.7.2.1, C.7.3.1) and Image Pixel
#: (C.7.6.3) modules. Modality-specific Type 1 attributes are added by modality.
TYPE1_COMMON: tuple[str, ...] = (
    "SOPClassUID",
    "SOPInstanceUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
)
TYPE1_BY_MODALITY: dict[str, tuple[str, ...]] = {
    "CT": ("ImageType", "RescaleIntercept", "RescaleSlope"),  # CT Image module C.8.2.1
    "MR": ("ImageType", "ScanningSequence", "SequenceVariant"),  # MR Image module C.8.3.1
}


def _files(folder: Path) -> list[Path]:
    out = []
    for root, _dirs, names in os.walk(folder):
        for name in names:
            if name == "DICOMDIR" or name.startswith("."):
                continue
            out.append(Path(root) / name)
    out.sort()
    return out


class _Progress:
    """A minimal progress bar: an ipywidgets bar in a notebook, ``\\r`` text in a terminal."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.step = total, label, max(1, total // 100)
        self.widget = None
        try:
            from IPython import get_ipython

            if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
                import ipywidgets as w
                from IPython.display import display

                self.widget = w.IntProgress(value=0, max=total, description=label)
                display(self.widget)
        except Exception:  # noqa: BLE001 - no notebook: fall back to text
            self.widget = None

    def update(self, n: int) -> None:
        if n % self.step and n != self.total:
            return
        if self.widget is not None:
            self.widget.value = n
        else:
            sys.stderr.write(f"\r{self.label} {n}/{self.total}")
            if n == self.total:
                sys.stderr.write("\n")

    def close(self) -> None:
        if self.widget is not None:
            self.widget.close()


def census(
    folder: str | Path | Iterable[str | Path],
    attributes: Sequence[str] = DEFAULT_ATTRIBUTES,
    *,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per DICOM instance under ``folder``, with the chosen attributes.

    Parameters
    ----------
    folder:
        A folder (searched recursively) or an iterable of file paths.
    attributes:
        Keywords to report; multi-valued ones (Pixel Spacing) become tuples.
    progress:
        Show a progress bar; by default only for more than 2,000 files.

    Columns besides the attributes: ``path`` (relative to ``folder``),
    ``private_creators`` (``"gggg:creator"`` strings), ``missing_type1`` (Type 1
    attributes absent or empty, see :data:`TYPE1_COMMON`) and ``has_pixels``.
    Files that are not DICOM (or whose header pydicom cannot decode) are
    skipped: their paths are in ``df.attrs["skipped"]`` and why, per path, in
    ``df.attrs["skipped_reasons"]``.
    """
    import pandas as pd

    if isinstance(folder, (str, Path)):
        base = Path(folder)
        if not base.is_dir():
            raise MedlabError(
                "No such folder",
                where=str(base),
                fix="Give a folder of DICOM files, e.g. medlab.data.study('ct_phantom').",
            )
        paths = _files(base)
    else:
        paths = [Path(p) for p in folder]
        base = None
    wanted = list(attributes)
    bar = (
        _Progress(len(paths), "census")
        if (progress or (progress is None and len(paths) > 2000))
        else None
    )
    with warnings.catch_warnings():  # odd values in real files: the census reports, not warns
        warnings.simplefilter("ignore")
        rows, reasons = _rows(paths, base, wanted, bar)
    if bar:
        bar.close()
    columns = ["path", *wanted, "private_creators", "missing_type1", "has_pixels"]
    df = pd.DataFrame(rows, columns=columns)
    df.attrs["skipped"] = list(reasons)
    df.attrs["skipped_reasons"] = reasons
    return df


def _rows(
    paths: list[Path], base: Path | None, wanted: list[str], bar: _Progress | None
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Read each header and build its row from the *raw* elements.

    pydicom parses an element's header and keeps its value as bytes (a
    RawDataElement) until the element is used; converting values is what costs
    time, so the row decodes the bytes of the few elements it needs directly
    (text VRs, US/UL/SS/SL/FL/FD), and leaves anything unusual to pydicom.
    """
    from pydicom import dcmread
    from pydicom.datadict import dictionary_VR, tag_for_keyword
    from pydicom.errors import InvalidDicomError

    tags = []
    for keyword in wanted:
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise MedlabError(
                f"{keyword!r} is not a DICOM keyword",
                where="census(attributes=...)",
                fix="Use keywords as pydicom knows them, e.g. 'PatientID', 'KVP'.",
            )
        tags.append((keyword, tag, dictionary_VR(tag)))
    required = {
        m: [tag_for_keyword(k) for k in TYPE1_COMMON + extra]
        for m, extra in [("", ()), *TYPE1_BY_MODALITY.items()]
    }
    names = {
        t: k
        for k in {*TYPE1_COMMON, *(k for v in TYPE1_BY_MODALITY.values() for k in v)}
        for t in [tag_for_keyword(k)]
    }
    pixel_module = {tag_for_keyword(k) for k in TYPE1_COMMON[5:]}
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for n, path in enumerate(paths, 1):
        try:
            rows.append(_row(path, base, tags, required, names, pixel_module, dcmread))
        except InvalidDicomError:
            skipped[str(path)] = "not a DICOM file"
        except OSError as exc:
            skipped[str(path)] = f"cannot be read ({exc.strerror or exc})"
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop a census
            from medlab.dicom._read import explain

            skipped[str(path)] = explain(exc, action="read its header", where="", fix="").what
        if bar:
            bar.update(n)
    return rows, skipped


def _row(
    path: Path,
    base: Path | None,
    tags: list[tuple[str, int, str]],
    required: dict[str, list[int]],
    names: dict[int, str],
    pixel_module: set[int],
    dcmread: Any,
) -> dict[str, Any]:
    """One file's census row (raises what pydicom raises on a bad file)."""
    # A small file is read in one go and parsed from memory: pydicom asks its file
    # object for its position at every element, and a BytesIO answers faster.
    source: Any = path
    if path.stat().st_size <= _IN_MEMORY:
        source = io.BytesIO(path.read_bytes())
    ds = dcmread(source, stop_before_pixels=True)
    raw = ds._dict
    codec = _codec(raw.get(0x00080005))
    row: dict[str, Any] = {"path": path.relative_to(base).as_posix() if base else str(path)}
    for keyword, tag, vr in tags:
        row[keyword] = _fast_value(ds, raw.get(tag), tag, vr, codec)
    # Private creators (gggg,0010-00FF): their tags alone say where they are.
    row["private_creators"] = tuple(
        f"{tag >> 16:04X}:{_fast_value(ds, elem, tag, 'LO', codec)}"
        for tag, elem in raw.items()
        if (tag >> 16) & 1 and 0x10 <= (tag & 0xFFFF) <= 0xFF
    )
    modality = _fast_value(ds, raw.get(0x00080060), 0x00080060, "CS", "latin-1") or ""
    image = 0x00280010 in raw  # Rows (0028,0010): the Image Pixel module is there
    row["has_pixels"] = image
    missing = []
    for tag in required.get(str(modality), required[""]):
        if not image and tag in pixel_module:
            continue
        elem = raw.get(tag)
        if elem is None or _is_empty(elem):
            missing.append(names[tag])
    row["missing_type1"] = tuple(missing)
    return row


#: Files up to this size are read into memory before parsing (see _rows).
_IN_MEMORY = 2 * 1024 * 1024

_TEXT_VRS = frozenset(
    {
        "AE",
        "AS",
        "CS",
        "DA",
        "DT",
        "LO",
        "LT",
        "PN",
        "SH",
        "ST",
        "TM",
        "UC",
        "UI",
        "UR",
        "UT",
        "DS",
        "IS",
    }
)
_BINARY = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d"}


def _codec(elem: Any) -> str | None:
    """The Python codec for text under this Specific Character Set (0008,0005), if it is simple.

    Default repertoire and Latin-1 decode as latin-1, ISO_IR 192 as UTF-8 (PS3.5 6.1);
    anything else (ISO 2022 code extensions...) is left to pydicom (None).
    """
    value = getattr(elem, "value", None) if elem is not None else None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str) and value is not None:
        value = "\\".join(str(v) for v in value)
    name = str(value or "").strip(" \x00")
    if name in ("", "ISO_IR 6", "ISO_IR 100"):
        return "latin-1"
    if name == "ISO_IR 192":
        return "utf-8"
    return None


def _is_empty(elem: Any) -> bool:
    value = elem.value
    if isinstance(value, bytes):
        if (getattr(elem, "VR", None) or _dictionary_vr(elem.tag)) in _BINARY:
            return len(value) == 0  # a binary 0 is a value
        return not value.strip(b" \x00")
    return value is None or value == "" or (hasattr(value, "__len__") and len(value) == 0)


def _dictionary_vr(tag: int) -> str:
    from pydicom.datadict import dictionary_VR

    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _fast_value(ds: Any, elem: Any, tag: int, vr: str, codec: str | None) -> Any:
    """The value of a (raw) element as str / int / float / tuple, decoding bytes directly."""
    import struct

    if elem is None:
        return None
    value = getattr(elem, "value", None)
    if not isinstance(value, bytes) or not getattr(elem, "is_little_endian", True):
        return _value(ds.get(tag).value if ds.get(tag) is not None else None)
    vr = getattr(elem, "VR", None) or vr
    if vr in _TEXT_VRS and (codec or vr not in ("PN", "LO", "SH", "LT", "ST", "UT", "UC")):
        text = value.decode(codec or "ascii", "replace").rstrip(" \x00")
        if vr in ("LT", "ST", "UT", "UR"):
            return text
        parts = [p.strip() for p in text.split("\\")]
        if vr == "DS":
            try:
                nums = [float(p) for p in parts if p]
            except ValueError:
                return text
            return nums[0] if len(nums) == 1 else (tuple(nums) if nums else None)
        if vr == "IS":
            try:
                ints = [int(float(p)) for p in parts if p]
            except ValueError:
                return text
            return ints[0] if len(ints) == 1 else (tuple(ints) if ints else None)
        if not text:
            return ""
        return parts[0] if len(parts) == 1 else tuple(parts)
    if vr in _BINARY and value:
        code = _BINARY[vr]
        count = len(value) // struct.calcsize(code)
        nums = struct.unpack(f"<{count}{code}", value[: count * struct.calcsize(code)])
        return nums[0] if count == 1 else tuple(nums)
    found = ds.get(tag)
    return _value(found.value if found is not None else None)


def _value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (str, int, float)):
        return str(value) if type(value).__name__ == "PersonName" else value
    if type(value).__name__ in ("MultiValue", "list", "tuple"):
        return tuple(_value(v) for v in value)
    name = type(value).__name__
    if name in ("DSfloat", "DSdecimal"):
        return float(value)
    if name == "IS":
        return int(value)
    return str(value)


# --------------------------------------------------------------------------- QA
@dataclass(frozen=True)
class Finding:
    """One QA problem: which check, the key (study, series, UID...), what is wrong."""

    check: str
    key: str
    detail: str


@dataclass
class QAReport:
    """The findings of :func:`qa`, grouped by check."""

    findings: list[Finding] = field(default_factory=list)
    instances: int = 0
    private: dict[str, int] = field(default_factory=dict)  # "gggg:creator" -> instances

    def by_check(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {name: [] for name in CHECKS}
        for f in self.findings:
            out.setdefault(f.check, []).append(f)
        return out

    def __len__(self) -> int:
        return len(self.findings)

    def __repr__(self) -> str:
        lines = [f"QA of {self.instances} instance(s): {len(self.findings)} finding(s)"]
        for check, found in self.by_check().items():
            lines.append(f"  {check}: {len(found)}")
            lines += [f"    {f.key}: {f.detail}" for f in found[:5]]
            if len(found) > 5:
                lines.append(f"    ... and {len(found) - 5} more")
        if self.private:
            lines.append(
                "  private creators: "
                + ", ".join(f"{k} ({n})" for k, n in sorted(self.private.items()))
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [
            f"<p>QA of <b>{self.instances}</b> instance(s): <b>{len(self.findings)}</b> finding(s)</p><ul>"
        ]
        for check, found in self.by_check().items():
            colour = "#a4262c" if found else "#1b7f3b"
            items = "".join(
                f"<li><code>{html.escape(f.key)}</code>: {html.escape(f.detail)}</li>"
                for f in found[:5]
            )
            more = f"<li>... and {len(found) - 5} more</li>" if len(found) > 5 else ""
            parts.append(
                f'<li><span style="color:{colour}">{html.escape(check)}: {len(found)}</span>'
                + (f"<ul>{items}{more}</ul>" if found else "")
                + "</li>"
            )
        parts.append("</ul>")
        if self.private:
            parts.append(
                "<p>Private creators: "
                + html.escape(", ".join(f"{k} ({n})" for k, n in sorted(self.private.items())))
                + "</p>"
            )
        return '<div class="medlab-qa">' + "".join(parts) + "</div>"


#: The checks :func:`qa` runs, in order.
CHECKS = (
    "missing Type 1",
    "mixed photometric interpretation in a series",
    "mixed pixel spacing in a series",
    "duplicate SOP Instance UID",
    "study with more than one patient",
)


def _short_uid(uid: Any) -> str:
    text = str(uid)
    return text if len(text) <= 24 else "..." + text[-20:]


def qa(df: pd.DataFrame) -> QAReport:
    """Run the census checks: missing Type 1, mixed photometric/spacing per series,
    duplicate SOP Instance UIDs, studies whose instances disagree on the patient,
    and a count of private creators."""
    report = QAReport(instances=len(df))
    add = report.findings.append
    if "missing_type1" in df:
        for path, missing in zip(df["path"], df["missing_type1"], strict=True):
            if missing:
                add(Finding("missing Type 1", str(path), ", ".join(missing)))
    if "SeriesInstanceUID" in df:
        for column, check in (
            ("PhotometricInterpretation", CHECKS[1]),
            ("PixelSpacing", CHECKS[2]),
        ):
            if column not in df:
                continue
            values = df[["SeriesInstanceUID", column]].dropna()
            for series, group in values.groupby("SeriesInstanceUID", sort=True):
                distinct = sorted({str(v) for v in group[column]})
                if len(distinct) > 1:
                    add(Finding(check, f"series {_short_uid(series)}", " vs ".join(distinct)))
    if "SOPInstanceUID" in df:
        counts = df["SOPInstanceUID"].value_counts()
        for uid, n in counts[counts > 1].sort_index().items():
            paths = df.loc[df["SOPInstanceUID"] == uid, "path"].tolist()
            add(Finding(CHECKS[3], _short_uid(uid), f"{n} files: {', '.join(paths[:3])}"))
    if "StudyInstanceUID" in df and "PatientID" in df:
        for study, group in df.groupby("StudyInstanceUID", sort=True):
            ids = sorted({str(v) for v in group["PatientID"].fillna("")})
            if len(ids) > 1:
                add(
                    Finding(
                        CHECKS[4], f"study {_short_uid(study)}", "Patient IDs " + " vs ".join(ids)
                    )
                )
    if "private_creators" in df:
        counter: dict[str, int] = {}
        for creators in df["private_creators"]:
            for c in set(creators):
                counter[c] = counter.get(c, 0) + 1
        report.private = dict(sorted(counter.items()))
    return report


# --------------------------------------------------------------------------- plots
def plot_census(df: pd.DataFrame, *, figsize: tuple[float, float] = (8, 2.6)):
    """Three panels: instances per modality, acquisition timeline, kVp distribution (where present).

    Returns the matplotlib Figure (closed, so a notebook shows it once).
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    fig, axes = plt.subplots(1, 3, figsize=figsize, dpi=80, layout="constrained")
    modality = df.get("Modality", pd.Series(dtype=object)).fillna("?")
    counts = modality.value_counts().sort_index()
    axes[0].bar(counts.index.astype(str), counts.values, color="#4c72b0")
    axes[0].set_title("Instances per modality", fontsize=9)
    when = _timestamps(df)
    known = when.notna()
    if known.any():  # one dot per instance: when it was acquired, by modality
        levels = sorted(set(modality[known].astype(str)))
        axes[1].scatter(
            when[known],
            [levels.index(m) for m in modality[known].astype(str)],
            s=12,
            color="#55a868",
        )
        axes[1].set_yticks(range(len(levels)), levels)
        axes[1].tick_params(axis="x", labelrotation=45, labelsize=7)
    else:
        axes[1].text(0.5, 0.5, "no dates", ha="center", va="center", transform=axes[1].transAxes)
    axes[1].set_title("Acquisition timeline", fontsize=9)
    kvp = pd.to_numeric(df.get("KVP", pd.Series(dtype=float)), errors="coerce").dropna()
    if len(kvp):
        values = kvp.value_counts().sort_index()
        axes[2].bar([f"{v:g}" for v in values.index], values.values, color="#c44e52")
        axes[2].set_xlabel("kVp", fontsize=8)
    else:
        axes[2].text(0.5, 0.5, "no KVP", ha="center", va="center", transform=axes[2].transAxes)
    axes[2].set_title("Tube voltage (KVP)", fontsize=9)
    for ax in axes:
        ax.tick_params(labelsize=7)
    plt.close(fig)
    return fig


def _timestamps(df: pd.DataFrame) -> pd.Series:
    import pandas as pd

    date = df.get("AcquisitionDate")
    if date is None or date.isna().all():
        date = df.get("StudyDate", pd.Series([None] * len(df)))
    time = df.get("AcquisitionTime")
    if time is None or time.isna().all():
        time = df.get("StudyTime", pd.Series([""] * len(df)))
    text = date.fillna("").astype(str).str[:8] + time.fillna("").astype(str).str[:6].str.ljust(
        6, "0"
    )
    return pd.to_datetime(text, format="%Y%m%d%H%M%S", errors="coerce")


def timeline(df: pd.DataFrame) -> pd.Series:
    """Acquisition date-time of each row (Acquisition Date/Time, else Study Date/Time)."""
    return _timestamps(df)


# --------------------------------------------------------------------------- a messy archive
def messy_archive(out: str | Path, source: str | Path | None = None) -> Path:
    """Copy the built sample studies into ``out`` and plant the problems :func:`qa` finds.

    What a real archive accumulates, one of each (the same every time):

    * a file sent twice under another name (duplicate SOP Instance UID);
    * a slice of the bone series with another pixel spacing;
    * an MR slice stored as MONOCHROME1 in a MONOCHROME2 series;
    * a CT slice without Rescale Intercept (Type 1 in the CT Image module);
    * an MR slice whose Patient ID has a typo (the study now has two patients).

    ``source`` is the built data folder (default :func:`medlab.paths.data_dir`).
    """
    import shutil

    import pydicom

    from medlab import paths
    from medlab.data.build import STUDIES

    src = Path(source) if source is not None else paths.data_dir()
    missing = [name for name in STUDIES if not (src / name).is_dir()]
    if missing:
        raise MedlabError(
            f"The sample studies are not built ({', '.join(missing)} missing)",
            where=str(src),
            fix="Run `medlab data build` (or `make data`) first.",
        )
    out = paths.private_dir(out)
    for name in STUDIES:
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(src / name, target)

    def edit(rel: str, change: Any) -> None:
        path = out / rel
        ds = pydicom.dcmread(path)
        change(ds)
        ds.save_as(path, enforce_file_format=True)

    shutil.copyfile(
        out / "ct_phantom/series01_axial_5mm/CT0003.dcm",
        out / "ct_phantom/series01_axial_5mm/CT0003_resent.dcm",
    )
    edit(
        "ct_phantom/series02_axial_bone/CT0005.dcm",
        lambda ds: setattr(ds, "PixelSpacing", [0.8, 0.8]),
    )
    edit(
        "mr_phantom/series01_t1_axial/MR0004.dcm",
        lambda ds: setattr(ds, "PhotometricInterpretation", "MONOCHROME1"),
    )
    edit("ct_phantom/series02_axial_bone/CT0007.dcm", lambda ds: ds.pop("RescaleIntercept"))
    edit(
        "mr_phantom/series01_t1_axial/MR0008.dcm", lambda ds: setattr(ds, "PatientID", "MLB-10587")
    )
    paths.make_private_tree(out)  # copied with the sample data's modes
    return out
