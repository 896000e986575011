"""Running trendreel from the workspace alone, in a real browser: Playwright driving Debian's Chromium
against the real server (uvicorn on 127.0.0.1), one server for the whole module.

An admin adds the local sample site as a source, tests it (robots verdict, pages found, first titles),
crawls it and starts an index and a trends run from the Runs page, following each run in pages and items
until the trends appear; connects a YouTube account through Google's OAuth web flow (the consent page
of the local server that speaks it); manages users. An editor writes a story with a chosen writer and
language, renders two variants of a story in one action and sees them listed together, collects
metrics and builds the report, and reads it in the workspace.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.test_workspace_browser import PASSWORD
from tests.e2e.test_workspace_render_choices import browser  # noqa: F401 - the fixture
from tests.e2e.test_workspace_render_choices import server  # noqa: F401 - the fixture
from tests.metrics_support import add_publication, add_samples, add_video
from tests.render_support import make_image, make_story, store_article, store_media, store_story
from tests.youtubeserver import YouTubeServer
from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

SID = "s" + "e" * 23


@pytest.fixture(scope="module")
def youtube():
    with YouTubeServer(tls=False) as yt:
        yield yt


@pytest.fixture(scope="module")
def home(tmp_path_factory, youtube):
    from trendreel.services import users

    root = tmp_path_factory.mktemp("manage-home")
    secrets_file = root / "client_secret.json"
    secrets_file.write_text(json.dumps(youtube.web_client_secrets()))
    settings = Settings(
        home=root, crawl={"delay_s": 0, "per_host_concurrency": 4}, index={"speech_model": "none"},
        publish={"youtube_client_secrets": str(secrets_file)},
        render={"width": 144, "height": 256, "fps": 10, "preset": "ultrafast", "loudness_passes": 1, "crossfade_s": 0,
                "motion": "none", "max_seconds": 20, "voices": {"ko": "espeak-ng:ko", "en": "espeak-ng:en-us"}})
    app = build_app(settings)
    aid = store_article(app, "variants", lang="en")
    image = store_media(app, aid, 1, "image", make_image(root / "wide.jpg"))
    store_story(app, make_story(aid, "en", [MediaRef(media_id=image, kind="image")] * 2), SID)
    users.add_user(app, username="admin", password=PASSWORD, role="admin")
    users.add_user(app, username="editor", password=PASSWORD, role="editor")
    yield {"app": app, "settings": settings}
    app.close()


def open_page(browser, server: str, name: str, path: str, tmp_path):  # noqa: F811 - browser is the fixture's value
    """A page signed in as `name` at `path`, failing the test on script errors and unexpected failed requests."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{server}{path}")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server}{path}")
    return page


def finish_run(page) -> str:
    """Wait on a run's page until it ends; the text of its first stage's progress."""
    from playwright.sync_api import expect

    expect(page).to_have_url(re.compile(r"/runs/r[0-9a-f]{23}$"))
    page.wait_for_function("() => ['done', 'error'].includes(document.getElementById('run').dataset.status)",
                           timeout=300_000)
    assert page.locator("#run").get_attribute("data-status") == "done", page.locator("#run-error").inner_text()
    return page.locator("#run-stages .count").first.inner_text()


