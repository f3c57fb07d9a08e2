"""The content of the DICOM lessons (01-11) and the capstone (15) after the review of issue 14.

Facts and citations that were wrong must not come back; topics that were missing stay taught;
steps that confused a trainee stay fixed; every exercise lists the misconceptions a trainee
holds, and each is rejected without giving the answer away.
"""

from __future__ import annotations

import json
import re

import pytest
import support

from medlab import MedlabError
from medlab.check import INCORRECT, registry

LESSONS = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "15")
EXERCISES = registry()
MINE = {k: ex for k, ex in EXERCISES.items() if ex.lesson in LESSONS}


def notebook(number: str) -> dict:
    (path,) = support.NOTEBOOKS.glob(f"{number}_*.ipynb")
    return json.loads(path.read_text(encoding="utf-8"))


def text(cell: dict) -> str:
    return "".join(cell["source"])


def markdown(number: str) -> str:
    return "\n".join(text(c) for c in notebook(number)["cells"] if c["cell_type"] == "markdown")


def outputs(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        parts.extend("".join(v) for v in out.get("data", {}).values() if isinstance(v, (str, list)))
        parts.append(str(out.get("evalue", "")))
    return "\n".join(parts)


def hints(ex_id: str) -> str:
    return "\n".join(EXERCISES[ex_id].hints)


# --- facts and citations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "wrong"),
    [
        ("06", "every DICOM object is a *composite* instance"),  # normalised IODs exist
        ("06", "Every DICOM object is a composite instance"),
        ("06", "A.19–A.21"),  # RT Dose is A.18; A.21 is RT Beams Treatment Record
        ("09", "lesson 11 onwards"),  # HL7 orders are lessons 12 and 13
        ("02", "always an even number of bytes"),  # only a defined length is
        ("03", "always even (PS3.5 §7.1.1)"),
        ("02", "Try a sequence item inside a sequence"),  # MR_small has no sequence
        ("05", "Images are thinned to at most 384 pixels"),  # read as if the data changed
        ("02", "§7.5 (the preamble and TIFF)"),  # PS3.10 §7.5 is security considerations
        ("15", 'Run it (`capstone.run_exam(h, called_aet="PACS")`)'),  # reused a stopped hospital
    ],
)
def test_wrong_text_does_not_come_back(number, wrong):
    assert wrong not in markdown(number)


def test_lesson06_names_normalised_iods_and_the_right_rt_sections():
    md = markdown("06")
    assert "PS3.3 Annex B" in md and "B.17" in md and "normalised" in md
    for section, iod in (("A.19", "RT Structure Set"), ("A.20", "RT Plan"), ("A.18", "RT Dose")):
        assert f"{section} {iod}" in md or f"{section} ({iod}" in md, section


def test_hints_cite_the_right_sections():
    assert "§10.1.3" in hints("09.1") and "§10.1.1" not in hints(
        "09.1"
    )  # N-SET, not N-EVENT-REPORT
    assert "F.5.2" in hints("11.3") and "F.5.3" not in hints("11.3")  # STUDY record, not SERIES
    assert "section 5" not in hints("07.3") and "section 7" in hints("07.3")


def test_lesson10_stored_output_shows_a_real_port():
    for cell in notebook("10")["cells"]:
        assert not re.search(r"127\.0\.0\.1:0\b", outputs(cell)), outputs(cell)


def test_lesson07_explains_pdu_words_before_using_them_and_times_the_wait_right():
    cells = [text(c) for c in notebook("07")["cells"] if c["cell_type"] == "markdown"]
    for word in ("PDU", "P-DATA-TF", "ARTIM"):
        first = next(c for c in cells if word in c)
        assert f"**{word}**" in first, f"{word} is used before it is explained"
    md = "\n".join(cells)
    assert "PS3.8 §9.1.5" in md and "sets no timer" in md  # ARTIM is not the wait for the AC
    assert "(ARTIM timer)" not in md


# --- topics that were missing ------------------------------------------------------------


def test_undefined_length_and_delimiters_are_taught_and_shown():
    md = markdown("02")
    for needed in ("FFFFFFFFH", "(FFFE,E000)", "(FFFE,E00D)", "(FFFE,E0DD)", "PS3.5 §7.5"):
        assert needed in md, needed
    shown = "\n".join(outputs(c) for c in notebook("02")["cells"])
    assert "Item Delimitation Item" in shown and "Sequence Delimitation Item" in shown
    assert "undefined length" in shown and "FF FF FF FF" in shown
    assert "FFFFFFFFH" in markdown("03")


