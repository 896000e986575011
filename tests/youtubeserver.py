"""A local server that speaks the YouTube Data API v3 as the official client uses it, for tests.

Resumable uploads (POST ...?uploadType=resumable → 200 + Location; PUT chunks with Content-Range →
308 + Range, the last one 200 with the video resource; PUT with `Content-Range: bytes */N` asks how far
a session got), thumbnails.set, videos.list with statistics tests set, and Google's OAuth 2.0 web-server
flow: a consent page at /o/oauth2/auth whose "Allow" sends the browser back to the redirect URI with a
code and the state, and the token endpoint that exchanges that code (grant_type=authorization_code) or a
refresh token. Bearer tokens are checked: only tokens this server issued are accepted.

Faults to inject: `fail_next_chunks(n, status=503)`, `drop_next_chunk()` (the connection is closed half
way through a chunk), `expire_token()` (the current token gets 401, the client refreshes), `exceed_quota()`
(the next videos.insert answers 403 quotaExceeded), `chunk_delay_s` (slow chunks, to kill a client
mid-upload) and `complete_delay_s` (the last chunk is stored, then the answer waits: a crash between
"uploaded" and "recorded").

HTTPS by default, with a local CA from trustme (`server.ca_file` for HTTPLIB2_CA_CERTS); `tls=False`
serves plain HTTP.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse


class YouTubeServer:
    def __init__(self, *, tls: bool = True, workdir: Path | None = None):
        self.tls = tls
        self.lock = threading.Lock()
        self.videos: dict[str, dict] = {}  # id -> {"body", "data", "session", "thumbnail", "statistics"}
        self.sessions: dict[str, dict] = {}  # upload id -> {"body", "size", "data", "video_id"}
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.tokens: set[str] = set()
        self.refresh_token = "rt-" + secrets.token_hex(8)
        self.client_id = "123456789-test.apps.googleusercontent.com"
        self.client_secret = "cs-" + secrets.token_hex(8)
        self.refreshes = 0
        self.codes: dict[str, str] = {}  # authorization code -> the redirect URI it was issued for
        self.consents: list[dict] = []  # the query of each consent page shown
        self.inserts = 0
        self.chunk_puts = 0
        self._fail: list[int] = []
        self._drop = 0
        self._expire = False
        self._quota = False
        self.chunk_delay_s = 0.0
        self.complete_delay_s = 0.0
        self.ca_file: str | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._workdir = workdir

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "YouTubeServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        server = self

        class Handler(_Handler):
            yt = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if self.tls:
            import tempfile

            import trustme

            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1")
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(ctx)
            folder = Path(self._workdir or tempfile.mkdtemp(prefix="ytserver-"))
            folder.mkdir(parents=True, exist_ok=True)
            self.ca_file = str(folder / "ca.pem")
            ca.cert_pem.write_to_path(self.ca_file)
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/"

    def issue_token(self) -> str:
        token = "at-" + secrets.token_hex(12)
        with self.lock:
            self.tokens.add(token)
        return token

    def authorized_user(self, *, token: str | None = None) -> dict:
        """An authorized-user JSON as google-auth writes it, pointing at this server's token endpoint."""
        return {"type": "authorized_user", "token": token or self.issue_token(), "refresh_token": self.refresh_token,
                "client_id": self.client_id, "client_secret": self.client_secret, "token_uri": self.root + "token",
                "scopes": ["https://www.googleapis.com/auth/youtube.upload"]}

    def web_client_secrets(self) -> dict:
        """An OAuth client JSON of type Web application, as the Google Cloud console downloads it."""
        return {"web": {"client_id": self.client_id, "client_secret": self.client_secret, "project_id": "trendreel-test",
                        "auth_uri": self.root + "o/oauth2/auth", "token_uri": self.root + "token",
                        "redirect_uris": []}}

    # ---- faults and facts --------------------------------------------------------------------

    def fail_next_chunks(self, n: int, status: int = 503) -> None:
        with self.lock:
            self._fail += [status] * n

    def drop_next_chunk(self, n: int = 1) -> None:
        with self.lock:
            self._drop += n

    def expire_token(self) -> None:
        with self.lock:
            self._expire = True

    def exceed_quota(self) -> None:
        with self.lock:
            self._quota = True

    def set_statistics(self, video_id: str, *, views: int = 0, likes: int = 0, comments: int = 0) -> None:
        with self.lock:
            self.videos[video_id]["statistics"] = {"viewCount": str(views), "likeCount": str(likes),
                                                   "favoriteCount": "0", "commentCount": str(comments)}

    def received_bytes(self) -> int:
        with self.lock:
            return sum(len(s["data"]) for s in self.sessions.values())

    def resource(self, video_id: str) -> dict:
        v = self.videos[video_id]
        status = {**v["body"].get("status", {}), "uploadStatus": "uploaded"}
        return {"kind": "youtube#video", "etag": "e-" + video_id, "id": video_id, "snippet": v["body"].get("snippet", {}),
                "status": status}


