"""The model server end to end: a real server process on 127.0.0.1, the real client, the render stage.

Renders are small (360x640, one loudness pass) to keep the suite fast. The crash test kills the
server with SIGKILL while it renders, checks the render fails as retryable with nothing stored, then
restarts the server on the same work folder and checks the job is finished once and fetched again
without being redone.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.modelserver_support import TOKEN, ServerProcess
from tests.render_support import make_clip, make_image, make_story, store_article, store_media, store_story
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.files.store import open_file_store
from trendreel.adapters.modelserver import JobFailed, ModelServerUnavailable
from trendreel.services.render import render_story
from trendreel.services.videos import get_video, list_videos
from trendreel.render.ffmpeg import probe
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

FAST = {"width": 360, "height": 640, "loudness_passes": 1, "preset": "ultrafast"}


def make_app(home: Path, url: str, token_file: Path, *, kind: str = "render:compositor", **remote) -> App:
    settings = Settings(home=home, render={**FAST, "remote": {"url": url, "token_file": str(token_file), "kind": kind,
                                                               "poll_s": 0.05, "poll_max_s": 0.2, **remote}})
    settings.home.mkdir(parents=True, exist_ok=True)
    return App(settings=settings, db=Database(f"sqlite:///{home / 'test.db'}"), files=open_file_store(settings.files_url))


def with_remote(app: App, **changes) -> App:
    r = app.settings.render
    render = r.model_copy(update={"remote": r.remote.model_copy(update=changes)})
    return App(settings=app.settings.model_copy(update={"render": render}), db=app.db, files=app.files)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("ms-media")
    make_image(d / "wide.jpg", size=(640, 360))
    make_clip(d / "clip.mp4", seconds=3, size=(320, 180))
    return d


def two_scene_story(app: App, media_dir: Path, slug: str) -> str:
    aid = store_article(app, slug, lang="ko")
    img = store_media(app, aid, 1, "image", media_dir / "wide.jpg")
    clip = store_media(app, aid, 2, "video", media_dir / "clip.mp4", duration_s=3.0)
    story = make_story(aid, "ko", [MediaRef(media_id=img, kind="image"),
                                   MediaRef(media_id=clip, kind="video", start_s=0.5, end_s=2.0)], scene_s=1.5)
    return store_story(app, story, f"s{slug}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("ms") / "work", kinds="render:compositor,render:ltx2").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory, server):
    app = make_app(tmp_path_factory.mktemp("ms-home"), server.url, server.token_file)
    yield app
    app.close()


def test_requests_without_the_internal_credential_are_refused(server):
    assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"
    for method, path in [("GET", "/v1/jobs"), ("GET", "/v1/jobs/j" + "0" * 31), ("POST", "/v1/jobs"),
                         ("GET", "/v1/jobs/j" + "0" * 31 + "/files/video.mp4"), ("DELETE", "/v1/jobs/j" + "0" * 31)]:
        bare = httpx.request(method, server.url + path)
        assert bare.status_code == 401, (method, path)
        assert bare.headers["www-authenticate"] == "Bearer"
        assert bare.json()["error"]["code"] == "unauthorized"
        wrong = httpx.request(method, server.url + path, headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
        basic = httpx.request(method, server.url + path, headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status_code == 401
    ok = httpx.get(f"{server.url}/v1/jobs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200


@pytest.mark.slow
def test_a_story_renders_through_the_server_and_a_resubmit_is_the_same_job(app, server, media_dir):
    sid = two_scene_story(app, media_dir, "remote-ok")
    video = render_story(app, story_id=sid, backend="remote")
    assert video["status"] == "done" and video["backend"] == "remote" and video["error"] is None
    path = app.files.local_path(video["path"])
    info = probe(path)
    assert info.video.codec == "h264" and (info.video.width, info.video.height) == (360, 640)
    assert info.audio.codec == "aac" and info.duration_s == pytest.approx(video["duration_s"], abs=0.1)
    via = video["details"]["generator"]["via"]
    assert via["kind"] == "render:compositor" and via["server_attempts"] == 1
    assert video["details"]["generator"]["name"] == "compositor"  # the server's generator made it
    assert app.files.local_path(video["thumbnail_path"]).stat().st_size > 0
    assert "-->" in app.files.local_path(video["subtitles_path"]).read_text(encoding="utf-8")

    # the same story again (forced): the client finds the finished job by its content id
    again = render_story(app, story_id=sid, backend="remote", force=True)
    assert again["id"] == video["id"] and again["sha256"] == video["sha256"]
    assert again["details"]["generator"]["via"]["job_id"] == via["job_id"]
    jobs = [j for j in server.jobs() if j["id"] == via["job_id"]]
    assert len(jobs) == 1 and jobs[0]["attempts"] == 1  # not rendered twice


def test_the_ltx2_kind_without_weights_fails_with_a_clear_error(app, server, media_dir):
    sid = two_scene_story(app, media_dir, "remote-ltx2")
    ltx = with_remote(app, kind="render:ltx2")
    with pytest.raises(JobFailed) as err:
        render_story(ltx, story_id=sid, backend="remote")
    assert "render.ltx2.model_path is not set" in str(err.value) and not err.value.retryable
    row = list_videos(ltx, story_id=sid)[0]
    assert row["status"] == "error" and "render.ltx2.model_path" in row["error"] and row["path"] is None


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed here")
def test_ltx2_with_weights_but_without_torch_names_what_to_install(tmp_path):
    from trendreel.render.errors import GeneratorUnavailable
    from trendreel.render.ltx2 import load_model
    from trendreel.settings import Ltx2Settings

    (tmp_path / "model_index.json").write_text('{"_class_name": "LTX2Pipeline"}')
    with pytest.raises(GeneratorUnavailable, match=r"needs torch, diffusers.*trendreel\[gpu\]"):
        load_model(Ltx2Settings(model_path=tmp_path))


@pytest.mark.slow
def test_a_server_killed_mid_job_gives_a_retryable_error_and_no_work_is_lost(tmp_path, media_dir):
    srv = ServerProcess(tmp_path / "work").start()
    app = make_app(tmp_path / "home", srv.url, srv.token_file, retry_for_s=1.0)
    try:
        sid = two_scene_story(app, media_dir, "remote-crash")
        failure: list[BaseException] = []

        def render() -> None:
            try:
                render_story(app, story_id=sid, backend="remote")
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                failure.append(exc)

        t = threading.Thread(target=render)
        t.start()
        deadline = time.monotonic() + 30
        while not any(j["status"] == "running" for j in srv.jobs()):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        srv.kill()
        t.join(30)
        assert not t.is_alive()
        assert len(failure) == 1 and isinstance(failure[0], ModelServerUnavailable), failure
        err = failure[0]
        assert err.retryable and "stopped answering" in str(err) and err.job_id
        row = list_videos(app, story_id=sid)[0]
        assert row["status"] == "error" and "stopped answering" in row["error"]
        assert row["path"] is None and not list((tmp_path / "home" / "files").glob(f"videos/**/{row['id']}/*"))

        # back on the same work folder: the job it was running is queued again; the render finds it
        srv.start()
        video = render_story(app, story_id=sid, backend="remote")
        assert video["status"] == "done" and video["id"] == row["id"]
        assert video["details"]["generator"]["via"]["job_id"] == err.job_id
        (job,) = srv.jobs()
        assert job["status"] == "done" and job["attempts"] == 2  # the killed attempt, then one that finished

        # a finished job survives a crash of the server and is fetched, not rendered again
        srv.kill()
        srv.start()
        again = render_story(app, story_id=sid, backend="remote", force=True)
        assert again["sha256"] == video["sha256"]
        (job,) = srv.jobs()
        assert job["attempts"] == 2
        assert get_video(app, video["id"])["status"] == "done"
    finally:
        srv.stop()
        app.close()
