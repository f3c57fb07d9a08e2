"""Exercises for lesson 15, Capstone: one CT exam, every system."""

from __future__ import annotations

from typing import Any

from medlab.check._core import Exercise, WrongAnswer, expect_choice, normalise

_STEPS_HINT = "Answer with one of the step names in medlab.capstone.STEPS, e.g. 'store images'."


def _step_checker(correct: str, hints: dict[str, str], default: str):
    def checker(answer: Any) -> None:
        from medlab.capstone import STEPS

        steps = {normalise(step): step for step in STEPS}
        step = steps.get(normalise(answer)) if isinstance(answer, str) else None
        if step is None:
            raise WrongAnswer(_STEPS_HINT)
        if step != correct:
            raise WrongAnswer(hints.get(step, default))

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
            "needs its worklist first. Which is the modality's first association?",
            "register patient (ADT^A04)": "Registration is HL7 from the HIS to the RIS; the "
            "modality's DICOM settings play no part in it. Which step is the modality's first?",
            "order CT (ORM^O01)": "The order travels by HL7 to the RIS; the modality's DICOM "
            "settings play no part in it. Which step is the modality's first?",
            "MPPS in progress": "The modality calls the PACS before that, to learn what to do. "
            "Which association comes first?",
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
    wrong_answers=(
        'answer = "store images"',
        'answer = "register patient (ADT^A04)"  # the first step of all',
        'answer = "MPPS in progress"',
        'answer = "association rejected"  # what happened, not a step',
    ),
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
            "worklist query": "The worklist was right: the typo was made after it, at the console.",
            "radiologist retrieve": "The retrieve never gets its chance: what must the workstation "
            "find before it can retrieve anything?",
            "report (ORU^R01)": "The report comes after the reading. Did the radiologist get to "
            "read the study?",
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
    wrong_answers=(
        'answer = "store images"  # the PACS stores any valid value',
        'answer = "storage commitment"',
        'answer = "worklist query"',
        'answer = "radiologist retrieve"',
    ),
)

ex3 = Exercise(
    id="15.3",
    title="No MPPS",
    question="Without MPPS the images still reach the PACS and are committed, and the radiologist can "
    "read them. What does the department lose?",
    checker=expect_choice(
        "the RIS never learns that the exam was performed",
        "Look at what the N-CREATE and N-SET tell, and to whom: the images are safe either way.",
        wrong={
            "the exam stops at MPPS in progress": "Look at the whole result: which steps ran "
            "after the MPPS steps, and what does the department miss?",
        },
    ),
    hints=(
        "MPPS (PS3.4 Annex F) reports the state of the performed procedure step.",
        "Without it, the order stays 'scheduled' for billing, the reading list and the worklist.",
    ),
    solution_code='answer = "the RIS never learns that the exam was performed"',
    wrong_code='answer = "the images are not archived"',
    wrong_answers=(
        'answer = "the images are not archived"  # they are stored and committed',
        'answer = "the radiologist cannot retrieve the study"',
        'answer = "the exam stops at MPPS in progress"',
    ),
    choices=(
        "the images are not archived",
        "the RIS never learns that the exam was performed",
        "the radiologist cannot retrieve the study",
    ),
)
