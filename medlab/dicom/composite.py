"""Composite objects that are not (only) images: SR, RT, waveforms, segmentations.

Every DICOM object is a *composite* instance: an IOD combining modules about
the patient, study, series and equipment with its own content (PS3.3 A.1).
Images are the commonest, but lesson 06 meets others:

* **Structured Report** (PS3.3 A.35, C.17.3): a tree of content items, each
  with a Relationship Type, a Value Type (CONTAINER, TEXT, CODE, NUM, ...) and
  a coded Concept Name. :func:`sr_outline` prints it as an outline;
  :func:`measurement_sr` builds a small one with highdicom.
* **RT objects** (PS3.3 A.19-A.21): an RT Plan holds beams and fractions and
  *no pixel data*; an RT Structure Set holds ROI contours as coordinates; an
  RT Dose holds a dose grid as multi-frame Pixel Data scaled by Dose Grid
  Scaling. :func:`rt_summary` and :func:`plot_dose`.
* **Waveform** (PS3.3 C.10.9): channels of samples, multiplexed, with a
  sampling frequency and per-channel sensitivity. :func:`plot_ecg`.
* **Segmentation** (PS3.3 A.51, C.8.20): one frame per segment and slice,
  with segment labels and colours. :func:`plot_seg`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medlab import plotting
from medlab.dicom._read import dataset_errors
from medlab.errors import MedlabError

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from pydicom import Dataset

__all__ = [
    "SROutline",
    "sr_outline",
    "measurement_sr",
    "RTSummary",
    "rt_summary",
    "dose_grid",
    "plot_dose",
    "ecg_leads",
    "plot_ecg",
    "seg_masks",
    "plot_seg",
]


# -- Structured Report ---------------------------------------------------------


def _meaning(item: Any, keyword: str = "ConceptNameCodeSequence") -> str:
    seq = item.get(keyword)
    if not seq:
        return "(no concept name)"
    code = seq[0]
    return str(code.get("CodeMeaning") or code.get("CodeValue") or "?")


def _value(item: Any) -> str:
    """The value of one content item, by Value Type (PS3.3 C.17.3.2.1 / Table C.17-5)."""
    kind = item.get("ValueType", "")
    if kind == "TEXT":
        return " ".join(str(item.get("TextValue", "")).split())
    if kind == "CODE":
        code = item.ConceptCodeSequence[0]
        return f"{code.CodeMeaning} ({code.CodingSchemeDesignator} {code.CodeValue})"
    if kind == "NUM":
        mv = item.get("MeasuredValueSequence")
        if not mv:
            return "(no value)"
        unit = mv[0].MeasurementUnitsCodeSequence[0].CodeValue
        return f"{mv[0].NumericValue} {unit}"
    if kind == "PNAME":
        return str(item.get("PersonName", ""))
    if kind in ("DATE", "TIME", "DATETIME", "UIDREF"):
        keyword = {"DATE": "Date", "TIME": "Time", "DATETIME": "DateTime", "UIDREF": "UID"}[kind]
        return str(item.get(keyword, ""))
    if kind in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        ref = item.get("ReferencedSOPSequence")
        if ref:
            uid = ref[0].ReferencedSOPClassUID
            name = getattr(uid, "name", str(uid))
            return (
                f"-> {name}" if name != str(uid) else f"-> SOP Class {uid!s} (not a registered UID)"
            )
        return "-> (no reference)"
    if kind in ("SCOORD", "SCOORD3D", "TCOORD"):
        graphic = item.get("GraphicType") or item.get("TemporalRangeType") or ""
        return f"{graphic}".strip()
    return ""


@dataclass(frozen=True)
class SRLine:
    depth: int
    relationship: str
    value_type: str
    name: str
    value: str


class SROutline:
    """An SR content tree as an outline (text in a terminal, nested list in a notebook)."""

    def __init__(self, title: str, flags: str, lines: list[SRLine]) -> None:
        self.title = title
        self.flags = flags
        self.lines = lines

    def count(self, value_type: str) -> int:
        """How many content items of one Value Type (e.g. ``"NUM"``) the tree holds."""
        return sum(line.value_type == value_type for line in self.lines)

    def __repr__(self) -> str:
        out = [f"{self.title}  [{self.flags}]"]
        for line in self.lines:
            value = f": {line.value}" if line.value else ""
            out.append(
                f"{'  ' * line.depth}- {line.relationship} {line.value_type} {line.name}{value}"
            )
        return "\n".join(out)

    def _repr_html_(self) -> str:
        parts = [
            f'<div class="medlab-sr"><b>{html.escape(self.title)}</b> '
            f"<small>[{html.escape(self.flags)}]</small><ul>"
        ]
        depth = 0
        for line in self.lines:
            while depth < line.depth:
                parts.append("<ul>")
                depth += 1
            while depth > line.depth:
                parts.append("</ul>")
                depth -= 1
            value = f": {html.escape(line.value)}" if line.value else ""
            parts.append(
                f"<li><small>{html.escape(line.relationship)}</small> "
                f"<code>{html.escape(line.value_type)}</code> "
                f"<b>{html.escape(line.name)}</b>{value}</li>"
            )
        parts.append("</ul>" * (depth + 1) + "</div>")
        return "".join(parts)


@dataset_errors(
    "outline this structured report",
    "Pass an SR object (Modality SR) with a Content Sequence.",
)
def sr_outline(ds: Dataset) -> SROutline:
    """Walk an SR's content tree (root CONTAINER, then Content Sequence, depth first).

    Each line: Relationship Type (CONTAINS, HAS OBS CONTEXT, HAS CONCEPT MOD,
    INFERRED FROM, ...), Value Type, Concept Name and the value. Items that
    only point at another item (by-reference relationships, Referenced Content
    Item Identifier) are shown as such.
    """
    if ds.get("ValueType") != "CONTAINER" or "ContentSequence" not in ds:
        raise MedlabError(
            f"This {getattr(ds.get('SOPClassUID'), 'name', 'data set')} is not a Structured Report "
            "(no root CONTAINER with a Content Sequence)",
            fix="Open an SR object (Modality SR), e.g. medlab.data.dataset('sr_basic').",
        )
    lines: list[SRLine] = []

    def walk(items: Any, depth: int) -> None:
        for item in items:
            relationship = str(item.get("RelationshipType", ""))
            if "ValueType" not in item:
                ref = item.get("ReferencedContentItemIdentifier")
                path = ".".join(str(v) for v in (ref if ref is not None else []))
                lines.append(SRLine(depth, relationship, "(by reference)", f"item {path}", ""))
                continue
            lines.append(
                SRLine(depth, relationship, str(item.ValueType), _meaning(item), _value(item))
            )
            if "ContentSequence" in item:
                walk(item.ContentSequence, depth + 1)

    walk(ds.ContentSequence, 0)
    flags = f"{ds.get('CompletionFlag', '?')}, {ds.get('VerificationFlag', '?')}"
    return SROutline(_meaning(ds), flags, lines)


@dataset_errors(
    "make a measurement SR for this image",
    "Pass a complete image: Study, Series and SOP Instance UIDs and its SOP Class UID.",
)
def measurement_sr(
    image: Dataset,
    *,
    diameter_mm: float,
    finding: str = "Nodule",
    series_uid: str | None = None,
    instance_uid: str | None = None,
) -> Dataset:
    """A small Enhanced SR with one measured diameter, referencing ``image`` (highdicom).

    Tree: CONTAINER "Imaging Measurement Report" > CONTAINS TEXT "Finding"
    and CONTAINS NUM "Diameter" (in mm, UCUM) > INFERRED FROM IMAGE.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    from medlab.dicom.gsps import _fixed_uid

    image_ref = hd.sr.ImageContentItem(
        name=codes.DCM.SourceOfMeasurement,
        referenced_sop_class_uid=image.SOPClassUID,
        referenced_sop_instance_uid=image.SOPInstanceUID,
        relationship_type=hd.sr.RelationshipTypeValues.INFERRED_FROM,
    )
    diameter = hd.sr.NumContentItem(
        name=codes.SCT.Diameter,
        value=diameter_mm,
        unit=codes.UCUM.Millimeter,
        relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
    )
    diameter.ContentSequence = hd.sr.ContentSequence([image_ref])
    text = hd.sr.TextContentItem(
        name=codes.DCM.Finding,
        value=finding,
        relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
    )
    root = hd.sr.ContainerContentItem(name=codes.DCM.ImagingMeasurementReport)
    root.ContentSequence = hd.sr.ContentSequence([text, diameter])
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*intended person name.*")
        sr = hd.sr.EnhancedSR(
            evidence=[image],
            content=root,
            series_instance_uid=series_uid or _fixed_uid("lesson06/sr/series"),
            series_number=901,
            sop_instance_uid=instance_uid or _fixed_uid("lesson06/sr/instance"),
            instance_number=1,
            manufacturer="medlab",
            is_complete=True,
            is_final=False,
        )
    for keyword in ("ContentDate", "SeriesDate", "InstanceCreationDate"):
        if keyword in sr:
            setattr(sr, keyword, "20240101")
    for keyword in ("ContentTime", "SeriesTime", "InstanceCreationTime"):
        if keyword in sr:
            setattr(sr, keyword, "120000")
    return sr


