"""Verification SCP: C-ECHO (PS3.4 Annex A)."""

from __future__ import annotations

from typing import Any


class VerificationService:
    """C-ECHO handler of :class:`~medlab.net.server.PACS`."""

    def _on_echo(self, event: Any) -> int:
        """C-ECHO: always 0x0000 Success (PS3.4 A.4)."""
        return 0x0000
