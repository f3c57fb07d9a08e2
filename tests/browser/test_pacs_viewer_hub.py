"""The link ``pacs.viewer()`` prints on a hub or Binder opens the study through Jupyter.

The real PACS (DIMSE + DICOMweb + OHIF on its web port, owner-only peer check on) holds the
CT and the MONOCHROME1 CR; a real Jupyter server with jupyter-server-proxy runs under the
hub-like base URL ``/user/ana/`` (the fixture of ``test_ohif.py``). With
``JUPYTERHUB_SERVICE_PREFIX`` set, as JupyterHub and Binder set it in a trainee's server,
``pacs.viewer(uid)`` links through the proxy; a logged-in browser opens it and OHIF renders
the CT. The proxy (a process of the PACS's own user) passes the peer check.
"""

from __future__ import annotations

import pytest
import support
from browser.test_ohif import CT_STUDY, _login, jupyter, watched  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def pacs(tmp_path):
    from medlab.data import study
    from medlab.net.scu import store
    from medlab.net.server import PACS

    with PACS(root=tmp_path / "pacs") as running:
        if running.viewer_url is None:
            support.require(False, "OHIF is not installed (make install)")
        store([study("ct_phantom"), study("cr_mono1")], running)
        yield running


def test_pacs_viewer_link_on_a_hub_opens_the_study_through_jupyter(
    pacs,
    jupyter,  # noqa: F811
    watched,  # noqa: F811
    monkeypatch,
):
    from PIL import ImageStat

    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", jupyter["base_url"])
    link = pacs.viewer(CT_STUDY)
    assert link.url == (
        f"/user/ana/proxy/{pacs.web_port}/viewer/viewer?StudyInstanceUIDs={CT_STUDY}"
    )
    _login(watched, jupyter)
    canvas = watched.open_study(jupyter["url"] + link.url)
    assert ImageStat.Stat(canvas).stddev[0] > 20
