"""Upload throughput of the YouTube publisher against a plain loop of raw HTTP PUTs, in one run.

Both upload the same file in the same chunks to the same local server (tests/youtubeserver.py, which
speaks the resumable-upload protocol) on 127.0.0.1:

  raw        http.client: POST to open the session, then one PUT per chunk with Content-Range,
             reading each 308 (the least any client must do)
  publisher  trendreel's YouTubePublisher through google-api-python-client + google-auth-httplib2:
             our session POST and retry loop, next_chunk(), the upload state saved in the database
             after every chunk, the token header, the progress callback

over plain HTTP and over TLS (a local trustme CA). The server is Python, so absolute MB/s measure
this machine's loopback plus the server; the ratio is the publisher's overhead. Each case runs
--repeat times and the median is reported. Prints JSON.

    python bench/bench_upload.py
    python bench/bench_upload.py --mb 256 --chunk-mib 8 --repeat 5
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.youtubeserver import YouTubeServer  # noqa: E402
from trendreel.bootstrap import build_app  # noqa: E402
from trendreel.publish import accounts  # noqa: E402
from trendreel.publish.base import PublishJob  # noqa: E402
from trendreel.publish.youtube import YouTubePublisher  # noqa: E402
from trendreel.settings import Settings  # noqa: E402


def raw_upload(server: YouTubeServer, path: Path, chunk: int) -> str:
    """The plain loop: one connection, POST then PUT chunk after chunk."""
    size = path.stat().st_size
    token = server.issue_token()
    if server.tls:
        ctx = ssl.create_default_context(cafile=server.ca_file)
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=60)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    body = json.dumps({"snippet": {"title": "raw"}, "status": {"privacyStatus": "private"}}).encode()
    conn.request("POST", "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", body=body,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                          "X-Upload-Content-Type": "video/mp4", "X-Upload-Content-Length": str(size)})
    resp = conn.getresponse()
    resp.read()
    location = urlparse(resp.getheader("Location"))
    target = f"{location.path}?{location.query}"
    with open(path, "rb") as fh:
        offset = 0
        while offset < size:
            data = fh.read(chunk)
            conn.request("PUT", target, body=data, headers={
                "Authorization": f"Bearer {token}", "Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{size}"})
            resp = conn.getresponse()
            payload = resp.read()
            offset += len(data)
    conn.close()
    assert resp.status == 200, resp.status
    return json.loads(payload)["id"]


def publisher_upload(app, account: dict, path: Path, n: int) -> str:
    state: dict = {}

    def save_state(s: dict) -> None:  # as the publish service does: one small UPDATE per chunk
        from trendreel.db.tables import Publication

        with app.db.session() as sess:
            sess.get(Publication, "pbench").upload_state = dict(s)
        state.update(s)

    job = PublishJob(publication_id="pbench", video_id="vbench", account=account, video=path, thumbnail=None,
                     subtitles=None, metadata={"title": f"bench {n}", "description": "", "tags": [], "language": "en"},
                     privacy="private", save_state=save_state, on_progress=lambda done, total: None)
    return YouTubePublisher(app).publish(job).external_id


def run_case(tls: bool, path: Path, chunk_mib: float, repeat: int, home: Path) -> dict:
    size = path.stat().st_size
    with YouTubeServer(tls=tls, workdir=home / ("tls" if tls else "plain")) as server:
        if server.ca_file:
            os.environ["HTTPLIB2_CA_CERTS"] = server.ca_file
        settings = Settings(home=home / ("h-tls" if tls else "h-plain"), youtube_api_root=server.root,
                            publish={"chunk_mib": chunk_mib, "youtube_inserts_per_day": 0, "youtube_units_per_day": 10**9})
        app = build_app(settings)
        cred = home / "cred.json"
        cred.write_text(json.dumps(server.authorized_user()))
        account = accounts.add_account(app, platform="youtube", name="bench", credentials=accounts.read_authorized_user(cred))
        _bench_rows(app, account)
        chunk = int(chunk_mib * 1024 * 1024)
        times = {"raw": [], "publisher": []}
        for n in range(repeat):
            for name in ("raw", "publisher"):  # alternate, so neither gets a warmer machine
                server.videos.clear()
                server.sessions.clear()
                t = time.perf_counter()
                vid = raw_upload(server, path, chunk) if name == "raw" else publisher_upload(app, account, path, n)
                times[name].append(time.perf_counter() - t)
                assert len(server.videos[vid]["data"]) == size
        app.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"tls": tls, "chunk_mib": chunk_mib, "chunks": -(-size // chunk),
            "raw_s": round(med["raw"], 3), "publisher_s": round(med["publisher"], 3),
            "raw_mb_s": round(size / 1e6 / med["raw"], 1), "publisher_mb_s": round(size / 1e6 / med["publisher"], 1),
            "overhead_ratio": round(med["publisher"] / med["raw"], 3)}


def _bench_rows(app, account: dict) -> None:
    """A video and publication row for the per-chunk state writes."""
    from trendreel.db.tables import Publication, Video

    with app.db.session() as s:
        s.merge(Video(id="vbench", stage="rendered", backend="bench", status="done", details={}))
        s.flush()
        s.merge(Publication(id="pbench", video_id="vbench", account_id=account["id"], platform="youtube",
                            upload_state={}, details={}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=128, help="File size in MB.")
    ap.add_argument("--chunk-mib", type=float, nargs="+", default=[8.0, 1.0], help="Chunk sizes to try (MiB, multiples of 0.25).")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    path = home / "video.mp4"
    with open(path, "wb") as fh:
        for _ in range(args.mb):
            fh.write(os.urandom(1_000_000))
    cases = [run_case(tls, path, c, args.repeat, home) for tls in (False, True) for c in args.chunk_mib]
    print(json.dumps({"bench": "upload", "file_mb": args.mb, "repeat": args.repeat, "python": platform.python_version(),
                      "cpus": os.cpu_count(), "machine": platform.machine(), "cases": cases}, indent=2))


if __name__ == "__main__":
    main()
