"""The PACS configuration: every setting in one documented dataclass.

A :class:`PACSConfig` can be built in Python or read from a TOML file with
:meth:`PACSConfig.from_toml`, for example::

    # medlab-pacs.toml
    aet = "MEDLAB"            # our Application Entity title (PS3.8 §7.1.1.2, ≤ 16 chars)
    host = "127.0.0.1"        # address to bind; loopback only unless you mean it
    port = 11112              # 104 is the registered DICOM port, 11112 the usual unprivileged one
    root = "~/.medlab/pacs"   # where files and the SQLite index live
    allow = ["STORESCU"]      # calling AE titles allowed in (empty = anyone)

    [peers]                   # C-MOVE destinations: AE title = "host:port"
    STORESCP = "127.0.0.1:11113"

The same file is what ``medlab pacs serve --config FILE`` reads; command-line
options override it. ``medlab/net/pacs.example.toml`` lists every setting with
its default and a comment.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medlab.errors import MedlabError

#: An AE title: 1-16 characters of the Default Character Repertoire, no backslash
#: and no control characters; leading/trailing spaces are not significant (PS3.5 §6.2, AE).
_AET_RE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")


def check_aet(aet: str, what: str = "AE title") -> str:
    """Return ``aet`` stripped, or raise :class:`MedlabError` if it is not a valid AE title."""
    value = str(aet).strip()
    if not value or not _AET_RE.match(value):
        raise MedlabError(
            f"{what} {aet!r} is not a valid AE title",
            fix="Use 1-16 printable ASCII characters without a backslash (PS3.5 §6.2, VR AE).",
        )
    return value


def parse_peer(text: str) -> tuple[str, tuple[str, int]]:
    """Parse ``AET=host:port`` (the ``--peer`` option) into ``(aet, (host, port))``."""
    try:
        aet, address = text.split("=", 1)
        host, port = address.rsplit(":", 1)
        return check_aet(aet, "Peer AE title"), (host.strip() or "127.0.0.1", int(port))
    except ValueError:
        raise MedlabError(
            f"Cannot read the peer {text!r}",
            fix="Write a peer as AET=host:port, e.g. STORESCP=127.0.0.1:11113.",
        ) from None


@dataclass
class PACSConfig:
    """Everything that configures a :class:`medlab.net.PACS`.

    Attributes
    ----------
    aet:
        Our AE title. Associations whose *Called AE Title* differs are rejected
        (A-ASSOCIATE-RJ, permanent, reason 7 "called-AE-title-not-recognized",
        PS3.8 §9.3.4). Default ``"MEDLAB"``.
    host:
        Address to bind. Default ``"127.0.0.1"`` (loopback only): a teaching PACS
        should not be reachable from the network by accident.
    port:
        TCP port; ``0`` picks a free one (read it back from ``PACS.port``).
    root:
        Folder for the stored files (``root/<study>/<series>/<instance>.dcm``) and
        the SQLite index ``root/index.sqlite``. ``None`` = ``paths.home()/"pacs"``.
    allow:
        Calling AE titles allowed to associate; ``None`` or empty = anyone. Others
        are rejected with reason 3 "calling-AE-title-not-recognized".
    peers:
        Known peers ``{AE title: (host, port)}``: the only C-MOVE destinations
        (others get status 0xA801 "Move Destination unknown", PS3.4 C.4.2.1.4),
        and where a Storage Commitment result goes when the requesting
        association has already closed.
    max_associations:
        Simultaneous associations; one more is rejected (transient, reason 2
        "local-limit-exceeded"). Default 16. A slot is taken by an
        A-ASSOCIATE-RQ, not by a TCP connection: a connection that sends
        nothing (or junk) holds none.
    acse_timeout, dimse_timeout, network_timeout:
        Seconds to wait for an association message, a DIMSE message, and on an
        idle association before aborting it. A connection that never sends a
        whole A-ASSOCIATE-RQ is closed after ``acse_timeout`` (it holds no
        association slot meanwhile).
    max_pdu:
        Our maximum PDU length (bytes), 128 KiB: DCMTK never sends larger, and
        it is +20 % throughput over the 16 KiB default.
    fsync:
        ``fsync`` each file before answering C-STORE. Off by default (as
        Orthanc's ``SyncStorageArea`` false): the rename is atomic either way,
        fsync only adds protection against power loss.
    commitment_delay:
        Seconds to wait after the N-ACTION response before sending the
        Storage Commitment N-EVENT-REPORT.
    max_events:
        How many event records :attr:`PACS.events` keeps (oldest dropped).
    log:
        What to print (CLI) per event: ``"all"``, ``"associations"`` (no DIMSE
        lines) or ``"none"``.
    web_port:
        TCP port of the DICOMweb services (``/dicom-web``) and the OHIF viewer
        (``/viewer/``), on the same host: ``0`` (default) a free port, ``-1`` no
        web side. Same owner-only access as the DICOM port.
    accept_peers:
        Who may associate: ``"same-user"`` (only this Unix user's own processes
        on this machine), ``"local"`` (any user of this machine) or ``"any"``
        (any host: a department test system, explicitly opened up). Empty (the
        default) = the medlab setting :func:`medlab.settings.peer_policy`
        (``MEDLAB_ACCEPT_PEERS``), which is ``same-user`` unless an instructor
        changed it. A refused peer gets A-ASSOCIATE-RJ (permanent, service-user,
        calling-AE-title-not-recognized) and the event log says why.
    quiet_library_logging:
        Turn pynetdicom's own per-message logging off (its documented
        ``_config.LOG_HANDLER_LEVEL = "none"`` and ``LOG_REQUEST_IDENTIFIERS =
        False``; +5 % throughput). Process-wide, so only the CLI server turns it on.
    """

    aet: str = "MEDLAB"
    host: str = "127.0.0.1"
    port: int = 11112
    root: Path | None = None
    allow: list[str] | None = None
    peers: dict[str, tuple[str, int]] = field(default_factory=dict)
    max_associations: int = 16
    acse_timeout: float = 10.0
    dimse_timeout: float = 30.0
    network_timeout: float = 60.0
    max_pdu: int = 128 * 1024
    fsync: bool = False
    commitment_delay: float = 0.0
    max_events: int = 20_000
    log: str = "all"
    web_port: int = 0
    accept_peers: str = ""
    quiet_library_logging: bool = False

    def __post_init__(self) -> None:
        self.aet = check_aet(self.aet)
        if self.root is not None:
            self.root = Path(self.root).expanduser()
        # An empty list and None both mean "anyone".
        self.allow = [check_aet(a, "Allowed AE title") for a in self.allow] if self.allow else None
        self.peers = {
            check_aet(k, "Peer AE title"): (str(v[0]), int(v[1])) for k, v in self.peers.items()
        }
        if not isinstance(self.web_port, int) or not -1 <= self.web_port <= 65535:
            raise MedlabError(
                f"web_port {self.web_port!r} is not a TCP port",
                fix="Use 1-65535, 0 for a free port, or -1 to turn the web side off.",
            )
        from medlab.settings import PEER_POLICIES

        self.accept_peers = str(self.accept_peers or "").strip().lower()
        if self.accept_peers and self.accept_peers not in PEER_POLICIES:
            raise MedlabError(
                f"Unknown accept_peers setting {self.accept_peers!r}",
                fix="Use one of: " + ", ".join(PEER_POLICIES) + " (or leave it empty).",
            )
        if self.log not in {"all", "associations", "none"}:
            raise MedlabError(
                f"Unknown log setting {self.log!r}", fix="Use all, associations or none."
            )

    @classmethod
    def from_toml(cls, path: str | Path) -> PACSConfig:
        """Read a configuration from a TOML file (keys as the attributes above)."""
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            try:
                import tomli as tomllib  # type: ignore[no-redef]
            except ModuleNotFoundError:
                raise MedlabError(
                    "Reading a TOML configuration needs Python 3.11 or the tomli package",
                    fix="pip install tomli, or build a PACSConfig(...) in Python instead.",
                ) from None
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise MedlabError(
                f"Cannot read the PACS configuration: {err}", where=str(path)
            ) from None
        return cls.from_dict(data, where=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "configuration") -> PACSConfig:
        """Build a configuration from a plain dict (unknown keys are an error)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise MedlabError(
                f"Unknown PACS setting(s): {', '.join(unknown)}",
                where=where,
                fix=f"Known settings: {', '.join(sorted(names))}.",
            )
        data = dict(data)
        peers = data.get("peers") or {}
        parsed: dict[str, tuple[str, int]] = {}
        for aet, value in peers.items():
            if isinstance(value, str):
                parsed.update([parse_peer(f"{aet}={value}")])
            else:
                parsed[aet] = (str(value[0]), int(value[1]))
        data["peers"] = parsed
        return cls(**data)

    def replace(self, **changes: Any) -> PACSConfig:
        """A copy with some settings changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
