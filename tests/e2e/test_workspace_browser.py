"""The web workspace in a real browser: Playwright driving Debian's Chromium (never a downloaded one)
against the real server (uvicorn on 127.0.0.1) over a home with the crawled, indexed sample site, its
trends and a written story.

The main flow: log in, find a trend (with the views a fitted model predicts for it), open its story,
edit a line (a line the grounding check refuses first, shown inline; then a grounded one), render,
approve, publish to the folder platform, see it in publications with its views over time.
Screenshots of each step are saved under the test's tmp dir and, when TRENDREEL_TEST_ARTIFACTS is
set, in that folder too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.demo.run import demo_sources
from trendreel.settings import Settings

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Debian's Chromium is not installed: run scripts/setup (apt-get install chromium)")


@pytest.fixture(scope="module")
def home(tmp_path_factory, sample_url):
    """A home with the sample site crawled and indexed, its trends, a Korean story, an editor and a folder account."""
    from trendreel.services import users

    root = tmp_path_factory.mktemp("workspace-home")
    settings = Settings(
        home=root, crawl={"delay_s": 0, "per_host_concurrency": 4}, index={"speech_model": "none"},
        sources=demo_sources(sample_url), publish={"folder_roots": [str(root)]},
        # A small, quick video: the flow is what is tested here, not the picture.
        render={"width": 144, "height": 256, "fps": 10, "preset": "ultrafast", "loudness_passes": 1,
                "crossfade_s": 0, "motion": "none", "max_seconds": 20, "voices": {"ko": "espeak-ng:ko", "en": "espeak-ng:en"}},
    )
    app = build_app(settings)
    services.crawl_sources(app)
    services.index_articles(app)
    trends = services.detect_trends(app)
    trend = next(t for t in trends if t["lang"] == "ko")
    story = services.write_story(app, trend_id=trend["id"])
    users.add_user(app, username="editor", password=PASSWORD, role="editor")
    outbox = root / "outbox"
    services.add_account(app, platform="folder", name="outbox", path=outbox)
    yield {"app": app, "settings": settings, "trend": trend, "story": story, "outbox": outbox}
    app.close()


@pytest.fixture(scope="module")
def server(home):
    """The gateway with the workspace, served by uvicorn on a free loopback port."""
    import uvicorn

    from trendreel.api import create_app

    api = create_app(home["settings"], application=home["app"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="workspace-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the workspace server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def shots(tmp_path):
    """save(page, name): a full-page screenshot in the tmp dir and in $TRENDREEL_TEST_ARTIFACTS when set."""
    folders = [tmp_path / "screenshots"]
    if os.environ.get("TRENDREEL_TEST_ARTIFACTS"):
        folders.append(Path(os.environ["TRENDREEL_TEST_ARTIFACTS"]) / "workspace")
    for f in folders:
        f.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    def save(page, name: str) -> None:
        data = page.screenshot(full_page=True)
        for f in folders:
            (f / f"{len(saved) + 1:02d}-{name}.png").write_bytes(data)
        saved.append(folders[0] / f"{len(saved) + 1:02d}-{name}.png")

    save.saved = saved
    return save


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_the_main_flow_from_login_to_publication(home, server, browser, shots):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    # Generous waits: this runs on small, busy machines; a wait ends as soon as its condition holds.
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    try:
        flow(page, server, home, shots)
    except Exception:
        shots(page, "failure")  # where the flow stopped, as an artifact
        raise


def fit_a_model(app) -> None:
    """The views models fitted on made-up histories of other channels, imported as they would be."""
    from datetime import datetime, timedelta, timezone

    from trendreel.learn.synthetic import synthetic_histories

    start = datetime.now(timezone.utc) - timedelta(days=60)
    services.import_histories(app, lines=[
        {"id": h.id, "platform": "youtube", "account": h.account, "title": h.title, "category": h.category,
         "tags": list(h.tags), "language": h.language,
         "samples": [{"at": x.at.isoformat(), "views": x.views} for x in h.samples]}
        for h in synthetic_histories(40, seed=3, start=start, days=30)])
    services.fit_models(app)


def flow(page, server: str, home: dict, shots) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    # Every request answered; 401 and 422 only for the refused login and the refused story edit, on purpose.
    page.on("response", lambda r: errors.append(f"{r.status} {r.request.method} {r.url}")
            if r.status >= 400 and not (r.status in (401, 422) and r.request.method == "POST") else None)

    # Log in: any page sends a visitor without a session to the login form and back.
    page.goto(f"{server}/trends")
    expect(page).to_have_url(re.compile(r"/login\?next=/trends$"))
    page.fill("input[name=username]", "editor")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    expect(page.locator(".flash.error")).to_contain_text("wrong user name or password")
    page.fill("input[name=password]", PASSWORD)
    shots(page, "login")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server}/trends")
    expect(page.locator("header .who")).to_contain_text("editor")

    # The articles and media browser: a Korean search by meaning finds the camping coverage.
    page.click("header nav >> text=Articles")
    page.fill("input[name=q]", "겨울 캠핑")
    page.press("input[name=q]", "Enter")
    expect(page.locator("ol.hits li").first).to_be_visible()
    assert "캠핑" in page.locator("ol.hits").inner_text()
    shots(page, "search")

    # Find the trend: Korean text with its language marked, and the views a video of it is expected to
    # get once a model is fitted (on other channels' histories, as `trendreel metrics import` brings in).
    trend, story = home["trend"], home["story"]
    fit_a_model(home["app"])
    page.click("header nav >> text=Trends")
    link = page.locator(f"a[href='/trends/{trend['id']}']")
    expect(link).to_have_text(trend["text"])
    expect(link).to_have_attribute("lang", "ko")
    expect(page.locator("table.trends thead")).to_contain_text("Predicted views v1")
    expected = services.expected_views(home["app"], [services.get_trend(home["app"], trend["id"])])[trend["id"]]
    expect(page.locator(f"td.predicted[data-trend='{trend['id']}']")).to_have_text(re.compile(r"^[\d,]+$"))
    shown = int(page.locator(f"td.predicted[data-trend='{trend['id']}']").inner_text().replace(",", ""))
    assert abs(shown - expected["views"]) <= 0.05 * expected["views"] + 1  # two significant figures
    shots(page, "trends")
    link.click()
    expect(page.locator("h1")).to_have_text(trend["text"])
    expect(page.locator("#predicted-views")).to_contain_text("cold-start model v1")
    assert page.locator("table tbody tr").count() >= trend["item_count"]  # its evidence

    # Open its story and edit a line: a made-up line is refused inline, a grounded one is saved.
    page.click(f"a[href='/stories/{story['id']}']")
    expect(page.locator("h1")).to_have_text(story["title"])
    shots(page, "story")
    scene = story["scenes"][0]
    page.fill("textarea[name=narration_0]", "외계인이 한강에 착륙해 모든 캠핑장을 사들였다고 합니다.")
    page.click("#story-form button[type=submit]")
    expect(page.locator("#scene-1 .problem").first).to_contain_text("not backed by its citations")
    expect(page.locator("#story-problems")).to_be_visible()
    shots(page, "story-refused")
    grounded = scene["citations"][0]["quote"]
    caption = " ".join(grounded.split()[:3])  # on-screen text is checked too: words of the quote
    page.fill("textarea[name=narration_0]", grounded)
    page.fill("input[name=on_screen_0]", caption)
    page.click("#story-form button[type=submit]")
    expect(page.locator(".flash.ok")).to_contain_text("Saved")
    expect(page.locator("textarea[name=narration_0]")).to_have_value(" ".join(grounded.split()))
    expect(page.locator("input[name=on_screen_0]")).to_have_value(caption)
    saved = services.get_story(home["app"], story["id"])
    assert saved["scenes"][0]["on_screen_text"] == caption and saved["scenes"][0]["supported"]

    # Render: a background run whose page follows its progress, then the video in the player.
    page.click("text=Render video")
    expect(page).to_have_url(re.compile(r"/runs/r[0-9a-f]{23}$"))
    expect(page.locator("#run-status")).to_have_text("done", timeout=60_000)
    shots(page, "render-run")
    page.click("#run-next a")
    expect(page).to_have_url(re.compile(r"/videos/v[0-9a-f]{23}$"))
    video_id = page.url.rsplit("/", 1)[-1]
    page.wait_for_function("document.getElementById('player').readyState >= 1 && document.getElementById('player').duration > 1")
    duration = page.evaluate("document.getElementById('player').duration")
    assert abs(duration - services.get_video(home["app"], video_id)["duration_s"]) < 1.0
    expect(page.locator("#publish-form button[type=submit]")).to_be_disabled()  # not approved yet
    shots(page, "video")

    # Re-edit: the edit stage cuts it into a new video (a run, or done in the request), linked to this one.
    page.click("#edit-form button[type=submit]")
    if re.search(r"/runs/r[0-9a-f]{23}$", page.url):
        expect(page.locator("#run-status")).to_have_text("done", timeout=60_000)
        page.click("#run-next a")
    expect(page.locator(f"a[href='/videos/{video_id}']")).to_contain_text(video_id)  # "edited from"
    video_id = page.url.rsplit("/", 1)[-1]
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    shots(page, "edited-video")

    # Approve, then publish to the folder platform.
    page.click("text=Approve")
    expect(page.locator("#review-state")).to_contain_text("approved")
    expect(page.locator("#review-state")).to_contain_text("editor")
    page.select_option("#publish-form select[name=to]", "folder:outbox")
    page.click("#publish-form button[type=submit]")
    expect(page.locator("#run-status")).to_have_text("done", timeout=60_000)
    page.click("#run-next a")
    expect(page).to_have_url(re.compile(r"/publications/p[0-9a-f]{23}$"))
    publication_id = page.url.rsplit("/", 1)[-1]
    url = page.locator("#publication-url").inner_text()
    published = Path(url.removeprefix("file://"))  # the folder platform: one folder per publication
    assert published.is_relative_to(home["outbox"]) and list(published.glob("*.mp4")), sorted(published.iterdir())
    shots(page, "publication")

    # Views over time: the folder platform reads stats.json beside the video; collect once, see the chart.
    from trendreel.services.metrics import collect_metrics

    (published / "stats.json").write_text(json.dumps({"views": 42, "likes": 3, "comments": 1}), encoding="utf-8")
    collected = collect_metrics(home["app"], all=True)
    assert collected["stored"] == 1, collected

    # See it in publications.
    page.click("header nav >> text=Publications")
    row = page.locator(f"#publications a[href='/publications/{publication_id}']")
    expect(row).to_be_visible()
    expect(page.locator("#publications tbody tr").first).to_contain_text("42")
    expect(page.locator("#views-chart svg")).to_be_visible()
    shots(page, "publications")
    page.click("header nav >> text=Dashboard")
    expect(page.locator("body")).to_contain_text("VideoPublished")
    shots(page, "dashboard")

    assert not errors, f"script or console errors on the pages: {errors}"
    assert len(shots.saved) == 11 and all(p.stat().st_size > 5_000 for p in shots.saved)
