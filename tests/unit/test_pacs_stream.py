"""The PACS's store and retrieve paths: bounded memory, conversion, named failures (issue 15).

Memory is measured with tracemalloc in this process while the peer runs in a
subprocess (so the peer's own copy of the object is not counted); no test here
is timed. The figures against idle RSS are printed by bench/pacs_memory.py.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
import support
from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, generate_uid
from pynetdicom import AE, build_role
from pynetdicom.sop_class import (
    MRImageStorage,
    SecondaryCaptureImageStorage,
    StudyRootQueryRetrieveInformationModelGet,
)

import medlab.data
from medlab.net import PACS, scu
from medlab.net.server import dimse

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

OBJECT_MB = 64
MULTIFRAME_SC = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word SC Image Storage


def big_instance(folder: Path, megabytes: int = OBJECT_MB) -> Path:
    """A Multi-frame Grayscale Word Secondary Capture of about ``megabytes`` MB, as a file."""
    frames = megabytes * 4  # 512 x 256 x 16 bit = 256 KiB a frame
    ds = Dataset()
    ds.SOPClassUID = MULTIFRAME_SC
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = "BIG"
    ds.PatientName = "Big^Object"
    ds.Modality = "OT"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = 256, 512
    ds.NumberOfFrames = frames
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    rng = np.random.default_rng(15)
    ds.PixelData = rng.integers(0, 4096, size=frames * 256 * 512, dtype="<u2").tobytes()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = folder / "big.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def pixel_digest(path: Path) -> str:
    return hashlib.sha256(pydicom.dcmread(path).PixelData).hexdigest()


SENDER = textwrap.dedent(
    """
    import sys
    from pynetdicom import AE, _config
    _config.STORE_SEND_CHUNKED_DATASET = True  # the sender streams too: only the PACS is measured
    ae = AE()
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 120
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.1.2.1")
    assoc = ae.associate("127.0.0.1", int(sys.argv[1]), ae_title="MEDLAB")
    status = assoc.send_c_store(sys.argv[2]).Status
    assoc.release()
    print(hex(status))
    """
)

GETTER = textwrap.dedent(
    """
    import sys
    from pydicom import Dataset
    from pynetdicom import AE, _config, build_role, evt
    _config.STORE_RECV_CHUNKED_DATASET = True
    def on_store(event):
        import shutil
        shutil.copy(event.dataset_path, sys.argv[3])
        return 0
    ae = AE()
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 120
    ae.add_requested_context("1.2.840.10008.5.1.4.1.2.2.3")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.1.2.1")
    role = build_role("1.2.840.10008.5.1.4.1.1.7.3", scp_role=True)
    assoc = ae.associate("127.0.0.1", int(sys.argv[1]), ae_title="MEDLAB",
                         ext_neg=[role], evt_handlers=[(evt.EVT_C_STORE, on_store)])
    q = Dataset(); q.QueryRetrieveLevel = "STUDY"; q.StudyInstanceUID = sys.argv[2]
    for status, _ in assoc.send_c_get(q, "1.2.840.10008.5.1.4.1.2.2.3"):
        last = status.Status
    assoc.release()
    print(hex(last))
    """
)


DESTINATION = textwrap.dedent(
    """
    import shutil, sys
    from pynetdicom import AE, _config, evt
    _config.STORE_RECV_CHUNKED_DATASET = True
    def on_store(event):
        shutil.copy(event.dataset_path, sys.argv[2])
        return 0
    ae = AE(ae_title="DEST")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 120
    ae.add_supported_context("1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.1.2.1")
    ae.start_server(("127.0.0.1", int(sys.argv[1])), evt_handlers=[(evt.EVT_C_STORE, on_store)])
    """
)

MOVER = textwrap.dedent(
    """
    import sys
    from pydicom import Dataset
    from pynetdicom import AE
    ae = AE()
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 120
    ae.add_requested_context("1.2.840.10008.5.1.4.1.2.2.2")
    assoc = ae.associate("127.0.0.1", int(sys.argv[1]), ae_title="MEDLAB")
    q = Dataset(); q.QueryRetrieveLevel = "STUDY"; q.StudyInstanceUID = sys.argv[2]
    for status, _ in assoc.send_c_move(q, "DEST", "1.2.840.10008.5.1.4.1.2.2.2"):
        last = status
    assoc.release()
    print(hex(last.Status), last.get("NumberOfCompletedSuboperations"))
    """
)


def run_peer(script: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_c_store_of_a_big_object_holds_at_most_the_spill_threshold(tmp_path):
    """A 64 MB instance is received, checked, indexed and written with Python memory
    bounded by the spill threshold (16 MiB), not by the object.

    Before, the handler held the whole data set (and a copy of it while checking):
    a traced peak of 1-2x the object.
    """
    source = big_instance(tmp_path)
    size = source.stat().st_size
    assert size > 3 * dimse.SPILL_THRESHOLD
    with PACS(root=tmp_path / "pacs") as pacs:
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            assert run_peer(SENDER, str(pacs.port), str(source)) == "0x0"
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        stored = pacs.store.file_of(pydicom.dcmread(source, stop_before_pixels=True).SOPInstanceUID)
        assert spill_files(pacs) == []  # copied into the store, then deleted
    assert stored is not None and pixel_digest(stored) == pixel_digest(source)
    assert peak < dimse.SPILL_THRESHOLD + 4 * 2**20, (
        f"traced peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB object"
    )


def test_c_get_of_a_big_object_is_sent_from_its_file(tmp_path, capsys):
    """The same object retrieved by C-GET arrives intact, with a few MiB of Python memory.

    pynetdicom 3.0.4's C-GET service sends only Datasets (encoded whole, every
    P-DATA fragment queued at once): a traced peak of 2-3x the object. The PACS's
    PacsDIMSE sends the stored file fragment by fragment instead, at most
    QUEUE_LIMIT fragments ahead of the network thread.
    """
    source = big_instance(tmp_path)
    size = source.stat().st_size
    got = tmp_path / "got.dcm"
    with PACS(root=tmp_path / "pacs") as pacs:
        pacs.store_received(source)
        study = pydicom.dcmread(source, stop_before_pixels=True).StudyInstanceUID
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            assert run_peer(GETTER, str(pacs.port), study, str(got)) == "0x0"
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert pixel_digest(got) == pixel_digest(source)
    assert pydicom.dcmread(got, stop_before_pixels=True).PatientID == "BIG"
    assert peak < 8 * 2**20, f"traced peak {peak / 2**20:.1f} MiB for {size / 2**20:.0f} MiB"
    with capsys.disabled():
        print(f"\nC-GET traced peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB object")


def test_c_move_of_a_big_object_is_sent_from_its_file(tmp_path):
    """C-MOVE's sub-operations go on an association the PACS opens: streamed the same way."""
    source = big_instance(tmp_path, megabytes=32)
    study = pydicom.dcmread(source, stop_before_pixels=True).StudyInstanceUID
    got = tmp_path / "moved.dcm"
    dest_port = support.free_port()
    dest = subprocess.Popen([sys.executable, "-c", DESTINATION, str(dest_port), str(got)])
    try:
        assert support.wait_for(lambda: support.port_open(dest_port), timeout=60)
        with PACS(root=tmp_path / "pacs", port=0, web_port=-1) as pacs:
            pacs.config.peers["DEST"] = ("127.0.0.1", dest_port)
            pacs.store_received(source)
            tracemalloc.start()
            try:
                tracemalloc.reset_peak()
                assert run_peer(MOVER, str(pacs.port), study) == "0x0 1"
                _now, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        support.stop_process(dest)
    assert pixel_digest(got) == pixel_digest(source)
    assert peak < 8 * 2**20, f"traced peak {peak / 2**20:.1f} MiB"


