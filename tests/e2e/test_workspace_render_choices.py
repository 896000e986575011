"""Choosing a render in the workspace, in a real browser: Playwright driving Debian's Chromium against
the real server (uvicorn on 127.0.0.1) over a home with one stored English story and a music file.

An editor opens the story, picks another voice and hears its preview (a WAV whose duration the browser
reads), picks the square aspect and looks at the preview frame the compositor drew, picks the music,
renders, and watches the square video load in the player; a viewer sees no render controls.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from tests.e2e.test_workspace_browser import CHROMIUM_ARGS, PASSWORD, chromium_path
from tests.render_support import make_image, make_music, make_story, store_article, store_media, store_story
from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

SID = "s" + "d" * 23


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from trendreel.services import users

    root = tmp_path_factory.mktemp("choices-home")
    settings = Settings(home=root, render={
        "width": 144, "height": 256, "fps": 10, "preset": "ultrafast", "loudness_passes": 1, "crossfade_s": 0,
        "motion": "none", "max_seconds": 20, "voices": {"ko": "espeak-ng:ko", "en": "espeak-ng:en-us"}})
    app = build_app(settings)
    (root / "music").mkdir()
    make_music(root / "music" / "calm.wav", seconds=2)
    aid = store_article(app, "choices", lang="en")
    image = store_media(app, aid, 1, "image", make_image(root / "wide.jpg"))
    store_story(app, make_story(aid, "en", [MediaRef(media_id=image, kind="image")] * 2), SID)
    users.add_user(app, username="editor", password=PASSWORD, role="editor")
    users.add_user(app, username="viewer", password=PASSWORD, role="viewer")
    yield {"app": app, "settings": settings}
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
    srv = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
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
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def login(page, server: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/stories/{SID}")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server}/stories/{SID}")


def test_an_editor_chooses_voice_aspect_and_music_and_renders(home, server, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None)
    try:
        login(page, server, "editor")
        # the voices one may choose: the settings' first, then the others that are ready
        options = page.locator("#choice-voice option").evaluate_all("els => els.map(e => e.value)")
        assert options[0] == "espeak-ng:en-us" and "espeak-ng:en" in options
        expect(page.locator("#music-empty")).to_have_count(0)
        page.select_option("#choice-voice", "espeak-ng:en")
        page.click("#voice-preview")
        audio = page.locator("#voice-audio")
        expect(audio).to_be_visible()
        page.wait_for_function("() => { const a = document.getElementById('voice-audio'); return a.readyState >= 1 && a.duration > 0; }")
        seconds = audio.evaluate("a => a.duration")
        assert 1.0 < seconds < 15.0

        page.check("input[name=aspect][value='1:1']")
        page.click("#frame-preview")
        frame = page.locator("#frame-image")
        expect(frame).to_be_visible()
        page.wait_for_function("() => { const i = document.getElementById('frame-image'); return i.complete && i.naturalWidth > 0; }")
        size = frame.evaluate("i => [i.naturalWidth, i.naturalHeight]")
        assert size[0] == size[1] == 144
        page.screenshot(path=str(tmp_path / "choices.png"), full_page=True)

        page.select_option("#choice-music", "calm.wav")
        page.click("#render-form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/runs/r[0-9a-f]{23}$"))
        page.click("#run-next a")
        expect(page).to_have_url(re.compile(r"/videos/v[0-9a-f]{23}$"))
        page.wait_for_function("() => { const v = document.querySelector('video'); return v && v.readyState >= 1; }")
        width, height = page.locator("video").first.evaluate("v => [v.videoWidth, v.videoHeight]")
        assert width == height == 144
        video_id = page.url.rsplit("/", 1)[1]
        made = services.get_video(home["app"], video_id)
        assert made["details"]["choices"] == {"voice": "espeak-ng:en", "music": "calm.wav", "aspect": "1:1", "subtitle_style": "bold"}
        assert made["details"]["plan"]["voice"] == "espeak-ng:en" and made["details"]["plan"]["music"] == "calm.wav"
        assert not errors, errors
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        raise


def test_a_viewer_sees_no_render_choices(home, server, browser):
    from playwright.sync_api import expect

    page = browser.new_page()
    login(page, server, "viewer")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#render-choices")).to_have_count(0)
