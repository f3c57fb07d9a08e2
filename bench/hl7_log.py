"""Summarising an HL7 feed: medlab's delimiter split vs a full hl7apy parse.

Generates a log of 100,000 ADT/ORM/ORU messages (``medlab.hl7.samples.synthetic_feed``,
fixed seed), then prints, side by side in the same run:

* messages/s for ``medlab.hl7.summarize(path)`` (reading the file included);
* messages/s for parsing each message with hl7apy (measured on a sample of the
  same messages, as a full run would take minutes), as the reference.

Target (issue 7): at least 20,000 messages/s for the summary.

Run: ``.venv/bin/python bench/hl7_log.py [--count N]``
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument(
        "--parse-sample",
        type=int,
        default=1_000,
        help="messages parsed with hl7apy for the reference rate",
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from hl7apy.parser import parse_message

    from medlab.hl7 import log, samples

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.hl7"
        log.write_log(path, samples.synthetic_feed(args.count, seed=7))
        size = path.stat().st_size
        print(f"log: {args.count} messages, {size / 1e6:.1f} MB")

        summary_rates, parse_rates = [], []
        for _ in range(args.rounds):  # alternate the two, take medians
            start = time.perf_counter()
            summary = log.summarize(path)
            summary_rates.append(summary.total / (time.perf_counter() - start))
            sample = list(itertools.islice(log.read_log(path), args.parse_sample))
            start = time.perf_counter()
            for text in sample:
                parse_message(text, find_groups=False)
            parse_rates.append(len(sample) / (time.perf_counter() - start))
        assert summary.total == args.count, summary.total

    med_summary = sorted(summary_rates)[len(summary_rates) // 2]
    med_parse = sorted(parse_rates)[len(parse_rates) // 2]
    print(f"medlab.hl7.summarize (split on delimiters): {med_summary:>10,.0f} messages/s")
    print(f"hl7apy parse_message per message:            {med_parse:>10,.0f} messages/s")
    print(
        f"ratio: {med_summary / med_parse:.0f}x   target >= 20,000 messages/s: "
        f"{'met' if med_summary >= 20_000 else 'NOT met'}"
    )
    print("types:", ", ".join(f"{k} {v}" for k, v in summary.by_type.most_common(5)), "...")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
