"""schemathesis over every operation of the gateway, with every check (`--checks all`): status codes, content
types, headers and bodies as the OpenAPI schema documents them, 405 with a true `Allow`, invalid data refused
and valid data accepted, never a 5xx.

The requests are an admin's. Operations that could lock the run out or delete what others test on (logout,
removing or demoting users, revoking tokens, deleting accounts, gc) run against an app of their own per
operation, so the rest of the run keeps its admin and its data.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.integration.api_helpers import assert_error, make_gateway
from trendreel.settings import Settings

MAX_EXAMPLES = 10  # per operation and phase: about two minutes on two busy cores


def _destructive(ctx) -> bool:
    op = ctx.operation
    return (op.method.upper() == "DELETE" or op.path in ("/api/v1/auth/logout", "/api/v1/users/{username}/role",
                                                         "/api/v1/storage/gc"))


def _all_checks() -> list:
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    return list(CHECKS.get_all())


def _gateway(tmp_path_factory):
    gw = make_gateway(Settings(home=tmp_path_factory.mktemp("conformance") / "home"))
    gw.schema = schemathesis.openapi.from_asgi("/openapi.json", gw.api)
    return gw


def _close(gw) -> None:
    gw.api.state.runner.shutdown(wait=True)  # the runs that generated requests started finish first
    gw.app.close()


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32's lazy schemas read and write `node._nodeid`, which pytest 9 no longer sets."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    gw = _gateway(tmp_path_factory)
    yield gw
    _close(gw)


@pytest.fixture
def own_gateway(tmp_path_factory):
    gw = _gateway(tmp_path_factory)
    yield gw
    _close(gw)


@pytest.fixture(scope="module")
def api_schema(gateway):
    return gateway.schema.exclude(_destructive)


@pytest.fixture
def destructive_schema(own_gateway):
    return own_gateway.schema.include(_destructive)


# Requests the schema cannot tell apart from good ones, refused by a rule across fields that OpenAPI has no
# words for: search takes q or like, never both (query parameters have no oneOf); histories are free-form
# JSON lines in the import shape, checked line by line and refused with the line's number (docs/learning.md);
# a folder account's path must lie inside the server's publish.folder_roots, a rule of its settings; a voice
# (ENGINE:VOICE) must be one its engine has, which only asking the engine tells; publishing names an account
# that exists (an admin adds accounts), which the schema cannot list; planning a post takes a time from now
# to a year ahead, or the best hour, never both.
CROSS_FIELD_RULES = {"POST /api/v1/schedule", "GET /api/v1/search", "POST /api/v1/forecast", "POST /api/v1/learn/histories",
                     "POST /api/v1/accounts", "POST /api/v1/voices/preview", "POST /api/v1/stories/{story_id}/render",
                     "POST /api/v1/runs", "POST /api/v1/videos/{video_id}/publish"}


def _check(case, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    response = case.call(headers=headers)
    checks = _all_checks()
    if case.operation.label in CROSS_FIELD_RULES:
        checks = [c for c in checks if getattr(c, "__name__", "") != "positive_data_acceptance"]
    case.validate_response(response, checks=checks, headers=headers)


safe = schemathesis.pytest.from_fixture("api_schema")
destructive = schemathesis.pytest.from_fixture("destructive_schema")


@pytest.mark.slow
@safe.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_conforms_to_its_schema(case, gateway):
    _check(case, gateway.tokens["admin"])


@pytest.mark.slow
@destructive.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_destructive_operation_conforms_on_an_app_of_its_own(case, own_gateway):
    _check(case, own_gateway.tokens["admin"])


def test_the_two_runs_cover_every_operation_once(gateway):
    def labels(schema) -> set[str]:
        return {result.ok().label for result in schema.get_all_operations()}

    every, safe, own = labels(gateway.schema), labels(gateway.schema.exclude(_destructive)), \
        labels(gateway.schema.include(_destructive))
    assert len(every) >= 50 and safe | own == every and not safe & own
    assert own == {"POST /api/v1/auth/logout", "PUT /api/v1/users/{username}/role", "DELETE /api/v1/users/{username}",
                   "DELETE /api/v1/tokens/{token_id}", "DELETE /api/v1/accounts/{platform}/{name}",
                   "POST /api/v1/storage/gc", "DELETE /api/v1/sources/{name}"}


# ---- what the run found, one request each -----------------------------------------------------------


def test_405_lists_every_method_of_the_path(gateway):
    c = gateway.client("admin")
    for path, allowed in [("/api/v1/users", "GET, POST"), ("/api/v1/tokens", "GET, POST"),
                          ("/api/v1/stories/s00000000000000000000000", "GET, PUT"), ("/api/v1/runs", "GET, POST"),
                          ("/api/v1/metrics/collect", "POST")]:
        r = c.options(path)
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["allow"] == allowed, path


def test_a_method_the_path_does_not_take_is_405_not_422(gateway):
    c = gateway.client("admin")
    for path, allowed in [("/api/v1/videos/v00000000000000000000000/edit", "POST"),
                          ("/api/v1/metrics/collect", "POST")]:
        r = c.get(path)
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["allow"] == allowed


@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/v1/storage/gc", {"dry_run": 0}),
    ("post", "/api/v1/storage/gc", {"dry_run": "false"}),
    ("post", "/api/v1/learn/fit", {"split_at": 0}),
    ("post", "/api/v1/learn/choose", {"count": "3"}),
    ("post", "/api/v1/learn/choose", {"count": True}),
    ("post", "/api/v1/stories/s00000000000000000000000/render", {"force": 1}),
    ("get", "/api/v1/trends?until=0.5", None),
    ("get", "/api/v1/trends?since=1700000000", None),
])
def test_loose_values_are_refused(gateway, method, path, body):
    c = gateway.client("admin")
    r = getattr(c, method)(path, **({"json": body} if body is not None else {}))
    assert_error(r, 422, "invalid_request")


def test_a_whole_number_written_with_a_point_is_still_a_number(gateway):
    r = gateway.client("admin").post("/api/v1/learn/choose", json={"count": 3.0})
    assert_error(r, 409)  # the count was taken; nothing to choose from yet is the state's answer


def test_the_schema_lists_backends_and_account_shapes(gateway):
    schema = gateway.client().get("/openapi.json").json()
    backend = schema["components"]["schemas"]["RenderRequest"]["properties"]["backend"]
    assert next(b for b in backend["anyOf"] if b.get("type") == "string")["enum"] == ["compositor", "ltx2", "remote"]
    body = schema["paths"]["/api/v1/accounts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in body["oneOf"]} == {"FolderAccountIn", "YoutubeAccountIn", "InstagramAccountIn"}
    files = schema["paths"]["/api/v1/videos/{video_id}/thumbnail"]["get"]["responses"]["200"]["content"]
    assert list(files) == ["image/jpeg"]
    assert {"409", "503"} <= set(schema["paths"]["/api/v1/trends"]["get"]["responses"])
