"""Small client (SCU) helpers for the networking lessons 07-10.

The lessons call pynetdicom directly wherever a cell stays short; what is here
is only what would make a cell long or repeat itself:

* :class:`Recorder` — the SCU side's own record of an association, in the same
  event records as the PACS keeps (:mod:`medlab.net.events`), so
  :func:`medlab.net.sequence_diagram` can draw either side (and tell *nobody
  listening* from *timeout*, which the PACS never sees);
* :func:`start_pacs` — the lesson's target from :mod:`medlab.settings`: the
  bundled PACS started on a free port, or a configured remote PACS;
* the core flow of lesson 08 — :func:`echo`, :func:`store`, :func:`find`,
  :func:`get`, :func:`commit` — written once against *any* target, so the
  same functions run against the bundled PACS, Orthanc or a department test PACS;
* :class:`SilentPeer` — a TCP listener that never answers (the timeout demo).

Everything binds or connects to the target given; nothing here listens on
anything but 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from medlab.errors import MedlabError
from medlab.net import events as ev

if TYPE_CHECKING:
    from pydicom import Dataset

#: Our default Calling AE Title in the lessons.
CALLING_AET = "TRAINEE"

VERIFICATION = "1.2.840.10008.1.1"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
STORAGE_COMMITMENT = "1.2.840.10008.1.20.1"
STORAGE_COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"

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


class Target(Protocol):
    """Anything with ``aet``, ``host`` and ``port``: a PACS, a settings target, a peer."""

    aet: str
    host: str
    port: int


# --------------------------------------------------------------------------- recorder
class Recorder:
    """Record what one side of pynetdicom associations sends and receives.

    Pass ``recorder.handlers`` as ``evt_handlers`` to ``AE.associate`` (or to
    ``start_server``); :attr:`events` then holds the same records a PACS keeps
    (``A-ASSOCIATE-RQ``, ``C-ECHO-RSP`` …), numbered per recorder. Unlike the
    PACS, the calling side also sees the failures that never reach a server:
    a refused connection and an association request left unanswered.

    >>> rec = Recorder()                                  # doctest: +SKIP
    >>> assoc = ae.associate("127.0.0.1", 11112, ae_title="MEDLAB",
    ...                      evt_handlers=rec.handlers)   # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.events: list[ev.PacsEvent] = []
        self._assocs: dict[int, dict[str, Any]] = {}
        self._count = 0
        self._lock = threading.Lock()

    @property
    def handlers(self) -> list[tuple[Any, Any]]:
        """The ``evt_handlers`` list to bind."""
        from pynetdicom import evt

        return [
            (evt.EVT_CONN_OPEN, self._on_open),
            (evt.EVT_CONN_CLOSE, self._on_close),
            (evt.EVT_ACSE_SENT, self._on_acse_sent),
            (evt.EVT_ACSE_RECV, self._on_acse_recv),
            (evt.EVT_DIMSE_SENT, self._on_dimse_sent),
            (evt.EVT_DIMSE_RECV, self._on_dimse_recv),
            (evt.EVT_ABORTED, self._on_aborted),
        ]

    def clear(self) -> None:
        self.events.clear()

    def text(self, assoc: int | None = None) -> str:
        """One line per event (as ``PACS.events_text``)."""
        return ev.events_text(self.events, assoc)

    def __repr__(self) -> str:
        return f"<Recorder: {len(self.events)} event(s), {self._count} association(s)>"

    # -- state per association
    def _state(self, assoc: Any) -> dict[str, Any]:
        with self._lock:
            state = self._assocs.get(id(assoc))
            if state is None:
                self._count += 1
                local = str(assoc.ae.ae_title).strip() if getattr(assoc, "ae", None) else "?"
                if assoc.is_requestor:
                    remote = str(assoc.acceptor.ae_title or "?").strip()
                    peer = f"{assoc.acceptor.address}:{assoc.acceptor.port}"
                else:
                    remote, peer = "?", ""
                state = {
                    "n": self._count,
                    "local": local,
                    "remote": remote,
                    "peer": peer,
                    "proposed": {},
                    "opened": False,
                    "pending": [],
                    "answered": False,
                    "requestor": assoc.is_requestor,
                }
                self._assocs[id(assoc)] = state
            return state

    def _emit(self, state: dict[str, Any], record: ev.PacsEvent) -> None:
        if state["opened"] or not state["requestor"]:
            last = self.events[-1] if self.events else None
            if (
                isinstance(last, ev.Transport)
                and last.message == "TCP-CLOSE"
                and last.assoc == record.assoc
            ):
                # pynetdicom reports the A-RELEASE-RP after the socket closed: keep wire order.
                self.events.insert(len(self.events) - 1, record)
            else:
                self.events.append(record)
        else:  # the A-ASSOCIATE-RQ is handed to the provider before TCP connects
            state["pending"].append(record)

    def _direction(self, state: dict[str, Any], sent: bool) -> tuple[str, str]:
        return (state["local"], state["remote"]) if sent else (state["remote"], state["local"])

    # -- handlers
    def _on_open(self, event: Any) -> None:
        state = self._state(event.assoc)
        state["opened"] = True
        sender, receiver = self._direction(state, state["requestor"])
        self.events.append(
            ev.Transport(state["n"], "TCP-OPEN", sender, receiver, time.time(), state["peer"])
        )
        self.events.extend(state["pending"])
        state["pending"].clear()

    def _on_close(self, event: Any) -> None:
        state = self._state(event.assoc)
        if not state["opened"]:
            return
        sender, receiver = self._direction(state, state["requestor"])
        self.events.append(
            ev.Transport(state["n"], "TCP-CLOSE", sender, receiver, time.time(), state["peer"])
        )

    def _on_aborted(self, event: Any) -> None:
        state = self._state(event.assoc)
        if not state["opened"]:
            state["pending"].clear()
            self.events.append(
                ev.Note(
                    state["n"],
                    "NO-CONNECTION",
                    state["local"],
                    state["remote"],
                    time.time(),
                    state["peer"],
                    "connection refused: nobody is listening on that port",
                )
            )
        elif state["requestor"] and not state["answered"]:
            self.events.append(
                ev.Note(
                    state["n"],
                    "TIMEOUT",
                    state["local"],
                    state["remote"],
                    time.time(),
                    state["peer"],
                    "no answer to the A-ASSOCIATE-RQ within the ACSE timeout",
                )
            )

    def _on_acse_sent(self, event: Any) -> None:
        self._acse(event, sent=True)

    def _on_acse_recv(self, event: Any) -> None:
        self._acse(event, sent=False)

    def _acse(self, event: Any, sent: bool) -> None:
        from pynetdicom.pdu_primitives import A_ABORT, A_ASSOCIATE, A_P_ABORT, A_RELEASE

        state = self._state(event.assoc)
        prim = event.primitive
        n, now, peer = state["n"], time.time(), state["peer"]
        if isinstance(prim, A_ASSOCIATE):
            if prim.result is None:
                if sent:
                    state["local"] = str(prim.calling_ae_title).strip()
                    state["remote"] = str(prim.called_ae_title).strip()
                else:
                    state["local"] = str(prim.called_ae_title).strip()
                    state["remote"] = str(prim.calling_ae_title).strip()
                contexts = []
                for cx in prim.presentation_context_definition_list:
                    syntaxes = tuple(str(t) for t in cx.transfer_syntax)
                    state["proposed"][cx.context_id] = str(cx.abstract_syntax)
                    contexts.append(
                        ev.ContextRecord(cx.context_id, str(cx.abstract_syntax), syntaxes)
                    )
                s, r = self._direction(state, sent)
                self._emit(
                    state,
                    ev.AssociationRequest(
                        n,
                        "A-ASSOCIATE-RQ",
                        s,
                        r,
                        now,
                        peer,
                        tuple(contexts),
                        int(prim.maximum_length_received or 0),
                    ),
                )
            elif prim.result == 0:
                state["answered"] = True
                contexts = []
                for cx in prim.presentation_context_definition_results_list:
                    chosen = (
                        str(cx.transfer_syntax[0]) if cx.result == 0 and cx.transfer_syntax else ""
                    )
                    contexts.append(
                        ev.ContextRecord(
                            cx.context_id,
                            state["proposed"].get(cx.context_id, ""),
                            (),
                            ev.CONTEXT_RESULTS.get(cx.result, str(cx.result)),
                            chosen,
                        )
                    )
                s, r = self._direction(state, sent)
                self._emit(
                    state,
                    ev.AssociationAccept(n, "A-ASSOCIATE-AC", s, r, now, peer, tuple(contexts)),
                )
            else:
                state["answered"] = True
                s, r = self._direction(state, sent)
                source = int(prim.result_source or 0)
                self._emit(
                    state,
                    ev.AssociationReject(
                        n,
                        "A-ASSOCIATE-RJ",
                        s,
                        r,
                        now,
                        peer,
                        REJECT_RESULT.get(int(prim.result), str(prim.result)),
                        REJECT_SOURCE.get(source, str(source)),
                        REJECT_REASON.get(
                            (source, int(prim.diagnostic or 0)), str(prim.diagnostic)
                        ),
                    ),
                )
        elif isinstance(prim, A_RELEASE):
            s, r = self._direction(state, sent)
            self._emit(
                state,
                ev.Release(
                    n, "A-RELEASE-RQ" if prim.result is None else "A-RELEASE-RP", s, r, now, peer
                ),
            )
        elif isinstance(prim, A_P_ABORT):
            self._emit(
                state,
                ev.Abort(
                    n, "A-P-ABORT", "(provider)", state["local"], now, peer, "service-provider", ""
                ),
            )
        elif isinstance(prim, A_ABORT):
            if not state["opened"]:
                return  # an abort of a connection that never opened: reported as NO-CONNECTION
            s, r = self._direction(state, sent)
            self._emit(state, ev.Abort(n, "A-ABORT", s, r, now, peer, "service-user", ""))

    def _on_dimse_sent(self, event: Any) -> None:
        self._dimse(event, sent=True)

    def _on_dimse_recv(self, event: Any) -> None:
        self._dimse(event, sent=False)

    def _dimse(self, event: Any, sent: bool) -> None:
        state = self._state(event.assoc)
        msg = event.message
        cs = msg.command_set
        name = type(msg).__name__.replace("_", "-")
        is_rsp = name.endswith("-RSP")
        status = cs.get("Status") if is_rsp else None
        info = ""
        if "MoveDestination" in cs and not is_rsp:
            info = f"to {str(cs.MoveDestination).strip()}"
        if is_rsp and "NumberOfCompletedSuboperations" in cs:
            info = " ".join(
                f"{k.lower()}={cs.get(f'NumberOf{k}Suboperations')}"
                for k in ("Remaining", "Completed", "Failed", "Warning")
                if cs.get(f"NumberOf{k}Suboperations") is not None
            )
        if "EventTypeID" in cs:
            info = f"event type {cs.EventTypeID}"
        if "ActionTypeID" in cs:
            info = f"action type {cs.ActionTypeID}"
        s, r = self._direction(state, sent)
        self._emit(
            state,
            ev.Dimse(
                state["n"],
                name,
                s,
                r,
                time.time(),
                state["peer"],
                int(cs.get("MessageID") or cs.get("MessageIDBeingRespondedTo") or 0),
                str(cs.get("AffectedSOPClassUID") or cs.get("RequestedSOPClassUID") or ""),
                str(cs.get("AffectedSOPInstanceUID") or cs.get("RequestedSOPInstanceUID") or ""),
                int(status) if status is not None else None,
                info,
            ),
        )


