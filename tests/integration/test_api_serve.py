"""`trendreel serve` as a real process (one worker and several), and the gateway refusing invalid
input before a model server sees it (the real model server in its own process)."""

from __future__ import annotations

import json

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.api_helpers import PASSWORD, assert_error, make_gateway
from tests.modelserver_support import ServerProcess, free_port
from tests.render_support import make_image, make_story, store_article, store_media, store_story
from trendreel.services import users
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.files.store import open_file_store
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

TRENDREEL = [str(Path(sys.executable).with_name("trendreel"))]


def _cli(*args: str, home: Path, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*TRENDREEL, *args, "--home", str(home)], input=stdin, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


class Served:
    def __init__(self, home: Path, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"serve-{self.port}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([*TRENDREEL, "serve", "--port", str(self.port), "--home", str(home), *args],
                                         stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def wait(self, timeout_s: float = 150.0) -> "Served":
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not answer /healthz: {self.log.read_text()[-2000:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def test_serve_answers_health_and_the_api_with_a_token(tmp_path):
    home = tmp_path / "home"
    added = _cli("users", "add", "ops", "--role", "admin", "--password-stdin", home=home, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    made = _cli("tokens", "create", "--user", "ops", "--name", "monitor", home=home)
    token = made.stdout.strip()
    assert made.returncode == 0 and token.startswith("trt_") and "shown only now" in made.stderr
    served = Served(home).wait()
    try:
        assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{served.url}/readyz").json()["checks"] == {"database": "ok", "files": "ok", "vectors": "ok"}
        assert_error(httpx.get(f"{served.url}/api/v1/trends"), 401)
        me = httpx.get(f"{served.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["username"] == "ops"
        # Revoked from the CLI while the server runs: refused on the next request.
        token_id = me.json()["token_id"]
        assert _cli("tokens", "revoke", token_id, home=home).returncode == 0
        time.sleep(users.TOKEN_CACHE_S)  # another process revoked it: the server's short token cache runs out
        assert_error(httpx.get(f"{served.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)
        assert (home / "secret_key").stat().st_mode & 0o777 == 0o600
        assert (home / "trendreel.db").stat().st_mode & 0o777 == 0o600 and home.stat().st_mode & 0o777 == 0o700
        # A browser session ended from the CLI (another process) stops working on the next request.
        with httpx.Client(base_url=served.url) as browser:
            assert browser.post("/api/v1/auth/login", json={"username": "ops", "password": PASSWORD}).status_code == 200
            assert browser.get("/api/v1/auth/me").status_code == 200
            ended = _cli("users", "logout", "ops", "--json", home=home)
            assert ended.returncode == 0 and json.loads(ended.stdout)["sessions_ended"] == 1
            assert_error(browser.get("/api/v1/auth/me"), 401)
    finally:
        assert served.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown


@pytest.mark.slow
def test_several_workers_need_a_shared_vector_store(tmp_path):
    home = tmp_path / "home"
    refused = _cli("serve", "--workers", "2", home=home)
    assert refused.returncode == 2 and "vectors_url" in refused.stderr and "qdrant://" in refused.stderr
    # With a server vector store named (not running here, and opened only when needed) two workers serve;
    # readiness says what is missing, and metrics add up over both processes.
    assert _cli("users", "add", "ops", "--role", "admin", "--password-stdin", home=home, stdin=PASSWORD + "\n").returncode == 0
    env = {"TRENDREEL_VECTORS_URL": f"qdrant://127.0.0.1:{free_port()}/trendreel", "TRENDREEL_SERVE__METRICS_PUBLIC": "true"}
    served = Served(home, "--workers", "2", env=env).wait()
    try:
        ready = httpx.get(f"{served.url}/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["vectors"].startswith("unreachable")
        with httpx.Client(base_url=served.url) as c:
            login = c.post("/api/v1/auth/login", json={"username": "ops", "password": PASSWORD})
            assert login.status_code == 200
            for _ in range(40):  # spread over both workers by the kernel; sessions work on either
                assert c.get("/api/v1/auth/me").status_code == 200
        metrics = httpx.get(f"{served.url}/metrics").text
        line = next(l for l in metrics.splitlines() if l.startswith("trendreel_http_requests_total") and "/api/v1/auth/me" in l)
        assert float(line.rsplit(" ", 1)[1]) == 40
    finally:
        assert served.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown


@pytest.fixture
def model_server(tmp_path):
    srv = ServerProcess(tmp_path / "ms-work", kinds="render:compositor").start()
    yield srv
    srv.stop()


@pytest.mark.slow
def test_the_gateway_refuses_invalid_input_before_a_model_server_sees_it(tmp_path, model_server):
    home = tmp_path / "home"
    settings = Settings(home=home, render={"width": 360, "height": 640, "loudness_passes": 1, "preset": "ultrafast",
                                           "backend": "remote",
                                           "remote": {"url": model_server.url, "token_file": str(model_server.token_file),
                                                      "kind": "render:compositor", "poll_s": 0.05, "poll_max_s": 0.2}})
    home.mkdir(parents=True)
    application = App(settings=settings, db=Database(f"sqlite:///{home / 'test.db'}"), files=open_file_store(settings.files_url))
    gw = make_gateway(settings, application)
    aid = store_article(application, "gateway-check", lang="en")
    img = make_image(tmp_path / "wide.jpg", size=(640, 360))
    mid = store_media(application, aid, 1, "image", img)
    sid = store_story(application, make_story(aid, "en", [MediaRef(media_id=mid, kind="image")], scene_s=1.5), "s" + "ab" * 11 + "a")
    c = gw.client("editor")
    render = f"/api/v1/stories/{sid}/render"
    refused = [
        c.post(render, json={"backend": "no-such-backend"}),
        c.post(render, json={"backend": "../../bin/sh"}),
        c.post(render, json={"backend": "remote", "force": "sometimes"}),
        c.post(render, json={"backend": "remote", "width": 99999}),
        c.post(render, content=b"[" * 10000, headers={"content-type": "application/json"}),
        c.post("/api/v1/stories/" + "s" * 24 + "/render", json={}),
        c.post("/api/v1/runs", json={"kind": "render", "story_id": sid, "backend": "nope"}),
        c.post("/api/v1/runs", json={"kind": "render", "story_id": "../" + sid}),
        gw.client("viewer").post(render, json={}),
        gw.client().post(render, json={}),
    ]
    for r in refused:
        assert r.status_code in (400, 401, 403, 422), (r.request.content[:80], r.status_code, r.text)
        assert_error(r, r.status_code)
    assert_error(c.post("/api/v1/stories/s" + "0" * 23 + "/render", json={}), 404)
    assert "unknown video backend 'no-such-backend'" in refused[0].json()["error"]["message"]
    assert model_server.jobs() == []
    assert gw.client("admin").get("/api/v1/runs").json() == []  # nothing was even queued
    # The same endpoint with valid input reaches the model server, which renders the video.
    from tests.integration.test_api_resources import follow

    run = follow(c, c.post(render, json={}), timeout_s=240)
    assert run["status"] == "done", run["error"]
    assert len(model_server.jobs()) == 1
    video = c.get(f"/api/v1/videos/{run['result']['render']['video_id']}").json()
    assert video["backend"] == "remote" and video["status"] == "done"
    application.close()
