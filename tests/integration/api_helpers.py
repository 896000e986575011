"""Shared helpers of the API tests: an app with users of each role and their tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from trendreel.api import create_app, users
from trendreel.bootstrap import build_app

PASSWORD = "correct horse battery"


@dataclass
class Gateway:
    app: object  # the trendreel App
    api: object  # the FastAPI app
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None, **kwargs) -> TestClient:
        c = TestClient(self.api, raise_server_exceptions=False, **kwargs)
        if role:
            c.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return c


def make_gateway(settings, application=None) -> Gateway:
    application = application or build_app(settings)
    gw = Gateway(app=application, api=create_app(settings, application=application))
    for role in users.ROLES:
        users.add_user(application, username=role, password=PASSWORD, role=role)
        gw.tokens[role] = users.create_token(application, username=role, name=f"{role} tests")["token"]
    return gw


def assert_error(resp, status: int, code: str | None = None) -> dict:
    """The answer is a JSON error of this status, with nothing internal in it."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    text = resp.text
    for leak in ("Traceback", "File \"", "sqlalchemy", "SELECT ", "/tmp/", "site-packages", ".py\""):
        assert leak not in text, f"{leak!r} leaked: {text[:500]}"
    return body["error"]
