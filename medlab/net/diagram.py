"""Sequence diagrams of real DICOM conversations, drawn from recorded events.

``sequence_diagram(events)`` takes the records a :class:`medlab.net.PACS`
keeps (``pacs.events``) or that a :class:`medlab.net.scu.Recorder` keeps on
the calling side, and draws one lifeline per AE title and one arrow per PDU
(A-ASSOCIATE-RQ/AC/RJ, A-RELEASE, A-ABORT, PS3.8 §9.3) or DIMSE message
(C-ECHO-RQ, C-STORE-RSP …, PS3.7), labelled with its status. TCP connection
set-up and tear-down are drawn dashed, so a new association (C-MOVE) is seen
as a new connection.

Long runs of the same exchange (20 × C-STORE-RQ/RSP, C-FIND pending
responses) are folded into one row with a count, so a whole study fits in a
small figure. The result is a :class:`SequenceDiagram`: it shows as a PNG in
a notebook, and its text (``repr``) is deterministic for nbval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from medlab.net import events as ev

#: Colours per association number (1, 2, 3 …), colour-blind friendly (Okabe-Ito).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


@dataclass
class Row:
    """One arrow of the diagram (possibly standing for ``count`` identical messages)."""

    assoc: int
    message: str
    sender: str
    receiver: str
    label: str
    kind: str  # "pdu", "dimse", "transport", "failure"
    count: int = 1
    status: int | None = None

    @property
    def key(self) -> tuple:
        return (self.assoc, self.message, self.sender, self.receiver, self.label, self.kind)

    def text(self, numbered: bool) -> str:
        prefix = f"#{self.assoc} " if numbered else ""
        times = f" ×{self.count}" if self.count > 1 else ""
        return f"{prefix}{self.message}{times}  {self.label}".rstrip()


@dataclass
class SequenceDiagram:
    """A drawn sequence diagram: ``figure`` (matplotlib), ``panels`` (rows per panel)."""

    panels: list[tuple[str, list[str], list[Row]]]
    figure: Any = field(repr=False)

    @property
    def rows(self) -> list[Row]:
        return [row for _title, _parts, rows in self.panels for row in rows]

    @property
    def participants(self) -> list[str]:
        seen: list[str] = []
        for _title, parts, _rows in self.panels:
            seen += [p for p in parts if p not in seen]
        return seen

    def text(self) -> str:
        """Every arrow as one line: ``sender -> receiver: MESSAGE ×n  label``."""
        lines = []
        for title, _parts, rows in self.panels:
            if title:
                lines.append(f"[{title}]")
            numbered = len({r.assoc for r in rows}) > 1
            lines += [f"{r.sender} -> {r.receiver}: {r.text(numbered)}" for r in rows]
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = []
        for title, people, rows in self.panels:
            assocs = len({r.assoc for r in rows})
            messages = sum(r.count for r in rows if r.kind != "transport")
            head = f"{title}: " if title else ""
            parts.append(
                f"{head}{' / '.join(people)} - {messages} message(s), {assocs} association(s)"
            )
        return "SequenceDiagram(" + "; ".join(parts) + ")"

    def _repr_png_(self) -> bytes:
        from medlab import plotting

        return plotting.png_bytes(self.figure)

    def label_boxes(self) -> list[tuple[str, tuple[float, float, float, float]]]:
        """Every text of the figure and its box ``(x0, y0, x1, y1)`` in image pixels.

        The PNG is shown at its natural size, so these are screen pixels at 100 % zoom:
        what the tests check for overlap and height.
        """
        self.figure.canvas.draw()  # the name boxes are laid out when drawn
        renderer = self.figure.canvas.get_renderer()
        out = []
        for ax in self.figure.axes:
            for text in [*ax.texts, ax.title]:
                if text.get_text():
                    box = text.get_window_extent(renderer)
                    patch = text.get_bbox_patch()  # a lifeline's name sits in a box
                    if patch is not None:
                        box = patch.get_window_extent(renderer)
                    out.append((text.get_text(), (box.x0, box.y0, box.x1, box.y1)))
        return out

    def readability_problems(self, min_height: float = 10.0) -> list[str]:
        """What would make the figure hard to read at 100 % zoom (empty: nothing).

        A label lower than ``min_height`` px, two labels overlapping, a label cut
        off at the edge, or a figure wider than a notebook's output area (the lab
        would then shrink it, and every label with it).
        """
        problems = []
        boxes = self.label_boxes()
        width, height = self.figure.bbox.width, self.figure.bbox.height
        if width > MAX_WIDTH_IN * DPI:
            problems.append(f"{width:.0f} px wide: the lab would shrink it")
        for text, (x0, y0, x1, y1) in boxes:
            if y1 - y0 < min_height:
                problems.append(f"{text!r} is {y1 - y0:.1f} px high")
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                problems.append(f"{text!r} is cut off")
        for i, (a, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
            for b, (bx0, by0, bx1, by1) in boxes[i + 1 :]:
                if min(ax1, bx1) - max(ax0, bx0) > 0.5 and min(ay1, by1) - max(ay0, by0) > 0.5:
                    problems.append(f"{a!r} overlaps {b!r}")
        return problems

    def savefig(self, path: Any) -> None:
        self.figure.savefig(path)


def events_of(source: Any, timeout: float = 10.0) -> list[ev.PacsEvent]:
    """The events of a PACS, a Recorder or a list, once the wire has gone quiet.

    A PACS records the end of a connection on its own thread, a moment after
    the client's ``release()`` returned: wait (at most ``timeout`` s) until
    every connection opened has closed and no new event arrived for 50 ms, so
    that a lesson's output does not depend on that race.
    """
    import time

    if isinstance(source, (list, tuple)):
        return list(source)
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        events = list(source.events)
        opened = sum(1 for e in events if e.message == "TCP-OPEN")
        closed = sum(1 for e in events if e.message == "TCP-CLOSE")
        if (opened <= closed and len(events) == last) or time.monotonic() > deadline:
            return events
        last = len(events)
        time.sleep(0.05)


def transcript(source: Any, assoc: int | None = None) -> str:
    """One line per event of a PACS, a Recorder or a list (after the wire went quiet)."""
    return ev.events_text(events_of(source), assoc)


def _merge_orphans(events: list[ev.PacsEvent]) -> list[ev.PacsEvent]:
    """Put each message back into the association (and the wire order) it belongs to.

    pynetdicom reports two messages outside their connection's lifetime: a
    requestor's A-ASSOCIATE-RQ is handed to the network layer *before* the
    TCP connection exists, and an A-RELEASE-RP can be reported *after* the
    connection closed. A recorder that numbers associations by connection
    may then file them under numbers of their own. Such an orphan (a number
    without TCP-OPEN) is merged into the next association between the same
    AEs (for a request) or the previous one (for anything else), and the
    TCP-OPEN / TCP-CLOSE are moved around it.
    """
    import dataclasses

    by_assoc: dict[int, list[ev.PacsEvent]] = {}
    for e in events:
        by_assoc.setdefault(e.assoc, []).append(e)
    opened = {n for n, evs in by_assoc.items() if any(e.message == "TCP-OPEN" for e in evs)}
    renumber: dict[int, int] = {}
    for n, evs in by_assoc.items():
        if n in opened or any(isinstance(e, (ev.Note, ev.WebRequest)) for e in evs):
            continue
        pair = {x for e in evs for x in (e.sender, e.receiver)}
        if isinstance(evs[0], ev.AssociationRequest):
            candidates = sorted(m for m in opened if m > n)
        else:
            candidates = sorted((m for m in opened if m < n), reverse=True)
        for m in candidates:
            names = {x for e in by_assoc[m] for x in (e.sender, e.receiver)} - {"?"}
            if pair <= names | {"?"} or names <= pair:
                renumber[n] = m
                break
    if not renumber:
        return events
    out = [
        dataclasses.replace(e, assoc=renumber[e.assoc]) if e.assoc in renumber else e
        for e in events
    ]
    for m in set(renumber.values()):
        idx = [i for i, e in enumerate(out) if e.assoc == m]
        op = next((i for i in idx if out[i].message == "TCP-OPEN"), None)
        if op is not None and op != idx[0]:
            out.insert(idx[0], out.pop(op))  # the connection opens before the request
        idx = [i for i, e in enumerate(out) if e.assoc == m]
        close = next((i for i in idx if out[i].message == "TCP-CLOSE"), None)
        if close is not None and close != idx[-1]:
            out.insert(idx[-1], out.pop(close))  # and closes after the last message
    return out


def _fill_unknown(events: list[ev.PacsEvent]) -> list[ev.PacsEvent]:
    """Replace the ``?`` a PACS writes before a peer names itself by that peer's AE title."""
    import dataclasses

    names: dict[int, str] = {}
    for e in events:
        if isinstance(e, ev.AssociationRequest):
            names.setdefault(e.assoc, e.sender if e.sender != "?" else e.receiver)
    out = []
    for e in events:
        name = names.get(e.assoc)
        if name and "?" in (e.sender, e.receiver):
            e = dataclasses.replace(
                e,
                sender=name if e.sender == "?" else e.sender,
                receiver=name if e.receiver == "?" else e.receiver,
            )
        out.append(e)
    return out


