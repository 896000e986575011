"""A local server that speaks TikTok's API v2 as trendreel uses it, for tests.

Content Posting API: creator info (`/v2/post/publish/creator_info/query/`), direct post init
(`/v2/post/publish/video/init/`, FILE_UPLOAD; video_size, chunk_size and total_chunk_count checked by
TikTok's chunk rules), the chunks as `PUT` to the upload URL (Content-Type and Content-Range checked, in
order, whole chunks: 206 for more to come, 201 at the end), status fetch
(`/v2/post/publish/status/fetch/`: PROCESSING_UPLOAD with uploaded_bytes, then PUBLISH_COMPLETE with
the post id when the post is not SELF_ONLY, or FAILED with a fail_reason). Display API: the video
query (`/v2/video/query/?fields=...`, at most 20 ids, only the token's own videos). OAuth
(`/v2/oauth/token/`): authorization codes and refresh tokens (a refresh rotates the refresh token).
Bearer tokens are checked: only tokens this server issued and did not expire are accepted. Answers
carry TikTok's envelope {"data": ..., "error": {"code", "message", "log_id"}}.

Faults to inject: `fail_next_chunks(n, status=503)`, `drop_next_chunk(n)` (the connection is closed half
way through a chunk; nothing of it is kept), `lose_next_answer(n)` (the chunk is kept, its answer lost: the
client's re-send gets 416), `expire_token()` (the current tokens get 401
access_token_invalid), `limit_next(code, status, path=)` (the next API call answers that error: 429
rate_limit_exceeded, 403 spam_risk_too_many_posts, ...), `fail_next_post(reason)` (the next upload ends
FAILED), `chunk_delay_s` (slow chunks), `complete_delay_s` (the last chunk is stored and the post made,
then the answer waits: a crash between "posted" and "recorded"). `audited = False` makes init refuse
any privacy level but SELF_ONLY, as TikTok does for an unaudited app.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64 * 1024 * 1024
MAX_LAST_CHUNK = 128 * 1024 * 1024
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
VIDEO_TYPES = {"video/mp4", "video/quicktime", "video/webm"}


class TikTokServer:
    def __init__(self):
        self.lock = threading.RLock()
        self.client_key = "ck" + secrets.token_hex(6)
        self.client_secret = "cs" + secrets.token_hex(12)
        self.open_id = "oid-" + secrets.token_hex(6)
        self.tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.codes: dict[str, str] = {}  # code -> redirect_uri
        self.creator = {"creator_avatar_url": "https://example.test/a.jpg", "creator_username": "trendreel.news",
                        "creator_nickname": "Trendreel News",
                        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
                        "comment_disabled": False, "duet_disabled": False, "stitch_disabled": True,
                        "max_video_post_duration_sec": 600}
        self.audited = True
        self.posts: dict[str, dict] = {}  # publish_id -> init body, data, status, post id, ...
        self.videos: dict[str, dict] = {}  # post id -> {"publish_id", "open_id", "stats"}
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.inits = 0
        self.chunk_puts = 0
        self.refreshes = 0
        self.processing_polls = 1  # status fetches that still say PROCESSING_UPLOAD after the last chunk
        self.chunk_delay_s = 0.0
        self.complete_delay_s = 0.0
        self._fail: list[int] = []
        self._drop = 0
        self._lose = 0
        self._limits: list[tuple[str, int, str | None]] = []
        self._fail_post: str | None = None
        self._httpd: _Server | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "TikTokServer":
        server = self

        class Handler(_Handler):
            tt = server

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    # ---- credentials -------------------------------------------------------------------------

    def issue_tokens(self) -> dict:
        access, refresh = "act." + secrets.token_hex(16), "rft." + secrets.token_hex(16)
        with self.lock:
            self.tokens.add(access)
            self.refresh_tokens.add(refresh)
        return {"access_token": access, "expires_in": 86400, "open_id": self.open_id, "refresh_expires_in": 31536000,
                "refresh_token": refresh, "scope": "user.info.basic,video.publish,video.list", "token_type": "Bearer"}

    def credentials(self, *, with_app_keys: bool = True, **override) -> dict:
        """Credentials as the sign-in flow stores them."""
        t = self.issue_tokens()
        creds = {"access_token": t["access_token"], "refresh_token": t["refresh_token"], "open_id": self.open_id,
                 "scope": t["scope"], "expires_at": "2999-01-01T00:00:00+00:00"}
        if with_app_keys:
            creds.update(client_key=self.client_key, client_secret=self.client_secret)
        return {**creds, **override}

    def issue_code(self, redirect_uri: str) -> str:
        code = "code-" + secrets.token_hex(8)
        with self.lock:
            self.codes[code] = redirect_uri
        return code

    # ---- faults and facts --------------------------------------------------------------------

    def fail_next_chunks(self, n: int, status: int = 503) -> None:
        with self.lock:
            self._fail += [status] * n

    def drop_next_chunk(self, n: int = 1) -> None:
        with self.lock:
            self._drop += n

    def lose_next_answer(self, n: int = 1) -> None:
        """The next chunk is stored, then the connection closes before the answer."""
        with self.lock:
            self._lose += n

    def expire_token(self) -> None:
        with self.lock:
            self.tokens.clear()

    def limit_next(self, code: str = "rate_limit_exceeded", status: int = 429, *, path: str | None = None) -> None:
        """The next API call (to `path`, or any) answers this limit error."""
        with self.lock:
            self._limits.append((code, status, path))

    def fail_next_post(self, reason: str = "file_format_check_failed") -> None:
        with self.lock:
            self._fail_post = reason

    def set_stats(self, post_id: str, *, views: int, likes: int, comments: int, shares: int = 0) -> None:
        with self.lock:
            self.videos[post_id]["stats"] = {"view_count": views, "like_count": likes, "comment_count": comments,
                                             "share_count": shares}

    def add_video(self, post_id: str, **stats) -> None:
        """A video already on the account (as if posted earlier), with its counts."""
        with self.lock:
            self.videos[post_id] = {"publish_id": None, "open_id": self.open_id, "stats": {}}
        self.set_stats(post_id, **stats)

    def published(self) -> list[dict]:
        """The posts that went up (one per completed upload)."""
        with self.lock:
            return [p for p in self.posts.values() if p["post_made"]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client killed mid-answer is part of the tests
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tt: TikTokServer

    def log_message(self, *args):  # quiet
        pass

    # ---- helpers -----------------------------------------------------------------------------

    def _send(self, status: int, body: dict | None, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.tt.lock:
            self.tt.requests.append((self.command, urlparse(self.path).path, status))

    def _answer(self, data: dict | None = None, *, status: int = 200, code: str = "ok", message: str = "") -> None:
        self._send(status, {"data": data or {}, "error": {"code": code, "message": message,
                                                          "log_id": secrets.token_hex(8).upper()}})

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _open_id(self) -> str | None:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        with self.tt.lock:
            ok = token in self.tt.tokens
        if not ok:
            self._answer(status=401, code="access_token_invalid",
                         message="The access token is invalid or not found in the request.")
            return None
        return self.tt.open_id

    def _limited(self) -> bool:
        path = urlparse(self.path).path
        with self.tt.lock:
            limit = next((x for x in self.tt._limits if x[2] in (None, path)), None)
            if limit:
                self.tt._limits.remove(limit)
        if limit:
            self._answer(status=limit[1], code=limit[0], message="limit reached")
        return bool(limit)

    # ---- routes ------------------------------------------------------------------------------

    def do_POST(self):
        url = urlparse(self.path)
        raw = self._body()
        if url.path == "/v2/oauth/token/":
            return self._token(parse_qs(raw.decode()))
        if self._open_id() is None or self._limited():
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._answer(status=400, code="invalid_params", message="body is not JSON")
        routes = {"/v2/post/publish/creator_info/query/": self._creator_info, "/v2/post/publish/video/init/": self._init,
                  "/v2/post/publish/status/fetch/": self._status, "/v2/video/query/": self._video_query}
        handler = routes.get(url.path)
        if handler is None:
            return self._answer(status=404, code="not_found", message=f"no endpoint {url.path}")
        return handler(body, parse_qs(url.query))

    def _token(self, form: dict) -> None:
        one = {k: v[0] for k, v in form.items()}
        tt = self.tt
        if one.get("client_key") != tt.client_key or one.get("client_secret") != tt.client_secret:
            return self._send(401, {"error": "invalid_client", "error_description": "Client key or secret is incorrect.",
                                    "log_id": "x"})
        grant = one.get("grant_type")
        with tt.lock:
            if grant == "refresh_token":
                ok = one.get("refresh_token") in tt.refresh_tokens
                if ok:
                    tt.refresh_tokens.discard(one["refresh_token"])  # rotated: the old one stops working
                    tt.refreshes += 1
            elif grant == "authorization_code":
                ok = tt.codes.pop(one.get("code", ""), None) == one.get("redirect_uri") and bool(one.get("redirect_uri"))
            else:
                ok = False
        if not ok:
            return self._send(400, {"error": "invalid_grant", "error_description": "Authorization code or refresh token "
                                    "is expired or invalid.", "log_id": "x"})
        self._send(200, tt.issue_tokens())

    def _creator_info(self, body: dict, query: dict) -> None:
        with self.tt.lock:
            creator = dict(self.tt.creator)
        self._answer(creator)

    def _init(self, body: dict, query: dict) -> None:
        tt = self.tt
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        if source.get("source") != "FILE_UPLOAD":
            return self._answer(status=400, code="invalid_params", message="source must be FILE_UPLOAD here")
        size, chunk, count = (int(source.get(k) or 0) for k in ("video_size", "chunk_size", "total_chunk_count"))
        problem = _chunk_problem(size, chunk, count)
        if problem:
            return self._answer(status=400, code="invalid_params", message=problem)
        level = info.get("privacy_level")
        with tt.lock:
            options = list(tt.creator["privacy_level_options"])
            audited = tt.audited
        if not audited and level != "SELF_ONLY":
            return self._answer(status=403, code="unaudited_client_can_only_post_to_private_accounts",
                                message="Please review our integration guidelines")
        if level not in options:
            return self._answer(status=400, code="privacy_level_option_mismatch", message=f"{level} not allowed")
        title = info.get("title") or ""
        if len(title.encode("utf-16-le")) // 2 > 2200:
            return self._answer(status=400, code="invalid_params", message="title longer than 2200 UTF-16 runes")
        publish_id = "v_pub_file~v2-1." + str(secrets.randbelow(10**18))
        upload_id, upload_token = secrets.token_hex(8), secrets.token_urlsafe(12)
        with tt.lock:
            tt.inits += 1
            tt.posts[publish_id] = {"post_info": info, "source_info": source, "data": bytearray(), "chunks": 0,
                                    "upload_id": upload_id, "upload_token": upload_token, "post_made": False,
                                    "post_id": None, "status": "PROCESSING_UPLOAD", "polls": 0, "fail_reason": None}
        host = self.headers.get("Host")
        self._answer({"publish_id": publish_id,
                      "upload_url": f"http://{host}/upload/video/?upload_id={upload_id}&upload_token={upload_token}"})

    def _status(self, body: dict, query: dict) -> None:
        tt = self.tt
        with tt.lock:
            post = tt.posts.get(str(body.get("publish_id")))
            if post is not None and post["post_made"] and post["status"] == "PROCESSING_UPLOAD":
                post["polls"] += 1
                if post["polls"] > tt.processing_polls:
                    post["status"] = "PUBLISH_COMPLETE"
            answer = None if post is None else {
                "status": post["status"], "uploaded_bytes": len(post["data"]),
                "publicaly_available_post_id": [int(post["post_id"])] if post["post_id"] and post["status"] == "PUBLISH_COMPLETE" else []}
            if post is not None and post["fail_reason"]:
                answer["fail_reason"] = post["fail_reason"]
        if answer is None:
            return self._answer(status=400, code="invalid_publish_id", message="publish_id not found")
        self._answer(answer)

    def _video_query(self, body: dict, query: dict) -> None:
        fields = [f for v in query.get("fields", []) for f in v.split(",") if f]
        ids = ((body.get("filters") or {}).get("video_ids")) or []
        if not fields:
            return self._answer(status=400, code="invalid_params", message="fields is required")
        if len(ids) > 20:
            return self._answer(status=400, code="invalid_params", message="at most 20 video_ids")
        videos = []
        with self.tt.lock:
            for vid in ids:
                v = self.tt.videos.get(str(vid))
                if v is None or v["open_id"] != self.tt.open_id:
                    continue
                item = {"id": str(vid), **v["stats"]}
                videos.append({k: item[k] for k in fields if k in item})
        self._answer({"videos": videos, "cursor": 0, "has_more": False})

    def do_PUT(self):
        tt = self.tt
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        with tt.lock:
            found = [(pid, p) for pid, p in tt.posts.items()
                     if p["upload_id"] == q.get("upload_id") and p["upload_token"] == q.get("upload_token")]
        if url.path != "/upload/video/" or not found:
            self.rfile.read(n)
            return self._answer(status=404, code="not_found", message="no such upload")
        publish_id, post = found[0]
        if self.headers.get("Content-Type") not in VIDEO_TYPES:
            self.rfile.read(n)
            return self._answer(status=400, code="invalid_params", message="Content-Type must be a video type")
        m = _RANGE.fullmatch(self.headers.get("Content-Range", ""))
        size, chunk, count = (int(post["source_info"][k]) for k in ("video_size", "chunk_size", "total_chunk_count"))
        with tt.lock:
            tt.chunk_puts += 1
            fail = tt._fail.pop(0) if tt._fail else None
            drop = tt._drop > 0
            if drop:
                tt._drop -= 1
            index = post["chunks"]
        if tt.chunk_delay_s:
            time.sleep(tt.chunk_delay_s)
        if drop:  # read half the chunk, then hang up: the chunk is not kept
            self.rfile.read(n // 2)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        data = self.rfile.read(n)
        if fail:
            return self._answer(status=fail, code="internal_error", message="Something went wrong")
        expected_start = index * chunk
        expected_end = size - 1 if index == count - 1 else expected_start + chunk - 1
        if index >= count or not m or (int(m.group(1)), int(m.group(2)), int(m.group(3))) != (expected_start, expected_end, size):
            return self._send(416, {"error": {"code": "invalid_params", "message": f"expected Content-Range bytes "
                                              f"{expected_start}-{expected_end}/{size}", "log_id": "x"}},
                              {"Content-Range": f"bytes 0-{expected_start - 1}/{size}" if expected_start else f"bytes */{size}"})
        if len(data) != expected_end - expected_start + 1:
            return self._answer(status=400, code="invalid_params", message="body length and Content-Range differ")
        with tt.lock:
            post["data"] += data
            post["chunks"] += 1
            last = post["chunks"] == count
            lose = tt._lose > 0
            if lose:
                tt._lose -= 1
            if last:
                failed, tt._fail_post = tt._fail_post, None
                if failed:
                    post["status"], post["fail_reason"] = "FAILED", failed
                else:  # the post is made now; what the client hears about it comes after
                    post["post_made"] = True
                    if post["post_info"].get("privacy_level") != "SELF_ONLY":
                        post["post_id"] = str(7_300_000_000_000_000_000 + secrets.randbelow(10**17))
                        tt.videos[post["post_id"]] = {"publish_id": publish_id, "open_id": tt.open_id,
                                                      "stats": {"view_count": 0, "like_count": 0, "comment_count": 0,
                                                                "share_count": 0}}
        if lose:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if last:
            if tt.complete_delay_s:
                time.sleep(tt.complete_delay_s)
            return self._send(201, None)
        return self._send(206, None, {"Content-Range": f"bytes {expected_start}-{expected_end}/{size}"})


def _chunk_problem(size: int, chunk: int, count: int) -> str | None:
    """What breaks TikTok's chunk rules (media transfer guide), or None."""
    if size <= 0 or chunk <= 0 or count <= 0:
        return "video_size, chunk_size and total_chunk_count must be positive"
    if size < MIN_CHUNK and (chunk != size or count != 1):
        return "a video under 5 MB goes in one chunk of its whole size"
    if count == 1:
        return None if chunk == size and size <= MAX_CHUNK else "one chunk must hold the whole video (at most 64 MB)"
    if not MIN_CHUNK <= chunk <= MAX_CHUNK:
        return "chunk_size must be 5-64 MB"
    if count != size // chunk or count > 1000:
        return "total_chunk_count must be video_size // chunk_size (at most 1000)"
    if size - chunk * (count - 1) > MAX_LAST_CHUNK:
        return "the last chunk may be at most 128 MB"
    return None
