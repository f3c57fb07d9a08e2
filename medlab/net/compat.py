"""Will these two devices talk? Compare two conformance descriptions (PS3.2).

A DICOM Conformance Statement (PS3.2) says, for each SOP class, in which
*role* a device plays it (SCU, SCP or both) and which transfer syntaxes it
proposes or accepts; for queries, which keys it supports. Two devices can use
a service only if

1. one of them is the **SCU** and the other the **SCP** of that SOP class
   (roles are per service, not per device: a PACS is the Storage SCP for a
   modality and the Storage SCU when it sends a C-MOVE result out);
2. they share at least one **transfer syntax** for it (PS3.5 §10; Implicit VR
   Little Endian is the default every DICOM device must support, PS3.5 §10.1);
3. for queries, the keys the SCU relies on are matching keys the SCP supports;
4. for some services, extra conditions outside negotiation hold: a C-MOVE
   destination must be *configured* in the archive (AE title, host, port),
   a C-GET SCU must accept the SCP role for storage (PS3.7 D.3.3.4), a Storage
   Commitment result may come back on a *new* association (PS3.4 J.3).

:func:`compatible` checks exactly these and returns a :class:`Compatibility`
with one row per service and direction: *works*, *works (with a caveat)* or
*will not work*, and why.

Descriptions are small dicts a trainee can read and edit::

    {"name": "CT scanner", "aet": "CT01",
     "services": {"CTImageStorage": {"roles": ["SCU"],
                                     "transfer_syntaxes": ["JPEGLosslessSV1", "ExplicitVRLittleEndian"]},
                  "ModalityWorklistInformationFind": {"roles": ["SCU"],
                                                      "query_keys": ["PatientID", "Modality"]}}}

SOP classes and transfer syntaxes may be written as UIDs or as pydicom
keywords (``CTImageStorage``, ``JPEG2000Lossless``).
"""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from typing import Any

from medlab.errors import MedlabError
from medlab.net.events import uid_name

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
UNCOMPRESSED = (IMPLICIT_LE, EXPLICIT_LE, "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99")

VERIFICATION = "1.2.840.10008.1.1"
STORAGE_COMMITMENT = "1.2.840.10008.1.20.1"
MPPS = "1.2.840.10008.3.1.2.3.3"
MWL_FIND = "1.2.840.10008.5.1.4.31"
QR_FIND = ("1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.2.1")
QR_MOVE = ("1.2.840.10008.5.1.4.1.2.1.2", "1.2.840.10008.5.1.4.1.2.2.2")
QR_GET = ("1.2.840.10008.5.1.4.1.2.1.3", "1.2.840.10008.5.1.4.1.2.2.3")


def to_uid(value: str, what: str = "UID") -> str:
    """A UID from a UID string or a pydicom/pynetdicom keyword (``CTImageStorage``)."""
    text = str(value).strip()
    if text and text.replace(".", "").isdigit():
        return text
    from pydicom.uid import UID_dictionary

    for uid, entry in UID_dictionary.items():
        if entry[4] == text or entry[0] == text:
            return str(uid)
    try:
        from pynetdicom import sop_class

        uid = getattr(sop_class, text, None)
        if uid is not None:
            return str(uid)
    except ImportError:  # pragma: no cover
        pass
    raise MedlabError(
        f"Unknown {what} {value!r}",
        fix="Write a UID (1.2.840.10008...) or a keyword such as CTImageStorage.",
    )


@dataclass
class Conformance:
    """One device's networking capabilities, as a conformance statement lists them.

    ``services`` maps SOP Class UID -> ``{"roles": {"SCU", "SCP"},
    "transfer_syntaxes": [UIDs, preferred first], "query_keys": [keywords]}``.
    """

    name: str
    aet: str = ""
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conformance:
        """Build from the editable dict form (keywords allowed, see the module doc)."""
        services: dict[str, dict[str, Any]] = {}
        for key, spec in (data.get("services") or {}).items():
            uid = to_uid(key, "SOP class")
            roles = {str(r).upper() for r in spec.get("roles", ())}
            if not roles or not roles <= {"SCU", "SCP"}:
                raise MedlabError(
                    f"Roles of {key} must be SCU and/or SCP, not {spec.get('roles')!r}"
                )
            syntaxes = [
                to_uid(t, "transfer syntax") for t in spec.get("transfer_syntaxes", [IMPLICIT_LE])
            ]
            services[uid] = {
                "roles": roles,
                "transfer_syntaxes": syntaxes,
                "query_keys": list(spec.get("query_keys", [])),
            }
        return cls(
            str(data.get("name", "device")),
            str(data.get("aet", "")),
            services,
            list(data.get("notes", [])),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aet": self.aet,
            "notes": list(self.notes),
            "services": {
                uid: {
                    "roles": sorted(s["roles"]),
                    "transfer_syntaxes": list(s["transfer_syntaxes"]),
                    **({"query_keys": list(s["query_keys"])} if s.get("query_keys") else {}),
                }
                for uid, s in self.services.items()
            },
        }

    def copy(self) -> Conformance:
        return copy.deepcopy(self)

    def roles(self, sop_class: str) -> set[str]:
        return set(self.services.get(to_uid(sop_class), {}).get("roles", set()))

    def __repr__(self) -> str:
        lines = [f"Conformance of {self.name}" + (f" (AE {self.aet})" if self.aet else "")]
        for uid, spec in self.services.items():
            ts = ", ".join(_ts_short(t) for t in spec["transfer_syntaxes"])
            lines.append(f"  {'/'.join(sorted(spec['roles'])):<7} {uid_name(uid)}  [{ts}]")
        return "\n".join(lines)


