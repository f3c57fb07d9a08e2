"""medlab.hl7.parse / dissect / escape / validate over a corpus of messages.

The corpus is medlab.hl7.samples (sources cited there): HL7 v2.3, 2.4, 2.5.1, 2.6,
2.7 and 2.8.2, ADT, ORM, OMI and ORU, a Z-segment, custom delimiters and an
escaped "A&E". Each is also fed with the variations real feeds send.
"""

from __future__ import annotations

import pytest

import medlab.hl7 as hl7
from medlab.errors import MedlabError
from medlab.hl7 import samples

VARIANTS = {
    "cr": lambda t: t,
    "lf": lambda t: t.replace("\r", "\n"),
    "crlf": lambda t: t.replace("\r", "\r\n"),
    "trailing-cr": lambda t: t + "\r",
    "trailing-crlf-and-blank-lines": lambda t: "\r\n" + t.replace("\r", "\r\n") + "\r\n\r\n",
    "bom": lambda t: "\ufeff" + t,
    "bytes-utf8-bom": lambda t: ("\ufeff" + t.replace("\r", "\n")).encode("utf-8"),
}

EXPECTED = {  # name -> (hl7apy structure, version, number of segments)
    "ADT_A01": ("ADT_A01", "2.8.2", 7),
    "ADT_A02_V23": ("ADT_A02", "2.3", 4),
    "ADT_A03_CUSTOM": ("ADT_A03", "2.6", 4),
    "ADT_A04_AE": ("ADT_A01", "2.4", 4),
    "ADT_A06": ("ADT_A06", "2.5.1", 4),
    "ADT_A06_NO_DOB": ("ADT_A06", "2.5.1", 4),
    "ADT_A08_Z": ("ADT_A01", "2.7", 5),
    "ORM_O01": ("ORM_O01", "2.5.1", 6),
    "OMI_O23": ("OMI_O23", "2.6", 7),
    "ORU_R01": ("ORU_R01", "2.5.1", 5),
}


def test_the_corpus_spans_versions_2_3_to_2_8():
    versions = {v for _, v, _ in EXPECTED.values()}
    assert {"2.3", "2.4", "2.5.1", "2.6", "2.7", "2.8.2"} <= versions
    assert set(EXPECTED) == set(samples.SAMPLES)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(samples.SAMPLES))
def test_every_sample_parses_the_same_under_every_variation(name, variant):
    text = samples.SAMPLES[name]
    msg = hl7.parse(VARIANTS[variant](text))
    structure, version, count = EXPECTED[name]
    assert msg.name == structure
    assert msg.version == version
    assert len(msg.children) == count
    assert hl7.er7(msg) == text  # exactly what was sent, normalised to \r
    assert hl7.dissect(msg).rows == hl7.dissect(text).rows


def test_dissect_names_types_and_positions_from_the_standard():
    d = hl7.dissect(samples.ADT_A01)
    assert (d["PID-5"].name, d["PID-5"].datatype) == ("Patient Name", "XPN")
    assert d["PID-5.1"].value == "ATKINSONTEST" and d["PID-5.1"].name == "Family Name"
    assert d["PID-5.4"].value == "JNR"
    assert (d["PV1-2"].name, d["PV1-2"].value) == ("Patient Class", "I")
    assert d["MSH-9.2"].name == "Trigger Event" and d["MSH-9.2"].value == "A01"
    assert d["MSH-1"].value == "|" and d["MSH-2"].value == "^~\\&"
    assert d["MSH-12"].value == "2.8.2"
    assert d["PID-3(2).1"].value == "999855750" and d["PID-3(2)"].kind == "repetition"
    assert d["OBX(2)-5"].value == "85" and d["OBX(2)-5"].datatype == "varies (NM)"
    assert d["AL1-3.2"].value == "CONTRAST AGENT"
    assert d.segments() == ["MSH", "EVN", "PID", "PV1", "OBX", "OBX(2)", "AL1"]


