"""Finding article URLs: RSS/Atom feeds and sitemaps (link-following uses Extraction.links)."""

from __future__ import annotations

from dataclasses import dataclass

import feedparser
from lxml import etree

from trendreel.errors import ExtractionFailed


@dataclass
class Found:
    url: str
    kind: str  # page | sitemap


def parse_feed(body: bytes, base_url: str) -> list[Found]:
    """Entry links of an RSS or Atom feed."""
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    if parsed.bozo and not parsed.entries:
        raise ExtractionFailed(f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
    out = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            for alt in entry.get("links", []):
                if alt.get("rel", "alternate") == "alternate" and alt.get("href"):
                    link = alt["href"]
                    break
        if link:
            out.append(Found(link, "page"))
    return out


_SITEMAP_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


def parse_sitemap(body: bytes) -> list[Found]:
    """<urlset> gives pages; <sitemapindex> gives more sitemaps. Gzipped sitemaps are unpacked by the caller."""
    try:
        root = etree.fromstring(body, _SITEMAP_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ExtractionFailed(f"not a readable sitemap: {exc}") from exc
    if root is None:
        raise ExtractionFailed("not a readable sitemap: empty document")
    tag = etree.QName(root).localname
    if tag not in ("urlset", "sitemapindex"):
        raise ExtractionFailed(f"not a sitemap: root element is <{tag}>")
    kind = "sitemap" if tag == "sitemapindex" else "page"
    out = []
    for loc in root.iter("{*}loc"):
        if loc.text and loc.text.strip():
            out.append(Found(loc.text.strip(), kind))
    return out
