"""``medlab data build`` and ``medlab data list``: the course's sample data from the shell.

``build`` writes the synthetic studies and HL7 messages (see
:mod:`medlab.data.build`) into the data folder, skipping what is already
there and intact; ``list`` shows what is built and the named real samples.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``medlab data`` (with ``build`` and ``list``) to the medlab command."""
    data = subparsers.add_parser(
        "data",
        help="build or list the course's sample data",
        description="Build the course's synthetic sample data, or list it with the named real samples.",
    )
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")

    build = actions.add_parser(
        "build",
        help="write the synthetic studies and HL7 messages (same bytes every time)",
        description=(
            "Write the phantom CT, MR and CR studies, the de-identification study and the HL7 "
            "messages into the data folder ($MEDLAB_DATA, or data/ in a checkout). Files already "
            "present and intact (checked against MANIFEST.json) are kept."
        ),
    )
    build.add_argument(
        "--out", type=Path, metavar="DIR", help="write here instead of the data folder"
    )
    build.add_argument("--force", action="store_true", help="rebuild every file, even intact ones")
    build.add_argument("--quiet", action="store_true", help="print nothing unless something fails")
    build.set_defaults(func=_build)

    listing = actions.add_parser(
        "list",
        help="show the built studies and the named real samples",
        description="Show each built series (instances, size) and every named real sample file.",
    )
    listing.add_argument("--out", type=Path, metavar="DIR", help="the data folder to list")
    listing.set_defaults(func=_list)

    data.set_defaults(func=lambda args: _help(data))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _build(args: argparse.Namespace) -> int:
    from medlab.data.build import build_data

    report = build_data(args.out, force=args.force)
    if not args.quiet:
        written: dict[str, int] = {}
        for path in report.written:
            folder = path.split("/", 1)[0]
            written[folder] = written.get(folder, 0) + 1
        for folder, count in written.items():
            print(f"  {folder}/: wrote {count} file{'s' if count > 1 else ''}")
        print(report.summary())
    return 0


def _list(args: argparse.Namespace) -> int:
    from medlab import paths
    from medlab.data._catalogue import Catalogue
    from medlab.data.build import verify

    folder = args.out if args.out is not None else paths.data_dir()
    print(f"Data folder: {folder}")
    problems = verify(folder)
    if problems:
        shown = ", ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
        print(f"Missing or damaged: {shown}. Run `medlab data build` to repair.", file=sys.stderr)
    print()
    print(Catalogue.build(folder), end="")
    return 0
