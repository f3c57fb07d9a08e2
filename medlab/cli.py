"""The ``medlab`` command (also ``python -m medlab``).

Each room of medlab adds its own subcommands: a module listed in
:data:`COMMANDS` provides ``register(subparsers)``, which adds a parser whose
``func`` default receives the parsed arguments and returns an exit code.
Rooms are imported only when their command is used, so ``medlab doctor``
starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from medlab.errors import MedlabError

#: subcommand -> (module providing ``register``, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "doctor": ("medlab.health", "check the installation and show what to fix"),
    "data": ("medlab.data.cli", "build or list the course's sample data"),
    "pacs": ("medlab.net.cli", "run or inspect the bundled PACS"),
    "hl7": ("medlab.hl7.cli", "run the MLLP listener, send or read HL7 messages"),
    "course": ("medlab.check.cli", "instructor tools: grading export"),
    "progress": ("medlab.check.cli_progress", "show your progress through the exercises"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medlab", description="medlab: a hands-on DICOM and HL7 course."
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if name != only:
            # Listed for --help only; the room is imported when its command is used.
            sub.add_parser(name, help=help_text)
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            raise MedlabError(
                f"The `{name}` command is not available in this version of medlab",
                fix="Update medlab (git pull, then make lab).",
            ) from None
        module.register(sub)
    return parser


def _version() -> str:
    from medlab import __version__

    return f"medlab {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    try:
        parser = build_parser(first if first in COMMANDS else None)
    except MedlabError as err:
        print(f"medlab: {err}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except MedlabError as err:
        print(f"medlab: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
