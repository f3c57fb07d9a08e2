"""WADO-RS, the Retrieve transaction (PS3.18 §10.4), from the PACS files.

* **Instances** are streamed from disk in chunks, as stored (bytes identical to
  what C-STORE or STOW-RS received) when the transfer syntax asked for is the
  stored one or ``*``. Asked for another (the default of ``application/dicom``
  is Explicit VR Little Endian, PS3.18 §8.7.3.5.2), the one instance is
  converted in memory by pydicom; the archive's own samples are stored that way.
* **Metadata** is the DICOM JSON model (PS3.18 Annex F) from pydicom's
  ``to_json_dict``; the pixel data and binary values over 1 KiB become
  ``BulkDataURI`` references that ``/bulkdata/{tag}`` serves. The pixels are
  never read for it.
* **Frames** of uncompressed pixel data are read at their offset in the file;
  compressed frames are found with pydicom's encapsulation helpers and sent as
  stored, or decoded (with :func:`medlab.dicom.display.stored_values`) when
  uncompressed ``application/octet-stream`` is asked for.
* **Rendered** images go through :func:`medlab.dicom.display.to_display` (the
  course's one grayscale pipeline: Modality LUT, the stored window or a
  requested one, MONOCHROME1 inversion) and Pillow for PNG/JPEG.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.net.dicomweb.media import EXPLICIT_VR_LE, NATIVE, PIXEL_MEDIA_TYPE
from medlab.net.query import instances_for
from medlab.net.store import Store

if TYPE_CHECKING:
    from pydicom import Dataset

CHUNK = 256 * 1024
BULK_THRESHOLD = 1024
_BINARY_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}
_PIXEL_TAG = 0x7FE00010


class NotFound(Exception):
    """The resource does not exist: a 404 with this text."""


class NotAcceptable(Exception):
    """The representation asked for cannot be produced: a 406 with this text."""


class BadRequest(Exception):
    """A malformed retrieve request: a 400 with this text."""


@dataclass(frozen=True)
class Stored:
    """One stored instance to retrieve."""

    path: Path
    sop_class: str
    transfer_syntax: str


def select(
    store: Store, study: str, series: str | None = None, sop: str | None = None
) -> list[Stored]:
    """The stored instances of a study, series or instance (404 if none)."""
    from pydicom import Dataset

    ident = Dataset()
    ident.QueryRetrieveLevel = "IMAGE" if sop else "SERIES" if series else "STUDY"
    ident.StudyInstanceUID = study
    if series:
        ident.SeriesInstanceUID = series
    if sop:
        ident.SOPInstanceUID = sop
    found = [Stored(Path(p), c, t) for p, c, t in instances_for(store, "STUDY", ident)]
    if not found:
        what = "instance" if sop else "series" if series else "study"
        raise NotFound(f"No {what} with that UID in this archive")
    return found


# ------------------------------------------------------------------ instances
def file_chunks(path: Path, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """Read ``length`` bytes (or to the end) from ``start`` in CHUNK-sized pieces."""
    with open(path, "rb") as fh:
        fh.seek(start)
        left = length
        while left is None or left > 0:
            block = fh.read(CHUNK if left is None else min(CHUNK, left))
            if not block:
                break
            if left is not None:
                left -= len(block)
            yield block


def converted(item: Stored, transfer_syntax: str) -> bytes:
    """The instance as a Part 10 file in another transfer syntax (one instance in memory)."""
    import pydicom

    ds = pydicom.dcmread(item.path)
    try:
        if ds.file_meta.TransferSyntaxUID not in NATIVE:
            ds.decompress()
        if transfer_syntax != EXPLICIT_VR_LE:
            raise NotAcceptable(
                f"This archive converts only to Explicit VR Little Endian ({EXPLICIT_VR_LE}); "
                f"ask for transfer-syntax=* to get the stored {ds.file_meta.TransferSyntaxUID}"
            )
        ds.file_meta.TransferSyntaxUID = EXPLICIT_VR_LE
        out = io.BytesIO()
        ds.save_as(out, implicit_vr=False, little_endian=True, enforce_file_format=True)
    except NotAcceptable:
        raise
    except Exception as err:  # noqa: BLE001 - a codec problem becomes a 406, not a 500
        raise NotAcceptable(f"Cannot convert the stored instance: {err}") from None
    return out.getvalue()


# ------------------------------------------------------------------ metadata
@dataclass(frozen=True)
class PixelElement:
    """Where the Pixel Data element's value sits in a file."""

    offset: int  # file offset of the value's first byte
    length: int  # 0xFFFFFFFF for encapsulated (undefined length)
    vr: str


