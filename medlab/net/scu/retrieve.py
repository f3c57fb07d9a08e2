"""Retrieve SCU: C-GET, the archive sends the matches back on our association (PS3.4 C.4.3)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medlab.net import events as ev
from medlab.net.recording import Recorder
from medlab.net.scu.association import (
    CALLING_AET,
    Association,
    Target,
    associate,
    local_end,
    new_ae,
)

#: Storage SOP classes a C-GET proposes to receive (as SCP, role selection PS3.7 D.3.3.4):
#: the image types of the course's sample data and of a typical department.
RECEIVE_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image Storage
    "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image Storage
    "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.20",  # Nuclear Medicine Image Storage
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR Storage
    "1.2.840.10008.5.1.4.1.1.11.1",  # Grayscale Softcopy Presentation State Storage
)


@dataclass
class RetrieveResult:
    """What a C-GET or C-MOVE retrieved: final status, sub-operation counts, files."""

    status: int
    completed: int
    failed: int
    warning: int
    files: list[Path]
    #: our end of the association (``host:port``): what the PACS recorded it under
    connection: str = field(default="", repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"RetrieveResult(status {ev.status_text(self.status, 'C-GET')}, {self.completed} completed, "
            f"{self.failed} failed, {self.warning} warning, {len(self.files)} file(s) received)"
        )


def get(
    target: Target,
    level: str = "STUDY",
    *,
    folder: str | Path | None = None,
    calling: str = CALLING_AET,
    sop_classes: Iterable[str] = RECEIVE_SOP_CLASSES,
    recorder: Recorder | None = None,
    **keys: Any,
) -> RetrieveResult:
    """C-GET: the target sends the matching instances back on *this* association.

    We propose the Study Root C-GET context plus, for each storage SOP class we
    can receive, an SCP/SCU role selection (PS3.4 C.4.3, PS3.7 D.3.3.4): in
    C-GET the archive is the C-STORE *SCU* and we are the *SCP*. Files land in
    ``folder`` (default: a new folder under ``paths.home()/"received"``).
    """
    from pydicom import Dataset
    from pynetdicom import evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

    from medlab import paths

    if folder is None:
        folder = paths.new_folder("cget-", area="received")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []

    def on_store(event: Any) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        path = folder / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
        _remove_received_temp_file(event)
        return 0x0000

    from pynetdicom import build_role

    ae = new_ae(calling)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    roles = []
    for uid in list(sop_classes)[:127]:
        ae.add_requested_context(uid)
        roles.append(build_role(uid, scp_role=True))
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level.upper()
    for keyword, value in keys.items():
        setattr(identifier, keyword, value)
    final: Dataset = Dataset()
    with Association(
        associate(ae, target, recorder, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)]),
        service="C-GET",
    ) as assoc:
        connection = local_end(assoc)
        for status, _ds in assoc.send_c_get(identifier, StudyRootQueryRetrieveInformationModelGet):
            if "Status" in status:
                final = status
    return RetrieveResult(
        int(final.get("Status", -1)),
        int(final.get("NumberOfCompletedSuboperations", 0) or 0),
        int(final.get("NumberOfFailedSuboperations", 0) or 0),
        int(final.get("NumberOfWarningSuboperations", 0) or 0),
        files,
        connection,
    )


def _remove_received_temp_file(event: Any) -> None:
    """Delete the temporary file pynetdicom received a C-STORE into, if it used one.

    If this process turned pynetdicom's process-wide ``STORE_RECV_CHUNKED_DATASET`` on
    (medlab's PACS does not: it spills per association), C-STOREs that *we* receive as
    a C-GET's SCU land in temporary files, and pynetdicom 3.0 deletes those only on the
    acceptor's side.
    """
    try:
        temp = event.dataset_path
    except AttributeError:
        return
    if not isinstance(temp, (str, os.PathLike)):
        return  # received in memory (None)
    try:
        os.unlink(temp)
    except OSError:
        pass