def test_small_objects_stay_in_memory_and_the_library_flag_is_never_set(tmp_path, monkeypatch):
    """Receipt is chosen per message, by size; pynetdicom's process-wide switch stays off
    (a notebook's own clients in the same process are never affected)."""
    from pynetdicom import _config

    from medlab.net.samples import make_instance

    spilled: list[int] = []
    real_spill = dimse.SpillBuffer._spill

    def counting_spill(buffer):
        spilled.append(buffer.tell())
        real_spill(buffer)

    monkeypatch.setattr(dimse.SpillBuffer, "_spill", counting_spill)
    with PACS(root=tmp_path / "pacs", port=0, web_port=-1) as pacs:
        scu.store([make_instance(1, 1, 1, n) for n in (1, 2)], pacs)
        assert spilled == []
        assert run_peer(SENDER, str(pacs.port), str(big_instance(tmp_path, 20))) == "0x0"
        assert len(spilled) == 1 and spilled[0] > dimse.SPILL_THRESHOLD
        assert _config.STORE_RECV_CHUNKED_DATASET is False
        assert pacs.instance_count() == 3
        assert spill_files(pacs) == []


def test_a_transfer_cut_off_midway_leaves_no_file(tmp_path):
    """A sender killed while its big object is being spilled: the partial file is deleted."""
    source = big_instance(tmp_path, megabytes=128)
    with PACS(root=tmp_path / "pacs", port=0, web_port=-1) as pacs:
        sender = subprocess.Popen([sys.executable, "-c", SENDER, str(pacs.port), str(source)])
        try:
            assert support.wait_for(lambda: spill_files(pacs), timeout=120)
        finally:
            sender.kill()
            sender.wait()
        assert support.wait_for(lambda: spill_files(pacs) == [], timeout=60)
        assert pacs.instance_count() == 0


