"""What every medlab widget shares: how it shows itself in a notebook."""

from __future__ import annotations

from typing import Any


class WidgetDisplay:
    """Show ``self.widget`` in a notebook, with ``repr(self)`` as its plain text.

    ipywidgets' own plain text lists every child's traits; a short, deterministic
    ``__repr__`` of our own keeps the stored notebooks readable and comparable by nbval.
    """

    widget: Any

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, tuple):  # (data, metadata)
            bundle = bundle[0]
        bundle = dict(bundle or {})
        bundle["text/plain"] = repr(self)
        return bundle
