"""From stored pixel values to what a screen should show.

A DICOM image stores *numbers*, not brightness. Turning them into an image
follows the pipeline of PS3.4 Annex N (grayscale) and PS3.3 C.7.6.3 (colour):

1. **Decode** the Pixel Data (7FE0,0010) as the Image Pixel module
   (PS3.3 C.7.6.3) describes it: Rows, Columns, Samples per Pixel, Bits
   Allocated/Stored, High Bit, Pixel Representation, Planar Configuration,
   Number of Frames - after undoing any compression named by the Transfer
   Syntax UID (PS3.5 section 8 and Annex A.4).
2. **Modality LUT** (PS3.3 C.11.1): Rescale Slope/Intercept (or a Modality
   LUT Sequence) turns stored values into meaningful units, e.g. Hounsfield
   units for CT.
3. **VOI LUT** (PS3.3 C.11.2): a window (centre/width, optionally a SIGMOID
   function) or a VOI LUT Sequence picks the range of values to spread over
   the grey scale.
4. **Photometric Interpretation** (PS3.3 C.7.6.3.1.2): MONOCHROME2 shows the
   minimum value, *after the VOI transformation*, as black; MONOCHROME1 shows it
   as white, so its grey scale is inverted. Colour images are RGB, YBR_FULL /
   YBR_FULL_422 (luminance + two colour differences, typical of JPEG), the
   JPEG 2000 YBR_RCT / YBR_ICT (the decoder undoes them), or PALETTE COLOR
   (each stored value is an index into red, green and blue lookup tables,
   PS3.3 C.7.6.3.1.5-6).

:func:`to_display` runs this pipeline and returns floats in ``[0, 1]``:
``(rows, columns)`` for grey, ``(rows, columns, 3)`` RGB for colour, ready for
``plt.imshow(img, cmap="gray", vmin=0, vmax=1)``.
"""

from __future__ import annotations

import copy
import warnings
from typing import TYPE_CHECKING, Any

from medlab.dicom._read import dataset_errors
from medlab.errors import MedlabError

if TYPE_CHECKING:
    import numpy as np
    from pydicom import Dataset

__all__ = ["to_display", "stored_values", "modality_values", "apply_window", "PRESETS"]

#: Window presets a radiologist uses on CT, as (centre, width) in Hounsfield units.
#: Typical values; sites tune them (e.g. bone 400/1800 or 500/2000).
PRESETS: dict[str, tuple[float, float]] = {
    "brain": (40.0, 80.0),
    "mediastinum": (40.0, 400.0),
    "lung": (-600.0, 1500.0),
    "bone": (400.0, 1800.0),
}

_MONO = ("MONOCHROME1", "MONOCHROME2")
_YBR = ("YBR_FULL", "YBR_FULL_422")


def _source(ds: Dataset, where: str) -> Dataset:
    """Return ``ds`` or a shallow copy with a Transfer Syntax UID pydicom can use.

    A data set read with ``force=True`` may have no file meta. Its encoding is
    then what pydicom found while reading it (``ds.original_encoding``), and
    without compression the transfer syntax follows from that (PS3.5 A.1-A.3).
    """
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise MedlabError(
            f"This {_sop_name(ds)} has no Pixel Data (7FE0,0010)",
            where=where,
            fix="Only image objects have pixels; read its content with the attributes instead.",
        )
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return ds
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    implicit, little = getattr(ds, "original_encoding", (None, None))
    if implicit is None:
        raise MedlabError(
            "The data set has no Transfer Syntax UID (0002,0010), so its pixels cannot be decoded",
            where=where,
            fix="Read the file with pydicom.dcmread(path, force=True), or set "
            "ds.file_meta.TransferSyntaxUID to the syntax it was written in.",
        )
    fixed = copy.copy(ds)
    fixed.file_meta = FileMetaDataset(meta or FileMetaDataset())
    fixed.file_meta.TransferSyntaxUID = (
        ImplicitVRLittleEndian
        if implicit
        else ExplicitVRLittleEndian
        if little
        else ExplicitVRBigEndian
    )
    return fixed


def _sop_name(ds: Dataset) -> str:
    uid = ds.get("SOPClassUID")
    return getattr(uid, "name", None) or "data set"


