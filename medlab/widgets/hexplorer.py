"""Hexplorer: pick a data element, see its bytes and its decoded value side by side.

The widget is a Dropdown of the file's elements and an HTML pane. Choosing an
element only rewrites the pane's ``value`` trait (no Output widget), so a
notebook that shows it stays comparable by nbval, and the unit tests drive it
by setting ``dropdown.value``.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from medlab.dicom.hexdump import HexView, hexview


class Hexplorer(widgets.VBox):
    """An element picker over a :class:`~medlab.dicom.hexdump.HexView`.

    Parameters
    ----------
    src:
        A ``HexView`` or anything :func:`medlab.dicom.hexview` accepts (a path, bytes).
    start:
        Keyword or tag of the element shown first (default: the first data element
        after the File Meta Information).
    """

    def __init__(self, src: Any, *, start: Any = None, **kwargs: Any) -> None:
        self.view = src if isinstance(src, HexView) else hexview(src, **kwargs)
        self._choices = self.view.choices()
        options = [(label, i) for i, (label, _) in enumerate(self._choices)]
        first = next(
            (i for i, (_, el) in enumerate(self._choices) if el.tag >> 16 != 2 and el.depth == 0), 0
        )
        if start is not None:
            from medlab.dicom._layout import _to_tag

            tag = _to_tag(start)
            first = next((i for i, (_, el) in enumerate(self._choices) if el.tag == tag), first)
        self.dropdown = widgets.Dropdown(
            options=options,
            value=first,
            description="Element",
            layout=widgets.Layout(width="460px"),
        )
        self.pane = widgets.HTML()
        self.dropdown.observe(self._show, names="value")
        super().__init__([self.dropdown, self.pane])
        self._show()

    def _show(self, change: Any = None) -> None:
        _, el = self._choices[self.dropdown.value]
        info = self.view._bytes(el)
        rows = "".join(
            f"<tr><td>{part}</td><td><code>{html.escape(_hex(raw))}</code></td><td>{len(raw)} bytes</td></tr>"
            for part, raw in info.parts
        )
        vr_note = (
            ""
            if info.vr_in_file
            else f"<br><i>No VR in the file (Implicit VR); the dictionary gives {info.vr}.</i>"
        )
        length = "undefined (FFFFFFFF)" if info.length is None else f"{info.length} bytes"
        self.selected = info
        self.pane.value = (
            '<div style="display:flex;gap:2em;align-items:flex-start">'
            f'<div><b>Bytes at offset {info.offset}</b><table style="font-size:12px">{rows}</table></div>'
            f"<div><b>Decoded by pydicom</b><br>{info.tag} {html.escape(info.keyword)} (VR {info.vr})<br>"
            f"value length field: {length}<br>value: <code>{html.escape(info.value[:200])}</code>{vr_note}</div></div>"
            f'<p class="medlab-marker" style="color:#888;font-size:11px">Showing {info.tag} {html.escape(info.keyword)}</p>'
        )

    def select(self, key: Any) -> None:
        """Show the element with this keyword or tag (what choosing it in the dropdown does)."""
        from medlab.dicom._layout import _to_tag

        tag = _to_tag(key)
        self.dropdown.value = next(i for i, (_, el) in enumerate(self._choices) if el.tag == tag)

    def __repr__(self) -> str:
        return f"Hexplorer({self.view.name}, {len(self._choices)} elements)"


def _hex(raw: bytes, limit: int = 48) -> str:
    text = " ".join(f"{b:02X}" for b in raw[:limit])
    return text + (f" … (+{len(raw) - limit} bytes)" if len(raw) > limit else "")
