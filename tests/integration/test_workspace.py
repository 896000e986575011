"""The web workspace through the real gateway (sessions, CSRF, roles) on SQLite and PostgreSQL:
who may see and do what, the story editor's inline grounding messages, masked settings, Korean text,
the predicted views of each trend by the newest fitted model."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_helpers import PASSWORD, make_gateway
from tests.metrics_support import add_publication, add_samples, add_trend, add_video
from tests.render_support import make_story, store_article, store_story
from trendreel import services
from trendreel.bootstrap import App
from trendreel.db.tables import Publication
from trendreel.files.store import open_file_store
from trendreel.learn.synthetic import synthetic_histories
from trendreel.services.workspace import MASK

# Pages that only read are checked on SQLite; what writes (roles, the story editor) on PostgreSQL too.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SECRETS = {"llm_key": "sk-live-0123456789abcdef", "s3_secret": "s3-secret-value-xyz", "db_password": "hunter2-db-pass"}


@pytest.fixture
def gateway(database, make_settings, tmp_path):
    settings = make_settings(llm={"api_key": SECRETS["llm_key"]}, publish={"folder_roots": [str(tmp_path)]},
                             s3={"access_key_id": "AKIAEXAMPLEKEY", "secret_access_key": SECRETS["s3_secret"]},
                             database_url=f"postgresql+psycopg://trendreel:{SECRETS['db_password']}@db.internal:5432/trendreel")
    settings.home.mkdir(parents=True, exist_ok=True)
    application = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    gw = make_gateway(settings, application)
    yield gw
    application.close()


def browser(gw, role: str | None) -> TestClient:
    """A client that behaves like a browser: cookies, form posts, and (with a role) a signed-in session."""
    client = TestClient(gw.api, raise_server_exceptions=False, follow_redirects=False)
    if role:
        page = client.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
        resp = client.post("/login", data={"username": role, "password": PASSWORD, "login_csrf": token, "next": "/"})
        assert resp.status_code == 303 and resp.headers["location"] == "/", resp.text[:500]
    return client


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def korean_story(gw) -> tuple[str, dict]:
    aid = store_article(gw.app, "han-river-running", lang="ko")
    sid = store_story(gw.app, make_story(aid, "ko", [None, None]), "s" + "a" * 23)
    return sid, services.get_story(gw.app, sid)


@sqlite_only
def test_pages_send_a_visitor_to_the_login_form_and_back_but_never_to_another_site(gateway):
    client = browser(gateway, None)
    for path in ("/", "/trends", "/videos", "/settings"):
        resp = client.get(path)
        assert resp.status_code == 303 and resp.headers["location"] == f"/login?next={path}"
    form = client.get("/login?next=/videos")
    assert form.status_code == 200 and 'value="/videos"' in form.text
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
    wrong = client.post("/login", data={"username": "editor", "password": "not the password", "login_csrf": token})
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    token = re.search(r'name="login_csrf" value="([^"]+)"', wrong.text).group(1)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        resp = client.post("/login", data={"username": "editor", "password": PASSWORD, "login_csrf": token, "next": target})
        assert resp.status_code == 303 and resp.headers["location"] == "/", target
        client.post("/logout", data={"csrf_token": csrf_of(client.get("/"))})
        token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text).group(1)
    resp = client.post("/login", data={"username": "editor", "password": PASSWORD, "login_csrf": token, "next": "/videos"})
    assert resp.headers["location"] == "/videos"
    page = client.get("/videos")
    assert page.status_code == 200 and "editor" in page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]


@sqlite_only
def test_forms_without_the_sessions_token_are_refused(gateway):
    client = browser(gateway, None)
    resp = client.post("/login", data={"username": "editor", "password": PASSWORD})  # no login form token
    assert resp.status_code == 403 and "expired" in resp.text
    assert client.get("/").status_code == 303  # not signed in
    sid, story = korean_story(gateway)
    client = browser(gateway, "editor")
    body = {"narration_0": story["scenes"][0]["narration"], "title": story["title"]}
    for token in (None, "forged-token"):
        data = body | ({"csrf_token": token} if token else {})
        resp = client.post(f"/stories/{sid}", data=data)
        assert resp.status_code == 403 and "CSRF" in resp.text
    resp = client.post("/accounts", data={"name": "x", "path": "/tmp/x"})
    assert resp.status_code == 403


def test_roles_decide_what_a_page_offers_and_what_a_post_may_do(gateway, tmp_path):
    sid, story = korean_story(gateway)
    viewer, editor, admin = (browser(gateway, r) for r in ("viewer", "editor", "admin"))

    page = viewer.get(f"/stories/{sid}")
    assert page.status_code == 200 and "<fieldset disabled>" in page.text and "Render video" not in page.text
    resp = viewer.post(f"/stories/{sid}", data={"csrf_token": csrf_of(page), "narration_0": "x"})
    assert resp.status_code == 403 and "needs the editor role" in resp.text
    assert services.get_story(gateway.app, sid)["scenes"][0]["narration"] == story["scenes"][0]["narration"]
    assert viewer.get("/settings").status_code == 403 and editor.get("/settings").status_code == 403

    page = editor.get("/accounts")
    assert "Add a folder account" not in page.text
    resp = editor.post("/accounts", data={"csrf_token": csrf_of(page), "name": "outbox", "path": str(tmp_path / "o")})
    assert resp.status_code == 403 and services.list_accounts(gateway.app) == []

    page = admin.get("/accounts")
    resp = admin.post("/accounts", data={"csrf_token": csrf_of(page), "name": "relative", "path": "outbox"})
    assert resp.status_code == 422 and "absolute path" in resp.text
    resp = admin.post("/accounts", data={"csrf_token": csrf_of(page), "name": "outside", "path": str(tmp_path.parent / "x")})
    assert resp.status_code == 400 and "publish.folder_roots" in resp.text
    resp = admin.post("/accounts", data={"csrf_token": csrf_of(page), "name": "outbox", "path": str(tmp_path / "o")})
    assert resp.status_code == 303 and resp.headers["location"] == "/accounts"
    page = admin.get("/accounts")
    assert "added" in page.text and str(tmp_path / "o") in page.text
    assert [(a["platform"], a["name"]) for a in services.list_accounts(gateway.app)] == [("folder", "outbox")]

    resp = editor.post("/videos/v" + "0" * 23 + "/approve", data={"csrf_token": csrf_of(editor.get("/"))})
    assert resp.status_code == 404 and "unknown video" in resp.text and "Traceback" not in resp.text
    assert editor.get("/videos/not-an-id").status_code == 404


def test_the_story_editor_shows_the_grounding_check_inline_and_saves_grounded_lines(gateway):
    sid, story = korean_story(gateway)
    client = browser(gateway, "editor")
    page = client.get(f"/stories/{sid}")
    assert page.status_code == 200
    assert f'<h1 lang="ko">{story["title"]}</h1>' in page.text and '<html lang="en">' in page.text
    token = csrf_of(page)

    invented = "외계인이 한강 공원을 통째로 사들였다고 합니다."
    resp = client.post(f"/stories/{sid}", data={"csrf_token": token, "narration_0": invented,
                                                 "on_screen_0": story["scenes"][0]["on_screen_text"]})
    assert resp.status_code == 422
    scene1 = resp.text.split('id="scene-1"', 1)[1].split('id="scene-2"', 1)[0]
    assert invented in scene1 and "not backed by its citations" in scene1 and "changed, not saved" in scene1
    assert services.get_story(gateway.app, sid)["scenes"][0]["narration"] == story["scenes"][0]["narration"]

    quote = story["scenes"][1]["citations"][0]["quote"]  # a sentence the story already cites, reworded by cutting it
    shorter = " ".join(quote.split()[:-1])
    resp = client.post(f"/stories/{sid}", data={"csrf_token": token, "narration_1": shorter, "on_screen_1": "",
                                                 "title": "한강 러닝 열풍, 주말 아침의 풍경"})
    assert resp.status_code == 303 and resp.headers["location"] == f"/stories/{sid}"
    saved = services.get_story(gateway.app, sid)
    assert saved["scenes"][1]["narration"] == shorter and saved["scenes"][1]["supported"]
    assert saved["title"] == "한강 러닝 열풍, 주말 아침의 풍경"
    for key in ("narration", "on_screen_text", "citations", "media"):  # the untouched scene stays as it was
        assert saved["scenes"][0][key] == story["scenes"][0][key]
    page = client.get(f"/stories/{sid}")
    assert "Saved" in page.text and shorter in page.text
    events = [e for e in client.get("/").text.split("Recent events", 1)[1].split("</table>", 1)[0].split("<tr>")
              if "StoryWritten" in e]
    assert events, "the edit is in the dashboard's recent events"


@sqlite_only
def test_settings_are_shown_with_every_secret_masked(gateway):
    page = browser(gateway, "admin").get("/settings")
    assert page.status_code == 200
    for secret in SECRETS.values():
        assert secret not in page.text
    assert "AKIAEXAMPLEKEY" not in page.text
    assert page.text.count(MASK) >= 4
    assert "postgresql+psycopg://trendreel:" + MASK + "@db.internal:5432/trendreel" in page.text
    assert "render.width" in page.text and "publish.secret_key_file" in page.text


@sqlite_only
def test_dashboard_and_lists_render_on_an_empty_home(gateway):
    client = browser(gateway, "viewer")
    for path in ("/", "/articles", "/articles?q=%EC%BA%A0%ED%95%91", "/trends", "/videos", "/publications", "/accounts",
                 "/calendar"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.text[-500:])
    calendar = client.get("/calendar").text
    assert "Nothing planned" in calendar and "Off (set" in calendar and "none yet" in calendar
    dashboard = client.get("/").text
    assert 'id="storage"' in dashboard and "No failed videos." in dashboard
    css = client.get("/static/workspace.css")
    assert css.status_code == 200 and "Noto Sans KR" in css.text and "NanumGothic" in css.text
    assert client.head("/static/workspace.js").status_code == 200
    assert client.get("/static/../pages.py").status_code == 404
    assert client.get("/static/nothing.css").status_code == 404


def other_channels(n: int, *, seed: int, start: datetime) -> list[dict]:
    """Histories of other channels in the import shape (`trendreel metrics import`)."""
    return [{"id": h.id, "platform": "youtube", "account": h.account, "title": h.title, "category": h.category,
             "tags": list(h.tags), "language": h.language,
             "samples": [{"at": x.at.isoformat(), "views": x.views} for x in h.samples]}
            for h in synthetic_histories(n, seed=seed, start=start, days=30)]


@sqlite_only
def test_imported_histories_stay_out_of_the_publications_and_accounts_pages(gateway, tmp_path):
    app = gateway.app
    now = datetime.now(timezone.utc)
    outbox = services.add_account(app, platform="folder", name="outbox", path=tmp_path / "outbox")
    vid = add_video(app, "ours", title="한강 불꽃축제 영상", trend_id=None, at=now - timedelta(days=2))
    ours = add_publication(app, vid, outbox, published_at=now - timedelta(days=1), title="한강 불꽃축제 영상")
    add_samples(app, ours, [(now - timedelta(hours=20), 420, 12, 3)])
    failed = add_publication(app, add_video(app, "failed", title="실패한 게시", trend_id=None, at=now), outbox,
                             published_at=now, title="실패한 게시")
    with app.db.session() as s:  # a publication that failed has no counts: its row shows dashes
        s.get(Publication, failed).status = "error"
    lines = other_channels(30, seed=4, start=now - timedelta(days=60))
    services.import_histories(app, lines=lines)  # newer rows than ours: they must not push ours off the list
    client = browser(gateway, "viewer")

    page = client.get("/publications")
    assert page.status_code == 200, page.text[-800:]
    listed = re.findall(r'<a href="/publications/(p[0-9a-f]{23})">', page.text)
    assert sorted(listed) == sorted([ours, failed]) and "420" in page.text
    page = client.get("/accounts")
    assert re.findall(r"<tr[^>]*><td>(\w+)</td><td>([^<]+)</td>", page.text) == [("folder", "outbox")]
    channels = len({line["account"] for line in lines})
    assert f"{channels} channels whose histories were imported" in page.text
    page = browser(gateway, "editor").get(f"/videos/{vid}")  # the publish form is an editor's
    assert re.findall(r'<option value="([^"]+)">', page.text.split('name="to"', 1)[1].split("</select>", 1)[0]) == \
        ["folder:outbox"]
    assert client.get("/").status_code == 200


def predicted_cells(html: str) -> dict[str, str]:
    return dict(re.findall(r'<td class="num predicted" data-trend="([^"]+)">([^<]*)</td>', html))


@sqlite_only
def test_trends_show_the_views_the_newest_model_predicts(database, make_settings, monkeypatch):
    settings = make_settings(index={"text_embedder": "hash"})
    settings.home.mkdir(parents=True, exist_ok=True)
    app = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    gw = make_gateway(settings, app)
    now = datetime.now(timezone.utc)
    ids = [add_trend(app, name, text=text, category=cat, score=score, at=now)
           for name, text, cat, score in (("chips", "반도체 수출 급증", "economy", 3.5),
                                          ("tour", "World tour announced", "entertainment", 2.0),
                                          ("river", "한강 불꽃축제", "life", 1.2))]
    client = browser(gw, "viewer")
    page = client.get("/trends")
    assert page.status_code == 200 and "Predicted views" not in page.text and predicted_cells(page.text) == {}

    services.import_histories(app, lines=other_channels(40, seed=2, start=now - timedelta(days=60)))
    services.fit_models(app)
    calls = []
    real = services.expected_views
    monkeypatch.setattr(services, "expected_views", lambda *a, **k: calls.append(len(a[1])) or real(*a, **k))
    page = client.get("/trends")
    assert calls == [3]  # one prediction for the whole list, not one per trend
    expected = real(app, services.list_trends(app, limit=100))
    cells = predicted_cells(page.text)
    assert set(cells) == set(ids)
    for tid in ids:  # shown to two significant figures
        views = expected[tid]["views"]
        assert cells[tid] == f"{round(views, -(len(str(views)) - 2)) if views >= 100 else views:,}"
    assert "Predicted views <small>v1</small>" in page.text and "cold-start model v1" in page.text

    page = client.get(f"/trends/{ids[0]}")
    assert re.search(r'id="predicted-views">Predicted views of a video made from it: <b>[\d,]+</b> '
                     r"<small>\(cold-start model v1", page.text)

    services.fit_models(app)  # a newer model replaces it
    assert "Predicted views <small>v2</small>" in client.get("/trends").text

    # The models' files gone: the column goes, the page stays.
    shutil.rmtree(settings.home / "files")
    page = client.get("/trends")
    assert page.status_code == 200 and "Predicted views" not in page.text and "반도체 수출 급증" in page.text
    page = client.get(f"/trends/{ids[0]}")
    assert page.status_code == 200 and "predicted-views" not in page.text
    app.close()
