"""Article extraction: main text, metadata, media and links of one HTML page.

Trafilatura finds the main text and most metadata; the page is parsed once with
lxml, and a single walk over that tree (`extract_scan.scan_page`) feeds the
fallbacks for fields trafilatura misses, the media lists and the links.
Anything that goes wrong on hostile input becomes `ExtractionFailed`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime
from typing import Any, Literal

from lxml import etree
from lxml.html import HtmlElement, document_fromstring
from pydantic import BaseModel

from trendreel.crawl.extract_decode import decode_html
from trendreel.crawl.extract_scan import (
    PLAYERS,
    MediaCandidate,
    PageScan,
    clean_space,
    scan_page,
)
from trendreel.errors import ExtractionFailed

__all__ = ["ExtractedMedia", "Extraction", "decode_html", "extract"]

# trafilatura logs every discarded page at WARNING; a crawler sees many of those
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


class ExtractedMedia(BaseModel):
    """An image, video or embedded player found in an article."""

    kind: Literal["image", "video", "embed"]
    url: str
    alt: str | None = None
    caption: str | None = None
    mime: str | None = None
    poster: str | None = None
    width: int | None = None
    height: int | None = None


class Extraction(BaseModel):
    """What one page yields: main text, metadata, media and outgoing links."""

    url: str
    canonical_url: str | None
    title: str | None
    text: str
    published_at: str | None
    author: str | None
    lang: str | None
    description: str | None
    sitename: str | None
    lead_image: str | None
    images: list[ExtractedMedia]
    videos: list[ExtractedMedia]
    links: list[str]
    page_type: Literal["article", "listing"] | None = None  # from og:type / JSON-LD / page shape; None = unknown


_MAX_CHARS = 8_000_000
_LOOKS_HTML = re.compile(
    r"<\s*(!doctype\s+html|html|head|body|div|p|article|main|section|span|a|meta|title|"
    r"table|h[1-6]|br|img|ul|ol|li|font|center|b|i|strong|em|form|script|link|pre)[\s>/]",
    re.I,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
_NEWLINES = re.compile(r"\s*\n\s*")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.I)


def extract(html: str | bytes, url: str, *, content_type: str | None = None) -> Extraction:
    """Extract the article of one page; raise ExtractionFailed when there is none."""
    try:
        return _extract(html, url, content_type)
    except ExtractionFailed:
        raise
    except (Exception, RecursionError) as err:  # hostile HTML must never escape as anything else
        raise ExtractionFailed(f"could not extract an article from {url}: {type(err).__name__}: {err}"[:500]) from err


def _extract(html: str | bytes, url: str, content_type: str | None) -> Extraction:
    text = _to_text(html, url, content_type)
    tree = _parse(text, url)
    scan = scan_page(tree, url)
    doc = _trafilatura(tree, url)
    body_text = _body_text(doc)
    if not body_text:
        body_text = _baseline_text(tree)
    if not body_text:
        raise ExtractionFailed(f"no article text found in {url}")
    meta = scan.meta
    images = _article_images(scan, tree, body_text)
    return Extraction(
        url=url,
        canonical_url=scan.canonical or scan.absolute(meta.get("og:url")),
        title=_title(doc, scan),
        text=body_text,
        published_at=_date(doc, scan),
        author=_author(doc, scan),
        lang=_lang(scan, body_text),
        description=_first(getattr(doc, "description", None), meta.get("og:description"), meta.get("description")),
        sitename=_first(getattr(doc, "sitename", None), meta.get("og:site_name"), meta.get("application-name")),
        lead_image=_lead_image(doc, scan, images),
        images=images,
        videos=_videos(scan),
        links=list(scan.links),
        page_type=_page_type(scan),
    )


_ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenews", "analysisnewsarticle", "opinionnewsarticle",
                  "reviewnewsarticle", "backgroundnewsarticle", "techarticle", "scholarlyarticle", "report", "liveblogposting"}
_LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "website", "webpage-list"}


def _page_type(scan: PageScan) -> str | None:
    """'article' or 'listing' when the page says so (og:type, JSON-LD) or its shape shows it."""
    og = (scan.meta.get("og:type") or "").strip().lower()
    if og == "article" or og.startswith("article:"):
        return "article"
    types: set[str] = set()
    for item in scan.jsonld:
        t = item.get("@type") if isinstance(item, dict) else None
        for v in (t if isinstance(t, list) else [t]):
            if isinstance(v, str):
                types.add(v.lower())
    if types & _ARTICLE_TYPES:
        return "article"
    if types & _LISTING_TYPES:
        return "listing"
    # A teaser list dates every entry: three or more distinct <time> stamps and no article markup.
    if len(set(scan.time_datetimes)) >= 3:
        return "listing"
    return None


# --- input --------------------------------------------------------------------------------


def _to_text(html: str | bytes, url: str, content_type: str | None) -> str:
    if isinstance(html, (bytes, bytearray, memoryview)):
        raw = bytes(html)
        if not raw.strip():
            raise ExtractionFailed(f"empty response body from {url}")
        if content_type and not _html_content_type(content_type):
            raise ExtractionFailed(f"{url} is {content_type.split(';')[0].strip()}, not HTML")
        text = decode_html(raw, content_type)
    elif isinstance(html, str):
        text = html
    else:
        raise ExtractionFailed(f"cannot extract from a {type(html).__name__}, expected HTML text or bytes")
    if len(text) > _MAX_CHARS:
        text = text[:_MAX_CHARS]
    if not text.strip():
        raise ExtractionFailed(f"empty page at {url}")
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise ExtractionFailed(f"{url} looks like binary data, not HTML")
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not _LOOKS_HTML.search(text[:262144]):
        raise ExtractionFailed(f"{url} does not look like HTML")
    return text


def _html_content_type(content_type: str) -> bool:
    mime = content_type.split(";")[0].strip().lower()
    return not mime or "html" in mime or mime in ("text/plain", "application/octet-stream", "application/xml", "text/xml")


def _parse(text: str, url: str) -> HtmlElement:
    from trafilatura.utils import load_html

    tree = None
    try:
        tree = load_html(text)
    except (ValueError, TypeError, etree.LxmlError):
        tree = None
    if tree is None or len(tree) == 0:
        try:
            # fragments and pages trafilatura's sanity check rejects
            tree = document_fromstring(_XML_DECL.sub("", text))
        except (ValueError, etree.LxmlError) as err:
            raise ExtractionFailed(f"{url} could not be parsed as HTML: {err}") from err
    if tree is None:
        raise ExtractionFailed(f"{url} could not be parsed as HTML")
    return tree


# --- main text ----------------------------------------------------------------------------


def _trafilatura(tree: HtmlElement, url: str) -> Any:
    from trafilatura import bare_extraction

    try:
        return bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,  # comments are not the article
            include_images=False,
            output_format="txt",
        )
    except RecursionError:
        return None


def _body_text(doc: Any) -> str:
    if doc is None or getattr(doc, "body", None) is None:
        return ""
    from trafilatura.xml import xmltotxt

    text = unicodedata.normalize("NFC", xmltotxt(doc.body, False) or "")
    return _NEWLINES.sub("\n", text).strip()


def _baseline_text(tree: HtmlElement) -> str:
    from trafilatura import baseline

    try:
        body, text, _ = baseline(tree)
    except (ValueError, TypeError, RecursionError, etree.LxmlError):
        return ""
    if body is not None and len(body):
        # one line per block the baseline kept, not its space-joined string
        lines = [clean_space(el.text_content() if hasattr(el, "text_content") else "".join(el.itertext())) for el in body]
        text = "\n".join(line for line in lines if line) or text
    return unicodedata.normalize("NFC", _NEWLINES.sub("\n", text or "").strip())


# --- metadata fallbacks -------------------------------------------------------------------


def _first(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str):
            value = clean_space(unicodedata.normalize("NFC", value))
            if value:
                return value
    return None


def _ld_values(scan: PageScan, key: str) -> list[Any]:
    return [item[key] for item in scan.jsonld if isinstance(item, dict) and item.get(key)]


def _ld_name(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        name = value.get("name")
        return name if isinstance(name, str) else None
    if isinstance(value, list):
        names = [n for n in (_ld_name(v) for v in value[:5]) if n]
        return ", ".join(names) if names else None
    return None


_DOMAIN = re.compile(r"\w\.(de|com|org|net|at|ch|info|co|io|fr|pl|es|it|uk)\b|//", re.I)
_TITLE_SEP = re.compile(r"\s+[|\-–—:·»«]\s+")


def _strip_site(title: str | None, scan: PageScan) -> str | None:
    """Drop a ' | Site name' style suffix or prefix from a <title>."""
    if not title:
        return None
    parts = _TITLE_SEP.split(title)
    if len(parts) < 2:
        return title
    site = (scan.meta.get("og:site_name") or "").lower()
    if site:
        kept = [p for p in parts if p.lower() != site and site not in p.lower()]
        if kept:
            return " - ".join(kept)
    return max(parts, key=len)


def _title(doc: Any, scan: PageScan) -> str | None:
    from_meta = [scan.meta.get("og:title"), scan.meta.get("twitter:title"), *[v for v in _ld_values(scan, "headline") if isinstance(v, str)]]
    title = _first(getattr(doc, "title", None))
    if title and title not in {clean_space(v) for v in from_meta if v}:
        title = _better_than_heading(title, scan) or title
    return title or _first(*from_meta, scan.h1, _strip_site(scan.title_tag, scan))


def _better_than_heading(title: str, scan: PageScan) -> str | None:
    """A <title> part when the heading trafilatura chose is the site name, a category or a widget."""
    if not scan.title_tag:
        return None
    parts = [p.strip() for p in _TITLE_SEP.split(scan.title_tag) if p.strip()]
    low = title.casefold()
    folded = [p.casefold() for p in parts]
    if low in folded and len(parts) > 1:
        # "Headline | Site" keeps the headline; "Headline : Site | Tagline" with the site as title does not
        if folded[0] == low:
            return None  # the title leads the <title>: that is the usual headline position
        others = [p for p, f in zip(parts, folded) if f != low and not _DOMAIN.search(p)]
        longest = max(others, key=len, default="")
        if len(longest) >= 15 and len(title) * 2 < len(longest):
            return longest
        return None
    if low not in scan.title_tag.casefold():
        # trafilatura's heading is not in <title>; a heading that is, and is not its site suffix
        allowed = set(folded[:-1]) if len(parts) > 1 else {scan.title_tag.casefold()}
        for heading in scan.headings:
            if len(heading) >= 10 and heading.casefold() in allowed:
                return heading
    return None


def _author(doc: Any, scan: PageScan) -> str | None:
    meta_author = scan.meta.get("author") or scan.meta.get("article:author") or scan.meta.get("dc.creator")
    if meta_author and meta_author.startswith(("http://", "https://")):
        meta_author = None
    ld = [_ld_name(v) for v in _ld_values(scan, "author")]
    return _first(getattr(doc, "author", None), meta_author, *ld, *scan.rel_authors)


_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?")


def _iso(value: Any) -> str | None:
    """ISO date (or datetime when the time is known) from a loosely formatted value."""
    if not isinstance(value, str):
        return None
    match = _DATE_RE.search(value)
    if not match:
        return None
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    try:
        datetime(year, month, day)
    except ValueError:
        return None
    if not 1995 <= year <= datetime.now().year + 1:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _date(doc: Any, scan: PageScan) -> str | None:
    date = _iso(getattr(doc, "date", None))
    if date:
        return date
    meta = scan.meta
    for value in (
        *_ld_values(scan, "datePublished"),
        meta.get("article:published_time"),
        meta.get("datepublished"),
        meta.get("og:published_time"),
        meta.get("pubdate"),
        meta.get("date"),
        meta.get("dc.date"),
        meta.get("dc.date.issued"),
        *scan.time_datetimes[:3],
    ):
        date = _iso(value)
        if date:
            return date
    return None


_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LANG_CODE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")
_langid = None


def _lang(scan: PageScan, text: str) -> str | None:
    for declared in (scan.lang, scan.meta.get("content-language"), scan.meta.get("og:locale")):
        if declared:
            match = _LANG_CODE.match(declared.strip().split(",")[0])
            if match and len(match.group(1)) == 2:
                return match.group(1).lower()
    return detect_language(text)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of a text: Hangul share first (fast, sure), then py3langid."""
    sample = text[:3000]
    if not sample:
        return None
    letters = sum(1 for ch in sample if ch.isalpha())
    if letters and len(_HANGUL.findall(sample)) > 0.3 * letters:
        return "ko"
    global _langid
    try:
        if _langid is None:
            import py3langid

            _langid = py3langid
        return _langid.classify(sample)[0]
    except Exception:  # language detection is optional sugar  # noqa: BLE001
        return None


