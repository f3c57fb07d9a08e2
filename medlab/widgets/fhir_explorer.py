"""An HL7 v2 message beside its FHIR resources, each field linked to the element it became.

Left, the message as sent (fields at their positions, ``PID-5``, ``OBX(2)-5``);
right, the JSON of the resources :func:`medlab.fhir.from_v2` maps it to. The
field under the mouse pointer and the element(s) it filled light up together
(pure CSS: a ``:has(:hover)`` rule per linked field, so no round trip to the
kernel), and the field picked in the *Field* list stays highlighted on both
sides. Values the mapping dropped are struck through, their reason in the tooltip.

As in the HL7 explorer of lesson 12 (:mod:`medlab.widgets.hl7_explorer`), callbacks
only change widget values (HTML), so tests drive it through its traits; the
status line ends with a marker (``showing PID-5``) the browser test waits for.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from medlab.widgets._display import WidgetDisplay

HIGHLIGHT = "#ffe08a"
_CSS = (
    ".medlab-fhir-explorer pre{font-size:12px;line-height:1.35;margin:0;white-space:pre-wrap;"
    "word-break:break-all}"
    ".medlab-v2-field{border-radius:2px;cursor:default}"
    ".medlab-v2-dropped{color:#8a8a8a;text-decoration:line-through}"
    f".medlab-fhir-explorer .medlab-picked{{background:{HIGHLIGHT};outline:1px solid #c9a227}}"
)


def capstone_messages() -> dict[str, str]:
    """The capstone's ADT, ORM and ORU (lesson 15), by label."""
    from medlab import capstone

    return {
        "ADT^A04 (register)": capstone.ADT_A04,
        "ORM^O01 (order)": capstone.ORM_O01,
        "ORU^R01 (report)": capstone.ORU_R01,
    }


