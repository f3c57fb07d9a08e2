"""medlab.net.sequence_diagram: recorded events -> one arrow per PDU / DIMSE message."""

from __future__ import annotations

import pytest

from medlab.net import events as ev
from medlab.net.diagram import (
    Row,
    _merge_orphans,
    fold,
    sequence_diagram,
    side_by_side,
    transcript,
)


def echo_events(n=1, calling="TRAINEE", called="MEDLAB"):
    return [
        ev.Transport(n, "TCP-OPEN", "?", called),
        ev.AssociationRequest(
            n,
            "A-ASSOCIATE-RQ",
            calling,
            called,
            contexts=(ev.ContextRecord(1, "1.2.840.10008.1.1", ("1.2.840.10008.1.2",)),),
        ),
        ev.AssociationAccept(
            n,
            "A-ASSOCIATE-AC",
            called,
            calling,
            contexts=(
                ev.ContextRecord(1, "1.2.840.10008.1.1", (), "accepted", "1.2.840.10008.1.2"),
            ),
        ),
        ev.Dimse(n, "C-ECHO-RQ", calling, called, message_id=1, sop_class="1.2.840.10008.1.1"),
        ev.Dimse(n, "C-ECHO-RSP", called, calling, message_id=1, status=0x0000),
        ev.Release(n, "A-RELEASE-RQ", calling, called),
        ev.Release(n, "A-RELEASE-RP", called, calling),
        ev.Transport(n, "TCP-CLOSE", calling, called),
    ]


def test_one_arrow_per_message_with_statuses_and_named_lifelines():
    diagram = sequence_diagram(echo_events())
    assert diagram.participants == ["TRAINEE", "MEDLAB"]  # the '?' of TCP-OPEN is filled in
    assert [r.message for r in diagram.rows] == [
        "TCP-OPEN",
        "A-ASSOCIATE-RQ",
        "A-ASSOCIATE-AC",
        "C-ECHO-RQ",
        "C-ECHO-RSP",
        "A-RELEASE-RQ",
        "A-RELEASE-RP",
        "TCP-CLOSE",
    ]
    text = diagram.text()
    assert "MEDLAB -> TRAINEE: C-ECHO-RSP  0x0000 Success" in text
    assert "TRAINEE -> MEDLAB: A-ASSOCIATE-RQ  1 context(s) proposed" in text
    assert repr(diagram) == "SequenceDiagram(TRAINEE / MEDLAB - 6 message(s), 1 association(s))"


def assert_readable(diagram):
    """Labels at least 10 px high at 100 % zoom, none overlapping another, all inside."""
    assert diagram.readability_problems() == []
    assert diagram.readability_problems(min_height=40), "the check can fail"


def test_figure_is_readable_and_renders_to_png():
    diagram = sequence_diagram(echo_events(), title="echo")
    assert diagram.figure.dpi == 100
    assert_readable(diagram)
    png = diagram._repr_png_()
    assert png.startswith(b"\x89PNG")


def test_the_figure_grows_with_the_messages_and_labels_never_overlap():
    many = [e for n in range(1, 16) for e in echo_events(n, calling=f"CT{n % 4}")]
    small, big = sequence_diagram(echo_events()), sequence_diagram(many, title="a busy day")
    assert len(big.rows) > 100
    assert big.figure.bbox.height > 10 * small.figure.bbox.height
    assert_readable(big)
    assert_readable(side_by_side(many, echo_events(), titles=("busy", "quiet")))


def test_transport_and_pdus_can_be_left_out():
    assert all(r.kind != "transport" for r in sequence_diagram(echo_events(), transport=False).rows)
    rows = sequence_diagram(echo_events(), dimse_only=True).rows
    assert [r.message for r in rows] == ["C-ECHO-RQ", "C-ECHO-RSP"]


def test_repeated_exchanges_fold_into_counts():
    rows = [
        Row(1, "C-STORE-RQ", "A", "B", "CT", "dimse"),
        Row(1, "C-STORE-RSP", "B", "A", "ok", "dimse"),
    ] * 20
    folded = fold(rows)
    assert [(r.message, r.count) for r in folded] == [("C-STORE-RQ", 20), ("C-STORE-RSP", 20)]
    triple = [
        Row(1, "C-STORE-RQ", "B", "A", "", "dimse"),
        Row(1, "C-STORE-RSP", "A", "B", "", "dimse"),
        Row(1, "C-GET-RSP", "B", "A", "Pending", "dimse"),
    ] * 3
    assert [r.count for r in fold(triple)] == [3, 3, 3]
    # a PDU is never folded, and different statuses stay apart
    mixed = [
        Row(1, "C-FIND-RSP", "B", "A", "0xFF00 Pending", "dimse"),
        Row(1, "C-FIND-RSP", "B", "A", "0x0000 Success", "dimse"),
    ]
    assert len(fold(mixed)) == 2
    assert "×20" in folded[0].text(numbered=False)


def test_failures_are_marked():
    events = [
        ev.Transport(1, "TCP-OPEN", "?", "MEDLAB"),
        ev.AssociationRequest(1, "A-ASSOCIATE-RQ", "TRAINEE", "MEDLAB"),
        ev.AssociationReject(
            1,
            "A-ASSOCIATE-RJ",
            "MEDLAB",
            "TRAINEE",
            result="rejected-permanent",
            source="service-user",
            reason="called-AE-title-not-recognized",
        ),
    ]
    rows = sequence_diagram(events).rows
    assert rows[-1].kind == "failure" and "called-AE-title-not-recognized" in rows[-1].label
    status = sequence_diagram([ev.Dimse(1, "C-MOVE-RSP", "B", "A", status=0xA801)]).rows[0]
    assert status.kind == "failure" and "0xA801" in status.label