def _row(e: ev.PacsEvent) -> Row:
    if isinstance(e, ev.Transport):
        return Row(e.assoc, e.message, e.sender, e.receiver, "", "transport")
    if isinstance(e, ev.AssociationRequest):
        return Row(
            e.assoc,
            e.message,
            e.sender,
            e.receiver,
            f"{len(e.contexts)} context(s) proposed",
            "pdu",
        )
    if isinstance(e, ev.AssociationAccept):
        label = f"{len(e.accepted)} accepted"
        if e.rejected:
            reasons = sorted({c.result for c in e.rejected})
            label += f", {len(e.rejected)} rejected ({', '.join(reasons)})"
        return Row(
            e.assoc, e.message, e.sender, e.receiver, label, "pdu" if not e.rejected else "failure"
        )
    if isinstance(e, ev.AssociationReject):
        return Row(e.assoc, e.message, e.sender, e.receiver, e.reason, "failure")
    if isinstance(e, ev.Abort):
        return Row(e.assoc, e.message, e.sender, e.receiver, e.reason or e.source, "failure")
    if isinstance(e, ev.Note):
        return Row(e.assoc, e.message, e.sender, e.receiver, e.text, "failure")
    if isinstance(e, ev.Dimse):
        if e.status is not None:
            label = ev.status_text(e.status, e.message)
            if e.info and not e.info.startswith("remaining="):
                label += f" {e.info}"
            failed = (
                e.status not in (0x0000, 0xFF00, 0xFF01, 0xFE00)
                and not 0xB000 <= e.status <= 0xBFFF
            )
            return Row(
                e.assoc,
                e.message,
                e.sender,
                e.receiver,
                label,
                "failure" if failed else "dimse",
                status=e.status,
            )
        label = e.info or _short_name(e.sop_class)
        return Row(e.assoc, e.message, e.sender, e.receiver, label, "dimse")
    if isinstance(e, ev.Release):
        return Row(e.assoc, e.message, e.sender, e.receiver, "", "pdu")
    if isinstance(e, ev.WebRequest):
        kind = "dimse" if e.status == 200 else "failure"
        return Row(e.assoc, e.message, e.sender, e.receiver, f"HTTP {e.status}", kind)
    return Row(e.assoc, e.message, e.sender, e.receiver, e.details(), "pdu")


