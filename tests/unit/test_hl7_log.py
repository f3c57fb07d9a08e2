"""medlab.hl7.read_log / summarize: many messages per file, counted without hl7apy."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import medlab.hl7 as hl7
from medlab.hl7 import log, samples


def test_read_log_line_blocks_with_mixed_line_ends_and_bom(tmp_path):
    path = tmp_path / "feed.hl7"
    texts = list(samples.SAMPLES.values())
    body = "\ufeff" + "\r\n".join(texts[0].split("\r")) + "\r\n"  # no blank line after it
    body += "\n".join(texts[1].split("\r")) + "\n\n\n"
    body += (
        "\r".join(texts[2].split("\r"))
        + "\r\r"
        + "\n".join(t.replace("\r", "\n") for t in texts[3:])
    )
    path.write_bytes(body.encode("utf-8"))
    assert list(hl7.read_log(path)) == texts


def test_read_log_mllp_frames_skip_garbage_and_a_cut_off_frame(tmp_path):
    path = tmp_path / "feed.mllp"
    texts = list(samples.SAMPLES.values())
    log.write_log(path, texts, mllp=True)
    with open(path, "ab") as fh:
        fh.write(b"\r\ngarbage\x0bMSH|^~\\&|cut off")
    assert list(hl7.read_log(path)) == texts


def test_every_message_read_from_a_log_parses(tmp_path):
    path = tmp_path / "feed.hl7"
    log.write_log(path, samples.synthetic_feed(60, seed=3))
    messages = [hl7.parse(t) for t in hl7.read_log(path)]
    assert len(messages) == 60
    assert {m.msh.msh_9.msh_9_1.to_er7() for m in messages} == {"ADT", "ORM", "ORU"}


def test_summary_counts_match_a_full_parse(tmp_path):
    texts = list(samples.synthetic_feed(100, seed=11)) + list(samples.SAMPLES.values())
    path = tmp_path / "feed.hl7"
    log.write_log(path, texts)
    summary = hl7.summarize(path)
    by_type, by_facility, by_hour = Counter(), Counter(), Counter()
    for text in texts:
        d = hl7.dissect(text)
        trigger = d["MSH-9.2"].value if any(r.position == "MSH-9.2" for r in d.rows) else ""
        by_type[f"{d['MSH-9.1'].value}^{trigger}"] += 1
        by_facility[d["MSH-4"].value] += 1
        by_hour[d["MSH-7"].value[8:10]] += 1
    assert summary.total == len(texts) and summary.unreadable == 0
    assert summary.by_type == by_type
    assert summary.by_facility == by_facility
    assert summary.by_hour == by_hour
    assert summary.by_message_code()["ADT"] == sum(
        n for k, n in by_type.items() if k.startswith("ADT")
    )
    assert summary.by_type["ADT^A03"] >= 1  # the custom-delimiter sample was counted right


def test_summary_of_texts_counts_unreadable_and_renders():
    summary = hl7.summarize([samples.ADT_A01, "not hl7", "MSH|^~\\&|short"])
    assert (summary.total, summary.unreadable) == (3, 2)
    text = repr(summary)
    assert text.startswith("3 messages (2 without a readable MSH)") and "DSNHSFT" in text
    assert "<table" in summary._repr_html_()


def test_bench_script_runs_on_a_small_log():
    out = subprocess.run(
        [
            sys.executable,
            "bench/hl7_log.py",
            "--count",
            "500",
            "--parse-sample",
            "20",
            "--rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(_repo()),
    )
    assert "messages/s" in out.stdout and "hl7apy" in out.stdout


def _repo():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]
