"""LTX-2 through diffusers: one generated clip with its own sound per scene, composed like the compositor.

LTX-2 (Lightricks) is a DiT that generates video and synchronised audio in one model. Per scene:
1. the scene's length comes from the same plan the compositor makes (narration measured, so the
   generated clip covers the voice);
2. a prompt is made from the story's title, the scene's on-screen text and narration; the scene's
   first cited picture (or the first frame of its cited clip range) conditions the generation
   (image-to-video), a scene with none is text-to-video;
3. the model returns frames and a waveform; they are encoded into one clip (H.264 + AAC).
Then the clips become the scenes' media and the compositor does the rest, unchanged: narration by
the story's voice, subtitles and on-screen text, crossfades, loudness. The model's own sound is laid
under the narration as an ambient track (render.ltx2.model_audio_db, ducked while the voice speaks):
it cannot be trusted to say the narration, least of all in Korean.

Weights come only from render.ltx2.model_path (`from_pretrained(path, local_files_only=True)`); torch
and diffusers are imported on first use, so trendreel imports without them. The model stays loaded
for the life of the process (a model server holds it between jobs).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.errors import ConfigError
from trendreel.render.base import MediaFile, RenderJob, RenderOutput
from trendreel.render.compositor import Compositor
from trendreel.render.compositor import settings_key as compositor_key
from trendreel.render.errors import GeneratorUnavailable, RenderFailed
from trendreel.render.ffmpeg import run_ffmpeg
from trendreel.render.plan import build_plan
from trendreel.settings import Ltx2Settings, RenderSettings
from trendreel.story.models import MediaRef

log = logging.getLogger(__name__)

__all__ = ["DiffusersLtx2", "Ltx2Generator", "Ltx2Model", "clip_frames", "load_model", "scene_prompt"]

VERSION = "1"
PROMPT_STYLE = ("Vertical 9:16 video for a short news clip, natural camera motion, realistic lighting. "
                "Ambient sound of the scene only, no speech, no music, no text on screen.")


class Ltx2Model(Protocol):
    """What the generator needs from the model: one clip with its sound."""

    sample_rate: int

    def generate(self, *, prompt: str, negative_prompt: str, image, width: int, height: int, num_frames: int,
                 frame_rate: float, steps: int, guidance_scale: float, seed: int,
                 on_step: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(frames uint8 [F, H, W, 3], audio float32 [channels, samples] in -1..1)."""
        ...


class DiffusersLtx2:
    """LTX2ImageToVideoPipeline (and LTX2Pipeline sharing its components for scenes without a picture)."""

    def __init__(self, i2v, torch, device: str):
        self.i2v, self.torch, self.device = i2v, torch, device
        self._t2v = None
        self.sample_rate = int(i2v.vocoder.config.output_sampling_rate)

    def _text_to_video(self):
        if self._t2v is None:
            from diffusers import LTX2Pipeline

            self._t2v = LTX2Pipeline.from_pipe(self.i2v)
        return self._t2v

    def generate(self, *, prompt, negative_prompt, image, width, height, num_frames, frame_rate, steps, guidance_scale,
                 seed, on_step=None):
        torch = self.torch

        def step_end(pipe, step, timestep, callback_kwargs):
            if on_step is not None:
                on_step(step + 1)
            return callback_kwargs

        pipe = self.i2v if image is not None else self._text_to_video()
        kwargs = dict(prompt=prompt, negative_prompt=negative_prompt, width=width, height=height, num_frames=num_frames,
                      frame_rate=frame_rate, num_inference_steps=steps, guidance_scale=guidance_scale,
                      generator=torch.Generator(device="cpu").manual_seed(seed), output_type="np", return_dict=False,
                      callback_on_step_end=step_end)
        if image is not None:
            kwargs["image"] = image
        with torch.inference_mode():
            video, audio = pipe(**kwargs)
        frames = (np.asarray(video[0]) * 255).round().clip(0, 255).astype(np.uint8)
        wav = audio[0]
        wav = wav.float().cpu().numpy() if hasattr(wav, "cpu") else np.asarray(wav, dtype=np.float32)
        return frames, (wav[None, :] if wav.ndim == 1 else wav).astype(np.float32)