def _short_name(uid: str) -> str:
    name = ev.uid_name(uid)
    for long, short in (
        ("Information Model", "IM"),
        ("Query/Retrieve", "Q/R"),
        (" SOP Class", ""),
        ("Modality Performed Procedure Step", "MPPS"),
    ):
        name = name.replace(long, short)
    return name if len(name) <= 40 else name[:39] + "…"


def fold(rows: list[Row]) -> list[Row]:
    """Fold repeated exchanges (period 1, 2 or 3 rows) into one set of rows with counts."""
    out: list[Row] = []
    i = 0
    while i < len(rows):
        folded = False
        for period in (1, 2, 3):
            if len(out) >= period and i + period <= len(rows):
                tail = out[-period:]
                nxt = rows[i : i + period]
                if all(a.key == b.key for a, b in zip(tail, nxt, strict=True)) and not any(
                    r.kind in ("pdu", "transport") for r in nxt
                ):
                    for row in tail:
                        row.count += 1
                    i += period
                    folded = True
                    break
        if not folded:
            r = rows[i]
            out.append(Row(r.assoc, r.message, r.sender, r.receiver, r.label, r.kind, 1, r.status))
            i += 1
    return out


def _participants(rows: list[Row], order: Sequence[str] | None) -> list[str]:
    people: list[str] = list(order or [])
    for r in rows:
        for name in (r.sender, r.receiver):
            if name not in people:
                people.append(name)
    return people


