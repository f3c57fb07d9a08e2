"""medlab.settings: the one setting for the target PACS and HL7 endpoint."""

from __future__ import annotations

import pytest

from medlab import settings
from medlab.errors import MedlabError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("MEDLAB_PACS", "MEDLAB_HL7", "MEDLAB_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "home"))
    return tmp_path


def test_default_is_the_bundled_pacs_and_hl7_listener():
    target = settings.pacs()
    assert target.bundled and target.aet == "MEDLAB"
    assert settings.hl7().bundled
    assert "bundled" in str(target)


def test_environment_variable_names_a_remote_pacs(monkeypatch):
    monkeypatch.setenv("MEDLAB_PACS", "DEPT_TEST@pacs-test.example.org:11112")
    target = settings.pacs()
    assert (target.aet, target.host, target.port, target.bundled) == (
        "DEPT_TEST",
        "pacs-test.example.org",
        11112,
        False,
    )
    assert str(target) == "DEPT_TEST@pacs-test.example.org:11112"
    assert "MEDLAB_PACS" in target.source


def test_hl7_environment_variable(monkeypatch):
    monkeypatch.setenv("MEDLAB_HL7", "hl7-test.example.org:2575")
    target = settings.hl7()
    assert (target.host, target.port, target.bundled) == ("hl7-test.example.org", 2575, False)


@pytest.mark.parametrize(
    "value", ["pacs:104", "TOO_LONG_AE_TITLE_X@h:104", "A@h:0", "A@h:99999", "A@h"]
)
def test_malformed_environment_values_are_explained(monkeypatch, value):
    monkeypatch.setenv("MEDLAB_PACS", value)
    with pytest.raises(MedlabError) as err:
        settings.pacs()
    assert "MEDLAB_PACS" in str(err.value)


def test_config_file_in_the_medlab_home(clean_env):
    home = clean_env / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[pacs]\naet = "ORTHANC"\nhost = "127.0.0.1"\nport = 4242\n\n[hl7]\nhost = "127.0.0.1"\nport = 2575\n'
    )
    target = settings.pacs()
    assert (target.aet, target.port, target.bundled) == ("ORTHANC", 4242, False)
    assert "config.toml" in target.source
    assert settings.hl7().port == 2575


def test_environment_wins_over_the_config_file(monkeypatch, tmp_path):
    path = tmp_path / "other.toml"
    path.write_text('[pacs]\naet = "FILE"\nhost = "h"\nport = 104\n')
    monkeypatch.setenv("MEDLAB_CONFIG", str(path))
    assert settings.pacs().aet == "FILE"
    monkeypatch.setenv("MEDLAB_PACS", "ENV@h:105")
    assert settings.pacs().aet == "ENV"


def test_missing_config_named_by_variable_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDLAB_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(MedlabError, match="MEDLAB_CONFIG"):
        settings.pacs()


def test_incomplete_or_broken_config(monkeypatch, tmp_path):
    path = tmp_path / "c.toml"
    monkeypatch.setenv("MEDLAB_CONFIG", str(path))
    path.write_text('[pacs]\naet = "X"\n')
    with pytest.raises(MedlabError, match="host, port"):
        settings.pacs()
    path.write_text("[pacs\n")
    with pytest.raises(MedlabError, match="Cannot read"):
        settings.pacs()


def test_start_pacs_follows_the_setting(monkeypatch):
    from medlab.net.scu import RemotePACS, start_pacs

    monkeypatch.setenv("MEDLAB_PACS", "FAR@192.0.2.1:11112")
    remote = start_pacs()
    assert isinstance(remote, RemotePACS)
    assert (remote.aet, remote.host, remote.port) == ("FAR", "192.0.2.1", 11112)
    remote.stop()  # nothing to stop, must not fail
