"""Helpers for render tests: media made at test time with ffmpeg, stored items and stories in the RDB."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.db.tables import Article, MediaItem, Story as StoryRow
from trendreel.files.layout import media_file
from trendreel.ids import article_id, media_id
from trendreel.story.models import Citation, MediaRef, Scene, Story

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)

KO = {
    "title": "한강 러닝 열풍",
    "hook": "요즘 이삼십대는 주말 아침마다 한강에서 달립니다.",
    "narration": ["러닝 크루가 서울 곳곳에서 늘고 있습니다.", "카페들도 아침 일찍 문을 엽니다.",
                  "전문가들은 이 흐름이 계속될 것으로 봅니다."],
    "on_screen": ["러닝 크루 급증", "아침 카페", "계속될 트렌드"],
}
EN = {
    "title": "The river running boom",
    "hook": "People in their twenties now run along the river every weekend.",
    "narration": ["Running crews are growing all over the city.", "Cafes open early to catch the runners.",
                  "Experts expect the trend to last."],
    "on_screen": ["Running crews", "Early cafes", "Here to stay"],
}


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, capture_output=True, timeout=120)


def make_image(path: Path, size=(1280, 720), source: str = "testsrc2") -> Path:
    ffmpeg("-f", "lavfi", "-i", f"{source}=s={size[0]}x{size[1]}", "-frames:v", "1", str(path))
    return path


def make_clip(path: Path, seconds: float = 4.0, size=(640, 360)) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=s={size[0]}x{size[1]}:r=25:d={seconds}", "-f", "lavfi",
           "-i", f"sine=f=330:d={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path))
    return path


def make_unsupported_codec(path: Path) -> Path:
    """An AVI whose video codec tag no ffmpeg decoder knows (an MJPEG file with its FourCC changed)."""
    tmp = path.with_suffix(".src.avi")
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240:d=2", "-c:v", "mjpeg", str(tmp))
    path.write_bytes(tmp.read_bytes().replace(b"MJPG", b"ZZ9Z"))
    tmp.unlink()
    return path


def make_music(path: Path, seconds: float = 3.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"sine=f=220:d={seconds}", "-f", "lavfi", "-i", f"sine=f=277:d={seconds}",
           "-filter_complex", "amix=inputs=2", "-c:a", "pcm_s16le", str(path))
    return path


def store_article(app, slug: str, *, lang: str) -> str:
    aid = article_id(f"https://news.example/{slug}")
    with app.db.session() as s:
        if s.get(Article, aid) is None:
            s.add(Article(id=aid, url=f"https://news.example/{slug}", canonical_url=f"https://news.example/{slug}",
                          title=slug, lang=lang, content_hash=slug, minhash="0" * 512, published_at=NOW))
    return aid


def store_media(app, aid: str, position: int, kind: str, src: Path | None, *, ext: str | None = None,
                duration_s: float | None = None) -> str:
    """A stored media row; `src` None makes a row whose file is missing from the store."""
    url = f"https://news.example/{aid}/{position}"
    mid = media_id(aid, kind, url)
    key = media_file(aid, kind, position, ext or (src.suffix.lstrip(".") if src else "jpg"))
    if src is not None:
        app.files.put_file(key, src)
    with app.db.session() as s:
        s.add(MediaItem(id=mid, article_id=aid, position=position, kind=kind, source_url=url, status="stored",
                        path=key, duration_s=duration_s))
    return mid


def make_story(aid: str, lang: str, media: list[MediaRef | list[MediaRef] | None], *, text=None,
               scene_s: float = 2.5) -> Story:
    text = text or (KO if lang == "ko" else EN)
    scenes = []
    for i, refs in enumerate(media):
        refs = [] if refs is None else (refs if isinstance(refs, list) else [refs])
        scenes.append(Scene(narration=text["narration"][i % len(text["narration"])],
                            on_screen_text=text["on_screen"][i % len(text["on_screen"])],
                            duration_s=scene_s, media=refs,
                            citations=[Citation(article_id=aid, sentence=i + 1, quote=text["narration"][i % 3])]))
    return Story(title=text["title"], hook=text["hook"], scenes=scenes, lang=lang, duration_s=scene_s * len(scenes) + 2,
                 article_id=aid, backend="template", model="test")


def store_story(app, story: Story, story_id: str) -> str:
    story = story.model_copy(update={"id": story_id})
    with app.db.session() as s:
        row = s.get(StoryRow, story_id)
        body = story.model_dump(mode="json")
        if row is None:
            s.add(StoryRow(id=story_id, article_id=story.article_id, backend=story.backend, model=story.model,
                           lang=story.lang, title=story.title, duration_s=story.duration_s, body=body))
        else:
            row.body = body
    return story_id


def frame(video: Path, at_s: float) -> np.ndarray:
    """One decoded frame as an RGB array."""
    out = video.with_name(f"frame-{at_s:.2f}.png")
    ffmpeg("-ss", f"{at_s:.3f}", "-i", str(video), "-frames:v", "1", "-update", "1", str(out))
    with Image.open(out) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


def text_pixels(region: np.ndarray) -> tuple[int, int]:
    """(near-white, near-black) pixel counts: subtitle letters and their outline."""
    white = int(((region > 225).all(axis=2)).sum())
    black = int(((region < 35).all(axis=2)).sum())
    return white, black
