"""URL canonicalization: one spelling per page, so duplicates, politeness keys and robots rules agree.

`canonicalize` makes a URL absolute and normal: lower-case scheme and host, IDNA (punycode) host,
no default port, no fragment, no empty query, no tracking parameters (`TRACKING_PARAMS`,
`TRACKING_PREFIXES`), remaining query parameters sorted, dot segments removed and
percent-encoding normalised (upper-case hex, unreserved characters decoded). A trailing slash is
kept as written: `/a` and `/a/` can be different pages.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import idna

from trendreel.errors import BlockedURL

__all__ = ["MAX_URL_LENGTH", "TRACKING_PARAMS", "TRACKING_PREFIXES", "canonicalize", "host_key", "same_site"]

MAX_URL_LENGTH = 2048

# Query parameters that only say where a click came from; dropped case-insensitively.
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_", "hsa_")
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "li_fat_id", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "__hssc", "__hstc",
        "__hsfp", "hsctatracking", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv",
        "rb_clickid", "s_cid", "ref_src", "ref_url", "spm", "scm", "wickedid", "irclickid", "srsltid",
        "_openstat", "cmpid", "ncid",
    }
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_LONE_PCT = re.compile(r"%(?![0-9A-F]{2})")
# Characters left as they are in a path or query; everything else outside this set is %-encoded.
_SAFE = frozenset("!$&'()*+,;=:@/?%") | _UNRESERVED


def _fix_pct(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _normalise_encoding(part: str, extra_unsafe: str = "") -> str:
    """Upper-case %XX, decode %XX of unreserved characters, encode characters that must not appear raw."""
    if "%" in part:
        part = _PCT.sub(_fix_pct, part)
        # a '%' not followed by two hex digits is a literal percent sign
        part = _LONE_PCT.sub("%25", part)
    if _SAFE.issuperset(part) and not any(c in part for c in extra_unsafe):
        return part
    out = []
    for c in part:
        if c in _SAFE and c not in extra_unsafe:
            out.append(c)
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8"))
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = _normalise_encoding(name, "&=#")
        if _is_tracking(_PCT.sub(lambda m: chr(int(m.group(1), 16)), name)):
            continue
        pairs.append((name, sep + _normalise_encoding(value, "&#")))
    pairs.sort()
    return "&".join(n + v for n, v in pairs)


def _idna_host(host: str, original: str) -> str:
    host = host.rstrip(".") if host.endswith(".") and host != "." else host
    if not host:
        raise BlockedURL(f"URL has no host: {original}")
    if host.startswith("["):
        return host.lower()
    if host.isascii():
        host = host.lower()
        if "xn--" not in host:
            if not all(c.isalnum() or c in "-._" for c in host):
                raise BlockedURL(f"URL host {host!r} has characters a host name cannot have: {original}")
            return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise BlockedURL(f"URL host {host!r} is not a valid international domain name ({exc}): {original}") from None


def _split_host(parts: SplitResult, original: str) -> tuple[str, int | None]:
    netloc = parts.netloc
    if "@" in netloc:
        raise BlockedURL(f"URL carries credentials (user:password@host), which are never sent: {original}")
    host_port = netloc
    if host_port.startswith("["):
        end = host_port.find("]")
        if end < 0:
            raise BlockedURL(f"URL has a malformed IPv6 host: {original}")
        host, rest = host_port[: end + 1], host_port[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else ("" if not rest else None)
        if port_text is None:
            raise BlockedURL(f"URL has a malformed IPv6 host: {original}")
    else:
        host, _, port_text = host_port.rpartition(":") if ":" in host_port else (host_port, "", "")
    port: int | None = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise BlockedURL(f"URL has an invalid port {port_text!r}: {original}")
        port = int(port_text)
    return host, port


# A URL already in canonical form but for a default port: lower-case http(s), a plain lower-case ASCII host,
# a path of characters that stay as they are (no %, no dot segments), no query or fragment. Most sitemap and
# link URLs look like this; they skip the full parse (a third of the time of queueing a 100,000-URL sitemap).
_PLAIN_URL = re.compile(r"(https?)://((?:[a-z0-9_-]+\.)*[a-z0-9_-]+)(?::([0-9]{1,5}))?"
                        r"(/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)?")


def _plain_canonical(url: str) -> str | None:
    m = _PLAIN_URL.fullmatch(url)
    if m is None:
        return None
    scheme, host, port, path = m.groups()
    if "xn--" in host or (path and "/." in path):
        return None  # an IDNA host to check or dot segments to resolve: the full parse
    if port is not None:
        number = int(port)
        if not 0 < number < 65536:
            return None  # the full parse names the error
        port = None if number == _DEFAULT_PORTS[scheme] else str(number)
    return f"{scheme}://{host}{':' + port if port else ''}{path or '/'}"


def canonicalize(url: str, base: str | None = None) -> str:
    """Return the one spelling of `url` (resolved against `base`); BlockedURL when it cannot be crawled."""
    if not isinstance(url, str):
        raise BlockedURL(f"not a URL: {url!r}")
    if len(url) <= MAX_URL_LENGTH and (plain := _plain_canonical(url)) is not None:
        return plain
    original = url.strip()
    if len(original) > MAX_URL_LENGTH:
        raise BlockedURL(f"URL is longer than {MAX_URL_LENGTH} characters: {original[:80]}...")
    # browsers drop tabs and newlines inside URLs; so do we
    raw = original.translate({9: None, 10: None, 13: None})
    if base and not raw[:8].lower().startswith(("http://", "https://")):
        # An absolute http(s) URL with a host joins to itself; urljoin would only parse it twice more.
        raw = urljoin(base.strip(), raw)
        if len(raw) > MAX_URL_LENGTH:
            raise BlockedURL(f"URL is longer than {MAX_URL_LENGTH} characters: {raw[:80]}...")
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise BlockedURL(f"malformed URL {original!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        what = f"scheme {scheme!r}" if scheme else "no scheme (relative URL without a base)"
        raise BlockedURL(f"only http and https URLs are crawled, this one has {what}: {original}")
    host, port = _split_host(parts, original)
    host = _idna_host(host, original)
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(_normalise_encoding(parts.path, "?#")) or "/"
    query = _canonical_query(parts.query)
    result = urlunsplit((scheme, netloc, path, query, ""))
    if len(result) > MAX_URL_LENGTH:
        raise BlockedURL(f"URL is longer than {MAX_URL_LENGTH} characters: {result[:80]}...")
    return result


def _host_of(url: str) -> str:
    if "://" not in url:
        url = "http://" + url
    return urlsplit(canonicalize(url)).hostname or ""


def same_site(url: str, domain: str) -> bool:
    """True when the host of `url` is `domain` or one of its subdomains (`domain` may also be a URL)."""
    try:
        host = urlsplit(canonicalize(url)).hostname or ""
        dom = _host_of(domain.strip().lstrip("."))
    except BlockedURL:
        return False
    return bool(dom) and (host == dom or host.endswith("." + dom))


def host_key(url: str) -> str:
    """'scheme://host:port' with the port always written: the unit of politeness and robots.txt."""
    parts = urlsplit(url.strip())
    return _host_key(parts.scheme.lower(), parts.netloc)


@lru_cache(maxsize=4096)
def _host_key(scheme: str, netloc: str) -> str:
    where = f"{scheme}://{netloc}"
    if scheme not in _DEFAULT_PORTS:
        raise BlockedURL(f"only http and https URLs are crawled: {where}")
    host, port = _split_host(SplitResult(scheme, netloc, "", "", ""), where)
    return f"{scheme}://{_idna_host(host, where)}:{port or _DEFAULT_PORTS[scheme]}"