def _ts_short(uid: str) -> str:
    """A transfer syntax by its pydicom keyword (``JPEG2000Lossless``), as in the dict form."""
    try:
        from pydicom.uid import UID

        return UID(uid).keyword or uid
    except Exception:  # noqa: BLE001
        return uid


def from_pacs(pacs: Any) -> Conformance:
    """The conformance of a :class:`medlab.net.PACS` (or its :class:`PACSConfig`).

    Mirrors its generated conformance statement (``pacs.conformance()``).
    """
    from pynetdicom.presentation import AllStoragePresentationContexts

    from medlab.net.query import KEYS, WORKLIST_SPS, WORKLIST_TOP
    from medlab.net.server import storage_transfer_syntaxes

    config = getattr(pacs, "config", pacs)
    uncompressed = list(UNCOMPRESSED[1:]) + [IMPLICIT_LE]
    services: dict[str, dict[str, Any]] = {
        VERIFICATION: {
            "roles": {"SCP", "SCU"},
            "transfer_syntaxes": uncompressed,
            "query_keys": [],
        },
    }
    for cx in AllStoragePresentationContexts:
        # SCP for C-STORE from modalities; SCU when it sends C-MOVE/C-GET results.
        services[str(cx.abstract_syntax)] = {
            "roles": {"SCP", "SCU"},
            "transfer_syntaxes": storage_transfer_syntaxes(),
            "query_keys": [],
        }
    for uid in (*QR_FIND, *QR_MOVE, *QR_GET):
        services[uid] = {
            "roles": {"SCP"},
            "transfer_syntaxes": uncompressed,
            "query_keys": sorted(KEYS) if uid in QR_FIND else [],
        }
    services[MWL_FIND] = {
        "roles": {"SCP"},
        "transfer_syntaxes": uncompressed,
        "query_keys": sorted(set(WORKLIST_TOP) | set(WORKLIST_SPS)),
    }
    services[MPPS] = {"roles": {"SCP"}, "transfer_syntaxes": uncompressed, "query_keys": []}
    services[STORAGE_COMMITMENT] = {
        "roles": {"SCP"},
        "transfer_syntaxes": uncompressed,
        "query_keys": [],
    }
    notes = [f"C-MOVE destinations: {', '.join(sorted(config.peers)) or 'none configured'}"]
    conf = Conformance("medlab PACS", config.aet, services, notes)
    conf.peers = dict(config.peers)  # type: ignore[attr-defined]
    return conf


def ct_modality() -> Conformance:
    """A described CT scanner, as its vendor's statement might list it (editable)."""
    return Conformance.from_dict(
        {
            "name": "CT scanner",
            "aet": "CT01",
            "services": {
                "Verification": {
                    "roles": ["SCU", "SCP"],
                    "transfer_syntaxes": ["ImplicitVRLittleEndian"],
                },
                "CTImageStorage": {
                    "roles": ["SCU"],
                    "transfer_syntaxes": [
                        "JPEGLosslessSV1",
                        "ExplicitVRLittleEndian",
                        "ImplicitVRLittleEndian",
                    ],
                },
                "GrayscaleSoftcopyPresentationStateStorage": {
                    "roles": ["SCU"],
                    "transfer_syntaxes": ["ExplicitVRLittleEndian"],
                },
                "ModalityWorklistInformationFind": {
                    "roles": ["SCU"],
                    "transfer_syntaxes": ["ExplicitVRLittleEndian"],
                    "query_keys": [
                        "ScheduledStationAETitle",
                        "ScheduledProcedureStepStartDate",
                        "Modality",
                        "PatientName",
                        "PatientID",
                        "AccessionNumber",
                    ],
                },
                "ModalityPerformedProcedureStep": {
                    "roles": ["SCU"],
                    "transfer_syntaxes": ["ImplicitVRLittleEndian"],
                },
                "StorageCommitmentPushModel": {
                    "roles": ["SCU"],
                    "transfer_syntaxes": ["ImplicitVRLittleEndian"],
                },
            },
        }
    )


