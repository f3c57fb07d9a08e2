"""Reading an HL7 v2 message the way real feeds send it.

The encoding rules are in HL7 v2.x Chapter 2 (Control), section "Message
construction rules": a message is a sequence of segments, each ended by a
carriage return (``\\r``, 0x0D); a segment is a three-character segment ID
followed by fields separated by the *field separator*. The message declares
its own delimiters in its first segment, MSH:

* MSH-1, the character right after ``MSH``, is the field separator (``|``);
* MSH-2 lists the component (``^``), repetition (``~``), escape (``\\``) and
  sub-component (``&``) separators, and from v2.7 optionally the truncation
  character (``#``).

Real feeds bend the rules: Windows or Unix line ends instead of ``\\r``, a
trailing separator or none, a UTF-8 byte order mark from an editor. :func:`parse`
accepts all of those, checks the structure itself, and only then hands the
text to hl7apy, so a broken message is explained in plain words (segment,
field, what to do) instead of a library traceback.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError

if TYPE_CHECKING:
    from hl7apy.core import Message

#: Versions whose definitions hl7apy ships (MSH-12 must name one of them).
SUPPORTED_VERSIONS = (
    "2.1",
    "2.2",
    "2.3",
    "2.3.1",
    "2.4",
    "2.5",
    "2.5.1",
    "2.6",
    "2.7",
    "2.8",
    "2.8.1",
    "2.8.2",
)

_BOM = "\ufeff"
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")

# The original text of each parsed message: hl7apy's own to_er7() moves fields
# beyond a segment's definition and drops unknown segments when it finds
# groups, so dissect() reads the text the message was parsed from.
_ORIGINAL_TEXT: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Delimiters:
    """The delimiters a message declares in MSH-1 and MSH-2."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str | None = None

    @property
    def encoding_characters(self) -> str:
        """MSH-2 as it appears in the message, e.g. ``^~\\&``."""
        return (
            self.component
            + self.repetition
            + self.escape
            + self.subcomponent
            + (self.truncation or "")
        )

    def __str__(self) -> str:
        return self.field + self.encoding_characters


DEFAULT_DELIMITERS = Delimiters()


@dataclass(frozen=True)
class Finding:
    """One problem found by :func:`validate`: how bad, where, and what."""

    severity: str  # "error", "warning" or "info"
    where: str  # e.g. "PID-7" or "segment 4 (ZXT)"
    what: str

    def __str__(self) -> str:
        return f"{self.severity.upper():8} {self.where:<14} {self.what}"

    def __repr__(self) -> str:
        return f"Finding({self.severity} at {self.where}: {self.what})"


class Findings(list):
    """What :func:`validate` found: a list of :class:`Finding`, shown as a readable table."""

    def __repr__(self) -> str:
        if not self:
            return "No findings: the message is well formed."
        header = f"{'SEVERITY':8} {'WHERE':<14} WHAT"
        return "\n".join([header, *(str(finding) for finding in self)])

    def _repr_html_(self) -> str:
        import html

        if not self:
            return "<p>No findings: the message is well formed.</p>"
        rows = "".join(
            f"<tr><td>{html.escape(f.severity)}</td><td><code>{html.escape(f.where)}</code></td>"
            f"<td>{html.escape(f.what)}</td></tr>"
            for f in self
        )
        return (
            '<table class="medlab-findings"><thead><tr><th>severity</th><th>where</th>'
            f"<th>what</th></tr></thead><tbody>{rows}</tbody></table>"
        )


