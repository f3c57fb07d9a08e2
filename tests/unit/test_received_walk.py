"""The struct walk of a received data set agrees with pydicom's reader (received.py).

Every stored instance is checked by ``_walk`` (little endian, in memory); it must
refuse exactly what :func:`scan_dataset` (pydicom's ``data_element_generator``)
refuses, and keep the same identifying elements, on every sample file and on
seeded mutations of them (cut short, flipped bytes, a huge length).
"""

from __future__ import annotations

import io
import random

import pytest
import support

from medlab.net.received import (
    DEFLATED_LE,
    EXPLICIT_VR_BE,
    IMPLICIT_VR_LE,
    _walk,
    dataset_offset,
    file_transfer_syntax,
    scan_dataset,
)

LITTLE_ENDIAN_UNCOMPRESSED = {IMPLICIT_VR_LE, "1.2.840.10008.1.2.1"}


def _cases() -> list[tuple[str, bytes, str]]:
    cases = []
    for path in support.sample_files():
        try:
            ts = file_transfer_syntax(path)
            offset, _ = dataset_offset(path)
        except Exception:  # noqa: BLE001 - no usable File Meta: not a case for the walk
            continue
        if ts in (EXPLICIT_VR_BE, DEFLATED_LE) or not ts:
            continue  # big endian: pydicom's reader; deflated: inflated first
        data = path.read_bytes()[offset:]
        if data:
            cases.append((path.name, data, ts))
    return cases


CASES = _cases()


def verdict(function, data: bytes, ts: str):
    """('ok', kept elements) or ('refused', None)."""
    try:
        ds = function(data, ts)
    except Exception:  # noqa: BLE001 - any refusal counts as a refusal
        return "refused", None
    return "ok", {int(tag): _value(elem.value) for tag, elem in ds.items()}


def _value(value):
    if value is None or isinstance(value, (bytes, memoryview)):
        return None if value is None else bytes(value)
    return repr(value)  # a sequence pydicom parsed


def by_walk(data: bytes, ts: str):
    return _walk(memoryview(data), ts == IMPLICIT_VR_LE)


def by_pydicom(data: bytes, ts: str):
    return scan_dataset(io.BytesIO(data), len(data), ts)


def test_there_are_cases_of_both_encodings():
    syntaxes = {ts for _name, _data, ts in CASES}
    assert len(CASES) > 100
    assert IMPLICIT_VR_LE in syntaxes and "1.2.840.10008.1.2.1" in syntaxes


@pytest.mark.parametrize(("name", "data", "ts"), CASES, ids=[c[0] for c in CASES])
def test_the_walk_agrees_with_pydicom_on_every_sample(name, data, ts):
    assert verdict(by_walk, data, ts) == verdict(by_pydicom, data, ts)


def test_the_walk_agrees_with_pydicom_on_mutations():
    rng = random.Random(15)
    plain = [c for c in CASES if c[2] in LITTLE_ENDIAN_UNCOMPRESSED]
    compared = refused = 0
    for _name, data, ts in rng.sample(plain, min(60, len(plain))):
        for _ in range(8):
            mutated = bytearray(data)
            kind = rng.choice(["cut", "flip", "length"])
            if kind == "cut":
                mutated = mutated[: rng.randrange(0, len(mutated))]
            elif kind == "flip":
                for _ in range(rng.randint(1, 4)):
                    mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
            else:
                at = rng.randrange(0, max(1, len(mutated) - 8)) & ~1
                mutated[at + 4 : at + 8] = b"\xf0\xff\xff\x7f"
            walked = verdict(by_walk, bytes(mutated), ts)
            assert walked == verdict(by_pydicom, bytes(mutated), ts), (kind, _name)
            compared += 1
            refused += walked[0] == "refused"
    assert compared >= 400 and refused > 50


@pytest.mark.parametrize("tail", [b"\x08", b"\x08\x00\x20\x00", b"\x08\x00\x20\x00DA\x08"])
def test_a_partial_element_header_at_the_end_is_refused_by_both(tail):
    """pydicom's reader stops quietly at fewer than 8 bytes; both checks refuse it."""
    name, data, ts = next(c for c in CASES if c[2] == "1.2.840.10008.1.2.1")
    assert verdict(by_walk, data, ts)[0] == "ok", name
    assert verdict(by_walk, data + tail, ts) == ("refused", None)
    assert verdict(by_pydicom, data + tail, ts) == ("refused", None)
