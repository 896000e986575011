"""Shared helpers of the API tests: an app with users of each role and their tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from trendreel.api import create_app
from trendreel.services import users
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
    # nothing internal, and no command-line hint ("list trends with `trendreel trends`"): the CLI's alone
    for leak in ("Traceback", "File \"", "sqlalchemy", "SELECT ", "/tmp/", "site-packages", ".py\"", "`trendreel "):
        assert leak not in text, f"{leak!r} leaked: {text[:500]}"
    return body["error"]


def fuzz_schema(api, token: str, *, max_examples: int = 10, seed: int = 1) -> dict:
    """schemathesis over every operation of the API's OpenAPI schema, in process; counts cases by status.

    Each operation gets up to `max_examples` generated requests (valid and invalid ones), sent with the
    given bearer token; a 5xx answer is a failure, listed with the request that caused it.
    """
    import schemathesis
    from hypothesis import HealthCheck, given, settings as hsettings

    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    stats = {"operations": 0, "cases": 0, "by_mode": {}, "by_status": {}, "failures": []}
    for result in schema.get_all_operations():
        op = result.ok()
        stats["operations"] += 1
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                strategy = op.as_strategy(generation_mode=mode)
            except Exception:  # noqa: BLE001 - an operation with nothing to make invalid has no negative cases
                continue

            @given(case=strategy)
            @hsettings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                       suppress_health_check=list(HealthCheck))
            def run(case):
                _mode = case.meta.generation.mode.value if getattr(case, "meta", None) else "unknown"
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                stats["cases"] += 1
                stats["by_mode"][_mode] = stats["by_mode"].get(_mode, 0) + 1
                key = str(response.status_code)
                stats["by_status"][key] = stats["by_status"].get(key, 0) + 1
                if response.status_code >= 500:
                    stats["failures"].append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - hypothesis could not generate for this mode (unsatisfiable)
                if type(exc).__name__ not in ("Unsatisfiable", "FailedHealthCheck"):
                    raise
    return stats
