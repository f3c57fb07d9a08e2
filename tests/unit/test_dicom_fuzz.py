"""Fuzz: mutated DICOM files through every public function of medlab.dicom.

Seeded and bounded: 50 sample files (the course's built data and pydicom's
test files: implicit/explicit, big endian, deflated, compressed, SR, RT, SEG,
waveforms...), 8 mutations each (truncated, bytes flipped, ``DICM`` zeroed, a
huge length, random bytes inserted, the preamble cut, an empty file, a PNG
under a .dcm name), plus a folder where a file is expected. Each mutated file
goes to every function that takes a file or folder, and the data set pydicom
reads with ``force=True`` from two mutations of each file goes to every function
that takes a data set (values left raw until used, as pydicom does). Accepted outcomes: a result, or a
:class:`~medlab.MedlabError`. Anything else (a raw traceback for a trainee) fails
the test, listed with the function, the file and the mutation.

A folder operation (hierarchy, census, deidentify, scan_phi) over all the
mutated files must finish and name every file it skipped, with why.
"""

from __future__ import annotations

import random
import struct
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import medlab.dicom as md
from medlab import data, paths
from medlab.errors import MedlabError
from medlab.net.samples import shipped_sample_files

#: Mutated values make pydicom warn on almost every file; the verdicts are what counts here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SEED = 15
FILES = 50
MUTATIONS_PER_FILE = 8
MAX_SOURCE_BYTES = 100_000
#: The data-set functions, and the single-file calls of the folder operations (which also
#: run over the whole corpus in the folder test), get this many mutations of each file.
SOME_PER_FILE = 2
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fe0def46b80000000049454e44ae426082"
)
KNOWN = ["DOE^JANE", "CompressedSamples^CT1", "MRN123", "19700101"]


def _sources(rng: random.Random) -> list[Path]:
    built = sorted(p for p in paths.data_dir().rglob("*.dcm") if p.is_file())
    shipped = [p for p in shipped_sample_files() if p.stat().st_size <= MAX_SOURCE_BYTES]
    pool = sorted({*built[::3], *shipped}, key=str)
    return sorted(rng.sample(pool, min(FILES, len(pool))), key=str)


def _huge_length(raw: bytearray, rng: random.Random) -> None:
    """Set one element's length field to a huge value (an explicit-VR 4-byte length)."""
    for _ in range(200):
        pos = rng.randrange(132, max(133, len(raw) - 12))
        if (
            raw[pos + 4 : pos + 6] in (b"OB", b"OW", b"SQ", b"UN", b"UT")
            and raw[pos + 6 : pos + 8] == b"\0\0"
        ):
            raw[pos + 8 : pos + 12] = struct.pack(
                "<L", rng.choice([0xFFFFFFF0, 0x7FFFFFF0, 0x10000000])
            )
            return
    pos = rng.randrange(132, max(133, len(raw) - 8))
    raw[pos + 6 : pos + 8] = b"\xff\xfe"