def read_header(path: Path) -> tuple[Dataset, PixelElement | None]:
    """The data set without its pixels, and where the Pixel Data value starts."""
    import pydicom

    with open(path, "rb") as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True)
        head = fh.read(12)
        start = fh.tell() - len(head)
    if len(head) < 8:
        return ds, None
    implicit = ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    big = ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.2"
    endian = ">" if big else "<"
    group, elem = struct.unpack(endian + "HH", head[:4])
    if (group << 16 | elem) != _PIXEL_TAG:
        return ds, None
    if implicit:
        (length,) = struct.unpack("<L", head[4:8])
        vr = "OW" if int(ds.get("BitsAllocated", 16) or 16) > 8 else "OB"
        return ds, PixelElement(start + 8, length, vr)
    vr = head[4:6].decode("ascii", "replace")
    (length,) = struct.unpack(endian + "L", head[8:12])
    return ds, PixelElement(start + 12, length, vr)


def instance_url(base: str, ds: Dataset) -> str:
    return (
        f"{base}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
        f"/instances/{ds.SOPInstanceUID}"
    )


def metadata(item: Stored, base: str) -> dict[str, Any]:
    """The DICOM JSON model of one instance, bulk data by reference (PS3.18 F.2.6)."""
    ds, pixel = read_header(item.path)
    url = instance_url(base, ds)

    def bulk(elem: Any) -> str:
        return f"{url}/bulkdata/{elem.tag:08X}"

    out: dict[str, Any] = {}
    for elem in ds:
        tag = f"{elem.tag:08X}"
        if elem.VR in _BINARY_VRS and elem.value is not None and len(elem.value) > BULK_THRESHOLD:
            out[tag] = {"vr": elem.VR, "BulkDataURI": bulk(elem)}
        else:
            out[tag] = elem.to_json_dict(None, 2**31)
    if pixel is not None:
        out[f"{_PIXEL_TAG:08X}"] = {"vr": pixel.vr, "BulkDataURI": f"{url}/bulkdata/7FE00010"}
    return out


def bulkdata(item: Stored, tag: int) -> tuple[Iterator[bytes], str]:
    """The value of a top-level binary element: ``(chunks, transfer syntax)``."""
    ds, pixel = read_header(item.path)
    ts = str(ds.file_meta.TransferSyntaxUID)
    if tag == _PIXEL_TAG:
        if pixel is None:
            raise NotFound("This instance has no Pixel Data")
        if pixel.length == 0xFFFFFFFF:
            frames = list(compressed_frames(item.path, pixel, _frame_count(ds)))
            return iter(frames), ts
        return file_chunks(item.path, pixel.offset, pixel.length), ts
    if tag not in ds or ds[tag].VR not in _BINARY_VRS:
        raise NotFound(f"No binary element ({tag >> 16:04X},{tag & 0xFFFF:04X}) in this instance")
    return iter([bytes(ds[tag].value)]), ts


# ------------------------------------------------------------------ frames
def _frame_count(ds: Dataset) -> int:
    try:
        return int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        return 1


def parse_frame_list(text: str) -> list[int]:
    """``"1,3"`` → ``[1, 3]`` (1-based frame numbers, PS3.18 §10.4.1.1.7)."""
    try:
        frames = [int(part) for part in text.split(",")]
    except ValueError:
        raise BadRequest(f"Frame list {text!r}: comma-separated frame numbers (1, 2…)") from None
    if not frames or any(f < 1 for f in frames):
        raise BadRequest(f"Frame list {text!r}: frame numbers start at 1")
    return frames


def compressed_frames(path: Path, pixel: PixelElement, count: int) -> Iterator[bytes]:
    """Each frame of encapsulated pixel data, read from the file."""
    from pydicom.encaps import generate_frames

    with open(path, "rb") as fh:
        fh.seek(pixel.offset)
        yield from generate_frames(fh, number_of_frames=count)


