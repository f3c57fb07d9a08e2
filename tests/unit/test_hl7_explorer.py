"""The HL7 explorer widget, driven through its traits (no browser)."""

from __future__ import annotations

from medlab.hl7 import samples
from medlab.widgets.hl7_explorer import HL7Explorer


def test_starts_on_the_first_message_and_shows_the_segment_after_msh():
    ex = HL7Explorer()
    assert ex.picker.value == "ADT_A01"
    assert ex.segments.options == ("MSH", "EVN", "PID", "PV1", "OBX", "OBX(2)", "AL1")
    assert ex.segments.value == "EVN"
    assert "showing EVN" in ex.status.value
    assert repr(ex) == "HL7Explorer(10 messages, 'ADT_A01', showing EVN)"


def test_clicking_a_segment_shows_its_fields_with_names_and_values():
    ex = HL7Explorer(segment="PID")
    assert "Patient Name" in ex.table.value and "ATKINSONTEST" in ex.table.value
    ex.select("PV1")
    assert "Patient Class" in ex.table.value and "Patient Name" not in ex.table.value
    assert "showing PV1" in ex.status.value
    ex.select("OBX(2)")
    assert "Body Weight" in ex.table.value


def test_picking_another_message_and_pasting_one():
    ex = HL7Explorer()
    ex.picker.value = "ADT_A04_AE"
    assert ex.segments.options == ("MSH", "EVN", "PID", "PV1")
    ex.select("PV1")
    assert "A&amp;E" in ex.table.value  # unescaped, then HTML-escaped
    ex.paste(samples.ORU_R01.replace("\r", "\n"))
    assert ex.picker.value == ex.PASTED
    assert "OBX(2)" in ex.segments.options


def test_a_bad_paste_shows_the_plain_error_instead_of_a_traceback():
    ex = HL7Explorer()
    ex.paste("PID|1||42")
    assert "does not start with an MSH segment" in ex.status.value
    assert ex.segments.options == () and ex.table.value == ""
    ex.picker.value = "ORM_O01"  # and it recovers
    assert "showing PID" in ex.status.value


def test_mimebundle_has_a_short_text_repr():
    bundle = HL7Explorer()._repr_mimebundle_()
    assert bundle["text/plain"].startswith("HL7Explorer(")
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_a_failed_paste_never_leaves_the_previous_dissection_on_screen():
    ex = HL7Explorer(segment="PID")
    assert "ATKINSONTEST" in ex.table.value
    ex.paste(samples.ADT_A01)
    ex.select("PID")
    assert "ATKINSONTEST" in ex.table.value
    ex.text.value = "MSH|^~\\&|broken"  # editing the paste takes the old dissection away
    assert ex.table.value == "" and ex.segments.options == ()
    assert "press Dissect" in ex.status.value
    ex._on_dissect()
    assert "ATKINSONTEST" not in ex.table.value and "not dissected" in ex.status.value
    assert repr(ex).endswith("showing nothing)")


def test_choosing_pasted_with_an_empty_box_clears_the_sample_and_says_what_to_do():
    ex = HL7Explorer(segment="PID")
    ex.picker.value = ex.PASTED
    assert ex.table.value == "" and ex.segments.options == ()
    assert "Paste a message" in ex.status.value
    ex.text.value = samples.ORU_R01
    ex.picker.value = "ADT_A01"
    ex.picker.value = ex.PASTED  # with text in the box, choosing it dissects that text
    assert "OBX(2)" in ex.segments.options