def test_orphan_messages_go_back_to_their_connection():
    # pynetdicom reports a requestor's A-ASSOCIATE-RQ before TCP-OPEN and may report an
    # A-RELEASE-RP after TCP-CLOSE; a recorder that numbers by connection splits them off.
    events = [
        ev.Transport(3, "TCP-OPEN", "?", "MEDLAB"),
        ev.AssociationRequest(3, "A-ASSOCIATE-RQ", "TRAINEE", "MEDLAB"),
        ev.AssociationRequest(4, "A-ASSOCIATE-RQ", "MEDLAB", "RECEIVER"),
        ev.Transport(5, "TCP-OPEN", "MEDLAB", "RECEIVER"),
        ev.Release(5, "A-RELEASE-RQ", "MEDLAB", "RECEIVER"),
        ev.Transport(5, "TCP-CLOSE", "MEDLAB", "RECEIVER"),
        ev.Release(6, "A-RELEASE-RP", "RECEIVER", "MEDLAB"),
        ev.Release(3, "A-RELEASE-RQ", "TRAINEE", "MEDLAB"),
    ]
    merged = _merge_orphans(events)
    assert sorted({e.assoc for e in merged}) == [3, 5]
    sub = [e.message for e in merged if e.assoc == 5]
    assert sub == ["TCP-OPEN", "A-ASSOCIATE-RQ", "A-RELEASE-RQ", "A-RELEASE-RP", "TCP-CLOSE"]
    assert "2 association(s)" in repr(sequence_diagram(events))


def test_side_by_side_has_one_panel_each():
    diagram = side_by_side(echo_events(1), echo_events(2, calling="CT01"), titles=("a", "b"))
    assert [p[0] for p in diagram.panels] == ["a", "b"]
    assert diagram.participants == ["TRAINEE", "MEDLAB", "CT01"]
    assert "[a]" in diagram.text() and "[b]" in diagram.text()
    assert_readable(diagram)


@pytest.fixture(scope="module")
def pacs(tmp_path_factory):
    from medlab.net import PACS

    with PACS(root=tmp_path_factory.mktemp("pacs"), port=0) as server:
        yield server


def test_real_exchange_drawn_from_both_sides(pacs):
    from pynetdicom import AE

    from medlab.net.scu import Recorder

    rec = Recorder()
    ae = AE(ae_title="TRAINEE")
    ae.add_requested_context("1.2.840.10008.1.1")
    assoc = ae.associate(pacs.host, pacs.port, ae_title=pacs.aet, evt_handlers=rec.handlers)
    assert assoc.send_c_echo().Status == 0
    assoc.release()
    server_side = sequence_diagram(pacs)
    client_side = sequence_diagram(rec)
    for diagram in (server_side, client_side):
        messages = [r.message for r in diagram.rows]
        assert messages[:3] == ["TCP-OPEN", "A-ASSOCIATE-RQ", "A-ASSOCIATE-AC"]
        assert messages[-3:] == ["A-RELEASE-RQ", "A-RELEASE-RP", "TCP-CLOSE"]
        assert any(r.message == "C-ECHO-RSP" and r.status == 0 for r in diagram.rows)
        assert set(diagram.participants) == {"TRAINEE", "MEDLAB"}
    assert "C-ECHO-RSP" in transcript(rec)


def test_recorder_sees_what_the_server_cannot():
    from pynetdicom import AE

    from medlab.net.scu import Recorder, unused_port
    from medlab.net.testing import SilentPeer

    ae = AE(ae_title="TRAINEE")
    ae.add_requested_context("1.2.840.10008.1.1")
    refused = Recorder()
    ae.associate("127.0.0.1", unused_port(), ae_title="X", evt_handlers=refused.handlers)
    assert [e.message for e in refused.events] == ["NO-CONNECTION"]
    ae.acse_timeout = 0.5
    silent_rec = Recorder()
    with SilentPeer() as silent:
        ae.associate(silent.host, silent.port, ae_title="X", evt_handlers=silent_rec.handlers)
    messages = [e.message for e in silent_rec.events]
    assert messages[:2] == ["TCP-OPEN", "A-ASSOCIATE-RQ"] and "TIMEOUT" in messages
    rows = sequence_diagram(silent_rec).rows
    assert any(r.kind == "failure" and r.message == "TIMEOUT" for r in rows)


def test_a_diagram_draws_the_association_it_is_about(pacs):
    """Lesson 07 step 5 re-run after later cells: only the echo, not every association."""
    from pynetdicom import AE

    from medlab.net import scu
    from medlab.net.samples import make_instance

    ae = AE(ae_title="TRAINEE")
    ae.add_requested_context("1.2.840.10008.1.1")
    echo = ae.associate(pacs.host, pacs.port, ae_title=pacs.aet)
    echo.send_c_echo()
    echo.release()
    for _rerun in range(2):  # other cells open more associations, then the diagram is re-run
        assert scu.echo(pacs) == 0
        report = scu.store([make_instance(1, 1, 1, 1)], pacs)
        diagram = sequence_diagram(pacs, assoc=echo, title="C-ECHO")
        assert len({r.assoc for r in diagram.rows}) == 1
        assert [r.message for r in diagram.rows if r.kind == "dimse"] == [
            "C-ECHO-RQ",
            "C-ECHO-RSP",
        ]
        only_store = sequence_diagram(pacs, assoc=report)
        assert len({r.assoc for r in only_store.rows}) == 1
        assert not any(r.message.startswith("C-ECHO") for r in only_store.rows)
