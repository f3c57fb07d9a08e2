"""The lessons' HL7 endpoint: the bundled listener by default, the configured one otherwise."""

from __future__ import annotations

import socket

import pytest

import medlab.hl7
from medlab.errors import MedlabError
from medlab.hl7 import samples


def test_bundled_listener_takes_a_free_port_and_a_fresh_store_under_home(medlab_home, monkeypatch):
    monkeypatch.delenv("MEDLAB_HL7", raising=False)
    first = medlab.hl7.start_listener()
    second = medlab.hl7.start_listener()
    try:
        assert first.port and second.port and first.port != second.port
        assert first.store != second.store
        for listener in (first, second):
            assert listener.store.parent == medlab_home / "lessons"
        reply = medlab.hl7.send(first.host, first.port, samples.ADT_A01)
        assert reply.msa.msa_1.to_er7() == "AA"
        assert len(list(first.store.glob("*.hl7"))) == 1 and not list(second.store.glob("*.hl7"))
    finally:
        first.stop()
        second.stop()
    with pytest.raises(OSError):
        socket.create_connection((first.host, first.port), timeout=1)


def test_configured_endpoint_is_used_instead(medlab_home, monkeypatch):
    monkeypatch.setenv("MEDLAB_HL7", "127.0.0.1:2999")
    target = medlab.hl7.start_listener()
    assert isinstance(target, medlab.hl7.RemoteHL7)
    assert (target.host, target.port) == ("127.0.0.1", 2999)
    target.stop()  # nothing to stop, and no error
    assert not (medlab_home / "lessons").exists()


def test_a_malformed_setting_is_explained(monkeypatch):
    monkeypatch.setenv("MEDLAB_HL7", "just-a-host")
    with pytest.raises(MedlabError, match="host:port"):
        medlab.hl7.start_listener()