def test_a_full_disk_while_spilling_is_answered_out_of_resources(tmp_path, monkeypatch):
    """The disk refuses the spill file: the C-STORE gets 0xA700 with the reason (not an
    aborted association), nothing is kept, and the PACS goes on serving."""
    import errno

    from medlab import paths
    from medlab.net.samples import make_instance

    real_open = paths.open_private

    def full_disk(path, mode="w", **kwargs):
        if ".received-" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, **kwargs)

    monkeypatch.setattr(paths, "open_private", full_disk)
    with PACS(root=tmp_path / "pacs", port=0, web_port=-1) as pacs:
        assert run_peer(SENDER, str(pacs.port), str(big_instance(tmp_path, 20))) == "0xa700"
        assert pacs.instance_count() == 0 and spill_files(pacs) == []
        assert "No space left" in pacs.events_text()
        scu.store([make_instance(1, 1, 1, 1)], pacs)
        assert pacs.instance_count() == 1


def test_a_stand_in_is_never_sent_as_data(tmp_path):
    """If the stored file's syntax is not the negotiated one, the sub-operation fails
    rather than putting the stand-in (or wrongly encoded bytes) on the wire."""
    from pynetdicom.dimse_primitives import C_STORE

    class ImplicitOnly:  # an association whose one context carries Implicit VR LE
        accepted_contexts = [
            type("Cx", (), {"context_id": 1, "transfer_syntax": ["1.2.840.10008.1.2"]})()
        ]

    provider = dimse.PacsDIMSE(ImplicitOnly(), tmp_path)
    stand_in = provider.send_file(
        tmp_path / "x.dcm", 0, MULTIFRAME_SC, "1.2.3", ExplicitVRLittleEndian
    )
    assert list(stand_in.keys()) and "PixelData" not in stand_in
    req = C_STORE()
    req.MessageID = 1
    req.AffectedSOPClassUID = MULTIFRAME_SC
    req.AffectedSOPInstanceUID = "1.2.3"
    req.Priority = 2
    with pytest.raises(ValueError, match="does not carry"):
        provider.send_msg(req, 1)


def spill_files(pacs) -> list[Path]:
    return [p for p in Path(pacs.store.root).glob(".received-*") if p.is_file()]


