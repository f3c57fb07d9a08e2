"""De-identification: the PS3.15 Annex E Basic Application Level Confidentiality Profile.

Images leave the PACS for teaching files, research, second opinions and the CD
a patient takes home. PS3.15 Annex E says what a de-identifier must do with
each attribute so that the copy no longer identifies the patient, yet stays a
valid, displayable DICOM object whose hierarchy (Patient > Study > Series >
Instance) still holds together.

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

What was done is recorded in the object itself (PS3.15 E.1.1, PS3.3 C.7.1.1):
Patient Identity Removed (0012,0062) = YES, De-identification Method
(0012,0063) and De-identification Method Code Sequence (0012,0064) with the
codes of CID 7050, and Longitudinal Temporal Information Modified (0028,0303).

What Annex E leaves to you: pixel data with burned-in text (Burned In
Annotation (0028,0301) YES, PS3.15 E.3.1 Clean Pixel Data Option) and
recognisable faces in 3-D reconstructions (E.3.2). :func:`deidentify` does not
clean pixels; it lists such images in its report so that they are not sent
on by mistake.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab import paths
from medlab.dicom._read import dataset_errors
from medlab.errors import MedlabError

if TYPE_CHECKING:
    from pydicom import Dataset
    from pydicom.dataelem import DataElement

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

_DUMMY_TEXT = {
    "PN": "ANONYMOUS",
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "AS": "000Y",
    "DS": "0",
    "IS": "0",
    "CS": "ANONYMIZED",
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


# --------------------------------------------------------------------------- report
@dataclass(frozen=True)
class Change:
    """One attribute changed in one file: where, which, the action and the values."""

    file: str
    path: str  # "(0010,0010)" or "(0010,1002)[0](0010,0020)"
    keyword: str
    action: str  # D Z X U K(shift) C, or "X (private)"
    old: str
    new: str


@dataclass
class DeidReport:
    """What :func:`deidentify` did: every change, the files written, the images to check.

    It holds the *original* values (``old``): keep the report with the
    originals, never ship it with the de-identified copies.
    """

    profile: Profile
    changes: list[Change] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    datasets: list[Any] = field(default_factory=list)
    burned_in: list[str] = field(default_factory=list)  # files whose pixels may carry text
    out: Path | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why) in a folder

    @property
    def dataset(self) -> Any:
        """The de-identified data set (for a single input)."""
        return self.datasets[0] if self.datasets else None

    def count_by_action(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        return dict(sorted(counts.items()))

    def for_file(self, name: str) -> list[Change]:
        return [c for c in self.changes if c.file == name]

    def to_frame(self):
        """The changes as a pandas DataFrame (one row per changed attribute)."""
        import pandas as pd

        return pd.DataFrame(
            [c.__dict__ for c in self.changes],
            columns=["file", "path", "keyword", "action", "old", "new"],
        )

    def _first_file_rows(self) -> list[Change]:
        first = self.changes[0].file if self.changes else ""
        return [c for c in self.changes if c.file == first]

    def __repr__(self) -> str:
        files = sorted({c.file for c in self.changes})
        head = (
            f"De-identified {len(files)} file(s) with {self.profile.method_text()}: "
            f"{len(self.changes)} attribute changes {self.count_by_action()}"
        )
        rows = self._first_file_rows()
        lines = [head, f"Changes in {rows[0].file}:" if rows else "No changes."]
        lines += [
            f"  {c.action:<12} {c.path:<28} {c.keyword[:40]:<40} {_short(c.old)!r} -> {_short(c.new)!r}"
            for c in rows
        ]
        if self.burned_in:
            lines.append(
                f"Check the pixels (Burned In Annotation YES or absent): {', '.join(self.burned_in)}"
            )
        lines += [f"Skipped {name}: {why}" for name, why in self.skipped]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self._first_file_rows()
        body = "".join(
            f"<tr><td>{html.escape(c.action)}</td><td><code>{html.escape(c.path)}</code></td>"
            f"<td>{html.escape(c.keyword)}</td><td>{html.escape(_short(c.old))}</td>"
            f"<td>{html.escape(_short(c.new))}</td></tr>"
            for c in rows
        )
        files = sorted({c.file for c in self.changes})
        warn = (
            f"<p><b>Check the pixels</b> (Burned In Annotation YES or absent): "
            f"{html.escape(', '.join(self.burned_in))}</p>"
            if self.burned_in
            else ""
        )
        warn += "".join(
            f"<p><b>Skipped</b> {html.escape(name)}: {html.escape(why)}</p>"
            for name, why in self.skipped
        )
        return (
            f'<div class="medlab-deid"><p>De-identified <b>{len(files)}</b> file(s) with '
            f"{html.escape(self.profile.method_text())}: <b>{len(self.changes)}</b> attribute "
            f"changes {html.escape(str(self.count_by_action()))}</p>{warn}"
            f"<p>Changes in {html.escape(rows[0].file) if rows else '-'}:</p>"
            "<table><thead><tr><th>Action</th><th>Tag</th><th>Attribute</th><th>Before</th>"
            f"<th>After</th></tr></thead><tbody>{body}</tbody></table></div>"
        )


def _short(text: str, width: int = 34) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------- engine
class _Deidentifier:
    """Applies a :class:`Profile`; one instance per call so UID and date maps are shared."""

    def __init__(self, profile: Profile, key: str) -> None:
        self.profile = profile
        self.key = key
        self.uid_map: dict[str, str] = {}
        self.replace = dict(profile.replace)
        self.safe = {(c.upper(), g, e) for c, g, e in profile.safe_private}
        self.changes: list[Change] = []
        self.file = ""

    # UIDs: the same original always gives the same replacement within this call
    # (and across calls with the same key), so references between instances still
    # resolve. A keyed hash, not a plain one: anybody could otherwise recompute the
    # mapping from a known original UID.
    def new_uid(self, old: str) -> str:
        from pydicom.uid import UID_dictionary

        if old in UID_dictionary:  # a registered (well-known) UID identifies nobody
            return old
        if old not in self.uid_map:
            digest = hashlib.sha256(f"{self.key}\0{old}".encode()).digest()
            self.uid_map[old] = f"2.25.{uuid.UUID(bytes=digest[:16], version=4).int}"
        return self.uid_map[old]

    def record(self, path: str, keyword: str, action: str, old: Any, new: Any) -> None:
        self.changes.append(Change(self.file, path, keyword, action, _text(old), _text(new)))

    def apply(self, ds: Dataset, prefix: str = "") -> None:
        from pydicom.datadict import keyword_for_tag

        # Private creators first (PS3.5 7.8.1): (gggg,00xx) names the owner of (gggg,xx00-xxFF),
        # and the creator element is removed before the block is walked.
        creators = {
            (e.tag.group, e.tag.element): str(e.value)
            for e in ds
            if e.tag.is_private and 0x0010 <= e.tag.element <= 0x00FF
        }
        for elem in list(ds):  # list(): we delete while walking
            tag = elem.tag
            path = f"{prefix}({tag.group:04X},{tag.element:04X})"
            if tag.is_private:
                self._private(ds, elem, path, creators)
                continue
            keyword = elem.keyword or keyword_for_tag(tag)
            action = self._action(tag, keyword)
            if action is None:
                if elem.VR == "SQ":
                    self._walk_items(elem, path)
                continue
            self._do(ds, elem, path, keyword, action)

    def _action(self, tag: Any, keyword: str) -> str | None:
        group = tag.group
        if 0x6000 <= group <= 0x60FF and tag.element in (0x3000, 0x4000):
            return "X"  # Overlay Data, Overlay Comments (60xx,3000/4000)
        if 0x5000 <= group <= 0x50FF:
            return "X"  # Curve Data (50xx,xxxx), retired
        action = BASIC_PROFILE.get(keyword)
        if action is None:
            return None
        if self.profile.retain_patient_characteristics and keyword in PATIENT_CHARACTERISTICS:
            return "K"
        if self.profile.retain_uids and action == "U":
            return "K"
        return action

    def _walk_items(self, elem: DataElement, path: str) -> None:
        for i, item in enumerate(elem.value):
            self.apply(item, f"{path}[{i}]")

    def _do(self, ds: Dataset, elem: DataElement, path: str, keyword: str, action: str) -> None:
        vr = elem.VR
        shift = self.profile.date_shift_days
        if (
            shift is not None
            and vr in ("DA", "DT")
            and keyword != "PatientBirthDate"
            and action != "K"
        ):
            old = elem.value
            if old not in (None, ""):
                elem.value = _shift(str(old), vr, shift)
                self.record(path, keyword, "shift", old, elem.value)
            return
        if shift is not None and vr == "TM" and action != "K":
            return  # times are kept when dates are shifted (E.3.6)
        if action == "K":
            if vr == "SQ":
                self._walk_items(elem, path)
            return
        single = resolve(action, keyword)
        if action == "X/Z/U*" and single != "X":
            single = "U"
        old = elem.value
        if single == "X":
            del ds[elem.tag]
            self.record(path, keyword, "X", old if vr != "SQ" else f"<{len(old)} item(s)>", "")
        elif single == "U":
            if vr == "UI":
                new = self._uids(old)
                if new != old:
                    elem.value = new
                    self.record(path, keyword, "U", old, new)
            elif vr == "SQ":
                self._walk_items(elem, path)  # UIDs inside are replaced by their own rows
        elif single == "Z" or (single == "D" and keyword in self.replace):
            new = self.replace.get(keyword, None if vr == "SQ" else "")
            if vr == "SQ":
                elem.value = []
                self.record(path, keyword, "Z", f"<{len(old)} item(s)>", "<empty>")
            elif str(old or "") != str(new):
                elem.value = new
                self.record(path, keyword, "Z" if keyword not in self.replace else "D", old, new)
        elif single == "D":
            if vr == "SQ":
                self._walk_items(elem, path)
                return
            new = _dummy(vr, self, old)
            if _text(old) != _text(new):
                elem.value = new
                self.record(path, keyword, "D", old, new)
        elif single == "C":  # clean: medlab has no cleaner for free text, so it removes
            del ds[elem.tag]
            self.record(path, keyword, "X", old, "")

    def _uids(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)) or (
            hasattr(value, "__iter__") and not isinstance(value, str)
        ):
            return [self.new_uid(str(v)) for v in value]
        return self.new_uid(str(value)) if value else value

    def _private(
        self, ds: Dataset, elem: DataElement, path: str, creators: dict[tuple[int, int], str]
    ) -> None:
        tag = elem.tag
        if tag.element <= 0x00FF and tag.element >= 0x0010:  # a private creator
            if self.profile.retain_safe_private and self._creator_kept(ds, tag, elem.value):
                return
            del ds[tag]
            self.record(path, "Private Creator", "X (private)", elem.value, "")
            return
        creator = creators.get((tag.group, tag.element >> 8), "(no private creator)")
        key = (str(creator).upper(), tag.group, tag.element & 0xFF)
        if self.profile.retain_safe_private and key in self.safe:
            return
        value = elem.value if elem.VR != "SQ" else f"<{len(elem.value)} item(s)>"
        del ds[tag]
        self.record(path, f"private {creator}", "X (private)", value, "")

    def _creator_kept(self, ds: Dataset, tag: Any, creator: Any) -> bool:
        block = tag.element
        wanted = [(g, e) for c, g, e in self.safe if c == str(creator).upper() and g == tag.group]
        return any(ds.get((tag.group << 16) | (block << 8) | e) is not None for _, e in wanted)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").rstrip("\x00 ")
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def _dummy(vr: str, engine: _Deidentifier, old: Any) -> Any:
    if vr == "UI":
        return engine._uids(old)
    if vr in _DUMMY_TEXT:
        return _DUMMY_TEXT[vr]
    if vr in ("US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"):
        return 0
    if vr in ("OB", "OW", "UN", "OD", "OF", "OL", "OV"):
        return b"\x00\x00"
    return "ANONYMIZED"


def _shift(value: str, vr: str, days: int) -> str:
    """Shift a DA (YYYYMMDD) or the date part of a DT by ``days``; keep what follows."""
    try:
        date = _dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except (ValueError, IndexError):
        return "" if vr == "DA" else value
    return (date + _dt.timedelta(days=days)).strftime("%Y%m%d") + value[8:]


def _record_method(ds: Dataset, profile: Profile) -> None:
    """Write what was done into the object (PS3.3 C.7.1.1 Patient Identification / C.12.1)."""
    from pydicom.dataset import Dataset

    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = profile.method_text()
    codes = []
    for name in ["basic", *profile.options()]:
        value, meaning = METHOD_CODES[name]
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        codes.append(item)
    ds.DeidentificationMethodCodeSequence = codes
    if "PixelData" in ds or "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        # Longitudinal Temporal Information Modified (0028,0303), General Image module
        ds.LongitudinalTemporalInformationModified = (
            "MODIFIED" if profile.date_shift_days is not None else "REMOVED"
        )


# --------------------------------------------------------------------------- public
def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name != "DICOMDIR" and not p.name.startswith(".")
    )


_DEID_FIX = (
    "pydicom cannot decode part of it, so it cannot be de-identified safely; look at it "
    "with medlab.dicom.hexview(), and leave it out or fix it."
)


def _deidentify_file(
    name: str, source: Any, prof: Profile, engine: _Deidentifier
) -> tuple[Dataset, Dataset, list[Change]]:
    """Read (a path) and de-identify one data set; any failure is one MedlabError."""
    from medlab.dicom._read import explain, read

    try:
        ds = read(source)  # the byte-level scan first: a cut file is named, not half-read
        new, changes = deidentify_dataset(ds, prof, _engine=engine, name=name)
    except MedlabError:
        raise
    except Exception as exc:  # noqa: BLE001 - pydicom's errors, worded for the trainee
        raise explain(exc, action="de-identify this file", where=name, fix=_DEID_FIX) from None
    return ds, new, changes


def _save(new: Dataset, target: Path, name: str) -> None:
    """Write atomically (a temporary file renamed): a failed write leaves no half file."""
    import os
    import tempfile

    from medlab.dicom._read import explain

    paths.private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=".deid-", suffix=".dcm", dir=target.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            new.save_as(fh, enforce_file_format=True)
        os.replace(tmp, target)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, MedlabError):
            raise
        raise explain(
            exc, action="write the de-identified copy", where=name, fix=_DEID_FIX
        ) from None


def deidentify_dataset(
    ds: Dataset,
    profile: str | Profile | None = "basic",
    *,
    key: str | None = None,
    _engine: _Deidentifier | None = None,
    name: str = "dataset",
) -> tuple[Dataset, list[Change]]:
    """De-identify a copy of ``ds``; return the copy and the changes made."""
    import copy

    engine = _engine or _Deidentifier(_profile(profile), key or secrets.token_hex(16))
    engine.file = name
    start = len(engine.changes)
    out = copy.deepcopy(ds)
    engine.apply(out)
    meta = getattr(out, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta and "SOPInstanceUID" in out:
        meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
        meta.pop("SourceApplicationEntityTitle", None)  # the sender's AE title (PS3.10 7.1)
    for keyword in ("PatientName", "PatientID"):  # a dummy asked for, but the element was absent
        if keyword in engine.replace and keyword not in out:
            setattr(out, keyword, engine.replace[keyword])
    _record_method(out, engine.profile)
    return out, engine.changes[start:]


@dataset_errors(
    "de-identify this data set",
    "pydicom cannot decode part of it, so it cannot be de-identified safely; look at it with medlab.dicom.hexview().",
)
def deidentify(
    ds_or_folder: Dataset | str | Path,
    out: str | Path | None = None,
    profile: str | Profile | None = "basic",
    *,
    key: str | None = None,
) -> DeidReport:
    """De-identify a data set, a file or a folder of files with the PS3.15 Basic Profile.

    Parameters
    ----------
    ds_or_folder:
        A pydicom Dataset, a DICOM file or a folder (searched recursively).
    out:
        Where to write: a folder. Files are named ``STUDY01/SERIES01/IM0001.dcm``
        by order of appearance, because original names and folders may carry
        identity too. ``None`` for a Dataset input: nothing is written, the copy
        is in ``report.dataset``.
    profile:
        ``"basic"`` or a :class:`Profile` with options (PS3.15 E.3).
    key:
        Secret that keys the UID replacement: the same key gives the same new
        UIDs (use one per project to link later exports); without it a random
        key is used and the mapping cannot be recomputed.

    Returns
    -------
    DeidReport
        Every attribute changed (with the original value: keep it private),
        the files written, and the images whose pixels may carry burned-in text.
    """
    from pydicom.dataset import Dataset

    prof = _profile(profile)
    engine = _Deidentifier(prof, key or secrets.token_hex(16))
    report = DeidReport(prof, out=Path(out) if out is not None else None)
    # A folder goes on past a file it cannot de-identify (listed in report.skipped, with
    # why); a single data set or file raises that MedlabError instead.
    in_folder = False
    if isinstance(ds_or_folder, Dataset):
        sources: list[tuple[str, Any]] = [("dataset", ds_or_folder)]
    else:
        source = Path(ds_or_folder)
        if source.is_dir():
            in_folder = True
            sources = [(p.relative_to(source).as_posix(), p) for p in _files(source)]
            if not sources:
                raise MedlabError(
                    "No files to de-identify in this folder",
                    where=str(source),
                    fix="Check the path (it should hold DICOM files, at any depth).",
                )
        elif source.is_file():
            sources = [(source.name, source)]
        else:
            raise MedlabError(
                "No such file or folder",
                where=str(source),
                fix="Check the path, e.g. medlab.data.study('deid_private').",
            )
    studies: dict[str, int] = {}
    series: dict[str, tuple[int, int]] = {}
    counters: dict[str, int] = {}
    for name, item in sources:  # one file in memory at a time
        try:
            ds, new, changes = _deidentify_file(name, item, prof, engine)
            burned_in = _needs_pixel_check(ds)
            study_uid = str(ds.get("StudyInstanceUID", ""))
            series_key = str(ds.get("SeriesInstanceUID", ""))
            if out is not None:
                study = studies.get(study_uid, len(studies) + 1)
                if series_key in series:
                    s_no, se_no = series[series_key]
                else:
                    s_no = study
                    se_no = sum(1 for s, _ in series.values() if s == study) + 1
                folder = f"STUDY{s_no:02d}/SERIES{se_no:02d}"
                target = Path(out) / folder / f"IM{counters.get(folder, 0) + 1:04d}.dcm"
                _save(new, target, name)
                # numbered only once written: a skipped file leaves no gap
                studies.setdefault(study_uid, study)
                series.setdefault(series_key, (s_no, se_no))
                counters[folder] = counters.get(folder, 0) + 1
                report.written.append(target)
            else:
                report.datasets.append(new)
        except MedlabError as err:
            if not in_folder:
                raise
            report.skipped.append((name, err.what))
            continue
        if burned_in:
            report.burned_in.append(name)
        report.changes.extend(changes)
    return report


def _needs_pixel_check(ds: Dataset) -> bool:
    """True for an image whose Burned In Annotation (0028,0301) is YES or absent (unknown)."""
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        return False
    return str(ds.get("BurnedInAnnotation", "")).upper() != "NO"


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