#: PS3.8 §9.3.4 A-ASSOCIATE-RJ fields.
REJECT_RESULT = {1: "rejected-permanent", 2: "rejected-transient"}
REJECT_SOURCE = {
    1: "service-user",
    2: "service-provider (ACSE)",
    3: "service-provider (presentation)",
}
REJECT_REASON = {
    (1, 1): "no-reason-given",
    (1, 2): "application-context-name-not-supported",
    (1, 3): "calling-AE-title-not-recognized",
    (1, 7): "called-AE-title-not-recognized",
    (2, 1): "no-reason-given",
    (2, 2): "protocol-version-not-supported",
    (3, 1): "temporary-congestion",
    (3, 2): "local-limit-exceeded",
}


# --------------------------------------------------------------------------- targets
@dataclass
class RemotePACS:
    """A PACS configured in :mod:`medlab.settings` (not ours): only where it is.

    It has no recorded :attr:`events` (the server is not ours to watch: use a
    :class:`Recorder` on our side) and cannot be scheduled into.
    """

    aet: str
    host: str
    port: int
    events: list = field(default_factory=list)

    def stop(self) -> None:
        """Nothing to stop: we did not start it."""

    def events_text(self, assoc: int | None = None) -> str:
        return ""

    def clear_events(self) -> None:
        self.events.clear()

    @property
    def is_running(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<remote PACS {self.aet} at {self.host}:{self.port}>"


def start_pacs(**kwargs: Any) -> Any:
    """Start the lesson's PACS: the bundled one (free port) or the configured remote one.

    With nothing configured (:func:`medlab.settings.pacs`), returns a running
    :class:`medlab.net.PACS` (``kwargs`` go to it, e.g. ``peers=``); call its
    ``stop()`` at the end of the lesson. With ``MEDLAB_PACS`` or a config file,
    returns a :class:`RemotePACS` describing that server.
    """
    from medlab import settings

    target = settings.pacs()
    if not target.bundled:
        return RemotePACS(target.aet, target.host, target.port)
    from medlab.net.server import PACS

    kwargs.setdefault("port", 0)
    if "root" not in kwargs:
        import tempfile

        from medlab import paths

        # A fresh archive per lesson run, under the user's medlab home.
        base = paths.home() / "lessons"
        base.mkdir(parents=True, exist_ok=True)
        kwargs["root"] = tempfile.mkdtemp(prefix="pacs-", dir=base)
    return PACS(**kwargs).start()


def start_receiver(aet: str = "RECEIVER", **kwargs: Any) -> Any:
    """Start a second, small medlab PACS as a C-MOVE destination (always local).

    It has its own fresh storage folder and records its own events, so a
    lesson can show what arrived. Stop it with ``stop()``.
    """
    import tempfile

    from medlab import paths
    from medlab.net.server import PACS

    base = paths.home() / "lessons"
    base.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("root", tempfile.mkdtemp(prefix=f"{aet.lower()}-", dir=base))
    return PACS(aet=aet, port=kwargs.pop("port", 0), **kwargs).start()


def _ae(calling: str) -> Any:
    from pynetdicom import AE

    from medlab.net import IMPLEMENTATION_CLASS_UID

    ae = AE(ae_title=calling)
    ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    ae.acse_timeout = 10
    ae.dimse_timeout = 30
    ae.network_timeout = 30
    ae.connection_timeout = 5
    return ae


def _associate(ae: Any, target: Target, recorder: Recorder | None, **kwargs: Any) -> Any:
    # Always record our side: it is what tells "nobody listening" from "timeout".
    handlers = list((recorder or Recorder()).handlers)
    handlers += kwargs.pop("evt_handlers", [])
    assoc = ae.associate(
        target.host, int(target.port), ae_title=target.aet, evt_handlers=handlers, **kwargs
    )
    if not assoc.is_established:
        from medlab.net.explain import explain

        why = explain(assoc)
        raise MedlabError(why.what, where=f"{target.aet}@{target.host}:{target.port}", fix=why.fix)
    return assoc


@dataclass
class Association:
    """Context manager: an established association, released at the end."""

    assoc: Any

    def __enter__(self) -> Any:
        return self.assoc

    def __exit__(self, *exc: object) -> None:
        if self.assoc.is_established:
            self.assoc.release()


# --------------------------------------------------------------------------- core flow
def echo(target: Target, *, calling: str = CALLING_AET, recorder: Recorder | None = None) -> int:
    """C-ECHO the target; return the status (0x0000 = Success, PS3.4 A.4)."""
    ae = _ae(calling)
    ae.add_requested_context(VERIFICATION)
    with Association(_associate(ae, target, recorder)) as assoc:
        rsp = assoc.send_c_echo()
    return int(rsp.Status) if "Status" in rsp else -1


@dataclass
class StoreReport:
    """What a C-STORE run did: one status per file (PS3.4 B.2.3)."""

    statuses: dict[str, int]
    sop_classes: dict[str, str]

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
        failed = self.sent - len(self.succeeded)
        return f"StoreReport({self.sent} sent, {len(self.succeeded)} stored, {failed} failed)"


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
    the files are stored (no transcoding). ``progress=True`` shows an ipywidgets
    progress bar while it goes.
    """
    import pydicom

    items = [files] if isinstance(files, (str, Path)) else list(files)
    datasets = [item for item in items if hasattr(item, "SOPInstanceUID")]
    for path in _files([item for item in items if isinstance(item, (str, Path))]):
        try:
            datasets.append(pydicom.dcmread(path))
        except Exception as err:  # noqa: BLE001
            raise MedlabError(f"Not a readable DICOM file: {err}", where=str(path)) from None
    ae = _ae(calling)
    pairs = sorted({(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for ds in datasets})
    if len(pairs) > 128:
        raise MedlabError(
            "More than 128 (SOP class, transfer syntax) pairs in one association",
            fix="Send the files in smaller groups (PS3.8 §9.3.2.2 allows 128 contexts).",
        )
    for sop_class, ts in pairs:
        ae.add_requested_context(sop_class, ts)
    bar = _progress_bar(len(datasets), "C-STORE") if progress else None
    statuses: dict[str, int] = {}
    classes: dict[str, str] = {}
    with Association(_associate(ae, target, recorder)) as assoc:
        for ds in datasets:
            rsp = assoc.send_c_store(ds)
            uid = str(ds.SOPInstanceUID)
            statuses[uid] = int(rsp.Status) if "Status" in rsp else -1
            classes[uid] = str(ds.SOPClassUID)
            if bar is not None:
                bar.value += 1
    if bar is not None:
        bar.description = "sent"
    return StoreReport(statuses, classes)


def _progress_bar(total: int, label: str) -> Any:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    if get_ipython() is None:
        return None
    import ipywidgets as w

    bar = w.IntProgress(value=0, min=0, max=total, description=label)
    display(bar)
    return bar


@dataclass
class QueryResult:
    """The identifiers a C-FIND returned, and the final status (PS3.4 C.4.1)."""

    level: str
    identifiers: list[Any]
    status: int
    keys: tuple[str, ...]

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
        head = f"{len(self)} {self.level} match(es), final status {ev.status_text(self.status)}"
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
            f"{len(self)} {self.level} match(es), final status {ev.status_text(self.status)}"
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
    model = PATIENT_ROOT_FIND if level == "PATIENT" else STUDY_ROOT_FIND
    ae = _ae(calling)
    ae.add_requested_context(model)
    results = []
    final = -1
    with Association(_associate(ae, target, recorder)) as assoc:
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
    return QueryResult(level, results, final, tuple(order))


@dataclass
class RetrieveResult:
    """What a C-GET or C-MOVE retrieved: final status, sub-operation counts, files."""

    status: int
    completed: int
    failed: int
    warning: int
    files: list[Path]

    def __repr__(self) -> str:
        return (
            f"RetrieveResult(status {ev.status_text(self.status)}, {self.completed} completed, "
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
    import tempfile

    from pydicom import Dataset
    from pynetdicom import evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

    from medlab import paths

    if folder is None:
        base = paths.home() / "received"
        base.mkdir(parents=True, exist_ok=True)
        folder = tempfile.mkdtemp(prefix="cget-", dir=base)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []

    def on_store(event: Any) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        path = folder / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
        return 0x0000

    from pynetdicom import build_role

    ae = _ae(calling)
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
        _associate(ae, target, recorder, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    ) as assoc:
        for status, _ds in assoc.send_c_get(identifier, StudyRootQueryRetrieveInformationModelGet):
            if "Status" in status:
                final = status
    return RetrieveResult(
        int(final.get("Status", -1)),
        int(final.get("NumberOfCompletedSuboperations", 0) or 0),
        int(final.get("NumberOfFailedSuboperations", 0) or 0),
        int(final.get("NumberOfWarningSuboperations", 0) or 0),
        files,
    )


@dataclass
class CommitmentResult:
    """The Storage Commitment N-EVENT-REPORT: what the archive now takes responsibility for."""

    event_type: int | None
    committed: list[str]
    failed: list[tuple[str, int]]
    action_status: int

    @property
    def all_committed(self) -> bool:
        return self.event_type == 1 and not self.failed

    def __repr__(self) -> str:
        if self.event_type is None:
            return (
                f"CommitmentResult(N-ACTION status {ev.status_text(self.action_status)}, "
                "no N-EVENT-REPORT received yet)"
            )
        kind = {1: "1 = all committed", 2: "2 = some failed"}.get(
            self.event_type, str(self.event_type)
        )
        return (
            f"CommitmentResult(event type {kind}: {len(self.committed)} committed, "
            f"{len(self.failed)} failed)"
        )


def commit(
    references: Iterable[tuple[str, str]],
    target: Target,
    *,
    transaction_uid: str | None = None,
    calling: str = CALLING_AET,
    timeout: float = 10.0,
    recorder: Recorder | None = None,
) -> CommitmentResult:
    """Ask for storage commitment (N-ACTION) and wait for the N-EVENT-REPORT (PS3.4 J.3).

    ``references`` are ``(SOP Class UID, SOP Instance UID)`` pairs, e.g.
    ``StoreReport.references()``. We keep the association open until the result
    arrives (or ``timeout`` seconds), so the archive can report on it.
    """
    from pydicom import Dataset
    from pydicom.uid import generate_uid
    from pynetdicom import evt

    refs = list(references)
    info = Dataset()
    info.TransactionUID = transaction_uid or generate_uid(
        entropy_srcs=[u for _c, u in refs] or None
    )
    info.ReferencedSOPSequence = []
    for sop_class, sop_uid in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_uid
        info.ReferencedSOPSequence.append(item)
    received: list[tuple[int, Dataset]] = []
    done = threading.Event()
    reporters: list[threading.Thread] = []

    def on_report(event: Any) -> tuple[int, None]:
        received.append((int(event.event_type), event.event_information))
        return 0x0000, None

    def on_sent(event: Any) -> None:
        # Release only once our N-EVENT-REPORT-RSP is on its way: releasing
        # before it would leave the archive's request unanswered.
        if type(event.message).__name__ == "N_EVENT_REPORT_RSP":
            # pynetdicom answers the report in a thread of its own, which pauses the
            # association while it runs: release only after it has finished, or the
            # release can wait on a paused association for ever (seen under load).
            reporters.append(threading.current_thread())
            done.set()

    ae = _ae(calling)
    ae.add_requested_context(STORAGE_COMMITMENT)
    assoc = _associate(
        ae,
        target,
        recorder,
        evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report), (evt.EVT_DIMSE_SENT, on_sent)],
    )
    with Association(assoc):
        status, _ = assoc.send_n_action(info, 1, STORAGE_COMMITMENT, STORAGE_COMMITMENT_INSTANCE)
        action_status = int(status.get("Status", -1)) if status is not None else -1
        if action_status == 0x0000:
            done.wait(timeout)
            for thread in reporters:
                if thread is not threading.current_thread():
                    thread.join(timeout)
    if not received:
        return CommitmentResult(None, [], [], action_status)
    event_type, report = received[0]
    committed = [str(i.ReferencedSOPInstanceUID) for i in report.get("ReferencedSOPSequence", [])]
    failed = [
        (str(i.ReferencedSOPInstanceUID), int(i.get("FailureReason", 0) or 0))
        for i in report.get("FailedSOPSequence", [])
    ]
    return CommitmentResult(event_type, committed, failed, action_status)


# --------------------------------------------------------------------------- the modality's day
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


# --------------------------------------------------------------------------- silent peer
class SilentPeer:
    """A TCP listener on 127.0.0.1 that accepts connections and never says a word.

    Lesson 07 points an association at it to show what a timeout looks like
    (a firewall that drops packets, or a hung server, looks the same to a client).
    Use as a context manager; ``port`` is the port it listens on.
    """

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.host = "127.0.0.1"
        self.aet = "SILENT"
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="medlab-silent-peer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self._conns.append(conn)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._conns:
            conn.close()
        self._sock.close()

    def __enter__(self) -> SilentPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SilentPeer at {self.host}:{self.port}>"


def unused_port() -> int:
    """A port on 127.0.0.1 where nobody listens (bound, then released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on ``host:port`` (used to prove a PACS stopped)."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


__all__ = [
    "CALLING_AET",
    "CommitmentResult",
    "QueryResult",
    "Recorder",
    "RemotePACS",
    "RetrieveResult",
    "SilentPeer",
    "StoreReport",
    "acquire",
    "commit",
    "echo",
    "find",
    "get",
    "mpps_completed",
    "mpps_in_progress",
    "port_is_listening",
    "worklist_query",
    "query_dataset",
    "start_pacs",
    "start_receiver",
    "store",
    "unused_port",
]
