"""``medlab hl7``: run the MLLP listener, send messages, dissect and summarise files.

medlab hl7 listen [--host 127.0.0.1] [--port 2575] [--store DIR]
medlab hl7 send FILE [--host 127.0.0.1] [--port 2575]
medlab hl7 dissect FILE
medlab hl7 summary LOG
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: The port registered for HL7 over MLLP.
DEFAULT_PORT = 2575


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hl7`` command group to the ``medlab`` parser."""
    hl7 = subparsers.add_parser(
        "hl7",
        help="run the MLLP listener, send or read HL7 messages",
        description="HL7 v2 tools: MLLP listener and sender, dissector, feed summary.",
    )
    sub = hl7.add_subparsers(dest="hl7_command", metavar="ACTION")
    hl7.set_defaults(func=lambda args: (hl7.print_help(), 0)[1])

    listen = sub.add_parser("listen", help="receive, store and acknowledge messages over MLLP")
    listen.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    listen.add_argument(
        "--port",
        type=int,
        default=None,
        help="TCP port (default 2575, the port registered for HL7 over MLLP, or a "
        "free port when 2575 is taken, e.g. by another user's listener; 0 = any free port)",
    )
    listen.add_argument(
        "--store",
        type=Path,
        default=None,
        help="folder for received messages (default <medlab home>/hl7)",
    )
    listen.set_defaults(func=_listen)

    send = sub.add_parser("send", help="send the messages of a file over MLLP, print the ACKs")
    send.add_argument("file", type=Path, help="a file of one or more messages")
    send.add_argument("--host", default="127.0.0.1")
    send.add_argument("--port", type=int, default=2575)
    send.set_defaults(func=_send)

    dissect = sub.add_parser("dissect", help="show every field of the messages in a file")
    dissect.add_argument("file", type=Path)
    dissect.set_defaults(func=_dissect)

    summary = sub.add_parser("summary", help="count a feed's messages by type, facility, hour")
    summary.add_argument("log", type=Path)
    summary.set_defaults(func=_summary)


def _listen(args: argparse.Namespace) -> int:
    from medlab.hl7.mllp import Listener

    class _Printing(Listener):
        def _event(self, kind: str, peer: str, detail: str = "") -> None:
            super()._event(kind, peer, detail)
            print(f"{peer}  {kind}{': ' + detail if detail else ''}", flush=True)

    from medlab.errors import MedlabError

    listener = _Printing(args.host, DEFAULT_PORT if args.port is None else args.port, args.store)
    try:
        listener.start()
    except MedlabError:
        if args.port is not None:
            raise  # a port the user asked for: say why it cannot be had
        # Every bundled service takes a free port unless one is given (a shared hub).
        print(f"port {DEFAULT_PORT} is in use; choosing a free port instead", flush=True)
        listener = _Printing(args.host, 0, args.store)
        listener.start()
    print(
        f"Listening for HL7 over MLLP on {listener.host}:{listener.port}; storing in "
        f"{listener.store}. Ctrl-C stops.",
        flush=True,
    )
    try:
        listener.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
    print(f"Stopped after {len(listener.messages)} message(s).")
    return 0


def _send(args: argparse.Namespace) -> int:
    from medlab.hl7.log import read_log
    from medlab.hl7.message import er7
    from medlab.hl7.mllp import send

    worst = 0
    for count, text in enumerate(read_log(args.file), start=1):
        reply = send(args.host, args.port, text)
        lines = er7(reply).split("\r")
        msa = next((line for line in lines if line.startswith("MSA")), "")
        print(f"message {count}: {msa}")
        for line in lines:
            if line.startswith("ERR"):
                print(f"    {line}")
        if "|AA|" not in msa + "|":
            worst = 2
    return worst


def _dissect(args: argparse.Namespace) -> int:
    from medlab.hl7.anatomy import dissect
    from medlab.hl7.log import read_log

    messages = list(read_log(args.file)) or [
        args.file.read_text(encoding="utf-8", errors="replace")
    ]
    for count, text in enumerate(messages, start=1):
        if count > 1:
            print()
        print(f"# message {count}")
        print(repr(dissect(text)))
    return 0


def _summary(args: argparse.Namespace) -> int:
    from medlab.hl7.log import summarize

    sys.stdout.write(repr(summarize(args.log)) + "\n")
    return 0
