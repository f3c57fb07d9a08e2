# medlab: JupyterHub configuration for a whole class on ONE server.
#
# Two ways to use this file (docs/classroom.md walks through both):
#
# * Plain JupyterHub (local system users, PAM login, LocalProcessSpawner):
#       sudo jupyterhub -f /path/to/medlab/deploy/jupyterhub/jupyterhub_config.py
# * The Littlest JupyterHub (TLJH): copy it into the config.d folder, then reload:
#       sudo cp deploy/jupyterhub/jupyterhub_config.py /opt/tljh/config/jupyterhub_config.d/medlab.py
#       sudo tljh-config reload hub
#   TLJH keeps its own authenticator, spawner (systemd, which enforces memory limits) and idle
#   culler; this file then only adds what the course needs.
#
# Nothing here is medlab-specific magic: each trainee gets their own single-user server; every
# lesson starts its own PACS and HL7 listener on a free port inside that server and writes only
# under the trainee's own ~/.medlab. The hub only has to (1) open lesson 00, (2) pass the
# department endpoints through if the instructor sets them, (3) cull idle servers, and (4) be
# sized for the class (memory guidance below, from bench/classroom.py).
#
# Every knob can be set from the hub's environment (MEDLAB_* variables below) so that this file
# can stay unedited in the repository.

import importlib.util
import os
import sys

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

UNDER_TLJH = os.path.isdir("/opt/tljh/config")

# --------------------------------------------------------------------------------------------
# 1. Where the course lives, and what a trainee sees first.
#
# Each trainee has their OWN copy of the course in ~/medlab (cloned, or pulled with nbgitpuller
# by the link in docs/classroom.md), so their edits and outputs never touch anyone else's.
# The JupyterLab URL a trainee lands on after logging in opens lesson 00.
COURSE_DIR = os.environ.get("MEDLAB_COURSE_DIR", "medlab")
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = f"/lab/tree/{COURSE_DIR}/notebooks/00_start_here.ipynb"

# --------------------------------------------------------------------------------------------
# 2. Per-user data, and the department PACS / HL7 endpoint.
#
# medlab writes everything (PACS storage and index, HL7 message store, de-identified output,
# progress) under $MEDLAB_HOME, by default ~/.medlab: each trainee's own home. Do NOT set
# MEDLAB_HOME to a shared folder. The built sample data is read-only and may be shared:
# set MEDLAB_DATA for the hub (e.g. /srv/medlab/data, built once with `medlab data build`).
#
# One setting points every trainee's lessons at a shared department TEST PACS and HL7
# endpoint instead of the bundled ones: set these for the hub process (systemd unit, or
# `export` before starting jupyterhub) and they reach every single-user server:
#     MEDLAB_PACS="AET@host:port"      e.g. DEPTTEST@pacs-test.example.org:11112
#     MEDLAB_HL7="host:port"           e.g. hl7-test.example.org:2575
#     MEDLAB_CONFIG=/etc/medlab/config.toml   (the same settings as a file, see the class guide)
MEDLAB_PASSTHROUGH = ["MEDLAB_PACS", "MEDLAB_HL7", "MEDLAB_CONFIG", "MEDLAB_DATA"]
c.Spawner.env_keep.extend(MEDLAB_PASSTHROUGH)
# The same, written into the spawner's environment explicitly (TLJH's systemd spawner does not
# read the hub's environment for these):
for _name in MEDLAB_PASSTHROUGH:
    if os.environ.get(_name):
        c.Spawner.environment.update({_name: os.environ[_name]})

# --------------------------------------------------------------------------------------------
# 3. Memory per trainee.
#
# Measured with bench/classroom.py (see the sizing table in docs/classroom.md): one trainee's
# server with a lesson kernel and its PACS and HL7 listener peaks at about 300-350 MiB resident
# (less when counted proportionally, as the kernel's memory limit does). 1 GiB per trainee
# leaves room for a second open notebook and a large study; plan the server's RAM as
# (trainees x 1 GiB) + 2 GiB for the hub and the system, and shut down kernels of lessons you
# have finished (Kernel > Shut Down Kernel).
#
# The local process spawner does NOT enforce this (it only passes MEM_LIMIT to the server, for
# display); TLJH's systemd spawner and Kubernetes do: on TLJH set it with
#     sudo tljh-config set limits.memory 1G && sudo tljh-config reload
if not UNDER_TLJH:  # TLJH sets it from `tljh-config set limits.memory`: not overridden here
    c.Spawner.mem_limit = os.environ.get("MEDLAB_MEM_LIMIT", "1G")

