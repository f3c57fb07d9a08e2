"""DICOM helpers for the lessons: they render and explain, pydicom does the work.

Every name below is imported on first use (``import medlab.dicom`` stays light), through a
module ``__getattr__`` (PEP 562). To add a helper, add one line to ``_EXPORTS``
(``"name": "medlab.dicom.module"``) and one to the ``TYPE_CHECKING`` block (for IDEs and type
checkers). A module is never named like a name it exports (``hexview`` lives in
``hexdump.py``): Python binds an imported submodule over the package attribute of that name.

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
``messy_archive``  a copy of a study with the faults ``qa`` finds (14)
=================  =====================================================
"""

# ruff: noqa: F401 - the TYPE_CHECKING imports are for IDEs; __all__ is built from _EXPORTS

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "read": "medlab.dicom._read",
    "hexview": "medlab.dicom.hexdump",
    "HexView": "medlab.dicom.hexdump",
    "header_table": "medlab.dicom.header",
    "HeaderTable": "medlab.dicom.header",
    "lookup": "medlab.dicom.dictionary",
    "vr_catalogue": "medlab.dicom.dictionary",
    "private_blocks": "medlab.dicom.header",
    "uid_info": "medlab.dicom.uids",
    "course_uid": "medlab.dicom.uids",
    "hierarchy": "medlab.dicom.uids",
    "Hierarchy": "medlab.dicom.uids",
    "demo_study": "medlab.dicom.uids",
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
    "Profile": "medlab.dicom.deid_profile",
    "scan_phi": "medlab.dicom.phi",
    "dicomdir": "medlab.dicom.media",
    "write_media": "medlab.dicom.media",
    "census": "medlab.dicom.archive",
    "messy_archive": "medlab.dicom.archive",
    "qa": "medlab.dicom.archive",
    "plot_census": "medlab.dicom.archive",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from medlab.dicom._read import read
    from medlab.dicom.archive import census, messy_archive, plot_census, qa
    from medlab.dicom.composite import (
        dose_grid,
        ecg_leads,
        measurement_sr,
        plot_dose,
        plot_ecg,
        plot_seg,
        rt_summary,
        seg_masks,
        sr_outline,
    )
    from medlab.dicom.deid import deidentify
    from medlab.dicom.deid_profile import Profile
    from medlab.dicom.dictionary import lookup, vr_catalogue
    from medlab.dicom.display import (
        PRESETS,
        apply_window,
        modality_values,
        stored_values,
        to_display,
    )
    from medlab.dicom.gsps import apply_presentation_state, create_gsps
    from medlab.dicom.header import HeaderTable, header_table, private_blocks
    from medlab.dicom.hexdump import HexView, hexview
    from medlab.dicom.media import dicomdir, write_media
    from medlab.dicom.phi import scan_phi
    from medlab.dicom.uids import Hierarchy, course_uid, demo_study, hierarchy, uid_info


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use, and keep the value."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | {n for n in globals() if not n.startswith("_")})
