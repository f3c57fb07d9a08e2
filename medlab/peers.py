"""Who is at the other end of a connection: the peer check of medlab's own servers.

On a shared host (a JupyterHub: every trainee's server shares the machine's
loopback) anyone can find a trainee's PACS or HL7 port with ``ss -ltn`` and
connect to it. AE titles and ports identify nobody, so medlab's servers ask the
kernel instead. Linux lists every TCP socket of the network namespace in
``/proc/net/tcp`` (IPv4) and ``/proc/net/tcp6`` (IPv6), each with the **user id
that created it**. For a connection accepted over loopback, the peer's own
socket is in that table too, with the addresses swapped: its local address is
our remote one and its remote address is our local one. Its ``uid`` column says
which user's process opened the connection, and no option a client can set
changes it. So:

* same user (``uid == os.getuid()``): the trainee's own notebook, medlab's
  helpers, DCMTK's ``echoscu``/``storescu``/``findscu``... with no extra options;
* another user: refused (the HL7 listener closes the connection; the PACS
  answers A-ASSOCIATE-RJ);
* a peer that is not on loopback: refused, since its owner cannot be known.

:func:`medlab.settings.peer_policy` widens this for a department test system
that serves a class (``local``: any user of this machine; ``any``: any host).
On a system without ``/proc/net/tcp`` (macOS, Windows: single-user laptops)
the owner cannot be read: loopback peers are then accepted, and the verdict's
reason says that the owner was not checked.

``tests/unit/test_two_users.py`` proves it with two real Unix users.

Usage in a server::

    verdict = medlab.peers.check_peer(conn)
    if not verdict:
        log(verdict.reason)
        conn.close()
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

#: The kernel's tables of TCP sockets (IPv4, IPv6), with each socket's owner.
PROC_TCP = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))

Address = tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]


@dataclass(frozen=True)
class PeerVerdict:
    """Whether a peer may talk to this server, and why (true when allowed)."""

    allowed: bool
    peer: str  # "host:port" of the other end
    uid: int | None  # the user id owning the peer's socket, when known
    reason: str  # one sentence for the log and the rejection

    def __bool__(self) -> bool:
        return self.allowed


def _address(host: str, port: int) -> Address:
    ip = ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 scope ("%lo")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d
    return ip, port


def _parse_proc_address(text: str) -> Address:
    """``0100007F:1F90`` -> (127.0.0.1, 8080): the kernel prints each 32-bit word natively."""
    hex_ip, hex_port = text.split(":")
    words = [int(hex_ip[i : i + 8], 16) for i in range(0, len(hex_ip), 8)]
    raw = b"".join(struct.pack("=I", word) for word in words)
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return _address(socket.inet_ntop(family, raw), int(hex_port, 16))


def _endpoints(sock: socket.socket) -> tuple[Address, Address]:
    local = sock.getsockname()
    remote = sock.getpeername()
    return _address(local[0], local[1]), _address(remote[0], remote[1])


def peer_uid(sock: socket.socket) -> int | None:
    """The user id that owns the other end of ``sock``, a TCP connection on this machine.

    Looks up the peer's socket in ``/proc/net/tcp`` and ``/proc/net/tcp6``: the
    entry whose local address is ``sock``'s remote address and whose remote
    address is ``sock``'s local address. ``None`` when there is no such entry
    (the peer is on another host, or already gone) or the system has no
    ``/proc/net/tcp``.
    """
    try:
        ours, theirs = _endpoints(sock)
    except (OSError, ValueError):
        return None
    for table in PROC_TCP:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 8:
                continue
            try:
                if (
                    _parse_proc_address(fields[1]) == theirs
                    and _parse_proc_address(fields[2]) == ours
                ):
                    return int(fields[7])
            except (ValueError, OSError):
                continue
    return None


def check_peer(sock: socket.socket, policy: str | None = None) -> PeerVerdict:
    """Decide whether the peer of an accepted TCP connection may be served.

    ``policy`` is one of :data:`medlab.settings.PEER_POLICIES` (default: the
    configured :func:`medlab.settings.peer_policy`, ``same-user`` unless an
    instructor widened it). The verdict is truthy when allowed; its ``reason``
    names the peer and, when refused, why (for a log line or A-ASSOCIATE-RJ).
    """
    from medlab import settings

    policy = policy or settings.peer_policy()
    try:
        ours, theirs = _endpoints(sock)
    except (OSError, ValueError) as exc:
        return PeerVerdict(False, "?", None, f"the peer's address cannot be read ({exc})")
    peer = f"{theirs[0]}:{theirs[1]}"
    if policy == "any":
        return PeerVerdict(True, peer, None, f"{peer} accepted: this server accepts any host")
    if not theirs[0].is_loopback:
        return PeerVerdict(
            False,
            peer,
            None,
            f"{peer} refused: not on this machine (only local peers are accepted; "
            "an instructor can allow others with MEDLAB_ACCEPT_PEERS=any)",
        )
    if policy == "local":
        return PeerVerdict(True, peer, None, f"{peer} accepted: any local user is accepted")
    me = os.getuid() if hasattr(os, "getuid") else None
    if me is None or not any(table.exists() for table in PROC_TCP):
        return PeerVerdict(
            True, peer, None, f"{peer} accepted: this system does not say who owns a socket"
        )
    uid = peer_uid(sock)
    if uid is None:
        return PeerVerdict(False, peer, None, f"{peer} refused: its socket's owner cannot be found")
    if uid != me:
        return PeerVerdict(
            False,
            peer,
            uid,
            f"{peer} refused: it belongs to another user ({_user_name(uid)}); this server "
            f"serves only {_user_name(me)}",
        )
    return PeerVerdict(True, peer, uid, f"{peer} accepted: same user ({_user_name(uid)})")


def same_user_peer(sock: socket.socket) -> bool:
    """True when the peer of ``sock`` is a process of this same Unix user on this machine."""
    return check_peer(sock, policy="same-user").allowed


def _user_name(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):
        return f"uid {uid}"


__all__ = ["PROC_TCP", "PeerVerdict", "check_peer", "peer_uid", "same_user_peer"]
