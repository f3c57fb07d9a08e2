"""Modality Worklist SCP: scheduling items and answering worklist C-FIND (PS3.4 Annex K)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.net.query import find_worklist
from medlab.net.store import Store, is_valid_uid, normalise_time

if TYPE_CHECKING:
    from pydicom import Dataset


class WorklistService:
    """Worklist of :class:`~medlab.net.server.PACS`: ``schedule``, ``worklist`` and MWL C-FIND."""

    store: Store | None
    _require_store: Callable[[], Store]  # PACS

    def _worklist_matches(self, identifier: Dataset) -> Iterator[Any]:
        """The matches of a Modality Worklist C-FIND (PS3.4 K.4.1); see :mod:`.find`."""
        return find_worklist(self.store, identifier)  # type: ignore[arg-type]

    def schedule(self, dataset: Dataset | None = None, **attrs: Any) -> str:
        """Add a Modality Worklist item; return its Scheduled Procedure Step ID.

        Give DICOM keywords (``PatientName="DOE^JANE", PatientID="P1",
        Modality="CT", ScheduledStationAETitle="CT01",
        ScheduledProcedureStepStartDate="20260105", ...``) or a ready Dataset.
        Keywords of the Scheduled Procedure Step (PS3.4 Table K.6-1) go into
        the Scheduled Procedure Step Sequence (0040,0100) automatically.
        Scheduling the same procedure again (same patient, accession number,
        modality, station, date and time) replaces its item: it keeps its ID
        and is not listed twice.
        """
        from pydicom import Dataset
        from pydicom.datadict import tag_for_keyword
        from pydicom.uid import generate_uid

        from medlab.net.query import WORKLIST_SPS

        sps_keys = set(WORKLIST_SPS) | {
            "ScheduledProcedureStepDescription",
            "ScheduledProtocolCodeSequence",
            "ScheduledProcedureStepLocation",
            "ScheduledStationName",
            "ScheduledProcedureStepEndDate",
            "ScheduledProcedureStepEndTime",
        }
        ds = Dataset() if dataset is None else dataset.copy()
        for keyword, value in attrs.items():
            if tag_for_keyword(keyword) is None:
                raise MedlabError(
                    f"{keyword!r} is not a DICOM keyword",
                    fix="Use keywords such as PatientName, Modality, ScheduledStationAETitle.",
                )
            if keyword in sps_keys:
                if "ScheduledProcedureStepSequence" not in ds:
                    ds.ScheduledProcedureStepSequence = [Dataset()]
                setattr(ds.ScheduledProcedureStepSequence[0], keyword, value)
            else:
                setattr(ds, keyword, value)
        if "ScheduledProcedureStepSequence" not in ds or not ds.ScheduledProcedureStepSequence:
            ds.ScheduledProcedureStepSequence = [Dataset()]
        sps = ds.ScheduledProcedureStepSequence[0]
        store = self._require_store()
        if not sps.get("ScheduledProcedureStepID"):
            # The same order scheduled again (a re-run cell, a re-sent order) replaces
            # its item instead of listing the procedure twice.
            same = store.query(
                "SELECT sps_id FROM worklist WHERE patient_id=? AND accession=? AND modality=? "
                "AND station_aet=? AND start_date=? AND start_time=?",
                (
                    str(ds.get("PatientID", "") or ""),
                    str(ds.get("AccessionNumber", "") or ""),
                    str(sps.get("Modality", "") or ""),
                    str(sps.get("ScheduledStationAETitle", "") or ""),
                    str(sps.get("ScheduledProcedureStepStartDate", "") or ""),
                    normalise_time(str(sps.get("ScheduledProcedureStepStartTime", "") or "")) or "",
                ),
            )
            if same:
                sps.ScheduledProcedureStepID = same[0][0]
        if not sps.get("ScheduledProcedureStepID"):
            n = store.query("SELECT COUNT(*) FROM worklist")[0][0] + 1
            while store.query("SELECT 1 FROM worklist WHERE sps_id=?", (f"SPS{n:04d}",)):
                n += 1
            sps.ScheduledProcedureStepID = f"SPS{n:04d}"
        sps_id = str(sps.ScheduledProcedureStepID)
        sps.setdefault("ScheduledProcedureStepStatus", "SCHEDULED")
        if "StudyInstanceUID" not in ds:
            ds.StudyInstanceUID = generate_uid(
                entropy_srcs=[
                    sps_id,
                    str(ds.get("AccessionNumber", "")),
                    str(ds.get("PatientID", "")),
                ]
            )
        ds.setdefault("RequestedProcedureID", sps_id.replace("SPS", "RP"))
        if not is_valid_uid(str(ds.StudyInstanceUID)):
            raise MedlabError(f"Study Instance UID {ds.StudyInstanceUID!r} is not a valid UID")
        row = (
            sps_id,
            str(ds.get("PatientID", "") or ""),
            str(ds.get("PatientName", "") or ""),
            str(ds.get("AccessionNumber", "") or ""),
            str(ds.StudyInstanceUID),
            str(ds.get("RequestedProcedureID", "") or ""),
            str(sps.get("Modality", "") or ""),
            str(sps.get("ScheduledStationAETitle", "") or ""),
            str(sps.get("ScheduledProcedureStepStartDate", "") or ""),
            normalise_time(str(sps.get("ScheduledProcedureStepStartTime", "") or "")) or "",
            str(sps.get("ScheduledPerformingPhysicianName", "") or ""),
            str(sps.get("ScheduledProcedureStepStatus", "") or ""),
            Store.to_json(ds),
        )
        store.execute(
            "INSERT OR REPLACE INTO worklist (sps_id, patient_id, patient_name, accession, "
            "study_uid, requested_procedure_id, modality, station_aet, start_date, start_time, "
            "physician, sps_status, dataset) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            row,
        )
        return sps_id

    def worklist(self) -> list[Dataset]:
        """Every scheduled worklist item (as Datasets)."""
        rows = self._require_store().query(
            "SELECT dataset FROM worklist ORDER BY start_date, start_time, sps_id"
        )
        return [Store.from_json(r[0]) for r in rows]
