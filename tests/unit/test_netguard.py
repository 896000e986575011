"""The private-network guard, on address literals and on names that resolve locally."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from trendreel.crawl.netguard import TargetGuard, blocked_reason, check_target
from trendreel.errors import BlockedURL, FetchFailed


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1.2.3:8080/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
        "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped metadata address
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://localhost/",
        "http://localhost:8000/admin",
    ],
)
def test_private_targets_refused_by_default(url):
    with pytest.raises(BlockedURL) as info:
        check_target(url, allow_private=False)
    message = str(info.value)
    assert "not a public address" in message
    if "link-local" in message:  # allow_private would not open it: the message names what does
        assert "crawl.allow_networks" in message and "--allow-private" not in message
    else:
        assert "allow_private = true on the source or pass --allow-private" in message


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/", "http://[::1]/", "http://localhost/"])
def test_allow_private_lets_them_through(url):
    check_target(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://8.8.8.8/", "https://1.1.1.1:8443/", "http://[2606:4700:4700::1111]/"])
def test_public_literals_pass(url):
    check_target(url, allow_private=False)


def test_message_names_the_resolved_address():
    with pytest.raises(BlockedURL, match=r"localhost resolves to (127\.0\.0\.1|::1), which is not a public address \(loopback\)"):
        check_target("http://localhost/", allow_private=False)


def test_unresolvable_host_is_fetch_failed():
    with pytest.raises(FetchFailed, match="cannot resolve host"):
        check_target("http://no-such-host.invalid/", allow_private=False)


def test_async_check_agrees_and_caches():
    guard = TargetGuard(ttl_s=60)

    async def go():
        for _ in range(3):
            with pytest.raises(BlockedURL):
                await guard.acheck("http://localhost:1/", allow_private=False)
        await guard.acheck("http://localhost:1/", allow_private=True)
        with pytest.raises(FetchFailed):
            await guard.acheck("http://no-such-host.invalid/", allow_private=False)

    asyncio.run(go())
    assert "localhost" in guard._cache


@pytest.mark.parametrize(
    ("addr", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("169.254.0.1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:10.0.0.1", "IPv6 form of a private IPv4 address"),
        ("93.184.216.34", None),
        ("2a00:1450:4001:80b::200e", None),
    ],
)
def test_blocked_reason(addr, reason):
    assert blocked_reason(ipaddress.ip_address(addr)) == reason


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://169.254.1.2/",
        "http://[fe80::1]/",
        "http://[fe80::a9fe:a9fe%25eth0]/",
        "http://[::ffff:169.254.169.254]/",  # IPv4-mapped metadata address
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
    ],
)
def test_allow_private_keeps_link_local_refused(url):
    """allow_private opens the local network for one's own sites, never the cloud metadata service."""
    with pytest.raises(BlockedURL) as info:
        check_target(url, allow_private=True)
    assert "link-local" in str(info.value) and "crawl.allow_networks" in str(info.value)


def test_a_link_local_network_named_explicitly_is_allowed():
    check_target("http://169.254.10.20/", allow_private=True, allow_networks=["169.254.10.0/24"])
    check_target("http://[fe80::1]/", allow_private=False, allow_networks=["fe80::/10"])
    with pytest.raises(BlockedURL):  # only the network named
        check_target("http://169.254.169.254/", allow_private=True, allow_networks=["169.254.10.0/24"])
    with pytest.raises(BlockedURL):  # a named network opens only itself, not the rest of the private ranges
        check_target("http://10.0.0.1/", allow_private=False, allow_networks=["169.254.10.0/24"])


def test_async_guard_keeps_link_local_refused_with_allow_private():
    guard = TargetGuard(ttl_s=60)

    async def go():
        await guard.acheck("http://10.0.0.1/", allow_private=True)
        with pytest.raises(BlockedURL, match="link-local"):
            await guard.acheck("http://169.254.169.254/", allow_private=True)
        with pytest.raises(BlockedURL, match="link-local"):
            await guard.addresses("169.254.169.254", 80, allow_private=True)

    asyncio.run(go())
