"""Two real Unix users: B's DICOMweb and viewer requests to A's PACS get HTTP 403, A's are served.

The web side of the PACS asks the same question as its DICOM side
(:func:`medlab.peers.check_peer`: which user owns the peer's socket?). Reuses
the two-user machinery of ``test_two_users.py`` (root needed; CI runs as root).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import requests
from unit.test_two_users import two_users  # noqa: F401 - the fixture


@dataclass
class _WebSide:
    """What ``UnixUser.serve`` needs: the port to report and how to stop."""

    pacs: object

    @property
    def port(self) -> int:
        return self.pacs.web_port  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.pacs.stop()  # type: ignore[attr-defined]


def _a_pacs() -> _WebSide:
    from medlab.net.server import PACS

    return _WebSide(PACS(root=Path.home() / "pacs").start())


def _get(port: int, path: str) -> tuple[int, str]:
    rsp = requests.get(f"http://127.0.0.1:{port}{path}", timeout=10)
    return rsp.status_code, rsp.text[:200]


def test_b_gets_403_from_a_dicomweb_and_viewer(two_users, tmp_path, monkeypatch):  # noqa: F811
    user_a, user_b = two_users
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "warm"))
    monkeypatch.setenv("HOME", str(tmp_path))
    warm = _a_pacs()  # as root first, so the forked children import nothing new
    try:
        assert _get(warm.port, "/dicom-web/studies")[0] == 204
        _get(warm.port, "/viewer/")
    finally:
        warm.stop()

    port = user_a.serve(_a_pacs)
    mine = user_a.call(_get, port, "/dicom-web/studies")
    assert mine.ok and mine.value[0] == 204, mine
    theirs = user_b.call(_get, port, "/dicom-web/studies")
    assert theirs.ok and theirs.value[0] == 403, theirs
    assert "only the programs of its owner" in theirs.value[1]
    viewer = user_b.call(_get, port, "/viewer/")
    assert viewer.ok and viewer.value[0] == 403, viewer
