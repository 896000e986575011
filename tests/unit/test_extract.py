"""Article extraction: metadata, media, links, hostile input, and a sample of the real corpus."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from trendreel.crawl.extract import Extraction, decode_html, extract
from trendreel.errors import ExtractionFailed

PARAGRAPHS_EN = "".join(
    f"<p>Paragraph {i} of the festival report tells how the crowd of thousands sang along "
    f"in the rain while the organisers counted the tickets sold at the gate.</p>"
    for i in range(1, 7)
)

ENGLISH_PAGE = f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <base href="https://news.example.com/culture/">
  <title>Rain fails to stop the city festival | Example News</title>
  <meta property="og:title" content="Rain fails to stop the city festival">
  <meta property="og:site_name" content="Example News">
  <meta property="og:image" content="/img/lead.jpg">
  <meta property="og:video" content="https://cdn.example.com/clips/festival.mp4">
  <meta property="og:video:type" content="video/mp4">
  <meta name="description" content="Thousands sang in the rain.">
  <meta name="author" content="Jane Doe">
  <meta property="article:published_time" content="2024-05-17T09:30:00+01:00">
  <link rel="canonical" href="/culture/rain-festival">
</head>
<body>
  <header><img src="/static/logo.png" alt="Example News"><nav><a href="/">Home</a> <a href="/sport#top">Sport</a></nav></header>
  <article>
    <h1>Rain fails to stop the city festival</h1>
    <figure><img src="photos/crowd.jpg" alt="The crowd" width="800" height="600"><figcaption>Fans at the main stage.</figcaption></figure>
    {PARAGRAPHS_EN}
    <video poster="poster.jpg" width="640"><source src="clips/stage.webm" type="video/webm"><source src="clips/stage.mp4" type="video/mp4"></video>
    <iframe src="https://www.youtube.com/embed/abc123" title="Aftermovie"></iframe>
    <iframe src="https://ads.example.net/banner"></iframe>
    <p>Read more at <a href="https://other.example.org/story?id=1#comments">the other site</a>.</p>
  </article>
  <img src="https://tracker.example.net/pixel.gif" width="1" height="1">
  <footer><a href="mailto:desk@example.com">Mail</a> <a href="javascript:void(0)">x</a></footer>
</body>
</html>"""

KOREAN_BODY = "".join(
    f"<p>서울 시내 곳곳에서 {i}번째 벚꽃 축제가 열려 많은 시민들이 봄을 즐겼다. "
    f"주최 측은 올해 방문객이 지난해보다 크게 늘었다고 밝혔다.</p>"
    for i in range(1, 6)
)

KOREAN_PAGE = f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">
<title>벚꽃 축제에 시민 몰려 - 예제일보</title>
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "벚꽃 축제에 시민 몰려",
  "datePublished": "2024-04-02T08:00:00+09:00", "author": {{"@type": "Person", "name": "김기자"}}}}