def _mutate(raw: bytes, kind: str, rng: random.Random) -> bytes:
    out = bytearray(raw)
    if kind == "truncated":
        return bytes(out[: rng.randrange(0, len(out))])
    if kind == "flipped":
        for _ in range(rng.randint(1, 12)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == "zeroed_dicm":
        out[128:132] = b"\0\0\0\0"
        return bytes(out)
    if kind == "huge_length":
        _huge_length(out, rng)
        return bytes(out)
    if kind == "inserted":
        pos = rng.randrange(len(out))
        return bytes(out[:pos] + rng.randbytes(rng.randint(1, 9)) + out[pos:])
    if kind == "no_preamble":
        return bytes(out[132:])
    if kind == "empty":
        return b""
    if kind == "png":
        return PNG
    raise ValueError(kind)


KINDS = ["truncated", "flipped", "zeroed_dicm", "huge_length", "inserted", "no_preamble"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[tuple[Path, str, str]]:
    """(mutated file, source name, mutation) for every mutated copy, written to disk."""
    rng = random.Random(SEED)
    folder = tmp_path_factory.mktemp("fuzz")
    out = []
    for i, source in enumerate(_sources(rng)):
        raw = source.read_bytes()
        kinds = [rng.choice(KINDS) for _ in range(MUTATIONS_PER_FILE - 1)]
        kinds.append("empty" if i % 2 else "png")
        for j, kind in enumerate(kinds):
            path = folder / f"f{i:02d}_{j}_{kind}.dcm"
            path.write_bytes(_mutate(raw, kind, rng))
            out.append((path, source.name, kind))
    (folder / "a_folder.dcm").mkdir()
    out.append((folder / "a_folder.dcm", "(a folder)", "folder"))
    return out


def _file_calls(tmp: Path) -> dict[str, Callable[[Path], Any]]:
    return {
        "read": md.read,
        "read(force)": lambda p: md.read(p, force=True),
        "hexview": lambda p: md.hexview(p, limit=50),
        "hexview(force, lenient)": lambda p: md.hexview(p, force=True, strict=False, limit=50),
        "header_table": md.header_table,
        "private_blocks": md.private_blocks,
        "dicomdir(file)": md.dicomdir,
    }


def _some_file_calls(tmp: Path) -> dict[str, Callable[[Path], Any]]:
    return {
        "hierarchy(file)": md.hierarchy,
        "census([file])": lambda p: md.census([p]),
        "deidentify(file)": lambda p: md.deidentify(p, tmp / "deid-one" / p.name, key="k"),
        "scan_phi(file)": lambda p: md.scan_phi(p, KNOWN),
        "write_media([file])": lambda p: md.write_media([p], tmp / "media" / p.name),
    }


def _dataset_calls() -> dict[str, Callable[[Any], Any]]:
    return {
        "header_table(ds)": md.header_table,
        "private_blocks(ds)": md.private_blocks,
        "to_display": md.to_display,
        "stored_values": md.stored_values,
        "modality_values": md.modality_values,
        "create_gsps": md.create_gsps,
        "apply_presentation_state": md.apply_presentation_state,
        "sr_outline": md.sr_outline,
        "measurement_sr": lambda ds: md.measurement_sr(ds, diameter_mm=3.0),
        "rt_summary": md.rt_summary,
        "dose_grid": md.dose_grid,
        "ecg_leads": md.ecg_leads,
        "seg_masks": md.seg_masks,
        "deidentify(ds)": lambda ds: md.deidentify(ds, key="k"),
        "scan_phi(ds)": lambda ds: md.scan_phi(ds, KNOWN),
    }


def _force_read(path: Path):
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path, force=True)  # values stay raw until a function uses them
    except Exception:  # noqa: BLE001 - pydicom refused: nothing to feed the data-set functions
        return None


def _try(failures: list[str], label: str, call: Callable[[], Any]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except MedlabError as err:
        assert err.what and "Traceback" not in str(err), label
    except Exception as exc:  # noqa: BLE001 - the point of the test
        where = traceback.extract_tb(exc.__traceback__)[-1]
        failures.append(
            f"{label}: {type(exc).__name__}: {str(exc)[:120]} "
            f"[{Path(where.filename).name}:{where.lineno}]"
        )


def test_every_public_function_gives_a_result_or_a_medlab_error(corpus, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    started = time.monotonic()
    failures: list[str] = []
    file_calls = _file_calls(tmp_path)
    some_calls = _some_file_calls(tmp_path)
    dataset_calls = _dataset_calls()
    for path, source, kind in corpus:
        some = not path.is_file() or int(path.name[4]) < SOME_PER_FILE
        for name, call in {**file_calls, **(some_calls if some else {})}.items():
            _try(failures, f"{name} on {source} {kind}", lambda c=call, p=path: c(p))
        ds = _force_read(path) if some and path.is_file() else None
        if ds is None:
            continue
        for name, call in dataset_calls.items():
            _try(failures, f"{name} on {source} {kind}", lambda c=call, d=ds: c(d))
    elapsed = time.monotonic() - started
    assert failures == [], f"{len(failures)} raw errors:\n" + "\n".join(sorted(set(failures)))
    assert len(corpus) >= FILES * MUTATIONS_PER_FILE
    print(f"fuzz: {len(corpus)} mutated files in {elapsed:.1f} s")


def test_folder_operations_go_on_and_report_what_they_skipped(corpus, tmp_path):
    folder = corpus[0][0].parent
    files = [p for p, _s, _k in corpus if p.is_file()]
    tree = md.hierarchy(folder)
    unreadable = {p.uid for p in tree.problems if p.kind == "unreadable"}
    assert unreadable and all(
        "skipped" in p.message for p in tree.problems if p.kind == "unreadable"
    )

    df = md.census(folder)
    assert len(df) + len(df.attrs["skipped"]) == len(files)
    reasons = df.attrs["skipped_reasons"]
    assert set(reasons) == set(df.attrs["skipped"]) and all(reasons.values())

    report = md.deidentify(folder, tmp_path / "deid", key="k")
    assert report.skipped and len(report.written) + len(report.skipped) == len(files)
    assert all(why for _file, why in report.skipped)

    scan = md.scan_phi(folder, KNOWN)
    assert scan.files == len(files)


# ---- the cases of the issue, one by one ---------------------------------------------------
def _ct_copy(folder: Path, name: str, **changes: Any) -> Path:
    import pydicom

    ds = pydicom.dcmread(data.get_path("ct"))
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / name, enforce_file_format=True)
    return folder / name


def test_hierarchy_reports_a_multi_valued_series_number(tmp_path):
    _ct_copy(tmp_path, "a.dcm", SeriesNumber=[1, 2])
    tree = md.hierarchy(tmp_path)
    [problem] = [p for p in tree.problems if p.kind == "bad_value"]
    assert "Series Number" in problem.message and "not one integer" in problem.message


def test_census_skips_a_cut_deflated_file_and_says_why(tmp_path):
    from pydicom.data import get_testdata_file

    raw = Path(get_testdata_file("image_dfl.dcm")).read_bytes()
    (tmp_path / "cut.dcm").write_bytes(raw[: len(raw) // 2])
    _ct_copy(tmp_path, "good.dcm")
    df = md.census(tmp_path)
    assert len(df) == 1
    [(path, why)] = df.attrs["skipped_reasons"].items()
    assert path.endswith("cut.dcm") and "deflated" in why


def test_deidentify_folder_goes_on_and_a_single_file_raises(tmp_path):
    src = tmp_path / "src"
    _ct_copy(src, "good.dcm")
    raw = (src / "good.dcm").read_bytes()
    (src / "cut.dcm").write_bytes(raw[:3000])
    (src / "notes.dcm").write_bytes(PNG)
    report = md.deidentify(src, tmp_path / "out", key="k")
    assert len(report.written) == 1
    assert sorted(name for name, _why in report.skipped) == ["cut.dcm", "notes.dcm"]
    assert "truncated" in dict(report.skipped)["cut.dcm"]
    assert "Skipped cut.dcm" in repr(report)
    assert not list((tmp_path / "out").rglob(".deid-*"))  # no half-written file
    with pytest.raises(MedlabError, match="truncated"):
        md.deidentify(src / "cut.dcm", tmp_path / "one", key="k")


def test_a_force_read_data_set_with_a_bad_value_gives_a_medlab_error():
    import io

    import pydicom

    # (0028,0010) Rows, VR US, with a 3-byte value: pydicom reads it lazily with force=True
    # and fails only when the value is used (BytesLengthException).
    bare = b"\x08\x00\x60\x00CS\x02\x00CT\x28\x00\x10\x00US\x03\x00\x01\x02\x03\x00"
    ds = pydicom.dcmread(io.BytesIO(bare), force=True)
    for call in (lambda: md.deidentify(ds, key="k"), lambda: md.scan_phi(ds, KNOWN)):
        with pytest.raises(MedlabError, match="cannot be decoded") as err:
            call()
        assert err.value.fix
