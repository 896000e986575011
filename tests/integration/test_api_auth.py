"""The gateway's security: every request authenticated and checked for its role, sessions with CSRF,
tokens that stop working when revoked, and JSON errors that say what is wrong and nothing internal."""

from __future__ import annotations

import re

import pytest

from tests.integration.api_helpers import PASSWORD, assert_error, make_gateway
from trendreel import services
from trendreel.publish.accounts import folder_roots
from trendreel.services import users
from trendreel.bootstrap import App
from trendreel.files.store import open_file_store
from trendreel.settings import Settings

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout"),
          ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}
# Writes every signed-in user may make: their own session and their own tokens.
ANY_USER_WRITES = {("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/{token_id}")}
ADMIN_ONLY = {("GET", "/api/v1/users"), ("POST", "/api/v1/users"), ("PUT", "/api/v1/users/{username}/role"),
              ("DELETE", "/api/v1/users/{username}"), ("POST", "/api/v1/accounts"),
              ("DELETE", "/api/v1/accounts/{platform}/{name}"), ("POST", "/api/v1/storage/gc"), ("GET", "/metrics"),
              ("POST", "/api/v1/sources"), ("PUT", "/api/v1/sources/{name}"), ("DELETE", "/api/v1/sources/{name}")}
SAMPLE_PARAMS = {"username": "nobody", "platform": "folder", "name": "x", "which": "file"}


@pytest.fixture
def gw(database, tmp_path):
    settings = Settings(home=tmp_path / "home", database_url=database.url)
    application = App(settings=settings, db=database, files=open_file_store((tmp_path / "files").as_uri()))
    return make_gateway(settings, application)


def _api_routes(api):
    """Every operation of the OpenAPI schema: the whole public surface."""
    for path, ops in api.openapi()["paths"].items():
        for method in ops:
            yield method.upper(), path


def _url(path: str) -> str:
    """The path with each parameter filled in: a well-formed id of the right letter, or a sample value."""
    def fill(m):
        name = m.group(1)
        if name in SAMPLE_PARAMS:
            return SAMPLE_PARAMS[name]
        letter = {"token_id": "k"}.get(name, name[0])
        return letter + "0" * 23
    return re.sub(r"\{(\w+)\}", fill, path)


def test_every_endpoint_needs_credentials_and_the_right_role(gw):
    routes = list(_api_routes(gw.api))
    assert len(routes) > 35
    anon, viewer, editor = gw.client(), gw.client("viewer"), gw.client("editor")
    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC or not path.startswith(("/api/", "/metrics")):
            continue
        url = _url(path)
        assert_error(anon.request(method, url, json={}), 401, "unauthenticated")
        assert anon.request(method, url, json={}).headers.get("www-authenticate") == "Bearer"
        if (method, path) in ADMIN_ONLY:
            assert_error(editor.request(method, url, json={}), 403, "forbidden")
        if method != "GET" and (method, path) not in ANY_USER_WRITES:
            err = assert_error(viewer.request(method, url, json={}), 403, "forbidden")
            assert "viewer" in err["message"]
        checked += 1
    assert checked > 30
    # Public ones answer without credentials.
    assert anon.get("/healthz").json() == {"status": "ok"}
    assert anon.get("/readyz").json()["status"] == "ok"
    assert "/api/v1/trends" in anon.get("/openapi.json").json()["paths"]


def test_bad_credentials_are_refused_the_same_way(gw):
    c = gw.client()
    for header in ("Bearer trt_not-a-real-token", "Bearer " + "x" * 5000, "Basic dXNlcjpwYXNz", "Bearer"):
        assert_error(c.get("/api/v1/trends", headers={"Authorization": header}), 401, "unauthenticated")
    assert_error(c.post("/api/v1/auth/login", json={"username": "viewer", "password": "wrong password"}), 401)
    unknown = c.post("/api/v1/auth/login", json={"username": "nosuchuser", "password": "wrong password"})
    assert_error(unknown, 401)
    assert unknown.json()["error"]["message"] == "wrong user name or password"


