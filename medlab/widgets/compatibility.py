"""Edit a device's conformance and watch the verdict against the PACS change.

``compat_editor(device, other)`` lists the device's services with, for each,
its role (none, SCU, SCP, SCU+SCP) and the transfer syntaxes it proposes or
accepts (a few typical sets). Every change rebuilds the device's
:class:`~medlab.net.compat.Conformance` and re-runs
:func:`~medlab.net.compat.compatible` against ``other``; the verdict table and
a one-line summary (``verdict #N: k will work, m will not``) update at once.
"""

from __future__ import annotations

from typing import Any

from medlab.net import compat
from medlab.widgets._display import WidgetDisplay

#: Transfer syntax sets a vendor typically lists (label -> UIDs, preferred first).
SYNTAX_SETS = {
    "uncompressed (Explicit + Implicit LE)": (compat.EXPLICIT_LE, compat.IMPLICIT_LE),
    "Implicit VR LE only": (compat.IMPLICIT_LE,),
    "JPEG Lossless + uncompressed": (
        "1.2.840.10008.1.2.4.70",
        compat.EXPLICIT_LE,
        compat.IMPLICIT_LE,
    ),
    "JPEG 2000 only": ("1.2.840.10008.1.2.4.90",),
    "JPEG-LS Lossless only": ("1.2.840.10008.1.2.4.80",),
    "Explicit VR Big Endian only": ("1.2.840.10008.1.2.2",),
}
ROLES = {"not supported": set(), "SCU": {"SCU"}, "SCP": {"SCP"}, "SCU+SCP": {"SCU", "SCP"}}


def _role_label(roles: set[str]) -> str:
    return next(label for label, value in ROLES.items() if value == set(roles))


def _syntax_label(syntaxes: list[str]) -> str:
    for label, value in SYNTAX_SETS.items():
        if tuple(syntaxes) == value:
            return label
    return "(as described)"


class CompatEditor(WidgetDisplay):
    """The widget: ``roles`` / ``syntaxes`` {SOP Class UID: Dropdown}, ``table`` and
    ``status`` (HTML), ``device`` (the edited Conformance), ``result`` (Compatibility)."""

    def __init__(self, device: compat.Conformance, other: compat.Conformance) -> None:
        import ipywidgets as w

        self.original = device.copy()
        self.other = other
        self.runs = 0
        self.roles: dict[str, Any] = {}
        self.syntaxes: dict[str, Any] = {}
        rows = []
        for uid, spec in device.services.items():
            role = w.Dropdown(
                options=list(ROLES), value=_role_label(spec["roles"]), layout={"width": "140px"}
            )
            options = list(SYNTAX_SETS)
            label = _syntax_label(spec["transfer_syntaxes"])
            if label not in options:
                options.insert(0, label)
            syntax = w.Dropdown(options=options, value=label, layout={"width": "300px"})
            role.observe(lambda _c: self.update(), names="value")
            syntax.observe(lambda _c: self.update(), names="value")
            self.roles[uid] = role
            self.syntaxes[uid] = syntax
            name = w.HTML(f"<span>{compat._service_name(uid)}</span>", layout={"width": "330px"})
            rows.append(w.HBox([name, role, syntax]))
        self.table = w.HTML()
        self.status = w.HTML()
        self.status.add_class("medlab-compat-status")
        self.widget = w.VBox(
            [
                w.HTML(f"<b>{device.name}</b> (edit its capabilities)"),
                *rows,
                self.table,
                self.status,
            ]
        )
        self.widget.add_class("medlab-compat-editor")
        self.update()

    @property
    def device(self) -> compat.Conformance:
        """The device as currently edited."""
        device = self.original.copy()
        for uid, role in self.roles.items():
            roles = ROLES[role.value]
            if not roles:
                device.services.pop(uid, None)
                continue
            label = self.syntaxes[uid].value
            syntaxes = list(
                SYNTAX_SETS.get(label, self.original.services[uid]["transfer_syntaxes"])
            )
            device.services[uid] = {
                **device.services[uid],
                "roles": set(roles),
                "transfer_syntaxes": syntaxes,
            }
        return device

    def update(self) -> compat.Compatibility:
        """Re-run :func:`compat.compatible` with the edited device; refresh the table."""
        self.runs += 1
        self.result = compat.compatible(self.device, self.other)
        self.table.value = self.result._repr_html_()
        self.status.value = (
            f"<span>verdict #{self.runs}: {len(self.result.works)} will work, "
            f"{len(self.result.fails)} will not</span>"
        )
        return self.result

    def set(
        self, sop_class: str, *, role: str | None = None, syntaxes: str | None = None
    ) -> compat.Compatibility:
        """Change one service from code (``sop_class`` as UID or keyword)."""
        uid = compat.to_uid(sop_class)
        if role is not None:
            self.roles[uid].value = role
        if syntaxes is not None:
            self.syntaxes[uid].value = syntaxes
        return self.result

    def __repr__(self) -> str:
        return (
            f"CompatEditor({self.original.name} vs {self.other.name}: {len(self.roles)} service(s))"
        )


def compat_editor(
    device: compat.Conformance | dict, other: compat.Conformance | dict
) -> CompatEditor:
    """Return the editor for ``device`` checked against ``other`` (e.g. the PACS)."""
    if isinstance(device, dict):
        device = compat.Conformance.from_dict(device)
    if isinstance(other, dict):
        other = compat.Conformance.from_dict(other)
    return CompatEditor(device, other)


__all__ = ["ROLES", "SYNTAX_SETS", "CompatEditor", "compat_editor"]
