"""The model server client's retry and polling logic against scripted answers (httpx.MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from trendreel.adapters.modelserver import JobFailed, ModelServerClient, ModelServerRefused, ModelServerUnavailable, backoff

JOB = "j" + "a" * 31


class Clock:
    """A fake clock that sleeping moves forward."""

    def __init__(self):
        self.now, self.slept = 0.0, []

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s

    def __call__(self) -> float:
        return self.now


def client(handler, clock: Clock, **kw) -> ModelServerClient:
    return ModelServerClient("http://ms.internal:8601", "t" * 20, transport=httpx.MockTransport(handler),
                             sleep=clock.sleep, clock=clock, **kw)


def state(status: str, **extra) -> dict:
    return {"id": JOB, "kind": "render:compositor", "status": status, "progress": 0.5, "error": None, "retryable": None,
            "attempts": 1, "outputs": [], "result": None, **extra}


def test_backoff_doubles_up_to_the_cap():
    gen = backoff(0.5, cap=4)
    assert [next(gen) for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]


def test_5xx_and_dropped_connections_are_retried_with_backoff():
    answers = iter([httpx.Response(503, json={"error": {"message": "busy"}}), "drop", httpx.Response(502),
                    httpx.Response(200, json=state("running"))])
    seen_auth = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_auth.append(request.headers["authorization"])
        a = next(answers)
        if a == "drop":
            raise httpx.RemoteProtocolError("server disconnected")
        return a

    clock = Clock()
    assert client(handler, clock).status(JOB)["status"] == "running"
    assert clock.slept == [0.5, 1.0, 2.0]
    assert set(seen_auth) == {"Bearer " + "t" * 20}


def test_a_server_that_stays_down_gives_a_retryable_error_after_the_window():
    def handler(request):
        raise httpx.ConnectError("connection refused")

    clock = Clock()
    with pytest.raises(ModelServerUnavailable) as err:
        client(handler, clock, retry_for_s=10).status(JOB)
    assert err.value.retryable and err.value.job_id == JOB
    assert "stopped answering" in str(err.value) and "ConnectError" in str(err.value)
    assert 10 <= clock.now <= 20 and clock.slept[:4] == [0.5, 1, 2, 4]


def test_a_wrong_credential_is_not_retried():
    clock = Clock()
    with pytest.raises(ModelServerRefused, match="render.remote.token_file") as err:
        client(lambda r: httpx.Response(403, json={"error": {"message": "wrong internal credential"}}), clock).status(JOB)
    assert err.value.status == 403 and not err.value.retryable and clock.slept == []


def test_polling_waits_longer_each_time_and_reports_a_failed_job():
    answers = iter([state("queued"), state("running"), state("running"), state("running"),
                    state("error", error="CUDA out of memory", retryable=True)])
    clock = Clock()
    c = client(lambda r: httpx.Response(200, json=next(answers)), clock, poll_s=1, poll_max_s=2)
    with pytest.raises(JobFailed, match="CUDA out of memory") as err:
        c.wait(JOB)
    assert err.value.retryable
    assert clock.slept == [1, 1.5, 2, 2]


def test_a_server_that_forgot_the_job_says_so():
    clock = Clock()
    c = client(lambda r: httpx.Response(404, json={"error": {"message": "no job"}}), clock)
    assert c.status(JOB) is None
    with pytest.raises(ModelServerUnavailable, match="no longer knows job"):
        c.wait(JOB)


def test_a_damaged_download_is_fetched_again_and_never_left_in_place(tmp_path):
    bodies = iter([b"broken", b"good bytes"])
    clock = Clock()
    c = client(lambda r: httpx.Response(200, content=next(bodies)), clock)
    import hashlib

    got = c.fetch(JOB, "video.mp4", tmp_path / "video.mp4", sha256=hashlib.sha256(b"good bytes").hexdigest())
    assert got.read_bytes() == b"good bytes" and sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]
