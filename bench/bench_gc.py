"""GC planning over 1M media rows and deletion of 100k files: `trendreel gc` vs `find -delete`, one run.

Builds, in a temporary folder:

  * a SQLite database with --rows media rows (10 per article) in bulk, created_at rising with the row
    number, plus --pending-stories pending stories that each cite 3 media of newer articles (so
    their items' media are protected and the plan has to skip them);
  * real files (--file-bytes each) for the oldest --files rows, in the real layout
    (articles/<h0h1>/<h2h3>/<id>/images/NN.jpg); the rows record the same size.

Then measures:

  usage        storage_status: the grouped SUM over all rows
  plan_all     make_plan with a 1-byte budget: every row is read (streamed, oldest first)
  plan_files   make_plan with a budget that needs exactly the oldest --files rows
  gc           collect_garbage with that budget: journal, delete the files, mark the rows, append events
  find         the same files regenerated, then `find DIR -type f -delete`

Prints JSON. `find` only unlinks; gc also writes its journals, updates rows and appends one event per
file, so the ratio is the cost of doing it crash-safely and on the record.

    python bench/bench_gc.py                     # 1M rows, 100k files
    python bench/bench_gc.py --rows 100000 --files 10000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from trendreel.bootstrap import App  # noqa: E402
from trendreel.db.engine import Database  # noqa: E402
from trendreel.files.layout import media_file  # noqa: E402
from trendreel.files.store import open_file_store  # noqa: E402
from trendreel.ids import article_id, media_id  # noqa: E402
from trendreel.retention.plan import make_plan  # noqa: E402
from trendreel.services.storage import collect_garbage, storage_status  # noqa: E402
from trendreel.settings import Settings  # noqa: E402

PER_ARTICLE = 10
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores DateTime in SQLite


def build_db(db_path: Path, rows: int, file_bytes: int, pending: int) -> None:
    Database(f"sqlite:///{db_path}").dispose()  # schema by the real migrations
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA synchronous=OFF")
    n_articles = (rows + PER_ARTICLE - 1) // PER_ARTICLE
    aids = [article_id(f"https://bench.example/{i}") for i in range(n_articles)]
    old = _ts(START)
    con.executemany(
        "INSERT INTO article (id, url, canonical_url, content_hash, minhash, text_chars, key_data, crawled_at, updated_at) "
        "VALUES (?, ?, ?, ?, '', 0, '{}', ?, ?)",
        ((a, f"https://bench.example/{i}", f"https://bench.example/{i}", f"{i:064x}", old, old) for i, a in enumerate(aids)))

    def media_rows():
        for i in range(rows):
            aid = aids[i // PER_ARTICLE]
            pos = i % PER_ARTICLE
            yield (media_id(aid, "image", f"https://bench.example/{i}.jpg"), aid, pos, "image",
                   f"https://bench.example/{i}.jpg", "stored", media_file(aid, "image", pos, "jpg"), "image/jpeg",
                   file_bytes, f"{i:064x}", _ts(START + timedelta(seconds=i)))

    con.executemany("INSERT INTO media_item (id, article_id, position, kind, source_url, status, path, mime, bytes, sha256, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", media_rows())
    # Pending stories cite media of articles in the newer half: their items stay, the plan skips them.
    step = max(1, (n_articles // 2) // max(1, pending))
    for k in range(pending):
        a = n_articles // 2 + k * step
        if a >= n_articles:
            break
        aid = aids[a]
        mids = [media_id(aid, "image", f"https://bench.example/{a * PER_ARTICLE + j}.jpg") for j in range(3)]
        body = {"article_id": aid, "scenes": [{"narration": "x", "duration_s": 3, "media": [{"media_id": m, "kind": "image"}],
                                               "citations": [{"article_id": aid, "sentence": 0, "quote": "x"}]} for m in mids]}
        con.execute("INSERT INTO story (id, article_id, backend, title, duration_s, body, created_at) VALUES (?, ?, 'template', 't', 9, ?, ?)",
                    (f"s{k:023x}", aid, json.dumps(body), old))
    con.commit()
    con.close()


def write_files(root: Path, db_path: Path, n: int, size: int) -> list[str]:
    con = sqlite3.connect(db_path)
    keys = [r[0] for r in con.execute("SELECT path FROM media_item ORDER BY created_at, id LIMIT ?", (n,))]
    con.close()
    data = b"\xff" * size
    made: set[Path] = set()
    for key in keys:
        p = root / key
        if p.parent not in made:
            p.parent.mkdir(parents=True, exist_ok=True)
            made.add(p.parent)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.close(fd)
    return keys


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="media rows in the database")
    ap.add_argument("--files", type=int, default=100_000, help="files deleted (the oldest rows')")
    ap.add_argument("--file-bytes", type=int, default=512, help="size of each file")
    ap.add_argument("--pending-stories", type=int, default=2000, help="pending stories protecting 10 media each")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-gc-", dir=args.dir))
    try:
        db_path, files_root = work / "trendreel.db", work / "files"
        t = time.perf_counter()
        build_db(db_path, args.rows, args.file_bytes, args.pending_stories)
        build_db_s = time.perf_counter() - t
        files_root.mkdir()
        pristine = work / "pristine.db"
        shutil.copy(db_path, pristine)

        total = args.rows * args.file_bytes
        settings = Settings(home=work / "home", database_url=f"sqlite:///{db_path}", files_url=files_root.as_uri(),
                            retention={"budget_bytes": 1, "low_water": 1.0, "raw_media_min_age_days": 0})
        db = Database(settings.database_url)
        app = App(settings=settings, db=db, files=open_file_store(settings.files_url))
        res: dict = {"rows": args.rows, "files": args.files, "file_bytes": args.file_bytes,
                     "pending_stories": args.pending_stories, "build_db_s": round(build_db_s, 2)}

        t = time.perf_counter()
        status = storage_status(app)
        res["usage_s"] = round(time.perf_counter() - t, 3)
        assert status["used_bytes"] == total, status

        t = time.perf_counter()
        with db.session() as s:
            plan = make_plan(s, settings.retention)
        res["plan_all_s"] = round(time.perf_counter() - t, 3)
        res["plan_all_items"] = len(plan.items)
        res["plan_all_skipped_protected"] = plan.skipped_protected
        res["plan_all_rows_per_s"] = round(plan.scanned_media / res["plan_all_s"])

        settings.retention.budget_bytes = total - args.files * args.file_bytes
        t = time.perf_counter()
        with db.session() as s:
            plan = make_plan(s, settings.retention)
        res["plan_files_s"] = round(time.perf_counter() - t, 3)
        assert len(plan.items) == args.files, (len(plan.items), args.files)

        t = time.perf_counter()
        write_files(files_root, db_path, args.files, args.file_bytes)
        res["write_files_s"] = round(time.perf_counter() - t, 2)
        assert count_files(files_root) == args.files
        os.sync()
        t = time.perf_counter()
        result = collect_garbage(app)
        res["gc_s"] = round(time.perf_counter() - t, 3)
        assert result["purged"]["raw_media"]["files"] == args.files, result["purged"]
        assert count_files(files_root) == 0
        res["gc_files_per_s"] = round(args.files / res["gc_s"])
        db.dispose()

        shutil.rmtree(files_root)
        files_root.mkdir()
        write_files(files_root, pristine, args.files, args.file_bytes)
        assert count_files(files_root) == args.files
        os.sync()
        t = time.perf_counter()
        subprocess.run(["find", str(files_root), "-type", "f", "-delete"], check=True)
        res["find_delete_s"] = round(time.perf_counter() - t, 3)
        assert count_files(files_root) == 0
        res["find_files_per_s"] = round(args.files / res["find_delete_s"])
        res["gc_over_find"] = round(res["gc_s"] / res["find_delete_s"], 2)
        res["host"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
                       "machine": platform.machine()}
        print(json.dumps(res, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
