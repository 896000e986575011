"""The model server's API in-process (no worker): upload limits, names, kinds, idempotent submits, errors as JSON."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from trendreel.modelserver.app import create_app
from trendreel.adapters.modelserver import job_id
from trendreel.modelserver.jobs import JobStore

TOKEN = "u" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Echo:
    """A handler kind that checks its spec; never run here (no worker)."""

    def check(self, spec, names):
        if "need" in spec and spec["need"] not in names:
            raise ValueError(f"missing {spec['need']}")

    def __call__(self, ctx):
        return {}


@pytest.fixture
def api(tmp_path):
    app = create_app(work_dir=tmp_path / "work", token=TOKEN, handlers={"test:echo": Echo()}, max_upload_bytes=10_000,
                     start_worker=False)
    with TestClient(app) as c:
        yield c


def submit(api, spec, files=(), kind="test:echo"):
    return api.post("/v1/jobs", headers=AUTH, data={"kind": kind, "spec": json.dumps(spec)},
                    files=[("files", (n, b, "application/octet-stream")) for n, b in files])


def test_a_short_token_is_refused(tmp_path):
    with pytest.raises(ValueError, match="16 characters"):
        create_app(work_dir=tmp_path, token="short", handlers={})


def test_submitting_the_same_content_twice_gives_the_same_job(api):
    first = submit(api, {"a": 1}, [("in.bin", b"abc")])
    assert first.status_code == 201 and first.json()["status"] == "queued"
    assert first.json()["id"] == job_id("test:echo", {"a": 1}, {"in.bin": __import__("hashlib").sha256(b"abc").hexdigest()})
    again = submit(api, {"a": 1}, [("in.bin", b"abc")])
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = submit(api, {"a": 1}, [("in.bin", b"abd")])
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert len(api.get("/v1/jobs", headers=AUTH).json()["jobs"]) == 2


def test_bad_submits_get_json_errors(api):
    assert submit(api, {}, kind="render:nope").json()["error"]["code"] == "unknown_kind"
    r = api.post("/v1/jobs", headers=AUTH, data={"kind": "test:echo", "spec": "{not json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_spec"
    r = submit(api, {}, [("../escape", b"x")])
    assert r.status_code == 422 and "plain name" in r.json()["error"]["message"]
    r = submit(api, {"need": "img.jpg"})
    assert r.status_code == 422 and r.json()["error"]["message"] == "missing img.jpg"
    r = submit(api, {}, [("big.bin", b"x" * 20_000)])
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert api.get("/v1/jobs", headers=AUTH).json()["jobs"] == []  # nothing half-made was kept
    store_root = api.app.state.store.root
    assert list((store_root / "incoming").iterdir()) == []


def test_unknown_jobs_and_files(api):
    assert api.get("/v1/jobs/j" + "1" * 31, headers=AUTH).status_code == 404
    assert api.get("/v1/jobs/..%2F..%2Fetc", headers=AUTH).status_code == 404
    jid = submit(api, {"b": 2}).json()["id"]
    r = api.get(f"/v1/jobs/{jid}/files/video.mp4", headers=AUTH)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_done"
    assert api.delete(f"/v1/jobs/{jid}", headers=AUTH).json()["status"] == "deleted"
    assert api.get(f"/v1/jobs/{jid}", headers=AUTH).status_code == 404


def test_a_restart_queues_unfinished_jobs_again(tmp_path):
    store = JobStore(tmp_path)
    up = store.new_upload()
    (up / "inputs" / "x.bin").write_bytes(b"1")
    state, created = store.create("k", {}, up)
    store.update(state["id"], status="running", attempts=1)
    (store.folder(state["id"]) / "scratch").mkdir()
    stray = store.new_upload()
    again = JobStore(tmp_path).recover()
    assert again == [state["id"]]
    after = store.get(state["id"])
    assert after["status"] == "queued" and "queued again" in after["note"]
    assert not (store.folder(state["id"]) / "scratch").exists() and not stray.exists()
