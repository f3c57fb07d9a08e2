"""medlab.hl7.feed: a feed as a table, open admissions, merges (lesson 14)."""

from __future__ import annotations

import matplotlib

import medlab.hl7
from medlab.hl7 import feed

matplotlib.use("Agg")

A01 = (
    "MSH|^~\\&|ADT|H|RIS|R|20260101{hh}0000||ADT^{trig}^ADT_A01|{cid}|P|2.5.1\r"
    "EVN|{trig}|20260101{hh}0000\rPID|1||{pid}^^^H^MR||DOE^JANE\r"
    "PV1|1|I|W^1^1" + "|" * 15 + "|{visit}"
)


def msg(hh, trig, pid, visit, cid):
    return A01.format(hh=hh, trig=trig, pid=pid, visit=visit, cid=cid)


def test_table_reads_the_declared_delimiters_and_segments():
    text = msg("09", "A01", "P1", "V1", "C1").replace("|", "#").replace("MSH#^~\\&", "MSH#^~\\&")
    df = feed.feed_table([text, "garbage"])
    row = df.iloc[0]
    assert (row.message, row.patient_id, row.visit, row.hour, row.control_id) == (
        "ADT^A01",
        "P1",
        "V1",
        "09",
        "C1",
    )
    assert df.attrs["unreadable"] == 1


def test_open_admissions_follow_a03_a11_a13_in_time_order():
    messages = [
        msg("08", "A01", "P1", "V1", "1"),
        msg("12", "A03", "P1", "V1", "2"),  # closed
        msg("08", "A01", "P2", "V2", "3"),  # open
        msg("08", "A01", "P3", "V3", "4"),
        msg("09", "A11", "P3", "V3", "5"),  # cancelled
        msg("08", "A01", "P4", "V4", "6"),
        msg("10", "A03", "P4", "V4", "7"),
        msg("11", "A13", "P4", "V4", "8"),
        msg("08", "A04", "P5", "V5", "9"),  # outpatient: never admitted
    ]
    df = feed.feed_table(reversed(messages))  # arrival order does not matter, MSH-7 does
    assert list(feed.open_admissions(df)["patient_id"]) == ["P2", "P4"]


def test_ward_feed_is_reproducible_and_has_what_the_lesson_needs(tmp_path):
    a = feed.ward_feed(tmp_path / "a.hl7")
    b = feed.ward_feed(tmp_path / "b.hl7")
    assert a.read_bytes() == b.read_bytes()
    df = feed.feed_table(medlab.hl7.read_log(a))
    assert medlab.hl7.summarize(a).total == len(df)
    assert set(feed.open_admissions(df)["patient_id"]) == {
        "MLB-200004",
        "MLB-200011",
        "MLB-200017",
        "MLB-200023",
    }
    merges = feed.merges(df)
    assert list(merges["message"]) == ["ADT^A40", "ADT^A18"]
    assert list(merges["prior_id"]) == ["TMP-902", "TMP-909"]
    table = feed.by_hour(df)
    assert int(table.values.sum()) == len(df) and list(table.columns) == sorted(table.columns)
    for text in list(medlab.hl7.read_log(a))[:5]:
        medlab.hl7.parse(text)  # every message is valid enough for hl7apy
    assert len(feed.plot_by_hour(df).axes) == 1


def test_the_feed_docs_date_a40_from_v2_3_where_hl7apy_defines_it():
    import importlib

    import medlab.hl7.feed as feed_module

    assert "v2.3.1 onward" not in feed_module.__doc__
    assert (
        "ADT^A40 (merge patient - patient\n  identifier list, from v2.3 onward)"
        in feed_module.__doc__
    )
    # hl7apy's v2.3 definitions have the structure A40 uses (ADT_A39, shared by A39-A42)
    assert "ADT_A39" in importlib.import_module("hl7apy.v2_3.messages").MESSAGES
