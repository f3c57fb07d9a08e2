"""Query SCP: C-FIND (Patient/Study Root, PS3.4 Annex C), and browsing the archive.

The C-FIND handler also answers Modality Worklist queries (pynetdicom binds one
C-FIND handler): the worklist's matching lives in :mod:`.worklist`. The matching
engine itself is :mod:`medlab.net.query`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.net import query, uids
from medlab.net.query import QueryError
from medlab.net.server.engine import failure

if TYPE_CHECKING:
    from pydicom import Dataset

    from medlab.net.store import Store

LOGGER = logging.getLogger("medlab.net")


class FindService:
    """C-FIND handler and archive listings of :class:`~medlab.net.server.PACS`."""

    store: Store | None
    aet: str
    root: Path
    _require_store: Callable[[], Store]  # PACS
    _worklist_matches: Callable[[Dataset], Iterator[Any]]  # WorklistService

    def _identifier(self, event: Any) -> Dataset:
        return event.identifier

    def _on_find(self, event: Any) -> Iterator[tuple[int, Any]]:
        """C-FIND: Q/R (Patient/Study Root) or Modality Worklist (PS3.4 C.4.1, K.4.1)."""
        sop_class = str(event.request.AffectedSOPClassUID)
        try:
            identifier = self._identifier(event)
        except Exception as err:  # noqa: BLE001
            yield failure(0xC000, f"Cannot decode the identifier: {err}")
            return
        try:
            if sop_class == uids.MODALITY_WORKLIST_FIND:
                matches = self._worklist_matches(identifier)
            else:
                matches = query.find(self.store, uids.QR_MODEL[sop_class], identifier, self.aet)  # type: ignore[arg-type]
            for match in matches:
                if event.is_cancelled:
                    yield 0xFE00, None
                    return
                yield (0xFF00 if match.all_keys_supported else 0xFF01), match.identifier
        except QueryError as err:
            yield failure(err.status, err.comment)
            return
        except Exception as err:  # noqa: BLE001
            LOGGER.exception("C-FIND failed")
            yield failure(0xC001, f"Unable to process: {err}")
            return
        yield 0x0000, None

    # ------------------------------------------------------------------ browsing
    def studies(self) -> list[dict[str, Any]]:
        """One dict per stored study: patient, date, description, series and instance counts."""
        rows = self._require_store().query(
            "SELECT patient_id, patient_name, study_uid, study_date, study_description, "
            "GROUP_CONCAT(DISTINCT modality), COUNT(DISTINCT series_uid), COUNT(*) "
            "FROM instances GROUP BY study_uid ORDER BY patient_id, study_date, study_uid"
        )
        keys = (
            "PatientID",
            "PatientName",
            "StudyInstanceUID",
            "StudyDate",
            "StudyDescription",
            "Modalities",
            "Series",
            "Instances",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def series(self, study_uid: str | None = None) -> list[dict[str, Any]]:
        """One dict per stored series (optionally of one study)."""
        sql = (
            "SELECT study_uid, series_uid, modality, series_number, series_description, COUNT(*) "
            "FROM instances"
        )
        params: tuple = ()
        if study_uid:
            sql += " WHERE study_uid=?"
            params = (study_uid,)
        sql += " GROUP BY series_uid ORDER BY study_uid, series_number, series_uid"
        keys = (
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "Modality",
            "SeriesNumber",
            "SeriesDescription",
            "Instances",
        )
        return [dict(zip(keys, r, strict=True)) for r in self._require_store().query(sql, params)]

    def instance_count(self) -> int:
        return self._require_store().count()

    def file_of(self, sop_instance_uid: str) -> Path | None:
        """Path of a stored instance, or None."""
        return self._require_store().file_of(sop_instance_uid)

    def ls(self) -> str:
        """Text listing: patients, studies, series, instance counts (``medlab pacs ls``)."""
        lines: list[str] = []
        studies = self.studies()
        if not studies:
            return f"(no instances stored under {self.root})"
        patient = None
        for st in studies:
            if st["PatientID"] != patient:
                patient = st["PatientID"]
                lines.append(
                    f"Patient {st['PatientName'] or '(no name)'}  [ID {patient or '(none)'}]"
                )
            lines.append(
                f"  Study {st['StudyInstanceUID']}  {st['StudyDate'] or '(no date)'}  "
                f"{st['StudyDescription'] or ''}".rstrip()
            )
            for se in self.series(st["StudyInstanceUID"]):
                lines.append(
                    f"    Series {se['SeriesNumber'] if se['SeriesNumber'] is not None else '-'}"
                    f"  {se['Modality'] or '??'}  {se['Instances']} instance(s)  "
                    f"{se['SeriesDescription'] or ''}".rstrip()
                )
        total = sum(s["Instances"] for s in studies)
        patients = len({s["PatientID"] for s in studies})
        lines.append(f"{patients} patient(s), {len(studies)} study(ies), {total} instance(s)")
        return "\n".join(lines)
