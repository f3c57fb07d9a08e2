"""STOW-RS, the Store transaction (PS3.18 §10.5), into the PACS store.

The body is ``multipart/related; type="application/dicom"``: one PS3.10 file
per part. It is split by the standard library's MIME parser
(:mod:`email`, ``BytesParser``): the ``multipart`` package on PyPI parses
only ``multipart/form-data`` (it refuses a part without Content-Disposition,
which STOW parts do not carry), and requests-toolbelt's decoder is a client
tool that adds a dependency for the same in-memory split. The request body
is bounded by the server's ``max_body_size``; the store takes each instance
as bytes, as C-STORE does.

Each part is stored through the ``put`` callable (by default
:meth:`medlab.net.store.Store.put`: UID checks, atomic write, index row), with
the File Meta Information's SOP Class/Instance checked against the data set.
The response is the Store Instances Response Module (PS3.18 Annex I) as DICOM
JSON, and the HTTP status follows Table 10.5.3-1: 200 all stored, 202 some
stored, 409 none stored, 400 unreadable body, 415 not application/dicom parts.

A duplicate (an instance already in the archive) is stored again and replaces
the old copy, exactly as a C-STORE re-send does here: PS3.18 Table I.2-2 has
no duplicate failure reason, so it is a success (200).
"""

from __future__ import annotations

import email.parser
import email.policy
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medlab.net.dicomweb.media import parse_media_type
from medlab.net.store import StoredInstance, StoreFailure, clean_uid

#: Failure Reason (0008,1197) values used here (PS3.18 Table I.2-2).
PROCESSING_FAILURE = 0x0110
DATASET_DOES_NOT_MATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000
OUT_OF_RESOURCES = 0xA700

Put = Callable[..., StoredInstance]


class UnsupportedMedia(Exception):
    """415: the request is not multipart/related application/dicom."""


class BadBody(Exception):
    """400: the body cannot be split into parts."""


@dataclass
class Outcome:
    """What happened to one part."""

    sop_class: str
    sop_instance: str
    failure: int | None  # Failure Reason, None when stored
    comment: str = ""
    stored: StoredInstance | None = None


@dataclass
class Report:
    """One STOW-RS request as the archive saw it: who, where, the HTTP status, each part."""

    peer: str
    path: str
    status: int
    outcomes: list[Outcome]
    problem: str = ""  # why the body as a whole was refused (415, 400), else empty