# --- media --------------------------------------------------------------------------------


def _media(candidate: MediaCandidate) -> ExtractedMedia:
    return ExtractedMedia(
        kind=candidate.kind,  # type: ignore[arg-type]
        url=candidate.url,
        alt=candidate.alt,
        caption=candidate.caption,
        mime=candidate.mime,
        poster=candidate.poster,
        width=candidate.width,
        height=candidate.height,
    )


def _article_images(scan: PageScan, tree: HtmlElement, text: str) -> list[ExtractedMedia]:
    """Images inside the block that holds the extracted text, or inside <article>/<main>."""
    # locating the text block walks the whole tree: only do it when an image needs it
    undecided = any(not c.boilerplate and not c.in_article for c in scan.images)
    container = _main_container(tree, text) if undecided else None
    chosen: dict[str, ExtractedMedia] = {}
    for candidate in scan.images:
        if candidate.boilerplate:
            continue
        if candidate.in_article or (container is not None and _inside(candidate.element, container)):
            chosen.setdefault(candidate.url, _media(candidate))
    return list(chosen.values())


def _inside(element: Any, container: Any) -> bool:
    node = element
    while node is not None:
        if node is container:
            return True
        node = node.getparent()
    return False


def _main_container(tree: HtmlElement, text: str) -> Any:
    """Lowest element holding both the first and the last long paragraph of the text."""
    paragraphs = [p for p in text.split("\n") if len(p) >= 40]
    if not paragraphs:
        return None
    first, last = paragraphs[0][:30], paragraphs[-1][:30]
    first_el = last_el = None
    for el in tree.iter():
        own = el.text
        if not own or not isinstance(el.tag, str):
            continue
        own = own.strip()
        if len(own) < 30:
            continue
        own = clean_space(own) or ""
        if first_el is None and own.startswith(first):
            first_el = el
        if own.startswith(last):
            last_el = el
    if first_el is None or last_el is None:
        return None
    ancestors = set()
    node = first_el
    while node is not None:
        ancestors.add(node)
        node = node.getparent()
    node = last_el
    while node is not None and node not in ancestors:
        node = node.getparent()
    if node is not None and node is first_el:
        node = node.getparent()  # one paragraph: its block
    if node is None or node.tag in ("html", "body"):
        return None
    return node