def _where(ds: Dataset, frame: int | None = None) -> str:
    name = getattr(ds, "filename", None)
    label = str(name).rsplit("/", 1)[-1] if isinstance(name, str) else _sop_name(ds)
    return f"{label}, frame {frame}" if frame is not None else label


def _frames(ds: Dataset) -> int:
    try:
        return int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        raise MedlabError(
            f"Number of Frames (0028,0008) is {ds.NumberOfFrames!r}, not a whole number",
            where=_where(ds),
            fix="Correct the attribute (it is an IS: an integer string).",
        ) from None


@dataset_errors(
    "read this image's stored values",
    "It needs an image pydicom can decode (Rows, Columns, Bits Allocated, Pixel Data...); look at the file with medlab.dicom.hexview().",
)
def stored_values(ds: Dataset, frame: int = 0) -> tuple[np.ndarray, str]:
    """Decode one frame and return ``(array, photometric_interpretation)``.

    The array holds the *stored* values exactly as the Image Pixel module
    describes them, with no colour conversion (``raw=True``): a YBR_FULL JPEG
    stays YBR. The returned photometric interpretation is that of the array,
    which differs from the header only where the codec itself converts colour
    (JPEG 2000 YBR_RCT/YBR_ICT decode to RGB, PS3.5 A.4.4).
    """
    where = _where(ds, frame)
    src = _source(ds, where)
    count = _frames(ds)
    if not 0 <= frame < count:
        raise MedlabError(
            f"Frame {frame} does not exist: this object has {count} frame(s), numbered 0-{count - 1} here",
            where=_where(ds),
            fix="Pass frame=<0 .. Number of Frames - 1>.",
        )
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(src.file_meta.TransferSyntaxUID)
        with warnings.catch_warnings():
            # Trailing padding after the last frame is harmless (PS3.5 8.1.1 allows
            # an even length); pydicom's note about removing it is not for trainees.
            warnings.filterwarnings("ignore", message=".*excess padding.*")
            arr, meta = decoder.as_array(src, index=frame, raw=True)
    except NotImplementedError:
        ts = src.file_meta.TransferSyntaxUID
        raise MedlabError(
            f"No decoder is available for the transfer syntax {getattr(ts, 'name', ts)}",
            where=where,
            fix="Install the decoder plugins (pylibjpeg, pylibjpeg-libjpeg, pylibjpeg-openjpeg, "
            "pylibjpeg-rle), e.g. `pip install medlab`.",
        ) from None
    except (AttributeError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        text = " ".join(line.strip() for line in str(exc).splitlines()) or type(exc).__name__
        raise MedlabError(
            f"The pixel data cannot be decoded: {text}",
            where=where,
            fix="Check the Image Pixel attributes (Rows, Columns, Bits Allocated...) against "
            "the Pixel Data length, and the Transfer Syntax UID against the encoding.",
        ) from None
    return arr, str(
        meta.get("photometric_interpretation") or ds.get("PhotometricInterpretation", "")
    )


@dataset_errors(
    "compute this image's modality values",
    "It needs an image pydicom can decode (Rows, Columns, Bits Allocated, Pixel Data...); look at the file with medlab.dicom.hexview().",
)
def modality_values(ds: Dataset, frame: int = 0) -> np.ndarray:
    """Stored values of a grey frame passed through the Modality LUT (PS3.3 C.11.1).

    For CT this gives Hounsfield units: ``HU = stored * RescaleSlope + RescaleIntercept``.
    Without a rescale or Modality LUT the stored values are returned (as float).
    """
    arr, photometric = stored_values(ds, frame)
    if photometric not in _MONO:
        raise MedlabError(
            f"The Modality LUT applies to grey images; this one is {photometric}",
            where=_where(ds, frame),
            fix="Use to_display(ds) for colour images.",
        )
    return _modality(arr, ds, frame)


def _modality(arr: np.ndarray, ds: Dataset, frame: int) -> np.ndarray:
    import numpy as np
    from pydicom.pixels import apply_modality_lut

    if "ModalityLUTSequence" in ds:
        return apply_modality_lut(arr, ds).astype(np.float64)
    slope, intercept = _rescale(ds, frame)
    return arr.astype(np.float64) * slope + intercept


def _rescale(ds: Dataset, frame: int) -> tuple[float, float]:
    """Rescale Slope/Intercept, also from an enhanced object's functional groups."""
    item: Any = ds
    if "RescaleSlope" not in ds:
        for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            seq = ds.get(group)
            if not seq:
                continue
            fg = seq[frame if group.startswith("PerFrame") and len(seq) > frame else 0]
            if "PixelValueTransformationSequence" in fg:
                item = fg.PixelValueTransformationSequence[0]
    slope = float(item.get("RescaleSlope", 1) or 1)
    intercept = float(item.get("RescaleIntercept", 0) or 0)
    return slope, intercept


def apply_window(
    values: np.ndarray, center: float, width: float, function: str = "LINEAR"
) -> np.ndarray:
    """Map ``values`` through a VOI window to ``[0, 1]`` (PS3.3 C.11.2.1.2-3).

    LINEAR (the default): values below ``center - 0.5 - (width - 1) / 2`` are 0,
    above ``center - 0.5 + (width - 1) / 2`` are 1, linear in between.
    LINEAR_EXACT: the same with ``center +/- width / 2`` exactly.
    SIGMOID: ``1 / (1 + exp(-4 (x - center) / width))``.
    """
    import numpy as np

    if width <= 0 or (function.upper() == "LINEAR" and width < 1):
        raise MedlabError(
            f"Window Width must be >= 1 for LINEAR (> 0 otherwise); got {width}",
            where="Window Width (0028,1051)",
            fix="Choose a positive width, e.g. 400 for a mediastinal CT window.",
        )
    x = np.asarray(values, dtype=np.float64)
    kind = function.upper()
    if kind == "SIGMOID":
        return (1.0 / (1.0 + np.exp(-4.0 * (x - center) / width))).astype(np.float32)
    if kind == "LINEAR_EXACT":
        low, span = center - width / 2.0, width
    else:
        low, span = center - 0.5 - (width - 1) / 2.0, width - 1.0
    if span == 0:  # width 1: a hard threshold
        return (x > center - 0.5).astype(np.float32)
    return np.clip((x - low) / span, 0.0, 1.0).astype(np.float32)


def _header_window(ds: Dataset, frame: int) -> tuple[float, float, str] | None:
    """The first window stored in the header (or in a frame's functional groups)."""
    item: Any = ds
    if "WindowCenter" not in ds:
        for group in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
            seq = ds.get(group)
            if not seq:
                continue
            fg = seq[frame if group.startswith("PerFrame") and len(seq) > frame else 0]
            if "FrameVOILUTSequence" in fg:
                item = fg.FrameVOILUTSequence[0]
                break
    if "WindowCenter" not in item or "WindowWidth" not in item:
        return None
    center, width = item.WindowCenter, item.WindowWidth
    center = float(center[0] if not isinstance(center, (int, float)) else center)
    width = float(width[0] if not isinstance(width, (int, float)) else width)
    function = str(item.get("VOILUTFunction", "LINEAR") or "LINEAR")
    if width <= 0 or (function == "LINEAR" and width < 1):
        return None  # an invalid window in the header: fall back to the full range
    return center, width, function


def _full_range(values: np.ndarray) -> np.ndarray:
    import numpy as np

    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.zeros(values.shape, dtype=np.float32)
    return ((values - lo) / (hi - lo)).astype(np.float32)


@dataset_errors(
    "prepare this image for display",
    "It needs an image pydicom can decode (Rows, Columns, Bits Allocated, Pixel Data...); look at the file with medlab.dicom.hexview().",
)
def to_display(
    ds: Dataset,
    frame: int = 0,
    *,
    window: tuple[float, float] | str | None = None,
    voi: bool = True,
    honour_photometric: bool = True,
) -> np.ndarray:
    """Return one frame of ``ds`` ready for display: floats in ``[0, 1]``.

    Steps, in the order of the PS3.4 Annex N pipeline:

    1. **Decode** frame ``frame`` (0-based) of the Pixel Data, whatever its
       transfer syntax (uncompressed, RLE, JPEG, JPEG-LS, JPEG 2000), with
       no colour conversion yet (:func:`stored_values`).
    2. Grey images (MONOCHROME1/2):

       a. **Modality LUT** - Rescale Slope/Intercept or a Modality LUT Sequence
          (PS3.3 C.11.1): stored values become e.g. Hounsfield units.
       b. **VOI** (PS3.3 C.11.2) - ``window=(center, width)`` or a preset name
          from :data:`PRESETS` if given; else the header's VOI LUT Sequence, or
          its first Window Center/Width (with VOI LUT Function LINEAR,
          LINEAR_EXACT or SIGMOID); else (or with ``voi=False``) the full
          range of values, min to max.
       c. **MONOCHROME1 inversion** (PS3.3 C.7.6.3.1.2) - the minimum value
          after VOI is white: ``1 - value``. ``honour_photometric=False``
          skips it, to show what a viewer that ignores the tag displays.

    3. PALETTE COLOR: each stored value indexes the Red/Green/Blue Palette
       Color Lookup Tables (PS3.3 C.7.6.3.1.5-6), giving RGB.
    4. YBR_FULL / YBR_FULL_422: luminance and colour differences converted to
       RGB with the equations of PS3.3 C.7.6.3.1.2. (JPEG 2000 YBR_RCT/ICT
       arrive as RGB: the codec inverts its own colour transform.)
    5. RGB: stored values scaled by their maximum ``2**BitsStored - 1``.

    Returns ``(rows, columns)`` float32 for grey (show with ``cmap="gray",
    vmin=0, vmax=1``) or ``(rows, columns, 3)`` float32 RGB for colour.
    Raises :class:`~medlab.errors.MedlabError` if the object has no pixels or
    they cannot be decoded.
    """
    import numpy as np

    arr, photometric = stored_values(ds, frame)
    where = _where(ds, frame)
    if photometric in _MONO:
        values = _modality(arr, ds, frame)
        if isinstance(window, str):
            try:
                window = PRESETS[window]
            except KeyError:
                raise MedlabError(
                    f"There is no window preset called {window!r}",
                    fix=f"Choose one of {', '.join(PRESETS)} or pass (center, width).",
                ) from None
        if window is not None:
            out = apply_window(values, float(window[0]), float(window[1]))
        elif voi and "VOILUTSequence" in ds:
            from pydicom.pixels import apply_voi_lut

            # A VOI LUT Sequence maps *modality* values through a table (C.11.2.1.1);
            # its entries are indexed by whole numbers, so round the input first.
            indices = np.rint(values).astype(np.int64)
            out = _full_range(apply_voi_lut(indices, ds, prefer_lut=True).astype(np.float64))
        elif voi and (header := _header_window(ds, frame)) is not None:
            out = apply_window(values, *header)
        else:
            out = _full_range(values)
        if honour_photometric and photometric == "MONOCHROME1":
            out = 1.0 - out
        return out.astype(np.float32)
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        try:
            rgb = apply_color_lut(arr, ds)
        except (ValueError, AttributeError, KeyError) as exc:
            raise MedlabError(
                f"The palette cannot be applied: {exc}",
                where=where,
                fix="A PALETTE COLOR image needs the Red/Green/Blue Palette Color Lookup Table "
                "Descriptor and Data attributes (PS3.3 C.7.6.3.1.5).",
            ) from None
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        if bits == 16 and rgb.max() <= 255:
            # Tolerant reading: some writers put 8-bit entries in a table declared
            # 16-bit (PS3.3 C.7.6.3.1.5 allows only 8 or 16 bits per entry).
            bits = 8
        return (rgb.astype(np.float64) / (2**bits - 1)).clip(0, 1).astype(np.float32)
    if photometric in _YBR or photometric == "RGB":
        if photometric in _YBR:
            from pydicom.pixels import convert_color_space

            arr = convert_color_space(arr, photometric, "RGB")
        bits = int(ds.get("BitsStored") or ds.BitsAllocated)
        return (arr.astype(np.float64) / (2**bits - 1)).clip(0, 1).astype(np.float32)
    raise MedlabError(
        f"Photometric Interpretation {photometric!r} is not handled here",
        where=where,
        fix="medlab displays MONOCHROME1/2, PALETTE COLOR, RGB and YBR_FULL(_422); "
        "see PS3.3 C.7.6.3.1.2 for the others.",
    )