# -- RT -------------------------------------------------------------------------


class RTSummary:
    """What an RT object holds, as a small table of facts."""

    def __init__(self, kind: str, facts: list[tuple[str, str]]) -> None:
        self.kind = kind
        self.facts = facts

    def __repr__(self) -> str:
        width = max((len(k) for k, _ in self.facts), default=0)
        return "\n".join([self.kind, *(f"  {k:<{width}}  {v}" for k, v in self.facts)])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.facts
        )
        return f"<div class='medlab-rt'><b>{html.escape(self.kind)}</b><table>{rows}</table></div>"


@dataset_errors(
    "summarise this RT object",
    "Pass an RT Plan, RT Structure Set or RT Dose object.",
)
def rt_summary(ds: Dataset) -> RTSummary:
    """Summarise an RT Plan (beams, fractions), Structure Set (ROIs) or Dose (grid)."""
    modality = ds.get("Modality")
    has_pixels = "PixelData" in ds
    facts: list[tuple[str, str]] = [
        ("SOP Class", str(getattr(ds.SOPClassUID, "name", ds.SOPClassUID))),
        ("Pixel Data", "yes" if has_pixels else "none"),
    ]
    if modality == "RTPLAN":
        facts.append(("Plan label", str(ds.get("RTPlanLabel", ""))))
        for fg in ds.get("FractionGroupSequence", []):
            facts.append(
                (
                    f"Fraction group {fg.FractionGroupNumber}",
                    f"{fg.NumberOfFractionsPlanned} fractions, {fg.NumberOfBeams} beam(s)",
                )
            )
        for beam in ds.get("BeamSequence", []):
            cps = beam.get("ControlPointSequence", [])
            gantry = [float(cp.GantryAngle) for cp in cps if "GantryAngle" in cp]
            facts.append(
                (
                    f"Beam {beam.BeamNumber} '{beam.get('BeamName', '')}'",
                    f"{beam.BeamType} {beam.RadiationType}, {len(cps)} control points, "
                    f"gantry {', '.join(f'{g:g}' for g in gantry)} deg",
                )
            )
    elif modality == "RTSTRUCT":
        contours = {int(rc.ReferencedROINumber): rc for rc in ds.get("ROIContourSequence", [])}
        for roi in ds.get("StructureSetROISequence", []):
            rc = contours.get(int(roi.ROINumber))
            seq = rc.get("ContourSequence", []) if rc is not None else []
            points = sum(int(c.NumberOfContourPoints) for c in seq)
            kinds = sorted({str(c.ContourGeometricType) for c in seq})
            facts.append(
                (
                    f"ROI {roi.ROINumber} '{roi.ROIName}'",
                    f"{len(seq)} contour(s), {points} points ({', '.join(kinds)})",
                )
            )
    elif modality == "RTDOSE":
        grid = dose_grid(ds)
        offsets = [float(v) for v in ds.GridFrameOffsetVector]
        facts += [
            ("Dose grid", f"{grid.shape[0]} frames x {grid.shape[1]} x {grid.shape[2]} pixels"),
            ("Pixel spacing", " x ".join(f"{float(v):g}" for v in ds.PixelSpacing) + " mm"),
            ("Frame offsets", f"{offsets[0]:g} .. {offsets[-1]:g} mm"),
            ("Dose Grid Scaling", f"{float(ds.DoseGridScaling):g} {ds.DoseUnits} per stored unit"),
            ("Dose type / summation", f"{ds.DoseType} / {ds.get('DoseSummationType', '?')}"),
            ("Maximum dose", f"{grid.max():.3g} {ds.DoseUnits}"),
        ]
    else:
        raise MedlabError(
            f"Not an RT Plan, Structure Set or Dose (Modality {modality!r})",
            fix="Try medlab.data.dataset('rt_plan') or 'rt_dose'; read rt_struct with force=True.",
        )
    return RTSummary(f"{modality}", facts)


