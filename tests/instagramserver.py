"""A local server that speaks the Instagram Graph API (Facebook Login) and Meta's rupload host, for tests.

Graph API under /v21.0/: the publishing limit (`/{ig}/content_publishing_limit`), REELS containers
(`POST /{ig}/media` with upload_type=resumable → id and rupload uri), container status
(`GET /{container}?fields=status_code,status,video_status`: IN_PROGRESS for `processing_polls`
checks after the upload, then FINISHED; PUBLISHED once published), `POST /{ig}/media_publish`,
recent media (`GET /{ig}/media`), a post's permalink, media insights, and the OAuth side: code
exchange and long-lived token exchange/refresh (`/oauth/access_token`), the Page list with the linked
Instagram account (`/me/accounts`) and the token check (`/debug_token`). Errors have Graph's shape
({"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}).

rupload: `POST /ig-api-upload/v21.0/{container}` with `Authorization: OAuth <token>`, `offset` and
`file_size` headers; the bytes must start where the container's data ends.

Only tokens this server issued are accepted. Faults: `fail_next(n, status=500)` (Graph calls and
uploads answer a 5xx), `drop_next_upload()` (half the bytes are kept, then the connection is cut),
`expire_token()` (every issued token now gets code 190), `rate_limit_next(code)` (a call rate limit),
`reach_publishing_limit()` (quota_usage = quota_total), `limit_next_publish()` (media_publish answers code 9/2207042), `fail_processing(reason)`
(the next container ends in ERROR), `upload_block_delay_s` (a slow upload,
to kill a publisher in the middle), `drop_publish_answer()` (the post is made, the answer lost), `publish_delay_s` (media_publish makes the post, then waits before
answering: a crash between "posted" and "recorded").
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

VERSION = "v21.0"


class InstagramServer:
    def __init__(self):
        self.lock = threading.Lock()
        self.app_id = "1234567890"
        self.app_secret = "as-" + secrets.token_hex(8)
        self.ig_user_id = "17841400000000001"
        self.username = "harbournews"
        self.tokens: dict[str, dict] = {}  # token -> {"kind": short|long, "expires": datetime}
        self.codes: dict[str, str] = {}  # authorization code -> redirect_uri
        self.containers: dict[str, dict] = {}
        self.media: dict[str, dict] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.publish_times: list[datetime] = []
        self.quota_total = 50
        self.processing_polls = 1
        self.publish_delay_s = 0.0
        self.upload_block_delay_s = 0.0
        self.exchanges = 0
        self.uploads = 0
        self._fail: list[int] = []
        self._drop = 0
        self._expired = False
        self._limit_publish = False
        self._processing_error: str | None = None
        self._rate_limit: int | None = None
        self._drop_publish = False
        self._httpd: ThreadingHTTPServer | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "InstagramServer":
        server = self

        class Handler(_Handler):
            ig = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    @property
    def api_root(self) -> str:
        return self.root + VERSION + "/"

    def issue_token(self, kind: str = "long", *, days: float = 60) -> str:
        token = ("EAAL" if kind == "long" else "EAAS") + secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = {"kind": kind, "expires": datetime.now(timezone.utc) + timedelta(days=days)}
        return token

    def credentials(self, *, days: float = 60, token: str | None = None) -> dict:
        """A credentials JSON as `trendreel accounts add instagram NAME --credentials FILE` takes it."""
        token = token or self.issue_token(days=days)
        return {"access_token": token, "ig_user_id": self.ig_user_id, "username": self.username,
                "expires_at": self.tokens[token]["expires"].isoformat(), "app_id": self.app_id,
                "app_secret": self.app_secret}

    def authorize(self, redirect_uri: str) -> str:
        """What Meta's dialog does when the person agrees: a code for this redirect_uri."""
        code = "code-" + secrets.token_hex(8)
        with self.lock:
            self.codes[code] = redirect_uri
        return code

    # ---- faults and facts --------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        with self.lock:
            self._fail += [status] * n

    def drop_next_upload(self, n: int = 1) -> None:
        with self.lock:
            self._drop += n

    def expire_token(self) -> None:
        with self.lock:
            self._expired = True

    def reach_publishing_limit(self) -> None:
        now = datetime.now(timezone.utc)
        with self.lock:
            self.publish_times += [now] * max(0, self.quota_total - self.usage())

    def rate_limit_next(self, code: int = 4) -> None:
        """The next Graph call answers a call rate limit (4 app, 17 user, 32 Page, 613)."""
        with self.lock:
            self._rate_limit = code

    def drop_publish_answer(self) -> None:
        """The next media_publish makes the post, then cuts the connection instead of answering."""
        with self.lock:
            self._drop_publish = True

    def limit_next_publish(self) -> None:
        with self.lock:
            self._limit_publish = True

    def fail_processing(self, reason: str) -> None:
        with self.lock:
            self._processing_error = reason

    def expire_containers(self) -> None:
        """Every unpublished container expires (as Meta's do 24 hours after they were made)."""
        with self.lock:
            for c in self.containers.values():
                if c["status_code"] != "PUBLISHED":
                    c["status_code"] = "EXPIRED"

    def usage(self) -> int:
        since = datetime.now(timezone.utc) - timedelta(hours=24)
        return sum(1 for t in self.publish_times if t > since)

    def set_insights(self, media_id: str, **values: int) -> None:
        with self.lock:
            self.media[media_id]["insights"].update(values)

    def add_media(self, media_id: str, *, caption: str = "", **insights: int) -> None:
        """A post that exists on the account (as if published earlier), with its insights."""
        with self.lock:
            self.media[media_id] = {"id": media_id, "caption": caption, "container": None, "data": b"",
                                    "permalink": f"https://www.instagram.com/reel/{media_id}/",
                                    "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                                    "insights": dict(insights)}


def _graph_error(code: int, message: str, *, subcode: int | None = None, type_: str = "OAuthException",
                 transient: bool = False) -> dict:
    error = {"message": message, "type": type_, "code": code, "fbtrace_id": "A" + secrets.token_hex(5)}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    return {"error": error}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ig: InstagramServer

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.ig.lock:
            self.ig.requests.append((self.command, urlparse(self.path).path, status))

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _params(self) -> dict:
        q = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
        if self.command == "POST" and self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            q.update({k: v[-1] for k, v in parse_qs(self._body().decode()).items()})
        return q

    def _token(self, params: dict, scheme: str = "Bearer") -> str | None:
        auth = self.headers.get("Authorization", "")
        token = auth[len(scheme) + 1:].strip() if auth.startswith(scheme + " ") else params.get("access_token")
        ig = self.ig
        with ig.lock:
            info = ig.tokens.get(token or "")
            expired = ig._expired or (info is not None and info["expires"] <= datetime.now(timezone.utc))
        if info is None:
            self._send(400, _graph_error(190, "Invalid OAuth access token - Cannot parse access token"))
            return None
        if expired:
            self._send(400, _graph_error(190, "Error validating access token: Session has expired.", subcode=463))
            return None
        return token

    def _fault(self) -> bool:
        with self.ig.lock:
            status = self.ig._fail.pop(0) if self.ig._fail else None
            limit, self.ig._rate_limit = self.ig._rate_limit, None
        if limit:
            self._body()
            self._send(400, _graph_error(limit, {4: "Application request limit reached", 17: "User request limit reached",
                                                 32: "Page request limit reached"}.get(limit, "Too many calls")))
            return True
        if status:
            self._body()
            self._send(status, _graph_error(2, "Service temporarily unavailable", type_="OAuthException", transient=True))
        return bool(status)

    # ---- routes ------------------------------------------------------------------------------

    def do_GET(self):
        if self._fault():
            return
        parts = urlparse(self.path).path.strip("/").split("/")
        params = self._params()
        if parts[0] != VERSION:
            return self._send(404, _graph_error(803, f"Unknown path {self.path.split('?')[0]}"))
        parts = parts[1:]
        if parts == ["oauth", "access_token"]:
            return self._oauth(params)
        if parts == ["debug_token"]:
            return self._debug_token(params)
        token = self._token(params)
        if token is None:
            return
        ig = self.ig
        if parts == ["me", "accounts"]:
            return self._send(200, {"data": [{"name": "Harbour News", "id": "1020304050",
                                              "instagram_business_account": {"id": ig.ig_user_id, "username": ig.username}}],
                                    "paging": {"cursors": {"before": "b", "after": "a"}}})
        if parts == [ig.ig_user_id, "content_publishing_limit"]:
            with ig.lock:
                usage = ig.usage()
            return self._send(200, {"data": [{"config": {"quota_total": ig.quota_total, "quota_duration": 86400},
                                              "quota_usage": usage}]})
        if parts == [ig.ig_user_id, "media"]:
            with ig.lock:
                items = [{k: m[k] for k in ("id", "caption", "permalink", "timestamp")} for m in reversed(list(ig.media.values()))]
            return self._send(200, {"data": items[: int(params.get("limit", 25))], "paging": {}})
        if len(parts) == 2 and parts[1] == "insights":
            return self._insights(parts[0], params)
        if len(parts) == 1:
            return self._object(parts[0])
        self._send(400, _graph_error(100, "Unsupported get request.", subcode=33))

    def _object(self, oid: str) -> None:
        ig = self.ig
        with ig.lock:
            c = ig.containers.get(oid)
            m = ig.media.get(oid)
            if c is not None:
                if c["status_code"] == "IN_PROGRESS" and len(c["data"]) == c["size"]:
                    c["polls"] += 1
                    if c["polls"] > ig.processing_polls:
                        c["status_code"] = "ERROR" if c["error"] else "FINISHED"
                status = {"FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
                          "ERROR": f"Error: {c['error']}", "PUBLISHED": "Published",
                          "EXPIRED": "Expired: the container was not published within 24 hours.",
                          "IN_PROGRESS": "In Progress: Media is still being processed."}[c["status_code"]]
                upload = "complete" if len(c["data"]) == c["size"] else "in_progress" if c["data"] else "not_started"
                body = {"id": oid, "status_code": c["status_code"], "status": status,
                        "video_status": {"uploading_phase": {"status": upload, "bytes_transferred": len(c["data"])}}}
            elif m is not None:
                body = {"id": oid, "permalink": m["permalink"], "timestamp": m["timestamp"], "media_product_type": "REELS"}
            else:
                body = None
        if body is None:
            return self._send(400, _graph_error(100, f"Unsupported get request. Object with ID '{oid}' does not exist",
                                                subcode=33, type_="GraphMethodException"))
        self._send(200, body)

    def _insights(self, mid: str, params: dict) -> None:
        with self.ig.lock:
            m = self.ig.media.get(mid)
            values = dict(m["insights"]) if m else None
        if values is None:
            return self._send(400, _graph_error(100, f"Object with ID '{mid}' does not exist", subcode=33,
                                                type_="GraphMethodException"))
        metrics = params.get("metric", "").split(",")
        for old in ("plays", "ig_reels_aggregated_all_plays_count", "impressions", "video_views"):
            if old in metrics:
                return self._send(400, _graph_error(100, f"(#100) Starting from version v22.0 and above, the {old} "
                                                         "metric is no longer supported", type_="OAuthException"))
        data = [{"name": name, "period": "lifetime", "values": [{"value": values[name]}], "title": name,
                 "id": f"{mid}/insights/{name}/lifetime"} for name in metrics if name in values]
        self._send(200, {"data": data})

    def _oauth(self, params: dict) -> None:
        ig = self.ig
        if params.get("client_id") != ig.app_id or params.get("client_secret") != ig.app_secret:
            return self._send(400, _graph_error(101, "Error validating client secret."))
        if params.get("grant_type") == "fb_exchange_token":
            with ig.lock:
                info = ig.tokens.get(params.get("fb_exchange_token", ""))
            if info is None or info["expires"] <= datetime.now(timezone.utc):
                return self._send(400, _graph_error(190, "Error validating access token: Session has expired.", subcode=463))
            with ig.lock:
                ig.exchanges += 1
            return self._send(200, {"access_token": ig.issue_token("long"), "token_type": "bearer", "expires_in": 5183944})
        with ig.lock:
            redirect = ig.codes.pop(params.get("code", ""), None)
        if redirect is None or redirect != params.get("redirect_uri"):
            return self._send(400, _graph_error(100, "Invalid verification code format.", type_="OAuthException"))
        return self._send(200, {"access_token": ig.issue_token("short", days=1 / 24), "token_type": "bearer",
                                "expires_in": 3600})

    def _debug_token(self, params: dict) -> None:
        ig = self.ig
        if params.get("access_token") != f"{ig.app_id}|{ig.app_secret}":
            return self._send(400, _graph_error(190, "Invalid OAuth access token signature."))
        with ig.lock:
            info = ig.tokens.get(params.get("input_token", ""))
        valid = info is not None and info["expires"] > datetime.now(timezone.utc) and not ig._expired
        data = {"app_id": ig.app_id, "type": "USER", "application": "trendreel", "is_valid": valid,
                "scopes": ["instagram_basic", "instagram_content_publish", "instagram_manage_insights",
                           "pages_show_list", "pages_read_engagement"], "user_id": "10101"}
        if info is not None:
            data["expires_at"] = int(info["expires"].timestamp())
        self._send(200, {"data": data})

    def do_POST(self):
        path = urlparse(self.path).path.strip("/").split("/")
        if path[:2] == ["ig-api-upload", VERSION] and len(path) == 3:
            return self._upload(path[2])
        if self._fault():
            return
        params = self._params()
        if path[0] != VERSION:
            return self._send(404, _graph_error(803, "Unknown path"))
        token = self._token(params)
        if token is None:
            return
        ig = self.ig
        parts = path[1:]
        if parts == [ig.ig_user_id, "media"]:
            if params.get("media_type") != "REELS" or params.get("upload_type") != "resumable":
                return self._send(400, _graph_error(100, "The parameter video_url is required", type_="OAuthException"))
            cid = str(17900000000000000 + secrets.randbelow(10**12))
            with ig.lock:
                ig.containers[cid] = {"id": cid, "caption": params.get("caption", ""), "share_to_feed": params.get("share_to_feed"),
                                      "data": bytearray(), "size": None, "status_code": "IN_PROGRESS", "polls": 0,
                                      "error": ig._processing_error}
                ig._processing_error = None
            return self._send(200, {"id": cid, "uri": f"{ig.root}ig-api-upload/{VERSION}/{cid}"})
        if parts == [ig.ig_user_id, "media_publish"]:
            return self._publish(params)
        self._send(400, _graph_error(100, "Unsupported post request.", subcode=33))

    def _publish(self, params: dict) -> None:
        ig = self.ig
        cid = params.get("creation_id", "")
        with ig.lock:
            c = ig.containers.get(cid)
            limited, ig._limit_publish = ig._limit_publish or ig.usage() >= ig.quota_total, False
        if limited:
            return self._send(400, _graph_error(9, "Application request limit reached", subcode=2207042,
                                                type_="OAuthException"))
        if c is None or c["status_code"] != "FINISHED":
            return self._send(400, _graph_error(9007, "Media ID is not available", subcode=2207027))
        mid = str(18000000000000000 + secrets.randbelow(10**12))
        with ig.lock:
            c["status_code"] = "PUBLISHED"
            ig.media[mid] = {"id": mid, "caption": c["caption"], "container": cid, "data": bytes(c["data"]),
                             "permalink": f"https://www.instagram.com/reel/R{mid[-8:]}/",
                             "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                             "insights": {"views": 0, "reach": 0, "likes": 0, "comments": 0, "saved": 0, "shares": 0}}
            ig.publish_times.append(datetime.now(timezone.utc))
        if ig.publish_delay_s:
            time.sleep(ig.publish_delay_s)
        with ig.lock:
            drop, ig._drop_publish = ig._drop_publish, False
        if drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(200, {"id": mid})

    def _upload(self, cid: str) -> None:
        ig = self.ig
        token = self._token({}, scheme="OAuth")
        if token is None:
            self.close_connection = True
            return
        n = int(self.headers.get("Content-Length") or 0)
        with ig.lock:
            c = ig.containers.get(cid)
            fail = ig._fail.pop(0) if ig._fail else None
            drop = ig._drop > 0
            if drop:
                ig._drop -= 1
            ig.uploads += 1
        if c is None:
            self._body()
            return self._send(400, {"debug_info": {"retriable": False, "type": "NotFound", "message": "no such container"}})
        try:
            offset, size = int(self.headers["offset"]), int(self.headers["file_size"])
        except (KeyError, ValueError):
            self._body()
            return self._send(400, {"debug_info": {"retriable": False, "type": "BadRequest",
                                                   "message": "offset and file_size headers are required"}})
        if fail:
            self._body()
            return self._send(fail, {"debug_info": {"retriable": True, "type": "ServiceUnavailable",
                                                    "message": "Upload service busy"}})
        with ig.lock:
            have = len(c["data"])
            ok = offset <= have and offset + n == size
            if ok:
                del c["data"][offset:]
                c["size"] = size
        if not ok:
            self._body()
            return self._send(400, {"debug_info": {"retriable": False, "type": "BadRequest",
                                                   "message": f"offset {offset} with {n} bytes does not continue "
                                                              f"the {have} bytes held toward {size}"}})
        # Bytes are kept as they arrive (as Meta's upload host does), so a cut connection leaves a prefix.
        got = 0
        while got < n:
            block = self.rfile.read(min(1 << 16, n - got))
            if not block:  # the client went away
                self.close_connection = True
                return
            with ig.lock:
                c["data"] += block
            got += len(block)
            if ig.upload_block_delay_s:
                time.sleep(ig.upload_block_delay_s)
            if drop and got >= n // 2:  # then hang up half way
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
        self._send(200, {"success": True, "message": "Upload successful."})