def normalize(text: str | bytes) -> str:
    """Return ``text`` as one message with ``\\r`` after every segment but the last.

    Accepts ``\\r``, ``\\n`` or ``\\r\\n`` line ends, a trailing separator or
    none, surrounding blank lines, a UTF-8 byte order mark and bytes (decoded as
    UTF-8, or Latin-1 when that fails, as many older feeds send ISO 8859-1).
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            text = bytes(text).decode("latin-1")
    text = text.lstrip(_BOM)
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    return "\r".join(line for line in lines if line.strip())


def delimiters(text: str) -> Delimiters:
    """Read the delimiters declared in MSH-1 and MSH-2, checking them as HL7 requires.

    Raises :class:`MedlabError` naming MSH-1 or MSH-2 when they are missing,
    repeated or unusable.
    """
    text = text.lstrip(_BOM).lstrip()
    if not text.startswith("MSH"):
        first = re.split(r"[\r\n]", text, maxsplit=1)[0][:20] if text else ""
        raise MedlabError(
            f'The message does not start with an MSH segment (it starts with "{first}")'
            if text
            else "The message is empty",
            where="segment 1",
            fix="Every HL7 v2 message begins with the message header MSH, whose first "
            "characters declare the delimiters (MSH|^~\\&|...). Check that you passed the "
            "whole message and not just some of its segments.",
        )
    if len(text) < 8:
        raise MedlabError(
            "The MSH segment is truncated before its delimiters",
            where="MSH-1/MSH-2",
            fix="A message header starts with MSH, the field separator and four encoding "
            "characters, e.g. MSH|^~\\&|.",
        )
    field = text[3]
    if field.isalnum() or field.isspace():
        raise MedlabError(
            f"MSH-1 (field separator) is {field!r}, which cannot be a delimiter",
            where="MSH-1",
            fix="The character right after 'MSH' is the field separator, usually '|'.",
        )
    end = text.find(field, 4)
    first_line = re.split(r"[\r\n]", text, maxsplit=1)[0]
    if end == -1 or end > len(first_line):
        end = len(first_line)
    enc = text[4:end]
    if len(enc) < 4:
        raise MedlabError(
            f"MSH-2 (encoding characters) is {enc!r}: it needs four characters, "
            "component, repetition, escape and sub-component separators",
            where="MSH-2",
            fix="Use the standard ^~\\& unless the sender declares others.",
        )
    if len(enc) > 5:
        raise MedlabError(
            f"MSH-2 (encoding characters) is {enc!r}: more than five characters",
            where="MSH-2",
            fix="MSH-2 holds ^~\\& (and from v2.7 optionally the truncation character #); "
            "is the field separator after it missing?",
        )
    chars = field + enc
    if len(set(chars)) != len(chars) or any(c.isalnum() or c.isspace() for c in enc):
        raise MedlabError(
            f"MSH-1 and MSH-2 declare the delimiters {chars!r}: each must be a different "
            "punctuation character",
            where="MSH-2",
            fix="The usual declaration is MSH|^~\\&.",
        )
    return Delimiters(field, enc[0], enc[1], enc[2], enc[3], enc[4] if len(enc) == 5 else None)


def msh_fields(msh: str, delims: Delimiters) -> list[str]:
    """Split an MSH segment so that ``fields[n]`` is MSH-n (``fields[0]`` is 'MSH').

    MSH is special: MSH-1 *is* the field separator, so the first split part
    after 'MSH' is MSH-2.
    """
    parts = msh.split(delims.field)
    return ["MSH", delims.field, *parts[1:]]


def segment_fields(segment: str, delims: Delimiters) -> list[str]:
    """Split any segment so that ``fields[n]`` is field n (``fields[0]`` is the ID)."""
    if segment.startswith("MSH"):
        return msh_fields(segment, delims)
    return segment.split(delims.field)


def check_structure(text: str) -> tuple[Delimiters, str, list[str]]:
    """Check what hl7apy would trip over; return the delimiters, version and segments.

    ``text`` must already be normalised (segments joined by ``\\r``).
    """
    delims = delimiters(text)
    segments = text.split("\r")
    msh = msh_fields(segments[0], delims)
    if len(msh) <= 9 or not msh[9].strip():
        raise MedlabError(
            "MSH-9 (message type) is missing: the header is truncated or a field "
            "separator is missing",
            where="MSH-9",
            fix="MSH-9 says what the message is, e.g. ADT^A01^ADT_A01 (message code, trigger "
            "event, structure); without it no receiver can route the message.",
        )
    if len(msh) <= 12 or not msh[12].strip():
        raise MedlabError(
            "MSH-12 (version ID) is missing",
            where="MSH-12",
            fix="MSH-12 names the HL7 version the message follows, e.g. 2.5.1 or 2.8.2; "
            "count the field separators in MSH: the version is field 12.",
        )
    version = msh[12].split(delims.component)[0].strip()
    if version not in SUPPORTED_VERSIONS:
        raise MedlabError(
            f"MSH-12 declares HL7 version {version!r}, which has no definitions here",
            where="MSH-12",
            fix="medlab (through hl7apy) knows versions "
            f"{', '.join(SUPPORTED_VERSIONS)}. HL7 v3 and FHIR are different standards, not "
            "newer v2 versions.",
        )
    for number, segment in enumerate(segments, start=1):
        seg_id = segment[:3]
        if not _SEGMENT_ID.match(seg_id) or (len(segment) > 3 and segment[3] != delims.field):
            shown = '"' + segment[:24] + ('..."' if len(segment) > 24 else '"')
            if len(segment) < 3 or not _SEGMENT_ID.match(seg_id):
                what = (
                    f"Segment {number} ({shown}) does not start with a three-character "
                    "segment ID: it looks truncated or split across lines"
                )
            else:
                what = (
                    f"Segment {number} ({shown}) does not use the field separator "
                    f"{delims.field!r} declared in MSH-1"
                )
            raise MedlabError(
                what,
                where=f"segment {number}",
                fix="Each segment starts with an ID such as PID or OBX followed by the field "
                "separator. Check for a line break inside a field, a cut-off message, or "
                "delimiters that differ from those declared in MSH.",
            )
    return delims, version, segments


def known_segment(seg_id: str, version: str) -> bool:
    """True when hl7apy's definitions for ``version`` include segment ``seg_id``."""
    from hl7apy import load_reference
    from hl7apy.exceptions import ChildNotFound

    try:
        load_reference(seg_id, "Segment", version)
    except ChildNotFound:
        return False
    return True


