"""The sample catalogue: every named file and built series, with what the course uses it for.

``medlab.data.catalogue()`` returns a :class:`Catalogue`. In a notebook it
renders as an HTML table; ``print()`` gives the same as aligned text (what
``medlab data list`` prints). The text never contains absolute paths, dates or
anything that changes between machines, so a stored notebook output stays
valid: sizes are in kB (1 kB = 1000 bytes) and image sizes in pixels.

Everything shown is read from the files themselves with pydicom (headers only,
``stop_before_pixels=True``): modality (0008,0060), transfer syntax (0002,0010)
from the File Meta Information (PS3.10 7.1), photometric interpretation
(0028,0004), rows x columns (x frames).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Short names for the transfer syntaxes the samples use (PS3.5 10 and Annex A).
SHORT_TRANSFER_SYNTAX = {
    "1.2.840.10008.1.2": "Implicit VR LE",
    "1.2.840.10008.1.2.1": "Explicit VR LE",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR LE",
    "1.2.840.10008.1.2.2": "Explicit VR BE",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless SV1",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Near-lossless",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.5": "RLE Lossless",
}
NO_META = "none (no File Meta)"


@dataclass(frozen=True)
class Entry:
    """One row of the catalogue (a real sample file, or one series of a built study)."""

    kind: str  # "sample" or "built"
    name: str  # SAMPLES key, or "study/series folder"
    file: str  # file name (samples) or number of instances (built)
    modality: str
    sop_class: str
    size_kb: int
    pixels: str
    transfer_syntax_uid: str | None
    transfer_syntax: str
    photometric: str
    purpose: str


_COLUMNS = (
    ("name", "Name"),
    ("file", "File"),
    ("modality", "Modality"),
    ("size", "Size"),
    ("pixels", "Pixels"),
    ("transfer_syntax", "Transfer syntax"),
    ("photometric", "Photometric"),
    ("purpose", "Good for"),
)


class Catalogue:
    """A table of the course's sample data. Build it with :meth:`Catalogue.build`."""

    def __init__(self, entries: list[Entry], built_note: str = "") -> None:
        self.entries = tuple(entries)
        self.built_note = built_note

    @classmethod
    def build(cls, data_dir: Path | str | None = None, *, include_built: bool = True) -> Catalogue:
        """Read every named sample (and, if built, every built series) into a catalogue."""
        from medlab.data import SAMPLES, get_path

        entries = [
            _file_entry("sample", name, get_path(name), s.purpose, force=not s.file_meta)
            for name, s in SAMPLES.items()
        ]
        note = ""
        if include_built:
            built, note = _built_entries(data_dir)
            entries = built + entries
        return cls(entries, note)

    # -- access
    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __getitem__(self, name: str) -> Entry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def samples(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "sample"]

    def built(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "built"]

    def to_dataframe(self) -> Any:
        """The catalogue as a pandas DataFrame (one row per entry, all fields)."""
        import pandas as pd

        return pd.DataFrame([asdict(e) for e in self.entries])

    # -- display
    def _rows(self, kind: str) -> list[dict[str, str]]:
        rows = []
        for e in self.entries:
            if e.kind != kind:
                continue
            rows.append(
                {
                    "name": e.name,
                    "file": e.file,
                    "modality": e.modality,
                    "size": f"{e.size_kb:,} kB" if e.size_kb else "<1 kB",
                    "pixels": e.pixels,
                    "transfer_syntax": e.transfer_syntax,
                    "photometric": e.photometric,
                    "purpose": e.purpose,
                }
            )
        return rows

    def _sections(self) -> list[tuple[str, list[tuple[str, str]], list[dict[str, str]], str]]:
        built_cols = [("name", "Series"), ("file", "Instances")] + list(_COLUMNS[2:])
        return [
            ("Built studies (medlab data build)", built_cols, self._rows("built"), self.built_note),
            (
                "Real files shipped by pydicom and pydicom-data",
                list(_COLUMNS),
                self._rows("sample"),
                "",
            ),
        ]

    def __repr__(self) -> str:
        out: list[str] = []
        for title, cols, rows, note in self._sections():
            if not rows and not note:
                continue
            out.append(title)
            if note:
                out.append(f"  {note}")
            if rows:
                widths = [max(len(head), *(len(r[key]) for r in rows)) for key, head in cols]
                out.append(
                    "  ".join(h.ljust(w) for (_, h), w in zip(cols, widths, strict=True)).rstrip()
                )
                out.append("  ".join("-" * w for w in widths))
                for r in rows:
                    out.append(
                        "  ".join(
                            r[k].ljust(w) for (k, _), w in zip(cols, widths, strict=True)
                        ).rstrip()
                    )
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def _repr_html_(self) -> str:
        parts = []
        for title, cols, rows, note in self._sections():
            if not rows and not note:
                continue
            parts.append(f"<h4>{html.escape(title)}</h4>")
            if note:
                parts.append(f"<p>{html.escape(note)}</p>")
            if rows:
                head = "".join(
                    f"<th style='text-align:left'>{html.escape(h)}</th>" for _, h in cols
                )
                body = "".join(
                    "<tr>"
                    + "".join(
                        f"<td style='text-align:left'>{html.escape(r[k])}</td>" for k, _ in cols
                    )
                    + "</tr>"
                    for r in rows
                )
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        return "\n".join(parts)


