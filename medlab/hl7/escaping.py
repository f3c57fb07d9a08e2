"""Escape sequences: how a delimiter character travels inside a value.

HL7 v2.x Chapter 2, "Escape sequences supporting delimiter characters": a
value may not contain the message's delimiters literally, or a receiver would
split it. Each one is written as the escape character, a letter, and the
escape character again:

=========  ================================  ===============
sequence   stands for                        default char
=========  ================================  ===============
``\\F\\``    field separator                   ``|``
``\\S\\``    component separator               ``^``
``\\T\\``    sub-component separator           ``&``
``\\R\\``    repetition separator              ``~``
``\\E\\``    escape character                  ``\\``
``\\P\\``    truncation character (v2.7+)      ``#``
=========  ================================  ===============

So a department called "A&E" is sent as ``A\\T\\E``: a literal ``&`` would
start a new sub-component. Other sequences (``\\H\\`` highlighting, ``\\.br\\``
formatting, ``\\Xhh\\`` hexadecimal data) are left alone by :func:`escape`;
:func:`unescape` decodes ``\\Xhh..\\`` and keeps the formatting ones as they are.
"""

from __future__ import annotations

from medlab.hl7.message import DEFAULT_DELIMITERS, Delimiters


def _table(d: Delimiters) -> dict[str, str]:
    table = {d.field: "F", d.component: "S", d.subcomponent: "T", d.repetition: "R", d.escape: "E"}
    if d.truncation:
        table[d.truncation] = "P"
    return table


def escape(text: str, delimiters: Delimiters | None = None) -> str:
    """Return ``text`` with every delimiter replaced by its escape sequence.

    >>> escape("A&E")
    'A\\\\T\\\\E'
    >>> escape("50|50 ^ 1~2")
    '50\\\\F\\\\50 \\\\S\\\\ 1\\\\R\\\\2'
    """
    d = delimiters or DEFAULT_DELIMITERS
    table = _table(d)
    return "".join(f"{d.escape}{table[c]}{d.escape}" if c in table else c for c in text)


def unescape(text: str, delimiters: Delimiters | None = None) -> str:
    """Turn escape sequences back into the characters they stand for.

    Scans left to right (so ``\\E\\T\\E\\`` becomes ``\\T\\`` and not ``&``).
    Unknown or formatting sequences are kept verbatim; an escape character
    without its closing partner is kept as it is.

    >>> unescape("A\\\\T\\\\E")
    'A&E'
    """
    d = delimiters or DEFAULT_DELIMITERS
    back = {v: k for k, v in _table(d).items()}
    out: list[str] = []
    i = 0
    esc = d.escape
    while i < len(text):
        char = text[i]
        if char == esc:
            end = text.find(esc, i + 1)
            if end != -1:
                code = text[i + 1 : end]
                if code in back:
                    out.append(back[code])
                    i = end + 1
                    continue
                if code[:1] == "X" and len(code) > 1 and len(code) % 2 == 1:
                    try:
                        out.append(bytes.fromhex(code[1:]).decode("latin-1"))
                        i = end + 1
                        continue
                    except ValueError:
                        pass
                out.append(text[i : end + 1])  # \H\, \N\, \.br\ ... kept as they are
                i = end + 1
                continue
        out.append(char)
        i += 1
    return "".join(out)
