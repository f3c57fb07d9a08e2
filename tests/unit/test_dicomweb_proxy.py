"""DICOMweb through jupyter-server-proxy, as on Binder and a hub: every URL the server returns works.

A real Jupyter server with jupyter-server-proxy (the fixture of tests/browser/test_ohif.py,
base URL ``/user/ana/``) stands in front of a real PACS's web side. The proxy strips
``/user/ana/proxy/<port>`` and says so in ``X-Forwarded-Prefix``; the RetrieveURLs and
BulkDataURIs the PACS answers must carry that prefix, or a client outside cannot follow them.
(dicomweb-client names the host without its port; the hub's own proxy in front of Jupyter
adds ``X-Forwarded-Host``, which the test sends in its place.) The trainee's Jupyter token rides in the query string (``?token=``), which the proxy passes on
to the PACS: QIDO-RS ignores it.
"""

from __future__ import annotations

import pydicom
import pytest
import requests
from browser.test_ohif import CT_STUDY, TOKEN, jupyter  # noqa: F401 - the fixture
from dicomweb_client import DICOMwebClient

import medlab.data

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]

PIXEL_DATA = "7FE00010"


@pytest.fixture
def pacs(tmp_path):
    from medlab.net.scu import store
    from medlab.net.server import PACS

    with PACS(root=tmp_path / "pacs") as running:
        store([medlab.data.study("ct_phantom")], running)
        yield running


def test_urls_returned_through_the_proxy_can_be_followed(pacs, jupyter):  # noqa: F811
    proxied = f"{jupyter['url']}/user/ana/proxy/{pacs.web_port}/dicom-web"
    session = requests.Session()
    session.params = {"token": TOKEN}  # Jupyter's login, as a trainee's link carries it
    # dicomweb-client sends ``Host: 127.0.0.1`` without the port; in front of a hub's Jupyter
    # server the hub's proxy (configurable-http-proxy, xfwd) says which host the client asked.
    session.headers["X-Forwarded-Host"] = jupyter["url"].removeprefix("http://")
    client = DICOMwebClient(proxied, session=session)

    (study,) = client.search_for_studies(search_filters={"PatientName": "ABERN*"})
    assert study["00081190"]["Value"] == [f"{proxied}/studies/{CT_STUDY}"]
    series = client.search_for_series(CT_STUDY)
    assert all(s["00081190"]["Value"][0].startswith(f"{proxied}/studies/") for s in series)
    series_uid = series[0]["0020000E"]["Value"][0]
    first = client.search_for_instances(CT_STUDY, series_uid, limit=1)[0]
    assert first["00081190"]["Value"][0].startswith(proxied + "/")

    metadata = client.retrieve_series_metadata(CT_STUDY, series_uid)
    uri = metadata[0][PIXEL_DATA]["BulkDataURI"]
    assert uri.startswith(f"{proxied}/studies/{CT_STUDY}/series/{series_uid}/instances/")
    (pixels,) = client.retrieve_bulkdata(uri)  # followed through the proxy, as returned
    sop = metadata[0]["00080018"]["Value"][0]
    files = {pydicom.dcmread(p).SOPInstanceUID: p for p in pacs.store.root.rglob("*.dcm")}
    assert pixels == pydicom.dcmread(files[sop]).PixelData


def test_jupyter_auth_parameters_are_not_qido_keys_but_unknown_ones_still_are(
    pacs,
    jupyter,  # noqa: F811
):
    proxied = f"{jupyter['url']}/user/ana/proxy/{pacs.web_port}/dicom-web"
    ok = requests.get(f"{proxied}/studies", params={"token": TOKEN, "_xsrf": "x"}, timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json()[0]["0020000D"]["Value"] == [CT_STUDY]
    # A client that sends its Host with the port (a browser, requests) needs no other header.
    assert ok.json()[0]["00081190"]["Value"] == [f"{proxied}/studies/{CT_STUDY}"]
    bad = requests.get(f"{proxied}/studies", params={"token": TOKEN, "tokens": "x"}, timeout=30)
    assert bad.status_code == 400 and "tokens" in bad.text
