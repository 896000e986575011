"""Storage that fails under a real `trendreel` process: a file store folder that cannot be made, and a full disk.

The full disk is real: a small tmpfs mounted for the test where the tests may mount (root), otherwise a
per-process file size limit (RLIMIT_FSIZE) on the command, which makes writes past it fail the way a full
disk does (EFBIG instead of ENOSPC).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.test_cli import FAST_CRAWL, failed, ok_json, run_cli, write_settings


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/proc/mounts").exists()


def _mount(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True, check=False)
    return r.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


class SmallDisk:
    """A home on a disk with little room; `grow()` gives it room again."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.mounted = _can_mount() and _mount(root, "size=1200k,mode=0755")
        self.limited = not self.mounted
        self.home.mkdir(parents=True, exist_ok=True)

    def preexec(self):
        if not self.limited:
            return None

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
            resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))

        return limit

    def grow(self) -> None:
        if self.mounted:
            subprocess.run(["mount", "-o", "remount,size=200m", str(self.root)], check=True, capture_output=True)
        self.limited = False

    def close(self) -> None:
        if self.mounted:
            _umount(self.root)


@pytest.fixture
def small_disk(tmp_path):
    disk = SmallDisk(tmp_path / f"disk-{uuid.uuid4().hex[:6]}")
    yield disk
    disk.close()


def _crawl(home: Path, disk: SmallDisk, *extra: str) -> subprocess.CompletedProcess:
    from tests.e2e.test_cli import _env

    return subprocess.run([os.sys.executable, "-m", "trendreel.cli", "crawl", "--home", str(home), *extra],
                          capture_output=True, text=True, encoding="utf-8", env=_env(), timeout=300, check=False,
                          preexec_fn=disk.preexec())


def _sitemap_source(sample_url: str) -> str:
    return FAST_CRAWL + f"""
[[sources]]
name = "sample"
kind = "sitemap"
urls = ["{sample_url}/sitemap_index.xml"]
allow_private = true
"""


def test_a_full_disk_stops_the_crawl_with_a_message_and_keeps_what_was_stored(sample_site, sample_url, small_disk):
    home = small_disk.home
    write_settings(home, _sitemap_source(sample_url))
    r = _crawl(home, small_disk)
    err = failed(r, 1)
    assert "OperationalError" not in err and "GenericError" not in err
    assert "full" in err or "space" in err or "too large" in err.lower() or "no room" in err
    assert "stopped" in err  # one message, not an error per page
    assert "files_url" in err or "database_url" in err  # what to fix
    assert "internal" not in r.stdout

    # Given room again, the same command goes on from where it stopped and ends clean.
    small_disk.grow()
    r2 = _crawl(home, small_disk, "--json")
    assert r2.returncode == 0, r2.stderr
    stats = json.loads(r2.stdout)
    assert stats["stats"]["errors_by_kind"].get("internal", 0) == 0
    assert stats["stored"]["urls_queued"] == 0
    with sqlite3.connect(home / "trendreel.db") as conn:
        articles = conn.execute("SELECT count(*) FROM article").fetchone()[0]
        paths = [p for (p,) in conn.execute("SELECT text_path FROM article")]
        media = conn.execute("SELECT path FROM media_item WHERE status = 'stored'").fetchall()
    assert articles == len(sample_site.articles)
    files = home / "files"
    assert all((files / p).is_file() for p in paths)
    assert all((files / p).is_file() for (p,) in media)


def _readonly_parent(tmp_path: Path) -> Path:
    parent = tmp_path / "readonly"
    if _can_mount() and _mount(parent, "size=64k,ro"):
        return parent
    parent.mkdir()
    parent.chmod(0o555)
    return parent


@pytest.mark.parametrize("command", [["status"], ["crawl", "http://127.0.0.1:9/x"], ["import", "items.jsonl"]])
def test_a_files_url_that_cannot_be_made_says_so(tmp_path, command):
    parent = _readonly_parent(tmp_path)
    try:
        home = tmp_path / "home"
        write_settings(home, f'files_url = "{(parent / "files").as_uri()}"\n')
        (tmp_path / "items.jsonl").write_text('{"id": "1", "title": "t", "text": "x", "published_at": "2026-01-01"}\n')
        err = failed(run_cli(*command, "--home", home, cwd=tmp_path), 1)
        assert "files_url" in err and str(parent / "files") in err
        assert "OSError" not in err and "Errno" not in err
    finally:
        if parent.is_mount():
            _umount(parent)
        else:
            parent.chmod(0o755)
