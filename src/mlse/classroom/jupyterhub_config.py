"""JupyterHub's configuration for the course's classroom (``mlse classroom start`` runs
``jupyterhub -f`` this file; docs/classroom.md).

Everything specific to a classroom is read from its folder (``$MLSE_CLASSROOM_HOME``, written by
``mlse classroom setup``): ``hub.json`` (ports, exchange, authentication) and one
``courses/COURSE.json`` per course (instructors, students). Several courses share one hub: each
has the groups nbgrader's JupyterHub support reads, ``formgrade-COURSE`` (instructors) and
``nbgrader-COURSE`` (students), and its own folder in the exchange.
"""

import os
from pathlib import Path

from mlse.classroom import Classroom, ClassroomError, give_lessons, spawn_settings

c = get_config()  # noqa: F821  (JupyterHub provides get_config)

classroom = Classroom.load(os.environ.get("MLSE_CLASSROOM_HOME", "/srv/mlse-classroom"))
courses = classroom.courses()
state = classroom.state

# --- Where the hub listens, and its own files (root's, in state/) -----------------------------
c.JupyterHub.ip = classroom.ip
c.JupyterHub.port = classroom.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = classroom.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{classroom.proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
# Students' servers stop with the hub (nothing is left running after Ctrl-C).
c.JupyterHub.cleanup_servers = True

# --- Who is who: one pair of groups per course --------------------------------------------------
c.JupyterHub.load_groups = {}
for seats in courses:
    c.JupyterHub.load_groups[f"formgrade-{seats.course_id}"] = {"users": seats.instructors}
    c.JupyterHub.load_groups[f"nbgrader-{seats.course_id}"] = {"users": seats.students}

if classroom.auth == "lti13":
    # Students and instructors come from the LMS (Canvas, Moodle...) with LTI 1.3; their roles in
    # the LMS's course decide their group here (docs/classroom.md, "LTI 1.3").
    c.JupyterHub.authenticator_class = "ltiauthenticator.lti13.auth.LTI13Authenticator"
    lti = classroom.lti
    c.LTI13Authenticator.issuer = lti.get("issuer", "")
    c.LTI13Authenticator.client_id = set(lti.get("client_id", []))
    c.LTI13Authenticator.authorize_url = lti.get("authorize_url", "")
    c.LTI13Authenticator.jwks_endpoint = lti.get("jwks_endpoint", "")
    c.LTI13Authenticator.username_key = lti.get("username_key", "email")
    c.Authenticator.allow_all = True  # whoever the LMS launches; the LMS decides who is enrolled
    c.Authenticator.manage_groups = True

    ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles"
    CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"

    def lti_groups(authenticator, handler, authentication):
        """The LMS course's roles -> this hub's groups: Instructor or TeachingAssistant ->
        formgrade-COURSE, Learner -> nbgrader-COURSE (COURSE: the hub course whose id is the LMS
        course's label, or the only course of the hub)."""
        claims = authentication.get("auth_state") or {}
        label = (claims.get(CONTEXT) or {}).get("label", "")
        ids = [s.course_id for s in courses]
        course = label if label in ids else (ids[0] if len(ids) == 1 else None)
        roles = " ".join(claims.get(ROLES) or [])
        groups = []
        if course and ("Instructor" in roles or "TeachingAssistant" in roles):
            groups.append(f"formgrade-{course}")
        elif course and "Learner" in roles:
            groups.append(f"nbgrader-{course}")
        authentication["groups"] = groups
        return authentication

    c.Authenticator.post_auth_hook = lti_groups
else:
    # System accounts: everyone logs in with their own account's password.
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.open_sessions = False  # no systemd-logind session per server
    c.Authenticator.allowed_users = {u for s in courses for u in s.instructors + s.students}

# --- Each person's server: as themselves, with the course's environment -----------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(Path(classroom.env) / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
# nbgrader's JupyterHubAuthPlugin reads the user's groups (which courses they are in).
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                 "read:users:name!user", "read:users:groups!user"]


def course_environment(spawner):
    """Who this is in which course decides their server's settings (student: the Assignments
    tab, no formgrader; instructor: formgrader on the course folder), and a student's first
    server gets the lessons in ~/COURSE/lessons."""
    try:
        settings = spawn_settings(classroom, spawner.user.name)
    except ClassroomError as exc:
        spawner.log.warning("%s", exc)
        raise
    spawner.environment.update(settings["environment"])
    if settings["lessons"] is not None:
        give_lessons(settings["lessons"], settings["course"].course_id, spawner.user.name)


c.Spawner.pre_spawn_hook = course_environment
