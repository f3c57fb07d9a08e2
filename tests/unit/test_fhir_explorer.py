"""The v2-beside-FHIR explorer of lesson 17, driven through its traits."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("ipywidgets")

from medlab import capstone  # noqa: E402
from medlab.hl7 import samples  # noqa: E402
from medlab.widgets.fhir_explorer import FHIRExplorer  # noqa: E402


def test_picking_a_field_highlights_it_and_its_element_on_both_sides() -> None:
    explorer = FHIRExplorer()
    assert repr(explorer) == "FHIRExplorer(3 messages, 'ADT^A04 (register)', showing PID-3)"
    explorer.select("PID-5")
    assert explorer.highlighted() == (["PID-5"], ["Patient.name"])
    assert "showing PID-5" in explorer.status.value
    assert "PID-5 → Patient.name" in explorer.status.value
    explorer.select("PV1-2")  # one field, two elements
    assert explorer.highlighted() == (["PV1-2"], ["Encounter.status", "Encounter.class"])
    assert explorer.highlighted()[0] != ["PID-5"]


def test_another_message_maps_and_observation_values_link() -> None:
    explorer = FHIRExplorer()
    explorer.picker.value = "ORU^R01 (report)"
    assert "<b>ORU^R01</b>: 5 resources" in explorer.status.value
    explorer.select("OBX(2)-5")
    assert explorer.highlighted() == (["OBX(2)-5"], ["Observation.valueString"])
    assert "IMPRESSION: Normal CT chest." in explorer.fhir.value
    # the HD OBX's UID links the report to its study
    explorer.select("OBX(3)-5")
    assert explorer.highlighted() == (["OBX(3)-5"], ["DiagnosticReport.imagingStudy"])


def test_hover_rules_and_dropped_values_are_in_the_html() -> None:
    explorer = FHIRExplorer()
    explorer.picker.value = "ORM^O01 (order)"
    html = explorer.v2.value
    # a :hover rule for every linked field lights the field and its elements
    for position in explorer.mapping.links:
        assert f'[data-pos="{position}"]:hover) [data-fields~="{position}"]' in html
        assert f'data-pos="{position}"' in html
    struck = dict(re.findall(r'medlab-v2-dropped" data-pos="([^"]+)" title="([^"]+)"', html))
    assert "R5" in struck["OBR-13"]  # the clinical question, and why it is lost
    assert "OBR-19" in struck and "ZDS-1" in struck
    assert (
        'data-fields="OBR-18 ORC-2 ORC-3"' in explorer.fhir.value or "OBR-18" in explorer.fhir.value
    )


def test_escaped_values_read_plainly_in_json() -> None:
    explorer = FHIRExplorer({"A&E": samples.ADT_A04_AE})
    assert "A\\T\\E" in explorer.v2.value  # as sent
    explorer.select("PV1-3")
    assert explorer.highlighted() == (["PV1-3"], ["Encounter.location"])
    assert "A&amp;E BAY2 1 GENHOSP" in explorer.fhir.value  # as FHIR carries it


def test_a_message_with_no_map_says_so() -> None:
    bad = capstone.ADT_A04.replace("ADT^A04^ADT_A01", "ADT^A02^ADT_A02")
    explorer = FHIRExplorer({"transfer": bad})
    assert "no map for ADT^A02" in explorer.status.value and "(not mapped)" in explorer.status.value
    assert explorer.highlighted() == ([], [])
    assert explorer.field.options == ()
