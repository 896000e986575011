"""canonicalize, same_site and host_key as tables."""

from __future__ import annotations

import pytest

from trendreel.crawl.urls import MAX_URL_LENGTH, canonicalize, host_key, same_site
from trendreel.errors import BlockedURL


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.COM/", "http://example.com/"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("http://example.com/a#section", "http://example.com/a"),
        ("http://example.com/a?", "http://example.com/a"),
        ("http://example.com/a?#x", "http://example.com/a"),
        ("http://example.com/a/", "http://example.com/a/"),  # trailing slash kept
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/../../a", "http://example.com/a"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/%7euser/%2f/%e2%82%ac", "http://example.com/~user/%2F/%E2%82%AC"),
        ("http://example.com/a b", "http://example.com/a%20b"),
        ("http://example.com/é", "http://example.com/%C3%A9"),
        ("http://example.com/100%", "http://example.com/100%25"),
        ("http://example.com/?b=2&a=1&c", "http://example.com/?a=1&b=2&c"),
        ("http://example.com/?a=2&a=1", "http://example.com/?a=1&a=2"),
        ("http://example.com/?utm_source=tw&utm_medium=x&id=7", "http://example.com/?id=7"),
        ("http://example.com/?UTM_Campaign=x&id=7", "http://example.com/?id=7"),
        ("http://example.com/p?fbclid=1&gclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6&_ga=7&ref_src=8&spm=9&yclid=0",
         "http://example.com/p"),
        ("http://example.com/p?ref=home", "http://example.com/p?ref=home"),  # 'ref' can select content
        ("http://example.com/p?q=a%2bb&q2=%41", "http://example.com/p?q=a%2Bb&q2=A"),
        ("http://Bücher.example/", "http://xn--bcher-kva.example/"),
        ("http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/"),
        ("http://example.com./a", "http://example.com/a"),
        ("http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/"),
        ("  http://example.com/a\n", "http://example.com/a"),
    ],
)
def test_canonicalize(raw, expected):
    assert canonicalize(raw) == expected


def test_canonicalize_is_idempotent():
    for raw in ("http://Bücher.example/a/../b?utm_x=1&z=%e2%82%ac&a", "https://x.org/%7e/%zz"):
        once = canonicalize(raw)
        assert canonicalize(once) == once


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("../x?b=1#f", "http://example.com/d/e/f", "http://example.com/d/x?b=1"),
        ("/abs", "https://example.com/d/e", "https://example.com/abs"),
        ("//cdn.example.com/img.png", "https://example.com/", "https://cdn.example.com/img.png"),
        ("?page=2", "http://example.com/list?page=1", "http://example.com/list?page=2"),
        ("https://other.org/", "http://example.com/", "https://other.org/"),
    ],
)
def test_canonicalize_against_base(href, base, expected):
    assert canonicalize(href, base=base) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ftp://example.com/file", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("mailto:someone@example.com", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("/relative/path", "relative URL"),
        ("http:///path", "no host"),
        ("http://user:secret@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http://example.com:99999/", "invalid port"),
        ("http://example.com:abc/", "invalid port"),
        ("http://exa mple.com/", "characters"),
        ("http://example.com/" + "a" * MAX_URL_LENGTH, "longer than"),
    ],
)
def test_canonicalize_refuses(raw, message):
    with pytest.raises(BlockedURL, match=message):
        canonicalize(raw)


@pytest.mark.parametrize(
    ("url", "domain", "expected"),
    [
        ("https://example.com/a", "example.com", True),
        ("https://www.example.com/a", "example.com", True),
        ("https://a.b.example.com/a", "Example.COM", True),
        ("https://notexample.com/a", "example.com", False),
        ("https://example.com.evil.org/a", "example.com", False),
        ("https://example.com/a", "www.example.com", False),
        ("https://xn--bcher-kva.example/", "bücher.example", True),
        ("https://example.com/a", "https://example.com/start", True),
        ("mailto:x@example.com", "example.com", False),
    ],
)
def test_same_site(url, domain, expected):
    assert same_site(url, domain) is expected


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://Example.com/a?b", "https://example.com:443"),
        ("http://example.com/", "http://example.com:80"),
        ("http://example.com:8080/x", "http://example.com:8080"),
        ("http://[::1]:81/", "http://[::1]:81"),
    ],
)
def test_host_key(url, key):
    assert host_key(url) == key


def _full_parse(url: str) -> str | BaseException:
    """canonicalize with the plain-URL shortcut skipped: an empty #fragment sends the URL through the full parse."""
    try:
        return canonicalize(url + "#")
    except BlockedURL as exc:
        return exc


@pytest.mark.parametrize("url", [
    "http://example.com", "http://example.com/", "https://example.com:443/a/b.html", "http://example.com:80/a",
    "http://example.com:8080/a", "http://example.com:080/a", "http://example.com:0/a", "http://example.com:99999/a",
    "http://127.0.0.1:8000/news/2026/12/story-1.html", "http://a_b.example/x", "http://-a.example/x",
    "http://example.com/a/./b", "http://example.com/a/../b", "http://example.com/.well-known/x",
    "http://example.com/a;p=1/b", "http://example.com/~user/(x)*!$&'+,=:@", "http://example.com//double//slash",
    "http://xn--bcher-kva.example/", "http://xn--bad-.example/", "https://news.example.co.uk/2026/story",
])
def test_plain_urls_take_a_shortcut_to_the_same_answer(url):
    shortcut: str | BaseException
    try:
        shortcut = canonicalize(url)
    except BlockedURL as exc:
        shortcut = exc
    full = _full_parse(url)
    if isinstance(full, BaseException):
        assert isinstance(shortcut, BlockedURL)
    else:
        assert shortcut == full
