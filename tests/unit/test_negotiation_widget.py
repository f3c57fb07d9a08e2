"""The negotiation widget runs real associations; explain() puts each failure in plain words."""

from __future__ import annotations

import pytest
from pynetdicom import AE

from medlab.net.explanations import Explanation, explain
from medlab.net.scu import Recorder, unused_port
from medlab.net.testing import SilentPeer

VERIFICATION = "1.2.840.10008.1.1"
PRINT_META = "1.2.840.10008.5.1.1.9"


@pytest.fixture(scope="module")
def pacs(tmp_path_factory):
    from medlab.net import PACS

    with PACS(root=tmp_path_factory.mktemp("pacs"), port=0) as server:
        yield server


def test_widget_shows_a_result_per_context(pacs):
    from medlab.widgets import negotiation

    widget = negotiation(
        pacs,
        sop_classes=("Verification", "CT Image Storage", "Basic Grayscale Print Management (Meta)"),
        transfer_syntaxes=("JPEG Baseline (lossy)",),
    )
    results = {r.sop_class: r for r in widget.negotiate()}
    assert results["1.2.840.10008.5.1.4.1.1.2"].result == "accepted"
    assert results["1.2.840.10008.5.1.4.1.1.2"].transfer_syntax == "1.2.840.10008.1.2.4.50"
    assert results[VERIFICATION].result == "transfer-syntaxes-not-supported"
    assert results[PRINT_META].result == "abstract-syntax-not-supported"
    assert "negotiation #1 done: 1 accepted, 2 rejected" in widget.status.value
    assert "abstract-syntax-not-supported" in widget.table.value
    assert widget.explanation.kind == "context-rejected"
    # the PACS saw the same negotiation
    accept = [e for e in pacs.events if e.message == "A-ASSOCIATE-AC"][-1]
    assert len(accept.rejected) == 2


def test_widget_changes_follow_the_controls(pacs):
    from medlab.widgets import negotiation

    widget = negotiation(pacs)
    widget.transfer_syntaxes.value = ("Implicit VR Little Endian", "Explicit VR Little Endian")
    widget.button.click()
    assert all(r.result == "accepted" for r in widget.results) and len(widget.results) == 2
    assert widget.explanation.ok
    widget.called.value = "WRONG"
    widget.button.click()
    assert widget.results == [] and widget.explanation.kind == "association-rejected"
    assert "negotiation #2 done: 0 accepted" in widget.status.value
    widget.sop_classes.value = ()
    assert widget.negotiate() == [] and "nothing proposed" in widget.status.value
    assert repr(widget).startswith("Negotiation(target MEDLAB")


def _ae(*contexts, acse_timeout=30):
    ae = AE(ae_title="TRAINEE")
    for cx in contexts or (VERIFICATION,):
        ae.add_requested_context(cx)
    ae.acse_timeout = acse_timeout  # long: a loaded CI machine can be slow to answer
    return ae


def test_wrong_called_ae_title(pacs):
    assoc = _ae().associate(pacs.host, pacs.port, ae_title="PACS")
    why = explain(assoc)
    assert why.kind == "association-rejected" and "called-AE-title-not-recognized" in why.what
    assert "'PACS'" in why.why and "PS3.8" in why.reference


def test_nobody_listening_and_timeout_need_a_recorder():
    rec = Recorder()
    assoc = _ae().associate("127.0.0.1", unused_port(), evt_handlers=rec.handlers)
    assert explain(assoc).kind == "connection-refused"
    assert explain(rec.events).kind == "connection-refused"
    bare = _ae().associate("127.0.0.1", unused_port())
    assert explain(bare).kind == "aborted"  # cannot tell which without a recorder
    with SilentPeer() as silent:
        rec = Recorder()
        assoc = _ae(acse_timeout=0.5).associate(silent.host, silent.port, evt_handlers=rec.handlers)
    assert explain(assoc).kind == "timeout"


def test_unsupported_sop_class(pacs):
    ae = _ae(VERIFICATION, PRINT_META)
    assoc = ae.associate(pacs.host, pacs.port, ae_title=pacs.aet)
    why = explain(assoc)
    assert why.kind == "context-rejected" and "abstract-syntax-not-supported" in why.what
    with pytest.raises(ValueError) as err:
        assoc.send_n_create(None, PRINT_META)
    assert explain(err.value).kind == "context-rejected"
    assoc.release()
    assert explain(ConnectionRefusedError()).kind == "connection-refused"
    assert explain(TimeoutError()).kind == "timeout"
    # nothing accepted at all: pynetdicom aborts, and the reason is still the contexts
    only_print = _ae(PRINT_META).associate(pacs.host, pacs.port, ae_title=pacs.aet)
    assert only_print.is_aborted and explain(only_print).kind == "context-rejected"


def test_statuses_in_plain_words():
    from pydicom import Dataset

    assert explain(0x0000).ok
    assert "Move Destination" in explain(0xA801).why
    status = Dataset()
    status.Status = 0x0110
    status.ErrorComment = "no longer updatable"
    assert explain(status).kind == "failure" and "no longer updatable" in explain(status).why
    assert explain(Dataset()).kind == "no-response"
    text = repr(explain(0xA801))
    assert text.startswith("[failure] Status 0xA801") and "Try:" in text
    assert isinstance(explain(explain(0)), Explanation)


def test_module_is_callable_as_the_function():
    import medlab.net

    assert medlab.net.explain(0xA801).kind == "failure"


def test_negotiating_with_a_stopped_pacs_says_it_was_stopped(tmp_path):
    from medlab.net import scu
    from medlab.widgets import negotiation

    stopped = scu.start_pacs(root=tmp_path / "pacs")
    stopped.stop()
    widget = negotiation(stopped)
    assert widget.negotiate() == []
    assert "not sent: the PACS was stopped" in widget.status.value
    assert "Is the PACS running?" in widget.table.value
