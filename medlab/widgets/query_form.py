"""Build a C-FIND from form fields and see the real answer as a table.

``query_builder(target)`` offers the query level (PATIENT, STUDY, SERIES,
IMAGE; PS3.4 C.6.1) and a few matching keys — name and ID with wildcards
(``*``, ``?``), a study date or date range (``20260101-20260331``), modality,
accession number, Study Instance UID — and a *Find* button. Pressing it sends
a real C-FIND (:func:`medlab.net.scu.find`) to the target and fills the table
with the identifiers that came back; the identifier sent is shown too, so
the trainee sees which keys were matching keys and which only return keys.
"""

from __future__ import annotations

import html
from typing import Any

from medlab.widgets._display import WidgetDisplay

#: Form fields (keyword -> label) and the levels where they are matching keys.
#: Below STUDY level a hierarchical query names the levels above only by their
#: unique keys (PS3.4 C.4.1.2.1, C.4.1.3.1.1): a field that is not a key at the
#: chosen level is disabled when empty, and flagged when filled in; a query with
#: a flagged field is not sent (it would silently match more than asked for).
FIELDS = {
    "PatientName": ("Patient name", ("PATIENT", "STUDY")),
    "PatientID": ("Patient ID", ("PATIENT", "STUDY")),
    "StudyDate": ("Study date", ("STUDY",)),
    "AccessionNumber": ("Accession", ("STUDY",)),
    "StudyInstanceUID": ("Study UID", ("STUDY", "SERIES", "IMAGE")),
    "Modality": ("Modality", ("SERIES",)),
    "SeriesInstanceUID": ("Series UID", ("SERIES", "IMAGE")),
}


class QueryBuilder(WidgetDisplay):
    """The widget: ``level`` (Dropdown), ``fields`` {keyword: Text}, ``button``,
    ``identifier`` / ``table`` / ``status`` (HTML) and ``result`` (the last QueryResult)."""

    def __init__(self, target: Any, *, level: str = "STUDY", calling: str = "TRAINEE") -> None:
        import ipywidgets as w

        self.target = target
        self.calling = calling
        self.result: Any = None
        self.runs = 0
        self.level = w.Dropdown(
            options=["PATIENT", "STUDY", "SERIES", "IMAGE"], value=level, description="Level"
        )
        self.fields = {
            key: w.Text(
                value="",
                description=label,
                placeholder="(any)",
                layout={"width": "300px"},
                style={"description_width": "100px"},
            )
            for key, (label, _levels) in FIELDS.items()
        }
        self.button = w.Button(description="Find", button_style="primary", icon="search")
        self.button.add_class("medlab-find")
        self.identifier = w.HTML()
        self.table = w.HTML()
        self.status = w.HTML(
            "<span>fill in keys (wildcards * ?, date ranges A-B), then Find</span>"
        )
        self.status.add_class("medlab-query-status")
        self.button.on_click(lambda _b: self.run())
        self.level.observe(lambda _c: self._refresh(), names="value")
        for text in self.fields.values():
            text.observe(lambda _c: self._refresh(), names="value")
        keys = list(self.fields.values())
        self.widget = w.VBox(
            [
                w.HBox([self.level, self.button]),
                w.HBox([w.VBox(keys[:4]), w.VBox(keys[4:])]),
                self.identifier,
                self.table,
                self.status,
            ]
        )
        self.widget.add_class("medlab-query-builder")
        self._refresh()

    def not_keys(self) -> dict[str, str]:
        """Fields filled in that are not matching keys at the chosen level (query refused)."""
        level = self.level.value
        return {
            key: text.value.strip()
            for key, text in self.fields.items()
            if text.value.strip() and level not in FIELDS[key][1]
        }

    def _refresh(self) -> None:
        """Disable the fields that are not keys at this level; flag those filled in."""
        level = self.level.value
        for key, text in self.fields.items():
            applies = level in FIELDS[key][1]
            filled = bool(text.value.strip())
            text.disabled = not applies and not filled  # a filled one stays editable: clear it
            text.placeholder = "(any)" if applies else f"(not a key at {level} level)"
            if not applies and filled:
                text.add_class("medlab-not-a-key")
            else:
                text.remove_class("medlab-not-a-key")
        flagged = self.not_keys()
        if flagged:
            self.status.value = f"<span style='color:#b71c1c'>{html.escape(self._refusal())}</span>"

    def _refusal(self) -> str:
        level = self.level.value
        names = ", ".join(FIELDS[k][0] for k in self.not_keys())
        above = "Study UID" if level in ("SERIES", "IMAGE") else "the keys of this level"
        return (
            f"not sent: {names} is not a key of a {level} query. Below STUDY level a "
            f"hierarchical query names the levels above only by their unique keys ({above}; "
            "PS3.4 C.4.1.2.1), so the archive would ignore it and match more than you asked. "
            "Clear it, or query at STUDY level first and use the Study UID it returns."
        )

    def keys(self) -> dict[str, str]:
        """The matching keys filled in that apply at the chosen level."""
        level = self.level.value
        out = {}
        for key, text in self.fields.items():
            value = text.value.strip()
            if value and level in FIELDS[key][1]:
                out[key] = value
        return out

    def run(self) -> Any:
        """Send the C-FIND; fill :attr:`table` with the matches."""
        from medlab.errors import MedlabError
        from medlab.net.scu import find, query_dataset

        self.runs += 1
        if self.not_keys():  # never drop a key silently: refuse, and say why
            self.result = None
            self.identifier.value = ""
            self.table.value = ""
            self.status.value = (
                f"<span style='color:#b71c1c'>query #{self.runs} {html.escape(self._refusal())}"
                "</span>"
            )
            return None
        keys = self.keys()
        level = self.level.value
        shown = query_dataset(level, keys)
        lines = [f"(0008,0052) QueryRetrieveLevel = {level}"] + [
            f"{elem.keyword} = {elem.value!s}"
            if str(elem.value)
            else f"{elem.keyword} = (empty: return key)"
            for elem in shown
            if elem.keyword != "QueryRetrieveLevel"
        ]
        self.identifier.value = (
            "<details><summary>identifier sent</summary><pre>"
            + html.escape("\n".join(lines))
            + "</pre></details>"
        )
        try:
            self.result = find(self.target, level, calling=self.calling, **keys)
        except MedlabError as err:
            self.result = None
            self.table.value = f"<b style='color:#b71c1c'>{html.escape(str(err))}</b>"
            self.status.value = f"<span>query #{self.runs} done: failed</span>"
            return None
        self.table.value = self.result._repr_html_()
        self.status.value = f"<span>query #{self.runs} done: {len(self.result)} match(es)</span>"
        return self.result

    def __repr__(self) -> str:
        return f"QueryBuilder(target {self.target.aet}, level {self.level.value})"


def query_builder(target: Any, **kwargs: Any) -> QueryBuilder:
    """Return the query-builder widget for ``target`` (a PACS, or anything with aet/host/port)."""
    return QueryBuilder(target, **kwargs)


__all__ = ["FIELDS", "QueryBuilder", "query_builder"]
