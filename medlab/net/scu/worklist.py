"""Modality Worklist, the modality's side: "my steps for today", and images made from one (PS3.4 Annex K)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom import Dataset

#: The patient and procedure attributes a modality copies from the worklist item
#: into every image (IHE Scheduled Workflow profile).
FROM_WORKLIST = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
    "StudyInstanceUID",
    "ReferringPhysicianName",
)


def worklist_query(station: str, date: str, modality: str = "") -> Dataset:
    """A Modality Worklist C-FIND identifier: "my steps for today" (PS3.4 K.6).

    Matching keys go inside the Scheduled Procedure Step Sequence (station AE
    title, start date, modality); the return keys are the demographics and
    identifiers the modality will copy into its images.
    """
    from pydicom import Dataset

    query = Dataset()
    for keyword in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "AccessionNumber",
        "StudyInstanceUID",
        "RequestedProcedureID",
        "RequestedProcedureDescription",
    ):
        setattr(query, keyword, "")
    sps = Dataset()
    sps.ScheduledStationAETitle = station
    sps.ScheduledProcedureStepStartDate = date
    sps.Modality = modality
    sps.ScheduledProcedureStepStartTime = ""
    sps.ScheduledProcedureStepID = ""
    sps.ScheduledProcedureStepDescription = ""
    query.ScheduledProcedureStepSequence = [sps]
    return query


def acquire(
    item: Dataset, count: int = 4, *, station: str = "CT01", series: int = 1
) -> list[Dataset]:
    """ "Acquire" ``count`` small CT images for a worklist item.

    Demographics and identifiers are *copied* from the item (nothing typed at
    the console): patient name, ID, birth date, sex, accession number and the
    Study Instance UID the order was given; the Request Attributes Sequence
    ties the images to the requested procedure and scheduled step. Series and
    SOP Instance UIDs are new (deterministic for the lesson).
    """
    from pydicom import Dataset

    from medlab.net.samples import make_instance, uid

    sps = item.ScheduledProcedureStepSequence[0]
    images = []
    for n in range(1, count + 1):
        ds = make_instance(
            1, 1, series, n, study_date=str(sps.get("ScheduledProcedureStepStartDate", ""))
        )
        for keyword in FROM_WORKLIST:
            if keyword in item:
                setattr(ds, keyword, item[keyword].value)
        ds.StudyDescription = str(sps.get("ScheduledProcedureStepDescription", "") or "")
        ds.StationName = station
        ds.SeriesInstanceUID = uid("medlab-lesson09", item.AccessionNumber, "series", series)
        ds.SOPInstanceUID = uid("medlab-lesson09", item.AccessionNumber, series, n)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        request = Dataset()
        request.RequestedProcedureID = item.get("RequestedProcedureID", "")
        request.ScheduledProcedureStepID = sps.get("ScheduledProcedureStepID", "")
        ds.RequestAttributesSequence = [request]
        images.append(ds)
    return images
