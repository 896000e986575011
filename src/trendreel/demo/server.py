"""Serve a generated site folder on 127.0.0.1 the way a real web server would.

Static files only, with the HTTP behaviour a crawler meets in the wild: correct Content-Type,
strong ETag and Last-Modified with 304 answers, HEAD, single byte ranges (206/416), 404 for
missing files and 403 for paths that try to leave the folder. Feeds, sitemaps and robots.txt
mention `SITE_ORIGIN`; it is rewritten to the address being served.

By hand: `python -m trendreel.demo.server DIR [--port P] [--build] [--print-url]`.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import mimetypes
import os
import sys
import threading
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

from trendreel.demo.site import SITE_ORIGIN, build_sample_site
from trendreel.errors import ConfigError

__all__ = ["serve_site", "main"]

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
# Text files whose absolute URLs name the placeholder origin and are rewritten when served.
REWRITTEN_SUFFIXES = {".xml", ".txt"}


def _content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class _SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "trendreel-demo/1"
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    root: Path
    base_url: str
    _cache: dict
    _lock: threading.Lock

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class names it so
        """Stay quiet: the demo and the tests do not want access logs."""

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    # -- resolution

    def _resolve(self) -> Path | int:
        raw = self.path
        if raw.startswith(("http://", "https://")):
            raw = urlsplit(raw).path or "/"
        raw = raw.split("#", 1)[0].split("?", 1)[0]
        path = unquote(raw)
        if not path.startswith("/") or "\x00" in path or "\\" in path:
            return HTTPStatus.BAD_REQUEST
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            return HTTPStatus.FORBIDDEN
        target = self.root.joinpath(*parts) if parts else self.root
        try:
            resolved = target.resolve()
        except OSError:
            return HTTPStatus.NOT_FOUND
        if resolved != self.root and self.root not in resolved.parents:
            return HTTPStatus.FORBIDDEN
        if resolved.is_dir():
            resolved = resolved / "index.html"
        if not resolved.is_file():
            return HTTPStatus.NOT_FOUND
        return resolved

    def _load(self, path: Path) -> tuple[bytes | None, str, int, float]:
        """(body if held in memory, strong ETag, size, mtime) for a file, cached by mtime and size."""
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._cache.get(key)
        if hit:
            return hit
        data = path.read_bytes()
        body: bytes | None = None
        if path.suffix.lower() in REWRITTEN_SUFFIXES:
            data = data.replace(SITE_ORIGIN.encode(), self.base_url.encode())
            body = data
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        entry = (body, etag, len(data), st.st_mtime)
        with self._lock:
            self._cache[key] = entry
        return entry

    # -- answering

    def _serve(self, *, send_body: bool) -> None:
        target = self._resolve()
        if isinstance(target, int):
            self.send_error(target)
            return
        body, etag, size, mtime = self._load(target)
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        if self._not_modified(etag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return
        start, end = 0, size - 1
        status = HTTPStatus.OK
        wanted = self._range(size, etag, mtime)
        if wanted == "unsatisfiable":
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if wanted is not None:
            start, end = wanted
            status = HTTPStatus.PARTIAL_CONTENT
        length = max(0, end - start + 1)
        self.send_response(status)
        self.send_header("Content-Type", _content_type(target))
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Accept-Ranges", "bytes")
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not send_body or length == 0:
            return
        if body is not None:
            self.wfile.write(body[start:end + 1])
            return
        with target.open("rb") as fh:
            fh.seek(start)
            left = length
            while left > 0:
                chunk = fh.read(min(left, 256 * 1024))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            # GET uses the weak comparison: W/"x" matches "x".
            return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(mtime) <= since
        return False

    def _range(self, size: int, etag: str, mtime: float) -> tuple[int, int] | str | None:
        header = self.headers.get("Range")
        if not header or not header.strip().lower().startswith("bytes="):
            return None
        if_range = self.headers.get("If-Range")
        if if_range:
            if if_range.startswith(('"', "W/")):
                if if_range != etag:
                    return None
            elif if_range != email.utils.formatdate(mtime, usegmt=True):
                return None
        spec = header.split("=", 1)[1].strip()
        if "," in spec:
            return None  # several ranges: answer with the whole file, which HTTP allows
        first, _, last = spec.partition("-")
        try:
            if first == "":
                n = int(last)
                if n <= 0:
                    return "unsatisfiable"
                return max(0, size - n), size - 1
            start = int(first)
            end = int(last) if last else size - 1
        except ValueError:
            return None
        if start >= size or start < 0:
            return "unsatisfiable"
        if end < start:
            return None
        return start, min(end, size - 1)


@contextmanager
def serve_site(root: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `root` in a background thread; yields the base URL, e.g. "http://127.0.0.1:PORT"."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError(f"cannot serve {root.name}: not a folder")
    handler = type("SiteHandler", (_SiteHandler,), {
        "root": root, "base_url": "", "_cache": {}, "_lock": threading.Lock(),
    })
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    handler.base_url = f"http://{shown}:{bound_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="trendreel-demo-server", daemon=True)
    thread.start()
    try:
        yield handler.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    """Serve a site folder by hand until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m trendreel.demo.server",
                                     description="Serve a generated trendreel sample site on 127.0.0.1.")
    parser.add_argument("dir", type=Path, help="folder to serve")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--build", action="store_true", help="build the sample site into DIR first if needed")
    parser.add_argument("--print-url", action="store_true",
                        help="print only the base URL, as the first line on stdout (for scripts)")
    args = parser.parse_args(argv)
    if args.build:
        manifest = build_sample_site(args.dir)
        if not args.print_url:
            print(f"sample site: {len(manifest.articles)} articles", flush=True)
    try:
        with serve_site(args.dir, host=args.host, port=args.port) as base:
            if args.print_url:
                print(base, flush=True)
            else:
                print(f"serving {os.fspath(args.dir)} at {base}/index.html  (Ctrl-C to stop)", flush=True)
            threading.Event().wait()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
