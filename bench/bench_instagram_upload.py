"""Publishing a Reel with the Instagram publisher against a plain loop of raw HTTP calls, in one run.

Both publish the same file to the same local server (tests/instagramserver.py, which speaks the Graph
API and Meta's rupload protocol) on 127.0.0.1:

  raw        http.client on one connection: POST the container, POST the file to rupload (offset 0,
             file_size), GET the container status until FINISHED, POST media_publish (the least any
             client must do)
  publisher  trendreel's InstagramPublisher through httpx: the credentials decrypted, the file hashed,
             the publishing limit read twice, the upload state written to the database after each step,
             the caption built, the status polled, the post's permalink read

The server is Python, so absolute MB/s measure this machine's loopback plus the server; the ratio is
the publisher's overhead. Each case runs --repeat times and the median is reported. Prints JSON.

    python bench/bench_instagram_upload.py
    python bench/bench_instagram_upload.py --mb 256 --repeat 5
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.instagramserver import VERSION, InstagramServer  # noqa: E402
from trendreel.bootstrap import build_app  # noqa: E402
from trendreel.publish import accounts  # noqa: E402
from trendreel.publish.base import PublishJob  # noqa: E402
from trendreel.publish.instagram import InstagramPublisher, check_instagram_credentials  # noqa: E402
from trendreel.settings import Settings  # noqa: E402


def raw_publish(server: InstagramServer, token: str, path: Path) -> str:
    size = path.stat().st_size
    port = urlparse(server.root).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-www-form-urlencoded"}

    def call(method: str, target: str, body=None, headers=None) -> dict:
        conn.request(method, target, body=body, headers=headers or auth)
        resp = conn.getresponse()
        data = json.loads(resp.read())
        assert resp.status == 200, data
        return data

    ig = server.ig_user_id
    made = call("POST", f"/{VERSION}/{ig}/media", urlencode({"media_type": "REELS", "upload_type": "resumable",
                                                              "caption": "raw"}))
    with open(path, "rb") as fh:
        call("POST", urlparse(made["uri"]).path, fh, {"Authorization": f"OAuth {token}", "offset": "0",
                                                     "file_size": str(size), "Content-Length": str(size)})
    while call("GET", f"/{VERSION}/{made['id']}?fields=status_code", headers=auth)["status_code"] != "FINISHED":
        pass
    media = call("POST", f"/{VERSION}/{ig}/media_publish", urlencode({"creation_id": made["id"]}))["id"]
    conn.close()
    return media


def publisher_publish(app, account: dict, path: Path, n: int) -> str:
    from trendreel.db.tables import Publication

    pid = "pbench"  # one row (one per video and account), its state cleared each run
    with app.db.session() as s:
        s.merge(Publication(id=pid, video_id="vbench", account_id=account["id"], platform="instagram",
                            upload_state={}, details={}))

    def save_state(state: dict) -> None:  # as the publish service does
        with app.db.session() as s:
            s.get(Publication, pid).upload_state = dict(state)

    job = PublishJob(publication_id=pid, video_id="vbench", account=account, video=path, thumbnail=None, subtitles=None,
                     metadata={"title": f"bench {n}", "description": "", "tags": ["bench"], "language": "en"},
                     privacy="public", save_state=save_state, on_progress=lambda done, total: None)
    return InstagramPublisher(app).publish(job).external_id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=128, help="File size in MB.")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-ig-"))
    path = home / "video.mp4"
    with open(path, "wb") as fh:
        for _ in range(args.mb):
            fh.write(os.urandom(1_000_000))
    size = path.stat().st_size
    with InstagramServer() as server:
        server.processing_polls = 0
        server.quota_total = 10**6
        app = build_app(Settings(home=home / "home", instagram_api_root=server.api_root,
                                 instagram_upload_root=server.root, publish={"instagram_poll_s": 0}))
        account = accounts.add_account(app, platform="instagram", name="bench",
                                       credentials=check_instagram_credentials(server.credentials()))
        from trendreel.db.tables import Video

        with app.db.session() as s:
            s.merge(Video(id="vbench", stage="rendered", backend="bench", status="done", details={}))
        token = server.issue_token()
        times: dict[str, list[float]] = {"raw": [], "publisher": []}
        for n in range(args.repeat):
            for name in ("raw", "publisher"):  # alternate, so neither gets a warmer machine
                t = time.perf_counter()
                mid = raw_publish(server, token, path) if name == "raw" else publisher_publish(app, account, path, n)
                times[name].append(time.perf_counter() - t)
                assert len(server.media[mid]["data"]) == size
                server.media.clear()
                server.containers.clear()
        app.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(json.dumps({"bench": "instagram_upload", "file_mb": args.mb, "repeat": args.repeat,
                      "python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
                      "raw_s": round(med["raw"], 3), "publisher_s": round(med["publisher"], 3),
                      "raw_mb_s": round(size / 1e6 / med["raw"], 1), "publisher_mb_s": round(size / 1e6 / med["publisher"], 1),
                      "overhead_ratio": round(med["publisher"] / med["raw"], 3)}, indent=2))


if __name__ == "__main__":
    main()