# --------------------------------------------------------------------------------------------
# 4. Idle culling: stop servers nobody has used for an hour (their files stay; a trainee just
# logs in again). Needs `pip install jupyterhub-idle-culler` in the hub's environment.
# TLJH runs its own culler (tljh-config set services.cull.timeout 3600): not added twice.
CULL_TIMEOUT = int(os.environ.get("MEDLAB_CULL_TIMEOUT", "3600"))  # seconds idle
CULL_EVERY = int(os.environ.get("MEDLAB_CULL_EVERY", "300"))  # seconds between checks
if UNDER_TLJH:
    pass
elif importlib.util.find_spec("jupyterhub_idle_culler") is None:
    print("medlab: jupyterhub-idle-culler is not installed: idle servers will not be stopped "
          "(pip install jupyterhub-idle-culler)", file=sys.stderr)
else:
    c.JupyterHub.services.append({
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                    f"--timeout={CULL_TIMEOUT}", f"--cull-every={CULL_EVERY}"],
    })
    c.JupyterHub.load_roles.append({
        "name": "idle-culler",
        "description": "Stop idle single-user servers",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    })

# --------------------------------------------------------------------------------------------
# 5. JupyterLab for a classroom: no news or update pop-ups (they also try to reach the
# internet from every server).
c.Spawner.args.extend([
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
])

# --------------------------------------------------------------------------------------------
# 6. Kernels talk to their server over Unix sockets in the trainee's runtime folder
# (~/.local/share/jupyter/runtime), not over TCP ports of 127.0.0.1. With TCP, the server picks
# five free ports and the kernel binds them a moment later; on a server shared by a class,
# another trainee's process (a kernel, a lesson's PACS asking for a free port) can take one in
# between and the kernel dies with "Address already in use" and is restarted (bench/classroom.py
# saw it 18 times in one 30-trainee run). Unix sockets cannot clash, and other users cannot
# connect to them. (Unix socket paths are limited to ~107 characters: fine for /home/<name>.)
c.Spawner.args.append("--KernelManager.transport=ipc")

# --------------------------------------------------------------------------------------------
# 6b. nbgrader's instructor tools (the Nbgrader menu, the Validate button, the Create Assignment
# sidebar and nbgrader's server extensions) stay hidden from trainees even when nbgrader is
# installed into the users' environment (e.g. `pip install "medlab[instructor]"` on TLJH): their
# servers read the course's Jupyter config first, as `make lab` and binder/start do. Hub admins
# (the instructors) keep the tools. The course checkout is /srv/medlab (docs/classroom.md);
# MEDLAB_JUPYTER_CONFIG points elsewhere.
COURSE_JUPYTER_CONFIG = os.environ.get("MEDLAB_JUPYTER_CONFIG", "/srv/medlab/etc/jupyter")
if not os.path.isfile(os.path.join(COURSE_JUPYTER_CONFIG, "labconfig", "page_config.json")):
    print(f"medlab: {COURSE_JUPYTER_CONFIG} is not the course's Jupyter config: trainees will see "
          "nbgrader's tools if nbgrader is installed (set MEDLAB_JUPYTER_CONFIG to "
          "<course>/etc/jupyter)", file=sys.stderr)


def _course_jupyter_config(spawner):
    """JUPYTER_CONFIG_PATH for this user's server: the course config, none for instructors."""
    return "" if spawner.user.admin else COURSE_JUPYTER_CONFIG


c.Spawner.environment.update({"JUPYTER_CONFIG_PATH": _course_jupyter_config})

# --------------------------------------------------------------------------------------------
# 7. Plain JupyterHub only: who logs in, who is instructor.
#
# The defaults are the right ones for one server: PAM (trainees log in with their system
# account; create them with `sudo adduser`) and the LocalProcessSpawner (each server runs as
# that system user, so the OS keeps homes apart). Instructors named here get the admin page:
#     MEDLAB_INSTRUCTORS="alice,bob"
if not UNDER_TLJH:
    _admins = {name.strip() for name in os.environ.get("MEDLAB_INSTRUCTORS", "").split(",")
               if name.strip()}
    if _admins:
        c.Authenticator.admin_users = _admins
    # Serve on all interfaces, port 8000; put HTTPS in front (a reverse proxy such as nginx or
    # Caddy, or c.JupyterHub.ssl_cert/ssl_key) before trainees type passwords into it.
    c.JupyterHub.bind_url = os.environ.get("MEDLAB_HUB_URL", "http://:8000")
