"""Post throughput of the TikTok publisher against a plain httpx loop, in one run.

Both post the same file in the same chunks to the same local server (tests/tiktokserver.py, which speaks
the Content Posting API) on 127.0.0.1:

  raw        httpx: the init POST, one PUT per chunk with Content-Range, one status fetch (the least any
             client must do)
  publisher  trendreel's TikTokPublisher: credentials decrypted, creator info, the file probed (duration)
             and hashed, the caption built, init, the chunks, the upload state saved in the database
             after init and after every chunk, status fetched until PUBLISH_COMPLETE

The server is Python, so absolute MB/s measure this machine's loopback plus the server; the ratio is
the publisher's overhead. Each case runs --repeat times, alternating, and the median is reported.
Prints JSON.

    python bench/bench_tiktok_upload.py
    python bench/bench_tiktok_upload.py --mb 256 --chunk-mib 10 64 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.publish_support import encode_video  # noqa: E402
from tests.tiktokserver import TikTokServer  # noqa: E402
from trendreel.bootstrap import build_app  # noqa: E402
from trendreel.publish import accounts  # noqa: E402
from trendreel.publish.base import PublishJob  # noqa: E402
from trendreel.publish.tiktok import TikTokPublisher, chunk_plan  # noqa: E402
from trendreel.settings import Settings  # noqa: E402


def raw_post(server: TikTokServer, path: Path, chunk_bytes: int) -> str:
    size = path.stat().st_size
    chunk, count = chunk_plan(size, chunk_bytes)
    token = server.issue_tokens()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=UTF-8"}
    with httpx.Client(timeout=60) as http:
        init = http.post(server.root + "v2/post/publish/video/init/", headers=headers, json={
            "post_info": {"title": "raw", "privacy_level": "SELF_ONLY"},
            "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count}})
        data = init.json()["data"]
        with open(path, "rb") as fh:
            for index in range(count):
                start = index * chunk
                body = fh.read(size - start if index == count - 1 else chunk)
                resp = http.put(data["upload_url"], content=body, headers={
                    "Content-Type": "video/mp4", "Content-Range": f"bytes {start}-{start + len(body) - 1}/{size}"})
                assert resp.status_code in (201, 206), resp.status_code
        http.post(server.root + "v2/post/publish/status/fetch/", headers=headers, json={"publish_id": data["publish_id"]})
    return data["publish_id"]


def publisher_post(app, account: dict, path: Path, n: int) -> str:
    def save_state(s: dict) -> None:  # as the publish service does: one small UPDATE per step
        from trendreel.db.tables import Publication

        with app.db.session() as sess:
            sess.get(Publication, "pbench").upload_state = dict(s)

    job = PublishJob(publication_id="pbench", video_id="vbench", account=account, video=path, thumbnail=None,
                     subtitles=None, metadata={"title": f"bench {n}", "description": "ref: pbench", "tags": ["bench"]},
                     privacy="private", save_state=save_state, on_progress=lambda done, total: None)
    return TikTokPublisher(app).publish(job).details["publish_id"]


def run_case(path: Path, chunk_mib: float, repeat: int, home: Path) -> dict:
    size = path.stat().st_size
    with TikTokServer() as server:
        server.processing_polls = 0
        settings = Settings(home=home / f"h-{chunk_mib}", tiktok_api_root=server.root,
                            publish={"tiktok_chunk_mib": chunk_mib, "tiktok_poll_s": 0})
        app = build_app(settings)
        account = accounts.add_account(app, platform="tiktok", name="bench", credentials=server.credentials())
        _bench_rows(app, account)
        chunk = int(chunk_mib * 1024 * 1024)
        times = {"raw": [], "publisher": []}
        for n in range(repeat):
            for name in ("raw", "publisher"):  # alternate, so neither gets a warmer machine
                server.posts.clear()
                t = time.perf_counter()
                pid = raw_post(server, path, chunk) if name == "raw" else publisher_post(app, account, path, n)
                times[name].append(time.perf_counter() - t)
                assert len(server.posts[pid]["data"]) == size
        app.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"chunk_mib": chunk_mib, "chunks": chunk_plan(size, chunk)[1],
            "raw_s": round(med["raw"], 3), "publisher_s": round(med["publisher"], 3),
            "raw_mb_s": round(size / 1e6 / med["raw"], 1), "publisher_mb_s": round(size / 1e6 / med["publisher"], 1),
            "overhead_ratio": round(med["publisher"] / med["raw"], 3)}


def _bench_rows(app, account: dict) -> None:
    from trendreel.db.tables import Publication, Video

    with app.db.session() as s:
        s.merge(Video(id="vbench", stage="rendered", backend="bench", status="done", details={}))
        s.flush()
        s.merge(Publication(id="pbench", video_id="vbench", account_id=account["id"], platform="tiktok",
                            upload_state={}, details={}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=128, help="File size in MB (a short mp4 padded to this size).")
    ap.add_argument("--chunk-mib", type=float, nargs="+", default=[10.0, 5.0, 61.0], help="Chunk sizes (5-61 MiB).")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-tiktok-"))
    path = encode_video(home / "video.mp4", seconds=2.0, noise_bytes=args.mb * 1_000_000)
    cases = [run_case(path, c, args.repeat, home) for c in args.chunk_mib]
    print(json.dumps({"bench": "tiktok_upload", "file_mb": round(path.stat().st_size / 1e6, 1), "repeat": args.repeat,
                      "python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
                      "cases": cases}, indent=2))


if __name__ == "__main__":
    main()