def test_login_session_csrf_and_logout(gw):
    c = gw.client()
    r = c.post("/api/v1/auth/login", json={"username": "editor", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["role"] == "editor"
    csrf = r.json()["csrf_token"]
    session_cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("trendreel_session="))
    assert "httponly" in session_cookie.lower() and "samesite=lax" in session_cookie.lower()
    assert c.cookies.get("trendreel_csrf") == csrf  # readable by the page's script: double submit
    assert c.get("/api/v1/auth/me").json()["via"] == "session"
    # A write with the session cookie but without the CSRF token is refused; with it, it goes through.
    assert_error(c.post("/api/v1/tokens", json={"name": "from the browser"}), 403, "csrf_failed")
    assert_error(c.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "forged"}), 403, "csrf_failed")
    ok = c.post("/api/v1/tokens", json={"name": "from the browser"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201 and ok.json()["token"].startswith("trt_")
    # A form post may carry the token as a field instead.
    form = c.post("/api/v1/auth/logout", data={"csrf_token": csrf})
    assert form.status_code == 200
    assert_error(c.get("/api/v1/auth/me"), 401)
    # A bearer token needs no CSRF token: it is not sent by the browser on its own.
    assert gw.client("editor").post("/api/v1/tokens", json={"name": "program"}).status_code == 201


def test_a_forged_or_stale_session_cookie_is_refused(gw):
    c = gw.client()
    c.post("/api/v1/auth/login", json={"username": "viewer", "password": PASSWORD})
    assert c.get("/api/v1/auth/me").status_code == 200
    stolen = c.cookies.get("trendreel_session")
    # A changed password ends existing sessions.
    users.add_user(gw.app, username="viewer", password="another long password", role="viewer")
    assert_error(c.get("/api/v1/auth/me"), 401)
    other = gw.client()
    other.cookies.set("trendreel_session", stolen[:-4] + "AAAA")  # signature no longer matches
    assert_error(other.get("/api/v1/auth/me"), 401)


def test_tokens_are_stored_hashed_and_stop_working_when_revoked_or_removed(gw):
    created = users.create_token(gw.app, username="editor", name="ci", expires_days=30)
    token = created["token"]
    from trendreel.db.tables import ApiToken

    with gw.app.db.session() as s:
        row = s.get(ApiToken, created["id"])
        assert row.token_hash != token and token not in row.token_hash and len(row.token_hash) == 64
    c = gw.client()
    c.headers["Authorization"] = f"Bearer {token}"
    assert c.get("/api/v1/auth/me").json()["token_id"] == created["id"]
    listed = c.get("/api/v1/tokens").json()
    assert created["id"] in {t["id"] for t in listed} and all("token" not in t for t in listed)
    # Another user's token cannot be revoked by a non-admin; their own can.
    viewer_token = users.list_tokens(gw.app, username="viewer")[0]["id"]
    assert_error(c.delete(f"/api/v1/tokens/{viewer_token}"), 404)
    assert c.delete(f"/api/v1/tokens/{created['id']}").json()["revoked_at"]
    assert_error(c.get("/api/v1/auth/me"), 401)
    # Removing a user removes their tokens.
    users.remove_user(gw.app, username="viewer")
    assert_error(gw.client("viewer").get("/api/v1/auth/me"), 401)


def test_admins_manage_users_and_roles_over_the_api(gw):
    admin = gw.client("admin")
    r = admin.post("/api/v1/users", json={"username": "carol", "password": "a long enough password", "role": "editor"})
    assert r.status_code == 201 and r.json()["role"] == "editor" and "password" not in r.text
    assert admin.put("/api/v1/users/carol/role", json={"role": "viewer"}).json()["role"] == "viewer"
    assert_error(admin.post("/api/v1/users", json={"username": "dave", "password": "short"}), 422, "invalid_request")
    assert_error(admin.post("/api/v1/users", json={"username": "dave", "password": "long enough pw", "role": "root"}), 422)
    assert_error(admin.delete("/api/v1/users/admin"), 400)
    assert admin.delete("/api/v1/users/carol").status_code == 200
    assert_error(admin.delete("/api/v1/users/carol"), 404, "not_found")
    with gw.app.db.session() as s:
        from trendreel.db.tables import User

        hashes = [u.password_hash for u in s.query(User)]
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_invalid_input_gets_422_json_that_names_the_field_and_leaks_nothing(gw):
    c = gw.client("editor")
    cases = [
        c.get("/api/v1/stories/not-an-id"),
        c.get("/api/v1/videos/v" + "g" * 23),
        c.get("/api/v1/stories/s" + "0" * 23 + "/../../etc/passwd"),
        c.get("/api/v1/trends?limit=0"),
        c.get("/api/v1/trends?limit=abc"),
        c.get("/api/v1/search?q=x&like=a" + "0" * 23),
        c.post("/api/v1/runs", json={"kind": "drop tables"}),
        c.post("/api/v1/runs", json={"kind": "crawl", "sources": ["x"], "extra": 1}),
        c.post("/api/v1/runs", content=b"{not json", headers={"content-type": "application/json"}),
        c.put("/api/v1/stories/s" + "0" * 23, json={"scenes": []}),
        c.post("/api/v1/stories/s" + "0" * 23 + "/render", json={"backend": "../../bin/sh"}),
        c.post("/api/v1/stories/s" + "0" * 23 + "/render", json={"force": "maybe"}),
    ]
    for r in cases:
        assert r.status_code in (404, 422), (r.request.url, r.status_code, r.text)
        assert_error(r, r.status_code)
    err = assert_error(c.get("/api/v1/trends?limit=0"), 422, "invalid_request")
    assert "limit" in err["message"]
    err = assert_error(c.post("/api/v1/runs", json={"kind": "crawl", "sources": ["nosuch"]}), 404, "not_found")
    assert "nosuch" in err["message"]


def test_oversized_bodies_get_413(gw, tmp_path):
    gw.app.settings.serve.max_body_mb = 0.01
    from trendreel.api import create_app

    api = create_app(gw.app.settings, application=gw.app)
    from fastapi.testclient import TestClient

    c = TestClient(api, raise_server_exceptions=False)
    c.headers["Authorization"] = f"Bearer {gw.tokens['admin']}"
    big = {"username": "x", "password": "y" * 20_000}
    assert_error(c.post("/api/v1/users", json=big), 413, "too_large")

    def chunks():  # no Content-Length: counted while reading
        for _ in range(20):
            yield b"x" * 1000

    assert_error(c.post("/api/v1/users", content=chunks(), headers={"content-type": "application/json"}), 413)


def test_an_unexpected_failure_is_a_500_with_an_id_and_no_details(gw, caplog):
    def boom():
        raise RuntimeError("secret detail: /srv/trendreel/data SELECT * FROM app_user")

    gw.api.add_api_route("/api/v1/boom", boom)
    with caplog.at_level("ERROR", logger="trendreel.api"):
        r = gw.client("viewer").get("/api/v1/boom")
    err = assert_error(r, 500, "internal_error")
    assert "secret" not in r.text and "SELECT" not in r.text
    assert err["error_id"] in caplog.text and "secret detail" in caplog.text


def test_metrics_count_by_route_template(gw):
    c = gw.client("admin")
    for i in range(3):
        c.get(f"/api/v1/stories/s{i:023x}")
    text = c.get("/metrics").text
    assert 'route="/api/v1/stories/{story_id}"' in text
    assert "/api/v1/stories/s000" not in text
    assert_error(gw.client("editor").get("/metrics"), 403)
    gw.app.settings.serve.metrics_public = True
    assert gw.client().get("/metrics").status_code == 200


def test_the_last_admin_cannot_demote_or_remove_themselves(gw):
    admin = gw.client("admin")
    for change in (lambda: admin.put("/api/v1/users/admin/role", json={"role": "editor"}),
                   lambda: admin.post("/api/v1/users", json={"username": "admin", "password": PASSWORD, "role": "viewer"})):
        err = assert_error(change(), 409, "conflict")
        assert "last admin" in err["message"]
    assert users.get_user(gw.app, users.user_id("admin"))["role"] == "admin"
    with pytest.raises(users.LastAdmin):
        users.remove_user(gw.app, username="admin")
    with pytest.raises(users.LastAdmin):
        users.set_role(gw.app, username="admin", role="viewer")
    # With a second admin, one of them may step down.
    users.add_user(gw.app, username="second", password=PASSWORD, role="admin")
    assert admin.put("/api/v1/users/admin/role", json={"role": "editor"}).json()["role"] == "editor"
    second = users.create_token(gw.app, username="second", name="t")["token"]
    c = gw.client()
    c.headers["Authorization"] = f"Bearer {second}"
    err = assert_error(c.put("/api/v1/users/second/role", json={"role": "viewer"}), 409, "conflict")
    assert "last admin" in err["message"]


def test_a_run_naming_ids_that_do_not_exist_is_refused_with_404_up_front(gw):
    editor = gw.client("editor")
    missing = {"story": {"trend_id": "t" + "0" * 23}, "render": {"story_id": "s" + "0" * 23},
               "edit": {"video_id": "v" + "0" * 23}, "index": {"article_ids": ["a" + "0" * 23]}}
    for kind, params in missing.items():
        err = assert_error(editor.post("/api/v1/runs", json={"kind": kind, **params}), 404, "not_found")
        named = next(iter(params.values()))
        assert (named[0] if isinstance(named, list) else named) in err["message"]
    # the same answer as the dedicated routes
    assert_error(editor.post(f"/api/v1/stories/{'s' + '0' * 23}/render", json={}), 404, "not_found")
    assert editor.get("/api/v1/runs").json() == []  # no run was started


def test_publishing_names_an_existing_account_and_only_admins_make_them(gw, tmp_path):
    editor, admin = gw.client("editor"), gw.client("admin")
    video = "v" + "0" * 23
    roots = folder_roots(gw.app)
    assert roots == [(tmp_path / "home" / "published").resolve()]  # the default: a folder in the home
    # An editor cannot make an account (or a folder anywhere) by publishing to a path.
    for to in (f"folder:{tmp_path / 'anywhere'}", "folder:~/x", f"folder:{roots[0] / 'inside'}", "folder:../up"):
        err = assert_error(editor.post(f"/api/v1/videos/{video}/publish", json={"to": to}), 404, "not_found")
        assert "account" in err["message"]
    assert services.list_accounts(gw.app, include_removed=True) == []
    assert not (tmp_path / "anywhere").exists()
    # Admins add folder accounts, inside the allowed roots only.
    outside = admin.post("/api/v1/accounts", json={"platform": "folder", "name": "out", "path": str(tmp_path / "elsewhere")})
    err = assert_error(outside, 400, "invalid_request")
    assert "publish.folder_roots" in err["message"]
    sneaky = admin.post("/api/v1/accounts", json={"platform": "folder", "name": "up", "path": str(roots[0] / ".." / "..")})
    assert_error(sneaky, 400, "invalid_request")
    assert_error(editor.post("/api/v1/accounts", json={"platform": "folder", "name": "x", "path": str(roots[0])}), 403)
    shelf = roots[0] / "shelf"
    assert admin.post("/api/v1/accounts", json={"platform": "folder", "name": "shelf", "path": str(shelf)}).status_code == 201
    # A removed account stays removed: publishing to its name or its path does not bring it back.
    assert admin.delete("/api/v1/accounts/folder/shelf").status_code == 200
    for to in ("folder:shelf", f"folder:{shelf}"):
        assert_error(editor.post(f"/api/v1/videos/{video}/publish", json={"to": to}), 404, "not_found")
    assert services.list_accounts(gw.app) == []
    assert [a["removed_at"] is not None for a in services.list_accounts(gw.app, include_removed=True)] == [True]


def _replay(gw, cookie: str):
    """A second client (another machine) with nothing but a copy of the session cookie."""
    other = gw.client()
    other.cookies.set("trendreel_session", cookie)
    return other


def test_logging_out_ends_the_session_on_the_server(gw):
    c = gw.client()
    r = c.post("/api/v1/auth/login", json={"username": "editor", "password": PASSWORD})
    csrf = r.json()["csrf_token"]
    copied = c.cookies.get("trendreel_session")
    thief = _replay(gw, copied)
    assert thief.get("/api/v1/auth/me").status_code == 200  # a copied cookie works while the session lives
    assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    # The copied cookie is dead: reads and writes alike.
    assert_error(thief.get("/api/v1/auth/me"), 401, "unauthenticated")
    assert_error(thief.post("/api/v1/tokens", json={"name": "stolen"}, headers={"X-CSRF-Token": csrf}), 401)
    assert_error(_replay(gw, copied).get("/api/v1/trends"), 401)
    assert [t["name"] for t in users.list_tokens(gw.app, username="editor")] == ["editor tests"]
    # Logging in again makes a new session; the old cookie stays dead.
    c.post("/api/v1/auth/login", json={"username": "editor", "password": PASSWORD})
    assert c.get("/api/v1/auth/me").status_code == 200 and c.cookies.get("trendreel_session") != copied
    assert_error(_replay(gw, copied).get("/api/v1/auth/me"), 401)


def test_a_password_change_or_removal_ends_every_session_of_the_user(gw):
    sessions = []
    for _ in range(2):
        c = gw.client()
        c.post("/api/v1/auth/login", json={"username": "viewer", "password": PASSWORD})
        sessions.append(c.cookies.get("trendreel_session"))
    assert all(_replay(gw, s).get("/api/v1/auth/me").status_code == 200 for s in sessions)
    assert users.end_sessions(gw.app, username="viewer") == 2  # e.g. a password change elsewhere
    assert all(_replay(gw, s).get("/api/v1/auth/me").status_code == 401 for s in sessions)
    c = gw.client()
    c.post("/api/v1/auth/login", json={"username": "viewer", "password": PASSWORD})
    cookie = c.cookies.get("trendreel_session")
    users.add_user(gw.app, username="viewer", password="another long password", role="viewer")
    assert_error(_replay(gw, cookie).get("/api/v1/auth/me"), 401)
    c = gw.client()
    c.post("/api/v1/auth/login", json={"username": "viewer", "password": "another long password"})
    cookie = c.cookies.get("trendreel_session")
    users.remove_user(gw.app, username="viewer")
    users.add_user(gw.app, username="viewer", password="another long password", role="viewer")  # same name again
    assert_error(_replay(gw, cookie).get("/api/v1/auth/me"), 401)


def _age_login_attempts(gw, seconds: float) -> None:
    """Move every recorded login attempt back in time, as if the window had passed."""
    from datetime import timedelta

    from trendreel.db.tables import LoginAttempt

    with gw.app.db.session() as s:
        for row in s.query(LoginAttempt):
            row.at = row.at - timedelta(seconds=seconds)


def test_failed_logins_are_throttled_per_account_and_per_address_and_logged(gw):
    from trendreel import events
    from trendreel.db.tables import Event

    serve = gw.app.settings.serve
    serve.login_failures_per_account, serve.login_failures_per_address, serve.login_window_s = 3, 6, 600
    c = gw.client()
    login = lambda user, pw, client=c: client.post("/api/v1/auth/login", json={"username": user, "password": pw})  # noqa: E731
    for _ in range(3):
        assert_error(login("editor", "wrong password"), 401, "unauthenticated")
    # The account is locked for the window: even the right password gets 429, with when to try again.
    for pw in ("wrong password", PASSWORD):
        r = login("editor", pw)
        err = assert_error(r, 429, "too_many_requests")
        assert "too many failed logins" in err["message"] and 0 < int(r.headers["retry-after"]) <= 600
    # Another account from the same address still logs in (until the address's own limit).
    assert login("viewer", PASSWORD).status_code == 200
    with gw.app.db.session() as s:
        failed = [e.payload for e in s.query(Event).filter(Event.type == events.LOGIN_FAILED).order_by(Event.id)]
    assert len(failed) == 5 and {f["username"] for f in failed} == {"editor"}
    assert [f["throttled"] for f in failed] == [False, False, False, True, True] and failed[0]["address"]
    assert all(PASSWORD not in str(f) and "wrong password" not in str(f) for f in failed)
    # After the window the right password works again.
    _age_login_attempts(gw, 601)
    assert login("editor", PASSWORD).status_code == 200
    # Per address: guesses at many names from one address lock that address out, for every name.
    for n in range(6):
        assert_error(login(f"guess{n}", "wrong password"), 401)
    assert_error(login("admin", PASSWORD), 429, "too_many_requests")
    # The same through the workspace's login form: 429 too.
    import re as _re

    browser = gw.client()  # a fresh browser on the same address
    page = browser.get("/login")
    token = _re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    form = browser.post("/login", data={"username": "admin", "password": PASSWORD, "login_csrf": token})
    assert form.status_code == 429 and "too many failed logins" in form.text and form.headers["retry-after"]