def test_store_received_from_a_path_streams_and_keeps_the_checks(tmp_path):
    """store_received(path) (the importer's and STOW's way in) is the C-STORE's own path."""
    source = big_instance(tmp_path, megabytes=8)
    with PACS(root=tmp_path / "pacs") as pacs:
        tracemalloc.start()
        try:
            stored = pacs.store_received(source, calling_aet="IMPORT")
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        row = pacs.store.instance(stored.sop_uid)
    assert peak < 2 * 2**20
    assert row["source_aet"] == "IMPORT" and row["patient_id"] == "BIG"
    assert pixel_digest(stored.path) == pixel_digest(source)
    assert pydicom.dcmread(stored.path).file_meta.SourceApplicationEntityTitle == "IMPORT"


def test_a_cut_file_is_refused_without_a_trace_on_disk(tmp_path):
    source = big_instance(tmp_path, megabytes=1)
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(source.read_bytes()[:-1000])
    with PACS(root=tmp_path / "pacs") as pacs:
        from medlab.net.store import StoreFailure

        with pytest.raises(StoreFailure) as err:
            pacs.store_received(cut)
        assert err.value.status == 0xC210
        assert pacs.instance_count() == 0
    assert not [p for p in (tmp_path / "pacs").rglob("*.dcm")]


