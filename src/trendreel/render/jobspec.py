"""A render job as a model server job: the story, the render settings and the cited files travel as
a JSON spec plus uploads; the server rebuilds the RenderJob and runs a video generator on it.

Settings that belong to the machine rather than to the video (the ffmpeg executable, threads, the
ffmpeg time limit, the font file, the speech server's address, key and time limit, LTX-2's weights
folder, device and offload) are the server's own;
everything else comes from the client, so the same settings give the same video on either side.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from pydantic import ValidationError

from trendreel.errors import ConfigError
from trendreel.registry import Registry, default_registry
from trendreel.render.base import MediaFile, RenderJob
from trendreel.render.errors import RenderError
from trendreel.render.plan import choose_music
from trendreel.settings import RenderSettings
from trendreel.story.models import Story

__all__ = ["FORMAT", "RenderHandler", "job_spec", "render_job_from_spec"]

FORMAT = 1
# Fields of RenderSettings taken from the server, never from the request.
SERVER_SIDE = {"backend", "remote", "ffmpeg", "threads", "timeout_s", "font_file",
               "speech_base_url", "speech_api_key", "speech_timeout_s"}
SERVER_SIDE_LTX2 = {"model_path", "device", "offload"}
OUTPUTS = {"video": "video.mp4", "thumbnail": "thumb.jpg", "subtitles": "subtitles.srt"}


def _plain(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]


def client_settings(settings: RenderSettings) -> dict:
    """The render settings a server needs to render the same video (no paths of this machine)."""
    data = settings.model_dump(mode="json", exclude=SERVER_SIDE | {"music_path", "music_dir"})
    if not any(spec.startswith("openai:") for spec in settings.voices.values()):
        del data["speech_model"]  # unused: a server from before openai voices reads this spec too
    data["ltx2"] = {k: v for k, v in data["ltx2"].items() if k not in SERVER_SIDE_LTX2}
    return data


def job_spec(job: RenderJob) -> tuple[dict, dict[str, Path]]:
    """(spec, {upload name: local file}) of a render job."""
    files: dict[str, Path] = {}
    media = {}
    for mid, m in sorted(job.media.items()):
        name = None
        if m.path is not None:
            name = _plain(f"{mid}{Path(m.path).suffix.lower()[:8]}")
            files[name] = Path(m.path)
        media[mid] = {"kind": m.kind, "file": name, "problem": m.problem, "mime": m.mime}
    music = None
    if job.settings.music_path is not None:
        src = Path(job.settings.music_path).expanduser()
        if src.is_file():  # a missing file is reported by the server's check, naming the setting
            music = _plain(f"music{src.suffix.lower()[:8]}")
            files[music] = src
        else:
            raise ConfigError(f"render.music_path {src} does not exist")
    elif job.settings.music_dir is not None:  # the file of the folder this story gets travels, as music_path
        src = choose_music(job.settings, str(getattr(job.story, "id", None) or job.story.title))
        music = _plain(f"music{src.suffix.lower()[:8]}")
        files[music] = src
    spec = {"format": FORMAT, "story": job.story.model_dump(mode="json"), "settings": client_settings(job.settings),
            "media": media, "music": music}
    return spec, files


def render_job_from_spec(spec: dict, inputs: Path, workdir: Path, server: RenderSettings, backend: str) -> RenderJob:
    """The RenderJob a spec describes, with the server's machine settings; ValueError when it is malformed."""
    if spec.get("format") != FORMAT:
        raise ValueError(f"render spec format {spec.get('format')!r}; this server reads format {FORMAT}")
    try:
        data = dict(spec["settings"])
        data.update({k: getattr(server, k) for k in SERVER_SIDE if k != "remote"})
        data["backend"] = backend
        data["ltx2"] = {**data.get("ltx2", {}), **{k: getattr(server.ltx2, k) for k in SERVER_SIDE_LTX2}}
        data["music_path"] = str(inputs / spec["music"]) if spec.get("music") else None
        settings = RenderSettings.model_validate(data)
        story = Story.model_validate(spec["story"])
        media = {}
        for mid, m in spec["media"].items():
            path = inputs / m["file"] if m.get("file") else None
            media[mid] = MediaFile(mid, m["kind"], path, m.get("problem") if path else (m.get("problem") or "not sent"),
                                   m.get("mime"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"render spec is missing or has a wrong {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"render spec: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    return RenderJob(story=story, media=media, settings=settings, workdir=workdir)


class RenderHandler:
    """The model server's `render:<backend>` jobs: rebuild the RenderJob, run the generator, hand back its files."""

    def __init__(self, backend: str, server_settings: RenderSettings, *, registry: Registry | None = None):
        self.backend, self.server = backend, server_settings
        self.registry = registry or default_registry()  # each job's generator is built from the job's settings

    def check(self, spec: dict, names: list[str]) -> None:
        job = render_job_from_spec(spec, Path("/nonexistent"), Path("/nonexistent"), self.server, self.backend)
        wanted = {m.path.name for m in job.media.values() if m.path is not None}
        if spec.get("music"):
            wanted.add(spec["music"])
        missing = sorted(wanted - set(names))
        if missing:
            raise ValueError(f"render spec names files that were not uploaded: {', '.join(missing)}")

    def __call__(self, ctx) -> dict:
        work = ctx.scratch / "render"
        work.mkdir(parents=True, exist_ok=True)
        try:
            job = render_job_from_spec(ctx.spec, ctx.inputs, work, self.server, self.backend)
        except ValueError as exc:
            raise RenderError(str(exc)) from None
        generator = self.registry.create("video_generator", self.backend, job.settings)
        ctx.progress(0.01, f"rendering with {self.backend}")
        if hasattr(generator, "on_progress"):
            generator.on_progress = ctx.progress
        out = generator.generate(job)
        for key, name in OUTPUTS.items():
            shutil.move(str(getattr(out, key)), ctx.out / name)
        return {"files": OUTPUTS, "duration_s": out.duration_s, "width": out.width, "height": out.height,
                "details": out.details, "backend": self.backend, "settings_key": generator.settings_key()}
