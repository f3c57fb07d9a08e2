"""HL7 v2 for the course: parse, dissect, escape, acknowledge, MLLP and feeds.

HL7 version 2 messages are plain text: segments (lines) of fields separated by
the characters the message itself declares in MSH-1 and MSH-2. This room of
medlab adds what a lesson needs around the hl7apy library:

* :func:`parse` - tolerant reading of what real feeds send, into an hl7apy
  ``Message``; bad input becomes a :class:`~medlab.errors.MedlabError` that
  names the segment and field;
* :func:`dissect` - every segment, field, repetition, component and
  sub-component with its position, name and data type;
* :func:`escape` / :func:`unescape` - the ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\`` escape sequences;
* :func:`ack` - the acknowledgement (MSH + MSA) a receiver sends back;
* :class:`Listener` and :func:`send` - MLLP over TCP; :func:`start_listener` - the
  bundled listener, or the endpoint an instructor configured (:mod:`medlab.settings`);
* :func:`read_log` and :func:`summarize` - many messages from a file, fast;
* :func:`order_to_worklist` - an imaging order as a DICOM worklist item.

Everything is imported on first use: ``import medlab.hl7`` does not import
hl7apy, pydicom or ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "parse": "medlab.hl7.message",
    "normalize": "medlab.hl7.message",
    "er7": "medlab.hl7.message",
    "Delimiters": "medlab.hl7.message",
    "delimiters": "medlab.hl7.message",
    "validate": "medlab.hl7.message",
    "Finding": "medlab.hl7.message",
    "SUPPORTED_VERSIONS": "medlab.hl7.message",
    "dissect": "medlab.hl7.anatomy",
    "Dissection": "medlab.hl7.anatomy",
    "escape": "medlab.hl7.escaping",
    "unescape": "medlab.hl7.escaping",
    "ack": "medlab.hl7.acks",
    "Listener": "medlab.hl7.mllp",
    "send": "medlab.hl7.mllp",
    "frame": "medlab.hl7.mllp",
    "unframe": "medlab.hl7.mllp",
    "read_log": "medlab.hl7.log",
    "summarize": "medlab.hl7.log",
    "LogSummary": "medlab.hl7.log",
    "order_to_worklist": "medlab.hl7.orders",
    "schedule_order": "medlab.hl7.orders",
    "WORKLIST_MAPPING": "medlab.hl7.orders",
    "samples": "medlab.hl7.samples",
    "feed": "medlab.hl7.feed",
    "start_listener": "medlab.hl7.endpoint",
    "RemoteHL7": "medlab.hl7.endpoint",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from medlab.hl7 import samples  # noqa: F401
    from medlab.hl7.acks import ack  # noqa: F401
    from medlab.hl7.anatomy import Dissection, dissect  # noqa: F401
    from medlab.hl7.escaping import escape, unescape  # noqa: F401
    from medlab.hl7.log import LogSummary, read_log, summarize  # noqa: F401
    from medlab.hl7.message import (  # noqa: F401
        SUPPORTED_VERSIONS,
        Delimiters,
        Finding,
        delimiters,
        er7,
        normalize,
        parse,
        validate,
    )
    from medlab.hl7.mllp import Listener, frame, send, unframe  # noqa: F401
    from medlab.hl7.orders import WORKLIST_MAPPING, order_to_worklist, schedule_order  # noqa: F401


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'medlab.hl7' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    return module if name in ("samples", "feed") else getattr(module, name)


def __dir__() -> list[str]:
    return sorted(__all__)