@dataset_errors(
    "read the dose grid",
    "Pass an RT Dose object with Pixel Data and Dose Grid Scaling.",
)
def dose_grid(ds: Dataset) -> Any:
    """The dose grid in Dose Units (Gy): stored values x Dose Grid Scaling (PS3.3 C.8.8.3)."""
    import numpy as np

    arr = ds.pixel_array
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    return arr.astype(np.float64) * float(ds.DoseGridScaling)


@dataset_errors(
    "plot the dose grid",
    "Pass an RT Dose object with Pixel Data and Dose Grid Scaling.",
)
def plot_dose(ds: Dataset, *, columns: int = 5) -> Figure:
    """Every frame of an RT Dose grid, on one colour scale, titled by its z offset."""
    import math

    grid = dose_grid(ds)
    offsets = [float(v) for v in ds.get("GridFrameOffsetVector", range(grid.shape[0]))]
    rows = math.ceil(grid.shape[0] / columns)
    fig = plotting.figure(8.0, min(4.0, 1.4 * rows + 0.3))
    axes = fig.subplots(rows, columns, squeeze=False)
    image = None
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < grid.shape[0]:
            image = ax.imshow(
                grid[i], cmap="inferno", vmin=0, vmax=grid.max(), interpolation="nearest"
            )
            ax.set_title(f"z {offsets[i]:+g} mm", fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label=f"dose ({ds.DoseUnits})")
    return fig


