"""The workspace's calendar in a real browser (Debian's Chromium through Playwright, the gateway on
127.0.0.1): planned posts per account and day, cancelling one, and the autopilot's panel with its last
cycle, the next one and a failure's message. The browser, server and screenshot fixtures are the
workspace test's; the home here needs no crawl: real ffmpeg videos, planned with the schedule."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.test_workspace_browser import PASSWORD, browser, server, shots  # noqa: F401 - fixtures
from tests.publish_support import add_video
from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.errors import ConfigError
from trendreel.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """An editor, a folder account, three approved videos planned on it, and an autopilot cycle that failed."""
    from trendreel.services import users

    root = tmp_path_factory.mktemp("calendar-home")
    settings = Settings(home=root, publish={"folder_roots": [str(root)]},
                        schedule={"jitter": "0", "daily_cap": 2, "min_spacing": "2h"},
                        autopilot={"enabled": True, "every": "1h", "targets": ["folder:outbox"]})
    app = build_app(settings)
    users.add_user(app, username="editor", password=PASSWORD, role="editor")
    services.add_account(app, platform="folder", name="outbox", path=root / "outbox")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    posts = [services.add_post(app, video_id=add_video(app, name, pattern=pattern, review="approved"), to="folder:outbox",
                               at=tomorrow, by="editor")
             for name, pattern in (("cal-a", "testsrc2"), ("cal-b", "mandelbrot"), ("cal-c", "life"))]
    with pytest.raises(ConfigError, match="no sources configured"):
        services.autopilot_cycle(app)  # no [[sources]]: the cycle stops at its crawl, and says why
    yield {"app": app, "settings": settings, "posts": posts, "tomorrow": tomorrow}
    app.close()


def test_the_calendar_shows_the_plan_and_cancels_a_post(home, server, browser, shots):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"{server}/calendar")
        expect(page).to_have_url(re.compile(r"/login\?next=/calendar$"))
        page.fill("input[name=username]", "editor")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{server}/calendar")
        expect(page.locator("header nav a[aria-current=page]")).to_have_text("Calendar")

        a, b, c = home["posts"]
        day1, day2 = home["tomorrow"], home["tomorrow"] + timedelta(days=1)
        section = page.locator("section.account[data-account='folder:outbox']")
        # the cap of two a day and two hours apart: 09:00 and 11:00 tomorrow, 09:00 the day after
        expect(section.locator("h3")).to_have_text([day1.date().isoformat(), day2.date().isoformat()])
        expect(page.locator(f"#post-{a['id']} td").first).to_have_text("09:00")
        expect(page.locator(f"#post-{b['id']} td").first).to_have_text("11:00")
        expect(page.locator(f"#post-{c['id']} td").first).to_have_text("09:00")
        expect(page.locator(f"#post-{a['id']}")).to_contain_text("Harbour bridge reopens")
        panel = page.locator("#autopilot")
        expect(panel.locator("#autopilot-state")).to_contain_text("On: a cycle every 1h")
        expect(panel.locator("#autopilot-last")).to_contain_text("error")
        expect(panel.locator("#autopilot-failures")).to_contain_text("no sources configured")
        shots(page, "calendar")

        page.locator(f"#post-{b['id']} button", has_text="Cancel").click()
        expect(page.locator(".flash")).to_contain_text("Cancelled")
        expect(page.locator(f"#post-{b['id']}")).to_contain_text("cancelled")
        expect(page.locator(f"#post-{b['id']} button")).to_have_count(0)
        expect(page.locator(f"#post-{a['id']} button")).to_have_count(1)
        shots(page, "calendar-cancelled")
        assert [p["status"] for p in services.list_posts(home["app"])] == ["planned", "cancelled", "planned"]

        # the last cycle opens as a run: its steps and its error
        page.locator("#autopilot-last a").click()
        expect(page).to_have_url(re.compile(r"/runs/r[0-9a-f]{23}$"))
        expect(page.locator("h1")).to_contain_text("Autopilot run")
        expect(page.locator("tr[data-stage=crawl] .state")).to_have_text("error")
        expect(page.locator("#run-error")).to_contain_text("no sources configured")
        assert errors == []
    except Exception:
        shots(page, "failure")
        raise


def test_a_video_is_planned_from_its_page(home, server, browser, shots):  # noqa: F811
    """The video page's Schedule form: a time typed in the browser (UTC) becomes a planned post on the calendar."""
    from playwright.sync_api import expect

    vid = add_video(home["app"], "cal-d", pattern="bars", review="approved")
    when = (home["tomorrow"] + timedelta(days=3)).replace(hour=15)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"{server}/videos/{vid}")
        page.fill("input[name=username]", "editor")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{server}/videos/{vid}")
        form = page.locator("#schedule-form")
        form.locator("select[name=to]").select_option("folder:outbox")
        form.locator("input[name=at]").fill(when.strftime("%Y-%m-%dT%H:%M"))
        form.locator("button[type=submit]").click()
        expect(page).to_have_url(f"{server}/calendar")
        expect(page.locator(".flash")).to_contain_text("Planned: Harbour bridge reopens")
        expect(page.locator(".flash")).to_contain_text(f"on folder:outbox at {when.strftime('%Y-%m-%d %H:%M')} UTC")
        planned = [p for p in services.list_posts(home["app"]) if p["video_id"] == vid]
        assert len(planned) == 1 and planned[0]["status"] == "planned" and planned[0]["how"] == "at"
        expect(page.locator(f"#post-{planned[0]['id']} td").first).to_have_text("15:00")
        shots(page, "calendar-planned-from-video")
        assert errors == []
    except Exception:
        shots(page, "failure-plan")
        raise
