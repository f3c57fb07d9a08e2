"""The one setting that says which PACS and which HL7 endpoint the lessons talk to.

By default every networking lesson starts medlab's own PACS (and HL7 listener)
inside the notebook, on a free port of 127.0.0.1, and stops it at the end:
nothing needs to run beforehand, on a laptop or on Binder. An instructor can
instead point a whole class at a shared department *test* PACS — never a
clinical one — in one of two ways (the first found wins):

1. **Environment variables**::

       export MEDLAB_PACS="DEPT_TEST@pacs-test.example.org:11112"   # AET@host:port
       export MEDLAB_HL7="hl7-test.example.org:2575"                 # host:port

2. **A TOML file** at ``$MEDLAB_CONFIG``, else ``config.toml`` in the medlab
   home (``~/.medlab/config.toml``, or under ``$MEDLAB_HOME`` when set)::

       [pacs]
       aet = "DEPT_TEST"        # the PACS's AE title = our Called AE Title
       host = "pacs-test.example.org"
       port = 11112

       [hl7]
       host = "hl7-test.example.org"
       port = 2575

Every networking lesson gets its target through
:func:`medlab.net.scu.start_pacs`, which reads :func:`pacs`; the helpers and
widgets then take that target (anything with ``aet``, ``host`` and ``port``),
so no lesson hard-codes a host. HL7 lessons read :func:`hl7` the same way.
A target that is not the bundled PACS cannot be scheduled into or inspected
from Python (worklist items, recorded events): the lessons say so where it
matters. ``tests/interop/test_orthanc.py`` proves the switch by pointing
``MEDLAB_PACS`` at a real Orthanc and running lesson 08's core flow.

Who may connect to the bundled services is a third setting,
:func:`peer_policy` (``MEDLAB_ACCEPT_PEERS``, or ``[peers] accept``): by default
only the user's own processes (:mod:`medlab.peers`).

Only the standard library is imported here: reading the setting is cheap.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from medlab.errors import MedlabError

#: The AE title of the bundled PACS (medlab.net.PACS's default).
BUNDLED_AET = "MEDLAB"

_PACS_RE = re.compile(r"^\s*(?P<aet>[^@]{1,16})@(?P<host>[^:@\s]+):(?P<port>\d{1,5})\s*$")
_HL7_RE = re.compile(r"^\s*(?P<host>[^:@\s]+):(?P<port>\d{1,5})\s*$")


@dataclass(frozen=True)
class PacsTarget:
    """Where the PACS is: its AE title, host and port, or the bundled one.

    ``bundled`` is True when nothing is configured: the lesson starts
    medlab's PACS itself (``host``/``port`` are then filled in once started).
    ``source`` says where the setting came from, for error messages.
    """

    aet: str = BUNDLED_AET
    host: str = "127.0.0.1"
    port: int = 0
    bundled: bool = True
    source: str = "default (the bundled PACS)"

    def __str__(self) -> str:
        if self.bundled:
            return f"the bundled medlab PACS ({self.aet})"
        return f"{self.aet}@{self.host}:{self.port}"


@dataclass(frozen=True)
class Hl7Target:
    """Where the HL7 (MLLP) endpoint is, or the bundled listener."""

    host: str = "127.0.0.1"
    port: int = 0
    bundled: bool = True
    source: str = "default (the bundled HL7 listener)"

    def __str__(self) -> str:
        return "the bundled medlab HL7 listener" if self.bundled else f"{self.host}:{self.port}"


def config_path() -> Path:
    """The TOML file read when no environment variable is set."""
    env = os.environ.get("MEDLAB_CONFIG")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("MEDLAB_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".medlab") / "config.toml"


def _port(value: object, where: str) -> int:
    try:
        port = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        port = -1
    if not 1 <= port <= 65535:
        raise MedlabError(
            f"Port {value!r} is not a TCP port number",
            where=where,
            fix="Use a number from 1 to 65535.",
        )
    return port


def _read_config() -> dict:
    path = config_path()
    if not path.is_file():
        if os.environ.get("MEDLAB_CONFIG"):
            raise MedlabError(
                "The configuration file named by MEDLAB_CONFIG does not exist",
                where=str(path),
                fix="Fix the path, or unset MEDLAB_CONFIG to use the bundled PACS.",
            )
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise MedlabError(f"Cannot read the medlab configuration: {err}", where=str(path)) from None


def pacs() -> PacsTarget:
    """The PACS the lessons talk to (``MEDLAB_PACS``, then the config file, then bundled)."""
    env = os.environ.get("MEDLAB_PACS", "").strip()
    if env:
        match = _PACS_RE.match(env)
        if not match:
            raise MedlabError(
                f"MEDLAB_PACS={env!r} is not of the form AET@host:port",
                where="environment variable MEDLAB_PACS",
                fix='Write it like MEDLAB_PACS="DEPT_TEST@pacs-test.example.org:11112".',
            )
        return PacsTarget(
            _aet(match["aet"], "MEDLAB_PACS"),
            match["host"],
            _port(match["port"], "MEDLAB_PACS"),
            bundled=False,
            source="environment variable MEDLAB_PACS",
        )
    section = _read_config().get("pacs")
    if not section:
        return PacsTarget()
    where = f"[pacs] in {config_path()}"
    missing = [k for k in ("host", "port") if k not in section]
    if missing:
        raise MedlabError(
            f"The [pacs] section lacks {', '.join(missing)}",
            where=where,
            fix="Give host, port and aet, or remove the section to use the bundled PACS.",
        )
    return PacsTarget(
        _aet(str(section.get("aet", BUNDLED_AET)), where),
        str(section["host"]),
        _port(section["port"], where),
        bundled=False,
        source=where,
    )


def hl7() -> Hl7Target:
    """The HL7 endpoint the lessons talk to (``MEDLAB_HL7``, then the config file, then bundled)."""
    env = os.environ.get("MEDLAB_HL7", "").strip()
    if env:
        match = _HL7_RE.match(env)
        if not match:
            raise MedlabError(
                f"MEDLAB_HL7={env!r} is not of the form host:port",
                where="environment variable MEDLAB_HL7",
                fix='Write it like MEDLAB_HL7="hl7-test.example.org:2575".',
            )
        return Hl7Target(
            match["host"],
            _port(match["port"], "MEDLAB_HL7"),
            bundled=False,
            source="environment variable MEDLAB_HL7",
        )
    section = _read_config().get("hl7")
    if not section:
        return Hl7Target()
    where = f"[hl7] in {config_path()}"
    if "host" not in section or "port" not in section:
        raise MedlabError("The [hl7] section needs host and port", where=where)
    return Hl7Target(
        str(section["host"]), _port(section["port"], where), bundled=False, source=where
    )


#: Who may connect to the bundled PACS and HL7 listener (see :mod:`medlab.peers`).
PEER_POLICIES = {
    "same-user": "only this user's own processes on this machine (the default)",
    "local": "any process on this machine, whoever runs it",
    "any": "any host that can reach the port (a department test system)",
}


def peer_policy() -> str:
    """Who may connect to this user's bundled services: ``same-user`` unless configured.

    ``MEDLAB_ACCEPT_PEERS`` (environment), else ``accept = "..."`` in the
    ``[peers]`` section of the config file, set to one of :data:`PEER_POLICIES`.
    Only a department *test* system that serves a whole class should widen it;
    a trainee's own server on a shared host must keep ``same-user``.
    """
    env = os.environ.get("MEDLAB_ACCEPT_PEERS", "").strip()
    if env:
        value, where = env, "environment variable MEDLAB_ACCEPT_PEERS"
    else:
        section = _read_config().get("peers") or {}
        value, where = str(section.get("accept", "same-user")), f"[peers] in {config_path()}"
    value = value.strip().lower()
    if value not in PEER_POLICIES:
        raise MedlabError(
            f"{value!r} is not a peer policy",
            where=where,
            fix="Use one of: " + ", ".join(f"{k} ({v})" for k, v in PEER_POLICIES.items()) + ".",
        )
    return value


def _aet(value: str, where: str) -> str:
    """An AE title: 1-16 printable ASCII characters, no backslash (PS3.5 §6.2, VR AE)."""
    text = value.strip()
    if not text or len(text) > 16 or "\\" in text or not all(32 <= ord(c) < 127 for c in text):
        raise MedlabError(
            f"{value!r} is not a valid AE title",
            where=where,
            fix="Use 1-16 printable ASCII characters without a backslash (PS3.5 §6.2).",
        )
    return text


__all__ = ["BUNDLED_AET", "Hl7Target", "PacsTarget", "config_path", "hl7", "pacs"]
