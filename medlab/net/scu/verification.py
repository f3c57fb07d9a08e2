"""Verification SCU: C-ECHO (PS3.4 Annex A)."""

from __future__ import annotations

from medlab.net import uids
from medlab.net.recording import Recorder
from medlab.net.scu.association import CALLING_AET, Association, Target, associate, new_ae


def echo(target: Target, *, calling: str = CALLING_AET, recorder: Recorder | None = None) -> int:
    """C-ECHO the target; return the status (0x0000 = Success; PS3.7 §9.1.5, Annex C)."""
    ae = new_ae(calling)
    ae.add_requested_context(uids.VERIFICATION)
    with Association(associate(ae, target, recorder), service="C-ECHO") as assoc:
        rsp = assoc.send_c_echo()
    return int(rsp.Status) if "Status" in rsp else -1
