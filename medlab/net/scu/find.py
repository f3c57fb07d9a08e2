"""Query SCU: C-FIND at the Patient, Study, Series or Image level (PS3.4 Annex C)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medlab.errors import MedlabError
from medlab.net import events as ev
from medlab.net import uids
from medlab.net.recording import Recorder
from medlab.net.scu.association import (
    CALLING_AET,
    Association,
    Target,
    associate,
    local_end,
    new_ae,
)

if TYPE_CHECKING:
    from pydicom import Dataset

#: Return keys asked for by default at each Query/Retrieve level (the required and
#: unique keys of PS3.4 C.6.1.1 / C.6.2.1, plus a few the lessons show).
RETURN_KEYS = {
    "PATIENT": (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "NumberOfPatientRelatedStudies",
    ),
    "STUDY": (
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "StudyID",
        "StudyInstanceUID",
        "PatientName",
        "PatientID",
        "StudyDescription",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedInstances",
    ),
    "SERIES": (
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "Modality",
        "SeriesNumber",
        "SeriesDescription",
        "NumberOfSeriesRelatedInstances",
    ),
    "IMAGE": (
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "SOPClassUID",
        "InstanceNumber",
    ),
}


@dataclass
class QueryResult:
    """The identifiers a C-FIND returned, and the final status (PS3.4 C.4.1)."""

    level: str
    identifiers: list[Any]
    status: int
    keys: tuple[str, ...]
    #: our end of the association (``host:port``): what the PACS recorded it under
    connection: str = field(default="", repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.identifiers)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.identifiers)

    def __getitem__(self, index: int) -> Any:
        return self.identifiers[index]

    def column(self, keyword: str) -> list[str]:
        """The values of one key in every result, as text."""
        return [_text(ds, keyword) for ds in self.identifiers]

    def rows(self, keys: Iterable[str] | None = None) -> list[dict[str, str]]:
        keys = tuple(keys or self.keys)
        return [{k: _text(ds, k) for k in keys} for ds in self.identifiers]

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(self.keys))

    def _shown_keys(self) -> tuple[str, ...]:
        # UIDs are long: show them shortened in the text table.
        return self.keys

    def __repr__(self) -> str:
        head = f"{len(self)} {self.level} match(es), final status {ev.status_text(self.status, 'C-FIND')}"
        if not self.identifiers:
            return head
        rows = self.rows()
        widths = {k: min(max(len(k), *(len(_short(r[k])) for r in rows)), 40) for k in self.keys}
        lines = [head, "  ".join(k.ljust(widths[k]) for k in self.keys).rstrip()]
        for r in rows:
            lines.append("  ".join(_short(r[k])[:40].ljust(widths[k]) for k in self.keys).rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{html.escape(k)}</th>" for k in self.keys)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_short(r[k]))}</td>" for k in self.keys) + "</tr>"
            for r in self.rows()
        )
        caption = html.escape(
            f"{len(self)} {self.level} match(es), final status {ev.status_text(self.status, 'C-FIND')}"
        )
        return (
            f'<table class="medlab-query-result"><caption>{caption}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _short(value: str) -> str:
    """Shorten a long UID for display (``2.25.1234…5678``)."""
    if len(value) > 24 and value.replace(".", "").isdigit():
        return f"{value[:8]}…{value[-6:]}"
    return value


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword, "") if ds is not None else ""
    if value is None:
        return ""
    if type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def query_dataset(
    level: str, keys: dict[str, Any] | None = None, return_keys: Iterable[str] | None = None
) -> Dataset:
    """The C-FIND identifier: Query/Retrieve Level, matching keys, empty return keys."""
    from pydicom import Dataset

    level = level.upper()
    if level not in RETURN_KEYS:
        raise MedlabError(
            f"Unknown query level {level!r}", fix="Use PATIENT, STUDY, SERIES or IMAGE."
        )
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword in return_keys or RETURN_KEYS[level]:
        setattr(ds, keyword, "")
    for keyword, value in (keys or {}).items():
        setattr(ds, keyword, value)
    return ds


def find(
    target: Target,
    level: str = "STUDY",
    *,
    calling: str = CALLING_AET,
    return_keys: Iterable[str] | None = None,
    recorder: Recorder | None = None,
    **keys: Any,
) -> QueryResult:
    """C-FIND at ``level`` with matching ``keys`` (wildcards ``*?``, ranges ``A-B``).

    PATIENT level uses the Patient Root model, the others Study Root
    (PS3.4 C.3.1 / C.3.2); at SERIES and IMAGE level give the unique keys of
    the levels above (``StudyInstanceUID=…``), as the hierarchical search needs.
    """
    level = level.upper()
    identifier = query_dataset(level, keys, return_keys)
    model = uids.PATIENT_ROOT_FIND if level == "PATIENT" else uids.STUDY_ROOT_FIND
    ae = new_ae(calling)
    ae.add_requested_context(model)
    results = []
    final = -1
    with Association(associate(ae, target, recorder), service="C-FIND") as assoc:
        connection = local_end(assoc)
        for status, ds in assoc.send_c_find(identifier, model):
            if "Status" not in status:
                break
            final = int(status.Status)
            if final in (0xFF00, 0xFF01) and ds is not None:
                results.append(ds)
    shown = tuple(
        k for k in identifier.dir() if k not in ("QueryRetrieveLevel", "SpecificCharacterSet")
    )
    order = [k for k in (return_keys or RETURN_KEYS[level]) if k in shown]
    order += [k for k in shown if k not in order]
    return QueryResult(level, results, final, tuple(order), connection)