def test_an_admin_adds_a_source_tests_it_and_runs_crawl_index_and_trends(home, server, browser, sample_url, tmp_path):
    from playwright.sync_api import expect

    page = open_page(browser, server, "admin", "/sources", tmp_path)
    try:
        expect(page.locator("#sources-empty")).to_contain_text("No sources yet")
        page.goto(f"{server}/trends")
        expect(page.locator("#trends-empty")).to_contain_text("Run trends after an index")
        page.goto(f"{server}/sources")
        form = page.locator("#source-form")
        form.locator("input[name=name]").fill("sample")
        form.locator("select[name=kind]").select_option("sitemap")
        form.locator("textarea[name=urls]").fill(f"{sample_url}/sitemap_index.xml")
        form.locator("input[name=allow_private]").check()
        form.locator("button[type=submit]").click()
        row = page.locator("#source-sample")
        expect(row).to_contain_text("the workspace")

        row.locator("button.test").click()
        expect(page.locator("#robots")).to_have_text("allowed")
        assert int(page.locator("#pages-found").inner_text().split()[0]) >= 10
        expect(page.locator("#first-pages .title")).to_have_count(3)
        page.screenshot(path=str(tmp_path / "source-test.png"), full_page=True)

        page.click("text=Crawl it now")
        crawled = finish_run(page)
        assert re.match(r"\d+ pages · \d+ s", crawled), crawled
        page.screenshot(path=str(tmp_path / "crawl-run.png"), full_page=True)

        page.goto(f"{server}/runs")
        page.click("#start-index button[type=submit]")
        indexed = finish_run(page)
        assert re.match(r"(\d+) of \1 items · \d+ s", indexed), indexed

        page.goto(f"{server}/runs")
        page.click("#start-trends button[type=submit]")
        finish_run(page)
        page.click("#run-next a")
        expect(page).to_have_url(f"{server}/trends")
        assert page.locator("table.trends tbody tr").count() >= 1
        assert page.errors == [], page.errors
    finally:
        page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
        page.close()


