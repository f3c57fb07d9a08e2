"""An HL7 v2 message explorer: pick or paste a message, click a segment, read its fields.

The fields come from :func:`medlab.hl7.dissect` (positions such as ``PID-5.1``,
names and data types from the HL7 definitions hl7apy ships). Callbacks only
change widget values (HTML), so the lesson stays comparable by nbval and the
tests can drive the explorer through its traits; the status line ends with a
marker (``showing PID``) that the browser test waits for.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from medlab.widgets._display import WidgetDisplay


class HL7Explorer(WidgetDisplay):
    """Messages to choose from (or paste), segment buttons, and a field table.

    Parameters
    ----------
    messages:
        ``{label: message text}``; default :data:`medlab.hl7.samples.SAMPLES`.
    start:
        The label shown first (default: the first one).
    segment:
        The segment shown first (default: the first after MSH, else MSH).
    """

    PASTED = "(pasted below)"

    def __init__(
        self,
        messages: Mapping[str, str] | None = None,
        start: str | None = None,
        segment: str | None = None,
    ) -> None:
        import ipywidgets as w

        from medlab.hl7 import samples

        self.messages = dict(messages or samples.SAMPLES)
        first = start or next(iter(self.messages))
        self.picker = w.Dropdown(
            options=[*self.messages, self.PASTED],
            value=first,
            description="Message",
            layout={"width": "360px"},
        )
        self.text = w.Textarea(
            value="",
            placeholder="Paste an HL7 v2 message here, one segment per line, then press Dissect.",
            layout={"width": "95%", "height": "90px"},
        )
        self.button = w.Button(description="Dissect", button_style="primary")
        self.segments = w.ToggleButtons(options=[], style={"button_width": "70px"})
        self.table = w.HTML("")
        self.status = w.HTML("")
        self.status.add_class("medlab-hl7-status")
        self.table.add_class("medlab-hl7-fields")
        self.segments.add_class("medlab-hl7-segments")
        self.picker.add_class("medlab-hl7-picker")
        self._dissection: Any = None
        self._wanted_segment = segment
        self.picker.observe(self._on_pick, names="value")
        self.segments.observe(self._on_segment, names="value")
        self.text.observe(self._on_edit, names="value")
        self.button.on_click(self._on_dissect)
        self.widget = w.VBox(
            [w.HBox([self.picker]), self.text, self.button, self.segments, self.status, self.table]
        )
        self.widget.add_class("medlab-hl7-explorer")
        self._load(self.messages[first])

    # -- behaviour ------------------------------------------------------------------
    def _load(self, text: str) -> None:
        from medlab.errors import MedlabError
        from medlab.hl7 import dissect

        try:
            self._dissection = dissect(text)
        except MedlabError as err:
            self._clear(
                f'<span style="color:#a4262c">{html.escape(str(err))}</span> <i>(not dissected)</i>'
            )
            return
        positions = self._dissection.segments()
        wanted = (
            self._wanted_segment
            if self._wanted_segment in positions
            else (positions[1] if len(positions) > 1 else positions[0])
        )
        self._wanted_segment = None
        self.segments.unobserve(self._on_segment, names="value")
        self.segments.options = positions
        self.segments.value = wanted
        self.segments.observe(self._on_segment, names="value")
        self._show(wanted)

    def _clear(self, status: str) -> None:
        """Take the previous dissection off the screen: nothing shown belongs to old input."""
        self._dissection = None
        self.segments.unobserve(self._on_segment, names="value")
        self.segments.options = []
        self.segments.observe(self._on_segment, names="value")
        self.table.value = ""
        self.status.value = status

    def _show(self, position: str) -> None:
        if self._dissection is None or position is None:
            return
        part = self._dissection.segment(position)
        fields = sum(1 for row in part.rows if row.kind == "field")
        name = part.rows[0].name
        self.table.value = part._repr_html_()
        self.status.value = (
            f"<b>{html.escape(position)}</b> {html.escape(name)}: {fields} "
            f"field(s) with values, HL7 v{html.escape(self._dissection.version)}"
            f" · <code>showing {html.escape(position)}</code>"
        )

    def _on_pick(self, change: dict[str, Any]) -> None:
        if change["new"] != self.PASTED:
            self._load(self.messages[change["new"]])
        elif self.text.value.strip():
            self._load(self.text.value)
        else:
            self._clear("<i>Paste a message in the box, then press Dissect.</i>")

    def _on_edit(self, _change: dict[str, Any]) -> None:
        if self.picker.value == self.PASTED:
            self._clear("<i>The pasted text changed: press Dissect to read it.</i>")

    def _on_segment(self, change: dict[str, Any]) -> None:
        self._show(change["new"])

    def _on_dissect(self, _button: object = None) -> None:
        self.picker.unobserve(self._on_pick, names="value")
        self.picker.value = self.PASTED
        self.picker.observe(self._on_pick, names="value")
        self._load(self.text.value)

    # -- for tests and scripts -------------------------------------------------------
    def select(self, position: str) -> None:
        """Show one segment, as clicking its button does."""
        self.segments.value = position

    def paste(self, text: str) -> None:
        """Paste ``text`` and press Dissect."""
        self.text.value = text
        self._on_dissect()

    # -- display -----------------------------------------------------------------------
    def __repr__(self) -> str:
        shown = self.segments.value or "nothing"
        return f"HL7Explorer({len(self.messages)} messages, {self.picker.value!r}, showing {shown})"


def hl7_explorer(messages: Mapping[str, str] | None = None, **kwargs: Any) -> HL7Explorer:
    """Return an :class:`HL7Explorer` (the lesson displays it)."""
    return HL7Explorer(messages, **kwargs)
