"""Propose presentation contexts and watch a real PACS accept or reject them.

``negotiation(target)`` shows two lists — SOP classes (abstract syntaxes) and
transfer syntaxes — and a *Negotiate* button. Pressing it runs a real
association against the target (A-ASSOCIATE-RQ with one presentation context
per chosen SOP class, each proposing every chosen transfer syntax; PS3.8
§9.3.2.2), reads the A-ASSOCIATE-AC (PS3.8 §9.3.3.2) and shows, per context,
*accepted* (with the transfer syntax the server picked) or the rejection
reason, with a plain-words explanation; then it releases the association.

The callbacks only change HTML traits, so the widget can be driven from code
(:meth:`Negotiation.negotiate`) in the unit tests, and its status line ends
with ``negotiation #N done`` for the browser test.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from medlab.widgets._display import WidgetDisplay

#: SOP classes offered in the widget (label -> UID). The last two are ones the
#: medlab PACS does not provide, to show "abstract syntax not supported".
SOP_CLASSES = {
    "Verification": "1.2.840.10008.1.1",
    "CT Image Storage": "1.2.840.10008.5.1.4.1.1.2",
    "MR Image Storage": "1.2.840.10008.5.1.4.1.1.4",
    "Study Root Q/R FIND": "1.2.840.10008.5.1.4.1.2.2.1",
    "Study Root Q/R MOVE": "1.2.840.10008.5.1.4.1.2.2.2",
    "Modality Worklist FIND": "1.2.840.10008.5.1.4.31",
    "Modality Performed Procedure Step": "1.2.840.10008.3.1.2.3.3",
    "Storage Commitment Push Model": "1.2.840.10008.1.20.1",
    "Basic Grayscale Print Management (Meta)": "1.2.840.10008.5.1.1.9",
    "Instance Availability Notification": "1.2.840.10008.5.1.4.33",
}

#: Transfer syntaxes offered (label -> UID), PS3.5 §10 and Annex A.
TRANSFER_SYNTAXES = {
    "Implicit VR Little Endian": "1.2.840.10008.1.2",
    "Explicit VR Little Endian": "1.2.840.10008.1.2.1",
    "Explicit VR Big Endian (retired)": "1.2.840.10008.1.2.2",
    "JPEG Baseline (lossy)": "1.2.840.10008.1.2.4.50",
    "JPEG Lossless SV1": "1.2.840.10008.1.2.4.70",
    "JPEG 2000 Lossless": "1.2.840.10008.1.2.4.90",
    "RLE Lossless": "1.2.840.10008.1.2.5",
}


@dataclass(frozen=True)
class ContextResult:
    """One proposed context and the server's answer to it."""

    id: int
    sop_class: str
    proposed: tuple[str, ...]
    result: str
    transfer_syntax: str = ""

    def __str__(self) -> str:
        from medlab.net.events import uid_name

        if self.result == "accepted":
            return f"({self.id}) {uid_name(self.sop_class)}: accepted, {uid_name(self.transfer_syntax)}"
        return f"({self.id}) {uid_name(self.sop_class)}: {self.result}"


