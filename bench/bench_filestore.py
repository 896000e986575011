"""What the FileStore costs compared with plain file I/O, measured in one run.

Writes and reads back --small-count small files (--small-kb each) and --large-count large files
(--large-mb each) three ways on the same disk:

  plain         open(path, "wb").write(data) / open(path, "rb").read()
  plain_atomic  write to a temp file in the same folder, then os.replace (what an atomic put needs)
  file          trendreel FileStore on file:// (obstore LocalStore: temp file + rename)
  s3            (with --s3) trendreel FileStore against a local S3 server (moto) on 127.0.0.1;
                moto keeps objects in memory in a Python process, so this measures our client
                path plus moto, not what a real S3 or SeaweedFS would do

Keys follow the real layout (articles/<h0h1>/<h2h3>/<id>/images/NN.jpg), ten files per article.
Each case is run --repeat times on a fresh folder and the median is reported. Prints JSON with
ops/s and MB/s per case and the overhead ratio (time of ours / time of plain).

    python bench/bench_filestore.py
    python bench/bench_filestore.py --s3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from trendreel.files import open_file_store  # noqa: E402
from trendreel.files.layout import media_file  # noqa: E402

MB = 1 << 20


def small_keys(n: int, run: str) -> list[str]:
    return [media_file(f"{run}-{i // 10:06d}", "image", i % 10 + 1, "jpg") for i in range(n)]


def large_keys(n: int, run: str) -> list[str]:
    return [media_file(f"{run}-big{i:03d}", "video", 1, "mp4") for i in range(n)]


class Plain:
    """open().write()/read() on the same layout, creating folders as needed."""

    name = "plain"

    def __init__(self, root: Path):
        self.root = root
        self._dirs: set[Path] = set()

    def _path(self, key: str) -> Path:
        p = self.root / key
        if p.parent not in self._dirs:
            p.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(p.parent)
        return p

    def put(self, key: str, data: bytes) -> None:
        with open(self._path(key), "wb") as fh:
            fh.write(data)

    def put_file(self, key: str, src: Path) -> None:
        shutil.copyfile(src, self._path(key))

    def get(self, key: str) -> bytes:
        with open(self.root / key, "rb") as fh:
            return fh.read()

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class PlainAtomic(Plain):
    name = "plain_atomic"

    def put(self, key: str, data: bytes) -> None:
        p = self._path(key)
        tmp = p.with_name(f".{p.name}.{uuid.uuid4().hex[:8]}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, p)

    def put_file(self, key: str, src: Path) -> None:
        p = self._path(key)
        tmp = p.with_name(f".{p.name}.{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, p)


class Ours:
    def __init__(self, name: str, store, cleanup):
        self.name, self.store, self._cleanup = name, store, cleanup

    def put(self, key: str, data: bytes) -> None:
        self.store.put(key, data)

    def put_file(self, key: str, src: Path) -> None:
        self.store.put_file(key, src)

    def get(self, key: str) -> bytes:
        return self.store.get(key)

    def close(self) -> None:
        self._cleanup()


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_case(make, args, tmp: Path, payloads: dict) -> dict:
    """One backend: median over --repeat fresh runs of each operation."""
    times: dict[str, list[float]] = {k: [] for k in ("put_small", "get_small", "put_large", "put_file_large", "get_large")}
    for r in range(args.repeat):
        backend = make(r)
        try:
            sk = small_keys(args.small_count, f"r{r}")
            lk = large_keys(args.large_count, f"r{r}")
            small = payloads["small"]
            times["put_small"].append(timed(lambda: [backend.put(k, small[i % len(small)]) for i, k in enumerate(sk)]))
            times["get_small"].append(timed(lambda: [backend.get(k) for k in sk]))
            big = payloads["large"]
            times["put_large"].append(timed(lambda: [backend.put(k, big) for k in lk]))
            times["get_large"].append(timed(lambda: [backend.get(k) for k in lk]))
            lk2 = [k.replace("/videos/01.", "/videos/02.") for k in lk]
            times["put_file_large"].append(timed(lambda: [backend.put_file(k, payloads["large_path"]) for k in lk2]))
            # correctness, outside the timings
            assert backend.get(sk[-1]) == small[(len(sk) - 1) % len(small)]
            assert backend.get(lk2[0]) == big
        finally:
            backend.close()
    counts = {"put_small": args.small_count, "get_small": args.small_count,
              "put_large": args.large_count, "get_large": args.large_count, "put_file_large": args.large_count}
    sizes = {"put_small": args.small_kb * 1024, "get_small": args.small_kb * 1024,
             "put_large": args.large_mb * MB, "get_large": args.large_mb * MB, "put_file_large": args.large_mb * MB}
    out = {}
    for op, ts in times.items():
        med = statistics.median(ts)
        out[op] = {
            "seconds": round(med, 4),
            "ops_per_s": round(counts[op] / med, 1),
            "mb_per_s": round(counts[op] * sizes[op] / MB / med, 1),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small-count", type=int, default=1000)
    ap.add_argument("--small-kb", type=int, default=20)
    ap.add_argument("--large-count", type=int, default=3)
    ap.add_argument("--large-mb", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--s3", action="store_true", help="also run against a local S3 server (moto)")
    ap.add_argument("--dir", default=None, help="where to make the temp dir (default: system temp)")
    args = ap.parse_args()
    if not (1 <= args.small_count <= 100_000 and 1 <= args.large_count <= 50 and 1 <= args.large_mb <= 512
            and 1 <= args.small_kb <= 10_240 and 1 <= args.repeat <= 10):
        ap.error("sizes out of the bounded range")

    tmp = Path(tempfile.mkdtemp(prefix="trendreel-bench-", dir=args.dir))
    rnd = os.urandom(args.small_kb * 1024 + 64)
    payloads = {
        "small": [rnd[i:i + args.small_kb * 1024] for i in range(0, 64, 8)],
        "large": os.urandom(args.large_mb * MB),
    }
    payloads["large_path"] = tmp / "large.src"
    payloads["large_path"].write_bytes(payloads["large"])

    results: dict = {}
    try:
        def fresh(name: str) -> Path:
            d = tmp / name
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
            return d

        results["plain"] = run_case(lambda r: Plain(fresh("plain")), args, tmp, payloads)
        results["plain_atomic"] = run_case(lambda r: PlainAtomic(fresh("plain_atomic")), args, tmp, payloads)

        def make_file(r):
            d = fresh("file")
            return Ours("file", open_file_store(d.as_uri()), lambda: shutil.rmtree(d, ignore_errors=True))

        results["file"] = run_case(make_file, args, tmp, payloads)

        if args.s3:
            from tests.s3server import running_s3_server

            with running_s3_server() as server:
                def make_s3(r):
                    store = open_file_store(server.url(f"bench-{r}"), server.settings())
                    return Ours("s3", store, lambda: store.delete_prefix("articles/"))

                results["s3"] = run_case(make_s3, args, tmp, payloads)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    overhead = {}
    for ours in [k for k in ("file", "s3") if k in results]:
        overhead[ours] = {
            f"vs_{base}": {op: round(results[ours][op]["seconds"] / results[base][op]["seconds"], 2) for op in results[ours]}
            for base in ("plain", "plain_atomic")
        }
    st = os.statvfs(tempfile.gettempdir() if args.dir is None else args.dir)
    report = {
        "machine": {"kernel": platform.release(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "params": {"small_count": args.small_count, "small_kb": args.small_kb, "large_count": args.large_count,
                   "large_mb": args.large_mb, "repeat": args.repeat, "statistic": "median"},
        "note": "no fsync in any case; file writes land in the page cache. overhead = our seconds / baseline seconds",
        "disk_free_bytes": st.f_bavail * st.f_frsize,
        "results": results,
        "overhead": overhead,
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
