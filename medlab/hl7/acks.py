"""The acknowledgement: the short message a receiver sends back.

HL7 v2.x Chapter 2, "Original acknowledgment rules" and the ACK message: the
receiver does **not** echo the message back. It answers with a new, short
message of two (or three) segments:

* MSH, with sender and receiver swapped (MSH-3/4 become MSH-5/6 and back),
  its own date/time (MSH-7) and control ID (MSH-10), and the message type
  ``ACK^<trigger of the original>^ACK`` (MSH-9; v2.3 has no third component);
* MSA, whose MSA-1 is the acknowledgement code and MSA-2 the **original**
  message's control ID, so the sender knows which message is answered:

  ====  ===============================================================
  AA    Application Accept: processed.
  AE    Application Error: understood but could not be processed
        (bad content: a missing required field, a wrong value).
  AR    Application Reject: not processed at all (unsupported message
        type, version or processing ID, or the receiver is down).
  ====  ===============================================================

* ERR (on AE and AR), saying which segment and field failed and why, with an
  HL7 table 0357 error code. Before v2.5 ERR-1 carries this; from v2.5 ERR-2,
  ERR-3 and the user message ERR-8. Before v2.7 MSA-3 also carries the text.

(Enhanced mode adds *commit* acknowledgements CA/CE/CR sent by the transport
layer before the application ones; the course uses original mode.)
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.hl7.escaping import escape
from medlab.hl7.message import (
    DEFAULT_DELIMITERS,
    SUPPORTED_VERSIONS,
    delimiters,
    msh_fields,
    original_text,
    parse,
)

if TYPE_CHECKING:
    from hl7apy.core import Message

#: HL7 table 0357 (message error condition codes) used by the course.
ERROR_CODES = {
    0: "Message accepted",
    100: "Segment sequence error",
    101: "Required field missing",
    102: "Data type error",
    103: "Table value not found",
    200: "Unsupported message type",
    201: "Unsupported event code",
    202: "Unsupported processing id",
    203: "Unsupported version id",
    204: "Unknown key identifier",
    205: "Duplicate key identifier",
    206: "Application record locked",
    207: "Application internal error",
}

_CODES = ("AA", "AE", "AR")


def _timestamp(when: datetime | str | None) -> str:
    if when is None:
        return datetime.now().strftime("%Y%m%d%H%M%S")
    if isinstance(when, datetime):
        return when.strftime("%Y%m%d%H%M%S")
    return str(when)


def _location(where: str | None, field_sep: str, comp: str) -> list[str]:
    """``"PID-7"`` -> ``["PID", "1", "7"]`` (segment, sequence, field position)."""
    if not where:
        return []
    found = re.match(r"^([A-Z][A-Z0-9]{2})(?:\((\d+)\))?(?:-(\d+))?", where)
    if not found:  # "segment 5 (XYZ)": the segment ID, no field
        segment = re.match(r"^segment \d+ \(([A-Z][A-Z0-9]{2})\)$", where)
        return [segment.group(1), "1", ""] if segment else []
    return [found.group(1), found.group(2) or "1", found.group(3) or ""]


def ack(
    msg: Any,
    code: str = "AA",
    text: str | None = None,
    *,
    error_code: int | None = None,
    where: str | None = None,
    when: datetime | str | None = None,
    control_id: str | None = None,
) -> Message:
    """Build the acknowledgement of ``msg`` and return it as a parsed hl7apy message.

    Parameters
    ----------
    msg:
        The message being answered: parsed (:func:`medlab.hl7.parse`) or its
        text. Only its MSH is read, so even a message hl7apy cannot parse can
        be answered with AE.
    code:
        ``"AA"`` (accept), ``"AE"`` (error) or ``"AR"`` (reject).
    text:
        Why (for AE/AR): goes to ERR-8 (v2.5+) and MSA-3 (before v2.7).
    error_code:
        HL7 table 0357 code for ERR-3 (:data:`ERROR_CODES`): say what is wrong,
        e.g. 101 required field missing, 102 data type error, 103 table value
        not found. Default 207 (application internal error) for AE, 200
        (unsupported message type) for AR.
    where:
        The failing position, e.g. ``"PID-7"``: ERR-2 (error location,
        segment^sequence^field) from v2.5, ERR-1 before.
    when, control_id:
        MSH-7 and MSH-10 of the ACK; default now, and ``"A"`` + the original
        control ID (unique as long as the sender's IDs are).

    >>> a = ack("MSH|^~\\\\&|REG|HOSP|RIS|RAD|20240101||ADT^A04^ADT_A01|MSG1|P|2.5", when="20240101")
    >>> print(a.to_er7().replace("\\r", "\\n"))
    MSH|^~\\&|RIS|RAD|REG|HOSP|20240101||ACK^A04^ACK|AMSG1|P|2.5
    MSA|AA|MSG1
    """
    code = code.upper()
    if code not in _CODES:
        raise MedlabError(
            f"{code!r} is not an original-mode acknowledgement code",
            where="MSA-1",
            fix="Use AA (accept), AE (error) or AR (reject).",
        )
    raw = original_text(msg) if not isinstance(msg, (str, bytes)) else _safe_text(msg)
    try:
        d = delimiters(raw)
        msh = msh_fields(raw.split("\r")[0], d)
    except MedlabError:
        d, msh = DEFAULT_DELIMITERS, []

    def get(n: int) -> str:
        return msh[n] if len(msh) > n else ""

    version = get(12).split(d.component)[0].strip()
    if version not in SUPPORTED_VERSIONS:
        version = "2.5"
    trigger_parts = get(9).split(d.component)
    trigger = trigger_parts[1] if len(trigger_parts) > 1 else ""
    msg_type = (
        f"ACK{d.component}{trigger}"
        if version == "2.3"
        else (f"ACK{d.component}{trigger}{d.component}ACK")
    )
    original_id = get(10)
    if control_id is None:
        control_id = ("A" + original_id)[:20] if original_id else f"A{time.time_ns() % 10**12}"
    f = d.field
    header = f.join(
        [
            "MSH",
            d.encoding_characters,
            get(5),
            get(6),
            get(3),
            get(4),
            _timestamp(when),
            "",
            msg_type,
            control_id,
            get(11) or "P",
            version,
        ]
    )
    msa = ["MSA", code, original_id]
    modern = version not in ("2.1", "2.2", "2.3", "2.3.1", "2.4")
    if text and version < "2.7":  # MSA-3 text message: withdrawn from v2.7
        msa.append(escape(text, d))
    segments = [header, f.join(msa)]
    if code != "AA" and (text or error_code or where):
        number = error_code if error_code is not None else (200 if code == "AR" else 207)
        label = ERROR_CODES.get(number, "")
        loc = _location(where, f, d.component)
        c, s = d.component, d.subcomponent
        if modern:
            # ERR-1 (withdrawn from v2.7) empty, ERR-2 location, ERR-3 code, ERR-4 severity,
            # ERR-8 the user message
            err = [
                "ERR",
                "",
                c.join(loc).rstrip(c),
                c.join([str(number), label, "HL70357"]),
                "E",
                "",
                "",
                "",
                escape(text or label, d),
            ]
        else:
            eld = (loc + ["", "", ""])[:3] + [s.join([str(number), label, "HL70357"])]
            err = ["ERR", c.join(eld)]
        segments.append(f.join(err))
    return parse("\r".join(segments))


def _safe_text(msg: str | bytes) -> str:
    from medlab.hl7.message import normalize

    return normalize(msg)
