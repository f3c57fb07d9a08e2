"""Retrieve SCP: C-GET and C-MOVE, with C-STORE sub-operations (PS3.4 C.4.2, C.4.3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from medlab.net import uids
from medlab.net.config import PACSConfig
from medlab.net.query import QueryError, instances_for
from medlab.net.server.engine import failure

if TYPE_CHECKING:
    from pydicom import Dataset

    from medlab.net.store import Store


class RetrieveService:
    """C-GET and C-MOVE handlers of :class:`~medlab.net.server.PACS`."""

    store: Store | None
    config: PACSConfig
    _build_context: Callable[..., Any]
    _identifier: Callable[[Any], Dataset]  # FindService
    _notification_handlers: Callable[[], list]  # PACS

    def _retrieve_list(self, event: Any) -> tuple[list[tuple[str, str, str]] | None, Any]:
        sop_class = str(event.request.AffectedSOPClassUID)
        try:
            identifier = self._identifier(event)
            return instances_for(self.store, uids.QR_MODEL[sop_class], identifier), None  # type: ignore[arg-type]
        except QueryError as err:
            return None, failure(err.status, err.comment)
        except Exception as err:  # noqa: BLE001
            return None, failure(0xC000, f"Cannot process the identifier: {err}")

    def _on_get(self, event: Any) -> Iterator[Any]:
        """C-GET: C-STORE sub-operations back over the same association (PS3.4 C.4.3)."""
        found, fail = self._retrieve_list(event)
        if found is None:
            # A failure can only follow the sub-operation count in pynetdicom's
            # C-GET protocol; 1 keeps it from answering an early Success.
            yield 1
            yield fail
            return
        yield len(found)
        yield from self._sub_operations(event, found)

    def _on_move(self, event: Any) -> Iterator[Any]:
        """C-MOVE: C-STORE sub-operations on a new association to a known peer (PS3.4 C.4.2)."""
        destination = str(event.move_destination or "").strip()
        if destination not in self.config.peers:
            # pynetdicom answers 0xA801 "Move Destination unknown" (PS3.4 C.4.2.1.4).
            yield None, None
            return
        found, fail = self._retrieve_list(event)
        host, port = self.config.peers[destination]
        if found is None:
            yield host, port
            yield 1
            yield fail
            return
        contexts = self._contexts_for(found)
        yield (
            host,
            port,
            {
                "contexts": contexts,
                "evt_handlers": self._notification_handlers(),
                "max_pdu": self.config.max_pdu,
            },
        )
        yield len(found)
        yield from self._sub_operations(event, found)

    def _contexts_for(self, found: list[tuple[str, str, str]]) -> list[Any]:
        """Presentation contexts to propose for sending ``found`` (≤ 128, PS3.8 §9.3.2.2)."""
        by_class: dict[str, list[str]] = {}
        for _path, sop_class, ts in found:
            syntaxes = by_class.setdefault(sop_class, [])
            if ts not in syntaxes:
                syntaxes.append(ts)
        contexts = []
        for sop_class, syntaxes in by_class.items():
            for ts in syntaxes:
                contexts.append(self._build_context(sop_class, [ts]))
        return contexts[:128]

    def _sub_operations(self, event: Any, found: list[tuple[str, str, str]]) -> Iterator[Any]:
        import pydicom

        for path, _sop_class, _ts in found:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            try:
                ds = pydicom.dcmread(path)
            except Exception:  # noqa: BLE001 - counted as a failed sub-operation
                ds = None
            yield 0xFF00, ds
