"""Lesson 16's answers are what the archive really does, and its HTTP log shows real requests."""

from __future__ import annotations

import pydicom
import pytest
import requests
from dicomweb_client import DICOMwebClient

import medlab.data
from medlab.check import lesson16
from medlab.net.dicomweb.httplog import HttpLog
from medlab.net.server import PACS


@pytest.fixture(scope="module")
def pacs(tmp_path_factory):
    from medlab.net.scu import store

    with PACS(root=tmp_path_factory.mktemp("pacs")) as running:
        store([medlab.data.study("mr_phantom"), medlab.data.study("cr_mono1")], running)
        yield running


def _answer(ex, code=None):
    return ex.run_code(code or ex.solution_code)


def test_ex1_solution_finds_the_mr_study_and_only_it(pacs):
    target = _answer(lesson16.ex1)
    rsp = requests.get(pacs.dicomweb_url + target, timeout=10)
    assert rsp.status_code == 200
    (study,) = rsp.json()
    mr = pydicom.dcmread(sorted(medlab.data.study("mr_phantom").rglob("*.dcm"))[0])
    assert study["0020000D"]["Value"] == [mr.StudyInstanceUID]


def test_ex1_the_wildcard_date_is_refused_by_the_archive_too(pacs):
    target = _answer(lesson16.ex1, lesson16.ex1.wrong_code)
    rsp = requests.get(pacs.dicomweb_url + target, timeout=10)
    assert rsp.status_code == 400 and "C.2.2.2.5" in rsp.text


def test_ex2_path_leads_to_the_name_in_a_real_qido_answer(pacs):
    path = _answer(lesson16.ex2)
    (study,) = DICOMwebClient(pacs.dicomweb_url).search_for_studies(
        search_filters={"PatientID": "MLB-100587"}
    )
    node = study
    for step in path:
        node = node[step]
    assert node == "OKONKWO^BENEDICT"


def test_ex3_status_is_what_the_archive_answers_to_a_pdf_part(pacs):
    body = b"--XX\r\nContent-Type: application/dicom\r\n\r\n%PDF-1.4 a report\r\n--XX--\r\n"
    rsp = requests.post(
        f"{pacs.dicomweb_url}/studies",
        data=body,
        headers={"Content-Type": 'multipart/related; type="application/dicom"; boundary=XX'},
        timeout=10,
    )
    assert rsp.status_code == _answer(lesson16.ex3)
    for code in lesson16.ex3.wrong_answers:
        assert rsp.status_code != _answer(lesson16.ex3, code)


def test_http_log_shows_each_request_of_a_dicomweb_client(pacs):
    http = HttpLog()
    client = DICOMwebClient(pacs.dicomweb_url, session=http.session())
    client.search_for_studies(search_filters={"PatientID": "MLB-100587"})
    text = str(http.last())
    assert text.startswith("GET /dicom-web/studies?PatientID=MLB-100587\n")
    assert "Accept: application/dicom+json" in text and "-> 200 OK, application/dicom+json" in text
    client.search_for_studies(search_filters={"PatientID": "nobody"})
    assert "-> 204 No Content" in str(http.last()) and len(http) == 2
    assert repr(http).count("GET /dicom-web/studies") == 2


def test_http_log_without_requests_is_a_clear_error():
    from medlab.errors import MedlabError

    with pytest.raises(MedlabError, match="No HTTP request"):
        HttpLog().last()
