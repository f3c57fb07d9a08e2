"""Exercises for lesson 04, UIDs and the information hierarchy (PS3.5 §9, PS3.3 §A.1.2)."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice

_VALID = "1.2.826.0.1.3680043.8.498.1.2"


def _duplicate(answer: Any) -> None:
    from medlab.dicom.hierarchy import course_uid

    if not isinstance(answer, str):
        raise WrongAnswer("Give the UID as text (a str), e.g. str(ds.SOPInstanceUID).")
    uid = answer.strip()
    if uid == course_uid("demo-instance", "broken", "mr", 1):
        return
    if uid in (course_uid("demo-study", "broken"), course_uid("demo-study", "broken", "other")):
        raise WrongAnswer(
            "That is a Study Instance UID: every file of a study shares it by design. The "
            "question is about the UID that must name one instance only."
        )
    if uid in {course_uid("demo-series", "broken", key) for key in ("ct1", "mr", "ct2")}:
        raise WrongAnswer(
            "That is a Series Instance UID: every file of a series shares it by design. The "
            "question is about the UID that must name one instance only."
        )
    if uid.startswith("1.2.840.10008."):
        raise WrongAnswer(
            "That UID is defined by the standard (a SOP class or transfer syntax): many files "
            "share it. Look at the SOP Instance UIDs."
        )
    if uid == course_uid("demo-instance", "clean", "mr", 1):
        raise WrongAnswer(
            "That UID comes from the clean study; the question is about the broken one."
        )
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
        wrong={
            "1.2.840.10008.01.2": "Look at each component between the dots: may one start "
            "with 0 when it is not 0 itself?",
            "1.2.3.4.5a": "Which characters may a UID contain?",
            "1.2..840.10008": "What is between the two dots that follow each other?",
        },
    ),
    hints=(
        "A component may be 0, but no other component may start with 0.",
        "medlab.dicom.uid_info(uid) checks a UID and says why it is invalid.",
    ),
    solution_code=f'answer = "{_VALID}"',
    wrong_code='answer = "1.2.840.10008.01.2"',
    wrong_answers=(
        'answer = "1.2.840.10008.01.2"  # looks official, has a leading zero',
        'answer = "1.2.3.4.5a"  # a letter',
        'answer = "1.2..840.10008"  # an empty component',
    ),
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
    wrong_answers=(
        "answer = str(pydicom.dcmread(folder / 'ct1_1.dcm').SOPInstanceUID)  # one file's UID",
        "answer = str(pydicom.dcmread(folder / 'ct1_1.dcm').StudyInstanceUID)  # shared by design",
        "answer = str(pydicom.dcmread(folder / 'mr_1.dcm').SeriesInstanceUID)  # shared by design",
        "answer = str(pydicom.dcmread(folder / 'ct1_1.dcm').SOPClassUID)  # the kind of object",
        "answer = medlab.dicom.course_uid('demo-instance', 'clean', 'mr', 1)  # the clean study",
    ),
)

ex3 = Exercise(
    id="04.3",
    title="Name that transfer syntax",
    question="What is the registered name of the transfer syntax 1.2.840.10008.1.2.4.90?",
    checker=expect_choice(
        "JPEG 2000 Image Compression (Lossless Only)",
        "Close, but not that one: UIDs under 1.2.840.10008 are listed with their names in PS3.6 Annex A. "
        "pydicom's UID(...).name looks them up.",
        accept=("JPEG2000Lossless",),  # pydicom's keyword for the same UID
        wrong={
            "JPEG 2000 Image Compression": "That is the name of its neighbour, .91, which may be "
            "lossy. Which of the two is reversible?",
            "1.2.840.10008.1.2.4.90": "That is the UID itself; the question asks for its "
            "registered name.",
        },
    ),
    hints=(
        "pydicom.uid.UID('1.2.840.10008.1.2.4.90').name",
        "JPEG 2000 has two transfer syntaxes: .90 and .91. Which one is reversible?",
    ),
    setup="from pydicom.uid import UID",
    solution_code="answer = UID('1.2.840.10008.1.2.4.90').name",
    wrong_code="answer = UID('1.2.840.10008.1.2.4.91').name",
    wrong_answers=(
        "answer = UID('1.2.840.10008.1.2.4.91').name  # the neighbouring UID",
        "answer = UID('1.2.840.10008.1.2.4.70').name  # another lossless JPEG",
        "answer = UID('1.2.840.10008.1.2.4.80').name  # JPEG-LS",
        "answer = '1.2.840.10008.1.2.4.90'  # the UID, not its name",
    ),
)
