"""Modality Performed Procedure Step SCU: the N-CREATE and N-SET data sets (PS3.4 Annex F)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom import Dataset


def _step_attributes(item: Dataset) -> Dataset:
    from pydicom import Dataset

    sps = item.ScheduledProcedureStepSequence[0]
    ssa = Dataset()
    ssa.StudyInstanceUID = item.StudyInstanceUID
    ssa.AccessionNumber = item.get("AccessionNumber", "")
    ssa.RequestedProcedureID = item.get("RequestedProcedureID", "")
    ssa.RequestedProcedureDescription = item.get("RequestedProcedureDescription", "")
    ssa.ScheduledProcedureStepID = sps.get("ScheduledProcedureStepID", "")
    ssa.ScheduledProcedureStepDescription = sps.get("ScheduledProcedureStepDescription", "")
    return ssa


def mpps_in_progress(
    item: Dataset, *, station: str = "CT01", pps_id: str = "PPS0001", start_time: str = "090500"
) -> Dataset:
    """The N-CREATE attribute list of an MPPS "IN PROGRESS" (PS3.4 F.7.2, Table F.7.2-1).

    Links the performed step to the scheduled one (Scheduled Step Attributes
    Sequence) and carries the patient as the worklist gave it.
    """
    from pydicom import Dataset

    sps = item.ScheduledProcedureStepSequence[0]
    ds = Dataset()
    ds.ScheduledStepAttributesSequence = [_step_attributes(item)]
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"):
        setattr(ds, keyword, item.get(keyword, ""))
    ds.PerformedProcedureStepID = pps_id
    ds.PerformedStationAETitle = station
    ds.PerformedProcedureStepStartDate = str(sps.get("ScheduledProcedureStepStartDate", ""))
    ds.PerformedProcedureStepStartTime = start_time
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepDescription = str(
        sps.get("ScheduledProcedureStepDescription", "") or ""
    )
    ds.Modality = str(sps.get("Modality", "") or "")
    ds.StudyID = "1"
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.PerformedSeriesSequence = []
    return ds


def mpps_completed(
    images: list[Dataset], *, status: str = "COMPLETED", end_time: str = "091500"
) -> Dataset:
    """The N-SET modification list that ends an MPPS (PS3.4 F.7.2).

    The final status, the end date and time, and the Performed Series Sequence
    listing every image made: what the archive should expect to receive.
    """
    from pydicom import Dataset

    ds = Dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate = str(images[0].get("StudyDate", "")) if images else ""
    ds.PerformedProcedureStepEndTime = end_time
    series: dict[str, Dataset] = {}
    for image in images:
        item = series.get(image.SeriesInstanceUID)
        if item is None:
            item = series[image.SeriesInstanceUID] = Dataset()
            item.SeriesInstanceUID = image.SeriesInstanceUID
            item.SeriesDescription = image.get("SeriesDescription", "")
            item.PerformingPhysicianName = ""
            item.OperatorsName = ""
            item.ProtocolName = image.get("SeriesDescription", "") or "CT"
            item.RetrieveAETitle = ""
            item.ReferencedImageSequence = []
            item.ReferencedNonImageCompositeSOPInstanceSequence = []
        ref = Dataset()
        ref.ReferencedSOPClassUID = image.SOPClassUID
        ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
        item.ReferencedImageSequence.append(ref)
    ds.PerformedSeriesSequence = list(series.values())
    return ds