# -- Waveform --------------------------------------------------------------------


@dataset_errors(
    "read the waveform",
    "Pass a waveform object (e.g. an ECG) with a Waveform Sequence.",
)
def ecg_leads(ds: Dataset, group: int = 0) -> tuple[Any, list[str], float, str]:
    """Samples of one multiplex group: ``(array[samples, channels], labels, Hz, units)``.

    pydicom's ``waveform_array`` applies Channel Sensitivity and Correction
    Factor and the Channel Baseline (PS3.3 C.10.9.1.4.3), so values are in the
    units of Channel Sensitivity Units (here microvolts).
    """
    if "WaveformSequence" not in ds:
        raise MedlabError(
            "This data set has no Waveform Sequence (5400,0100)",
            fix="Open a waveform object, e.g. medlab.data.dataset('ecg').",
        )
    item = ds.WaveformSequence[group]
    data = ds.waveform_array(group)
    labels = [_meaning(ch, "ChannelSourceSequence") for ch in item.ChannelDefinitionSequence]
    units_seq = item.ChannelDefinitionSequence[0].get("ChannelSensitivityUnitsSequence")
    units = str(units_seq[0].CodeValue) if units_seq else "?"
    return data, labels, float(item.SamplingFrequency), units


@dataset_errors(
    "plot the waveform",
    "Pass a waveform object (e.g. an ECG) with a Waveform Sequence.",
)
def plot_ecg(ds: Dataset, group: int = 0, *, seconds: float | None = 2.5) -> Figure:
    """Plot every lead of a 12-lead ECG, stacked, with its label and a time axis in s."""
    import numpy as np

    data, labels, hz, units = ecg_leads(ds, group)
    if seconds is not None:
        data = data[: int(round(seconds * hz))]
    scale = 1000.0 if units == "uV" else 1.0
    unit_label = "mV" if units == "uV" else units
    t = np.arange(data.shape[0]) / hz
    fig = plotting.figure(8.0, 4.0)
    ax = fig.add_subplot()
    spacing = 1.5  # mV between traces
    for i, label in enumerate(labels):
        offset = -i * spacing
        ax.plot(t, data[:, i] / scale + offset, lw=0.7, color="black")
        ax.text(
            -0.02 * t[-1],
            offset,
            label.replace(" (Einthoven)", ""),
            ha="right",
            va="center",
            fontsize=7,
        )
    ax.set_yticks([])
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_xlim(0, t[-1])
    ax.tick_params(labelsize=7)
    ax.set_title(
        f"{len(labels)} leads, {hz:g} Hz; traces {spacing:g} {unit_label} apart", fontsize=9
    )
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    return fig


