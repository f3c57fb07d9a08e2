"""Modality Performed Procedure Step SCP: N-CREATE / N-SET (PS3.4 Annex F)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from medlab.net import uids
from medlab.net.server.engine import failure
from medlab.net.store import Store, clean_uid, is_valid_uid

if TYPE_CHECKING:
    from pydicom import Dataset

#: MPPS attributes an N-SET may not change (PS3.4 Table F.7.2-1, N-SET usage
#: "Not allowed"): they are fixed by the N-CREATE.
MPPS_NOT_SETTABLE = frozenset(
    {
        "SOPClassUID",
        "SOPInstanceUID",
        "PatientName",
        "PatientID",
        "IssuerOfPatientID",
        "PatientBirthDate",
        "PatientSex",
        "ReferencedPatientSequence",
        "ScheduledStepAttributesSequence",
        "PerformedProcedureStepID",
        "PerformedStationAETitle",
        "PerformedStationName",
        "PerformedLocation",
        "PerformedProcedureStepStartDate",
        "PerformedProcedureStepStartTime",
        "Modality",
        "StudyID",
    }
)
MPPS_STATES = ("IN PROGRESS", "COMPLETED", "DISCONTINUED")


def _refusal(status: int, comment: str) -> Dataset:
    rsp, _ = failure(status, comment)
    return rsp


class MppsService:
    """N-CREATE / N-SET handlers of :class:`~medlab.net.server.PACS`, and ``mpps()``."""

    store: Store | None
    _require_store: Callable[[], Store]  # PACS

    def mpps(self, sop_instance_uid: str) -> Dataset | None:
        """The current state of one MPPS instance, or None."""
        rows = self._require_store().query(
            "SELECT dataset FROM mpps WHERE sop_uid=?", (sop_instance_uid,)
        )
        return Store.from_json(rows[0][0]) if rows else None

    def _on_n_create(self, event: Any) -> tuple[Any, Any]:
        """N-CREATE of an MPPS instance: must start IN PROGRESS (PS3.4 F.7.2.1)."""
        from pydicom.uid import generate_uid

        req = event.request
        if str(req.AffectedSOPClassUID) != uids.MPPS:
            return 0x0122, None
        attrs = event.attribute_list
        uid = clean_uid(req.AffectedSOPInstanceUID) or generate_uid()
        if not is_valid_uid(uid):
            return _refusal(0x0117, "Affected SOP Instance UID is not a valid UID"), None
        status = str(attrs.get("PerformedProcedureStepStatus", "") or "")
        if status != "IN PROGRESS":
            return _refusal(
                0x0106, "PerformedProcedureStepStatus must be IN PROGRESS at N-CREATE"
            ), None
        if self.store.query("SELECT 1 FROM mpps WHERE sop_uid=?", (uid,)):  # type: ignore[union-attr]
            return 0x0111, None  # Duplicate SOP instance
        attrs.SOPClassUID = uids.MPPS
        attrs.SOPInstanceUID = uid
        self.store.execute(  # type: ignore[union-attr]
            "INSERT INTO mpps (sop_uid, status, dataset, updated_at) VALUES (?,?,?,?)",
            (uid, status, Store.to_json(attrs), time.time()),
        )
        if req.AffectedSOPInstanceUID is None:
            # The SCP chose the UID: the response must carry it (PS3.7 10.1.5.1.4);
            # pynetdicom moves it from the returned data set into the command.
            attrs = attrs.copy()
            attrs.AffectedSOPInstanceUID = uid
        return 0x0000, attrs

    def _on_n_set(self, event: Any) -> tuple[Any, Any]:
        """N-SET of an MPPS instance: only while IN PROGRESS; some attributes fixed (F.7.2.2)."""
        req = event.request
        uid = clean_uid(req.RequestedSOPInstanceUID)
        rows = self.store.query("SELECT status, dataset FROM mpps WHERE sop_uid=?", (uid,))  # type: ignore[union-attr]
        if not rows:
            return 0x0112, None  # No such SOP instance
        current, blob = rows[0]
        if current != "IN PROGRESS":
            rsp = _refusal(0x0110, "Performed Procedure Step Object may no longer be updated")
            rsp.ErrorID = 0xA710
            return rsp, None
        mods = event.modification_list
        fixed = [e.keyword for e in mods if e.keyword in MPPS_NOT_SETTABLE]
        if fixed:
            rsp = _refusal(0x0106, f"Not allowed in N-SET: {', '.join(fixed)}")
            rsp.AttributeIdentifierList = [mods[k].tag for k in fixed]
            return rsp, None
        new_status = str(mods.get("PerformedProcedureStepStatus", current) or current)
        if new_status not in MPPS_STATES:
            return _refusal(0x0106, f"Invalid PerformedProcedureStepStatus {new_status!r}"), None
        ds = Store.from_json(blob)
        for elem in mods:
            ds[elem.tag] = elem
        self.store.execute(  # type: ignore[union-attr]
            "UPDATE mpps SET status=?, dataset=?, updated_at=? WHERE sop_uid=?",
            (new_status, Store.to_json(ds), time.time(), uid),
        )
        return 0x0000, ds
