"""``medlab course ...``: instructor tools."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    course = subparsers.add_parser("course", help="instructor tools: grading export")
    sub = course.add_subparsers(dest="course_command", metavar="ACTION", required=True)
    export = sub.add_parser(
        "export-nbgrader",
        help="write an nbgrader course directory (source/<lesson>/...) with solutions and tests",
    )
    export.add_argument("dest", type=Path, help="the course directory to write")
    export.add_argument(
        "--lesson", action="append", help="only this lesson (e.g. 01_what_is_dicom)"
    )
    export.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from medlab.check.nbgrader_export import export_nbgrader

    written = export_nbgrader(args.dest, args.lesson)
    for lesson, ids in written.items():
        print(f"{lesson}: {len(ids)} graded exercise(s) ({', '.join(ids)})")
    print(
        f"Wrote {args.dest / 'nbgrader_config.py'} and {len(written)} lesson(s) under "
        f"{args.dest / 'source'}. Next: cd {args.dest} && nbgrader generate_assignment <lesson>"
    )
    return 0
