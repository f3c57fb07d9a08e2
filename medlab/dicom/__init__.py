"""DICOM helpers for the lessons: they render and explain, pydicom does the work.

Every name below is imported on first use (``import medlab.dicom`` stays light).
To add a helper, add one line to ``_EXPORTS``: ``"name": "medlab.dicom.module"``.

=================  =====================================================
``read``           read a file with pydicom, bad input becomes a MedlabError
``hexview``        annotated hex dump of a file, element by element (lesson 02)
``header_table``   the header as Group | Element | Length | Description | VR | VM | Value (03)
``lookup``         data dictionary: keyword, tag, name, VR, VM (03)
``vr_catalogue``   the VRs a trainee meets, with real examples (03)
``private_blocks`` the private creators of a data set and what they reserve (03)
``uid_info``       what a UID is, whether it is valid, its registered name (04)
``course_uid``     deterministic UIDs for the course's own data (04)
``hierarchy``      Patient > Study > Series > Instance from files, with problems flagged (04)
``demo_study``     a small study (optionally broken) copied from pydicom's samples (04)
``deidentify``     PS3.15 Annex E Basic Profile (+ options), with a report of every change (11)
``scan_phi``       search every element and the raw bytes for known identifiers (11)
``write_media``    a File-set with its DICOMDIR, via pydicom's FileSet (11)
``dicomdir``       read a DICOMDIR back as Patient > Study > Series > Instance (11)
``census``         one row per instance from headers only; ``qa`` and ``plot_census`` (14)
=================  =====================================================
"""

from __future__ import annotations

from medlab._lazy import install

_EXPORTS: dict[str, str] = {
    "read": "medlab.dicom._read",
    "hexview": "medlab.dicom.hexview",
    "HexView": "medlab.dicom.hexview",
    "header_table": "medlab.dicom.header",
    "HeaderTable": "medlab.dicom.header",
    "lookup": "medlab.dicom.header",
    "vr_catalogue": "medlab.dicom.header",
    "private_blocks": "medlab.dicom.header",
    "uid_info": "medlab.dicom.hierarchy",
    "course_uid": "medlab.dicom.hierarchy",
    "hierarchy": "medlab.dicom.hierarchy",
    "Hierarchy": "medlab.dicom.hierarchy",
    "demo_study": "medlab.dicom.hierarchy",
    "to_display": "medlab.dicom.display",
    "stored_values": "medlab.dicom.display",
    "modality_values": "medlab.dicom.display",
    "apply_window": "medlab.dicom.display",
    "PRESETS": "medlab.dicom.display",
    "create_gsps": "medlab.dicom.gsps",
    "apply_presentation_state": "medlab.dicom.gsps",
    "sr_outline": "medlab.dicom.composite",
    "measurement_sr": "medlab.dicom.composite",
    "rt_summary": "medlab.dicom.composite",
    "dose_grid": "medlab.dicom.composite",
    "plot_dose": "medlab.dicom.composite",
    "ecg_leads": "medlab.dicom.composite",
    "plot_ecg": "medlab.dicom.composite",
    "seg_masks": "medlab.dicom.composite",
    "plot_seg": "medlab.dicom.composite",
    "deidentify": "medlab.dicom.deid",
    "Profile": "medlab.dicom.deid",
    "scan_phi": "medlab.dicom.phi",
    "dicomdir": "medlab.dicom.media",
    "write_media": "medlab.dicom.media",
    "census": "medlab.dicom.census",
    "qa": "medlab.dicom.census",
    "plot_census": "medlab.dicom.census",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = install(__name__, _EXPORTS)