def _connection(assoc: Any) -> str | None:
    """Our end (``host:port``) of a helper's or a pynetdicom association, if known."""
    connection = getattr(assoc, "connection", None)
    if isinstance(connection, str) and connection:
        return connection
    requestor = getattr(assoc, "requestor", None)
    if requestor is not None and getattr(assoc, "is_requestor", True):
        return f"{requestor.address}:{requestor.port}"
    return None


def select(events: Sequence[ev.PacsEvent], assoc: Any, source: Any = None) -> set[int]:
    """The association numbers that ``assoc`` stands for in ``events``.

    ``assoc`` is a number (or several), a pynetdicom ``Association`` we opened,
    or a helper's result (``StoreReport``, ``QueryResult``, ``RetrieveResult``,
    ``CommitmentResult``: their ``connection``). The recording side (a PACS)
    knows our association by our end of its TCP connection. Associations that
    side opened *while serving it* (the C-MOVE's C-STORE sub-operations to
    RECEIVER) belong to it too.
    """
    if isinstance(assoc, int):
        return {assoc}
    if isinstance(assoc, (list, tuple, set, frozenset)) and all(isinstance(a, int) for a in assoc):
        return set(assoc)
    known = getattr(source, "known", None)
    if known is not None and hasattr(assoc, "requestor"):
        state = known(assoc)  # a Recorder numbered this association itself
        if state is not None:
            return {state.n}
    connection = _connection(assoc)
    main = {e.assoc for e in events if connection and e.peer == connection}
    if not main:
        return set()
    mine = [e for e in events if e.assoc in main]
    start, stop = min(e.time for e in mine), max(e.time for e in mine)
    server = {e.receiver for e in mine if isinstance(e, ev.AssociationRequest)}
    caused = set()
    for e in events:
        if (
            isinstance(e, ev.Transport)
            and e.message == "TCP-OPEN"
            and e.sender in server
            and start <= e.time <= stop
        ):
            caused.add(e.assoc)
    return main | caused


def _prepare(
    events: Sequence[ev.PacsEvent],
    transport: bool,
    collapse: bool,
    assoc: Any,
    dimse_only: bool = False,
    source: Any = None,
) -> list[Row]:
    evs = _fill_unknown(_merge_orphans(list(events)))
    if assoc is not None:
        wanted = select(evs, assoc, source)
        evs = [e for e in evs if e.assoc in wanted]
    if dimse_only:
        evs = [e for e in evs if isinstance(e, (ev.Dimse, ev.Note, ev.AssociationReject, ev.Abort))]
    rows = [_row(e) for e in evs if transport or not isinstance(e, ev.Transport)]
    return fold(rows) if collapse else rows