_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    yt: YouTubeServer

    def log_message(self, *args):  # quiet
        pass

    # ---- helpers -----------------------------------------------------------------------------

    def _send(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.yt.lock:
            self.yt.requests.append((self.command, urlparse(self.path).path, status))

    def _error(self, status: int, reason: str, message: str) -> None:
        self._send(status, {"error": {"code": status, "message": message,
                                      "errors": [{"message": message, "domain": "youtube.quota" if reason == "quotaExceeded" else "global",
                                                  "reason": reason}]}})

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        with self.yt.lock:
            if self.yt._expire and token in self.yt.tokens:
                self.yt._expire = False
                self.yt.tokens.discard(token)
                ok = False
            else:
                ok = token in self.yt.tokens
        if not ok:
            self._body()
            self._error(401, "authError", "Request had invalid authentication credentials.")
        return ok

    def _range_headers(self, session: dict) -> dict:
        n = len(session["data"])
        return {"Range": f"bytes=0-{n - 1}"} if n else {}

    # ---- routes ------------------------------------------------------------------------------

    def do_POST(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/token":
            form = parse_qs(self._body().decode())
            if form.get("grant_type", [""])[0] == "authorization_code":
                return self._exchange(form)
            if form.get("refresh_token", [""])[0] != self.yt.refresh_token or form.get("client_secret", [""])[0] != self.yt.client_secret:
                return self._send(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            with self.yt.lock:
                self.yt.refreshes += 1
            return self._send(200, {"access_token": self.yt.issue_token(), "expires_in": 3599, "token_type": "Bearer",
                                    "scope": "https://www.googleapis.com/auth/youtube.upload"})
        if not self._authorized():
            return
        if url.path == "/upload/youtube/v3/videos" and q.get("uploadType") == ["resumable"]:
            body = json.loads(self._body() or b"{}")
            with self.yt.lock:
                quota, self.yt._quota = self.yt._quota, False
            if quota:
                return self._error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.")
            size = self.headers.get("X-Upload-Content-Length")
            upload_id = secrets.token_urlsafe(12)
            with self.yt.lock:
                self.yt.inserts += 1
                self.yt.sessions[upload_id] = {"body": body, "size": int(size) if size else None, "data": bytearray(),
                                               "video_id": None, "part": q.get("part", [""])[0]}
            host = self.headers.get("Host")
            scheme = "https" if self.yt.tls else "http"
            return self._send(200, None, {"Location": f"{scheme}://{host}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"})
        if url.path in ("/upload/youtube/v3/thumbnails/set", "/youtube/v3/thumbnails/set"):
            data = self._body()
            vid = q.get("videoId", [""])[0]
            with self.yt.lock:
                known = vid in self.yt.videos
                if known:
                    self.yt.videos[vid]["thumbnail"] = data
            if not known:
                return self._error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
            return self._send(200, {"kind": "youtube#thumbnailSetResponse",
                                    "items": [{"default": {"url": f"{self.yt.root}vi/{vid}/default.jpg", "width": 120, "height": 90}}]})
        self._body()
        self._error(404, "notFound", f"no such endpoint {url.path}")

    def do_PUT(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        upload_id = q.get("upload_id", [""])[0]
        if url.path != "/upload/youtube/v3/videos" or not upload_id:
            self._body()
            return self._error(404, "notFound", "no such upload")
        if not self._authorized():
            return
        with self.yt.lock:
            session = self.yt.sessions.get(upload_id)
        if session is None:
            self._body()
            return self._error(404, "notFound", "no such upload session")
        crange = self.headers.get("Content-Range", "")
        if crange.startswith("bytes */"):  # how far did the session get?
            self._body()
            if session["video_id"]:
                return self._send(200, self.yt.resource(session["video_id"]))
            return self._send(308, None, self._range_headers(session))
        m = _RANGE.fullmatch(crange)
        if not m:
            self._body()
            return self._error(400, "badContent", f"bad Content-Range {crange!r}")
        start, end, total = int(m.group(1)), int(m.group(2)), m.group(3)
        n = int(self.headers.get("Content-Length") or 0)
        with self.yt.lock:
            self.yt.chunk_puts += 1
            fail = self.yt._fail.pop(0) if self.yt._fail else None
            drop = self.yt._drop > 0
            if drop:
                self.yt._drop -= 1
        if self.yt.chunk_delay_s:
            time.sleep(self.yt.chunk_delay_s)
        if drop:  # read half the chunk, keep it (as a server that persisted it would), then hang up
            part = self.rfile.read(n // 2)
            with self.yt.lock:
                if start == len(session["data"]):
                    session["data"] += part
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        data = self._body()
        if fail:
            return self._error(fail, "backendError", "Backend Error")
        if len(data) != end - start + 1:
            return self._error(400, "badContent", f"chunk has {len(data)} bytes, Content-Range says {end - start + 1}")
        with self.yt.lock:
            have = len(session["data"])
            if start > have:
                self.yt.requests.append(("PUT", url.path, 400))
                bad = True
            else:
                bad = False
                del session["data"][start:]
                session["data"] += data
        if bad:
            return self._error(400, "badContent", f"chunk starts at {start}, the session has {have} bytes")
        if total != "*" and len(session["data"]) == int(total):
            with self.yt.lock:
                vid = session["video_id"] or secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")[:11]
                session["video_id"] = vid
                self.yt.videos.setdefault(vid, {"body": session["body"], "data": bytes(session["data"]),
                                                "session": upload_id, "thumbnail": None,
                                                "statistics": {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"}})
            if self.yt.complete_delay_s:
                time.sleep(self.yt.complete_delay_s)
            return self._send(200, self.yt.resource(vid))
        return self._send(308, None, self._range_headers(session))

    def _exchange(self, form: dict):
        code, redirect = form.get("code", [""])[0], form.get("redirect_uri", [""])[0]
        with self.yt.lock:
            issued_for = self.yt.codes.pop(code, None)  # a code is good once
        if form.get("client_secret", [""])[0] != self.yt.client_secret or form.get("client_id", [""])[0] != self.yt.client_id:
            return self._send(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if issued_for is None:
            return self._send(400, {"error": "invalid_grant", "error_description": "Malformed auth code."})
        if issued_for != redirect:
            return self._send(400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"})
        return self._send(200, {"access_token": self.yt.issue_token(), "expires_in": 3599, "token_type": "Bearer",
                                "refresh_token": self.yt.refresh_token,
                                "scope": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly"})

    def _consent(self, q: dict):
        """Google's consent page, reduced to its one decision: Allow sends the browser back with a code."""
        from html import escape
        from urllib.parse import urlencode

        one = {k: v[0] for k, v in q.items()}
        if one.get("client_id") != self.yt.client_id or one.get("response_type") != "code" or not one.get("redirect_uri"):
            return self._error(400, "invalid_request", "Error 400: invalid_request")
        with self.yt.lock:
            self.yt.consents.append(one)
        allow = "/o/oauth2/approve?" + urlencode({"redirect_uri": one["redirect_uri"], "state": one.get("state", "")})
        deny = one["redirect_uri"] + "?" + urlencode({"error": "access_denied", "state": one.get("state", "")})
        page = (f"<!doctype html><title>Sign in - Google Accounts</title><h1>trendreel wants to access your Google Account</h1>"
                f"<p id='scopes'>{escape(one.get('scope', ''))}</p><a id='allow' href='{escape(allow)}'>Allow</a> "
                f"<a id='deny' href='{escape(deny)}'>Cancel</a>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def _approve(self, q: dict):
        from urllib.parse import urlencode

        code = "4/" + secrets.token_urlsafe(16)
        redirect = q.get("redirect_uri", [""])[0]
        with self.yt.lock:
            self.yt.codes[code] = redirect
        self.send_response(302)
        self.send_header("Location", redirect + "?" + urlencode({"state": q.get("state", [""])[0], "code": code,
                                                                  "scope": "https://www.googleapis.com/auth/youtube.upload"}))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/favicon.ico":  # what a browser asks of the consent page's site
            return self._send(204)
        if url.path == "/o/oauth2/auth":
            return self._consent(q)
        if url.path == "/o/oauth2/approve":
            return self._approve(q)
        if url.path != "/youtube/v3/videos":
            return self._error(404, "notFound", f"no such endpoint {url.path}")
        if not self._authorized():
            return
        ids = [i for v in q.get("id", []) for i in v.split(",") if i]
        parts = {p for v in q.get("part", ["id"]) for p in v.split(",")}
        items = []
        with self.yt.lock:
            for vid in ids:
                if vid not in self.yt.videos:
                    continue
                item = {"kind": "youtube#video", "etag": "e-" + vid, "id": vid}
                res = self.yt.resource(vid)
                if "snippet" in parts:
                    item["snippet"] = res["snippet"]
                if "status" in parts:
                    item["status"] = res["status"]
                if "statistics" in parts:
                    item["statistics"] = dict(self.yt.videos[vid]["statistics"])
                items.append(item)
        self._send(200, {"kind": "youtube#videoListResponse", "etag": "list", "items": items,
                         "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})
