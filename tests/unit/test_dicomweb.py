"""DICOMweb server (medlab.net.dicomweb) driven by dicomweb-client, the standard Python client.

A Store is filled with the course's sample data (CT, MR, MONOCHROME1 CR);
every answer is checked against the files themselves or the C-FIND matching.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pydicom
import pytest
import requests
from dicomweb_client import DICOMwebClient
from PIL import Image
from pydicom.uid import generate_uid

import medlab.data
from medlab.net.store import Store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

STUDIES = ("ct_phantom", "mr_phantom", "cr_mono1")


def built_study_files() -> list:
    """Every file of the built sample studies the archive holds (``medlab data build``)."""
    return [p for name in STUDIES for p in sorted(medlab.data.study(name).rglob("*.dcm"))]


def first(name: str):
    """The first file of a built sample study (``medlab data build``)."""
    return sorted(medlab.data.study(name).rglob("*.dcm"))[0]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    from medlab.net.dicomweb import DicomWebServer

    store = Store(tmp_path_factory.mktemp("pacs"))
    files = built_study_files()
    for path in files:
        store.put_dataset(pydicom.dcmread(path))
    server = DicomWebServer(store).start()
    yield store, server, files
    server.stop()
    store.close()


@pytest.fixture
def client(archive):
    return DICOMwebClient(archive[1].url)


def _value(item: dict, tag: str):
    values = item.get(tag, {}).get("Value")
    return values[0] if values else None


def _ct():
    return pydicom.dcmread(first("ct_phantom"), stop_before_pixels=True)


def _uids(results, tag):
    return sorted(_value(r, tag) for r in results)


# ---------------------------------------------------------------- QIDO-RS
def test_server_binds_loopback_and_prints_its_base_url(archive):
    server = archive[1]
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/dicom-web")


def test_qido_studies_returns_the_required_attributes(client, archive):
    studies = client.search_for_studies()
    store = archive[0]
    assert len(studies) == store.query("SELECT COUNT(DISTINCT study_uid) FROM instances")[0][0]
    ct = _ct()
    (study,) = [s for s in studies if _value(s, "0020000D") == ct.StudyInstanceUID]
    # PS3.18 Table 10.6.3-3
    for tag in (
        "00080020", "00080030", "00080050", "00080056", "00080061", "00080090", "00081190",
        "00100010", "00100020", "00100030", "00100040", "0020000D", "00200010", "00201206",
        "00201208",
    ):  # fmt: skip
        assert tag in study, tag
    assert _value(study, "00100020") == ct.PatientID
    assert study["00100010"]["Value"][0]["Alphabetic"] == str(ct.PatientName)
    n_series = store.query(
        "SELECT COUNT(DISTINCT series_uid) FROM instances WHERE study_uid=?", (ct.StudyInstanceUID,)
    )[0][0]
    assert _value(study, "00201206") == n_series
    assert _value(study, "00080056") == "ONLINE"
    assert _value(study, "00081190") == f"{archive[1].url}/studies/{ct.StudyInstanceUID}"


def test_qido_wildcard_is_percent_decoded_before_matching(client, archive):
    ct = _ct()
    prefix = str(ct.PatientName)[:3]
    # dicomweb-client percent-encodes '*' as %2A: the server must decode before matching
    found = client.search_for_studies(search_filters={"PatientName": prefix + "*"})
    assert ct.StudyInstanceUID in _uids(found, "0020000D")
    raw = requests.get(f"{archive[1].url}/studies?PatientName={prefix}%2A")
    assert raw.status_code == 200 and ct.StudyInstanceUID in _uids(raw.json(), "0020000D")
    # case-insensitive PN, and ? for one character
    lower = client.search_for_studies(search_filters={"PatientName": prefix.lower() + "*"})
    assert _uids(lower, "0020000D") == _uids(found, "0020000D")
    none = client.search_for_studies(search_filters={"PatientName": "ZZZNOBODY*"})
    assert none == []


def test_qido_no_match_is_204(archive):
    rsp = requests.get(f"{archive[1].url}/studies?PatientID=NOBODY-AT-ALL")
    assert rsp.status_code == 204 and rsp.content == b""


def test_qido_date_range_and_exact_keys_match_like_c_find(client, archive):
    from medlab.net.query import find

    store = archive[0]
    ct = _ct()
    day = ct.StudyDate
    inside = client.search_for_studies(search_filters={"StudyDate": f"{day}-{day}"})
    assert ct.StudyInstanceUID in _uids(inside, "0020000D")
    before = client.search_for_studies(search_filters={"StudyDate": f"-{int(day) - 1}"})
    assert ct.StudyInstanceUID not in _uids(before, "0020000D")
    # the same query through C-FIND matching gives the same studies
    ident = pydicom.Dataset()
    ident.QueryRetrieveLevel = "STUDY"
    ident.StudyInstanceUID = ""
    ident.StudyDate = f"{day}-"
    by_find = sorted(str(m.identifier.StudyInstanceUID) for m in find(store, "STUDY", ident))
    by_qido = _uids(client.search_for_studies(search_filters={"StudyDate": f"{day}-"}), "0020000D")
    assert by_find == by_qido
    exact = client.search_for_studies(search_filters={"AccessionNumber": ct.AccessionNumber})
    assert _uids(exact, "0020000D") == [ct.StudyInstanceUID]
    by_tag = requests.get(f"{archive[1].url}/studies?00080050={ct.AccessionNumber}").json()
    assert _uids(by_tag, "0020000D") == [ct.StudyInstanceUID]


def test_qido_uid_list_matching(client, archive):
    studies = client.search_for_studies()
    uids = _uids(studies, "0020000D")[:2]
    found = client.search_for_studies(search_filters={"StudyInstanceUID": uids})
    assert _uids(found, "0020000D") == uids
    # the comma form of PS3.18 §8.3.4.1
    raw = requests.get(f"{archive[1].url}/studies?StudyInstanceUID={','.join(uids)}").json()
    assert _uids(raw, "0020000D") == uids


def test_qido_limit_offset_pages_through_all_studies(client, archive):
    everything = _uids(client.search_for_studies(), "0020000D")
    pages = []
    for offset in range(0, len(everything), 2):
        rsp = requests.get(f"{archive[1].url}/studies?limit=2&offset={offset}")
        pages += [_value(r, "0020000D") for r in rsp.json()]
        if offset + 2 < len(everything):
            assert "additional results" in rsp.headers.get("Warning", "")
    assert sorted(pages) == everything


def test_qido_includefield_and_all(client, archive):
    ct = _ct()
    one = client.search_for_studies(
        search_filters={"StudyInstanceUID": ct.StudyInstanceUID}, fields=["StudyDescription"]
    )
    assert _value(one[0], "00081030") == ct.StudyDescription
    everything = requests.get(
        f"{archive[1].url}/studies?StudyInstanceUID={ct.StudyInstanceUID}&includefield=all"
    ).json()[0]
    assert _value(everything, "00081030") == ct.StudyDescription
    assert "00101010" in everything or "PatientAge" not in ct  # read from the file when asked


def test_qido_series_and_instances_levels(client, archive):
    ct = _ct()
    store = archive[0]
    series = client.search_for_series(ct.StudyInstanceUID)
    expected = sorted(
        r[0]
        for r in store.query(
            "SELECT DISTINCT series_uid FROM instances WHERE study_uid=?", (ct.StudyInstanceUID,)
        )
    )
    assert _uids(series, "0020000E") == expected
    mine = next(s for s in series if _value(s, "0020000E") == ct.SeriesInstanceUID)
    for tag in ("00080060", "0020000E", "00200011", "00201209", "00081190"):  # Table 10.6.3-4
        assert tag in mine, tag
    count = store.query(
        "SELECT COUNT(*) FROM instances WHERE series_uid=?", (ct.SeriesInstanceUID,)
    )[0][0]
    assert _value(mine, "00201209") == count
    instances = client.search_for_instances(ct.StudyInstanceUID, ct.SeriesInstanceUID)
    assert len(instances) == count
    first = instances[0]
    for tag in ("00080016", "00080018", "00080056", "00081190", "00200013", "00280010",
                "00280011", "00280100"):  # Table 10.6.3-5  # fmt: skip
        assert tag in first, tag
    assert _value(first, "00280010") == ct.Rows
    # All Series carries the study attributes, with the study's own counts
    all_series = client.search_for_series(
        search_filters={"SeriesInstanceUID": ct.SeriesInstanceUID}
    )
    assert _value(all_series[0], "00100020") == ct.PatientID
    n_series = len(expected)
    assert _value(all_series[0], "00201206") == n_series
    # Study's instances and All instances
    in_study = client.search_for_instances(ct.StudyInstanceUID)
    assert (
        len(in_study)
        == store.query("SELECT COUNT(*) FROM instances WHERE study_uid=?", (ct.StudyInstanceUID,))[
            0
        ][0]
    )
    one = client.search_for_instances(search_filters={"SOPInstanceUID": ct.SOPInstanceUID})
    assert [_value(i, "00080018") for i in one] == [ct.SOPInstanceUID]
    assert _value(one[0], "00201209") == count  # series count, not 1


def test_qido_modalities_in_study(client):
    ct = _ct()
    found = client.search_for_studies(search_filters={"ModalitiesInStudy": "CT"})
    assert ct.StudyInstanceUID in _uids(found, "0020000D")
    assert all("CT" in r["00080061"]["Value"] for r in found)


def test_qido_fuzzymatching(archive):
    url = archive[1].url
    off = requests.get(f"{url}/studies?fuzzymatching=false")
    assert off.status_code == 200 and "Warning" not in off.headers
    on = requests.get(f"{url}/studies?fuzzymatching=true")
    assert on.status_code == 200
    assert "fuzzymatching parameter is not supported" in on.headers["Warning"]
    assert on.headers["Warning"].startswith("299 ")


BAD_QUERIES = [
    "studies?limit=-5",
    "studies?limit=abc",
    "studies?offset=-1",
    "studies?NoSuchAttribute=1",
    "studies?FFFFFFFF=1",
    "studies?StudyDate=20250231",
    "studies?StudyDate=20251301-20251231",
    "studies?StudyDate=20251231-20250101",
    "studies?StudyDate=-",
    "studies?StudyDate=2025*",
    "studies?StudyTime=2561",
    "studies?StudyInstanceUID=1.2.abc",
    "studies?StudyInstanceUID=..%2F..%2Fetc",
    "studies?Modality=CT",
    "studies?SOPInstanceUID=1.2.3",
    "studies?NumberOfStudyRelatedSeries=2",
    "studies?ReferencedStudySequence.StudyInstanceUID=1.2",
    "studies?fuzzymatching=maybe",
    "studies?PatientID=a&PatientID=b",
    "studies?PatientName=%FF%FE",
    "studies/1.2.x/series",
    "studies/1.2.3/series?StudyInstanceUID=1.2.3",
    "series?SeriesNumber=one",
    "studies/1.2.3/series/4.5.6/instances/7.8.9/frames/0",
    "studies/1.2.3/series/4.5.6/instances/7.8.9/frames/a,b",
    "studies/1.2.3/series/4.5.6/instances/7.8.9/rendered?window=40",
    "studies/1.2.3/series/4.5.6/instances/7.8.9/rendered?window=40,-1",
    "studies/1.2.3/series/4.5.6/instances/7.8.9/rendered?viewport=0,0",
    "studies/1.2.3/series/4.5.6/instances/7.8.9/rendered?quality=500",
]


@pytest.mark.parametrize("path", BAD_QUERIES)
def test_bad_requests_are_400_with_a_reason(archive, path):
    rsp = requests.get(f"{archive[1].url}/{path}")
    assert rsp.status_code == 400, (rsp.status_code, rsp.text)
    assert rsp.headers["Content-Type"].startswith("text/plain")
    assert len(rsp.text.strip()) > 20  # says what is wrong


def test_no_request_gives_a_5xx(archive):
    """A list of odd requests: whatever the answer, it is never a server error."""
    url = archive[1].url
    ct = _ct()
    inst = (
        f"studies/{ct.StudyInstanceUID}/series/{ct.SeriesInstanceUID}/instances/{ct.SOPInstanceUID}"
    )
    odd = [
        *BAD_QUERIES,
        "nothing/here",
        "studies/1.2.3",
        "studies/1.2.3/metadata",
        f"{inst}/frames/99",
        f"{inst}/frames/1,2,3",
        f"{inst}/bulkdata/00100010",
        f"{inst}/bulkdata/7FE00010",
        f"{inst}/rendered?window=1e400,1",
        f"{inst}/frames/1/rendered?viewport=8193,1",
        "studies?includefield=NoSuchThing",
        "studies?includefield=all&limit=0",
        "studies?PatientName=" + "A" * 5000,
        "studies?StudyDate=99999999",
        "instances?InstanceNumber=999999999999999999999",
    ]
    for path in odd:
        rsp = requests.get(f"{url}/{path}")
        assert rsp.status_code < 500, (path, rsp.status_code, rsp.text)
    for accept in ("text/html", "application/dicom+xml", "image/gif", ",,,;q=x"):
        for path in ("studies", inst, f"{inst}/metadata", f"{inst}/frames/1", f"{inst}/rendered"):
            rsp = requests.get(f"{url}/{path}", headers={"Accept": accept})
            assert rsp.status_code < 500, (path, accept, rsp.status_code)


def test_unknown_uid_is_404(archive):
    rsp = requests.get(f"{archive[1].url}/studies/1.2.3.4.5")
    assert rsp.status_code == 404 and "study" in rsp.text


# ---------------------------------------------------------------- WADO-RS
def test_wado_series_bytes_and_pixels_are_those_of_the_files(client, archive):
    ct = _ct()
    got = client.retrieve_series(
        ct.StudyInstanceUID, ct.SeriesInstanceUID, media_types=(("application/dicom", "*"),)
    )
    files = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in archive[2]}
    assert (
        len(got)
        == archive[0].query(
            "SELECT COUNT(*) FROM instances WHERE series_uid=?", (ct.SeriesInstanceUID,)
        )[0][0]
    )
    for ds in got:
        original = pydicom.dcmread(files[ds.SOPInstanceUID])
        assert ds.PixelData == original.PixelData
    # byte for byte the stored file (as stored: transfer-syntax=*)
    stored = archive[0].file_of(ct.SOPInstanceUID)
    rsp = requests.get(
        f"{archive[1].url}/studies/{ct.StudyInstanceUID}/series/{ct.SeriesInstanceUID}"
        f"/instances/{ct.SOPInstanceUID}",
        headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'},
    )
    assert rsp.headers["Content-Type"].startswith('multipart/related; type="application/dicom"')
    assert stored.read_bytes() in rsp.content


def test_wado_default_is_explicit_vr_little_endian(archive, tmp_path):
    """Without transfer-syntax, application/dicom means Explicit VR LE (PS3.18 §8.7.3.5.2)."""
    from medlab.net.dicomweb import DicomWebServer

    store = Store(tmp_path / "implicit")
    ds = pydicom.dcmread(first("ct_phantom"))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    store.put_dataset(ds)
    with DicomWebServer(store) as server:
        got = DICOMwebClient(server.url).retrieve_instance(
            ds.StudyInstanceUID,
            ds.SeriesInstanceUID,
            ds.SOPInstanceUID,
            media_types=("application/dicom",),  # no transfer-syntax parameter
        )
        assert got.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert got.PixelData == ds.PixelData
        as_stored = DICOMwebClient(server.url).retrieve_instance(
            ds.StudyInstanceUID,
            ds.SeriesInstanceUID,
            ds.SOPInstanceUID,
            media_types=(("application/dicom", "*"),),
        )
        assert as_stored.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    store.close()


def test_wado_metadata_round_trips_through_from_json(client, archive):
    ct = _ct()
    meta = client.retrieve_instance_metadata(
        ct.StudyInstanceUID, ct.SeriesInstanceUID, ct.SOPInstanceUID
    )
    assert "BulkDataURI" in meta["7FE00010"] and "InlineBinary" not in meta["7FE00010"]
    fetched = []

    def bulk(uri: str) -> bytes:
        fetched.append(uri)
        return bytes(client.retrieve_bulkdata(uri)[0])  # the client gives a bytearray

    ds = pydicom.Dataset.from_json(meta, bulk_data_uri_handler=bulk)
    original = pydicom.dcmread(archive[0].file_of(ct.SOPInstanceUID))
    assert fetched and ds.PixelData == original.PixelData
    for elem in original:
        if elem.tag != 0x7FE00010:
            assert ds[elem.tag].value == elem.value, elem.keyword
    series_meta = client.retrieve_series_metadata(ct.StudyInstanceUID, ct.SeriesInstanceUID)
    assert len(series_meta) == len(
        client.search_for_instances(ct.StudyInstanceUID, ct.SeriesInstanceUID)
    )


def test_wado_frames_native_are_the_stored_bytes(client, archive):
    ct = pydicom.dcmread(first("ct_phantom"))
    (frame,) = client.retrieve_instance_frames(
        ct.StudyInstanceUID, ct.SeriesInstanceUID, ct.SOPInstanceUID, [1]
    )
    assert frame == ct.PixelData
    (again,) = client.retrieve_instance_frames(
        ct.StudyInstanceUID,
        ct.SeriesInstanceUID,
        ct.SOPInstanceUID,
        [1],
        media_types=(("application/octet-stream", "1.2.840.10008.1.2.1"),),
    )
    assert again == ct.PixelData


@pytest.fixture(scope="module")
def multiframe_rle(tmp_path_factory):
    """A 3-frame RLE Lossless object (compressed by pydicom's own RLE encoder)."""
    from medlab.net.dicomweb import DicomWebServer

    ds = pydicom.dcmread(first("ct_phantom"))
    arr = ds.pixel_array
    frames = np.stack([arr, np.flipud(arr), np.fliplr(arr)])
    ds.NumberOfFrames = 3
    ds.PixelData = frames.tobytes()
    ds.SOPInstanceUID = generate_uid()
    ds.compress(pydicom.uid.RLELossless)
    store = Store(tmp_path_factory.mktemp("rle"))
    store.put_dataset(ds)
    server = DicomWebServer(store).start()
    yield ds, frames, server
    server.stop()
    store.close()


def test_wado_compressed_frames_as_stored_and_uncompressed(multiframe_rle):
    from pydicom.encaps import generate_frames

    ds, frames, server = multiframe_rle
    client = DICOMwebClient(server.url)
    uids = (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    stored = list(generate_frames(ds.PixelData, number_of_frames=3))
    as_stored = client.retrieve_instance_frames(
        *uids, [3, 1], media_types=(("application/octet-stream", "*"),)
    )
    assert as_stored == [stored[2], stored[0]]
    rsp = requests.get(
        f"{server.url}/studies/{uids[0]}/series/{uids[1]}/instances/{uids[2]}/frames/2",
        headers={"Accept": 'multipart/related; type="image/dicom-rle"'},
    )
    assert rsp.status_code == 200 and stored[1] in rsp.content
    raw = client.retrieve_instance_frames(
        *uids, [2], media_types=(("application/octet-stream", "1.2.840.10008.1.2.1"),)
    )
    assert np.array_equal(np.frombuffer(raw[0], dtype="<u2").reshape(frames[1].shape), frames[1])
    gone = requests.get(
        f"{server.url}/studies/{uids[0]}/series/{uids[1]}/instances/{uids[2]}/frames/1",
        headers={"Accept": 'multipart/related; type="image/jpeg"'},
    )
    assert gone.status_code == 406


def test_rendered_png_and_jpeg(client, archive):
    from medlab.dicom.display import to_display

    ct = pydicom.dcmread(first("ct_phantom"))
    uids = (ct.StudyInstanceUID, ct.SeriesInstanceUID, ct.SOPInstanceUID)
    png = client.retrieve_instance_rendered(*uids, media_types=("image/png",))
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (ct.Columns, ct.Rows)
    expected = (np.clip(to_display(ct), 0, 1) * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(np.asarray(img), expected)  # the stored window, the course's pipeline
    jpeg = client.retrieve_instance_rendered(*uids, media_types=("image/jpeg",))
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    wide = client.retrieve_instance_rendered(
        *uids, media_types=("image/png",), params={"window": "0,4000"}
    )
    assert np.asarray(Image.open(io.BytesIO(wide))).std() != np.asarray(img).std()
    thumb = requests.get(f"{archive[1].url}/studies/{uids[0]}/series/{uids[1]}/thumbnail")
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) == 128


def test_rendered_monochrome1_is_inverted(client, archive):
    cr = pydicom.dcmread(first("cr_mono1"))
    assert cr.PhotometricInterpretation == "MONOCHROME1"
    png = client.retrieve_instance_rendered(
        cr.StudyInstanceUID, cr.SeriesInstanceUID, cr.SOPInstanceUID, media_types=("image/png",)
    )
    shown = np.asarray(Image.open(io.BytesIO(png))).astype(float)
    raw = cr.pixel_array.astype(float)
    # MONOCHROME1: high stored values are dark, so brightness falls as values rise
    assert np.corrcoef(shown.ravel(), raw.ravel())[0, 1] < -0.5


# ---------------------------------------------------------------- STOW-RS
def _new_instance() -> pydicom.Dataset:
    ds = pydicom.dcmread(first("mr_phantom"))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def test_stow_new_instance_is_stored_indexed_and_found(client, archive):
    ds = _new_instance()
    store = archive[0]
    result = client.store_instances([ds])
    (ref,) = result.ReferencedSOPSequence
    assert ref.ReferencedSOPInstanceUID == ds.SOPInstanceUID
    assert ref.RetrieveURL.endswith(f"/instances/{ds.SOPInstanceUID}")
    assert "FailedSOPSequence" not in result
    assert store.instance(ds.SOPInstanceUID) is not None
    found = client.search_for_instances(search_filters={"SOPInstanceUID": ds.SOPInstanceUID})
    assert len(found) == 1
    back = client.retrieve_instance(
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
        media_types=(("application/dicom", "*"),),
    )  # fmt: skip
    assert back.PixelData == ds.PixelData


def _stow(url: str, parts: list[tuple[str, bytes]], content_type: str | None = None):
    boundary = "medlab-test-boundary"
    body = b""
    for part_type, data in parts:
        body += f"--{boundary}\r\nContent-Type: {part_type}\r\n\r\n".encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    headers = {
        "Content-Type": content_type
        or f'multipart/related; type="application/dicom"; boundary={boundary}',
        "Accept": "application/dicom+json",
    }
    return requests.post(url, data=body, headers=headers)


def _file_bytes(ds: pydicom.Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def test_stow_duplicate_replaces_like_c_store(archive):
    ds = _new_instance()
    url = f"{archive[1].url}/studies"
    first = _stow(url, [("application/dicom", _file_bytes(ds))])
    second = _stow(url, [("application/dicom", _file_bytes(ds))])
    assert first.status_code == second.status_code == 200
    assert (
        archive[0].query("SELECT COUNT(*) FROM instances WHERE sop_uid=?", (ds.SOPInstanceUID,))[0][
            0
        ]
        == 1
    )


def test_stow_non_dicom_part_fails_with_a_reason(archive):
    url = f"{archive[1].url}/studies"
    good = _new_instance()
    mixed = _stow(
        url, [("application/dicom", _file_bytes(good)), ("application/dicom", b"not dicom")]
    )
    assert mixed.status_code == 202
    body = pydicom.Dataset.from_json(mixed.json())
    assert body.FailedSOPSequence[0].FailureReason == 0xC000
    assert body.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == good.SOPInstanceUID
    only_bad = _stow(url, [("application/dicom", b"\x00" * 200), ("text/plain", b"hello")])
    assert only_bad.status_code == 409
    reasons = [
        i.FailureReason for i in pydicom.Dataset.from_json(only_bad.json()).FailedSOPSequence
    ]
    assert reasons == [0xC000, 0xC000]


def test_stow_refuses_unsafe_uids_and_wrong_study(archive):
    url = archive[1].url
    bad = _new_instance()
    bad.SeriesInstanceUID = "1.2.3.../../../etc"
    rsp = _stow(f"{url}/studies", [("application/dicom", _file_bytes(bad))])
    assert rsp.status_code == 409
    assert pydicom.Dataset.from_json(rsp.json()).FailedSOPSequence[0].FailureReason == 0xC000
    other = _new_instance()
    rsp = _stow(f"{url}/studies/1.2.3.4", [("application/dicom", _file_bytes(other))])
    assert rsp.status_code == 409
    assert pydicom.Dataset.from_json(rsp.json()).FailedSOPSequence[0].FailureReason == 0xA900
    assert archive[0].instance(other.SOPInstanceUID) is None


def test_stow_wrong_media_type_is_415_and_garbage_is_400(archive):
    url = f"{archive[1].url}/studies"
    plain = requests.post(url, data=b"hello", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    json_form = _stow(url, [], 'multipart/related; type="application/dicom+json"; boundary=x')
    assert json_form.status_code == 415
    no_boundary = requests.post(
        url, data=b"xx", headers={"Content-Type": 'multipart/related; type="application/dicom"'}
    )
    assert no_boundary.status_code == 400
    garbage = requests.post(
        url, data=b"no parts here",
        headers={"Content-Type": 'multipart/related; type="application/dicom"; boundary=zz'},
    )  # fmt: skip
    assert garbage.status_code == 400


def test_stow_goes_through_the_put_hook_and_announces(tmp_path):
    """The PACS plugs its C-STORE path in with put=, and hears of each instance."""
    from medlab.net.dicomweb import DicomWebServer

    store = Store(tmp_path)
    calls, heard = [], []

    def put(data, ts, **kw):
        calls.append(ts)
        return store.put(data, ts, **kw)

    ds = _new_instance()
    with DicomWebServer(store, put=put, on_stored=heard.append) as server:
        DICOMwebClient(server.url).store_instances([ds])
    assert calls == [str(ds.file_meta.TransferSyntaxUID)]
    assert [h.sop_uid for h in heard] == [ds.SOPInstanceUID]


def test_peer_check_refuses_with_403(tmp_path):
    from medlab.net.dicomweb import DicomWebServer

    store = Store(tmp_path)
    seen = []

    def check(sock):
        seen.append(sock.getpeername())
        return False

    with DicomWebServer(store, peer_check=check) as server:
        rsp = requests.get(f"{server.url}/studies")
        again = requests.get(f"{server.url}/series")
    assert rsp.status_code == 403 and "owner" in rsp.text and again.status_code == 403
    assert seen and seen[0][0] == "127.0.0.1"


def test_peer_check_is_asked_once_per_connection_and_guards_extra_routes(tmp_path):
    import tornado.web

    from medlab.net.dicomweb import DicomWebServer

    class Hello(tornado.web.RequestHandler):
        def get(self):
            self.write("hello")

    store = Store(tmp_path)
    seen = []
    allowed = {"yes": True}

    def check(sock):
        seen.append(sock.getpeername())
        return allowed["yes"]

    routes = [(r"/hello", Hello)]
    with DicomWebServer(store, peer_check=check, extra_routes=routes) as server:
        base = server.url.rsplit("/dicom-web", 1)[0]
        with requests.Session() as session:  # one keep-alive connection
            assert session.get(f"{base}/hello").text == "hello"
            assert session.get(f"{server.url}/studies").status_code == 204
        assert len(seen) == 1
        allowed["yes"] = False
        assert requests.get(f"{base}/hello").status_code == 403


def test_port_in_use_is_a_medlab_error(tmp_path):
    from medlab.errors import MedlabError
    from medlab.net.dicomweb import DicomWebServer

    store = Store(tmp_path)
    with DicomWebServer(store) as first:
        with pytest.raises(MedlabError, match="cannot listen"):
            DicomWebServer(store, port=first.port).start()


def test_wado_streams_without_loading_the_file(archive, monkeypatch):
    """Instances go out in CHUNK-sized reads, never one read of the whole file."""
    from medlab.net.dicomweb import wado

    cr = pydicom.dcmread(first("cr_mono1"), stop_before_pixels=True)
    size = archive[0].file_of(cr.SOPInstanceUID).stat().st_size
    assert size > 4 * wado.CHUNK
    reads = []
    real = wado.file_chunks

    def spy(path, start=0, length=None):
        for chunk in real(path, start, length):
            reads.append(len(chunk))
            yield chunk

    monkeypatch.setattr(wado, "file_chunks", spy)
    rsp = requests.get(
        f"{archive[1].url}/studies/{cr.StudyInstanceUID}/series/{cr.SeriesInstanceUID}"
        f"/instances/{cr.SOPInstanceUID}",
        headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'},
    )
    assert rsp.status_code == 200
    assert sum(reads) == size and max(reads) <= wado.CHUNK and len(reads) > 4


def test_import_stays_light():
    import subprocess
    import sys

    code = (
        "import medlab.net.dicomweb, sys; print('tornado' in sys.modules, 'pydicom' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_json_is_valid_dicom_json(archive):
    rsp = requests.get(f"{archive[1].url}/studies", headers={"Accept": "application/dicom+json"})
    assert rsp.headers["Content-Type"] == "application/dicom+json"
    for item in json.loads(rsp.content):
        ds = pydicom.Dataset.from_json(item)
        assert ds.StudyInstanceUID


# ---------------------------------------------------------------- behind a stripping proxy


def test_urls_carry_the_prefix_a_proxy_forwards_and_a_forged_one_is_400(archive):
    """jupyter-server-proxy strips ``/user/ana/proxy/<port>`` and says so in headers."""
    url = archive[1].url
    ct = _ct()
    outer = "http://hub.example:8888/user/ana/proxy/8123/dicom-web"
    hdr = {"Host": "hub.example:8888", "X-Forwarded-Prefix": "/user/ana/proxy/8123"}
    study = requests.get(f"{url}/studies?StudyInstanceUID={ct.StudyInstanceUID}", headers=hdr)
    assert _value(study.json()[0], "00081190") == f"{outer}/studies/{ct.StudyInstanceUID}"
    meta = requests.get(f"{url}/studies/{ct.StudyInstanceUID}/metadata", headers=hdr).json()
    assert meta[0]["7FE00010"]["BulkDataURI"].startswith(f"{outer}/studies/")
    # Only X-Forwarded-Context (another proxy); a hub behind HTTPS on the default port.
    hdr = {"Host": "hub.example", "X-Forwarded-Context": "/p/", "X-Forwarded-Proto": "https"}
    study = requests.get(f"{url}/studies?StudyInstanceUID={ct.StudyInstanceUID}", headers=hdr)
    assert _value(study.json()[0], "00081190").startswith("https://hub.example/p/dicom-web/")
    # The hub's front proxy says which host the browser asked for.
    hdr = {"Host": "10.0.0.5:8888", "X-Forwarded-Host": "hub.example", "X-Forwarded-Prefix": "/p"}
    study = requests.get(f"{url}/studies?StudyInstanceUID={ct.StudyInstanceUID}", headers=hdr)
    assert _value(study.json()[0], "00081190").startswith("http://hub.example/p/dicom-web/")
    forged = '/x"><script>alert(1)'
    for name in ("X-Forwarded-Prefix", "X-Forwarded-Context", "X-ProxyContextPath"):
        rsp = requests.get(f"{url}/studies", headers={name: forged})
        assert rsp.status_code == 400 and "script" not in rsp.text, (name, rsp.text)
    rsp = requests.get(f"{url}/studies", headers={"X-Forwarded-Prefix": "//evil.example/x"})
    assert rsp.status_code == 400


def test_jupyter_auth_parameters_are_ignored_by_qido(archive):
    url = archive[1].url
    rsp = requests.get(f"{url}/studies", params={"token": "abc", "_xsrf": "2|x"})
    assert rsp.status_code == 200 and len(rsp.json()) == len(STUDIES)
    assert requests.get(f"{url}/studies", params={"Token": "abc"}).status_code == 400