#: Drawing sizes, chosen to be read at the lab's default zoom: a PNG at :data:`DPI`
#: is shown at its natural size (one image pixel per CSS pixel), so a label of
#: LABEL_PT points is LABEL_PT * DPI / 72 px high (about 12 px), and every message
#: has a row of its own, ROW_IN inches (30 px) high: the figure grows with the rows.
DPI = 100
LABEL_PT = 8.5
NAME_PT = 9.0
TITLE_PT = 11.0
ROW_IN = 0.30
HEAD_IN = 0.75
MAX_WIDTH_IN = 8.6  # 860 px: fits a notebook's output area without being scaled down


def _panel_width(people: list[str]) -> float:
    return max(4.2, 1.3 * max(len(people), 2))


def _figure(width: float, rows: int, titled: bool) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = HEAD_IN + (0.3 if titled else 0.0) + ROW_IN * max(rows, 2) + 0.15
    fig = Figure(figsize=(min(width, MAX_WIDTH_IN), height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _place(fig: Any, ax: Any, rows: int, titled: bool, left: float, width: float) -> None:
    """Put ``ax`` so that one data unit on y is exactly one row (ROW_IN)."""
    height_in = fig.get_figheight()
    body = HEAD_IN + ROW_IN * max(rows, 2)
    ax.set_position((left, 0.15 / height_in, width, body / height_in))
    ax.set_ylim(max(rows, 2) - 0.5, -HEAD_IN / ROW_IN - 0.5)


def _draw(ax: Any, rows: list[Row], people: list[str], title: str) -> None:
    numbered = len({r.assoc for r in rows}) > 1
    n = max(len(rows), 2)
    xs = {p: i for i, p in enumerate(people)}
    ax.set_xlim(-0.6, max(len(people) - 1, 1) + 0.6)
    ax.set_axis_off()
    head = -HEAD_IN / ROW_IN  # lifeline names sit in the header, above row 0
    for p, x in xs.items():
        ax.plot([x, x], [head + 1.2, n - 0.5], color="0.6", lw=1, zorder=1)
        ax.text(
            x,
            head + 0.6,
            p,
            ha="center",
            va="center",
            fontsize=NAME_PT,
            weight="bold",
            bbox={"boxstyle": "round,pad=0.3", "fc": "0.93", "ec": "0.5"},
        )
    for y, r in enumerate(rows):
        x0, x1 = xs[r.sender], xs[r.receiver]
        colour = COLOURS[(r.assoc - 1) % len(COLOURS)]
        style = "-"
        if r.kind == "transport":
            colour, style = "0.55", "--"
        if r.kind == "failure":
            colour = "#b71c1c"
        text = r.text(numbered)
        label = {
            "fontsize": LABEL_PT,
            "color": colour,
            "clip_on": False,
            "gid": "label",
            "zorder": 4,
            # a light backing keeps the lifelines from striking through the text
            "bbox": {"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none", "alpha": 0.85},
        }
        if x0 == x1:  # a note about one side (e.g. a timeout seen by the caller)
            ax.text(x0 + 0.06, y, text, va="center", **label)
            continue
        ax.annotate(
            "",
            xy=(x1, y + 0.25),
            xytext=(x0, y + 0.25),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "lw": 1.2 + 0.3 * (r.count > 1),
                "linestyle": style,
                "shrinkA": 0,
                "shrinkB": 0,
            },
            zorder=3,
        )
        if r.message == "NO-CONNECTION":
            ax.plot(
                [x1 - 0.05 * (1 if x1 > x0 else -1)], [y + 0.25], "x", color=colour, ms=8, mew=2
            )
        ax.text((x0 + x1) / 2, y + 0.12, text, ha="center", va="bottom", **label)
    if title:
        ax.set_title(title, fontsize=TITLE_PT, pad=4)


def _keep_inside(fig: Any) -> None:
    """Slide any label that sticks out of the figure back inside (labels never clip)."""
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    for ax in fig.axes:
        for text in ax.texts:
            if text.get_gid() != "label":
                continue
            box = text.get_window_extent(renderer)
            shift = 0.0
            if box.x0 < 2:
                shift = 2 - box.x0
            elif box.x1 > width - 2:
                shift = (width - 2) - box.x1
            if shift:
                x, y = text.get_position()
                data = ax.transData
                px = data.transform((x, y))
                text.set_position(data.inverted().transform((px[0] + shift, px[1])))


def sequence_diagram(
    events: Any,
    *,
    title: str = "",
    transport: bool = True,
    collapse: bool = True,
    assoc: Any = None,
    participants: Sequence[str] | None = None,
    width: float | None = None,
    dimse_only: bool = False,
) -> SequenceDiagram:
    """Draw recorded events as a sequence diagram (one arrow per PDU / DIMSE message).

    Parameters
    ----------
    events:
        A PACS, a :class:`~medlab.net.scu.Recorder`, or their ``.events`` list
        (see :mod:`medlab.net.events`).
    title:
        Shown above the diagram.
    transport:
        Draw TCP connect / close (dashed).
    collapse:
        Fold repeated exchanges into one row ``×n``.
    assoc:
        Only this association: its number (or several), the pynetdicom
        ``Association`` we opened, or a helper's result (see :func:`select`).
        Re-running other cells then never changes what the diagram is about.
    participants:
        Lifeline order, left to right (others are added as they appear).
    width:
        Figure width in inches (default: grows with the lifelines, at most 8.6).
    dimse_only:
        Leave out TCP and the association PDUs: only requests, responses and
        failures (a whole day of work fits in one figure).

    The figure grows one row (30 px) per message, labels are about 12 px high
    and never overlap (:meth:`SequenceDiagram.label_boxes`).
    """
    source = events
    rows = _prepare(events_of(events), transport, collapse, assoc, dimse_only, source)
    people = _participants(rows, participants)
    fig = _figure(width or _panel_width(people), len(rows), bool(title))
    ax = fig.add_axes((0, 0, 1, 1))
    _place(fig, ax, len(rows), bool(title), 0.01, 0.98)
    _draw(ax, rows, people, title)
    _keep_inside(fig)
    return SequenceDiagram([(title, people, rows)], fig)


def side_by_side(
    *event_lists: Any,
    titles: Sequence[str] = (),
    transport: bool = True,
    collapse: bool = True,
    participants: Sequence[str] | None = None,
) -> SequenceDiagram:
    """Two (or more) conversations next to each other, e.g. C-MOVE beside C-GET.

    Give each conversation as events (a PACS, a Recorder, a list), or as
    ``(events, assoc)`` to draw only that association (see :func:`select`).
    """
    prepared, peoples = [], []
    for item in event_lists:
        events, assoc = item if isinstance(item, tuple) else (item, None)
        rows = _prepare(events_of(events), transport, collapse, assoc, source=events)
        prepared.append(rows)
        peoples.append(_participants(rows, participants))
    longest = max((len(rows) for rows in prepared), default=2)
    titled = any(titles)
    fig = _figure(sum(_panel_width(p) for p in peoples), longest, titled)
    panels = []
    k = len(prepared)
    for i, rows in enumerate(prepared):
        title = titles[i] if i < len(titles) else ""
        ax = fig.add_axes((0, 0, 1, 1))
        _place(fig, ax, longest, titled, i / k + 0.005, 1 / k - 0.01)
        _draw(ax, rows, peoples[i], title)
        panels.append((title, peoples[i], rows))
    _keep_inside(fig)
    return SequenceDiagram(panels, fig)


__all__ = [
    "Row",
    "SequenceDiagram",
    "events_of",
    "fold",
    "select",
    "sequence_diagram",
    "side_by_side",
    "transcript",
]