_MODELS: dict[tuple, Ltx2Model] = {}
_LOAD_LOCK = threading.Lock()


def load_model(cfg: Ltx2Settings) -> Ltx2Model:
    """The LTX-2 pipeline from render.ltx2.model_path, loaded once per process; clear errors for what is missing."""
    if cfg.model_path is None:
        raise ConfigError("render.ltx2.model_path is not set: download the Lightricks/LTX-2 weights on a machine with "
                          "internet (see docs/models/ltx2.md) and point render.ltx2.model_path at that folder")
    path = Path(cfg.model_path).expanduser()
    if not (path / "model_index.json").is_file():
        raise ConfigError(f"render.ltx2.model_path {path} holds no diffusers model (no model_index.json); "
                          "it must be the folder of `huggingface-cli download Lightricks/LTX-2 --local-dir ...`")
    key = (str(path.resolve()), cfg.device, cfg.offload)
    with _LOAD_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        try:
            import diffusers  # noqa: F401
            import torch
        except ImportError as exc:
            raise GeneratorUnavailable(f"the ltx2 backend needs torch, diffusers, transformers and accelerate ({exc.name} is "
                                       "missing): install trendreel[gpu] on the GPU machine (scripts/modelserver-install-gpu)") from None
        if cfg.device.startswith("cuda") and not torch.cuda.is_available():
            raise GeneratorUnavailable(f"render.ltx2.device is {cfg.device} but torch sees no CUDA device on this machine; "
                                       "run the ltx2 backend on a GPU machine (a model server, render.backend = remote)")
        try:
            from diffusers import LTX2ImageToVideoPipeline
        except ImportError:
            raise GeneratorUnavailable(f"diffusers {diffusers.__version__} has no LTX-2 pipelines; upgrade it "
                                       "(pip install -U 'diffusers>=0.37')") from None
        t0 = time.perf_counter()
        pipe = LTX2ImageToVideoPipeline.from_pretrained(str(path), torch_dtype=torch.bfloat16, local_files_only=True)
        if cfg.offload == "model":
            pipe.enable_model_cpu_offload(device=cfg.device)
        elif cfg.offload == "sequential":
            pipe.enable_sequential_cpu_offload(device=cfg.device)
        else:
            pipe.to(cfg.device)
        pipe.vae.enable_tiling()  # decoding 100+ frames at once runs out of memory otherwise
        log.info("LTX-2 loaded from %s in %.1f s (offload %s)", path, time.perf_counter() - t0, cfg.offload)
        model = _MODELS[key] = DiffusersLtx2(pipe, torch, cfg.device)
        return model


def clip_frames(seconds: float, cfg: Ltx2Settings) -> int:
    """Frames to generate for a scene: 8k+1 (what LTX-2's VAE needs), covering `seconds`, at most max_clip_s."""
    def up(n: float) -> int:
        return 8 * max(1, math.ceil((n - 1) / 8)) + 1

    most = 8 * max(1, math.floor((cfg.max_clip_s * cfg.frame_rate - 1) / 8)) + 1
    return min(up(seconds * cfg.frame_rate), most)


def scene_prompt(story, index: int) -> str:
    """The generation prompt of one scene: what the story is about, what the scene shows and says."""
    scene = story.scenes[index]
    parts = [f"A short video about: {story.title}."]
    if scene.on_screen_text:
        parts.append(f"This scene shows: {scene.on_screen_text}.")
    parts.append(f"Context: {scene.narration}")
    parts.append(PROMPT_STYLE)
    return " ".join(parts)


def _conditioning_image(scene, media: dict[str, MediaFile], workdir: Path, index: int, exe: str, size: tuple[int, int]):
    """The scene's first usable picture as a PIL image cropped to the generated size, or None; and its media id."""
    from PIL import Image, ImageOps

    for ref in scene.media:
        m = media.get(ref.media_id)
        if m is None or m.path is None:
            continue
        src = Path(m.path)
        try:
            if ref.kind == "video":
                still = workdir / f"still{index:02d}.png"
                run_ffmpeg(["-ss", f"{ref.start_s or 0:.3f}", "-i", str(src), "-frames:v", "1", "-update", "1", str(still)],
                           what=f"taking a frame of {ref.media_id}", timeout_s=120, exe=exe)
                src = still
            with Image.open(src) as im:
                im = ImageOps.exif_transpose(im).convert("RGB")
                return ImageOps.fit(im, size, method=Image.Resampling.BICUBIC), ref.media_id
        except (RenderFailed, OSError) as exc:
            log.info("scene %d: %s cannot condition the model (%s)", index + 1, ref.media_id, exc)
    return None, None


