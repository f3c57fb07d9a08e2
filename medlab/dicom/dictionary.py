"""The data dictionary (PS3.6) and the VRs a trainee meets, with real examples (lesson 03).

:func:`lookup` gives a tag's keyword, name, VR and VM (the dictionary's VM is the rule; the VM
column of :func:`~medlab.dicom.header.header_table` counts the values a file holds).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from medlab.dicom._layout import tag_text
from medlab.dicom._read import load
from medlab.dicom.hexdump import _short, describe_value
from medlab.errors import MedlabError

# -- the data dictionary ----------------------------------------------------


@dataclass(frozen=True)
class TagInfo:
    """One entry of the data dictionary (PS3.6 §6): tag, keyword, name, VR, VM."""

    tag: int
    keyword: str
    name: str
    vr: str
    vm: str
    retired: bool

    def __repr__(self) -> str:
        retired = " (retired)" if self.retired else ""
        return f"{tag_text(self.tag)} {self.keyword}: {self.name!r}, VR {self.vr}, VM {self.vm}{retired}"

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(repr(self))}</code>"


_TAG_TEXT = re.compile(r"^\(?\s*([0-9A-Fa-f]{4})\s*[, ]?\s*([0-9A-Fa-f]{4})\s*\)?$")


def lookup(key: Any) -> TagInfo:
    """Look a tag up in pydicom's copy of the PS3.6 data dictionary.

    ``key`` may be a keyword (``"StudyDate"``), a name (``"Study Date"``), a tag
    as an int (``0x00080020``), a tuple (``(0x0008, 0x0020)``) or text
    (``"(0008,0020)"``, ``"00080020"``).
    """
    from pydicom.datadict import (
        dictionary_description,
        dictionary_is_retired,
        dictionary_keyword,
        dictionary_VM,
        dictionary_VR,
        tag_for_keyword,
    )

    tag: int | None = None
    if isinstance(key, int):
        tag = key
    elif isinstance(key, tuple) and len(key) == 2:
        tag = (key[0] << 16) | key[1]
    elif isinstance(key, str):
        text = key.strip()
        match = _TAG_TEXT.match(text)
        if match:
            tag = int(match.group(1) + match.group(2), 16)
        else:
            tag = tag_for_keyword(text) or _tag_for_name(text)
    if tag is None:
        raise MedlabError(
            f"{key!r} is not a keyword, name or tag in the DICOM dictionary",
            fix="Keywords are CamelCase without spaces, e.g. 'PatientName'; tags look like '(0010,0010)'.",
        )
    if (tag >> 16) % 2 == 1:
        raise MedlabError(
            f"{tag_text(tag)} is a private tag (odd group): the public dictionary does not define it",
            fix="Its meaning is set by the private creator that reserves its block; see lesson 03, section 6.",
        )
    try:
        return TagInfo(
            tag,
            dictionary_keyword(tag),
            dictionary_description(tag),
            dictionary_VR(tag),
            dictionary_VM(tag),
            bool(dictionary_is_retired(tag)),
        )
    except KeyError:
        raise MedlabError(
            f"{tag_text(tag)} is not in the DICOM data dictionary",
            fix="Check the group and element numbers.",
        ) from None


@lru_cache(maxsize=1)
def _names() -> dict[str, int]:
    from pydicom._dicom_dict import DicomDictionary

    return {entry[2].casefold(): tag for tag, entry in DicomDictionary.items()}


def _tag_for_name(name: str) -> int | None:
    return _names().get(name.casefold())


# -- the VRs a trainee meets --------------------------------------------------

#: VR -> (name, what it holds, in our words; PS3.5 Table 6.2-1 has the rules).
VRS: dict[str, tuple[str, str]] = {
    "AE": ("Application Entity", "an AE title: up to 16 characters, names a DICOM node"),
    "AS": ("Age String", "nnnD/W/M/Y, always 4 characters, e.g. 045Y"),
    "CS": ("Code String", "an upper-case code from a defined list, up to 16 characters"),
    "DA": ("Date", "YYYYMMDD, 8 characters"),
    "DS": ("Decimal String", "a decimal number written as text, up to 16 characters"),
    "DT": ("Date Time", "YYYYMMDDHHMMSS.FFFFFF&ZZXX, up to 26 characters"),
    "IS": ("Integer String", "an integer written as text, up to 12 characters"),
    "LO": ("Long String", "free text, up to 64 characters, no backslash"),
    "LT": ("Long Text", "free text with paragraphs, up to 10240 characters"),
    "PN": ("Person Name", "Family^Given^Middle^Prefix^Suffix, up to 64 characters per group"),
    "SH": ("Short String", "free text, up to 16 characters"),
    "SQ": ("Sequence of Items", "nested data sets (items); no value of its own"),
    "ST": ("Short Text", "free text with paragraphs, up to 1024 characters"),
    "TM": ("Time", "HHMMSS.FFFFFF, up to 14 characters"),
    "UI": ("Unique Identifier", "digits and dots, up to 64 characters, NUL-padded"),
    "UL": ("Unsigned Long", "a 32-bit unsigned binary integer"),
    "US": ("Unsigned Short", "a 16-bit unsigned binary integer"),
    "OB": ("Other Byte", "a byte stream; byte order does not matter"),
    "OW": ("Other Word", "a stream of 16-bit words; byte-swapped in Big Endian"),
    "UN": ("Unknown", "bytes whose VR the writer did not know (e.g. a private tag)"),
}

#: Samples searched, in this order, for an example of each VR.
_EXAMPLE_SAMPLES = (
    "ct",
    "mr",
    "mr_overlay",
    "sr_comprehensive",
    "rt_plan",
    "us_rgb",
    "seg",
    "ecg",
    "cr_mono1",
    "un_private",
)


@dataclass(frozen=True)
class VRCatalogue:
    rows: tuple[tuple[str, str, str, str, str], ...]  # VR, name, holds, sample, example

    def __repr__(self) -> str:
        lines = [f"{'VR':<3} {'Name':<18} {'Example (sample: keyword = value)'}"]
        for vr, name, _holds, sample, example in self.rows:
            lines.append(
                f"{vr:<3} {name:<18} {sample}: {example}"
                if sample
                else f"{vr:<3} {name:<18} (none in the samples)"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td><b>{vr}</b></td><td>{name}</td><td>{html.escape(holds)}</td><td>{sample}</td>"
            f"<td><code>{html.escape(example)}</code></td></tr>"
            for vr, name, holds, sample, example in self.rows
        )
        return (
            '<table class="medlab-vr-catalogue" style="font-size:12px"><thead><tr><th>VR</th><th>Name</th>'
            "<th>Holds</th><th>Sample</th><th>Example</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )


@lru_cache(maxsize=1)
def vr_catalogue() -> VRCatalogue:
    """The VRs a trainee meets, each with a real example from a sample file."""
    import medlab.data

    found: dict[str, tuple[str, str]] = {}
    for sample in _EXAMPLE_SAMPLES:
        ds = load(medlab.data.get_path(sample)).dataset
        for elem in [*ds.file_meta, *ds.iterall()]:
            # UN is met on private elements (a VR the reader's dictionary does not know)
            public_or_un = not elem.tag.is_private or elem.VR == "UN"
            if (
                elem.VR in VRS
                and elem.VR not in found
                and public_or_un
                and elem.value not in (None, "", b"")
            ):
                if elem.VR == "SQ" and not len(elem.value):
                    continue
                label = elem.keyword or f"private {tag_text(elem.tag)}"
                found[elem.VR] = (sample, f"{label} = {_short(describe_value(elem), 40)}")
    rows = tuple(
        (vr, name, holds, *found.get(vr, ("", "(none in the samples)")))
        for vr, (name, holds) in VRS.items()
    )
    return VRCatalogue(rows)
