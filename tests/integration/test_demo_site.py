"""The bundled sample site: what it holds, and how its local server answers."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from trendreel.adapters.ffmpeg import ffmpeg_exe, ffprobe_exe
from trendreel.demo.site import SITE_ORIGIN, build_large_site, build_sample_site, load_manifest
from trendreel.demo.server import serve_site

TODAY = dt.date(2026, 11, 20)
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_sample_site(tmp_path_factory.mktemp("demo") / "site", today=TODAY, seed=0)


@pytest.fixture(scope="module")
def base_url(site):
    with serve_site(site.root) as url:
        yield url


def _file(site, path: str) -> Path:
    return site.root / urlsplit(path).path.lstrip("/")


def test_manifest_counts(site):
    arts = site.articles
    langs = Counter(a.lang for a in arts)
    assert len(arts) == 30 and langs["ko"] >= 12 and langs["en"] >= 12
    assert len({a.category for a in arts}) >= 7
    days = {a.published_at for a in arts}
    assert len(days) >= 5
    assert all(TODAY - dt.timedelta(days=7) < dt.date.fromisoformat(d) <= TODAY for d in days)
    assert len({a.path for a in arts}) == 30
    assert all(1 <= a.images <= 3 for a in arts)
    assert 8 <= sum(a.videos for a in arts) <= 12
    assert sum(a.embeds for a in arts) == 1
    for a in arts:
        assert re.fullmatch(r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+\.html", a.path)
        assert _file(site, a.path).is_file()


def test_topics_grow_towards_today(site):
    by_topic: dict[str, list[dt.date]] = {}
    for a in site.articles:
        if a.topic:
            by_topic.setdefault(a.topic, []).append(dt.date.fromisoformat(a.published_at))
    assert len(by_topic) >= 4
    for topic, days in by_topic.items():
        assert len(days) >= 3, topic
        recent = sum(1 for d in days if (TODAY - d).days <= 1)
        older = sum(1 for d in days if (TODAY - d).days >= 3)
        assert recent > older, topic


def test_article_page_structure(site):
    for a in site.articles:
        page = _file(site, a.path).read_text(encoding="utf-8")
        assert f'<html lang="{a.lang}">' in page
        assert "<article>" in page and "<h1>" in page
        assert f'<meta name="author" content="{a.author}">' in page
        assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}T', page)
        assert 'property="article:published_time"' in page and 'property="og:title"' in page
        assert f'<link rel="canonical" href="{a.path}">' in page
        assert page.count("<figure class=\"photo\">") == a.images
        for src in re.findall(r'<img src="([^"]+)"', page):
            assert _file(site, src).stat().st_size > 1000
        assert page.count("<p>") >= 3
    pages = {a.path: _file(site, a.path).read_text(encoding="utf-8") for a in site.articles}
    assert sum("<video controls" in p for p in pages.values()) >= 8
    assert sum('property="og:video"' in p for p in pages.values()) == 1
    assert sum("youtube.com/embed/" in p for p in pages.values()) == 1


def test_videos_are_playable(site):
    videos = sorted((site.root / "media").rglob("*.mp4"))
    assert len(videos) == sum(a.videos for a in site.articles)
    for video in videos[:4]:
        streams = _probe(video)
        assert "video" in streams and "audio" in streams, video.name


def _probe(video: Path) -> set[str]:
    ffprobe = ffprobe_exe()
    if ffprobe:
        out = subprocess.run([ffprobe, "-v", "error", "-show_entries", "stream=codec_type", "-of", "json", str(video)],
                             capture_output=True, text=True, check=True).stdout
        return {s["codec_type"] for s in json.loads(out)["streams"]}
    err = subprocess.run([ffmpeg_exe(system_first=True), "-hide_banner", "-i", str(video)], capture_output=True, text=True).stderr
    return {kind.lower() for kind in re.findall(r"Stream #\d+:\d+.*?: (Video|Audio):", err)}


def test_duplicates_and_traps(site):
    for dup, original in site.duplicates.items():
        assert _file(site, original).is_file()
        assert _file(site, dup).is_file()
    exact = [d for d in site.duplicates if "?utm_source=" in d]
    near = [d for d in site.duplicates if "?" not in d]
    assert len(exact) == 1 and len(near) == 1
    near_page = _file(site, near[0]).read_text(encoding="utf-8")
    orig_page = _file(site, site.duplicates[near[0]]).read_text(encoding="utf-8")
    assert near_page != orig_page
    body = lambda page: re.findall(r"<p>(.*?)</p>", page)  # noqa: E731
    changed = [p for p in body(near_page) if p not in body(orig_page)]
    assert len(changed) == 1
    index = (site.root / "index.html").read_text(encoding="utf-8")
    for trap in site.broken + site.disallowed + [exact[0].replace("&", "&amp;"), near[0]]:
        assert f'href="{trap}"' in index or trap in (site.root / "index.html").read_text(), trap
    assert _file(site, "/archive/legacy.html").read_bytes()[-200:].count(b"\xff") >= 1
    assert _file(site, "/gallery/photo-of-the-day.html").read_bytes()[:3] == b"\xff\xd8\xff"
    missing = [p for p in site.broken if not _file(site, p).exists()]
    assert len(missing) == 1


def test_near_duplicates_only_where_intended(site):
    def shingles(path: str) -> set[tuple[str, ...]]:
        page = _file(site, path).read_text(encoding="utf-8")
        words = " ".join(re.findall(r"<p>(.*?)</p>", page)).split()
        return {tuple(words[i:i + 4]) for i in range(len(words) - 3)}

    sets = {a.path: shingles(a.path) for a in site.articles}
    paths = sorted(sets)
    for i, p in enumerate(paths):
        for q in paths[i + 1:]:
            jac = len(sets[p] & sets[q]) / max(1, len(sets[p] | sets[q]))
            assert jac < 0.3, (p, q, jac)
    near = next(d for d in site.duplicates if "?" not in d)
    a, b = shingles(near), sets[site.duplicates[near]]
    assert len(a & b) / len(a | b) > 0.8


def test_feeds_parse(site):
    articles = {a.path: a for a in site.articles}
    try:
        import feedparser
    except ImportError:  # pragma: no cover - feedparser is a dependency
        feedparser = None
    rss = _file(site, "/feed.xml").read_bytes()
    atom = _file(site, "/atom.xml").read_bytes()
    if feedparser:
        f = feedparser.parse(rss)
        assert not f.bozo and 15 <= len(f.entries) <= 25
        assert all(e.get("published_parsed") for e in f.entries)
        assert all(urlsplit(e.link).path in articles for e in f.entries)
        g = feedparser.parse(atom)
        assert not g.bozo
        assert {urlsplit(e.link).path for e in g.entries} == {p for p, a in articles.items() if a.lang == "ko"}
    else:
        items = ET.fromstring(rss).findall("./channel/item")
        assert 15 <= len(items) <= 25 and all(i.find("pubDate") is not None for i in items)
        entries = ET.fromstring(atom).findall("{http://www.w3.org/2005/Atom}entry")
        assert len(entries) == sum(a.lang == "ko" for a in site.articles)


def test_sitemaps_list_every_article(site):
    index = ET.fromstring(_file(site, "/sitemap_index.xml").read_bytes())
    maps = [urlsplit(e.text).path for e in index.iter(f"{SM}loc")]
    assert maps == ["/sitemap.xml"]
    urlset = ET.fromstring(_file(site, "/sitemap.xml").read_bytes())
    urls = urlset.findall(f"{SM}url")
    assert {urlsplit(u.find(f"{SM}loc").text).path for u in urls} == {a.path for a in site.articles}
    assert all(u.find(f"{SM}lastmod") is not None for u in urls)


def test_robots_disallows_private(site):
    from protego import Protego

    robots = Protego.parse(_file(site, "/robots.txt").read_text())
    assert not robots.can_fetch(f"{SITE_ORIGIN}/private/secret.html", "trendreel")
    assert robots.can_fetch(f"{SITE_ORIGIN}{site.articles[0].path}", "trendreel")
    assert _file(site, "/private/secret.html").is_file()
    assert site.disallowed == ["/private/secret.html"]


def test_build_twice_is_a_noop(site):
    marker = site.root / "manifest.json"
    before = marker.stat().st_mtime_ns
    page = site.root / site.articles[0].path.lstrip("/")
    page_before = page.stat().st_mtime_ns
    again = build_sample_site(site.root, today=TODAY, seed=0)
    assert marker.stat().st_mtime_ns == before and page.stat().st_mtime_ns == page_before
    assert again == site
    assert load_manifest(site.root) == site


def test_same_inputs_give_same_html(site, tmp_path):
    other = build_sample_site(tmp_path / "again", today=TODAY, seed=0)
    assert [a.path for a in other.articles] == [a.path for a in site.articles]
    for rel in ("index.html", "feed.xml", "sitemap.xml", site.articles[3].path.lstrip("/")):
        assert (other.root / rel).read_bytes() == (site.root / rel).read_bytes()


def test_server_answers(site, base_url):
    article = next(a for a in site.articles if a.videos)
    with httpx.Client(base_url=base_url) as client:
        r = client.get(article.path)
        assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
        assert "last-modified" in r.headers and r.headers["etag"].startswith('"')
        etag = r.headers["etag"]
        assert client.get(article.path, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(article.path, headers={"If-Modified-Since": r.headers["last-modified"]}).status_code == 304
        assert client.get(article.path, headers={"If-None-Match": '"other"'}).status_code == 200
        head = client.head(article.path)
        assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == len(r.content)

        video = re.search(r'<source src="([^"]+)"', r.text) or re.search(r'og:video" content="([^"]+)"', r.text)
        full = client.get(video.group(1))
        assert full.headers["content-type"] == "video/mp4"
        part = client.get(video.group(1), headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == full.content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(full.content)}"
        assert client.get(video.group(1), headers={"Range": "bytes=-10"}).content == full.content[-10:]
        assert client.get(video.group(1), headers={"Range": f"bytes={len(full.content)}-"}).status_code == 416

        img = client.get(re.search(r'<img src="([^"]+)"', r.text).group(1))
        assert img.status_code == 200 and img.headers["content-type"] in ("image/jpeg", "image/png")
        assert client.get("/").status_code == 200
        assert client.get("/robots.txt").headers["content-type"].startswith("text/plain")
        missing = next(p for p in site.broken if not _file(site, p).exists())
        assert client.get(missing).status_code == 404
        feed = client.get("/feed.xml")
        assert feed.headers["content-type"].startswith("application/xml")
        assert base_url in feed.text and SITE_ORIGIN not in feed.text
        tracked = next(d for d in site.duplicates if "?" in d)
        assert client.get(tracked).content == client.get(site.duplicates[tracked]).content


@pytest.mark.parametrize("raw", ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/media/../../x",
                                 "/..%2f..%2fetc/passwd"])
def test_server_refuses_traversal(base_url, raw):
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.putrequest("GET", raw, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status in (400, 403, 404)
    assert b"root:" not in body


def test_large_site(tmp_path):
    m = build_large_site(tmp_path / "large", pages=200, seed=1, today=TODAY)
    assert len(m.articles) == 200 and len({a.path for a in m.articles}) == 200
    texts = [(m.root / a.path.lstrip("/")).read_text(encoding="utf-8") for a in m.articles]
    assert len(set(texts)) == 200
    words = [len(" ".join(re.findall(r"<p>(.*?)</p>", t)).split()) for t in texts]
    assert min(words) >= 600 and max(words) <= 1400
    sets = [set(zip(*(t.split()[i:] for i in range(4)))) for t in texts[:6]]
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            assert len(sets[i] & sets[j]) / len(sets[i] | sets[j]) < 0.5
    listed = set()
    index = (m.root / "index.html").read_text(encoding="utf-8")
    for lst in re.findall(r'href="(/list/\d+\.html)"', index):
        listed |= set(re.findall(r'href="(/\d{4}/[^"]+)"', (m.root / lst.lstrip("/")).read_text(encoding="utf-8")))
    assert listed == {a.path for a in m.articles}
    urlset = ET.fromstring((m.root / "sitemap.xml").read_bytes())
    assert len(urlset.findall(f"{SM}url")) == 200
    assert build_large_site(tmp_path / "large", pages=200, seed=1, today=TODAY) == m


def test_large_site_pages_of_a_given_length_and_a_split_sitemap(tmp_path, monkeypatch):
    from trendreel.demo import site as site_module
    from trendreel.errors import ConfigError

    monkeypatch.setattr(site_module, "SITEMAP_MAX_URLS", 100)  # as 50,000 would, on a site of 250 pages
    m = build_large_site(tmp_path / "large", pages=250, seed=2, today=TODAY, words_per_page=(80, 160))
    texts = [(m.root / a.path.lstrip("/")).read_text(encoding="utf-8") for a in m.articles]
    bodies = [re.search(r"<article>(.*)</article>", t, re.S).group(1) for t in texts]
    words = [len(" ".join(re.findall(r"<p>(.*?)</p>", b)).split()) for b in bodies]
    assert min(words) >= 80 and max(words) <= 200  # the last sentence may run over
    index = ET.fromstring((m.root / "sitemap.xml").read_bytes())
    parts = [loc.text for loc in index.iter(f"{SM}loc")]
    assert index.tag == f"{SM}sitemapindex" and len(parts) == 3
    listed = []
    for part in parts:
        urlset = ET.fromstring((m.root / urlsplit(part).path.lstrip("/")).read_bytes())
        listed += [urlsplit(loc.text).path for loc in urlset.iter(f"{SM}loc")]
    assert len(listed) <= 300 and sorted(listed) == sorted(a.path for a in m.articles)
    with pytest.raises(ConfigError, match="words per page"):
        build_large_site(tmp_path / "bad", pages=5, words_per_page=(300, 100))


def test_server_command_prints_its_url(site):
    proc = subprocess.Popen([sys.executable, "-m", "trendreel.demo.server", str(site.root), "--port", "0",
                             "--print-url"], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/index.html").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