def _write_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    data = np.clip(audio, -1, 1)
    pcm = (data.T * 32767).round().astype("<i2")  # interleaved
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def _encode_clip(frames: np.ndarray, audio_wav: Path, rate: float, out: Path, exe: str, timeout_s: float) -> None:
    """Frames (raw RGB through a pipe) and the WAV into one H.264 + AAC clip."""
    n, h, w, _ = frames.shape
    cmd = [exe, "-hide_banner", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{rate:g}",
           "-i", "-", "-i", str(audio_wav), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast",
           "-crf", "16", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", str(out)]
    cmd.remove("-nostdin")  # the frames come on stdin
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for f in frames:
            proc.stdin.write(np.ascontiguousarray(f).tobytes())
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait(timeout=timeout_s)
    except (BrokenPipeError, subprocess.TimeoutExpired) as exc:
        proc.kill()
        raise RenderFailed(f"encoding a generated clip: ffmpeg stopped ({exc})") from exc
    if code != 0:
        raise RenderFailed(f"encoding a generated clip: ffmpeg failed: {err.strip().splitlines()[-1:] or 'no message'}")


def _ambient(scenes: list[tuple[Path, float]], total_s: float, out: Path, exe: str, timeout_s: float) -> Path:
    """One track of the clips' own sound, each placed at its scene's start, as long as the video."""
    args, parts, labels = [], [], []
    for k, (clip, start_s) in enumerate(scenes):
        args += ["-i", str(clip)]
        parts.append(f"[{k}:a]aformat=sample_fmts=fltp:channel_layouts=stereo,aresample=48000,"
                     f"adelay=delays={round(start_s * 48000)}S:all=1[a{k}]")
        labels.append(f"[a{k}]")
    parts.append(f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest,"
                 f"apad=whole_dur={total_s:.3f},atrim=end={total_s:.3f}[amb]")
    run_ffmpeg([*args, "-filter_complex", ";".join(parts), "-map", "[amb]", "-c:a", "pcm_s16le", str(out)],
               what="laying the generated sound under the narration", timeout_s=timeout_s, exe=exe)
    return out


class Ltx2Generator:
    """`render.backend = "ltx2"` in a process with a GPU, or the model server's `render:ltx2` jobs."""

    name = "ltx2"

    def __init__(self, settings: RenderSettings, *, model: Ltx2Model | None = None):
        self.settings = settings
        self._model = model
        self.on_progress: Callable[[float, str | None], None] | None = None

    def settings_key(self) -> str:
        gen = self.settings.ltx2.model_dump(mode="json", exclude={"model_path", "device", "offload"})
        blob = json.dumps({"ltx2": VERSION, "compositor": compositor_key(self.settings), **gen}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def _progress(self, fraction: float, note: str | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(fraction, note)

    def generate(self, job: RenderJob) -> RenderOutput:
        s, cfg = self.settings, self.settings.ltx2
        model = self._model or load_model(cfg)  # fails before any work when the model cannot run
        exe = ffmpeg_exe(s.ffmpeg)
        workdir = Path(job.workdir)
        gen_dir = workdir / "generated"
        gen_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        # The plan gives each scene's length (narration measured); the compositor makes the same plan again.
        plan = build_plan(job.story, dict(job.media), s, workdir / "plan", exe=exe)
        timings = {"plan_s": round(time.perf_counter() - t0, 3)}
        n = len(plan.scenes)
        scenes_out, media, clips = [], {}, []
        new_scenes = list(job.story.scenes)
        t_gen = time.perf_counter()
        for i, planned in enumerate(plan.scenes):
            scene = job.story.scenes[i]
            seconds = planned.frames / plan.fps
            frames_n = clip_frames(seconds, cfg)
            image, cond = _conditioning_image(scene, dict(job.media), gen_dir, i, exe, (cfg.width, cfg.height))
            prompt = scene_prompt(job.story, i)
            t = time.perf_counter()
            self._progress(0.05 + 0.85 * i / n, f"scene {i + 1}/{n}: generating {frames_n} frames")

            def on_step(step: int, i=i) -> None:
                self._progress(0.05 + 0.85 * (i + step / cfg.steps) / n, f"scene {i + 1}/{n}: step {step}/{cfg.steps}")

            frames, audio = model.generate(prompt=prompt, negative_prompt=cfg.negative_prompt, image=image,
                                           width=cfg.width, height=cfg.height, num_frames=frames_n,
                                           frame_rate=cfg.frame_rate, steps=cfg.steps, guidance_scale=cfg.guidance_scale,
                                           seed=cfg.seed + i, on_step=on_step)
            if frames.ndim != 4 or frames.shape[0] < 1 or frames.shape[3] != 3:
                raise RenderFailed(f"scene {i + 1}: the model returned frames of shape {frames.shape}")
            wav = gen_dir / f"scene{i:02d}.wav"
            _write_wav(wav, audio, model.sample_rate)
            clip = gen_dir / f"scene{i:02d}.mp4"
            _encode_clip(frames, wav, cfg.frame_rate, clip, exe, s.timeout_s)
            clip_s = frames.shape[0] / cfg.frame_rate
            mid = f"ltx2-scene{i:02d}"
            media[mid] = MediaFile(mid, "video", clip, None, "video/mp4")
            new_scenes[i] = scene.model_copy(update={"media": [MediaRef(media_id=mid, kind="video", start_s=0.0, end_s=round(clip_s, 3))]})
            clips.append((clip, planned.start_frame / plan.fps))
            scenes_out.append({"prompt": prompt, "conditioned_on": cond, "frames": int(frames.shape[0]),
                               "size": [int(frames.shape[2]), int(frames.shape[1])], "clip_s": round(clip_s, 3),
                               "scene_s": round(seconds, 3), "audio_s": round(audio.shape[1] / model.sample_rate, 3),
                               "seconds": round(time.perf_counter() - t, 2)})
        timings["generate_s"] = round(time.perf_counter() - t_gen, 3)
        self._progress(0.92, "composing")

        ambient = _ambient(clips, plan.duration_s, gen_dir / "ambient.wav", exe, s.timeout_s)
        if s.music_path is not None:  # music and the model's sound together under the voice
            mixed = gen_dir / "ambient_music.wav"
            run_ffmpeg(["-i", str(ambient), "-stream_loop", "-1", "-i", str(s.music_path), "-filter_complex",
                        f"[0:a]volume={cfg.model_audio_db:.1f}dB[m];[1:a]aformat=channel_layouts=stereo,aresample=48000,"
                        f"volume={s.music_volume_db:.1f}dB[b];[m][b]amix=inputs=2:normalize=0:duration=first[o]",
                        "-map", "[o]", "-c:a", "pcm_s16le", str(mixed)],
                       what="mixing the music with the generated sound", timeout_s=s.timeout_s, exe=exe)
            ambient, level = mixed, 0.0
        else:
            level = cfg.model_audio_db
        story = job.story.model_copy(update={"scenes": new_scenes})
        composed = s.model_copy(update={"music_path": ambient, "music_volume_db": level, "motion": "none"})
        out = Compositor(composed).generate(RenderJob(story=story, media=media, settings=composed,
                                                      workdir=workdir / "compose"))
        details = dict(out.details)
        details["generator"] = {"name": self.name, "version": VERSION, "settings_key": self.settings_key(),
                                "model": Path(cfg.model_path).name if cfg.model_path else None,
                                "composed_by": details.get("generator")}
        details["ltx2"] = {"scenes": scenes_out, "steps": cfg.steps, "guidance_scale": cfg.guidance_scale,
                           "frame_rate": cfg.frame_rate, "seed": cfg.seed, "sample_rate": model.sample_rate}
        details.setdefault("timings", {}).update({**timings, "ltx2_total_s": round(time.perf_counter() - t0, 3)})
        self._progress(1.0, "done")
        return out.__class__(video=out.video, thumbnail=out.thumbnail, subtitles=out.subtitles,
                             duration_s=out.duration_s, width=out.width, height=out.height, details=details)
