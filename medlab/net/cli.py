"""``medlab pacs …``: run, describe and inspect the bundled PACS.

* ``medlab pacs serve``        run in the foreground, one line per event; Ctrl-C/SIGTERM stops it
* ``medlab pacs conformance``  print the conformance statement of the configuration
* ``medlab pacs ls``           list patients, studies, series and instance counts
* ``medlab pacs worklist add`` schedule a Modality Worklist item; ``worklist ls`` lists them
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from medlab.errors import MedlabError


def register(subparsers: Any) -> None:
    """Add the ``pacs`` command group to the ``medlab`` parser."""
    pacs = subparsers.add_parser("pacs", help="run or inspect the bundled PACS")
    sub = pacs.add_subparsers(dest="pacs_command", metavar="SUBCOMMAND")
    pacs.set_defaults(func=lambda args: _help(pacs))

    def common(p: argparse.ArgumentParser, network: bool = True) -> None:
        p.add_argument(
            "--config", type=Path, help="TOML configuration file (see medlab.net.config)"
        )
        p.add_argument(
            "--root",
            type=Path,
            help="storage folder (default: ~/.medlab/pacs or $MEDLAB_HOME/pacs)",
        )
        if network:
            p.add_argument("--host", help="address to bind (default 127.0.0.1)")
            p.add_argument(
                "--port",
                type=int,
                help="TCP port (default 11112, or a free port when "
                "11112 is taken, e.g. by another user's PACS; 0 = any free port)",
            )
            p.add_argument("--aet", help="our AE title (default MEDLAB)")
            p.add_argument(
                "--allow",
                nargs="+",
                action="extend",
                metavar="AET",
                help="calling AE titles allowed in (default: any)",
            )
            p.add_argument(
                "--peer",
                nargs="+",
                action="extend",
                default=[],
                metavar="AET=HOST:PORT",
                help="known peers, the C-MOVE destinations",
            )

    serve = sub.add_parser("serve", help="run the PACS in the foreground")
    common(serve)
    serve.add_argument(
        "--web-port",
        type=int,
        metavar="PORT",
        help="DICOMweb (/dicom-web) and OHIF viewer (/viewer/) port (default: a free port; "
        "-1 turns the web side off)",
    )
    serve.add_argument(
        "--log", choices=["all", "associations", "none"], help="which events to print (default all)"
    )
    serve.set_defaults(func=_serve)

    conf = sub.add_parser("conformance", help="print the conformance statement")
    common(conf)
    conf.set_defaults(func=_conformance)

    ls = sub.add_parser("ls", help="list what is stored")
    common(ls, network=False)
    ls.set_defaults(func=_ls)

    wl = sub.add_parser("worklist", help="Modality Worklist items")
    wl_sub = wl.add_subparsers(dest="worklist_command", metavar="ACTION")
    wl.set_defaults(func=lambda args: _help(wl))
    add = wl_sub.add_parser("add", help="schedule a procedure step")
    common(add, network=False)
    add.add_argument("--patient-name", required=True, help="e.g. DOE^JANE")
    add.add_argument("--patient-id", required=True)
    add.add_argument("--modality", required=True, help="e.g. CT, MR, CR")
    add.add_argument("--station", default="", help="Scheduled Station AE Title")
    add.add_argument("--date", default="", help="Scheduled start date YYYYMMDD")
    add.add_argument("--time", default="", help="Scheduled start time HHMM[SS]")
    add.add_argument("--accession", default="", help="Accession Number")
    add.add_argument("--description", default="", help="Scheduled Procedure Step Description")
    add.add_argument("--birth-date", default="", help="Patient's Birth Date YYYYMMDD")
    add.add_argument("--sex", default="", help="Patient's Sex (M, F, O)")
    add.set_defaults(func=_worklist_add)
    wls = wl_sub.add_parser("ls", help="list scheduled items")
    common(wls, network=False)
    wls.set_defaults(func=_worklist_ls)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _config(args: argparse.Namespace):
    from medlab.net.config import PACSConfig, parse_peer

    config = PACSConfig.from_toml(args.config) if getattr(args, "config", None) else PACSConfig()
    peers = dict(config.peers)
    for text in getattr(args, "peer", []) or []:
        aet, address = parse_peer(text)
        peers[aet] = address
    config = config.replace(
        root=args.root,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        aet=getattr(args, "aet", None),
        allow=getattr(args, "allow", None),
        peers=peers,
        log=getattr(args, "log", None),
        web_port=getattr(args, "web_port", None),
    )
    config.__post_init__()
    return config


def _pacs(args: argparse.Namespace):
    from medlab.net.server import PACS

    return PACS(config=_config(args))


def _serve(args: argparse.Namespace) -> int:
    from medlab.net.events import Dimse

    config = _config(args)
    config.quiet_library_logging = True  # a dedicated process: pynetdicom's own logging off
    from medlab.net.server import PACS

    pacs = PACS(config=config)
    stop = threading.Event()

    def printer(event) -> None:
        if config.log == "none" or (config.log == "associations" and isinstance(event, Dimse)):
            return
        print(event, flush=True)

    pacs.add_listener(printer)
    try:
        pacs.start()
    except MedlabError as err:
        if args.port is not None or getattr(args, "config", None):
            raise  # a port the user asked for: say why it cannot be had
        if err.where != f"{config.host}:{config.port}":
            raise  # not the port (e.g. the folder is locked by another PACS): say that alone
        # The default port is taken (on a shared JupyterHub, perhaps by another user's
        # PACS): every bundled service takes a free port unless one is given.
        print(f"port {config.port} is in use; choosing a free port instead", flush=True)
        pacs = PACS(config=config.replace(port=0))
        pacs.add_listener(printer)
        pacs.start()
    recovered = {k: v for k, v in pacs.recovered.items() if v}
    if recovered:
        print(
            "recovered after an unclean stop: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in recovered.items()),
            flush=True,
        )
    print(
        f"medlab PACS {pacs.aet} listening on {pacs.host}:{pacs.port}, storing under {pacs.root} "
        f"({pacs.instance_count()} instance(s)); Ctrl-C stops it",
        flush=True,
    )
    if pacs.dicomweb_url is not None:
        print(f"DICOMweb: {pacs.dicomweb_url}", flush=True)
        if pacs.viewer_url is not None:
            print(f"OHIF viewer: {pacs.viewer_url}", flush=True)

    def on_signal(signum, frame) -> None:  # noqa: ARG001
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        pacs.stop()
        print("medlab PACS stopped", flush=True)
    return 0


def _conformance(args: argparse.Namespace) -> int:
    from medlab.net.conformance import conformance_statement

    print(conformance_statement(_config(args)))
    return 0


def _ls(args: argparse.Namespace) -> int:
    pacs = _pacs(args)
    try:
        print(pacs.ls())
    finally:
        pacs.stop()
    return 0


def _worklist_add(args: argparse.Namespace) -> int:
    attrs = {
        "PatientName": args.patient_name,
        "PatientID": args.patient_id,
        "Modality": args.modality,
    }
    optional = {
        "ScheduledStationAETitle": args.station,
        "ScheduledProcedureStepStartDate": args.date,
        "ScheduledProcedureStepStartTime": args.time,
        "AccessionNumber": args.accession,
        "ScheduledProcedureStepDescription": args.description,
        "PatientBirthDate": args.birth_date,
        "PatientSex": args.sex,
    }
    attrs.update({k: v for k, v in optional.items() if v})
    pacs = _pacs(args)
    try:
        sps_id = pacs.schedule(**attrs)
    finally:
        pacs.stop()
    print(sps_id)
    return 0


def _worklist_ls(args: argparse.Namespace) -> int:
    pacs = _pacs(args)
    try:
        items = pacs.worklist()
    finally:
        pacs.stop()
    if not items:
        print("(no scheduled procedure steps)")
    for ds in items:
        sps = ds.ScheduledProcedureStepSequence[0]
        print(
            f"{sps.get('ScheduledProcedureStepID', '')}  {sps.get('ScheduledProcedureStepStartDate', '')} "
            f"{sps.get('ScheduledProcedureStepStartTime', '')}  {sps.get('Modality', '')}  "
            f"{sps.get('ScheduledStationAETitle', '')}  {ds.get('PatientName', '')} "
            f"[{ds.get('PatientID', '')}]  {ds.get('AccessionNumber', '')}"
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