def frames(item: Stored, numbers: list[int], uncompressed: bool) -> tuple[list[bytes], str, str]:
    """The requested frames: ``(frames, media type, transfer syntax)``.

    As stored (``uncompressed=False``): native frames are cut out of the file at
    their offset; encapsulated ones come out as their fragments. Uncompressed:
    compressed frames are decoded to native little-endian bytes.
    """
    ds, pixel = read_header(item.path)
    if pixel is None:
        raise NotFound("This instance has no Pixel Data, so no frames")
    count = _frame_count(ds)
    if max(numbers) > count:
        raise NotFound(f"Frame {max(numbers)} does not exist: this instance has {count} frame(s)")
    ts = str(ds.file_meta.TransferSyntaxUID)
    if ts in NATIVE and ts != "1.2.840.10008.1.2.1.99":
        rows, cols = int(ds.Rows), int(ds.Columns)
        bits = int(ds.BitsAllocated)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        size_bits = rows * cols * samples * bits
        if size_bits % 8:
            raise NotAcceptable("Frames of 1-bit pixel data that do not end on a byte boundary")
        size = size_bits // 8
        out = []
        for n in numbers:
            data = b"".join(file_chunks(item.path, pixel.offset + (n - 1) * size, size))
            if ts == "1.2.840.10008.1.2.2" and bits > 8:  # big endian → little endian
                import numpy as np

                data = (
                    np.frombuffer(data, dtype=f">u{bits // 8}").astype(f"<u{bits // 8}").tobytes()
                )
            out.append(data)
        return out, "application/octet-stream", EXPLICIT_VR_LE
    if not uncompressed and pixel.length == 0xFFFFFFFF:
        wanted = set(numbers)
        found = {
            i: f
            for i, f in enumerate(compressed_frames(item.path, pixel, count), start=1)
            if i in wanted
        }
        return [found[n] for n in numbers], PIXEL_MEDIA_TYPE.get(ts, "application/octet-stream"), ts
    # Decode: deflated, or compressed asked for uncompressed.
    import pydicom

    from medlab.dicom.display import stored_values

    full = pydicom.dcmread(item.path)
    out = []
    for n in numbers:
        arr, _photometric = stored_values(full, n - 1)
        out.append(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    return out, "application/octet-stream", EXPLICIT_VR_LE


# ------------------------------------------------------------------ rendered
def parse_window(text: str | None) -> tuple[float, float, str] | None:
    """``window=center,width[,function]`` (PS3.18 §8.3.5.1.3)."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        center, width = float(parts[0]), float(parts[1])
        function = parts[2].upper() if len(parts) == 3 else "LINEAR"
        if function not in ("LINEAR", "LINEAR_EXACT", "SIGMOID") or width <= 0:
            raise ValueError
    except ValueError:
        raise BadRequest(
            f"window={text!r}: center,width[,linear|linear_exact|sigmoid] with width > 0"
        ) from None
    return center, width, function


def parse_viewport(text: str | None) -> tuple[int, int] | None:
    """``viewport=vw,vh`` — the largest size of the rendered image."""
    if text is None:
        return None
    try:
        vw, vh = (int(v) for v in text.split(",")[:2])
        if not (0 < vw <= 8192 and 0 < vh <= 8192):
            raise ValueError
    except ValueError:
        raise BadRequest(f"viewport={text!r}: width,height in pixels (1-8192)") from None
    return vw, vh


def parse_quality(text: str | None) -> int:
    if text is None:
        return 90
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise BadRequest(f"quality={text!r}: a whole number from 1 to 100")
    return int(text)


def render(
    item: Stored,
    frame: int,
    media_type: str,
    *,
    window: tuple[float, float, str] | None = None,
    viewport: tuple[int, int] | None = None,
    quality: int = 90,
) -> bytes:
    """One frame (1-based) as PNG or JPEG bytes, windowed as a viewer shows it."""
    import numpy as np
    import pydicom
    from PIL import Image

    from medlab.dicom import display
    from medlab.errors import MedlabError

    ds = pydicom.dcmread(item.path)
    if "PixelData" not in ds:
        raise NotFound("This instance has no Pixel Data to render")
    if frame > _frame_count(ds):
        raise NotFound(f"Frame {frame} does not exist: this instance has {_frame_count(ds)}")
    try:
        if window is not None and window[2] != "LINEAR":
            values = display.modality_values(ds, frame - 1)
            img = display.apply_window(values, window[0], window[1], window[2])
            if ds.get("PhotometricInterpretation") == "MONOCHROME1":
                img = 1.0 - img
        else:
            img = display.to_display(ds, frame - 1, window=window[:2] if window else None)
    except MedlabError as err:
        raise NotAcceptable(f"Cannot render this instance: {err}") from None
    pixels = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    image = Image.fromarray(pixels)
    if viewport is not None:
        image.thumbnail(viewport)
    out = io.BytesIO()
    if media_type == "image/png":
        image.save(out, format="PNG")
    else:
        image.save(out, format="JPEG", quality=quality)
    return out.getvalue()