def test_dissect_uses_the_version_of_the_message():
    # PV1-2 is IS in v2.3 and CWE in v2.8.2; PID-8 is IS in 2.3 and CWE in 2.8.2
    assert hl7.dissect(samples.ADT_A02_V23)["PID-8"].datatype == "IS"
    assert hl7.dissect(samples.ADT_A01)["PID-8"].datatype == "CWE"


def test_dissect_shows_subcomponents_and_custom_delimiters():
    d = hl7.dissect(samples.ADT_A03_CUSTOM)
    assert d["MSH-1"].value == "!" and d["MSH-2"].value == "$%\\@"
    assert d["PID-3(2).1"].value == "NHS123"
    assert d["MSH-9.2"].value == "A03"
    orm = hl7.dissect(samples.ORM_O01)
    assert orm["OBR-34.1.2"].value == "RAY" and orm["OBR-34.1.2"].kind == "subcomponent"


def test_z_segments_and_fields_beyond_the_definition_are_kept_and_flagged():
    d = hl7.dissect(samples.ADT_A08_Z)
    assert d["ZPI"].note.startswith("Z-segment")
    assert d["ZPI-2.2"].value == "JQ" and d["ZPI-3"].value == "WHEELCHAIR"
    extra = samples.ADT_A06.replace(
        "PV1|1|I|W2^12^1^GENHOSP", "PV1|1|I|W2^12^1^GENHOSP" + "|" * 60 + "SURPRISE"
    )
    row = hl7.dissect(extra)["PV1-63"]
    assert row.value == "SURPRISE" and "beyond" in row.note
    assert any(f.where == "PV1-63" for f in hl7.validate(extra))


def test_escaped_values_are_shown_unescaped():
    d = hl7.dissect(samples.ADT_A04_AE)
    assert d["PV1-3.1"].value == "A&E"
    assert "A\\T\\E" in hl7.er7(hl7.parse(samples.ADT_A04_AE))


@pytest.mark.parametrize(
    "value",
    ["A&E", "50|50", "x^y~z", "back\\slash", "A\\T\\E literally", "", "plain", "&&^^||~~\\\\"],
)
def test_escape_round_trip(value):
    escaped = hl7.escape(value)
    for char in "|^~&":
        assert char not in escaped
    assert hl7.unescape(escaped) == value


def test_escape_sequences_match_the_standard():
    assert hl7.escape("A&E") == "A\\T\\E"
    assert hl7.escape("|^&~\\") == "\\F\\\\S\\\\T\\\\R\\\\E\\"
    assert hl7.unescape("\\E\\T\\E\\") == "\\T\\"  # scanned left to right, not replaced twice
    assert hl7.unescape("bold \\H\\on\\N\\") == "bold \\H\\on\\N\\"  # formatting kept
    assert hl7.unescape("\\X41\\") == "A"
    custom = hl7.delimiters(samples.ADT_A03_CUSTOM)
    assert hl7.escape("A@E", custom) == "A\\T\\E"
    assert hl7.unescape("A\\T\\E", custom) == "A@E"