class FHIRExplorer(WidgetDisplay):
    """A message picker, a field picker, and the v2 text beside the FHIR JSON.

    Parameters
    ----------
    messages:
        ``{label: message text}``; default: the capstone's three messages.
    timezone:
        Passed to :func:`medlab.fhir.from_v2` (the UTC offset v2 times lack).
    field:
        The field picked first (default: the first field that was mapped).
    """

    def __init__(
        self,
        messages: Mapping[str, str] | None = None,
        timezone: str | None = "-04:00",
        field: str | None = None,
    ) -> None:
        import ipywidgets as w

        self.messages = dict(messages or capstone_messages())
        self.timezone = timezone
        first = next(iter(self.messages))
        self.picker = w.Dropdown(
            options=list(self.messages),
            value=first,
            description="Message",
            layout={"width": "330px"},
        )
        self.field = w.Dropdown(options=[], description="Field", layout={"width": "380px"})
        self.v2 = w.HTML("")
        self.fhir = w.HTML("")
        self.status = w.HTML("")
        for widget, name in (
            (self.picker, "picker"),
            (self.field, "field"),
            (self.v2, "v2"),
            (self.fhir, "json"),
            (self.status, "status"),
        ):
            widget.add_class(f"medlab-fhir-{name}")
        self.mapping: Any = None
        self._wanted = field
        self.picker.observe(self._on_pick, names="value")
        self.field.observe(self._on_field, names="value")
        panes = w.HBox(
            [
                w.Box(
                    [self.v2], layout={"width": "48%", "overflow": "auto", "max_height": "420px"}
                ),
                w.Box(
                    [self.fhir], layout={"width": "52%", "overflow": "auto", "max_height": "420px"}
                ),
            ]
        )
        self.widget = w.VBox([w.HBox([self.picker, self.field]), self.status, panes])
        self.widget.add_class("medlab-fhir-explorer")
        self._load(self.messages[first])

    # -- behaviour ------------------------------------------------------------------
    def _load(self, text: str) -> None:
        from medlab.errors import MedlabError
        from medlab.fhir import from_v2

        try:
            self.mapping = from_v2(text, timezone=self.timezone)
        except MedlabError as err:
            self.mapping = None
            self.field.options = []
            self.v2.value = f"<pre>{html.escape(text.replace(chr(13), chr(10)))}</pre>"
            self.fhir.value = ""
            self.status.value = (
                f'<span style="color:#a4262c">{html.escape(str(err))}</span> <i>(not mapped)</i>'
            )
            return
        options = [(self._label(pos), pos) for pos in self.mapping.links]
        wanted = self._wanted if self._wanted in self.mapping.links else options[0][1]
        self._wanted = None
        self.field.unobserve(self._on_field, names="value")
        self.field.options = options
        self.field.value = wanted
        self.field.observe(self._on_field, names="value")
        self._show(wanted)

    def _label(self, position: str) -> str:
        targets = ", ".join(
            f"{self.mapping[i].__resource_type__}.{element}"
            for i, element in self.mapping.links[position]
        )
        return f"{position} → {targets}"

    def _show(self, picked: str | None) -> None:
        if self.mapping is None or picked is None:
            return
        self.v2.value = self._v2_html(picked)
        self.fhir.value = self._json_html(picked)
        self.status.value = (
            f"<b>{html.escape(self.mapping.message_type)}</b>: {len(self.mapping)} resources, "
            f"{len(self.mapping.dropped)} value(s) dropped (struck through) · "
            f"{html.escape(self._label(picked))} · <code>showing {html.escape(picked)}</code>"
        )

    def _v2_html(self, picked: str) -> str:
        from medlab.hl7.message import delimiters, segment_fields

        text = self.mapping.text
        d = delimiters(text)
        dropped = {x.position: x.reason for x in self.mapping.dropped}
        seen: dict[str, int] = {}
        rules = [
            f'.medlab-fhir-explorer:has(.medlab-v2-field[data-pos="{pos}"]:hover) '
            f'[data-fields~="{pos}"],.medlab-fhir-explorer:has(.medlab-v2-field'
            f'[data-pos="{pos}"]:hover) .medlab-v2-field[data-pos="{pos}"]'
            f"{{background:{HIGHLIGHT}}}"
            for pos in self.mapping.links
        ]
        lines = []
        for segment in text.split("\r"):
            seg_id = segment[:3]
            seen[seg_id] = seen.get(seg_id, 0) + 1
            seg_pos = seg_id if seen[seg_id] == 1 else f"{seg_id}({seen[seg_id]})"
            fields = segment_fields(segment, d)
            first = 2 if seg_id == "MSH" else 1
            out = [html.escape(seg_id + (d.field if seg_id == "MSH" else ""))]
            for n in range(first, len(fields)):
                position = f"{seg_pos}-{n}"
                value = html.escape(fields[n])
                reason = dropped.get(seg_pos) or next(
                    (
                        why
                        for where, why in dropped.items()
                        if where == position or where.startswith((position + ".", position + "("))
                    ),
                    None,
                )
                if position in self.mapping.links:
                    cls = "medlab-v2-field" + (" medlab-picked" if position == picked else "")
                    value = f'<span class="{cls}" data-pos="{position}">{value}</span>'
                elif reason and value:
                    value = (
                        f'<span class="medlab-v2-dropped" data-pos="{position}" '
                        f'title="{html.escape(reason)}">{value}</span>'
                    )
                out.append(value)
            lines.append(_join(out, d, seg_id))
        return f"<style>{_CSS}{''.join(rules)}</style><pre>{chr(10).join(lines)}</pre>"

    def _json_html(self, picked: str) -> str:
        fields_of: dict[tuple[int, str], list[str]] = {}
        for position, spots in self.mapping.links.items():
            for spot in spots:
                fields_of.setdefault(spot, []).append(position)
        blocks = []
        for i, resource in enumerate(self.mapping):
            data = json.loads(resource.model_dump_json(exclude_none=True))
            rows = []
            for key, value in data.items():
                body = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
                row = html.escape(f'  "{key}": {body}')
                linked = fields_of.get((i, key), [])
                if linked:
                    cls = "medlab-fhir-el" + (" medlab-picked" if picked in linked else "")
                    element = f"{resource.__resource_type__}.{key}"
                    row = (
                        f'<span class="{cls}" data-fields="{" ".join(linked)}" '
                        f'data-element="{element}">{row}</span>'
                    )
                rows.append(row)
            blocks.append("{\n" + ",\n".join(rows) + "\n}")
        return f"<pre>{chr(10).join(blocks)}</pre>"

    def _on_pick(self, change: dict[str, Any]) -> None:
        self._load(self.messages[change["new"]])

    def _on_field(self, change: dict[str, Any]) -> None:
        self._show(change["new"])

    # -- for tests and scripts -------------------------------------------------------
    def select(self, position: str) -> None:
        """Pick one field, as choosing it in the *Field* list does."""
        self.field.value = position

    def highlighted(self) -> tuple[list[str], list[str]]:
        """What is highlighted now, read from the two panes' HTML.

        ``(["PID-5"], ["Patient.name"])``: the picked v2 field(s) and FHIR element(s).
        """
        v2 = re.findall(r'class="medlab-v2-field medlab-picked" data-pos="([^"]+)"', self.v2.value)
        elements = re.findall(
            r'class="medlab-fhir-el medlab-picked" data-fields="[^"]*" data-element="([^"]+)"',
            self.fhir.value,
        )
        return v2, elements

    # -- display -----------------------------------------------------------------------
    def __repr__(self) -> str:
        shown = self.field.value or "nothing"
        return (
            f"FHIRExplorer({len(self.messages)} messages, {self.picker.value!r}, showing {shown})"
        )


def _join(parts: list[str], d: Any, seg_id: str) -> str:
    if seg_id == "MSH":  # "MSH|" then MSH-2, MSH-3 ... joined by the field separator
        return parts[0] + html.escape(d.field).join(parts[1:])
    return html.escape(d.field).join(parts)


def fhir_explorer(messages: Mapping[str, str] | None = None, **kwargs: Any) -> FHIRExplorer:
    """Return a :class:`FHIRExplorer` (the lesson displays it)."""
    return FHIRExplorer(messages, **kwargs)
