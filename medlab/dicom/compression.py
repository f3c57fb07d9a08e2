"""Compressed transfer syntaxes, compared with their uncompressed twins.

Compression in DICOM is a property of the *transfer syntax* (PS3.5 section 10
and Annex A.4), not of the image: the same pixels can travel uncompressed or
as RLE, JPEG, JPEG-LS or JPEG 2000. What changes in the file:

* the Transfer Syntax UID (0002,0010) in the file meta information;
* Pixel Data (7FE0,0010) becomes *encapsulated*: undefined length, a Basic
  Offset Table item, then one or more fragments holding the codec's
  bit stream (PS3.5 A.4);
* for a lossy codec, Lossy Image Compression (0028,2110) = "01" and the
  Photometric Interpretation may name the codec's colour space
  (YBR_FULL_422 for JPEG baseline, YBR_RCT/YBR_ICT for JPEG 2000).

:func:`compare_twins` decodes each pair and reports the largest difference:
0 for lossless codecs, small for lossy ones.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TWINS", "TwinRow", "compare_twins", "max_difference"]

#: Sample pairs (uncompressed, compressed) from :data:`medlab.data.SAMPLES`.
TWINS: tuple[tuple[str, str], ...] = (
    ("mr", "mr_rle"),
    ("mr", "mr_jpeg_ls"),
    ("mr", "mr_j2k"),
    ("ct_512", "ct_512_j2k"),
    ("cr_mono1", "cr_mono1_j2k"),
    ("us_palette", "us_palette_rle"),
    ("us_rgb", "us_rgb_j2k"),
    ("rgb_jpeg_twin", "us_ybr_jpeg"),
)


def max_difference(a: Any, b: Any) -> int:
    """Largest absolute difference between two decoded pixel arrays (shapes must match)."""
    import numpy as np

    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max())


@dataclass(frozen=True)
class TwinRow:
    name: str
    twin: str
    transfer_syntax: str
    lossy: bool
    encapsulated: bool
    pixel_bytes: int
    twin_pixel_bytes: int
    max_difference: int


class TwinTable:
    """Rows of :class:`TwinRow`; text in a terminal, a table in a notebook."""

    HEADER = (
        "compressed",
        "transfer syntax",
        "encapsulated",
        "Pixel Data bytes",
        "uncompressed bytes",
        "max |difference|",
    )

    def __init__(self, rows: list[TwinRow]) -> None:
        self.rows = rows

    def _cells(self, row: TwinRow) -> tuple[str, ...]:
        return (
            row.name,
            row.transfer_syntax + (" (lossy)" if row.lossy else ""),
            "yes" if row.encapsulated else "no",
            f"{row.pixel_bytes:,}",
            f"{row.twin_pixel_bytes:,}",
            str(row.max_difference),
        )

    def __repr__(self) -> str:
        table = [self.HEADER, *(self._cells(r) for r in self.rows)]
        widths = [max(len(r[i]) for r in table) for i in range(len(self.HEADER))]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table
        )

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.HEADER)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in self._cells(r)) + "</tr>"
            for r in self.rows
        )
        return f"<table class='medlab-twins'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def compare_twins(pairs: Sequence[tuple[str, str]] = TWINS) -> TwinTable:
    """Decode each (uncompressed, compressed) sample pair and compare their pixels.

    Pixels are compared as pydicom returns them by default (colour converted to
    RGB), so a JPEG 2000 YBR_RCT file and its RGB twin are compared like for like.
    """
    import medlab.data

    rows = []
    for plain_name, packed_name in pairs:
        plain, packed = medlab.data.dataset(plain_name), medlab.data.dataset(packed_name)
        ts = packed.file_meta.TransferSyntaxUID
        rows.append(
            TwinRow(
                name=packed_name,
                twin=plain_name,
                transfer_syntax=str(ts.name),
                lossy=_is_lossy(ts),
                encapsulated=bool(ts.is_encapsulated),
                pixel_bytes=len(packed.PixelData),
                twin_pixel_bytes=len(plain.PixelData),
                max_difference=max_difference(plain.pixel_array, packed.pixel_array),
            )
        )
    return TwinTable(rows)


def _is_lossy(ts: Any) -> bool:
    from pydicom import uid

    lossless = {
        uid.RLELossless,
        uid.JPEGLossless,
        uid.JPEGLosslessSV1,
        uid.JPEGLSLossless,
        uid.JPEG2000Lossless,
    }
    return ts not in lossless and ts.is_encapsulated