</script>
</head>
<body>
<div id="content"><h1>벚꽃 축제에 시민 몰려</h1>
<div class="article-body">{KOREAN_BODY}
<img src="/photo/cherry.jpg" alt="벚꽃">
</div></div>
</body></html>"""


@pytest.fixture(scope="module")
def english() -> Extraction:
    return extract(ENGLISH_PAGE, "https://news.example.com/culture/rain-festival?utm=x")


def test_english_metadata(english: Extraction) -> None:
    assert english.url == "https://news.example.com/culture/rain-festival?utm=x"
    assert english.title == "Rain fails to stop the city festival"
    assert english.author == "Jane Doe"
    assert english.published_at == "2024-05-17"
    assert english.lang == "en"
    assert english.sitename == "Example News"
    assert english.description == "Thousands sang in the rain."
    assert english.canonical_url == "https://news.example.com/culture/rain-festival"
    assert english.lead_image == "https://news.example.com/img/lead.jpg"


def test_english_text_is_paragraphs(english: Extraction) -> None:
    lines = english.text.split("\n")
    assert any(line.startswith("Paragraph 1 of the festival report") for line in lines)
    assert "Paragraph 6 of the festival report" in english.text
    assert "\n\n" not in english.text


def test_article_images_have_alt_and_caption_and_skip_logo_and_pixel(english: Extraction) -> None:
    urls = [image.url for image in english.images]
    assert urls == ["https://news.example.com/culture/photos/crowd.jpg"]
    crowd = english.images[0]
    assert crowd.kind == "image"
    assert crowd.alt == "The crowd"
    assert crowd.caption == "Fans at the main stage."
    assert (crowd.width, crowd.height) == (800, 600)


def test_videos_from_video_source_og_video_and_player_iframe(english: Extraction) -> None:
    by_url = {video.url: video for video in english.videos}
    webm = by_url["https://news.example.com/culture/clips/stage.webm"]
    assert webm.kind == "video"
    assert webm.mime == "video/webm"
    assert webm.poster == "https://news.example.com/culture/poster.jpg"
    assert webm.width == 640
    assert by_url["https://news.example.com/culture/clips/stage.mp4"].mime == "video/mp4"
    embed = by_url["https://www.youtube.com/embed/abc123"]
    assert embed.kind == "embed"
    assert embed.caption == "Aftermovie"
    og = by_url["https://cdn.example.com/clips/festival.mp4"]
    assert (og.kind, og.mime) == ("video", "video/mp4")
    assert "https://ads.example.net/banner" not in by_url


def test_links_are_absolute_deduped_without_fragments(english: Extraction) -> None:
    assert "https://news.example.com/" in english.links
    assert "https://news.example.com/sport" in english.links
    assert "https://other.example.org/story?id=1" in english.links
    assert all(link.startswith(("http://", "https://")) for link in english.links)
    assert all("#" not in link for link in english.links)
    assert len(english.links) == len(set(english.links))


def test_korean_page_from_euc_kr_bytes_with_header_charset() -> None:
    body = KOREAN_PAGE.encode("euc-kr")
    result = extract(body, "https://news.example.kr/a/1", content_type="text/html; charset=EUC-KR")
    assert result.title == "벚꽃 축제에 시민 몰려"
    assert "벚꽃 축제가 열려" in result.text
    assert result.lang == "ko"
    assert result.published_at == "2024-04-02"
    assert result.author == "김기자"
    assert [image.url for image in result.images] == ["https://news.example.kr/photo/cherry.jpg"]
    assert result.images[0].alt == "벚꽃"


def test_decode_html_header_then_meta_then_detection() -> None:
    text = "<html><head><meta charset='euc-kr'></head><body><p>한국어 기사 본문입니다.</p></body></html>"
    raw = text.encode("euc-kr")
    assert "한국어 기사" in decode_html(raw, "text/html; charset=euc-kr")
    assert "한국어 기사" in decode_html(raw)  # from <meta charset>
    assert "한국어 기사" in decode_html(raw, "text/html")
    assert decode_html("<p>café</p>".encode("utf-8")) == "<p>café</p>"
    assert decode_html("\ufeff<p>x</p>".encode("utf-8")) == "<p>x</p>"


def test_title_site_suffix_stripped_when_only_title_tag() -> None:
    page = "<html><head><title>Local bakery wins prize | Town Paper</title>" \
        "<meta property='og:site_name' content='Town Paper'></head><body><div>" + PARAGRAPHS_EN + "</div></body></html>"
    result = extract(page, "https://town.example/bakery")
    assert result.title in ("Local bakery wins prize", "Local bakery wins prize | Town Paper")
    assert result.sitename == "Town Paper"


def test_time_datetime_and_byline_fallbacks() -> None:
    page = (
        "<html lang='en'><head><title>Harbour reopens</title></head><body><article>"
        "<h1>Harbour reopens</h1><p>By <a rel='author' href='/staff/sam'>Sam Lee</a></p>"
        "<time datetime='2023-11-03T12:00'>3 November</time>" + PARAGRAPHS_EN + "</article></body></html>"
    )
    result = extract(page, "https://port.example/news/harbour")
    assert result.published_at == "2023-11-03"
    assert result.author == "Sam Lee"


def test_broken_html_with_unclosed_tags_still_extracts() -> None:
    page = "<html><head><title>Broken page</title><body><div><p>" + "<p>Unclosed paragraph about the river bridge repairs " \
        "that will take until next spring according to the city.<div><span><b>" * 8
    result = extract(page, "https://broken.example/x")
    assert "river bridge repairs" in result.text


def test_nul_bytes_are_ignored() -> None:
    page = ENGLISH_PAGE.replace("Paragraph 1 of", "Paragraph\x00 1 of").encode("utf-8")
    result = extract(page, "https://news.example.com/culture/rain-festival")
    assert "\x00" not in result.text
    assert result.title == "Rain fails to stop the city festival"


def test_deep_nesting_and_junk_never_raise_anything_but_extraction_failed() -> None:
    hostile = [
        "<div>" * 50_000 + "<p>deep text here</p>" + "</div>" * 10,
        "<html><body>" + "<<>>&&;;<a <b " * 100_000 + "</body></html>",
        b"<html>\xff\xfe\xfa<body>" + bytes(range(256)) * 1000,
        "<html><body><script>" + "x" * 1_000_000 + "</script></body></html>",
    ]
    for page in hostile:
        try:
            result = extract(page, "https://hostile.example/")
        except ExtractionFailed as err:
            assert str(err)
        else:
            assert isinstance(result.text, str)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", None),
        (b"   \n  ", "text/html"),
        ("<html><body></body></html>", None),
        ("<html><head><title>Only a title</title></head><body>   </body></html>", None),
        (bytes(range(256)) * 200, None),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, None),
        (b"%PDF-1.7 binary", "application/pdf"),
        ('{"json": "not html", "items": [1, 2, 3]}', None),
        ("just some plain words without any markup at all", None),
    ],
)
def test_non_html_or_empty_raises_extraction_failed(body: str | bytes, content_type: str | None) -> None:
    with pytest.raises(ExtractionFailed) as info:
        extract(body, "https://example.org/file", content_type=content_type)
    assert str(info.value)


CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "extraction-dev"


@pytest.mark.skipif(not (CORPUS / "index.jsonl").exists(), reason="extraction-dev corpus not present")
def test_real_pages_keep_most_with_snippets() -> None:
    rows = [json.loads(line) for line in (CORPUS / "index.jsonl").read_text(encoding="utf-8").splitlines() if line]
    sample = rows[::50][:20]
    found = total = 0
    for row in sample:
        raw = gzip.decompress((CORPUS / row["html_path"]).read_bytes())
        try:
            text = " ".join(extract(raw, row["url"]).text.split())
        except ExtractionFailed:
            text = ""
        for snippet in row["with"]:
            total += 1
            found += " ".join(snippet.split()) in text
    assert total > 0
    assert found / total >= 0.8, f"{found}/{total} snippets found"
