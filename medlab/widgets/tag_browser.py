"""TagBrowser: search a file's header by keyword, name or tag; show public or private.

A Text box and a ToggleButtons row filter a :class:`~medlab.dicom.header.HeaderTable`;
the result is written into an HTML pane's ``value`` (no Output widget), so the
notebook stays nbval-comparable and the tests drive it by setting traits.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from medlab.dicom.header import HeaderTable, header_table

_SHOW = {"All": None, "Public": False, "Private": True}


class TagBrowser(widgets.VBox):
    """A searchable view of one header (see :func:`medlab.dicom.header_table`)."""

    def __init__(self, src: Any, **kwargs: Any) -> None:
        self.table = src if isinstance(src, HeaderTable) else header_table(src, **kwargs)
        self.search = widgets.Text(
            description="Search",
            placeholder="keyword, name or tag, e.g. date or 0010",
            continuous_update=True,
            layout=widgets.Layout(width="420px"),
        )
        self.show = widgets.ToggleButtons(options=list(_SHOW), value="All", description="Show")
        self.pane = widgets.HTML()
        self.search.observe(self._update, names="value")
        self.show.observe(self._update, names="value")
        super().__init__([widgets.HBox([self.search, self.show]), self.pane])
        self._update()

    def _update(self, change: Any = None) -> None:
        self.shown = self.table.filter(
            search=self.search.value.strip() or None, private=_SHOW[self.show.value]
        )
        self.pane.value = self.shown._repr_html_()

    def __repr__(self) -> str:
        return f"TagBrowser({self.table.name}, {self.table.total} elements)"
