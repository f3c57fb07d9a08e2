"""Media types of DICOMweb: reading ``Accept``/``Content-Type``, writing multipart/related.

Header values are split and parsed with the standard library
(:func:`urllib.request.parse_http_list` for the comma-separated list, the
:mod:`email` package for each media type's parameters), never by hand.

The transfer syntaxes and their media types are those of PS3.18 §8.7.3
(Tables 8.7.3-2 to 8.7.3-5): ``application/dicom`` for whole instances,
``application/octet-stream`` for uncompressed bulk data and frames, and an
image media type (``image/jpeg``, ``image/jls``, ``image/jp2``…) for the
compressed pixel data of each compressed transfer syntax.
"""

from __future__ import annotations

import email.message
import email.utils
from dataclasses import dataclass
from urllib.request import parse_http_list

#: The default transfer syntax of application/dicom and application/octet-stream
#: when a request names none (PS3.18 §8.7.3.5.2).
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"

#: Uncompressed ("native") transfer syntaxes: frames are plain bytes at an offset.
NATIVE = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2",
}

#: Media type of the compressed pixel data of each transfer syntax (PS3.18 Table 8.7.3-4).
PIXEL_MEDIA_TYPE = {
    "1.2.840.10008.1.2.4.50": "image/jpeg",
    "1.2.840.10008.1.2.4.51": "image/jpeg",
    "1.2.840.10008.1.2.4.57": "image/jpeg",
    "1.2.840.10008.1.2.4.70": "image/jpeg",
    "1.2.840.10008.1.2.4.80": "image/jls",
    "1.2.840.10008.1.2.4.81": "image/jls",
    "1.2.840.10008.1.2.4.90": "image/jp2",
    "1.2.840.10008.1.2.4.91": "image/jp2",
    "1.2.840.10008.1.2.4.92": "image/jpx",
    "1.2.840.10008.1.2.4.93": "image/jpx",
    "1.2.840.10008.1.2.5": "image/dicom-rle",
}


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header, e.g. ``multipart/related; type="application/dicom"``."""

    mime: str  # lower case, e.g. "multipart/related"
    params: dict[str, str]  # parameter names in lower case
    quality: float

    @property
    def type(self) -> str:
        """The ``type`` parameter of a multipart range (lower case), or ``""``."""
        return self.params.get("type", "").lower()

    @property
    def transfer_syntax(self) -> str | None:
        return self.params.get("transfer-syntax")


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``'multipart/related; type="application/dicom"; boundary=x'`` → (mime, params)."""
    msg = email.message.Message()
    msg["Content-Type"] = value
    mime = msg.get_content_type().lower()
    params = {
        key.lower(): email.utils.collapse_rfc2231_value(val)
        for key, val in (msg.get_params() or [])[1:]
    }
    if "/" not in value.split(";", 1)[0]:
        mime = ""  # the email package defaults to text/plain; an HTTP peer meant nothing
    return mime, params


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header, best first (missing header: ``*/*``)."""
    if not header or not header.strip():
        return [MediaRange("*/*", {}, 1.0)]
    ranges = []
    for index, item in enumerate(parse_http_list(header)):
        mime, params = parse_media_type(item)
        if not mime:
            continue
        try:
            quality = float(params.pop("q", "1") or 1)
        except ValueError:
            quality = 1.0
        ranges.append((quality, -index, MediaRange(mime, params, quality)))
    ranges.sort(key=lambda r: (r[0], r[1]), reverse=True)
    return [r[2] for r in ranges if r[0] > 0]


def part_header(content_type: str, location: str | None = None) -> bytes:
    """The header block of one body part (RFC 2046 §5.1; CRLF line ends)."""
    lines = [f"Content-Type: {content_type}"]
    if location:
        lines.append(f"Content-Location: {location}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def multipart_content_type(part_type: str, boundary: str, transfer_syntax: str | None) -> str:
    """``multipart/related; type="…"; boundary=…`` for a response (RFC 2387)."""
    value = f'multipart/related; type="{part_type}"; boundary={boundary}'
    if transfer_syntax:
        value += f"; transfer-syntax={transfer_syntax}"
    return value