def test_an_admin_connects_youtube_on_its_consent_page(home, server, browser, youtube, tmp_path):
    from playwright.sync_api import expect

    page = open_page(browser, server, "admin", "/accounts", tmp_path)
    try:
        expect(page.locator("#accounts-empty")).to_be_visible()
        platforms = page.locator("#connect-account select[name=platform] option").all_inner_texts()
        assert sorted(platforms) == ["instagram", "tiktok", "youtube"]  # every registered OAuth flow is offered
        page.select_option("#connect-account select[name=platform]", "youtube")
        page.fill("#connect-account input[name=name]", "main-channel")
        page.click("#connect-account button[type=submit]")
        expect(page).to_have_url(re.compile(r"^" + re.escape(youtube.root) + r"o/oauth2/auth\?"))
        expect(page.locator("h1")).to_contain_text("wants to access your Google Account")
        assert youtube.consents[-1]["access_type"] == "offline" and youtube.consents[-1]["prompt"] == "consent"
        page.click("#allow")
        expect(page).to_have_url(f"{server}/accounts#account-youtube-main-channel")
        expect(page.locator("#account-youtube-main-channel")).to_contain_text("credentials stored")
        expect(page.locator(".flash")).to_contain_text("account main-channel connected")
        account = next(a for a in services.list_accounts(home["app"]) if a["platform"] == "youtube")
        assert account["name"] == "main-channel" and account["has_credentials"]
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_an_admin_adds_promotes_resets_and_removes_a_user(home, server, browser, tmp_path):
    from playwright.sync_api import expect

    page = open_page(browser, server, "admin", "/users", tmp_path)
    try:
        page.fill("#add-user input[name=username]", "jisoo")
        page.fill("#add-user input[name=password]", "겨울 캠핑 차박 2026")
        page.select_option("#add-user select[name=role]", "viewer")
        page.click("#add-user button[type=submit]")
        row = page.locator("#user-jisoo")
        expect(row).to_be_visible()
        row.locator("select[name=role]").select_option("editor")
        row.locator("form[action$='/role'] button").click()
        expect(page.locator(".flash")).to_contain_text("jisoo is now editor")
        page.locator("#user-jisoo input[name=password]").fill("a new password")
        page.locator("#user-jisoo form[action$='/password'] button").click()
        expect(page.locator(".flash")).to_contain_text("sessions were ended")
        assert services.verify_password(home["app"], username="jisoo", password="a new password")["role"] == "editor"
        page.locator("#user-jisoo button.remove").click()
        expect(page.locator("#user-jisoo")).to_have_count(0)
        expect(page.locator("#user-admin button.remove")).to_have_count(0)  # never oneself
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_an_editor_renders_two_variants_in_one_action(home, server, browser, tmp_path):
    from playwright.sync_api import expect

    page = open_page(browser, server, "editor", f"/stories/{SID}", tmp_path)
    try:
        rows = page.locator("#variants-form tr.variant-row")
        expect(rows).to_have_count(4)
        rows.nth(1).locator("select[name=v1_voice]").select_option("espeak-ng:en")
        page.click("#variants-form button[type=submit]")
        expect(page).to_have_url(f"{server}/stories/{SID}#variants")
        expect(page.locator(".flash")).to_contain_text("Rendering 2 variants")
        for _ in range(120):  # the page lists them as they finish; reload as a person would
            done = page.locator("#story-videos tr[data-video]").filter(has_text="done")
            if done.count() == 2:
                break
            page.wait_for_timeout(1000)
            page.reload()
        aspects = sorted(page.locator("#story-videos td.aspect").all_inner_texts())
        assert aspects == ["1:1", "9:16"], aspects
        made = [v for v in services.list_videos(home["app"], story_id=SID) if v["status"] == "done"]
        assert sorted((v["width"], v["height"]) for v in made) == [(144, 144), (144, 256)]
        assert {v["details"]["choices"]["voice"] for v in made} == {"espeak-ng:en-us", "espeak-ng:en"}
        page.screenshot(path=str(tmp_path / "variants.png"), full_page=True)
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_an_editor_picks_the_writer_and_language_of_a_story(home, server, browser, sample_url, tmp_path):
    from playwright.sync_api import expect

    app = home["app"]
    if not services.list_trends(app):  # when this test runs alone: the trends the first test makes
        services.crawl_sources(app, sources=[services.check_source(
            {"name": "sample", "kind": "sitemap", "urls": [f"{sample_url}/sitemap_index.xml"], "allow_private": True})])
        services.index_articles(app)
        services.detect_trends(app)
    trend = next(t for t in services.list_trends(app) if t["lang"] == "ko")
    page = open_page(browser, server, "editor", f"/trends/{trend['id']}", tmp_path)
    try:
        writers = page.locator("#story-writer option").evaluate_all("els => els.map(e => e.value)")
        assert writers[0] == "template" and {"llamacpp", "openai"} <= set(writers)
        page.select_option("#story-writer", "template")
        page.select_option("#story-lang", "ko")
        page.click("form[action$='/story'] button[type=submit]")
        finish_run(page)
        page.click("#run-next a")
        expect(page).to_have_url(re.compile(r"/stories/s[0-9a-f]{23}$"))
        expect(page.locator("p.meta").first).to_contain_text("ko · template")
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_an_editor_collects_metrics_and_reads_the_report(home, server, browser, tmp_path):
    from playwright.sync_api import expect

    page = open_page(browser, server, "editor", "/report", tmp_path)
    try:
        expect(page.locator("#metrics-empty")).to_contain_text("publish a video, then collect metrics")
        app = home["app"]
        account = services.add_account(app, platform="folder", name="outbox", path=home["settings"].home / "published" / "outbox")
        at = datetime.now(timezone.utc) - timedelta(days=3)
        vid = add_video(app, "report-video", title="겨울 캠핑 열풍", trend_id=None, at=at)
        pid = add_publication(app, vid, account, published_at=at, title="겨울 캠핑 열풍")
        add_samples(app, pid, [(at + timedelta(hours=1), 40, 2, 0), (at + timedelta(hours=24), 900, 31, 4)])
        page.goto(f"{server}/publications")
        expect(page.locator("#views-chart svg")).to_be_visible()
        page.goto(f"{server}/report")
        page.check("#collect-metrics input[name=all]")
        page.click("#collect-metrics button[type=submit]")
        assert re.match(r"\d+ of \d+ publications · \d+ s", finish_run(page))
        page.goto(f"{server}/report")
        page.click("#build-report button[type=submit]")
        finish_run(page)
        page.click("#run-next a")
        expect(page).to_have_url(f"{server}/report")
        frame = page.frame_locator("#report-frame")
        expect(frame.locator("body")).to_contain_text("겨울 캠핑 열풍")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        assert page.errors == [], page.errors
    finally:
        page.close()
