"""The report of :func:`~medlab.dicom.deid.deidentify`: every change, the files written, the images to check."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medlab.dicom.deid_profile import Profile


@dataclass(frozen=True)
class Change:
    """One attribute changed in one file: where, which, the action and the values."""

    file: str
    path: str  # "(0010,0010)" or "(0010,1002)[0](0010,0020)"
    keyword: str
    action: str  # D Z X U K(shift) C, or "X (private)"
    old: str
    new: str


@dataclass
class DeidReport:
    """What :func:`deidentify` did: every change, the files written, the images to check.

    It holds the *original* values (``old``): keep the report with the
    originals, never ship it with the de-identified copies.
    """

    profile: Profile
    changes: list[Change] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    datasets: list[Any] = field(default_factory=list)
    burned_in: list[str] = field(default_factory=list)  # files whose pixels may carry text
    out: Path | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why) in a folder

    @property
    def dataset(self) -> Any:
        """The de-identified data set (for a single input)."""
        return self.datasets[0] if self.datasets else None

    def count_by_action(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        return dict(sorted(counts.items()))

    def for_file(self, name: str) -> list[Change]:
        return [c for c in self.changes if c.file == name]

    def to_frame(self):
        """The changes as a pandas DataFrame (one row per changed attribute)."""
        import pandas as pd

        return pd.DataFrame(
            [c.__dict__ for c in self.changes],
            columns=["file", "path", "keyword", "action", "old", "new"],
        )

    def _first_file_rows(self) -> list[Change]:
        first = self.changes[0].file if self.changes else ""
        return [c for c in self.changes if c.file == first]

    def __repr__(self) -> str:
        files = sorted({c.file for c in self.changes})
        head = (
            f"De-identified {len(files)} file(s) with {self.profile.method_text()}: "
            f"{len(self.changes)} attribute changes {self.count_by_action()}"
        )
        rows = self._first_file_rows()
        lines = [head, f"Changes in {rows[0].file}:" if rows else "No changes."]
        lines += [
            f"  {c.action:<12} {c.path:<28} {c.keyword[:40]:<40} {_short(c.old)!r} -> {_short(c.new)!r}"
            for c in rows
        ]
        if self.burned_in:
            lines.append(
                f"Check the pixels (Burned In Annotation YES or absent): {', '.join(self.burned_in)}"
            )
        lines += [f"Skipped {name}: {why}" for name, why in self.skipped]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self._first_file_rows()
        body = "".join(
            f"<tr><td>{html.escape(c.action)}</td><td><code>{html.escape(c.path)}</code></td>"
            f"<td>{html.escape(c.keyword)}</td><td>{html.escape(_short(c.old))}</td>"
            f"<td>{html.escape(_short(c.new))}</td></tr>"
            for c in rows
        )
        files = sorted({c.file for c in self.changes})
        warn = (
            f"<p><b>Check the pixels</b> (Burned In Annotation YES or absent): "
            f"{html.escape(', '.join(self.burned_in))}</p>"
            if self.burned_in
            else ""
        )
        warn += "".join(
            f"<p><b>Skipped</b> {html.escape(name)}: {html.escape(why)}</p>"
            for name, why in self.skipped
        )
        return (
            f'<div class="medlab-deid"><p>De-identified <b>{len(files)}</b> file(s) with '
            f"{html.escape(self.profile.method_text())}: <b>{len(self.changes)}</b> attribute "
            f"changes {html.escape(str(self.count_by_action()))}</p>{warn}"
            f"<p>Changes in {html.escape(rows[0].file) if rows else '-'}:</p>"
            "<table><thead><tr><th>Action</th><th>Tag</th><th>Attribute</th><th>Before</th>"
            f"<th>After</th></tr></thead><tbody>{body}</tbody></table></div>"
        )


def _short(text: str, width: int = 34) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
