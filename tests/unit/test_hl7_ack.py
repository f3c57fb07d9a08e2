"""medlab.hl7.ack: the acknowledgement, parsed back and checked field by field."""

from __future__ import annotations

import pytest

import medlab.hl7 as hl7
from medlab.errors import MedlabError
from medlab.hl7 import samples


def fields(msg, seg_id):
    """Split one segment of the message text: fields[n] is field n (MSH-1 handled)."""
    from medlab.hl7.message import delimiters, segment_fields

    text = hl7.er7(msg)
    segment = next(s for s in text.split("\r") if s.startswith(seg_id))
    return segment_fields(segment, delimiters(text))


@pytest.mark.parametrize("name", list(samples.SAMPLES))
def test_aa_swaps_sender_and_receiver_and_reads_back_the_control_id(name):
    original = hl7.parse(samples.SAMPLES[name])
    reply = hl7.ack(original, when="20240101120000")
    msh, orig = fields(reply, "MSH"), fields(original, "MSH")
    assert (msh[3], msh[4], msh[5], msh[6]) == (orig[5], orig[6], orig[3], orig[4])
    assert msh[1] == orig[1] and msh[2] == orig[2]  # the same delimiters
    assert msh[7] == "20240101120000"
    comp = orig[2][0]
    trigger = orig[9].split(comp)[1]
    expected_type = ["ACK", trigger] + ([] if orig[12] == "2.3" else ["ACK"])
    assert msh[9].split(comp) == expected_type
    assert msh[10] and msh[10] != orig[10]  # the ACK has its own control ID
    assert msh[11] == orig[11] and msh[12] == orig[12]
    msa = fields(reply, "MSA")
    assert msa[1] == "AA" and msa[2] == orig[10]
    assert [s.name for s in reply.children] == ["MSH", "MSA"]  # not an echo of the message
    assert reply.msa.msa_1.to_er7() == "AA"


def test_ae_in_v25_plus_carries_an_err_segment_with_location_and_text():
    reply = hl7.ack(
        samples.ADT_A06,
        "AE",
        "PID-7 is not a date & time",
        where="PID-7",
        error_code=102,
        when="2024",
    )
    err = fields(reply, "ERR")
    assert err[2].split("^") == ["PID", "1", "7"]
    assert err[3].split("^") == ["102", "Data type error", "HL70357"]
    assert err[4] == "E"
    assert hl7.unescape(err[8]) == "PID-7 is not a date & time"  # escaped on the wire
    assert "&" not in err[8]
    msa = fields(reply, "MSA")
    assert msa[1] == "AE" and hl7.unescape(msa[3]) == "PID-7 is not a date & time"


def test_v27_plus_has_no_msa3_and_v23_uses_err1():
    new = hl7.ack(samples.ADT_A01, "AR", "unsupported", when="2024")
    assert len(fields(new, "MSA")) == 3  # MSA-3 withdrawn in v2.7
    assert fields(new, "ERR")[3].startswith("200^Unsupported message type")
    old = hl7.ack(samples.ADT_A02_V23, "AE", "bad", where="PV1-3", when="2024")
    assert fields(old, "MSH")[9] == "ACK^A02"
    assert fields(old, "ERR")[1] == "PV1^1^3^207&Application internal error&HL70357"


def test_an_unparsable_message_can_still_be_answered():
    reply = hl7.ack("garbage that is not HL7", "AE", "not HL7", when="2024")
    assert fields(reply, "MSA")[1] == "AE"
    broken = samples.ADT_A06 + "\rXYZ|1"  # parse() refuses it, but its MSH is readable
    assert fields(hl7.ack(broken, "AE", when="2024"), "MSA")[2] == "CH0007"


def test_bad_code_is_refused():
    with pytest.raises(MedlabError, match="AA"):
        hl7.ack(samples.ADT_A06, "OK")
