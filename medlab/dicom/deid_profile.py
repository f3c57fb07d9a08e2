"""PS3.15 Table E.1-1 as data: the Basic Profile's action per attribute, and its options.

Table E.1-1 gives one *action* per attribute (PS3.15 E.1.1, "Action Codes"):

====  =====================================================================
D     replace with a non-zero length dummy value consistent with the VR
Z     replace with a zero length value (or a dummy value consistent with the VR)
X     remove
K     keep (unchanged for non-sequences, cleaned for sequences)
C     clean: replace identifying text with values of similar meaning
U     replace with a non-zero length UID that is internally consistent
      within a set of instances
====  =====================================================================

Combined codes depend on the attribute's Type in the IOD: ``Z/D`` is Z unless
D is needed to stay conformant (Type 1); ``X/Z`` is X unless Z is needed
(Type 2); ``X/D`` is X unless D is needed (Type 1); ``X/Z/D`` is X unless Z
or D is needed (Type 2 or 1); ``X/Z/U*`` is X unless Z or a replacement of
the UIDs inside is needed.

Private attributes are removed (PS3.15 E.3.10 describes the Retain Safe
Private Option that keeps elements known to be safe), and so are overlays and
curves (groups 60xx and 50xx). The profile's options (PS3.15 E.3) that
:class:`Profile` implements:

* **Retain Safe Private** (E.3.10): keep the private elements you list as safe;
* **Retain UIDs** (E.3.9): keep the original UIDs;
* **Retain Longitudinal Temporal Information with Modified Dates** (E.3.6):
  shift every date by the same number of days instead of removing it, so
  intervals between studies survive;
* **Retain Patient Characteristics** (E.3.7): keep sex, age, size, weight...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from medlab.errors import MedlabError

# --------------------------------------------------------------------------- Table E.1-1
# PS3.15 (2023 editions), Table E.1-1 "Application Level Confidentiality Profile
# Attributes", column "Basic Prof.": action -> attribute keywords (pydicom's data
# dictionary gives the tag, name and VR). Not every row of the standard's table
# is here, but every identifying attribute of the course's samples and the
# standard's main list (patient, visit, physicians, institution, device,
# dates and times, free text, UIDs, RT, SR and clinical-trial attributes).
_TABLE_TEXT = {
    "D": """
        ContentCreatorName PersonName VerifyingObserverName VerifyingObserverSequence
        VerifyingOrganization ClinicalTrialSponsorName ClinicalTrialProtocolID
        ClinicalTrialSubjectID ClinicalTrialSubjectReadingID ClinicalTrialProtocolEthicsCommitteeName
        GraphicAnnotationSequence PersonIdentificationCodeSequence RTPlanLabel
        StructureSetLabel SpecimenIdentifier ContainerIdentifier Date DateTime Time
        ObservationDateTime VerificationDateTime ReferencedDateTime
        XRayDetectorID XRaySourceID DeviceLabel EntityLabel EntityLongLabel
        CertificateOfSigner DigitalSignatureDateTime
    """,
    "Z": """
        AccessionNumber PatientName PatientID PatientBirthDate PatientSex
        ReferringPhysicianName StudyDate StudyTime StudyID
        PlacerOrderNumberImagingServiceRequest FillerOrderNumberImagingServiceRequest
        ConsultingPhysicianName ClinicalTrialProtocolName ClinicalTrialSiteID
        ClinicalTrialSiteName ClinicalTrialTimePointID ClinicalTrialCoordinatingCenterName
        ROIName ROIInterpreter StructureSetDate StructureSetTime ReviewDate ReviewTime
        VerifyingObserverIdentificationCodeSequence CalibrationDateTime
        IssuerOfTheSpecimenIdentifierSequence IssuerOfTheContainerIdentifierSequence
        SpecimenPreparationSequence
    """,
    "X": """
        AcquisitionComments AcquisitionProtocolDescription ActualHumanPerformersSequence
        AdditionalPatientHistory AdmissionID AdmittingDate AdmittingDiagnosesCodeSequence
        AdmittingDiagnosesDescription AdmittingTime Allergies Arbitrary AuthorObserverSequence
        BranchOfService CassetteID CommentsOnThePerformedProcedureStep
        CommentsOnRadiationDose ConfidentialityConstraintOnPatientDataDescription
        ConsultingPhysicianIdentificationSequence ContentSequence ContrastBolusStartTime
        ContrastBolusStopTime CountryOfResidence CurrentPatientLocation CurveDate CurveTime
        CustodialOrganizationSequence DataSetTrailingPadding DateOfLastCalibration
        DateOfSecondaryCapture DerivationDescription DigitalSignaturesSequence
        DischargeDate DischargeDiagnosisDescription DischargeTime DistributionAddress
        DistributionName EthnicGroup FrameComments GantryID GeneratorID
        HumanPerformerName HumanPerformerOrganization IconImageSequence IdentifyingComments
        ImageComments ImagePresentationComments ImagingServiceRequestComments Impressions
        InstanceCoercionDateTime InstitutionAddress InstitutionalDepartmentName
        InstitutionalDepartmentTypeCodeSequence InsurancePlanIdentification
        IntendedRecipientsOfResultsIdentificationSequence InterpretationApproverSequence
        InterpretationAuthor InterpretationDiagnosisDescription InterpretationIDIssuer
        InterpretationRecorder InterpretationText InterpretationTranscriber
        IssueDateOfImagingServiceRequest IssueTimeOfImagingServiceRequest
        IssuerOfAdmissionIDSequence IssuerOfPatientID IssuerOfServiceEpisodeIDSequence
        LastMenstrualDate MAC MedicalAlerts MedicalRecordLocator MilitaryRank
        ModifiedAttributesSequence ModifiedImageDescription ModifyingDeviceID
        NamesOfIntendedRecipientsOfResults NetworkID OriginalAttributesSequence
        Occupation OrderCallbackPhoneNumber OrderCallbackTelecomInformation OrderEnteredBy
        OrderEntererLocation OtherPatientIDs OtherPatientIDsSequence OtherPatientNames
        OverlayDate OverlayTime ParticipantSequence PatientAge PatientAddress
        PatientBirthName PatientBirthTime PatientComments PatientInstitutionResidence
        PatientInsurancePlanCodeSequence PatientMotherBirthName
        PatientPrimaryLanguageCodeSequence PatientPrimaryLanguageModifierCodeSequence
        PatientReligiousPreference PatientSize PatientState PatientTelecomInformation
        PatientTelephoneNumbers PatientTransportArrangements PatientWeight
        PerformedLocation PerformedProcedureStepDescription PerformedProcedureStepEndDate
        PerformedProcedureStepEndTime PerformedProcedureStepID PerformedProcedureStepStartDate
        PerformedProcedureStepStartTime PerformedStationAETitle PerformedStationName
        PerformedStationNameCodeSequence PerformingPhysicianIdentificationSequence
        PerformingPhysicianName PersonAddress PersonTelephoneNumbers PersonTelecomInformation
        PhysicianApprovingInterpretation PhysiciansOfRecord PhysiciansOfRecordIdentificationSequence
        PhysiciansReadingStudyIdentificationSequence NameOfPhysiciansReadingStudy PlateID
        PreMedication PregnancyStatus ReasonForStudy ReasonForTheImagingServiceRequest
        ReasonForTheRequestedProcedure ReasonForVisit ReasonForVisitCodeSequence
        ReasonForRequestedProcedureCodeSequence ReferencedDigitalSignatureSequence
        ReferencedPatientAliasSequence ReferencedPatientPhotoSequence ReferencedPatientSequence
        ReferencedSOPInstanceMACSequence ReferringPhysicianAddress
        ReferringPhysicianIdentificationSequence ReferringPhysicianTelephoneNumbers
        RegionOfResidence RequestAttributesSequence RequestedContrastAgent
        RequestedProcedureComments RequestedProcedureID RequestedProcedureLocation
        RequestingPhysician RequestingService ResponsibleOrganization ResponsiblePerson
        ResultsComments ResultsDistributionListSequence ResultsIDIssuer RetrieveAETitle
        ScheduledHumanPerformersSequence ScheduledPatientInstitutionResidence
        ScheduledPerformingPhysicianIdentificationSequence ScheduledPerformingPhysicianName
        ScheduledProcedureStepDescription ScheduledProcedureStepEndDate
        ScheduledProcedureStepEndTime ScheduledProcedureStepID ScheduledProcedureStepLocation
        ScheduledProcedureStepStartDate ScheduledProcedureStepStartTime ScheduledStationAETitle
        ScheduledStationName ScheduledStationNameCodeSequence ScheduledStudyLocation
        ScheduledStudyLocationAETitle SeriesDescription ServiceEpisodeDescription
        ServiceEpisodeID SmokingStatus SpecialNeeds StationAETitle StudyArrivalDate
        StudyArrivalTime StudyComments StudyCompletionDate StudyCompletionTime
        StudyDescription StudyIDIssuer TextComments TextString TimeOfLastCalibration
        TimeOfSecondaryCapture TimezoneOffsetFromUTC TopicAuthor TopicKeywords TopicSubject
        TopicTitle UniqueDeviceIdentifier UDISequence VisitComments
        RequestedSeriesDescription RTPlanDescription RTPlanName ROIDescription
        ROIGenerationDescription StructureSetDescription StructureSetName
        TreatmentSites PrescriptionDescription BeamDescription FractionGroupDescription
        DoseReferenceDescription
    """,
    "U": """
        StudyInstanceUID SeriesInstanceUID SOPInstanceUID MediaStorageSOPInstanceUID
        FrameOfReferenceUID SynchronizationFrameOfReferenceUID ReferencedSOPInstanceUID
        ReferencedSOPInstanceUIDInFile ReferencedFrameOfReferenceUID RelatedFrameOfReferenceUID
        ConcatenationUID DimensionOrganizationUID DoseReferenceUID FailedSOPInstanceUIDList
        FiducialUID InstanceCreatorUID IrradiationEventUID LargePaletteColorLookupTableUID
        ObservationUID PaletteColorLookupTableUID ReferencedObservationUIDTrial
        SourceFrameOfReferenceUID SpecimenUID StorageMediaFileSetUID TargetUID
        TemplateExtensionCreatorUID TemplateExtensionOrganizationUID TrackingUID
        TransactionUID UID DeviceUID AcquisitionUID PyramidUID
        ReferencedGeneralPurposeScheduledProcedureStepTransactionUID
    """,
    "Z/D": "ContentDate ContentTime ContrastBolusAgent",
    "X/Z": """
        AcquisitionContextSequence AcquisitionDate AcquisitionTime ReferencedStudySequence
        RequestedProcedureDescription PatientSexNeutered LabelText BarcodeValue
        ReviewerName SourceSerialNumber TreatmentMachineName
    """,
    "X/D": """
        AcquisitionDeviceProcessingDescription DetectorID InstanceCreationDate
        OperatorIdentificationSequence ProtocolName SeriesDate SeriesTime
        DateOfLastDetectorCalibration TimeOfLastDetectorCalibration
        StartAcquisitionDateTime EndAcquisitionDateTime RTPlanDate RTPlanTime
    """,
    "X/Z/D": """
        AcquisitionDateTime DeviceSerialNumber InstanceCreationTime InstitutionCodeSequence
        InstitutionName OperatorsName ReferencedPerformedProcedureStepSequence StationName
    """,
    "X/Z/U*": "ReferencedImageSequence SourceImageSequence",
}

#: keyword -> Basic Profile action (PS3.15 Table E.1-1).
BASIC_PROFILE: dict[str, str] = {
    keyword: action for action, text in _TABLE_TEXT.items() for keyword in text.split()
}

#: The Type (PS3.3) of the combined-action attributes in the image IODs of the
#: course (CT, MR, CR: General Study/Series/Image/Equipment modules). A combined
#: action resolves by it: Type 1 -> D, Type 2 -> Z, otherwise X. Attributes not
#: listed are Type 3 (optional) there and are removed.
IOD_TYPE: dict[str, int] = {
    "ContentDate": 2,  # General Image, Type 2C (image temporally related)
    "ContentTime": 2,
    "ContrastBolusAgent": 2,  # Contrast/Bolus module, Type 2
    "AcquisitionContextSequence": 2,  # Acquisition Context module, Type 2
    "PatientSexNeutered": 2,  # Patient module, Type 2C (animals)
}

#: Attributes the Retain Patient Characteristics Option (E.3.7) keeps.
PATIENT_CHARACTERISTICS = frozenset(
    "PatientAge PatientSex PatientSize PatientWeight EthnicGroup SmokingStatus PregnancyStatus "
    "PatientSexNeutered".split()
)

#: CID 7050 "De-identification Method" codes (scheme DCM), per profile and option.
METHOD_CODES: dict[str, tuple[str, str]] = {
    "basic": ("113100", "Basic Application Confidentiality Profile"),
    "retain_modified_dates": (
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    ),
    "retain_patient_characteristics": ("113108", "Retain Patient Characteristics Option"),
    "retain_uids": ("113110", "Retain UIDs Option"),
    "retain_safe_private": ("113111", "Retain Safe Private Option"),
}


def action_for(keyword: str) -> str | None:
    """The Basic Profile action of a keyword (``"X"``, ``"X/Z"``...), or None if not listed."""
    return BASIC_PROFILE.get(keyword)


def resolve(action: str, keyword: str) -> str:
    """Resolve a combined action (``X/Z``, ``X/D``, ``X/Z/D``, ``Z/D``, ``X/Z/U*``) to one letter.

    PS3.15 E.1.1: the choice depends on the attribute's Type in the IOD, so that
    the de-identified object stays conformant; see :data:`IOD_TYPE`.
    """
    if "/" not in action:
        return action
    options = action.replace("*", "").split("/")
    kind = IOD_TYPE.get(keyword, 3)
    if kind == 1:
        return "D" if "D" in options else "U" if "U" in options else "Z"
    if kind == 2 and "Z" in options:
        return "Z"
    if "X" in options:
        return "X"
    return "Z" if "Z" in options else "D"


# --------------------------------------------------------------------------- profile
@dataclass(frozen=True)
class Profile:
    """The Basic Profile plus the options of PS3.15 E.3 that medlab implements.

    Parameters
    ----------
    retain_safe_private:
        Keep the private elements listed in ``safe_private`` (E.3.10); all other
        private elements are removed either way.
    safe_private:
        ``(private creator, group, element byte)`` triples known to carry no
        identity, e.g. ``("MEDLAB VENDOR 1.0", 0x0019, 0x12)``.
    retain_uids:
        Keep UIDs instead of replacing them (E.3.9).
    date_shift_days:
        Shift every date by this many days instead of removing it (E.3.6,
        Retain Longitudinal Temporal Information with Modified Dates). ``None``:
        dates follow the Basic Profile (removed or emptied).
    retain_patient_characteristics:
        Keep sex, age, size, weight... (E.3.7).
    replace:
        Dummy values for Z or D attributes, e.g. ``{"PatientName": "TEACHING^CASE"}``
        (PS3.15 allows a dummy value consistent with the VR where Z asks for zero
        length); a file-set or teaching file needs a non-empty Patient ID.
    """

    retain_safe_private: bool = False
    safe_private: tuple[tuple[str, int, int], ...] = ()
    retain_uids: bool = False
    date_shift_days: int | None = None
    retain_patient_characteristics: bool = False
    replace: tuple[tuple[str, str], ...] = ()

    @classmethod
    def basic(cls, **options: Any) -> Profile:
        """The Basic Profile, with options given as keywords (``replace`` may be a dict)."""
        if isinstance(options.get("replace"), dict):
            options["replace"] = tuple(sorted(options["replace"].items()))
        if "safe_private" in options:
            options["safe_private"] = tuple(options["safe_private"])
            options.setdefault("retain_safe_private", True)
        return cls(**options)

    def options(self) -> list[str]:
        """The names (keys of :data:`METHOD_CODES`) of the options in use."""
        names = []
        if self.date_shift_days is not None:
            names.append("retain_modified_dates")
        if self.retain_patient_characteristics:
            names.append("retain_patient_characteristics")
        if self.retain_uids:
            names.append("retain_uids")
        if self.retain_safe_private:
            names.append("retain_safe_private")
        return names

    def method_text(self) -> str:
        """De-identification Method (0012,0063): what was applied, in words (LO, 64 chars max)."""
        text = "PS3.15 E Basic Profile"
        short = {
            "retain_modified_dates": "Modified Dates",
            "retain_patient_characteristics": "Pat Chars",
            "retain_uids": "UIDs",
            "retain_safe_private": "Safe Private",
        }
        extra = [short[n] for n in self.options()]
        if extra:
            text += "; retain " + ", ".join(extra)
        return text[:64]


def _profile(profile: str | Profile | None) -> Profile:
    if profile is None or profile == "basic":
        return Profile()
    if isinstance(profile, Profile):
        return profile
    raise MedlabError(
        f"Unknown de-identification profile {profile!r}",
        where="deidentify(profile=...)",
        fix='Use profile="basic", or medlab.dicom.deid.Profile.basic(date_shift_days=..., '
        "retain_safe_private=..., ...) for the options of PS3.15 E.3.",
    )


def iter_table() -> Iterator[tuple[str, str, str, str]]:
    """Rows of the implemented Table E.1-1: (tag, keyword, name, action), sorted by tag."""
    from pydicom.datadict import dictionary_description, tag_for_keyword

    rows = []
    for keyword, action in BASIC_PROFILE.items():
        tag = tag_for_keyword(keyword)
        if tag is None:
            continue
        rows.append(
            (f"({tag >> 16:04X},{tag & 0xFFFF:04X})", keyword, dictionary_description(tag), action)
        )
    yield from sorted(rows)


def profile_table(keywords: Iterable[str] | None = None):
    """The implemented Table E.1-1 as a DataFrame (optionally only some keywords)."""
    import pandas as pd

    wanted = set(keywords) if keywords is not None else None
    rows = [r for r in iter_table() if wanted is None or r[1] in wanted]
    return pd.DataFrame(rows, columns=["tag", "keyword", "name", "action"])
