"""Exercises for lesson 04, UIDs and the information hierarchy (PS3.5 §9, PS3.3 §A.1.2)."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice

_VALID = "1.2.826.0.1.3680043.8.498.1.2"


def _duplicate(answer: Any) -> None:
    from medlab.dicom.hierarchy import course_uid

    if not isinstance(answer, str):
        raise WrongAnswer("Give the UID as text (a str), e.g. str(ds.SOPInstanceUID).")
    if answer.strip() != course_uid("demo-instance", "broken", "mr", 1):
        raise WrongAnswer(
            "That UID is used by one file only. Count every file's SOP Instance UID "
            "(collections.Counter) and keep the one seen twice."
        )


ex1 = Exercise(
    id="04.1",
    title="Spot the valid UID",
    question="Which of these is a valid UID?",
    checker=expect_choice(
        _VALID,
        "Check each rule of PS3.5 §9.1: only digits and dots, no empty component, "
        "no component with a leading zero, at most 64 characters.",
    ),
    hints=(
        "A component may be 0, but no other component may start with 0.",
        "medlab.dicom.uid_info(uid) checks a UID and says why it is invalid.",
    ),
    solution_code=f'answer = "{_VALID}"',
    wrong_code='answer = "1.2.840.10008.01.2"',
    choices=("1.2.840.10008.01.2", _VALID, "1.2.3.4.5a", "1.2..840.10008"),
)

ex2 = Exercise(
    id="04.2",
    title="Find the duplicated instance",
    question="In the broken study (broken above), two files carry the same SOP Instance UID. Read "
    "the files with pydicom and give that UID as a str (hint: collections.Counter).",
    checker=_duplicate,
    hints=(
        "Read each file's SOPInstanceUID with pydicom (stop_before_pixels=True is enough).",
        "collections.Counter counts how often each UID appears.",
    ),
    setup=(
        "import collections\nimport pydicom\nimport medlab.dicom\nfrom medlab import paths\n"
        "folder = medlab.dicom.demo_study(paths.home() / 'lesson04' / 'broken_study', broken=True)"
    ),
    solution_code=(
        "uids = collections.Counter(str(pydicom.dcmread(p).SOPInstanceUID) for p in sorted(folder.glob('*.dcm')))\n"
        "answer = [uid for uid, n in uids.items() if n > 1][0]"
    ),
    wrong_code="answer = str(pydicom.dcmread(folder / 'ct1_1.dcm').SOPInstanceUID)",
)

ex3 = Exercise(
    id="04.3",
    title="Name that transfer syntax",
    question="What is the registered name of the transfer syntax 1.2.840.10008.1.2.4.90?",
    checker=expect_choice(
        "JPEG 2000 Image Compression (Lossless Only)",
        "Close, but not that one: UIDs under 1.2.840.10008 are listed with their names in PS3.6 Annex A. "
        "pydicom's UID(...).name looks them up.",
    ),
    hints=(
        "pydicom.uid.UID('1.2.840.10008.1.2.4.90').name",
        "JPEG 2000 has two transfer syntaxes: .90 and .91. Which one is reversible?",
    ),
    setup="from pydicom.uid import UID",
    solution_code="answer = UID('1.2.840.10008.1.2.4.90').name",
    wrong_code="answer = UID('1.2.840.10008.1.2.4.91').name",
)
