"""The classroom's JupyterHub configuration, loaded by JupyterHub itself (no hub started).

The end-to-end test (test_classroom_hub.py) runs the default, system accounts; here the LTI 1.3
option (Canvas launching the hub through jupyterhub-ltiauthenticator) is loaded the way
``jupyterhub -f`` loads it, its authenticator built from it, and its mapping of the LMS's roles to
the course's groups called with the claims an LMS sends.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from mlse.classroom import HUB_CONFIG, Classroom, ClassroomError, CourseSeats, spawn_settings

ISSUER = "https://canvas.instructure.com"
LTI = {"issuer": ISSUER, "client_id": ["10000000000001"],
       "authorize_url": "https://canvas.example.edu/api/lti/authorize_redirect",
       "jwks_endpoint": "https://canvas.example.edu/api/lti/security/jwks", "username_key": "email"}
ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles"
CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"


def _classroom(tmp_path, auth: str, courses: list[CourseSeats]) -> Classroom:
    room = Classroom(home=str(tmp_path / "hub"), exchange=str(tmp_path / "exchange"),
                     env=str(tmp_path / "env"), port=18000, hub_port=18081, proxy_api_port=18001,
                     auth=auth, lti=LTI if auth == "lti13" else {})
    room.folder.mkdir()
    room.save()
    (room.folder / "courses").mkdir()
    for seats in courses:
        room.course_file(seats.course_id).write_text(json.dumps(asdict(seats)))
    return room


def _load(room: Classroom, monkeypatch):
    """JupyterHub's own loading of the config file (``jupyterhub -f``)."""
    from jupyterhub.app import JupyterHub

    monkeypatch.setenv("MLSE_CLASSROOM_HOME", room.home)
    app = JupyterHub()
    app.load_config_file(str(HUB_CONFIG))
    return app


ML = CourseSeats("mlse", "/home/grace/mlse", ["grace"], ["ada", "ben"])
OTHER = CourseSeats("stats101", "/home/kath/stats101", ["kath"], ["ada", "cy"])


def test_system_accounts_two_courses_share_the_hub(tmp_path, monkeypatch):
    app = _load(_classroom(tmp_path, "pam", [ML, OTHER]), monkeypatch)
    cfg = app.config
    assert cfg.JupyterHub.authenticator_class == "pam"
    assert cfg.Authenticator.allowed_users == {"grace", "ada", "ben", "kath", "cy"}
    assert cfg.JupyterHub.load_groups == {
        "formgrade-mlse": {"users": ["grace"]}, "nbgrader-mlse": {"users": ["ada", "ben"]},
        "formgrade-stats101": {"users": ["kath"]}, "nbgrader-stats101": {"users": ["ada", "cy"]}}
    assert cfg.JupyterHub.port == 18000 and cfg.JupyterHub.hub_port == 18081
    assert cfg.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:18001"
    assert cfg.Spawner.cmd == [str(tmp_path / "env" / "bin" / "jupyterhub-singleuser")]
    assert "read:users:groups!user" in cfg.Spawner.server_token_scopes


def test_each_server_gets_its_role_in_its_course(tmp_path):
    room = _classroom(tmp_path, "pam", [ML, OTHER])
    grace, ada = spawn_settings(room, "grace"), spawn_settings(room, "ada")
    assert grace["role"] == "instructor" and grace["lessons"] is None
    assert grace["environment"]["JUPYTER_CONFIG_PATH"].endswith("courses/mlse/jupyter/instructor")
    assert ada["role"] == "student" and ada["course"].course_id == "mlse"
    assert ada["environment"]["JUPYTER_CONFIG_PATH"].endswith("courses/mlse/jupyter/student")
    assert ada["environment"]["PATH"].startswith(f"{tmp_path / 'env'}/bin")
    with pytest.raises(ClassroomError, match="mallory is in no course of this hub"):
        spawn_settings(room, "mallory")


def test_lti13_from_canvas_loads_and_maps_roles_to_groups(tmp_path, monkeypatch):
    from ltiauthenticator.lti13.auth import LTI13Authenticator

    app = _load(_classroom(tmp_path, "lti13", [ML]), monkeypatch)
    cfg = app.config
    assert cfg.JupyterHub.authenticator_class == "ltiauthenticator.lti13.auth.LTI13Authenticator"
    auth = LTI13Authenticator(config=cfg)
    assert auth.issuer == ISSUER and auth.client_id == {"10000000000001"}
    assert auth.jwks_endpoint == LTI["jwks_endpoint"] and auth.authorize_url == LTI["authorize_url"]
    assert auth.manage_groups and auth.allow_all
    assert auth.login_url("/hub/") == "/hub/lti13/oauth_login"

    def launched(*roles, label="mlse"):
        claims = {ROLES: [f"http://purl.imsglobal.org/vocab/lis/v2/membership#{r}" for r in roles],
                  CONTEXT: {"label": label}, "email": "someone@example.edu"}
        return auth.post_auth_hook(auth, None, {"name": "someone@example.edu", "auth_state": claims})

    assert launched("Learner")["groups"] == ["nbgrader-mlse"]
    assert launched("Instructor")["groups"] == ["formgrade-mlse"]
    assert launched("TeachingAssistant")["groups"] == ["formgrade-mlse"]
    assert launched("Mentor")["groups"] == []


def test_a_missing_classroom_says_to_set_it_up(tmp_path):
    with pytest.raises(ClassroomError, match="run `mlse classroom setup` first"):
        Classroom.load(tmp_path / "nowhere")
