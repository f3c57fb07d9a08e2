"""``medlab progress [--reset]``: the trainee's progress in a terminal."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("progress", help="show your progress through the exercises")
    parser.add_argument("--reset", action="store_true", help="clear your progress (asks first)")
    parser.add_argument("--yes", action="store_true", help="with --reset: do not ask")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from medlab.check import _progress
    from medlab.check._view import progress

    if args.reset:
        path = _progress.progress_file()
        if not args.yes:
            if not sys.stdin.isatty():
                print("Not clearing: confirm with --yes when there is no terminal to ask.")
                return 1
            reply = input(f"Clear every recorded answer in {path}? [y/N] ")
            if reply.strip().lower() not in {"y", "yes"}:
                print("Nothing cleared.")
                return 1
        path.unlink(missing_ok=True)
        print("Progress cleared.")
        return 0
    print(repr(progress()))
    return 0
