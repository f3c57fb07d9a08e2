"""Exercises for lesson 02, The DICOM file, byte by byte (PS3.10 §7, PS3.5 §7)."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice


def _dataset_start(answer: Any) -> None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongAnswer("Give the offset as a whole number of bytes (an int), counting from 0.")
    if answer == 322:
        raise WrongAnswer(
            "Close: the group length counts the bytes *after* its own element. Add the size of the "
            "(0002,0000) element itself (tag 4 + VR 2 + length 2 + value 4 bytes)."
        )
    if answer in (190, 202):
        raise WrongAnswer(
            "That is only the size of the File Meta Information; the file does not start with it."
        )
    if answer == 132:
        raise WrongAnswer(
            "That is where the File Meta Information begins. The question asks where it ends."
        )
    if answer == 330:
        raise WrongAnswer(
            "Almost: (0002,0000) is a UL element in Explicit VR, so it is tag 4 + VR 2 + length 2 "
            "+ value 4 bytes long."
        )
    if answer == 335:
        raise WrongAnswer("Offsets count from 0: the first byte of the file is byte 0.")
    if answer != 334:
        raise WrongAnswer(
            "Add up: preamble, 'DICM', the whole (0002,0000) element, and the group length's value. "
            "The hex view prints the offset of every element: check your sum against it."
        )


def _tag_bytes(answer: Any) -> None:
    if not isinstance(answer, (bytes, bytearray)):
        raise WrongAnswer("Give a bytes literal such as b'\\x01\\x02\\x03\\x04' (4 bytes).")
    answer = bytes(answer)
    if len(answer) != 4:
        raise WrongAnswer(f"A tag takes exactly 4 bytes in the file; you gave {len(answer)}.")
    if answer == b"\x00\x28\x00\x10":
        raise WrongAnswer(
            "That is the Big Endian order. In Little Endian each 16-bit number is written low byte first."
        )
    if answer in (b"\x10\x00\x28\x00", b"\x00\x10\x00\x28"):
        raise WrongAnswer("The group number comes first, then the element number.")
    if answer in (b"\x28\x00\x11\x00", b"\x28\x00\x00\x10"):
        raise WrongAnswer(
            "That tag is another element of group 0028: check the element number, and that each "
            "half is written low byte first."
        )
    if answer != b"\x28\x00\x10\x00":
        raise WrongAnswer(
            "Rows is (0028,0010): write the group as 2 bytes, then the element as 2 bytes, each low byte first."
        )


ex1 = Exercise(
    id="02.1",
    title="Where does the data set start?",
    question="In MR_small.dcm (ds above), at which byte offset does the first element after the File"
    " Meta Information begin? Compute it from ds.file_meta.FileMetaInformationGroupLength "
    "(an int), then check it against the hex view.",
    checker=_dataset_start,
    hints=(
        "The File Meta Information starts at byte 132, after the preamble and 'DICM'.",
        "(0002,0000) is itself an element of 12 bytes; its value counts the bytes of group 0002 that follow it.",
    ),
    setup="import pydicom\nimport medlab.data\nds = pydicom.dcmread(medlab.data.get_path('mr'))",
    solution_code="answer = 128 + 4 + 12 + ds.file_meta.FileMetaInformationGroupLength",
    wrong_code="answer = 128 + 4 + ds.file_meta.FileMetaInformationGroupLength",
    wrong_answers=(
        "answer = 128 + 4 + ds.file_meta.FileMetaInformationGroupLength  # its own element left out",
        "answer = ds.file_meta.FileMetaInformationGroupLength  # the group length alone",
        "answer = 128 + 4  # where group 0002 starts",
        "answer = 128 + 4 + 8 + ds.file_meta.FileMetaInformationGroupLength  # header of 8 bytes",
        "answer = 128 + 4 + 12 + ds.file_meta.FileMetaInformationGroupLength + 1  # from 1",
    ),
)

ex2 = Exercise(
    id="02.2",
    title="Byte order of the File Meta Information",
    question="MR_small_bigendian.dcm uses Explicit VR Big Endian. Are the elements of group 0002 in "
    'that file written "little" or "big" endian?',
    checker=expect_choice(
        "little",
        "Look at the tag bytes of (0002,0010) in the hex view of the big-endian file: which byte comes first, 02 or 00?",
        normalise=lambda t: t.replace(" endian", "").replace("-endian", ""),
        wrong={
            "same as the data set": "The data set follows the transfer syntax. Can a reader know "
            "the transfer syntax before it has read group 0002?",
        },
    ),
    hints=(
        "The transfer syntax applies to the data set; the File Meta Information has a fixed encoding (PS3.10 §7.1).",
        "A reader must be able to read (0002,0010) before it knows the transfer syntax.",
    ),
    solution_code='answer = "little"',
    wrong_code='answer = "big"',
    wrong_answers=(
        'answer = "big"  # the data set\'s byte order',
        'answer = "Big Endian"',
        'answer = "same as the data set"',
    ),
    choices=("little", "big"),
)

ex3 = Exercise(
    id="02.3",
    title="A tag, byte by byte",
    question="Write the 4 bytes that encode the tag (0028,0010) Rows in a Little Endian data set, as"
    ' a bytes literal such as b"\\x01\\x02\\x03\\x04".',
    checker=_tag_bytes,
    hints=(
        "A tag is two 16-bit unsigned numbers: the group, then the element.",
        "Little Endian writes the least significant byte first: 0x0028 becomes 28 00.",
    ),
    solution_code='answer = b"\\x28\\x00\\x10\\x00"',
    wrong_code='answer = b"\\x00\\x28\\x00\\x10"',
    wrong_answers=(
        'answer = b"\\x00\\x28\\x00\\x10"  # big endian',
        'answer = b"\\x10\\x00\\x28\\x00"  # element first',
        'answer = b"\\x28\\x00\\x11\\x00"  # the neighbouring tag, Columns',
        'answer = b"\\x28\\x10"  # two bytes',
        'answer = "28 00 10 00"  # text, not bytes',
    ),
)
