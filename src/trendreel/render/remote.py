"""The `remote` video backend: the render runs on a model server (submit -> poll -> fetch).

The job's story, settings and cited files go to the server named by `render.remote.url`, which runs
the job kind `render.remote.kind` (`render:ltx2` on a GPU machine, `render:compositor` for the CPU
compositor in the same server). The fetched video is checked here again (ffprobe) before the render
service stores it, so a broken download is never stored. A server that goes down mid-job makes the
render fail with ModelServerUnavailable (retryable); running it again resubmits the same content-id
job, so a job the server finished meanwhile is fetched, not redone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.adapters.modelserver import ModelServerClient, read_token
from trendreel.render.base import RenderJob, RenderOutput
from trendreel.render.compositor import verify_video
from trendreel.render.errors import RenderFailed
from trendreel.render.jobspec import OUTPUTS, client_settings, job_spec
from trendreel.settings import RenderSettings

log = logging.getLogger(__name__)

__all__ = ["RemoteGenerator", "remote_token"]

VERSION = "1"


def remote_token(settings: RenderSettings) -> str:
    """The internal credential: render.remote.token, else the first line of render.remote.token_file."""
    r = settings.remote
    return read_token(r.token.get_secret_value() if r.token is not None else None, r.token_file,
                      user="the remote video backend")


class RemoteGenerator:
    """Renders on a model server; the picture and sound are whatever its job kind makes."""

    name = "remote"

    def __init__(self, settings: RenderSettings):
        self.settings = settings

    def settings_key(self) -> str:
        # the server's kind and everything that changes the video; not the URL, credential or timing
        kind = self.settings.remote.kind
        data = client_settings(self.settings)
        if kind != "render:ltx2":
            data.pop("ltx2")  # LTX-2's settings change nothing another kind makes
        blob = json.dumps({"remote": VERSION, "kind": kind, **data}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def client(self):
        r = self.settings.remote
        return ModelServerClient(r.url, remote_token(self.settings), poll_s=r.poll_s, poll_max_s=r.poll_max_s,
                                 retry_for_s=r.retry_for_s, request_timeout_s=r.request_timeout_s, timeout_s=r.timeout_s)

    def generate(self, job: RenderJob) -> RenderOutput:
        t0 = time.perf_counter()
        kind = self.settings.remote.kind
        spec, files = job_spec(job)
        dest = Path(job.workdir) / "remote"
        with self.client() as client:
            state, got = client.run(kind, spec, files, dest)
        result = state.get("result") or {}
        names = result.get("files") or OUTPUTS
        missing = [n for n in names.values() if n not in got]
        if missing:
            raise RenderFailed(f"the model server's job {state['id']} has no {', '.join(missing)}")
        video = got[names["video"]]
        width, height = int(result.get("width") or self.settings.width), int(result.get("height") or self.settings.height)
        checked = verify_video(video, width=width, height=height, duration_s=float(result.get("duration_s") or 0),
                               exe=ffmpeg_exe(self.settings.ffmpeg))
        details = dict(result.get("details") or {})
        details["generator"] = {**details.get("generator", {}), "via": {
            "name": self.name, "version": VERSION, "url": self.settings.remote.url, "kind": kind, "job_id": state["id"],
            "server_attempts": state.get("attempts"), "server_settings_key": result.get("settings_key"),
            "settings_key": self.settings_key()}}
        details.setdefault("timings", {})["remote_total_s"] = round(time.perf_counter() - t0, 3)
        details["remote_checks"] = checked
        return RenderOutput(video=video, thumbnail=got[names["thumbnail"]], subtitles=got[names["subtitles"]],
                            duration_s=checked["duration_s"], width=width, height=height, details=details)
