"""Build the bundled sample news site (and a large text-only site for throughput benchmarks).

The sample site is generated, never committed: pages come from the texts in `content.py`, images
are drawn with Pillow and videos are made from ffmpeg test sources. The same `seed` and `today`
give the same HTML and URLs. Absolute URLs in feeds, sitemaps and robots.txt use `SITE_ORIGIN`;
`serve_site` rewrites it to the address it serves on.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import random
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape as xml_escape

from trendreel.adapters.ffmpeg import ffmpeg_exe, run_ffmpeg
from trendreel.demo.content import (
    ARTICLES,
    BROKEN_PAGE_TEXT,
    CATEGORIES,
    FOOTER_EN,
    FOOTER_KO,
    SECRET_PAGE_TEXT,
    SYNDICATED_CHANGE,
    SYNDICATED_ORIGINAL,
    TOPICS,
    TRACKED_ORIGINAL,
    TRACKING_QUERY,
    ArticleText,
)
from trendreel.errors import ConfigError

__all__ = [
    "SITE_ORIGIN",
    "SampleArticle",
    "SiteManifest",
    "build_large_site",
    "build_sample_site",
    "load_manifest",
]

SITE_VERSION = 1
SITEMAP_MAX_URLS = 50_000  # per sitemap file, by the sitemaps protocol
LARGE_SITE_VERSION = 3  # 2: articles share few word triples, as real coverage does; 3: pages end at their length
SITE_ORIGIN = "http://sample.trendreel.invalid"
SITE_NAME = "Trendreel Daily"
MANIFEST_NAME = "manifest.json"
KST = dt.timezone(dt.timedelta(hours=9))
VIDEO_TIMEOUT_S = 120  # one sample video takes well under a second

BROKEN_PAGE = "/archive/legacy.html"
MISLABELLED_PAGE = "/gallery/photo-of-the-day.html"
MISSING_PAGE = "/2019/05/14/removed-story.html"
SECRET_PAGE = "/private/secret.html"
PARTNER_DIR = "/partners/wire"


@dataclass
class SampleArticle:
    """One article page of a generated site."""

    path: str
    lang: str
    category: str
    topic: str | None
    title: str
    author: str
    published_at: str
    images: int
    videos: int
    embeds: int


@dataclass
class SiteManifest:
    """What a generated site holds; paths are site paths starting with "/"."""

    root: Path
    articles: list[SampleArticle]
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    start_pages: list[str] = field(default_factory=list)
    disallowed: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- public API


def build_sample_site(dest: Path, *, today: dt.date | None = None, seed: int = 0) -> SiteManifest:
    """Build the sample news site into `dest` unless a complete build of the same inputs is there."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    key = {"kind": "sample", "version": SITE_VERSION, "today": today.isoformat(), "seed": seed}
    return _build_once(Path(dest), key, lambda root: _SampleBuilder(root, today, seed).build())


def build_large_site(
    dest: Path, *, pages: int = 2000, seed: int = 0, today: dt.date | None = None,
    words_per_page: tuple[int, int] = (600, 1200),
) -> SiteManifest:
    """Build a text-only site of `pages` article pages of `words_per_page` (low, high) words, for benchmarks."""
    if pages < 1:
        raise ConfigError("build_large_site needs pages >= 1")
    low, high = words_per_page
    if not 20 <= low <= high:
        raise ConfigError(f"build_large_site needs 20 <= low <= high words per page, got {words_per_page}")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    key = {"kind": "large", "version": LARGE_SITE_VERSION, "today": today.isoformat(), "seed": seed, "pages": pages,
           "words": [low, high]}
    return _build_once(Path(dest), key, lambda root: _build_large(root, pages=pages, seed=seed, today=today,
                                                                  words_per_page=(low, high)))


def load_manifest(root: Path) -> SiteManifest:
    """Read the manifest of a complete build in `root`."""
    data = json.loads((Path(root) / MANIFEST_NAME).read_text(encoding="utf-8"))
    return _manifest_from_json(Path(root), data)


# --------------------------------------------------------------------------- build plumbing


def _build_once(dest: Path, key: dict, build: Callable[[Path], SiteManifest]) -> SiteManifest:
    marker = dest / MANIFEST_NAME
    if _matches(dest, key):
        return load_manifest(dest)
    if dest.exists() and any(dest.iterdir()) and not marker.is_file():
        raise ConfigError(f"{dest.name}: folder is not empty and holds no sample-site build; refusing to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.build-", dir=dest.parent))
    try:
        manifest = build(tmp)
        data = _manifest_to_json(manifest)
        data["build"] = key
        # The marker is written last: its presence means the build is complete.
        (tmp / MANIFEST_NAME).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        try:
            os.replace(tmp, dest)
        except OSError:
            # Another process finished the same build first: use theirs.
            shutil.rmtree(tmp, ignore_errors=True)
            if _matches(dest, key):
                return load_manifest(dest)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest.root = dest
    return manifest