# ---------------------------------------------------------------- clear errors
def send(pacs, ds: Dataset) -> Dataset:
    ae = AE()
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 60
    ae.add_requested_context(ds.SOPClassUID, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", pacs.port, ae_title="MEDLAB")
    assert assoc.is_established
    rsp = assoc.send_c_store(ds)
    assoc.release()
    return rsp


def small(**attrs: str) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = "P1"
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for keyword, value in attrs.items():
            setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize(
    ("attrs", "comment"),
    [
        ({"PatientID": "X" * 10_000}, "Patient ID (0010,0020) is 10000 chars; LO allows 64"),
        (
            {"StudyInstanceUID": "1." + "2" * 4998},
            "Study Instance UID (0020,000D) is 5000 chars; UI allows 64",
        ),
        ({"PatientID": "X" * 65}, "Patient ID (0010,0020) is 65 chars; LO allows 64"),
        ({"Modality": "MRIMRIMRIMRIMRIMR"}, "Modality (0008,0060) is 17 chars; CS allows 16"),
    ],
)
def test_an_attribute_too_long_for_its_vr_is_named(tmp_path, attrs, comment):
    """Issue 15 §5: not "'Dataset' object has no attribute …" but which attribute and why."""
    with PACS(root=tmp_path / "pacs") as pacs:
        rsp = send(pacs, small(**attrs))
        assert pacs.instance_count() == 0
    assert rsp.Status == 0xC210
    assert rsp.ErrorComment == comment


def test_a_value_at_the_limit_is_stored(tmp_path):
    with PACS(root=tmp_path / "pacs") as pacs:
        rsp = send(pacs, small(PatientID="X" * 64, PatientName="Ü" * 30))
        assert rsp.Status == 0x0000
        assert pacs.instance_count() == 1


# ---------------------------------------------------------------- retrieve: no conversion
def test_c_get_with_no_possible_conversion_names_it(tmp_path):
    """Stored uncompressed, the peer accepts only JPEG 2000: the PACS does not compress, so
    the sub-operation fails; the final response says so (0xA702 and an Error Comment)."""
    source = medlab.data.get_path("mr_implicit")
    src = pydicom.dcmread(source, stop_before_pixels=True)
    with PACS(root=tmp_path / "pacs") as pacs:
        pacs.store_received(source)
        ae = AE()
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 60
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        ae.add_requested_context(MRImageStorage, JPEG2000Lossless)
        assoc = ae.associate(
            "127.0.0.1",
            pacs.port,
            ae_title="MEDLAB",
            ext_neg=[build_role(MRImageStorage, scp_role=True)],
            evt_handlers=[],
        )
        assert assoc.is_established
        q = Dataset()
        q.QueryRetrieveLevel = "STUDY"
        q.StudyInstanceUID = src.StudyInstanceUID
        responses = list(assoc.send_c_get(q, StudyRootQueryRetrieveInformationModelGet))
        assoc.release()
    final, identifier = responses[-1]
    assert final.Status == 0xA702
    assert final.NumberOfFailedSuboperations == 1
    assert final.ErrorComment == "cannot convert ImplicitVRLittleEndian to JPEG2000Lossless"
    assert identifier.FailedSOPInstanceUIDList == src.SOPInstanceUID


def test_what_streaming_relies_on_in_pynetdicom_exists():
    """The public pynetdicom pieces PacsDIMSE builds on (a release that changes them
    fails here by name, besides the end-to-end tests above)."""
    import inspect
    import queue

    from pynetdicom.association import Association
    from pynetdicom.dimse import DIMSEServiceProvider
    from pynetdicom.dul import DULServiceProvider

    assert "self.message" in inspect.getsource(DIMSEServiceProvider.__init__)
    assert "self.message.decode_msg" in inspect.getsource(DIMSEServiceProvider.receive_primitive)
    assert list(inspect.signature(DIMSEServiceProvider.send_msg).parameters) == [
        "self",
        "primitive",
        "context_id",
    ]
    assert isinstance(DIMSEServiceProvider.maximum_pdu_size, property)
    assert "self.dimse: DIMSEServiceProvider = DIMSEServiceProvider(self)" in inspect.getsource(
        Association.__init__
    )
    assert "self.to_provider_queue" in inspect.getsource(DULServiceProvider.__init__)
    assert hasattr(queue.Queue(), "not_full")


def test_a_c_get_received_in_this_process_leaves_no_temporary_file(tmp_path, monkeypatch):
    """A notebook that turns pynetdicom's process-wide receipt to disk on: our own C-GET's
    temp files are still removed."""
    import tempfile

    from pynetdicom import _config

    from medlab.net import scu
    from medlab.net.samples import make_instance

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with PACS(root=tmp_path / "pacs", port=0, web_port=-1) as pacs:
        scu.store([make_instance(1, 1, 1, n) for n in (1, 2, 3)], pacs)
        monkeypatch.setattr(_config, "STORE_RECV_CHUNKED_DATASET", True)
        study = pacs.studies()[0]["StudyInstanceUID"]
        result = scu.get(pacs, "STUDY", folder=tmp_path / "got", StudyInstanceUID=study)
    assert len(list((tmp_path / "got").glob("*.dcm"))) == 3, result
    assert list(temp.iterdir()) == []


# ---------------------------------------------------------------- the fast paths
@pytest.mark.parametrize("status", [0x0000, 0xB000, 0xA700, 0xA900, 0xC210, 0xC211])
@pytest.mark.parametrize("comment", [None, "", "odd", "even", "Out of resources: x" * 3])
@pytest.mark.parametrize("message_id", [1, 2, 65535])
@pytest.mark.parametrize(
    "instance", ["1.2.3", "1.2.34", "1.2.826.0.1.3680043.8.498.1234567890123456789012345678901"]
)
def test_a_c_store_response_is_encoded_as_pynetdicom_encodes_it(
    status, comment, message_id, instance
):
    from pynetdicom.dimse_messages import C_STORE_RSP
    from pynetdicom.dimse_primitives import C_STORE
    from pynetdicom.dsutils import decode, encode

    rsp = C_STORE()
    rsp.MessageIDBeingRespondedTo = message_id
    rsp.AffectedSOPClassUID = MULTIFRAME_SC if len(instance) % 2 else "1.2.840.10008.5.1.4.1.1.2"
    rsp.AffectedSOPInstanceUID = instance
    rsp.Status = status
    rsp.ErrorComment = comment
    message = C_STORE_RSP()
    message.primitive_to_message(rsp)
    theirs = encode(message.command_set, True, True)
    ours = dimse.encode_store_rsp(rsp)
    assert ours == theirs
    assert dimse.decode_command(ours) == decode(io.BytesIO(theirs), True, True)


def test_what_the_fast_encoder_leaves_to_pynetdicom():
    from pydicom.tag import Tag
    from pynetdicom.dimse_primitives import C_STORE

    rsp = C_STORE()
    rsp.MessageIDBeingRespondedTo = 1
    rsp.AffectedSOPClassUID = MULTIFRAME_SC
    rsp.AffectedSOPInstanceUID = "1.2.3"
    rsp.Status = 0xC210
    rsp.ErrorComment = "Ünïcode"
    assert dimse.encode_store_rsp(rsp) is None
    rsp.ErrorComment = None
    rsp.OffendingElement = [Tag(0x0010, 0x0020)]
    assert dimse.encode_store_rsp(rsp) is None


def acceptor(*queued: object) -> object:
    """An association as PacsDIMSE sees it: an acceptor whose DUL holds ``queued`` primitives."""
    import queue

    class Dul:
        to_user_queue: queue.Queue = queue.Queue()

    class Acceptor:
        is_acceptor = True
        dimse_timeout = 30
        dul = Dul()

    for item in queued:
        Acceptor.dul.to_user_queue.put(item)
    return Acceptor()


def test_the_reactor_turn_returns_a_message_put_while_it_waits(tmp_path):
    """get_msg(block=False) gives (None, None) when nothing comes, and a message put by
    another thread (the DUL) while it waits; blocking reads keep pynetdicom's semantics."""

    provider = dimse.PacsDIMSE(acceptor(), tmp_path)
    assert provider.get_msg(block=False) == (None, None)
    timer = threading.Timer(0.001, provider.msg_queue.put, args=((1, "message"),))
    timer.start()
    for _turn in range(10_000):
        item = provider.get_msg(block=False)
        if item[1] is not None:
            break
    timer.join()
    assert item == (1, "message")
    provider.msg_queue.put((None, None))  # pynetdicom's own wake-up when a connection closes
    assert provider.get_msg(block=True) == (None, None)


def test_the_reactor_is_the_only_non_blocking_reader_of_the_message_queue():
    """PacsDIMSE.get_msg waits when not blocking: only the acceptor reactor may call it so."""
    import inspect

    import pynetdicom

    callers = []
    for path in Path(pynetdicom.__file__).parent.glob("*.py"):
        for line in path.read_text().splitlines():
            if "get_msg(block=False)" in line or "get_msg(False)" in line:
                callers.append((path.name, line.strip()))
    assert callers == [("association.py", "context_id, msg = self.dimse.get_msg(block=False)")]
    from pynetdicom.association import Association

    assert "self.dimse.get_msg(block=False)" in inspect.getsource(Association._run_reactor)


def test_the_whole_read_socket_keeps_pynetdicoms_contract():
    """recv(n) blocks until n bytes are in, across many sends; after the peer closes it
    returns what came (the DUL then reports the connection closed)."""
    import socket as socketlib

    from pynetdicom.transport import AssociationSocket

    ours, theirs = socketlib.socketpair()
    try:
        wrapped = object.__new__(AssociationSocket)  # the DUL's object, as pynetdicom made it
        wrapped.socket = ours
        wrapped.__class__ = dimse.WholeReadSocket
        payload = bytes(range(256)) * 1024  # 256 KiB
        sender = threading.Thread(
            target=lambda: [
                theirs.sendall(payload[i : i + 1000]) for i in range(0, len(payload), 1000)
            ]
        )
        sender.start()
        assert wrapped.recv(6) == payload[:6]
        assert wrapped.recv(len(payload) - 6) == payload[6:]
        sender.join()
        theirs.sendall(b"abc")
        theirs.close()
        assert wrapped.recv(10) == b"abc"
        assert wrapped.recv(10) == b""
    finally:
        ours.close()


def test_pynetdicom_still_reads_pdus_through_association_socket_recv():
    import inspect

    from pynetdicom.dul import DULServiceProvider
    from pynetdicom.transport import AssociationSocket

    source = inspect.getsource(DULServiceProvider._read_pdu_data)
    assert "self.socket.recv(6)" in source and "self.socket.recv(pdu_length)" in source
    assert list(inspect.signature(AssociationSocket.recv).parameters) == ["self", "nr_bytes"]


def test_a_release_already_waiting_is_not_waited_for(tmp_path):
    """A-RELEASE-RQ put in the DUL's to-user queue before the reactor's turn (its
    notification cleared by that turn): the turn must not wait, or every release
    costs REACTOR_WAIT (it did: echoscu 5 ms slower)."""

    class NeverWait(threading.Event):
        def wait(self, timeout=None):
            raise AssertionError("waited although a release was already queued")

    provider = dimse.PacsDIMSE(acceptor("A-RELEASE-RQ"), tmp_path)
    provider.arrived = NeverWait()
    provider.arrived.set()  # notified before the turn, and cleared by it
    assert provider.get_msg(block=False) == (None, None)


def test_the_reactor_turn_never_takes_a_response(tmp_path):
    """A response at the head of the queue is for the send_* call waiting on it."""
    from pynetdicom.dimse_primitives import C_ECHO

    provider = dimse.PacsDIMSE(acceptor("queued: no wait in this test"), tmp_path)
    response, request = C_ECHO(), C_ECHO()
    response.MessageIDBeingRespondedTo = 1
    request.MessageID = 2
    provider.msg_queue.put((1, response))
    assert provider.get_msg(block=False) == (None, None)  # left for the waiting sender
    assert provider.get_msg(block=True) == (1, response)
    provider.msg_queue.put((1, request))
    assert provider.get_msg(block=False) == (1, request)


def test_what_arrives_is_acknowledged_at_once(tmp_path, monkeypatch):
    """Each read turns TCP_QUICKACK on, so a client's data set is not held by Nagle's
    algorithm waiting for a delayed ACK of its command (bench/pacs_store.py times it)."""
    import socket as socketlib

    from medlab.net.samples import make_instance

    calls: list[int] = []
    real = dimse._quick_ack

    def counting(raw):
        real(raw)
        calls.append(raw.getsockopt(socketlib.IPPROTO_TCP, dimse._QUICKACK))

    monkeypatch.setattr(dimse, "_quick_ack", counting)
    with PACS(root=tmp_path / "pacs", port=0, web_port=-1) as pacs:
        scu.store([make_instance(1, 1, 1, n) for n in (1, 2)], pacs)
    assert len(calls) >= 4 and all(calls), calls


def test_medlabs_own_clients_send_without_nagles_delay(tmp_path):
    """Our side of an SCU association has TCP_NODELAY (peers that delay ACKs: 40 ms a message)
    and a reactor that leaves responses to the send_* call waiting for them."""
    import socket as socketlib

    from pynetdicom import evt

    from medlab.net.scu.association import associate, new_ae

    seen: list[int] = []

    def on_established(event):
        raw = event.assoc.dul.socket.socket
        seen.append(raw.getsockopt(socketlib.IPPROTO_TCP, socketlib.TCP_NODELAY))
        seen.append(type(event.assoc.dimse).__name__)

    with PACS(root=tmp_path / "pacs", port=0, web_port=-1) as pacs:
        ae = new_ae("TESTSCU")
        ae.add_requested_context("1.2.840.10008.1.1")
        assoc = associate(ae, pacs, evt_handlers=[(evt.EVT_ESTABLISHED, on_established)])
        assert assoc.send_c_echo().Status == 0x0000
        assoc.release()
    assert seen == [1, "ResponseSafeDIMSE"]


def test_a_clients_reactor_turn_leaves_the_response_to_the_sender():
    from pynetdicom.dimse_primitives import C_STORE

    class Requestor:
        is_acceptor = False
        dimse_timeout = 30

    provider = dimse.ResponseSafeDIMSE(Requestor())
    response = C_STORE()
    response.MessageIDBeingRespondedTo = 7
    provider.msg_queue.put((3, response))
    assert provider.get_msg(block=False) == (None, None)
    assert provider.get_msg(block=True) == (3, response)
