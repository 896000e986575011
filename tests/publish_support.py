"""Small real videos for the publish tests: ffmpeg test patterns with a tone, stored like rendered ones."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.db.tables import Story, Video, utcnow
from trendreel.files.layout import video_prefix

PATTERNS = {
    "testsrc2": "testsrc2=size={w}x{h}:rate=15",
    "mandelbrot": "mandelbrot=size={w}x{h}:rate=15",
    "life": "life=size={w}x{h}:rate=15:seed=7:mold=10:ratio=0.3",
    "bars": "smptehdbars=size={w}x{h}:rate=15",
}


def encode_video(path: Path, *, pattern: str = "testsrc2", seconds: float = 3.0, width: int = 160, height: int = 284,
                 crf: int = 28, freq: int = 440, noise_bytes: int = 0) -> Path:
    """An H.264/AAC mp4 of a test pattern with a sine tone (and optional padding in a metadata atom for size)."""
    src = PATTERNS[pattern].format(w=width, h=height)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", src, "-f", "lavfi", "-i", f"sine=frequency={freq}", "-t", str(seconds),
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", str(crf), "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    if noise_bytes:  # a bigger file (several upload chunks) that players still read: an mp4 'free' atom at the end
        import os

        with open(path, "ab") as fh:
            size = noise_bytes + 8
            fh.write(size.to_bytes(4, "big") + b"free" + os.urandom(noise_bytes))
    return path


def thumbnail(path: Path, video: Path) -> Path:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(video),
                    "-frames:v", "1", str(path)], check=True, capture_output=True)
    return path


STORY_BODY = {
    "format": 1, "title": "Harbour bridge reopens after two years of repairs, and the city's ferries go back to their old timetable",
    "hook": "The bridge is open again.", "lang": "en", "duration_s": 9.0, "article_id": "a0", "backend": "template",
    "model": "template", "trend_id": None, "hashtags": ["#bridge", "#city news", "#ferries"],
    "scenes": [{"narration": "Cars crossed the harbour bridge this morning.", "duration_s": 4.0, "media": [],
                "citations": [{"article_id": "a0", "quote": "Cars crossed the harbour bridge this morning."}]},
               {"narration": "Ferries return to their old timetable.", "duration_s": 5.0, "media": [],
                "citations": [{"article_id": "a0", "quote": "Ferries return to their old timetable."}]}],
}


def add_video(app, name: str, *, pattern: str = "testsrc2", seconds: float = 3.0, story: bool = True,
              review: str | None = None, story_body: dict | None = None, **encode) -> str:
    """Store a generated video (file, thumbnail, .srt) and its row (stage rendered, status done); its id."""
    vid = "v" + hashlib.sha256(name.encode()).hexdigest()[:23]
    sid = "s" + hashlib.sha256(name.encode()).hexdigest()[:23] if story else None
    work = Path(tempfile.mkdtemp(prefix="pubvid-"))
    mp4 = encode_video(work / "video.mp4", pattern=pattern, seconds=seconds, **encode)
    jpg = thumbnail(work / "thumb.jpg", mp4)
    srt = work / "subtitles.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nThe bridge is open again.\n", encoding="utf-8")
    created = utcnow()
    prefix = video_prefix(vid, created)
    stored = app.files.put_file(prefix + "video.mp4", mp4)
    app.files.put_file(prefix + "thumb.jpg", jpg)
    app.files.put_file(prefix + "subtitles.srt", srt)
    with app.db.session() as s:
        if sid:
            s.add(Story(id=sid, backend="template", model="template", lang="en", title=STORY_BODY["title"],
                        duration_s=9.0, body={**(story_body or STORY_BODY), "id": sid}, created_at=created))
            s.flush()
        s.add(Video(id=vid, story_id=sid, stage="rendered", backend="test", status="done", path=stored.key,
                    thumbnail_path=prefix + "thumb.jpg", subtitles_path=prefix + "subtitles.srt", duration_s=seconds,
                    width=encode.get("width", 160), height=encode.get("height", 284), bytes=stored.bytes,
                    sha256=stored.sha256, details={}, created_at=created, review=review))
    return vid