def _matches(dest: Path, key: dict) -> bool:
    try:
        data = json.loads((dest / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("build") == key


def _manifest_to_json(m: SiteManifest) -> dict:
    data = asdict(m)
    data.pop("root")
    return data


def _manifest_from_json(root: Path, data: dict) -> SiteManifest:
    return SiteManifest(
        root=root,
        articles=[SampleArticle(**a) for a in data["articles"]],
        feeds=list(data["feeds"]),
        sitemaps=list(data["sitemaps"]),
        start_pages=list(data["start_pages"]),
        disallowed=list(data["disallowed"]),
        broken=list(data["broken"]),
        duplicates=dict(data["duplicates"]),
    )


def _write(root: Path, site_path: str, content: str | bytes) -> Path:
    target = root / site_path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    target.write_bytes(content)
    return target


def _e(text: str) -> str:
    return html.escape(text, quote=True)


# --------------------------------------------------------------------------- shared page chrome

CSS = """body{font-family:sans-serif;margin:0;color:#222}
.site-header{background:#10324a;color:#fff;padding:.5em 1em}
.site-header a{color:#fff;margin-right:.8em;text-decoration:none}
main{display:flex;gap:2em;max-width:1100px;margin:auto;padding:1em}
article{flex:3}aside{flex:1;font-size:.9em}
figure{margin:1em 0}figure img,video{max-width:100%}
.ad-slot{background:#eee;text-align:center;padding:1em;color:#888}
footer{background:#f4f4f4;padding:1em;font-size:.8em;color:#555}
"""


def _nav() -> str:
    links = "".join(
        f'<a href="/category/{slug}.html">{_e(ko)} · {_e(en)}</a>' for slug, (ko, en) in CATEGORIES.items()
    )
    return (
        '<header class="site-header">\n'
        f'<a class="logo" href="/index.html">{SITE_NAME}</a>\n'
        f'<nav class="main-nav">{links}</nav>\n'
        '<form class="search" action="/search" method="get"><input type="search" name="q" '
        'placeholder="Search"></form>\n'
        "</header>\n"
    )


def _footer(lang: str) -> str:
    text = FOOTER_KO if lang == "ko" else FOOTER_EN
    return (
        '<footer class="site-footer">\n'
        f"<p>{_e(text)}</p>\n"
        '<p><a href="/index.html">Home</a> · <a href="/feed.xml">RSS</a> · <a href="/atom.xml">Atom</a> · '
        f'<a href="/sitemap.xml">Sitemap</a> · <a href="{SECRET_PAGE}">Editors only</a></p>\n'
        "<p>Contact: newsroom@trendreel.invalid · Privacy · Terms · Cookie settings</p>\n"
        "</footer>\n"
    )


def _page(*, lang: str, title: str, head: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n{head}"
        '<link rel="stylesheet" href="/static/site.css">\n'
        f'<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="/feed.xml">\n'
        f'<link rel="alternate" type="application/atom+xml" title="{SITE_NAME} (한국어)" href="/atom.xml">\n'
        "</head>\n<body>\n"
        f"{_nav()}"
        '<div class="ad-slot">Advertisement</div>\n'
        f"{body}"
        f"{_footer(lang)}"
        "</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- drawing and video


def _find_font(hangul: bool) -> str | None:
    """A TrueType font file that can draw Hangul (or Latin); None when the system has none."""
    if hangul:
        names = ("NanumGothic", "NanumBarunGothic", "NotoSansCJK", "NotoSansKR", "NotoSerifCJK",
                 "SourceHanSans", "UnDotum", "AppleSDGothicNeo", "malgun")
    else:
        names = ("DejaVuSans", "LiberationSans", "NotoSans-Regular", "Arial", "Helvetica")
    dirs = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
            Path("/System/Library/Fonts"), Path("/Library/Fonts"), Path("C:/Windows/Fonts")]
    for name in names:
        for d in dirs:
            if not d.is_dir():
                continue
            for pattern in (f"{name}.tt?", f"{name}*.tt?", f"{name}*.otf"):
                hits = sorted(d.rglob(pattern))
                hits = [h for h in hits if "Bold" not in h.name] or hits
                if hits:
                    return str(hits[0])
    return None


class _Painter:
    """Draws scene-like pictures with a caption band; Korean text only where a Hangul font exists."""

    def __init__(self) -> None:
        self._fonts: dict[tuple[bool, int], object] = {}

    def font(self, hangul: bool, size: int):
        from PIL import ImageFont

        key = (hangul, size)
        if key not in self._fonts:
            path = _find_font(hangul)
            if path:
                self._fonts[key] = ImageFont.truetype(path, size)
            elif not hangul:
                self._fonts[key] = ImageFont.load_default(size=size)
            else:
                self._fonts[key] = None
        return self._fonts[key]

    def draw(self, target: Path, *, rng: random.Random, caption: str, lang: str,
             size: tuple[int, int] = (960, 540), fmt: str = "JPEG") -> None:
        from PIL import Image, ImageDraw

        w, h = size
        img = Image.new("RGB", size)
        d = ImageDraw.Draw(img)
        top = tuple(rng.randint(40, 200) for _ in range(3))
        bottom = tuple(rng.randint(120, 255) for _ in range(3))
        for y in range(h):
            t = y / h
            d.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
        sun_r = rng.randint(h // 12, h // 6)
        sx, sy = rng.randint(sun_r, w - sun_r), rng.randint(sun_r, h // 2)
        d.ellipse([sx - sun_r, sy - sun_r, sx + sun_r, sy + sun_r], fill=(255, rng.randint(180, 240), 90))
        for layer in range(3):
            base = int(h * (0.55 + 0.12 * layer))
            pts = [(0, h)]
            for x in range(0, w + 80, 80):
                pts.append((x, base + rng.randint(-h // 10, h // 12)))
            pts.append((w, h))
            shade = 40 + 50 * layer
            d.polygon(pts, fill=(shade // 2, shade + rng.randint(0, 60), shade // 2 + rng.randint(0, 40)))
        for _ in range(rng.randint(3, 9)):
            bw, bh = rng.randint(w // 30, w // 10), rng.randint(h // 10, h // 3)
            bx = rng.randint(0, w - bw)
            d.rectangle([bx, h - bh, bx + bw, h],
                        fill=tuple(rng.randint(60, 200) for _ in range(3)), outline=(30, 30, 30))
        band = h // 7
        d.rectangle([0, h - band, w, h], fill=(15, 15, 15))
        font = self.font(lang == "ko", max(12, band // 2))
        if font is not None:
            text = caption if len(caption) <= 60 else caption[:57] + "..."
            d.text((band // 3, h - band + band // 4), text, fill=(245, 245, 245), font=font)
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "PNG":
            img.save(target, "PNG", optimize=True)
        else:
            img.save(target, "JPEG", quality=80, optimize=True)


def _make_video(target: Path, *, source: str, size: tuple[int, int], seconds: int, freq: int) -> None:
    w, h = size
    target.parent.mkdir(parents=True, exist_ok=True)
    args = [
        "-loglevel", "error",
        "-f", "lavfi", "-i", f"{source}=size={w}x{h}:rate=24",
        "-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=44100",
        "-t", str(seconds),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "32", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", str(target),
    ]
    run_ffmpeg(args, what=f"making the sample video {target.name}", timeout_s=VIDEO_TIMEOUT_S,
               exe=ffmpeg_exe(system_first=True), error=ConfigError)
    if not target.is_file():
        raise ConfigError(f"ffmpeg could not make the sample video {target.name}: it wrote no file")


# --------------------------------------------------------------------------- the sample site


@dataclass
class _Planned:
    text: ArticleText
    path: str
    published: dt.datetime
    images: list[tuple[str, str]]  # (site path, caption)
    video: str | None
    poster: str | None
    video_spec: tuple[str, tuple[int, int], int, int] | None


class _SampleBuilder:
    def __init__(self, root: Path, today: dt.date, seed: int) -> None:
        self.root = root
        self.today = today
        self.seed = seed
        self.painter = _Painter()
        self.jobs: list[Callable[[], None]] = []
        self.planned = [self._plan(i, a) for i, a in enumerate(ARTICLES)]
        self.planned.sort(key=lambda p: p.published, reverse=True)
        self.by_slug = {p.text.slug: p for p in self.planned}

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _plan(self, index: int, a: ArticleText) -> _Planned:
        rng = self._rng("plan", a.slug)
        day = self.today - dt.timedelta(days=a.days_ago)
        minute = rng.choice((0, 10, 15, 20, 30, 40, 45, 50))
        published = dt.datetime(day.year, day.month, day.day, rng.randint(7, 21), minute, tzinfo=KST)
        base = f"/{day:%Y/%m/%d}/{a.slug}"
        media = f"/media/{day:%Y/%m}/{a.slug}"
        images = [(f"{media}-{n + 1}.{'png' if (index + n) % 7 == 3 else 'jpg'}", cap)
                  for n, cap in enumerate(a.captions)]
        video = poster = spec = None
        if a.video:
            video, poster = f"{media}.mp4", f"{media}-poster.jpg"
            source = ("testsrc2", "smptebars", "mandelbrot")[rng.randrange(3)]
            size = (360, 640) if rng.random() < 0.4 else (480, 270)
            spec = (source, size, rng.randint(2, 4), rng.choice((330, 440, 523, 660, 880)))
        return _Planned(a, f"{base}.html", published, images, video, poster, spec)

    # -- pages

    def build(self) -> SiteManifest:
        r = self.root
        _write(r, "/static/site.css", CSS)
        for p in self.planned:
            _write(r, p.path, self.article_html(p))
            for n, (img, cap) in enumerate(p.images):
                self._image_job(img, cap, p.text.lang, ("img", p.text.slug, n))
            if p.video:
                self._image_job(p.poster, p.text.title, p.text.lang, ("poster", p.text.slug), size=(480, 270))
                spec = p.video_spec
                self.jobs.append(lambda t=r / p.video.lstrip("/"), s=spec: _make_video(
                    t, source=s[0], size=s[1], seconds=s[2], freq=s[3]))
        for slug in CATEGORIES:
            _write(r, f"/category/{slug}.html", self.category_html(slug))
        _write(r, "/index.html", self.index_html())
        original = self.by_slug[SYNDICATED_ORIGINAL]
        partner_path = f"{PARTNER_DIR}/{SYNDICATED_ORIGINAL}.html"
        _write(r, partner_path, self.article_html(original, syndicated_at=partner_path))
        _write(r, "/feed.xml", self.rss())
        _write(r, "/atom.xml", self.atom())
        _write(r, "/sitemap.xml", self.sitemap())
        _write(r, "/sitemap_index.xml", self.sitemap_index())
        _write(r, "/robots.txt",
               f"User-agent: *\nDisallow: /private/\nDisallow: /search\n\nSitemap: {SITE_ORIGIN}/sitemap_index.xml\n")
        _write(r, SECRET_PAGE, _page(lang="en", title="Internal", head='<meta name="robots" content="noindex">\n',
                                     body=f"<main><article><h1>Internal draft</h1><p>{_e(SECRET_PAGE_TEXT)}</p>"
                                          "</article></main>\n"))
        _write(r, BROKEN_PAGE, self.broken_bytes())
        self._image_job(MISLABELLED_PAGE, "Photo of the day", "en", ("mislabelled",), fmt="JPEG")
        with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) + 2)) as pool:
            for fut in [pool.submit(job) for job in self.jobs]:
                fut.result()
        tracked = self.by_slug[TRACKED_ORIGINAL].path
        return SiteManifest(
            root=self.root,
            articles=[self.sample(p) for p in self.planned],
            feeds=["/feed.xml", "/atom.xml"],
            sitemaps=["/sitemap_index.xml", "/sitemap.xml"],
            start_pages=["/index.html"],
            disallowed=[SECRET_PAGE],
            broken=[BROKEN_PAGE, MISLABELLED_PAGE, MISSING_PAGE],
            duplicates={tracked + TRACKING_QUERY: tracked, partner_path: original.path},
        )

    def _image_job(self, site_path: str, caption: str, lang: str, rng_key: tuple,
                   size: tuple[int, int] = (960, 540), fmt: str | None = None) -> None:
        fmt = fmt or ("PNG" if site_path.endswith(".png") else "JPEG")
        target = self.root / site_path.lstrip("/")
        rng = self._rng(*rng_key)
        self.jobs.append(lambda: self.painter.draw(target, rng=rng, caption=caption, lang=lang, size=size, fmt=fmt))

    def sample(self, p: _Planned) -> SampleArticle:
        a = p.text
        return SampleArticle(
            path=p.path, lang=a.lang, category=a.category, topic=a.topic, title=a.title, author=a.author,
            published_at=p.published.date().isoformat(), images=len(p.images), videos=1 if p.video else 0,
            embeds=1 if a.embed else 0,
        )

    def related(self, p: _Planned) -> list[_Planned]:
        same_topic = [q for q in self.planned if q is not p and p.text.topic and q.text.topic == p.text.topic]
        same_cat = [q for q in self.planned
                    if q is not p and q not in same_topic and q.text.category == p.text.category]
        latest = [q for q in self.planned if q is not p and q not in same_topic and q not in same_cat]
        return (same_topic + same_cat)[:4] + latest[:2]

    def article_html(self, p: _Planned, *, syndicated_at: str | None = None) -> str:
        a = p.text
        ko = a.lang == "ko"
        cat_label = CATEGORIES[a.category][0 if ko else 1]
        iso = p.published.isoformat()
        when = p.published
        shown = f"{when:%Y.%m.%d %H:%M} KST" if ko else f"{when:%B} {when.day}, {when:%Y %H:%M} KST"
        paragraphs = list(a.paragraphs)
        canonical = p.path
        if syndicated_at:
            old, new = SYNDICATED_CHANGE
            paragraphs = [para.replace(old, new) for para in paragraphs]
            canonical = syndicated_at
        head = [
            f'<meta name="description" content="{_e(a.summary)}">',
            f'<meta name="author" content="{_e(a.author)}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:site_name" content="{SITE_NAME}">',
            f'<meta property="og:title" content="{_e(a.title)}">',
            f'<meta property="og:description" content="{_e(a.summary)}">',
            f'<meta property="og:url" content="{canonical}">',
            f'<meta property="og:image" content="{p.images[0][0]}">',
            f'<meta property="og:locale" content="{"ko_KR" if ko else "en_US"}">',
        ]
        if a.video == "og":
            head += [f'<meta property="og:video" content="{p.video}">',
                     '<meta property="og:video:type" content="video/mp4">']
        head += [f'<meta property="article:published_time" content="{iso}">',
                 f'<meta property="article:section" content="{_e(cat_label)}">']
        if a.topic:
            head.append(f'<meta property="article:tag" content="{_e(TOPICS[a.topic][0 if ko else 1])}">')
        head.append(f'<link rel="canonical" href="{canonical}">')
        ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": a.title,
              "datePublished": iso, "author": {"@type": "Person", "name": a.author},
              "image": [img for img, _ in p.images], "inLanguage": a.lang}
        head.append(f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>')

        def figure(n: int) -> str:
            img, cap = p.images[n]
            return (f'<figure class="photo"><img src="{img}" alt="{_e(cap)}" width="960" height="540" '
                    f'loading="lazy"><figcaption>{_e(cap)}</figcaption></figure>\n')

        body = [f'<p class="kicker"><a href="/category/{a.category}.html">{_e(cat_label)}</a></p>\n',
                f"<h1>{_e(a.title)}</h1>\n",
                f'<p class="byline">{"글" if ko else "By"} <span class="author">{_e(a.author)}</span>'
                f'{" 기자" if ko else ""} · <time datetime="{iso}">{shown}</time></p>\n',
                f'<p class="standfirst">{_e(a.summary)}</p>\n', figure(0)]
        for n, para in enumerate(paragraphs):
            body.append(f"<p>{_e(para)}</p>\n")
            if n == 0 and a.video == "inline":
                w, h = p.video_spec[1]
                body.append(f'<figure class="video"><video controls preload="metadata" width="{w}" height="{h}" '
                            f'poster="{p.poster}"><source src="{p.video}" type="video/mp4"></video>'
                            f"<figcaption>{'영상' if ko else 'Video'}: {_e(a.title)}</figcaption></figure>\n")
            if n == 0 and a.video == "og":
                body.append(f'<p class="watch"><a href="{p.video}">Watch the rehearsal clip</a></p>\n')
            if n == 1 and a.embed:
                body.append('<div class="embed"><iframe width="560" height="315" '
                            f'src="https://www.youtube.com/embed/{a.embed}" title="YouTube video player" '
                            'frameborder="0" allowfullscreen></iframe></div>\n')
            if 1 <= n < len(p.images):
                body.append(figure(n))
        if syndicated_at:
            body.append(f'<p class="syndication">Distributed by the Trendreel wire service. '
                        f'Originally published at <a href="{p.path}">{SITE_NAME}</a>.</p>\n')
        body.append(f'<p class="share">{"공유하기" if ko else "Share"}: <a href="#">Facebook</a> · '
                    '<a href="#">X</a> · <a href="#">KakaoTalk</a> · <a href="#">Copy link</a></p>\n')
        related = "".join(f'<li><a href="{q.path}">{_e(q.text.title)}</a></li>' for q in self.related(p))
        aside = (f'<aside class="related"><h2>{"관련 기사" if ko else "Related stories"}</h2>'
                 f"<ul>{related}</ul></aside>\n")
        return _page(lang=a.lang, title=f"{a.title} | {SITE_NAME}", head="\n".join(head) + "\n",
                     body=f"<main>\n<article>\n{''.join(body)}</article>\n{aside}</main>\n")

    def _teaser(self, p: _Planned, *, thumb: bool) -> str:
        a = p.text
        img = (f'<img src="{p.images[0][0]}" alt="{_e(p.images[0][1])}" width="240" height="135">' if thumb else "")
        return (f'<li class="teaser" lang="{a.lang}">{img}<a href="{p.path}">{_e(a.title)}</a> '
                f'<time datetime="{p.published.isoformat()}">{p.published:%Y-%m-%d}</time>'
                f"<p>{_e(a.summary)}</p></li>\n")

    def index_html(self) -> str:
        latest = "".join(self._teaser(p, thumb=True) for p in self.planned[:15])
        tracked = self.by_slug[TRACKED_ORIGINAL]
        body = (
            "<main>\n<section class=\"latest\">\n<h1>Latest · 최신 기사</h1>\n<ul>\n"
            f"{latest}</ul>\n</section>\n<aside>\n"
            f'<h2>Newsletter pick</h2><p><a href="{tracked.path}{_e(TRACKING_QUERY)}">'
            f"{_e(tracked.text.title)}</a></p>\n"
            f'<h2>From our partners</h2><p><a href="{PARTNER_DIR}/{SYNDICATED_ORIGINAL}.html">'
            f"{_e(self.by_slug[SYNDICATED_ORIGINAL].text.title)} (wire)</a></p>\n"
            f'<h2>Photo of the day</h2><p><a href="{MISLABELLED_PAGE}">Today\'s photo</a></p>\n'
            f'<h2>From the archive</h2><ul><li><a href="{BROKEN_PAGE}">Stories from the old site</a></li>'
            f'<li><a href="{MISSING_PAGE}">River clean-up volunteers honoured (2019)</a></li></ul>\n'
            "</aside>\n</main>\n"
        )
        return _page(lang="en", title=f"{SITE_NAME} — trending stories", body=body,
                     head='<meta name="description" content="Trending stories in Korean and English.">\n')

    def category_html(self, slug: str) -> str:
        ko, en = CATEGORIES[slug]
        items = [p for p in self.planned if p.text.category == slug]
        listing = "".join(self._teaser(p, thumb=False) for p in items)
        extra = ""
        if slug == self.by_slug[SYNDICATED_ORIGINAL].text.category:
            extra = (f'<p class="partner"><a href="{PARTNER_DIR}/{SYNDICATED_ORIGINAL}.html">Partner wire: '
                     f"{_e(self.by_slug[SYNDICATED_ORIGINAL].text.title)}</a></p>\n")
        body = f"<main>\n<section>\n<h1>{_e(ko)} · {_e(en)}</h1>\n<ul>\n{listing}</ul>\n{extra}</section>\n</main>\n"
        return _page(lang="en", title=f"{en} | {SITE_NAME}", body=body,
                     head=f'<link rel="canonical" href="/category/{slug}.html">\n')

    def broken_bytes(self) -> bytes:
        start = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Archive</title>\n'
            "<body><div class=\"archive\"><h1>Archive<h2>Old stories</h3>\n<ul><li><a href=\"/category/politics.html\">"
            f"Politics</a><li><p>{_e(BROKEN_PAGE_TEXT)}<table><tr><td>2019<td><a href=\"/category/soc"
        ).encode("utf-8")
        junk = bytes(self._rng("junk").randrange(256) for _ in range(96))
        return start + b"\xff\xfe\x00\xc3\x28" + junk + b"<di"

    # -- feeds and sitemaps

    def rss(self) -> str:
        items = []
        for p in self.planned[:20]:
            a = p.text
            items.append(
                "<item>\n"
                f"<title>{xml_escape(a.title)}</title>\n<link>{SITE_ORIGIN}{p.path}</link>\n"
                f'<guid isPermaLink="true">{SITE_ORIGIN}{p.path}</guid>\n'
                f"<pubDate>{format_datetime(p.published)}</pubDate>\n"
                f"<dc:creator>{xml_escape(a.author)}</dc:creator>\n<category>{a.category}</category>\n"
                f"<description>{xml_escape(a.summary)}</description>\n</item>\n"
            )
        newest = format_datetime(self.planned[0].published)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n'
            f"<channel>\n<title>{SITE_NAME}</title>\n<link>{SITE_ORIGIN}/index.html</link>\n"
            f'<atom:link href="{SITE_ORIGIN}/feed.xml" rel="self" type="application/rss+xml"/>\n'
            "<description>Trending stories in Korean and English.</description>\n"
            f"<lastBuildDate>{newest}</lastBuildDate>\n{''.join(items)}</channel>\n</rss>\n"
        )

    def atom(self) -> str:
        entries = []
        ko = [p for p in self.planned if p.text.lang == "ko"]
        for p in ko:
            a = p.text
            entries.append(
                "<entry>\n"
                f"<title>{xml_escape(a.title)}</title>\n"
                f'<link rel="alternate" type="text/html" href="{SITE_ORIGIN}{p.path}"/>\n'
                f"<id>{SITE_ORIGIN}{p.path}</id>\n"
                f"<published>{p.published.isoformat()}</published>\n<updated>{p.published.isoformat()}</updated>\n"
                f"<author><name>{xml_escape(a.author)}</name></author>\n"
                f'<category term="{a.category}"/>\n<summary>{xml_escape(a.summary)}</summary>\n</entry>\n'
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ko">\n'
            f"<title>{SITE_NAME} 한국어</title>\n<id>{SITE_ORIGIN}/atom.xml</id>\n"
            f'<link rel="self" href="{SITE_ORIGIN}/atom.xml"/>\n'
            f'<link rel="alternate" href="{SITE_ORIGIN}/index.html"/>\n'
            f"<updated>{ko[0].published.isoformat()}</updated>\n{''.join(entries)}</feed>\n"
        )

    def sitemap(self) -> str:
        return _sitemap([(p.path, p.published.date()) for p in self.planned])

    def sitemap_index(self) -> str:
        return _sitemap_index(["/sitemap.xml"], self.planned[0].published.date())


def _sitemap(entries: list[tuple[str, dt.date]]) -> str:
    urls = "".join(f"<url><loc>{SITE_ORIGIN}{path}</loc><lastmod>{day.isoformat()}</lastmod></url>\n"
                   for path, day in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n')


def _sitemap_index(paths: list[str], day: dt.date) -> str:
    maps = "".join(f"<sitemap><loc>{SITE_ORIGIN}{p}</loc><lastmod>{day.isoformat()}</lastmod></sitemap>\n"
                   for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{maps}</sitemapindex>\n')


# --------------------------------------------------------------------------- the large site

_SUBJECTS = (
    "the city council", "a regional bank", "the transport agency", "local farmers", "a group of students",
    "the port authority", "several hospitals", "the weather service", "a software start-up", "retail chains",
    "the education office", "two logistics firms", "the national museum", "small shop owners", "a housing cooperative",
    "the fisheries board", "an energy utility", "volunteer firefighters", "the statistics office", "tour operators",
    "a textile maker", "the water company", "public libraries", "food delivery riders", "a mountain village",
    "the coast guard", "an orchestra", "the football club", "a battery plant", "night-shift nurses",
)
_VERBS = (
    "announced", "postponed", "expanded", "criticised", "reviewed", "approved", "questioned", "launched",
    "redesigned", "defended", "measured", "funded", "cancelled", "tested", "promised", "doubled",
    "scaled back", "welcomed", "documented", "audited", "reorganised", "celebrated", "simplified", "publicised",
)
_OBJECTS = (
    "a plan for cheaper bus passes", "new rules on rental deposits", "the winter heating subsidy",
    "a pilot for electric ferries", "its recycling targets", "a study of river pollution", "late-night clinic hours",
    "a scheme to repair old bridges", "its hiring for the spring", "a festival of street food",
    "the budget for school meals", "a campaign against phone scams", "the timetable for regional trains",
    "a training course for welders", "a fund for young farmers", "plans for a new stadium roof",
    "its prices for the holiday season", "a study on sleep and shift work", "a vaccination drive",
    "a programme of free coding classes", "the opening of a night market", "a survey of air quality",
    "its policy on remote work", "a competition for apprentice chefs", "the restoration of a temple gate",
    "an archive of old photographs", "a review of flood defences", "the price of parking permits",
)
_PLACES = (
    "in the northern districts", "along the river", "near the old harbour", "in three coastal towns",
    "across the province", "in the university quarter", "outside the central station", "in the industrial park",
    "on the eastern islands", "in the hill villages", "around the airport", "in the new apartment blocks",
)
_TIMES = (
    "on Monday", "late on Tuesday", "this week", "after months of talks", "earlier than expected",
    "for the first time in a decade", "before the holidays", "at a crowded meeting", "without much notice",
    "after a public consultation", "during the weekend", "ahead of the spring season",
)
_QUOTES = (
    "We heard the complaints and we changed the plan", "Nobody expected the numbers to move this fast",
    "It is a small step, but people will notice it", "The details matter more than the headline",
    "We will check the results again in six months", "Families told us the old system was confusing",
    "This was overdue, frankly", "Costs went up and we had to respond",
    "Our staff worked nights to get it ready", "There is still a lot we do not know",
)
_SPEAKERS = (
    "a spokesperson", "the deputy mayor", "one resident", "a union representative", "the project manager",
    "an economist at a local university", "a shop owner", "the director", "a senior official", "a volunteer",
)
_TOPIC_WORDS = (
    "budget", "housing", "transport", "schools", "health", "energy", "harbour", "farming", "tourism",
    "jobs", "weather", "culture", "sport", "water", "safety", "retail", "science", "parks", "roads", "food",
)


_SYLLABLES = ("ka", "ren", "mo", "dal", "vi", "sor", "ta", "lin", "be", "rok", "sa", "nu", "ol", "ger", "phi",
              "mar", "te", "quo", "zan", "li", "bro", "hel", "ci", "dun", "ya", "fen", "ost", "ju", "wel", "pra")
_NAME_ENDS = ("ton", "ville", "berg", "field", "mouth", "ford", "dale", "wick", "haven", "stead", "", "", "", "")


def _coined(rng: random.Random, parts: int = 2) -> str:
    """A made-up proper name ("Dalrenford"): 30^2-30^3 stems times the endings, so two articles rarely share one."""
    stem = "".join(rng.choice(_SYLLABLES) for _ in range(parts))
    return (stem + rng.choice(_NAME_ENDS)).capitalize()


_ADJECTIVES = (
    "new", "old", "cheaper", "costly", "regional", "coastal", "rural", "urban", "public", "private", "small", "large",
    "late", "early", "weekly", "annual", "temporary", "permanent", "local", "national", "electric", "digital", "free",
    "shared", "modern", "historic", "quiet", "busy", "safer", "faster", "green", "northern", "southern", "eastern",
    "western", "central", "seasonal", "daily", "municipal", "independent", "experimental", "overdue", "tiny", "huge",
)
_NOUNS = (
    "bus pass", "rental deposit", "heating subsidy", "ferry", "recycling target", "river", "clinic", "bridge",
    "festival", "school meal", "phone scam", "timetable", "train", "welder", "farmer", "stadium", "roof", "price",
    "shift", "vaccine", "coding class", "night market", "air survey", "remote-work policy", "chef", "temple gate",
    "photo archive", "flood wall", "parking permit", "library", "museum", "harbour", "port", "warehouse", "bakery",
    "tram line", "bike lane", "playground", "hospital ward", "pharmacy", "fish market", "orchard", "vineyard",
    "factory", "battery plant", "solar farm", "wind turbine", "water pipe", "sewer", "tunnel", "ski slope", "beach",
    "campsite", "theatre", "cinema", "choir", "marathon", "football pitch", "swimming pool", "courthouse",
    "fire station", "police post", "post office", "kindergarten", "nursing home", "startup", "bank branch",
    "grocery chain", "delivery app", "taxi rank", "car park", "apartment block", "housing estate", "town hall",
)
_VERBS_BASE = (
    "announce", "postpone", "expand", "criticise", "review", "approve", "question", "launch", "redesign", "defend",
    "measure", "fund", "cancel", "test", "promise", "double", "welcome", "document", "audit", "reorganise",
    "celebrate", "simplify", "inspect", "close", "reopen", "move", "sell", "buy", "repair",
)


def _s(word: str) -> str:
    """English -s ending (plural noun, third-person verb): bridge -> bridges, beach -> beaches, simplify -> simplifies."""
    if word.endswith(("ch", "sh", "s", "x")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _phrase(rng: random.Random, plural: bool = False) -> str:
    """An article-free noun phrase: adjective + noun, 44 x 74 ways."""
    noun = rng.choice(_NOUNS)
    return f"{rng.choice(_ADJECTIVES)} {_s(noun) if plural else noun}"


def _sentence(rng: random.Random, cast: list[str]) -> str:
    """One news-like sentence. Most words come from large pools or are made-up names and numbers: in
    real coverage two unrelated articles share few word triples, and near-duplicate detection relies on that."""
    who = rng.choice(cast) if rng.random() < 0.5 else _coined(rng, 3)
    place = _coined(rng)
    kind = rng.random()
    if kind < 0.4:
        return (f"{rng.choice(_SUBJECTS).capitalize()} in {place} {rng.choice(_VERBS)} {rng.randint(2, 90)} "
                f"{_phrase(rng, True)} {rng.choice(_TIMES)}, {who} said.")
    if kind < 0.6:
        return (f"\"{_phrase(rng).capitalize()} {_s(rng.choice(_VERBS_BASE))} {_phrase(rng)} in {place},\" said {who} "
                f"on {rng.randint(1, 28)} {rng.choice(_MONTHS)}.")
    if kind < 0.8:
        return (f"{rng.randint(2, 98)}% of {place}'s {_phrase(rng, True)} now {rng.choice(_VERBS_BASE)} "
                f"{_phrase(rng, True)}, {who} counted {rng.randint(2, 9)} years ago.")
    return (f"{who} {rng.choice(_VERBS)} {place}'s {_phrase(rng)} while {rng.choice(_SUBJECTS)} "
            f"{rng.choice(_VERBS)} {rng.randint(3, 900)} {rng.choice(_UNITS)}.")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_UNITS = ("permits", "tickets", "jobs", "homes", "beds", "trees", "buses", "classes", "stalls", "licences", "loans",
          "seats", "hectares", "tonnes", "shifts", "visits")


def _noon(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=KST)


def _build_large(root: Path, *, pages: int, seed: int, today: dt.date,
                 words_per_page: tuple[int, int]) -> SiteManifest:
    rng = random.Random(f"large:{seed}")
    cats = list(CATEGORIES)
    per_list = 50
    _write(root, "/static/site.css", CSS)
    articles: list[SampleArticle] = []
    entries: list[tuple[str, dt.date]] = []
    paths = []
    for n in range(pages):
        day = today - dt.timedelta(days=n % 30)
        paths.append((f"/{day:%Y/%m/%d}/story-{n:05d}.html", day))
    for n, (path, day) in enumerate(paths):
        cat = cats[n % len(cats)]
        topic = " ".join(rng.sample(_TOPIC_WORDS, 2))
        title = f"{rng.choice(_SUBJECTS).capitalize()} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} ({topic}, no. {n})"
        author = f"{rng.choice(('Alex', 'Jin', 'Sofia', 'Min', 'Omar', 'Hana', 'Lucas', 'Yuna'))} " \
                 f"{rng.choice(('Park', 'Lee', 'Novak', 'Reyes', 'Kim', 'Choi', 'Ahmed', 'Brown'))}"
        target_words = rng.randint(*words_per_page)
        cast = [f"{_coined(rng)} {_coined(rng, 3)}" for _ in range(3)]
        paras, words = [], 0
        while words < target_words:  # paragraphs of 3-6 sentences; the last one ends at the target
            sentences = []
            for _ in range(rng.randint(3, 6)):
                sentences.append(_sentence(rng, cast))
                words += sentences[-1].count(" ") + 1
                if words >= target_words:
                    break
            paras.append(f"<p>{_e(' '.join(sentences))}</p>")
        published = dt.datetime(day.year, day.month, day.day, rng.randint(6, 22), rng.randint(0, 59), tzinfo=KST)
        iso = published.isoformat()
        related = "".join(f'<li><a href="{paths[(n + k) % pages][0]}">Story {(n + k) % pages}</a></li>'
                          for k in (1, 2, 3, 7))
        head = (f'<meta name="author" content="{_e(author)}">\n<meta property="og:title" content="{_e(title)}">\n'
                f'<meta property="article:published_time" content="{iso}">\n<link rel="canonical" href="{path}">\n')
        body = (f'<main>\n<article>\n<p class="kicker"><a href="/category/{cat}.html">{CATEGORIES[cat][1]}</a></p>\n'
                f"<h1>{_e(title)}</h1>\n"
                f'<p class="byline">By <span class="author">{_e(author)}</span> · <time datetime="{iso}">'
                f"{published:%Y-%m-%d %H:%M}</time></p>\n" + "\n".join(paras) +
                f'\n</article>\n<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside>\n</main>\n')
        _write(root, path, _page(lang="en", title=f"{title} | {SITE_NAME}", head=head, body=body))
        articles.append(SampleArticle(path=path, lang="en", category=cat, topic=None, title=title, author=author,
                                      published_at=day.isoformat(), images=0, videos=0, embeds=0))
        entries.append((path, day))
    lists = [paths[i:i + per_list] for i in range(0, pages, per_list)]
    for i, chunk in enumerate(lists):
        items = "".join(f'<li><a href="{p}">{_e(articles[i * per_list + k].title)}</a></li>\n'
                        for k, (p, _) in enumerate(chunk))
        nav = (f'<a href="/list/{i - 1}.html">Newer</a> ' if i else "") + \
              (f'<a href="/list/{i + 1}.html">Older</a>' if i + 1 < len(lists) else "")
        _write(root, f"/list/{i}.html", _page(lang="en", title=f"Stories, page {i + 1} | {SITE_NAME}", head="",
                                              body=f"<main>\n<h1>Stories, page {i + 1}</h1>\n<ul>\n{items}</ul>\n"
                                                   f'<p class="pager">{nav}</p>\n</main>\n'))
    index = "".join(f'<li><a href="/list/{i}.html">Page {i + 1}</a></li>\n' for i in range(len(lists)))
    _write(root, "/index.html", _page(lang="en", title=f"{SITE_NAME} archive", head="",
                                      body=f"<main>\n<h1>All stories</h1>\n<ul>\n{index}</ul>\n</main>\n"))
    for cat in cats:
        items = "".join(f'<li><a href="{a.path}">{_e(a.title)}</a></li>\n' for a in articles if a.category == cat)
        label = CATEGORIES[cat][1]
        _write(root, f"/category/{cat}.html",
               _page(lang="en", title=f"{label} | {SITE_NAME}", head="",
                     body=f"<main>\n<h1>{label}</h1>\n<ul>\n{items}</ul>\n</main>\n"))
    feed_items = "".join(
        f"<item><title>{xml_escape(a.title)}</title><link>{SITE_ORIGIN}{a.path}</link>"
        f"<pubDate>{format_datetime(_noon(a.published_at))}</pubDate></item>\n"
        for a in articles[:20])
    _write(root, "/feed.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
           f"<title>{SITE_NAME} archive</title><link>{SITE_ORIGIN}/index.html</link>"
           f"<description>Benchmark site</description>\n{feed_items}</channel></rss>\n")
    _write(root, "/atom.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
           f"<title>{SITE_NAME} archive</title><id>{SITE_ORIGIN}/atom.xml</id>"
           f"<updated>{today.isoformat()}T00:00:00+09:00</updated></feed>\n")
    if len(entries) <= SITEMAP_MAX_URLS:
        _write(root, "/sitemap.xml", _sitemap(entries))
    else:  # the protocol's limit per sitemap file: /sitemap.xml becomes an index of parts
        parts = [f"/sitemaps/{n}.xml" for n in range(-(-len(entries) // SITEMAP_MAX_URLS))]
        for i, part in enumerate(parts):
            _write(root, part, _sitemap(entries[i * SITEMAP_MAX_URLS:(i + 1) * SITEMAP_MAX_URLS]))
        _write(root, "/sitemap.xml", _sitemap_index(parts, today))
    _write(root, "/robots.txt", f"User-agent: *\nDisallow: /private/\n\nSitemap: {SITE_ORIGIN}/sitemap.xml\n")
    return SiteManifest(root=root, articles=articles, feeds=["/feed.xml"], sitemaps=["/sitemap.xml"],
                        start_pages=["/index.html"], disallowed=[], broken=[], duplicates={})

