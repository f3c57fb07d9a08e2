"""A short conformance statement for a PACS configuration (in the spirit of PS3.2).

``medlab pacs conformance`` prints it: the network identity, the SOP classes
and roles, the transfer syntaxes accepted, the policies a peer needs to know,
and the DICOMweb services (PS3.18) with their resources and media types.
"""

from __future__ import annotations

from medlab.net.config import PACSConfig
from medlab.net.events import uid_name

_SERVICES = [
    ("Verification", ["1.2.840.10008.1.1"], "SCP", "C-ECHO"),
    (
        "Query/Retrieve",
        [
            "1.2.840.10008.5.1.4.1.2.1.1",
            "1.2.840.10008.5.1.4.1.2.1.2",
            "1.2.840.10008.5.1.4.1.2.1.3",
            "1.2.840.10008.5.1.4.1.2.2.1",
            "1.2.840.10008.5.1.4.1.2.2.2",
            "1.2.840.10008.5.1.4.1.2.2.3",
        ],
        "SCP",
        "C-FIND, C-MOVE, C-GET at PATIENT/STUDY/SERIES/IMAGE; C-CANCEL",
    ),
    ("Basic Worklist Management", ["1.2.840.10008.5.1.4.31"], "SCP", "C-FIND"),
    ("Modality Performed Procedure Step", ["1.2.840.10008.3.1.2.3.3"], "SCP", "N-CREATE, N-SET"),
    ("Storage Commitment", ["1.2.840.10008.1.20.1"], "SCP", "N-ACTION, N-EVENT-REPORT"),
]


def conformance_statement(config: PACSConfig) -> str:
    """Return the statement as plain text (deterministic for a given configuration)."""
    from pynetdicom.presentation import AllStoragePresentationContexts

    from medlab.net import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION
    from medlab.net.server import storage_transfer_syntaxes

    lines = [
        "medlab PACS - conformance statement",
        "===================================",
        "",
        "1. Network identity",
        f"   AE title ............ {config.aet} (associations calling another title are rejected:",
        "                         A-ASSOCIATE-RJ permanent, reason 7 called-AE-title-not-recognized)",
        f"   Listens on .......... {config.host}:{config.port}",
        f"   Implementation ...... {IMPLEMENTATION_CLASS_UID} / {IMPLEMENTATION_VERSION}",
        f"   Maximum PDU ......... {config.max_pdu} bytes",
        f"   Associations ........ at most {config.max_associations} at once (more: transient reject,"
        " local-limit-exceeded)",
        f"   Timeouts ............ ACSE {config.acse_timeout:g} s, DIMSE {config.dimse_timeout:g} s,"
        f" idle {config.network_timeout:g} s",
        "   Calling AE titles ... "
        + (", ".join(config.allow) if config.allow else "any (no allow-list)"),
        "",
        "2. Services (all as SCP; no asynchronous operations window)",
    ]
    for name, uids, role, dimse in _SERVICES:
        lines.append(f"   {name} ({role}: {dimse})")
        for uid in uids:
            lines.append(f"     {uid:<32} {uid_name(uid)}")
    storage = sorted(cx.abstract_syntax for cx in AllStoragePresentationContexts)
    lines.append(
        f"   Storage (SCP: C-STORE; SCU for C-MOVE/C-GET sub-operations): {len(storage)} SOP classes"
    )
    for uid in storage:
        lines.append(f"     {uid:<32} {uid_name(uid)}")
    lines += [
        "",
        "3. Transfer syntaxes",
        "   Storage (preferred first: a compressed object is accepted as sent, never decompressed):",
    ]
    for ts in storage_transfer_syntaxes():
        lines.append(f"     {ts:<32} {uid_name(ts)}")
    lines += [
        "   Other services: Explicit VR Little Endian, Deflated Explicit VR LE, Explicit VR Big Endian,",
        "   Implicit VR Little Endian.",
        "",
        "4. Policies",
        "   Storage: files are written as received (same transfer syntax, same bytes) under",
        "   root/<Study UID>/<Series UID>/<SOP Instance UID>.dcm, atomically (temp file + rename),",
        "   then indexed; Success is answered only when both are done. UIDs must be digits and dots,",
        "   at most 64 characters. A re-sent instance replaces the stored one (no duplicate).",
        "   Failures: 0xA700 out of resources, 0xA900 data set does not match the request,",
        "   0xC000 invalid UID, 0xC210 data set cannot be decoded (truncated or malformed).",
        "   Query: single value, wildcard (* ?), range (DA TM), list of UIDs and universal",
        "   matching; PN matching ignores case; unknown keys are returned empty with 0xFF01.",
        "   Retrieve: C-MOVE only to the peers below (others: 0xA801 Move Destination unknown);",
        "   the sub-association proposes each stored (SOP class, transfer syntax) pair.",
        "   MPPS: N-CREATE must be IN PROGRESS (else 0x0106); N-SET only while IN PROGRESS",
        "   (else 0x0110, Error ID A710); unknown instance 0x0112; fixed attributes 0x0106.",
        "   Storage Commitment: N-EVENT-REPORT (type 1 all committed, 2 some failed) on the same",
        "   association if still open, else on a new one to the requesting peer (SCP role).",
        "",
        "5. Known peers (C-MOVE destinations)",
    ]
    if config.peers:
        for aet, (host, port) in sorted(config.peers.items()):
            lines.append(f"   {aet:<16} {host}:{port}")
    else:
        lines.append("   (none: add them with --peer AET=host:port or [peers] in the TOML file)")
    lines += ["", *_dicomweb_section(config)]
    return "\n".join(lines)