BAD = {
    "no MSH": ("PID|1||42\rPV1|1|I", "segment 1", "MSH"),
    "empty": ("", "segment 1", "empty"),
    "short encoding characters": ("MSH|^~|A|B|C|D|2024||ADT^A01|1|P|2.5", "MSH-2", "four"),
    "duplicate delimiters": ("MSH|^^\\&|A|B|C|D|2024||ADT^A01|1|P|2.5", "MSH-2", "different"),
    "letter as field separator": ("MSHX^~\\&XAXB", "MSH-1", "field separator"),
    "truncated MSH": ("MSH|^~\\&|A|B|C", "MSH-9", "truncated"),
    "no version": ("MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P", "MSH-12", "version"),
    "unknown version": ("MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.9", "MSH-12", "2.9"),
    "truncated segment": (samples.ADT_A06 + "\rPV", "segment 5", "truncated"),
    "wrong delimiters": (samples.ADT_A06 + "\rPV1!1!I", "segment 5", "field separator"),
    "unknown segment": (samples.ADT_A06 + "\rXYZ|1", "segment 5 (XYZ)", "does not define"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_a_plain_medlab_error(case):
    text, where, words = BAD[case]
    with pytest.raises(MedlabError) as info:
        hl7.parse(text)
    err = info.value
    assert err.where == where
    assert words.lower() in str(err).lower()
    assert err.fix  # says what to do
    assert err.__cause__ is None  # no hl7apy traceback chained
    assert err.__context__ is None or err.__suppress_context__
    assert hl7.validate(text)[0].severity == "error"


def test_validate_is_quiet_on_good_messages_and_reports_withdrawn_fields():
    assert hl7.validate(samples.ADT_A06) == []
    withdrawn = samples.ADT_A01.replace("PID|||", "PID||OLDID|")  # PID-2 withdrawn in 2.8.2
    findings = hl7.validate(withdrawn)
    assert [(f.where, "withdrawn" in f.what) for f in findings] == [("PID-2", True)]


def test_dissection_renders_as_text_and_html():
    d = hl7.dissect(samples.ADT_A01).segment("PV1")
    text = repr(d)
    assert text.splitlines()[0].startswith("PV1") and "Patient Class" in text
    html = d._repr_html_()
    assert "<table" in html and "medlab-hl7-field" in html and "Patient Class" in html
    with pytest.raises(MedlabError):
        hl7.dissect(samples.ADT_A01).segment("ZZZ")


def test_import_medlab_hl7_is_light():
    import subprocess
    import sys

    code = (
        "import sys, medlab.hl7; medlab.hl7.escape('A&E'); "
        "print(any(m.startswith(('hl7apy', 'pydicom', 'ipywidgets')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_latin1_bytes_from_an_older_feed_are_read():
    text = samples.ADT_A06.replace("DOE^JANE^Q", "MÜLLER^JOSÉ")
    msg = hl7.parse(text.encode("latin-1"))
    assert msg.pid.pid_5.to_er7() == "MÜLLER^JOSÉ"


@pytest.mark.parametrize(
    "version", ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8", "2.8.1", "2.8.2"]
)
def test_every_version_from_2_3_to_2_8_is_read_with_its_own_definitions(version):
    structure = "ADT^A01" if version == "2.3" else "ADT^A01^ADT_A01"
    text = samples.ADT_A06.replace("ADT^A06^ADT_A06", structure).replace("|2.5.1", f"|{version}")
    msg = hl7.parse(text)
    assert msg.version == version
    d = hl7.dissect(msg)
    assert d["PID-5"].name == "Patient Name" and d["PV1-2"].name == "Patient Class"
    # PV1-2 is ID in v2.3, IS from v2.3.1 to v2.6, CWE from v2.7 (hl7apy's definitions)
    expected = "ID" if version == "2.3" else "CWE" if version >= "2.7" else "IS"
    assert d["PV1-2"].datatype == expected
    reply = hl7.ack(msg, when="2024")
    assert reply.version == version and reply.msa.msa_2.to_er7() == "CH0007"


def test_validate_shows_a_readable_table_not_finding_reprs():
    findings = hl7.validate(samples.ADT_A08_Z)
    shown = repr(findings)
    assert "Finding(" not in shown
    assert shown.splitlines()[0].split() == ["SEVERITY", "WHERE", "WHAT"]
    assert shown.splitlines()[1].split()[:2] == ["INFO", "ZPI"]
    assert "<table" in findings._repr_html_() and "ZPI" in findings._repr_html_()
    assert repr(hl7.validate(samples.ADT_A06)) == "No findings: the message is well formed."
    assert hl7.validate(samples.ADT_A06) == []  # still a list