def _lead_image(doc: Any, scan: PageScan, images: list[ExtractedMedia]) -> str | None:
    meta = scan.meta
    for value in (
        meta.get("og:image:secure_url"),
        meta.get("og:image"),
        meta.get("og:image:url"),
        meta.get("twitter:image"),
        meta.get("twitter:image:src"),
        getattr(doc, "image", None),
    ):
        absolute = scan.absolute(value) if isinstance(value, str) else None
        if absolute and absolute.startswith(("http://", "https://")):
            return absolute
    return images[0].url if images else None


def _videos(scan: PageScan) -> list[ExtractedMedia]:
    videos = [_media(v) for v in scan.videos]
    meta = scan.meta
    og = meta.get("og:video:secure_url") or meta.get("og:video:url") or meta.get("og:video")
    absolute = scan.absolute(og)
    if absolute and absolute.startswith(("http://", "https://")) and all(v.url != absolute for v in videos):
        mime = clean_space(meta.get("og:video:type"))
        kind = "embed" if PLAYERS.match(absolute) or (mime or "").lower() == "text/html" else "video"
        width, height = meta.get("og:video:width"), meta.get("og:video:height")
        videos.append(
            ExtractedMedia(
                kind=kind,
                url=absolute,
                mime=mime,
                width=int(width) if width and width.isdigit() else None,
                height=int(height) if height and height.isdigit() else None,
            )
        )
    return videos