def _describe(ds: Any) -> tuple[str, str, str, str, str | None, str]:
    """modality, SOP class name, pixels, photometric, transfer syntax UID and label of a header."""
    from pydicom.uid import UID

    modality = str(ds.get("Modality", "") or "-")
    sop_class = UID(ds.SOPClassUID).name if "SOPClassUID" in ds else "-"
    if "Rows" in ds and "Columns" in ds:
        pixels = f"{ds.Rows}x{ds.Columns}"
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        if frames > 1:
            pixels += f" x{frames} frames"
    else:
        pixels = "-"
    photometric = str(ds.get("PhotometricInterpretation", "") or "-")
    meta = getattr(ds, "file_meta", None)
    ts_uid = (
        str(meta.TransferSyntaxUID) if meta is not None and "TransferSyntaxUID" in meta else None
    )
    label = NO_META if ts_uid is None else SHORT_TRANSFER_SYNTAX.get(ts_uid, UID(ts_uid).name)
    return modality, sop_class, pixels, photometric, ts_uid, label


def _file_entry(kind: str, name: str, path: Path, purpose: str, *, force: bool = False) -> Entry:
    import warnings

    import pydicom

    with warnings.catch_warnings():  # a forced read of a broken sample may warn; the row shows it
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=force)
    modality, sop_class, pixels, photometric, ts_uid, label = _describe(ds)
    return Entry(
        kind,
        name,
        path.name,
        modality,
        sop_class,
        round(path.stat().st_size / 1000),
        pixels,
        ts_uid,
        label,
        photometric,
        purpose,
    )


def _built_entries(data_dir: Path | str | None) -> tuple[list[Entry], str]:
    """One entry per series folder of each built study; a note when nothing is built."""
    import pydicom

    from medlab import paths
    from medlab.data.build import SERIES_PURPOSE, STUDIES

    base = Path(data_dir) if data_dir is not None else paths.data_dir()
    entries: list[Entry] = []
    missing = []
    for folder, study in STUDIES.items():
        series_dirs = sorted(
            p for p in (base / folder).glob("*") if p.is_dir() and any(p.glob("*.dcm"))
        )
        if not series_dirs:
            missing.append(folder)
            continue
        for series_dir in series_dirs:
            files = sorted(series_dir.glob("*.dcm"))
            ds = pydicom.dcmread(files[0], stop_before_pixels=True)
            modality, sop_class, pixels, photometric, ts_uid, label = _describe(ds)
            size = sum(f.stat().st_size for f in files)
            name = f"{folder}/{series_dir.name}"
            purpose = SERIES_PURPOSE.get(name, study.purpose)
            entries.append(
                Entry(
                    "built",
                    name,
                    str(len(files)),
                    modality,
                    sop_class,
                    round(size / 1000),
                    pixels,
                    ts_uid,
                    label,
                    photometric,
                    purpose,
                )
            )
    hl7 = sorted((base / "hl7").glob("*.hl7"))
    note = ""
    if missing:
        note = f"Not built yet: {', '.join(missing)}. Run `medlab data build` (or `make data`)."
    elif hl7:
        note = f"Also {len(hl7)} HL7 v2 messages in hl7/: {', '.join(p.stem for p in hl7)}."
    return entries, note
