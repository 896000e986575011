"""One pass over a parsed page: meta tags, JSON-LD, links, images, videos, embeds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

_TAGS = (
    "base", "title", "meta", "link", "script", "a", "img", "video", "iframe",
    "time", "h1", "h2", "h3", "amp-img", "amp-video",
)
_BOILER_TAGS = {"nav", "footer", "aside", "menu"}
_BOILER_HINT = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|footer|sidebar|masthead|breadcrumb|"
    r"advert|ads?|sponsor|promo|banner|social|share|related|logo|widget|teaser)([\s_-]|$)",
    re.I,
)
_TRACKER = re.compile(
    r"(pixel|spacer|blank\.gif|1x1|/tr\?|facebook\.com/tr|doubleclick|googlesyndication|"
    r"googleadservices|/beacon|scorecardresearch|/track(ing)?[/?.]|\.gif\?|analytics|/counter)",
    re.I,
)
_LOGO = re.compile(r"(^|[/_.-])(logo|icon|avatar|sprite|favicon|emoji)", re.I)
PLAYERS = re.compile(
    r"^https?://([\w-]+\.)*("
    r"youtube\.com/(embed|v)/|youtube-nocookie\.com/embed/|youtu\.be/|"
    r"player\.vimeo\.com/video/|dailymotion\.com/embed/|geo\.dailymotion\.com/player|"
    r"player\.twitch\.tv|clips\.twitch\.tv|facebook\.com/plugins/video|"
    r"tiktok\.com/embed|streamable\.com/|fast\.wistia\.(net|com)/embed|"
    r"players\.brightcove\.net/|cdn\.jwplayer\.com/players|content\.jwplatform\.com/players|"
    r"tv\.naver\.com/embed|serviceapi\.nmv\.naver\.com|tv\.kakao\.com/embed|"
    r"play-tv\.kakao\.com/embed|rumble\.com/embed|bilibili\.com/player|player\.bilibili\.com|"
    r"instagram\.com/(p|reel)/[^/]+/embed|twitter\.com/i/videos|ok\.ru/videoembed|vk\.com/video_ext"
    r")",
    re.I,
)
_WS = re.compile(r"\s+")
_UNSAFE = re.compile(r"[\s\\]|/\.\.?(/|$)")


def clean_space(text: str | None) -> str | None:
    """Collapse whitespace; None for blank."""
    if not text:
        return None
    text = _WS.sub(" ", text).strip()
    return text or None


def _int(value: Any) -> int | None:
    if value is None:
        return None
    match = re.match(r"\s*(\d{1,6})", str(value))
    return int(match.group(1)) if match else None


@dataclass
class MediaCandidate:
    """An image, video or embed as found in the page, before article filtering."""

    kind: str
    url: str
    alt: str | None = None
    caption: str | None = None
    mime: str | None = None
    poster: str | None = None
    width: int | None = None
    height: int | None = None
    boilerplate: bool = False
    in_article: bool = False
    aliases: tuple[str, ...] = ()
    element: Any = None


@dataclass
class PageScan:
    """Everything the fallbacks and media lists need, gathered in one walk."""

    base_url: str
    lang: str | None = None
    title_tag: str | None = None
    h1: str | None = None
    headings: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    canonical: str | None = None
    jsonld: list[dict] = field(default_factory=list)
    time_datetimes: list[str] = field(default_factory=list)
    rel_authors: list[str] = field(default_factory=list)
    links: dict[str, None] = field(default_factory=dict)
    images: list[MediaCandidate] = field(default_factory=list)
    videos: list[MediaCandidate] = field(default_factory=list)

    def absolute(self, href: str | None) -> str | None:
        """Resolve href against the page; None for empty, data: or script links."""
        if not href:
            return None
        href = href.strip()
        if href.startswith(("http://", "https://")) and not _UNSAFE.search(href):
            return href
        href = href.replace("\n", "").replace("\t", "")
        if not href or href.startswith(("data:", "javascript:", "mailto:", "#", "about:", "blob:")):
            return None
        try:
            return urljoin(self.base_url, href)
        except ValueError:
            return None


def _in_boilerplate(el: HtmlElement) -> tuple[bool, bool]:
    """(inside nav/header/footer/aside-like block, inside article/main)."""
    boiler = article = header = False
    node = el.getparent()
    while node is not None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("article", "main") or node.get("itemprop") == "articleBody":
            article = True
        elif tag == "header":
            # an article's own <header> holds its hero image; the page's holds the logo
            header = header or not article
        elif tag in _BOILER_TAGS:
            boiler = True
        else:
            hint = f"{node.get('class', '')} {node.get('id', '')} {node.get('role', '')}"
            if len(hint) > 2 and _BOILER_HINT.search(hint):
                boiler = True
        node = node.getparent()
    return boiler or (header and not article), article


def _figure_caption(el: HtmlElement) -> str | None:
    node = el.getparent()
    depth = 0
    while node is not None and depth < 4:
        if node.tag == "figure":
            for cap in node.iter("figcaption"):
                return clean_space(cap.text_content())
            return None
        node = node.getparent()
        depth += 1
    return None


def _img_src(el: HtmlElement) -> tuple[str | None, list[str]]:
    """Best source of an <img>, handling lazy-loading attributes and srcset."""
    candidates: list[str] = []
    for attr in ("data-src", "data-lazy-src", "data-original", "data-url", "data-lazy", "src"):
        value = el.get(attr)
        if value and not value.strip().startswith("data:"):
            candidates.append(value.strip())
    for attr in ("srcset", "data-srcset"):
        value = el.get(attr)
        if value:
            first = value.strip().split(",")[0].strip().split(" ")[0]
            if first and not first.startswith("data:"):
                candidates.append(first)
    if not candidates:
        return None, []
    # prefer the real src when it is not a placeholder
    src = el.get("src", "").strip()
    if src and not src.startswith("data:") and not _TRACKER.search(src) and "placeholder" not in src.lower():
        return src, candidates
    return candidates[0], candidates


def _collect_jsonld(text: str | None, out: list[dict]) -> None:
    if not text or len(text) > 500_000:
        return
    try:
        data = json.loads(text.strip().rstrip(";"))
    except (ValueError, RecursionError):
        return
    stack = [data]
    seen = 0
    while stack and seen < 200:
        item = stack.pop(0)
        seen += 1
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if "@graph" in item:
                stack.extend(item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]])
            out.append(item)


def scan_page(tree: HtmlElement, url: str) -> PageScan:
    """Walk the tree once and record what the extractor's fallbacks need."""
    scan = PageScan(base_url=url)
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    scan.lang = clean_space(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"))
    seen_img: set[str] = set()
    seen_vid: set[str] = set()
    for el in tree.iter(*_TAGS):
        tag = el.tag
        if tag == "a":
            href = el.get("href")
            if href:
                href = href.strip()
                if href.startswith(("http://", "https://")) and not _UNSAFE.search(href):
                    absolute: str | None = href  # already absolute: skip the costly urljoin
                else:
                    absolute = scan.absolute(href)
                if absolute and absolute.startswith(("http://", "https://")):
                    scan.links.setdefault(absolute.split("#", 1)[0], None)
                if "author" in (el.get("rel") or "") and len(scan.rel_authors) < 5:
                    name = clean_space(el.text_content())
                    if name:
                        scan.rel_authors.append(name)
        elif tag == "meta":
            key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
            content = el.get("content")
            if key and content:
                scan.meta.setdefault(key.strip().lower(), content.strip())
            elif el.get("charset") is None and key and el.get("datetime"):
                scan.meta.setdefault(key.strip().lower(), el.get("datetime").strip())
        elif tag in ("img", "amp-img"):
            src, aliases = _img_src(el)
            absolute = scan.absolute(src)
            if not absolute or absolute in seen_img:
                continue
            seen_img.add(absolute)
            width, height = _int(el.get("width")), _int(el.get("height"))
            boiler, article = _in_boilerplate(el)
            tiny = (width is not None and width <= 2) or (height is not None and height <= 2)
            junk = tiny or bool(_TRACKER.search(absolute)) or bool(_LOGO.search(urlsplit(absolute).path))
            scan.images.append(
                MediaCandidate(
                    kind="image",
                    url=absolute,
                    alt=clean_space(el.get("alt")),
                    caption=_figure_caption(el) or clean_space(el.get("title")),
                    width=width,
                    height=height,
                    boilerplate=boiler or junk,
                    in_article=article and not junk,
                    aliases=tuple(a for a in (scan.absolute(x) for x in aliases) if a),
                    element=el,
                )
            )
        elif tag in ("video", "amp-video"):
            sources: list[tuple[str | None, str | None]] = []
            if el.get("src"):
                sources.append((el.get("src"), el.get("type")))
            for source in el.iter("source"):
                sources.append((source.get("src") or source.get("data-src"), source.get("type")))
            poster = scan.absolute(el.get("poster"))
            for src, mime in sources:
                absolute = scan.absolute(src)
                if absolute and absolute not in seen_vid:
                    seen_vid.add(absolute)
                    scan.videos.append(
                        MediaCandidate(
                            kind="video",
                            url=absolute,
                            mime=clean_space(mime),
                            poster=poster,
                            width=_int(el.get("width")),
                            height=_int(el.get("height")),
                            caption=_figure_caption(el) or clean_space(el.get("title")),
                        )
                    )
        elif tag == "iframe":
            absolute = scan.absolute(el.get("src") or el.get("data-src"))
            if absolute and absolute not in seen_vid and PLAYERS.match(absolute):
                seen_vid.add(absolute)
                scan.videos.append(
                    MediaCandidate(
                        kind="embed",
                        url=absolute,
                        caption=clean_space(el.get("title")) or _figure_caption(el),
                        width=_int(el.get("width")),
                        height=_int(el.get("height")),
                    )
                )
        elif tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if "canonical" in rel and scan.canonical is None:
                scan.canonical = scan.absolute(el.get("href"))
        elif tag == "script":
            if (el.get("type") or "").lower().strip() == "application/ld+json":
                _collect_jsonld(el.text, scan.jsonld)
        elif tag == "time":
            value = el.get("datetime")
            if value and len(scan.time_datetimes) < 20:
                scan.time_datetimes.append(value.strip())
        elif tag == "title":
            if scan.title_tag is None:
                scan.title_tag = clean_space(el.text_content())
        elif tag in ("h1", "h2", "h3"):
            if len(scan.headings) < 40:
                heading = clean_space(el.text_content())
                if heading:
                    scan.headings.append(heading)
                    if tag == "h1" and scan.h1 is None:
                        scan.h1 = heading
        elif tag == "base":
            href = el.get("href")
            if href and scan.base_url == url:
                try:
                    scan.base_url = urljoin(url, href.strip())
                except ValueError:
                    pass
    return scan