def parse(text: str | bytes) -> Message:
    """Parse one HL7 v2 message into an hl7apy ``Message``.

    Accepts ``\\r``, ``\\n`` or ``\\r\\n`` segment separators, a trailing
    separator or none, a UTF-8 BOM, and any delimiters declared in MSH-1/MSH-2.
    Segments are kept in message order as direct children (hl7apy's
    ``find_groups=False``), so ``msg.pid`` works for every message type and
    Z-segments are kept; versions are those of :data:`SUPPORTED_VERSIONS`.

    Raises
    ------
    MedlabError
        For a message without MSH, unusable delimiters, a truncated or malformed
        segment, an unknown segment or version; the error names the segment
        and field and says what to check.

    Examples
    --------
    >>> msg = parse("MSH|^~\\\\&|RIS|RAD|PACS|RAD|20240101||ADT^A01|1|P|2.5\\nPID|1||42")
    >>> msg.pid.pid_3.to_er7()
    '42'
    """
    text = normalize(text)
    delims, version, segments = check_structure(text)
    for number, segment in enumerate(segments, start=1):
        seg_id = segment[:3]
        if not seg_id.startswith("Z") and not known_segment(seg_id, version):
            raise MedlabError(
                f"Segment {number} is {seg_id!r}, which HL7 v{version} does not define",
                where=f"segment {number} ({seg_id})",
                fix="Check the segment ID for a typo. Site-specific segments must start "
                "with Z (e.g. ZDS) so that receivers know to treat them as local extensions.",
            )
    from hl7apy.exceptions import HL7apyException
    from hl7apy.parser import parse_message

    try:
        msg = parse_message(text, find_groups=False)
    except HL7apyException as exc:
        raise MedlabError(
            f"hl7apy could not read the message: {exc}",
            where=_guess_where(str(exc)),
            fix="Compare the segment with its definition (medlab.hl7.dissect shows each "
            "field's name and type).",
        ) from None
    _ORIGINAL_TEXT[msg] = text
    return msg


def _guess_where(message: str) -> str:
    found = re.search(r"\b([A-Z][A-Z0-9]{2})_(\d+)\b", message)
    return f"{found.group(1)}-{found.group(2)}" if found else "the message"


def original_text(msg: Any) -> str:
    """The normalised text ``msg`` was parsed from (or hl7apy's ER7 rendering)."""
    if isinstance(msg, (str, bytes)):
        return normalize(msg)
    try:
        return _ORIGINAL_TEXT[msg]
    except (KeyError, TypeError):
        return normalize(msg.to_er7())


def er7(msg: Any) -> str:
    """The message as HL7 text (ER7), segments separated by ``\\r``.

    Prefer this to hl7apy's ``to_er7()`` for a parsed message: it returns the
    text exactly as received, while hl7apy re-renders it from its definitions
    (moving fields its version does not define).
    """
    return original_text(msg)


def validate(msg: Any) -> Findings:
    """Return the problems a receiver might care about, without raising.

    The result is a list of :class:`Finding` that a notebook shows as a table
    (severity, where, what), and ``print`` as aligned lines.

    A structural problem that :func:`parse` refuses becomes one ``error``
    finding. For a readable message it lists: required MSH fields left
    empty, values in withdrawn fields or beyond a segment's definition,
    repetitions of a field that does not repeat, and Z-segments (``info``).
    """
    try:
        if isinstance(msg, (str, bytes)):
            msg = parse(msg)
    except MedlabError as err:
        return Findings([Finding("error", err.where or "message", err.what)])
    from medlab.hl7.anatomy import dissect

    findings = Findings()
    text = original_text(msg)
    delims = delimiters(text)
    msh = msh_fields(text.split("\r")[0], delims)
    for n, name in ((7, "date/time of message"), (10, "message control ID"), (11, "processing ID")):
        if len(msh) <= n or not msh[n]:
            findings.append(
                Finding("warning", f"MSH-{n}", f"The {name} is empty; HL7 requires it.")
            )
    for row in dissect(msg).rows:
        if row.kind == "segment" and row.note:
            findings.append(Finding("info", row.position, row.note))
        elif row.kind in ("field", "repetition") and row.note:
            findings.append(Finding("warning", row.position, row.note))
    return findings