def viewer() -> Conformance:
    """A described diagnostic viewer workstation: queries and retrieves (editable)."""
    return Conformance.from_dict(
        {
            "name": "Viewer",
            "aet": "VIEWER",
            "services": {
                "Verification": {
                    "roles": ["SCU", "SCP"],
                    "transfer_syntaxes": ["ImplicitVRLittleEndian"],
                },
                "StudyRootQueryRetrieveInformationModelFind": {
                    "roles": ["SCU"],
                    "transfer_syntaxes": ["ExplicitVRLittleEndian"],
                    "query_keys": [
                        "PatientName",
                        "PatientID",
                        "StudyDate",
                        "ModalitiesInStudy",
                        "AccessionNumber",
                    ],
                },
                "StudyRootQueryRetrieveInformationModelMove": {
                    "roles": ["SCU"],
                    "transfer_syntaxes": ["ExplicitVRLittleEndian"],
                },
                "CTImageStorage": {
                    "roles": ["SCP"],
                    "transfer_syntaxes": ["JPEG2000Lossless", "ExplicitVRLittleEndian"],
                },
                "MRImageStorage": {
                    "roles": ["SCP"],
                    "transfer_syntaxes": ["JPEG2000Lossless", "ExplicitVRLittleEndian"],
                },
            },
        }
    )


WORKS, CAVEAT, FAILS = "works", "works, with a caveat", "will not work"


@dataclass(frozen=True)
class Finding:
    """One service in one direction: SCU -> SCP, verdict, and why."""

    service: str
    scu: str
    scp: str
    verdict: str
    why: str

    def __str__(self) -> str:
        return f"{self.verdict.upper():<20} {self.service} ({self.scu} -> {self.scp}): {self.why}"


@dataclass
class Compatibility:
    """The verdict of :func:`compatible`: one :class:`Finding` per service and direction."""

    a: str
    b: str
    findings: list[Finding]

    @property
    def works(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict != FAILS]

    @property
    def fails(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict == FAILS]

    def verdict(self, service: str) -> str:
        """The verdict for the first service whose name contains ``service``."""
        for f in self.findings:
            if service.lower() in f.service.lower():
                return f.verdict
        return "not described"

    def __repr__(self) -> str:
        head = (
            f"{self.a} <-> {self.b}: {len(self.works)} service(s) will work, "
            f"{len(self.fails)} will not"
        )
        return "\n".join([head, *(f"  {f}" for f in self.findings)])

    def _repr_html_(self) -> str:
        colour = {WORKS: "#2e7d32", CAVEAT: "#ef6c00", FAILS: "#b71c1c"}
        rows = "".join(
            f"<tr><td>{html.escape(f.service)}</td><td>{html.escape(f.scu)} &rarr; {html.escape(f.scp)}</td>"
            f'<td style="color:{colour[f.verdict]};font-weight:bold">{html.escape(f.verdict)}</td>'
            f"<td>{html.escape(f.why)}</td></tr>"
            for f in self.findings
        )
        caption = html.escape(
            f"{self.a} <-> {self.b}: {len(self.works)} will work, {len(self.fails)} will not"
        )
        return (
            f'<table class="medlab-compat"><caption>{caption}</caption><thead><tr><th>service</th>'
            f"<th>SCU &rarr; SCP</th><th>verdict</th><th>why</th></tr></thead><tbody>{rows}</tbody></table>"
        )


def _service_name(uid: str) -> str:
    name = uid_name(uid)
    return (
        name.replace(" Information Model", "")
        .replace(" SOP Class", "")
        .replace("Query/Retrieve", "Q/R")
    )