# -- Segmentation -------------------------------------------------------------------


@dataset_errors(
    "read the segmentation",
    "Pass a Segmentation object (Modality SEG) with its Segment Sequence.",
)
def seg_masks(ds: Dataset) -> tuple[Any, list[tuple[int, str, tuple[float, float, float]]]]:
    """Frames of a Segmentation with the segment each belongs to.

    Returns ``(frames, segments)``: ``frames`` is ``[(segment_number, z, mask)]``
    from the Per-frame Functional Groups (Segment Identification and Plane
    Position, PS3.3 C.8.20.3), and ``segments`` lists ``(number, label, rgb)``
    with the colour converted from Recommended Display CIELab Value.
    """
    import numpy as np

    if ds.get("Modality") != "SEG":
        raise MedlabError(
            "Not a Segmentation (Modality SEG)", fix="Open medlab.data.dataset('seg')."
        )
    arr = ds.pixel_array
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    frames = []
    for i, fg in enumerate(ds.PerFrameFunctionalGroupsSequence):
        number = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        z = float(fg.PlanePositionSequence[0].ImagePositionPatient[2])
        frames.append((number, z, arr[i] > 0))
    segments = []
    for seg in ds.SegmentSequence:
        lab = seg.get("RecommendedDisplayCIELabValue")
        rgb = _cielab_to_rgb(lab) if lab else (1.0, 0.0, 0.0)
        segments.append((int(seg.SegmentNumber), str(seg.SegmentLabel), rgb))
    return frames, segments


def _cielab_to_rgb(dicom_lab: Any) -> tuple[float, float, float]:
    """DICOM scaled CIELab (PS3.3 C.10.7.1.1, 0-65535) to sRGB in [0, 1]."""
    import numpy as np

    lab = np.asarray([float(v) for v in dicom_lab]) / 65535.0
    L, a, b = lab[0] * 100.0, lab[1] * 255.0 - 128.0, lab[2] * 255.0 - 128.0
    fy = (L + 16.0) / 116.0
    fx, fz = fy + a / 500.0, fy - b / 200.0

    def finv(t: float) -> float:
        return t**3 if t > 6 / 29 else 3 * (6 / 29) ** 2 * (t - 4 / 29)

    xyz = np.array([0.95047 * finv(fx), finv(fy), 1.08883 * finv(fz)])  # D65 white
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    lin = np.clip(m @ xyz, 0, 1)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    r, g, b_ = (float(v) for v in np.clip(srgb, 0, 1))
    return r, g, b_


@dataset_errors(
    "plot the segmentation",
    "Pass a Segmentation object (Modality SEG) with its Segment Sequence.",
)
def plot_seg(ds: Dataset, *, alpha: float = 0.5) -> Figure:
    """Each frame of a Segmentation with its segment overlaid in the segment's colour.

    The SEG references its source CT by UID (Referenced Series Sequence); that
    CT is not among the samples, so the masks are drawn over a dark background.
    """
    import numpy as np

    frames, segments = seg_masks(ds)
    colours = {n: rgb for n, _, rgb in segments}
    labels = {n: label for n, label, _ in segments}
    fig = plotting.figure(8.0, 3.0)
    axes = fig.subplots(1, len(frames), squeeze=False)[0]
    for ax, (number, z, mask) in zip(axes, frames, strict=True):
        rgba = np.zeros((*mask.shape, 4))
        rgba[..., :3] = colours[number]
        rgba[..., 3] = mask * alpha
        ax.imshow(np.zeros(mask.shape), cmap="gray", vmin=0, vmax=1)
        ax.imshow(rgba, interpolation="nearest")
        ax.contour(mask, levels=[0.5], colors=[colours[number]], linewidths=0.8)
        ax.set_title(f"segment {number} '{labels[number]}', z {z:g} mm", fontsize=8)
        ax.set_axis_off()
    return fig
