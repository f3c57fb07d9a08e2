"""medlab's DICOMweb server beside Orthanc's DICOMweb plugin, on the same studies.

* QIDO-RS: for the same query both answer the same matches with the same
  values for the attributes PS3.18 requires (vendor extras aside);
* WADO-RS: the pixel data of the same series is byte-identical;
* Orthanc's own DICOMweb *client* (``DicomWeb.Servers``) queries medlab and
  retrieves a study from it into Orthanc.

Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``) runs on free loopback ports
with a temporary configuration; it has no bind-address option, so it listens
on every interface while the test runs and is only ever reached over
127.0.0.1 (shared/notes/pacs.md). Under CI=true a missing Orthanc fails the test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pydicom
import pytest
import requests
import support
from dicomweb_client import DICOMwebClient

import medlab.data
from medlab.net.store import Store

pytestmark = [pytest.mark.interop, pytest.mark.filterwarnings("ignore::UserWarning")]

PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
#: Uploaded to both archives; the MR study lives only in medlab (Orthanc retrieves it).
SHARED = ("ct_phantom", "cr_mono1")


def _files(name: str) -> list[Path]:
    return sorted(medlab.data.study(name).rglob("*.dcm"))


def _orthanc_binary() -> str:
    path = shutil.which("Orthanc") or next(
        (p for p in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc") if Path(p).is_file()), None
    )
    support.require(path is not None, "Orthanc is not installed (apt-get install orthanc)")
    support.require(
        PLUGIN.is_file(), "Orthanc's DICOMweb plugin is missing (apt-get install orthanc-dicomweb)"
    )
    return str(path)


@pytest.fixture(scope="module")
def medlab_web(tmp_path_factory):
    from medlab.net.dicomweb import DicomWebServer

    store = Store(tmp_path_factory.mktemp("medlab"))
    for name in (*SHARED, "mr_phantom"):
        for path in _files(name):
            store.put_dataset(pydicom.dcmread(path))
    server = DicomWebServer(store).start()
    yield server
    server.stop()
    store.close()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory, medlab_web):
    binary = _orthanc_binary()
    base = tmp_path_factory.mktemp("orthanc")
    http_port = support.free_port()
    config = {
        "Name": "medlab-dicomweb-interop",
        "StorageDirectory": str(base / "storage"),
        "IndexDirectory": str(base / "index"),
        "StorageCompression": False,
        "SyncStorageArea": False,
        "Plugins": [str(PLUGIN)],
        "DicomServerEnabled": False,
        "DicomPort": support.free_port(),
        "HttpServerEnabled": True,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "SslEnabled": False,
        "DicomWeb": {
            "Enable": True,
            "Root": "/dicom-web/",
            "Servers": {"medlab": [medlab_web.url + "/"]},
        },
    }
    path = base / "orthanc.json"
    path.write_text(json.dumps(config, indent=2))
    log = open(base / "orthanc.log", "w")
    proc = subprocess.Popen(
        [binary, str(path)], stdout=log, stderr=subprocess.STDOUT, env=support.dcmtk_env(), cwd=base
    )
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Orthanc exited: {(base / 'orthanc.log').read_text()[-2000:]}")
            try:
                if requests.get(f"{url}/system", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("Orthanc did not answer within 60 s")
            time.sleep(0.2)
        for name in SHARED:
            for file in _files(name):
                requests.post(
                    f"{url}/instances", data=file.read_bytes(), timeout=30
                ).raise_for_status()
        yield url
    finally:
        support.stop_process(proc)
        log.close()


def _first(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(_files(name)[0], stop_before_pixels=True)


#: Attributes whose values legitimately differ between two archives.
_LOCAL = {"00081190", "00080005", "00080056"}


def _required(level: str) -> set[str]:
    """Tags of the attributes PS3.18 Tables 10.6.3-3/-4/-5 require at a level."""
    from pydicom.datadict import tag_for_keyword

    from medlab.net.dicomweb import qido

    return {f"{tag_for_keyword(k):08X}" for k in qido._RETURN[level]}


def _compare(ours: list[dict], theirs: list[dict], unique: str, level: str) -> None:
    """Same matches; every required attribute Orthanc returns, medlab returns with the
    same value; attributes both return agree (the rest are one vendor's extras)."""
    assert ours and sorted(r[unique]["Value"][0] for r in ours) == sorted(
        r[unique]["Value"][0] for r in theirs
    )
    required = _required(level)
    by_uid = {r[unique]["Value"][0]: r for r in ours}
    for other in theirs:
        mine = by_uid[other[unique]["Value"][0]]
        for tag, elem in other.items():
            if tag in _LOCAL:
                continue
            if tag in required:
                assert tag in mine, f"Orthanc returns {tag}, medlab does not"
            if tag in mine and "Value" in elem and "Value" in mine[tag]:
                assert mine[tag]["Value"] == elem["Value"], tag


def test_qido_answers_match_orthanc(medlab_web, orthanc):
    ours = DICOMwebClient(medlab_web.url)
    theirs = DICOMwebClient(f"{orthanc}/dicom-web")
    ct = _first("ct_phantom")
    cr = _first("cr_mono1")
    for filters in (
        {"PatientID": ct.PatientID},
        {"StudyDate": f"{ct.StudyDate}-{ct.StudyDate}"},
        {"AccessionNumber": cr.AccessionNumber},
        {"ModalitiesInStudy": "CT"},
    ):
        _compare(
            ours.search_for_studies(search_filters=filters),
            theirs.search_for_studies(search_filters=filters),
            "0020000D",
            "STUDY",
        )
    # The MR study is only in medlab: compare on the shared ones
    _compare(
        ours.search_for_series(ct.StudyInstanceUID),
        theirs.search_for_series(ct.StudyInstanceUID),
        "0020000E",
        "SERIES",
    )
    _compare(
        ours.search_for_instances(ct.StudyInstanceUID, ct.SeriesInstanceUID),
        theirs.search_for_instances(ct.StudyInstanceUID, ct.SeriesInstanceUID),
        "00080018",
        "IMAGE",
    )


def test_wado_pixel_data_is_byte_identical(medlab_web, orthanc):
    ct = _first("ct_phantom")
    as_stored = (("application/dicom", "*"),)
    ours = DICOMwebClient(medlab_web.url).retrieve_series(
        ct.StudyInstanceUID, ct.SeriesInstanceUID, media_types=as_stored
    )
    theirs = DICOMwebClient(f"{orthanc}/dicom-web").retrieve_series(
        ct.StudyInstanceUID, ct.SeriesInstanceUID, media_types=as_stored
    )
    assert (
        len(ours)
        == len(theirs)
        == len([f for f in _files("ct_phantom") if f.parent == _files("ct_phantom")[0].parent])
    )
    theirs_by_uid = {ds.SOPInstanceUID: ds for ds in theirs}
    for ds in ours:
        assert ds.PixelData == theirs_by_uid[ds.SOPInstanceUID].PixelData
    uncompressed = (("application/octet-stream", "1.2.840.10008.1.2.1"),)
    frame_ours = DICOMwebClient(medlab_web.url).retrieve_instance_frames(
        ct.StudyInstanceUID, ct.SeriesInstanceUID, ct.SOPInstanceUID, [1], media_types=uncompressed
    )
    frame_theirs = DICOMwebClient(f"{orthanc}/dicom-web").retrieve_instance_frames(
        ct.StudyInstanceUID, ct.SeriesInstanceUID, ct.SOPInstanceUID, [1], media_types=uncompressed
    )
    assert bytes(frame_ours[0]) == bytes(frame_theirs[0])


def test_orthanc_client_queries_and_retrieves_from_medlab(medlab_web, orthanc):
    mr = _first("mr_phantom")
    found = requests.post(
        f"{orthanc}/dicom-web/servers/medlab/qido",
        json={"Uri": "/studies", "Arguments": {"PatientID": mr.PatientID}},
        timeout=60,
    )
    assert found.status_code == 200, found.text
    # Orthanc re-shapes the answer it got from medlab: one object per tag with "Name"/"Value"
    answer = found.json()
    assert [s["0020000D"]["Value"] for s in answer] == [mr.StudyInstanceUID]
    assert answer[0]["00100020"]["Value"] == mr.PatientID
    before = requests.get(f"{orthanc}/studies", timeout=30).json()
    got = requests.post(
        f"{orthanc}/dicom-web/servers/medlab/retrieve",
        json={"Resources": [{"Study": mr.StudyInstanceUID}]},
        timeout=120,
    )
    assert got.status_code == 200, got.text
    after = requests.get(f"{orthanc}/studies", timeout=30).json()
    assert len(after) == len(before) + 1
    series = DICOMwebClient(f"{orthanc}/dicom-web").search_for_instances(mr.StudyInstanceUID)
    assert len(series) == len(_files("mr_phantom"))
    back = DICOMwebClient(f"{orthanc}/dicom-web").retrieve_instance(
        mr.StudyInstanceUID,
        mr.SeriesInstanceUID,
        mr.SOPInstanceUID,
        media_types=(("application/dicom", "*"),),
    )
    assert back.PixelData == pydicom.dcmread(_files("mr_phantom")[0]).PixelData