def _check(scu: Conformance, scp: Conformance, uid: str) -> Finding:
    name = _service_name(uid)
    s_spec, p_spec = scu.services[uid], scp.services.get(uid)
    if p_spec is None or "SCP" not in p_spec["roles"]:
        why = f"{scp.name} does not provide {name} as SCP"
        if p_spec is not None:
            why += " (it only lists the SCU role: both would want to ask, neither to answer)"
        return Finding(
            name,
            scu.name,
            scp.name,
            FAILS,
            why + ": the context would be rejected (abstract-syntax-not-supported).",
        )
    common = [t for t in s_spec["transfer_syntaxes"] if t in p_spec["transfer_syntaxes"]]
    if not common:
        return Finding(
            name,
            scu.name,
            scp.name,
            FAILS,
            "no transfer syntax in common ("
            + ", ".join(_ts_short(t) for t in s_spec["transfer_syntaxes"])
            + " offered; "
            + ", ".join(_ts_short(t) for t in p_spec["transfer_syntaxes"][:4])
            + " accepted): transfer-syntaxes-not-supported.",
        )
    caveats = []
    offered_compressed = [t for t in s_spec["transfer_syntaxes"] if t not in UNCOMPRESSED]
    if _is_storage(uid) and offered_compressed and all(t in UNCOMPRESSED for t in common):
        caveats.append(
            f"none of its compressed syntaxes ({', '.join(map(_ts_short, offered_compressed))}) "
            f"is accepted, so images must travel uncompressed ({_ts_short(common[0])}): "
            "bigger transfers, and a lossy-compressed image cannot be sent as it is"
        )
    wanted = [k for k in s_spec.get("query_keys", []) if k not in p_spec.get("query_keys", [])]
    if wanted and p_spec.get("query_keys"):
        caveats.append(
            "keys not supported by the SCP (returned empty or ignored): " + ", ".join(wanted)
        )
    if uid in QR_MOVE:
        peers = getattr(scp, "peers", None)
        if peers is not None and scu.aet not in peers:
            return Finding(
                name,
                scu.name,
                scp.name,
                FAILS,
                f"{scu.aet or scu.name} is not a configured move destination of {scp.name}: "
                "C-MOVE would answer 0xA801 (add its AE title, host and port).",
            )
        if peers is None:
            caveats.append(
                f"{scu.aet or scu.name} must be configured in {scp.name} as a move destination "
                "(AE title, host, port)"
            )
        caveats.append(
            f"{scu.aet or scu.name} must accept the new association {scp.name} opens, "
            "as Storage SCP"
        )
    if uid in QR_GET:
        caveats.append(
            "the SCU must take the Storage SCP role (role selection) for each SOP class it retrieves"
        )
    if uid == STORAGE_COMMITMENT:
        caveats.append(
            "the result (N-EVENT-REPORT) may come on a new association: the modality must then "
            "accept it from the archive"
        )
    if uid == MPPS:
        caveats.append("MPPS is only useful if the RIS/PACS acts on it (progress, billing, dose)")
    if caveats:
        return Finding(name, scu.name, scp.name, CAVEAT, "; ".join(caveats) + ".")
    return Finding(name, scu.name, scp.name, WORKS, f"agreed on {_ts_short(common[0])}.")


def compatible(a: Conformance | dict, b: Conformance | dict) -> Compatibility:
    """Compare two conformance descriptions, per service and direction.

    Every SOP class the first device ``a`` lists is checked: as SCU against
    ``b`` as SCP, and as SCP against ``b`` as SCU. Put the device you are
    evaluating first (the modality, the viewer), the archive second. Services
    only ``b`` lists are not needed by ``a`` and are not reported; nor are
    classes ``a`` provides (SCP) that ``b`` does not mention at all.
    """
    a = a if isinstance(a, Conformance) else Conformance.from_dict(a)
    b = b if isinstance(b, Conformance) else Conformance.from_dict(b)
    findings: list[Finding] = []
    for uid, spec in a.services.items():
        roles = spec["roles"]
        other = b.services.get(uid)
        if other is None and "SCP" in roles:
            continue  # b does not need a as its SCP here (and a's SCU role is optional to a)
        if "SCU" in roles:
            findings.append(_check(a, b, uid))
        if "SCP" in roles:
            if other is not None and "SCU" in other["roles"]:
                findings.append(_check(b, a, uid))
            elif "SCU" not in roles:
                name = _service_name(uid)
                findings.append(
                    Finding(
                        name,
                        b.name,
                        a.name,
                        FAILS,
                        f"{a.name} only answers {name} (SCP) and {b.name} never asks (no SCU role): "
                        "neither side will start this conversation.",
                    )
                )
    order = {WORKS: 1, CAVEAT: 1, FAILS: 0}
    findings.sort(key=lambda f: (order[f.verdict], f.scu != a.name, f.service))
    return Compatibility(a.name, b.name, findings)


def _is_storage(uid: str) -> bool:
    return uid.startswith("1.2.840.10008.5.1.4.1.1.")


__all__ = [
    "Compatibility",
    "Conformance",
    "Finding",
    "compatible",
    "ct_modality",
    "from_pacs",
    "to_uid",
    "viewer",
]
