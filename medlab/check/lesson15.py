"""Exercises for lesson 15, Capstone: one CT exam, every system."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice

_STEPS_HINT = "Answer with one of the step names in medlab.capstone.STEPS, e.g. 'store images'."


def _step_checker(correct: str, hints: dict[str, str], default: str):
    def checker(answer: Any) -> None:
        from medlab.capstone import STEPS

        if not isinstance(answer, str) or answer.strip() not in STEPS:
            raise WrongAnswer(_STEPS_HINT)
        if answer.strip() != correct:
            raise WrongAnswer(hints.get(answer.strip(), default))

    return checker


_SETUP = "from medlab import capstone\n"

ex1 = Exercise(
    id="15.1",
    title="A wrong AE title",
    question="The modality is configured to call the PACS 'PACS' instead of its real AE title. At which "
    "step does the exam stop? Give the step name.",
    checker=_step_checker(
        "worklist query",
        {
            "store images": "Something happens on the network before the images are made: the modality "
            "needs its worklist first. Which is the modality's first association?"
        },
        "Run capstone.run_exam with called_aet='PACS' and read where it stopped, and the reason.",
    ),
    hints=(
        "The HL7 messages do not involve the modality's DICOM configuration.",
        "The PACS answers an A-ASSOCIATE-RQ for an unknown Called AE Title with an A-ASSOCIATE-RJ.",
    ),
    setup=_SETUP,
    solution_code="with capstone.Hospital() as h:\n"
    "    answer = capstone.run_exam(h, called_aet='PACS').stopped_at",
    wrong_code='answer = "store images"',
)

ex2 = Exercise(
    id="15.2",
    title="A typo in the patient ID",
    question="The technologist overrides the worklist and types MLB-10234 instead of MLB-100234. "
    "Which step is the first to fail? Give the step name.",
    checker=_step_checker(
        "radiologist query",
        {
            "store images": "The PACS stores whatever it receives: a wrong Patient ID is still a valid "
            "value. Who looks for the study by the patient's ID?",
            "storage commitment": "Storage commitment is about SOP Instance UIDs, not patient IDs: it "
            "succeeds. Keep going.",
        },
        "Run capstone.run_exam with patient_id='MLB-10234' and read where it stopped.",
    ),
    hints=(
        "Every DICOM service between modality and PACS still succeeds.",
        "The radiologist searches by the ID the order (and the RIS) knows.",
    ),
    setup=_SETUP,
    solution_code="with capstone.Hospital() as h:\n"
    "    answer = capstone.run_exam(h, patient_id='MLB-10234').stopped_at",
    wrong_code='answer = "store images"',
)

ex3 = Exercise(
    id="15.3",
    title="No MPPS",
    question="Without MPPS the images still reach the PACS and are committed, and the radiologist can "
    "read them. What does the department lose?",
    checker=expect_choice(
        "the RIS never learns that the exam was performed",
        "Look at what the N-CREATE and N-SET tell, and to whom: the images are safe either way.",
    ),
    hints=(
        "MPPS (PS3.4 Annex F) reports the state of the performed procedure step.",
        "Without it, the order stays 'scheduled' for billing, the reading list and the worklist.",
    ),
    solution_code='answer = "the RIS never learns that the exam was performed"',
    wrong_code='answer = "the images are not archived"',
    choices=(
        "the images are not archived",
        "the RIS never learns that the exam was performed",
        "the radiologist cannot retrieve the study",
    ),
)