class Negotiation(WidgetDisplay):
    """The widget: ``sop_classes`` and ``transfer_syntaxes`` (SelectMultiple), ``button``,
    ``calling`` / ``called`` (Text), ``table`` and ``status`` (HTML), ``results``."""

    def __init__(
        self,
        target: Any,
        *,
        calling: str = "TRAINEE",
        sop_classes: tuple[str, ...] = ("Verification", "CT Image Storage"),
        transfer_syntaxes: tuple[str, ...] = ("Explicit VR Little Endian",),
    ) -> None:
        import ipywidgets as w

        self.target = target
        self.results: list[ContextResult] = []
        self.explanation: Any = None
        self.runs = 0
        layout = {"width": "300px", "height": "170px"}
        self.sop_classes = w.SelectMultiple(
            options=list(SOP_CLASSES),
            value=sop_classes,
            description="SOP classes",
            layout=layout,
            style={"description_width": "initial"},
        )
        self.transfer_syntaxes = w.SelectMultiple(
            options=list(TRANSFER_SYNTAXES),
            value=transfer_syntaxes,
            description="Transfer syntaxes",
            layout=layout,
            style={"description_width": "initial"},
        )
        self.calling = w.Text(value=calling, description="Calling AE", layout={"width": "220px"})
        self.called = w.Text(
            value=str(target.aet), description="Called AE", layout={"width": "220px"}
        )
        self.button = w.Button(description="Negotiate", button_style="primary", icon="handshake-o")
        self.button.add_class("medlab-negotiate")
        self.table = w.HTML()
        self.status = w.HTML("<span>choose, then press Negotiate</span>")
        self.status.add_class("medlab-negotiation-status")
        self.button.on_click(lambda _b: self.negotiate())
        self.widget = w.VBox(
            [
                w.HBox([self.sop_classes, self.transfer_syntaxes]),
                w.HBox([self.calling, self.called, self.button]),
                self.table,
                self.status,
            ]
        )
        self.widget.add_class("medlab-negotiation")

    def negotiate(self) -> list[ContextResult]:
        """Run one real association with the chosen contexts; update the table."""
        from pynetdicom import AE

        from medlab.net.explanations import explain
        from medlab.net.scu import Recorder
        from medlab.net.scu.association import is_stopped, stopped_error

        self.runs += 1
        sops = [SOP_CLASSES[s] for s in self.sop_classes.value]
        syntaxes = [TRANSFER_SYNTAXES[t] for t in self.transfer_syntaxes.value]
        if not sops or not syntaxes:
            self.results = []
            self.explanation = None
            self.table.value = "<i>Choose at least one SOP class and one transfer syntax.</i>"
            self.status.value = f"<span>negotiation #{self.runs} done: nothing proposed</span>"
            return []
        calling = self.calling.value.strip() or "TRAINEE"
        if is_stopped(self.target):  # say so, rather than "nobody listening"
            self.results, self.explanation = [], None
            self.table.value = f"<b style='color:#b71c1c'>{html.escape(str(stopped_error(self.target, calling)))}</b>"
            self.status.value = (
                f"<span>negotiation #{self.runs} not sent: the PACS was stopped</span>"
            )
            return []
        ae = AE(ae_title=calling)
        ae.acse_timeout = 5
        ae.connection_timeout = 5
        for uid in sops:
            ae.add_requested_context(uid, syntaxes)
        recorder = Recorder()
        assoc = ae.associate(
            self.target.host,
            int(self.target.port),
            ae_title=self.called.value.strip() or str(self.target.aet),
            evt_handlers=recorder.handlers,
        )
        self.recorder = recorder
        from medlab.net import events as ev

        self.results = []
        accept = next((e for e in recorder.events if isinstance(e, ev.AssociationAccept)), None)
        request = next((e for e in recorder.events if isinstance(e, ev.AssociationRequest)), None)
        if accept is not None and request is not None:
            proposed = {c.id: c.transfer_syntaxes for c in request.contexts}
            self.results = [
                ContextResult(
                    c.id, c.abstract_syntax, proposed.get(c.id, ()), c.result, c.transfer_syntax
                )
                for c in accept.contexts
            ]
        self.explanation = explain(assoc)
        if assoc.is_established:
            assoc.release()
        self.table.value = self._html()
        accepted = sum(r.result == "accepted" for r in self.results)
        self.status.value = (
            f"<span>negotiation #{self.runs} done: {accepted} accepted, "
            f"{len(self.results) - accepted} rejected</span>"
        )
        return self.results

    def _html(self) -> str:
        from medlab.net.events import uid_name

        rows = []
        for r in self.results:
            ok = r.result == "accepted"
            colour = "#2e7d32" if ok else "#b71c1c"
            answer = f"accepted: {uid_name(r.transfer_syntax)}" if ok else r.result
            rows.append(
                f"<tr><td>{r.id}</td><td>{html.escape(uid_name(r.sop_class))}</td>"
                f"<td>{html.escape(', '.join(uid_name(t) for t in r.proposed))}</td>"
                f'<td style="color:{colour}"><b>{html.escape(answer)}</b></td></tr>'
            )
        table = ""
        if rows:
            table = (
                "<table class='medlab-negotiation-table'><thead><tr><th>id</th><th>abstract syntax"
                "</th><th>proposed transfer syntaxes</th><th>result (A-ASSOCIATE-AC)</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
        return table + (self.explanation._repr_html_() if self.explanation is not None else "")

    def __repr__(self) -> str:
        return (
            f"Negotiation(target {self.target.aet}, {len(self.sop_classes.value)} SOP class(es) x "
            f"{len(self.transfer_syntaxes.value)} transfer syntax(es) selected)"
        )


def negotiation(target: Any, **kwargs: Any) -> Negotiation:
    """Return the negotiation widget for ``target`` (a PACS, or anything with aet/host/port)."""
    return Negotiation(target, **kwargs)


__all__ = ["SOP_CLASSES", "TRANSFER_SYNTAXES", "ContextResult", "Negotiation", "negotiation"]
