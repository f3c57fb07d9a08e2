"""A whole class on one real JupyterHub: isolation proven with several users at once.

One run (fixture ``class_run`` in conftest.py, machinery in bench/classroom.py):
a JupyterHub from deploy/jupyterhub/jupyterhub_config.py with DummyAuthenticator,
SimpleLocalProcessSpawner and configurable-http-proxy on 127.0.0.1; users log in
through the hub's REST API, start their servers, and in each server, through its
own REST API and kernel websocket, run a probe (C-STORE/C-FIND/C-GET to their
own PACS, an HL7 message to their own MLLP listener), the lessons, and the probe
again — all users at the same time. Then the hub is stopped.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow


def test_every_notebook_ran_without_error_for_every_user(class_run, class_lessons):
    assert class_run.failures == [], class_run.report()
    expected = ["zz_probe_before", *class_lessons, "zz_probe_after"]
    by_user = {}
    for run in class_run.runs:
        by_user.setdefault(run.user, []).append(run.notebook)
        assert run.cells > 0, f"{run.user} {run.notebook}: no cell ran"
    assert len(by_user) == class_run.users
    assert all(sorted(nbs) == sorted(expected) for nbs in by_user.values()), by_user


def test_the_network_lessons_were_part_of_the_run(class_lessons):
    """The class must run the store/query/retrieve lesson once it exists (and 13 once it does)."""
    import support

    for lesson in ("08_store_query_retrieve", "13_hl7_acks_and_orders"):
        if (support.NOTEBOOKS / f"{lesson}.ipynb").is_file():
            assert lesson in class_lessons


def test_no_two_users_services_shared_a_port(class_run):
    assert class_run.clashes == [], class_run.report()
    # The sampler really watched: it saw listening sockets of every user (server, kernels,
    # PACS, MLLP listener), not an empty table that would pass any check.
    assert class_run.listeners >= 3 * class_run.users
    assert class_run.services_started >= 4 * class_run.users  # probe PACS + listener, twice
    assert class_run.indexes_seen >= class_run.users  # PACS indexes seen open, each in its home


def test_each_users_pacs_holds_only_that_users_studies(class_run, classroom):
    assert class_run.leaks == [], class_run.report()
    users = sorted(class_run.patients)
    assert len(users) == class_run.users
    assert class_run.roots_queried >= class_run.users  # every PACS root under every home
    for user in users:
        own = classroom.marker(user)
        held = class_run.patients[user]
        assert own in held
        assert not {classroom.marker(other) for other in users if other != user} & held
    # What the lessons stored legitimately (common sample studies) is the same for everyone.
    common = {
        user: {p for p in class_run.patients[user] if not p.startswith(classroom.MARKER_PREFIX)}
        for user in users
    }
    assert len({frozenset(c) for c in common.values()}) == 1, common


def test_default_url_opens_lesson_00(class_run):
    assert len(class_run.default_urls) == class_run.users
    for user, location in class_run.default_urls.items():
        path = urlsplit(location).path  # the server may append an empty query ("...ipynb?")
        assert path == f"/user/{user}/lab/tree/medlab/notebooks/00_start_here.ipynb", location


def test_hub_proxy_and_servers_leave_nothing_behind(class_run):
    assert class_run.leftovers == [], class_run.report()


def test_the_hub_ran_the_real_proxy_and_the_idle_culler(class_run):
    """Started from deploy/jupyterhub/jupyterhub_config.py: CHP proxies, the culler runs."""
    children = " | ".join(class_run.hub_children)
    assert "configurable-http-proxy" in children
    assert "jupyterhub_idle_culler" in children and "--timeout=3600" in children


# ---------------------------------------------------------------------------- the deploy files
def _load_deploy_config(monkeypatch, **env):
    import support
    from traitlets.config.loader import PyFileConfigLoader

    for name in ("MEDLAB_PACS", "MEDLAB_HL7", "MEDLAB_CONFIG", "MEDLAB_DATA", "MEDLAB_MEM_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    folder = support.REPO / "deploy" / "jupyterhub"
    return PyFileConfigLoader("jupyterhub_config.py", path=str(folder)).load_config()


def test_deploy_config_passes_the_department_endpoints_through(monkeypatch):
    c = _load_deploy_config(
        monkeypatch, MEDLAB_PACS="DEPTTEST@pacs-test.example.org:11112", MEDLAB_MEM_LIMIT="2G"
    )
    assert c.Spawner.default_url == "/lab/tree/medlab/notebooks/00_start_here.ipynb"
    environment = dict(c.Spawner.environment.get_value({}))
    environment.pop("JUPYTER_CONFIG_PATH")  # test_deploy_config_hides_nbgrader_from_trainees
    assert environment == {"MEDLAB_PACS": "DEPTTEST@pacs-test.example.org:11112"}
    kept = c.Spawner.env_keep.get_value(["PATH"])
    assert {"PATH", "MEDLAB_PACS", "MEDLAB_HL7", "MEDLAB_CONFIG", "MEDLAB_DATA"} <= set(kept)
    assert c.Spawner.mem_limit == "2G"
    assert "MEDLAB_HOME" not in c.Spawner.environment.get_value({})  # never a shared home


def test_deploy_config_hides_nbgrader_from_trainees(monkeypatch):
    """Trainees' servers read the course's Jupyter config (the one `make lab` uses); admins not."""
    from types import SimpleNamespace

    import support

    monkeypatch.delenv("MEDLAB_JUPYTER_CONFIG", raising=False)
    trainee_user = SimpleNamespace(user=SimpleNamespace(admin=False))
    default = _load_deploy_config(monkeypatch).Spawner.environment.get_value({})
    assert default["JUPYTER_CONFIG_PATH"](trainee_user) == "/srv/medlab/etc/jupyter"
    course = support.REPO / "etc" / "jupyter"
    c = _load_deploy_config(monkeypatch, MEDLAB_JUPYTER_CONFIG=str(course))
    for_user = c.Spawner.environment.get_value({})["JUPYTER_CONFIG_PATH"]
    trainee = for_user(trainee_user)
    assert trainee == support.lab_command(8888)[0]["JUPYTER_CONFIG_PATH"]
    assert for_user(SimpleNamespace(user=SimpleNamespace(admin=True))) == ""


def test_z2jh_values_fragment():
    import support
    import yaml

    values = yaml.safe_load(
        (support.REPO / "deploy" / "jupyterhub" / "z2jh-values.yaml").read_text()
    )
    single = values["singleuser"]
    assert single["defaultUrl"] == "/lab/tree/medlab/notebooks/00_start_here.ipynb"
    assert single["extraEnv"]["MEDLAB_HOME"].startswith("/home/jovyan/")  # the user's own volume
    assert single["memory"] == {"guarantee": "512M", "limit": "1G"}
    assert values["cull"]["enabled"] is True
    assert single["networkPolicy"]["egressAllowRules"]["privateIPs"] is True
    assert "/srv/medlab/notebooks" in " ".join(
        single["lifecycleHooks"]["postStart"]["exec"]["command"]
    )


def test_lessons_write_nothing_outside_the_users_home(class_run):
    """Every writable path under the trainee's own medlab home (the issue's first rule).

    Each user server runs with TMPDIR pointing to a folder of its own outside the home:
    anything found there afterwards was written where, on a real server, /tmp is shared.
    """
    assert class_run.outside_home == [], class_run.outside_home