def split_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The ``(media type, bytes)`` of each part of a multipart/related body."""
    mime, params = parse_media_type(content_type or "")
    if mime != "multipart/related":
        raise UnsupportedMedia(
            f"Content-Type {content_type or '(none)'!r}: STOW-RS takes "
            'multipart/related; type="application/dicom" (PS3.18 §10.5.1)'
        )
    part_type = params.get("type", "application/dicom").lower()
    if part_type != "application/dicom":
        raise UnsupportedMedia(
            f'type="{part_type}": this archive stores application/dicom parts only '
            "(not the JSON/XML metadata + bulk data form)"
        )
    if not params.get("boundary"):
        raise BadBody("The Content-Type has no boundary parameter")
    header = f"Content-Type: {content_type}\r\n\r\n".encode("utf-8", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not msg.is_multipart() or msg.defects:
        problems = ", ".join(type(d).__name__ for d in msg.defects) or "no parts"
        raise BadBody(f"The body is not a well-formed multipart/related message ({problems})")
    parts = []
    for part in msg.iter_parts():
        payload = part.get_payload(decode=True)
        parts.append(
            (part.get_content_type().lower(), payload if isinstance(payload, bytes) else b"")
        )
    if not parts:
        raise BadBody("The body has no parts")
    return parts


def store_part(
    media_type: str, data: bytes, put: Put, study: str | None, source: str = ""
) -> Outcome:
    """Check and store one part; never raises for bad content."""
    if media_type != "application/dicom":
        return Outcome(
            "", "", CANNOT_UNDERSTAND, f"part of type {media_type}, not application/dicom"
        )
    try:
        meta = _file_meta(data)
        start = 132 + 12 + int(meta.FileMetaInformationGroupLength)
    except Exception as err:  # noqa: BLE001 - anything unreadable is the sender's problem
        return Outcome("", "", CANNOT_UNDERSTAND, f"not a DICOM PS3.10 file: {err}"[:200])
    sop_class = clean_uid(meta.get("MediaStorageSOPClassUID", ""))
    sop_instance = clean_uid(meta.get("MediaStorageSOPInstanceUID", ""))
    ts = clean_uid(meta.get("TransferSyntaxUID", ""))
    if not ts:
        return Outcome(
            sop_class, sop_instance, CANNOT_UNDERSTAND, "no Transfer Syntax UID in the file meta"
        )
    if study is not None:
        found = _study_of(data[start:], ts)
        if found != study:
            return Outcome(
                sop_class,
                sop_instance,
                DATASET_DOES_NOT_MATCH,
                f"Study Instance UID {found!r} differs from the study in the URL",
            )
    try:
        stored = put(
            memoryview(data)[start:],
            ts,
            sop_class=sop_class or None,
            sop_instance=sop_instance or None,
            source_aet=source,
        )
    except StoreFailure as err:
        return Outcome(sop_class, sop_instance, err.status, err.comment)
    return Outcome(stored.sop_class, stored.sop_uid, None, stored=stored)


def _file_meta(data: bytes) -> Any:
    """The File Meta Information group (PS3.10 §7.1) of a file's bytes.

    The data set starts right after it: 128-byte preamble, ``DICM``, the group
    length element (12 bytes) and the group (its length is Type 1).
    """
    from pydicom.filereader import read_partial

    ds = read_partial(io.BytesIO(data), stop_when=lambda tag, vr, length: True)
    if "FileMetaInformationGroupLength" not in ds.file_meta:
        raise ValueError("File Meta Information Group Length (0002,0000) is missing")
    return ds.file_meta


def _study_of(data: bytes, ts: str) -> str:
    from medlab.net.received import parse_received

    try:
        return clean_uid(parse_received(data, ts).get("StudyInstanceUID", ""))
    except Exception:  # noqa: BLE001 - put() reports the real problem
        return ""


def response(
    outcomes: list[Outcome], base: str, study_url: str | None
) -> tuple[int, dict[str, Any]]:
    """HTTP status (Table 10.5.3-1) and the Store Instances Response Module (Annex I)."""
    from pydicom import Dataset

    ds = Dataset()
    stored = [o for o in outcomes if o.failure is None]
    failed = [o for o in outcomes if o.failure is not None]
    studies = {o.stored.study_uid for o in stored if o.stored}
    if study_url:
        ds.RetrieveURL = study_url
    elif len(studies) == 1:
        ds.RetrieveURL = f"{base}/studies/{next(iter(studies))}"
    else:
        ds.RetrieveURL = None
    if failed:
        items = []
        for o in failed:
            item = Dataset()
            item.ReferencedSOPClassUID = o.sop_class or None
            item.ReferencedSOPInstanceUID = o.sop_instance or None
            item.FailureReason = o.failure
            items.append(item)
        ds.FailedSOPSequence = items
    if stored:
        items = []
        for o in stored:
            assert o.stored is not None
            item = Dataset()
            item.ReferencedSOPClassUID = o.sop_class
            item.ReferencedSOPInstanceUID = o.sop_instance
            item.RetrieveURL = (
                f"{base}/studies/{o.stored.study_uid}/series/{o.stored.series_uid}"
                f"/instances/{o.stored.sop_uid}"
            )
            items.append(item)
        ds.ReferencedSOPSequence = items
    status = 200 if not failed else 202 if stored else 409
    return status, ds.to_json_dict()