def _dicomweb_section(config: PACSConfig) -> list[str]:
    """Section 6: the DICOMweb origin server (PS3.18 §10), resources and media types."""
    if config.web_port < 0:
        return ["6. DICOMweb (PS3.18)", "   Off (web_port = -1)."]
    port = str(config.web_port) if config.web_port else "(a free port, chosen at start)"
    return [
        "6. DICOMweb (PS3.18), the same archive over HTTP",
        f"   Base URL ............ http://{config.host}:{port}/dicom-web",
        "   Access .............. as the DICOM port (only the owner's programs; others: HTTP 403)",
        "   QIDO-RS search (PS3.18 §10.6), GET, answers application/dicom+json (Annex F):",
        "     /studies  /series  /instances  /studies/{study}/series  /studies/{study}/instances",
        "     /studies/{study}/series/{series}/instances",
        "     matching as C-FIND (wildcards, DA/TM ranges, UID lists); includefield, limit,",
        "     offset; fuzzymatching not supported (a Warning header says so).",
        "   WADO-RS retrieve (PS3.18 §10.4), GET:",
        "     /studies/{study}[/series/{series}[/instances/{instance}]]",
        '       multipart/related; type="application/dicom" (transfer-syntax=* as stored,',
        "       or Explicit VR Little Endian)",
        "     .../metadata                      application/dicom+json with BulkDataURIs",
        "     .../instances/{instance}/frames/{list}",
        '       multipart/related; type="application/octet-stream" (uncompressed, or',
        "       transfer-syntax=* as stored)",
        "     .../instances/{instance}/bulkdata/{tag}   application/octet-stream",
        "     .../rendered, .../thumbnail       image/jpeg or image/png (stored window)",
        "   STOW-RS store (PS3.18 §10.5), POST /studies or /studies/{study}:",
        '     multipart/related; type="application/dicom" in, application/dicom+json out',
        "     (Store Instances Response, Annex I); each instance stored as a C-STORE would be.",
        "     HTTP 200 all stored, 202 some failed, 409 none stored, 415 not application/dicom.",
        "   Viewer .............. OHIF under /viewer/ on the same port (when installed).",
    ]
