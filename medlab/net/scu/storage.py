"""Storage SCU: C-STORE files or data sets to a target (PS3.4 Annex B)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medlab.errors import MedlabError
from medlab.net.recording import Recorder
from medlab.net.scu.association import (
    CALLING_AET,
    Association,
    Target,
    associate,
    local_end,
    new_ae,
)
from medlab.progressbar import progress_bar


@dataclass
class StoreReport:
    """What a C-STORE run did: one status per file (PS3.4 B.2.3)."""

    statuses: dict[str, int]
    sop_classes: dict[str, str]
    #: our end of the association (``host:port``): what the PACS recorded it under
    connection: str = field(default="", repr=False, compare=False)

    @property
    def sent(self) -> int:
        return len(self.statuses)

    @property
    def succeeded(self) -> list[str]:
        return [uid for uid, s in self.statuses.items() if s == 0x0000]

    def references(self) -> list[tuple[str, str]]:
        """``(SOP Class UID, SOP Instance UID)`` of what succeeded, for storage commitment."""
        return [(self.sop_classes[uid], uid) for uid in self.succeeded]

    def __repr__(self) -> str:
        from medlab.net.events import status_text

        failed = self.sent - len(self.succeeded)
        text = f"StoreReport({self.sent} sent, {len(self.succeeded)} stored, {failed} failed"
        codes = sorted({s for s in self.statuses.values() if s != 0x0000})
        if codes:  # name what went wrong, as the status table of PS3.7 Annex C does
            text += ": " + ", ".join(status_text(c, "C-STORE") for c in codes)
        return text + ")"


def _files(items: Iterable[str | Path] | str | Path) -> list[Path]:
    if isinstance(items, (str, Path)):
        items = [items]
    out: list[Path] = []
    for item in items:
        path = Path(item)
        out.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return out


def store(
    files: Iterable[Any] | str | Path,
    target: Target,
    *,
    calling: str = CALLING_AET,
    progress: bool = False,
    recorder: Recorder | None = None,
) -> StoreReport:
    """C-STORE every DICOM file (a folder is walked) or Dataset to the target, on one association.

    Proposes one presentation context per (SOP class, transfer syntax) found, as
    the files are stored (no transcoding). ``progress=True`` shows a progress bar while it goes
    (:func:`medlab.progressbar.progress_bar`).
    """
    import pydicom

    items = [files] if isinstance(files, (str, Path)) else list(files)
    datasets = [item for item in items if hasattr(item, "SOPInstanceUID")]
    for path in _files([item for item in items if isinstance(item, (str, Path))]):
        try:
            datasets.append(pydicom.dcmread(path))
        except Exception as err:  # noqa: BLE001
            raise MedlabError(f"Not a readable DICOM file: {err}", where=str(path)) from None
    if not datasets:
        raise MedlabError(
            "Nothing to send: no DICOM file or data set was given",
            where=str(files) if isinstance(files, (str, Path)) else None,
            fix="Give a file, a folder of DICOM files, or a list of Datasets.",
        )
    ae = new_ae(calling)
    pairs = sorted({(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for ds in datasets})
    if len(pairs) > 128:
        raise MedlabError(
            "More than 128 (SOP class, transfer syntax) pairs in one association",
            fix="Send the files in smaller groups (PS3.8 §9.3.2.2 allows 128 contexts).",
        )
    for sop_class, ts in pairs:
        ae.add_requested_context(sop_class, ts)
    statuses: dict[str, int] = {}
    classes: dict[str, str] = {}
    with Association(associate(ae, target, recorder), service="C-STORE") as assoc:
        connection = local_end(assoc)
        for ds in progress_bar(datasets, description="C-STORE") if progress else datasets:
            rsp = assoc.send_c_store(ds)
            uid = str(ds.SOPInstanceUID)
            statuses[uid] = int(rsp.Status) if "Status" in rsp else -1
            classes[uid] = str(ds.SOPClassUID)
    return StoreReport(statuses, classes, connection)