def test_maximum_pdu_length_is_explained_and_measured():
    md = markdown("07")
    assert "Annex D.1" in md and "Annex E" in md and "fragment" in md
    code = "\n".join(text(c) for c in notebook("07")["cells"] if c["cell_type"] == "code")
    assert "maximum_length" in code
    shown = "\n".join(outputs(c) for c in notebook("07")["cells"])
    assert re.search(r"MEDLAB receives P-DATA-TF of at most \d+ bytes", shown)


# --- answers not given away ----------------------------------------------------------------


def test_lesson05_asks_for_a_pixel_the_lesson_does_not_print():
    from medlab.check import lesson05

    assert lesson05.PIXEL != (256, 256)  # the lesson prints the centre pixel's HU
    row, column = lesson05.PIXEL
    code = "\n".join(text(c) for c in notebook("05")["cells"] if c["cell_type"] == "code")
    assert f"[{row}, {column}]" not in code
    assert f"row {row}, column {column}" in markdown("05")


def test_lesson03_asks_for_a_length_no_cell_shows():
    from medlab.check import lesson03

    cells = notebook("03")["cells"]
    for cell in cells:
        assert lesson03.NAME not in outputs(cell)
    assert lesson03.NAME in markdown("03")


# --- steps that confused a trainee ----------------------------------------------------------


@pytest.mark.parametrize("number", LESSONS)
def test_exercise_cells_import_what_they_use(number):
    """After a kernel restart an exercise cell must still run (no NameError)."""
    for cell in notebook(number)["cells"]:
        source = text(cell)
        if cell["cell_type"] == "code" and re.search(rf"\blesson{number}\.ex\d", source):
            assert f"from medlab.check import lesson{number}" in source, source


@pytest.mark.parametrize("path", sorted(support.NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_cells_that_fail_on_purpose_say_so(path):
    """Every lesson: a cell that shows an error on purpose tells the trainee so."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = text(cell)
        if "NBVAL_RAISES_EXCEPTION" in source:
            assert "on purpose" in source, source


def test_lesson11_demos_keep_their_own_folders():
    sources = [text(c) for c in notebook("11")["cells"] if c["cell_type"] == "code"]
    failing = next(s for s in sources if "cd_try" in s)
    working = next(s for s in sources if 'fileset_id="TEACH11"' in s)
    failing_folder = re.search(r'"lesson11" / "(\w+)"', failing).group(1)
    assert f'"{failing_folder}"' not in working  # step 12 must not fill step 11's folder


def test_media_advice_names_the_element_that_is_missing(tmp_path):
    import medlab.data
    import medlab.dicom
    from medlab.dicom import deid

    teaching = deid.Profile.basic(
        date_shift_days=-100, replace={"PatientName": "TEACHING^CASE", "PatientID": "TF0011"}
    )
    copies = tmp_path / "copies"
    medlab.dicom.deidentify(medlab.data.study("deid_private"), copies, teaching, key="t")
    with pytest.raises(MedlabError) as err:
        medlab.dicom.write_media(copies, tmp_path / "cd")
    assert "Study ID (0020,0010)" in err.value.fix and "PS3.3 F.5.2" in err.value.fix
    assert "Study Date" not in err.value.fix
    assert not (tmp_path / "cd" / "DICOMDIR").exists()


def test_lesson15_runs_the_broken_exams_on_fresh_hospitals_and_shows_the_steps():
    sources = [text(c) for c in notebook("15")["cells"] if c["cell_type"] == "code"]
    assert "capstone.STEPS" in sources
    ready = next(s for s in sources if "called_aet=" in s)
    assert ready.count("with capstone.Hospital() as h:") == 3
    for name in ("wrong_aet", "typo", "no_mpps"):
        assert name in ready


# --- every exercise: misconceptions rejected, nothing given away ----------------------------


def test_every_exercise_lists_at_least_three_misconceptions():
    assert {ex.lesson for ex in MINE.values()} == set(LESSONS)
    for ex_id, ex in MINE.items():
        assert len(ex.wrong_answers) >= 3, ex_id


def _answer_texts(right) -> list[str]:
    if isinstance(right, bool):
        return []
    if isinstance(right, int):
        return [str(right), f"0x{right:04x}"] if right > 99 else []
    if isinstance(right, float):
        return [f"{right:g}"] if abs(right) > 99 or right != int(right) else []
    if isinstance(right, (bytes, str)):
        return [str(right)] if len(right) > 1 else []
    return [str(right)]


@pytest.mark.parametrize(
    ("ex_id", "code"), [(k, code) for k, ex in MINE.items() for code in ex.wrong_answers]
)
def test_a_misconception_is_rejected_without_the_answer(ex_id, code):
    ex = MINE[ex_id]
    right = ex.run_code(ex.solution_code)
    verdict = ex.judge(ex.run_code(code))
    assert verdict.outcome == INCORRECT, (code, verdict)
    for shown in _answer_texts(right):
        assert shown.casefold() not in verdict.message.casefold(), (code, verdict.message)
