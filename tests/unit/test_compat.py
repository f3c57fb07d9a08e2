"""medlab.net.compatible: two conformance descriptions -> per-service verdicts; and its editor widget."""

from __future__ import annotations

import pytest

from medlab.errors import MedlabError
from medlab.net import compat, compatible
from medlab.net.config import PACSConfig

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture
def pacs_conf():
    return compat.from_pacs(PACSConfig(port=0))


def device(roles, syntaxes, sop="CTImageStorage", name="CT"):
    return {
        "name": name,
        "aet": "CT02",
        "services": {sop: {"roles": roles, "transfer_syntaxes": syntaxes}},
    }


def test_described_ct_works_with_the_pacs(pacs_conf):
    result = compatible(compat.ct_modality(), pacs_conf)
    assert not result.fails
    assert result.verdict("CT Image Storage") == compat.WORKS
    assert "JPEGLosslessSV1" in next(
        f.why for f in result.findings if f.service == "CT Image Storage"
    )
    assert result.verdict("Storage Commitment") == compat.CAVEAT  # new-association caveat
    assert "0 will not" in repr(result) and "<table" in result._repr_html_()


def test_no_common_transfer_syntax_will_not_work():
    archive = device(["SCP"], ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian"], name="Archive")
    result = compatible(device(["SCU"], ["JPEG2000Lossless"]), archive)
    assert result.verdict("CT Image Storage") == compat.FAILS
    assert "transfer-syntaxes-not-supported" in result.fails[0].why


def test_compressed_only_accepted_uncompressed_is_a_caveat():
    archive = device(["SCP"], ["ExplicitVRLittleEndian"], name="Archive")
    result = compatible(device(["SCU"], ["JPEG2000Lossless", "ExplicitVRLittleEndian"]), archive)
    assert result.verdict("CT Image Storage") == compat.CAVEAT
    assert "uncompressed" in result.findings[0].why


def test_roles_must_be_complementary():
    both_ask = compatible(
        device(["SCU"], ["ImplicitVRLittleEndian"]),
        device(["SCU"], ["ImplicitVRLittleEndian"], name="Other"),
    )
    assert both_ask.verdict("CT Image Storage") == compat.FAILS
    assert "abstract-syntax-not-supported" in both_ask.fails[0].why
    both_answer = compatible(
        device(["SCP"], ["ImplicitVRLittleEndian"]),
        device(["SCP"], ["ImplicitVRLittleEndian"], name="Other"),
    )
    assert "neither side" in both_answer.fails[0].why
    # a service the other side never lists is simply not described
    missing = compatible(
        device(["SCU"], ["ImplicitVRLittleEndian"]),
        device(["SCP"], ["ImplicitVRLittleEndian"], sop="MRImageStorage", name="Other"),
    )
    assert missing.verdict("CT Image Storage") == compat.FAILS


def test_move_destination_must_be_configured():
    viewer = compat.viewer()
    unknown = compatible(viewer, compat.from_pacs(PACSConfig(port=0)))
    assert unknown.verdict("Q/R - MOVE") == compat.FAILS and "0xA801" in unknown.fails[0].why
    known = compatible(
        viewer, compat.from_pacs(PACSConfig(port=0, peers={"VIEWER": ("127.0.0.1", 1)}))
    )
    assert known.verdict("Q/R - MOVE") == compat.CAVEAT
    assert known.verdict("CT Image Storage") == compat.WORKS  # PACS -> viewer, JPEG 2000 shared


def test_unsupported_query_keys_are_reported():
    scu = {
        "name": "V",
        "services": {
            "StudyRootQueryRetrieveInformationModelFind": {
                "roles": ["SCU"],
                "query_keys": ["PatientName", "InstitutionName"],
            }
        },
    }
    result = compatible(scu, compat.from_pacs(PACSConfig(port=0)))
    assert result.verdict("FIND") == compat.CAVEAT and "InstitutionName" in result.findings[0].why


def test_descriptions_accept_keywords_and_reject_nonsense():
    conf = compat.Conformance.from_dict(device(["scu"], ["JPEG2000Lossless"]))
    assert conf.roles(CT_STORAGE) == {"SCU"}
    assert conf.services[CT_STORAGE]["transfer_syntaxes"] == ["1.2.840.10008.1.2.4.90"]
    assert compat.Conformance.from_dict(conf.to_dict()).services == conf.services
    with pytest.raises(MedlabError, match="Unknown SOP class"):
        compat.Conformance.from_dict(
            device(["SCU"], ["ExplicitVRLittleEndian"], sop="NoSuchStorage")
        )
    with pytest.raises(MedlabError, match="Roles"):
        compat.Conformance.from_dict(device(["BOSS"], ["ExplicitVRLittleEndian"]))


def test_pacs_description_matches_its_configuration(pacs_conf):
    assert pacs_conf.aet == "MEDLAB"
    assert pacs_conf.roles("1.2.840.10008.5.1.4.31") == {"SCP"}
    assert "PatientName" in pacs_conf.services["1.2.840.10008.5.1.4.1.2.2.1"]["query_keys"]
    assert "ScheduledStationAETitle" in pacs_conf.services["1.2.840.10008.5.1.4.31"]["query_keys"]


def test_editor_recomputes_the_verdict_on_every_change(pacs_conf):
    from medlab.widgets import compat_editor

    editor = compat_editor(compat.ct_modality(), pacs_conf)
    assert "verdict #1: 7 will work, 0 will not" in editor.status.value
    editor.set("ModalityWorklistInformationFind", syntaxes="JPEG 2000 only")
    assert "1 will not" in editor.status.value
    assert "transfer-syntaxes-not-supported" in editor.table.value
    editor.set(
        "ModalityWorklistInformationFind",
        syntaxes="uncompressed (Explicit + Implicit LE)",
        role="SCP",
    )
    assert (
        editor.result.verdict("Worklist") == compat.FAILS and "neither side" in editor.table.value
    )
    editor.set("ModalityWorklistInformationFind", role="not supported")
    assert editor.result.verdict("Worklist") == "not described"
    assert CT_STORAGE in editor.device.services
    assert editor.runs >= 4
    assert repr(editor) == "CompatEditor(CT scanner vs medlab PACS: 6 service(s))"
