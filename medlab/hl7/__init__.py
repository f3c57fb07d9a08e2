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

Everything is imported on first use through a module ``__getattr__`` (PEP 562):
``import medlab.hl7`` does not import hl7apy, pydicom or ipywidgets. To add a name, add
one line to ``_EXPORTS`` and one to the ``TYPE_CHECKING`` block; a name that is the
submodule itself (``samples``, ``feed``) maps to that submodule.
"""

# ruff: noqa: F401 - the TYPE_CHECKING imports are for IDEs; __all__ is built from _EXPORTS

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
    from medlab.hl7 import feed, samples
    from medlab.hl7.acks import ack
    from medlab.hl7.anatomy import Dissection, dissect
    from medlab.hl7.endpoint import RemoteHL7, start_listener
    from medlab.hl7.escaping import escape, unescape
    from medlab.hl7.log import LogSummary, read_log, summarize
    from medlab.hl7.message import (
        SUPPORTED_VERSIONS,
        Delimiters,
        Finding,
        delimiters,
        er7,
        normalize,
        parse,
        validate,
    )
    from medlab.hl7.mllp import Listener, frame, send, unframe
    from medlab.hl7.orders import WORKLIST_MAPPING, order_to_worklist, schedule_order


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use, and keep the value."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | {n for n in globals() if not n.startswith("_")})
