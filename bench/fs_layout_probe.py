"""Measure what the file-store layout decision rests on, on this machine's file systems.

For N entries it times: creating N empty files in ONE flat directory vs. the same N names in the
256x256 hashed fan-out (articles/<h0h1>/<h2h3>/<name>), a random `stat` of an existing and of a
missing name, listing one directory, and deleting them all. It also reports the file system's
inode numbers (as `df -i` does) and bytes per inode, and the inode defaults `mkfs.ext4` and
`mkfs.xfs` pick for big volumes (read from their dry runs, nothing written).

With --images (needs root and loop mounts) it repeats the timing on freshly made ext4 and XFS
images and fills a small image of each with empty files until it runs out of inodes.

    python bench/fs_layout_probe.py                        # host temp dir, N = 10k, 100k, 300k
    python bench/fs_layout_probe.py --images --cold --image-sizes 10000,100000

Prints one JSON document. Everything happens under a temporary directory that is removed at the
end; the work is bounded by --sizes (at most 1,000,000 per run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAX_N = 1_000_000
STAT_SAMPLES = 2000
COLD_SAMPLES = 300
FILL_LIMIT = 2_000_000  # entries, for the inode-exhaustion demo

try:  # the real layout function when run inside the repository
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from trendreel.files.layout import fanout
except Exception:  # pragma: no cover - standalone copy
    def fanout(entity_id: str) -> str:
        h = hashlib.sha256(entity_id.encode()).hexdigest()
        return f"{h[0:2]}/{h[2:4]}"


# --- file system facts --------------------------------------------------------------------------


def mount_of(path: Path) -> dict:
    path = path.resolve()
    best = {"mount_point": "/", "fs_type": "?", "device": "?"}
    try:
        with open("/proc/mounts") as fh:
            for line in fh:
                dev, mnt, fstype, *_ = line.split()
                mnt = mnt.replace("\\040", " ")
                if (str(path) == mnt or str(path).startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best["mount_point"]):
                    best = {"mount_point": mnt, "fs_type": fstype, "device": dev}
    except OSError:
        pass
    return best


def inode_stats(path: Path) -> dict:
    st = os.statvfs(path)
    size = st.f_blocks * st.f_frsize
    return {
        **{k: v for k, v in mount_of(path).items() if k != "mount_point"},
        "size_bytes": size,
        "block_size": st.f_frsize,
        "inodes_total": st.f_files,
        "inodes_used": st.f_files - st.f_ffree,
        "inodes_free": st.f_ffree,
        "inodes_used_pct": round(100 * (st.f_files - st.f_ffree) / st.f_files, 2) if st.f_files else None,
        "bytes_per_inode": round(size / st.f_files) if st.f_files else None,
        "bytes_free": st.f_bavail * st.f_frsize,
    }


def drop_caches() -> bool:
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return True
    except OSError:
        return False


def run(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


SIZES_FOR_DEFAULTS = ["100G", "1T", "4T", "5T", "16T", "50T", "100T"]


def ext4_defaults(tmp: Path) -> dict:
    """`mkfs.ext4 -n` (no write) on a small file with an explicit size: the inodes it would make."""
    if not shutil.which("mkfs.ext4"):
        return {"error": "mkfs.ext4 not installed"}
    img = tmp / "ext4-dryrun.img"
    img.write_bytes(b"")
    os.truncate(img, 16 << 20)
    out = {}
    for size in SIZES_FOR_DEFAULTS:
        r = run(["mkfs.ext4", "-n", "-F", str(img), size])
        m = re.search(r"with (\d+) (\d+)k blocks and (\d+) inodes", r.stdout + r.stderr)
        if not m:
            out[size] = {"error": (r.stderr or r.stdout).strip()[-200:]}
            continue
        blocks, bk, inodes = int(m[1]), int(m[2]), int(m[3])
        out[size] = {"inodes": inodes, "bytes_per_inode": round(blocks * bk * 1024 / inodes), "block_size": bk * 1024}
    img.unlink()
    conf = Path("/etc/mke2fs.conf")
    ratios = {}
    if conf.exists():
        section = None
        for line in conf.read_text().splitlines():
            m = re.match(r"\s*(\w+)\s*=\s*\{", line)
            if m:
                section = m[1]
            m = re.match(r"\s*inode_ratio\s*=\s*(\d+)", line)
            if m:
                ratios[section or "defaults"] = int(m[1])
    version = run(["mkfs.ext4", "-V"]).stderr.strip().splitlines()
    return {"version": version[0] if version else "?", "dry_run": out, "mke2fs_conf_inode_ratio": ratios,
            "max_inodes_ext4": 2**32 - 1}


def xfs_defaults(tmp: Path, can_mount: bool) -> dict:
    """`mkfs.xfs -N` (no write) needs a target of the real size; a sparse file on a mounted XFS
    image can be 100 TB (an ext4 file stops at 16 TiB)."""
    if not shutil.which("mkfs.xfs"):
        return {"error": "mkfs.xfs not installed (apt-get install xfsprogs)"}
    out: dict = {"version": run(["mkfs.xfs", "-V"]).stdout.strip()}
    host_img = tmp / "xfs-host.img"
    mnt = tmp / "xfs-host"
    mounted = False
    try:
        target_dir = tmp
        if can_mount:
            os.truncate(_touch(host_img), 1 << 30)
            if run(["mkfs.xfs", "-q", "-f", str(host_img)]).returncode == 0:
                mnt.mkdir()
                mounted = run(["mount", "-o", "loop", str(host_img), str(mnt)]).returncode == 0
                if mounted:
                    target_dir = mnt
        for size in SIZES_FOR_DEFAULTS:
            f = target_dir / "xfs-dryrun.img"
            try:
                os.truncate(_touch(f), _parse_size(size))
            except OSError as exc:
                out[size] = {"error": f"cannot make a sparse {size} file here: {exc.strerror}"}
                continue
            r = run(["mkfs.xfs", "-N", "-f", str(f)])
            f.unlink()
            text = r.stdout + r.stderr
            m_isize = re.search(r"isize=(\d+)", text)
            m_pct = re.search(r"imaxpct=(\d+)", text)
            m_blocks = re.search(r"bsize=(\d+)\s+blocks=(\d+)", text)
            if not (m_isize and m_pct and m_blocks):
                out[size] = {"error": text.strip()[-200:]}
                continue
            isize, pct = int(m_isize[1]), int(m_pct[1])
            data_bytes = int(m_blocks[1]) * int(m_blocks[2])
            out[size] = {"isize": isize, "imaxpct": pct, "max_inodes_at_imaxpct": data_bytes * pct // 100 // isize}
    finally:
        if mounted:
            run(["umount", str(mnt)])
        if mnt.exists():
            mnt.rmdir()
        if host_img.exists():
            host_img.unlink()
    return out


def _touch(p: Path) -> Path:
    p.write_bytes(b"")
    return p


def _parse_size(s: str) -> int:
    return int(s[:-1]) * {"G": 1 << 30, "T": 1 << 40}[s[-1]]


# --- flat vs fan-out ------------------------------------------------------------------------------


def names(n: int) -> list[str]:
    # Ids shaped like the crawler's: 16 hex characters, not sorted by creation order.
    return [hashlib.sha1(str(i).encode()).hexdigest()[:16] for i in range(n)]


def time_stats(paths: list[str], samples: int) -> float:
    pick = random.Random(1).sample(paths, min(samples, len(paths)))
    t = time.perf_counter()
    for p in pick:
        os.stat(p)
    return (time.perf_counter() - t) / len(pick) * 1e6


def time_missing(dirs: list[str], samples: int) -> float:
    rng = random.Random(2)
    t = time.perf_counter()
    for i in range(samples):
        try:
            os.stat(os.path.join(rng.choice(dirs), f"missing-{i}"))
        except FileNotFoundError:
            pass
    return (time.perf_counter() - t) / samples * 1e6


def time_listing(d: str) -> tuple[float, int]:
    t = time.perf_counter()
    with os.scandir(d) as it:
        count = sum(1 for _ in it)
    return (time.perf_counter() - t) * 1e3, count


def probe_layout(root: Path, ids: list[str], layout: str, cold: bool) -> dict:
    base = root / layout
    base.mkdir()
    flags = os.O_CREAT | os.O_WRONLY | os.O_EXCL
    paths: list[str] = []
    dirs: set[str] = set()
    t = time.perf_counter()
    if layout == "flat":
        d = str(base)
        for name in ids:
            p = os.path.join(d, name)
            os.close(os.open(p, flags, 0o644))
            paths.append(p)
        dirs.add(d)
    else:
        for name in ids:
            d = os.path.join(base, fanout(name))
            if d not in dirs:
                os.makedirs(d, exist_ok=True)
                dirs.add(d)
            p = os.path.join(d, name)
            os.close(os.open(p, flags, 0o644))
            paths.append(p)
    os.sync()
    create_s = time.perf_counter() - t
    dir_list = sorted(dirs)
    out = {
        "create_s": round(create_s, 3),
        "creates_per_s": round(len(ids) / create_s),
        "directories_created": len(dirs) + (256 if layout == "fanout" else 0),
        "stat_warm_us": round(time_stats(paths, STAT_SAMPLES), 2),
        "stat_missing_warm_us": round(time_missing(dir_list, STAT_SAMPLES), 2),
    }
    if cold and drop_caches():
        out["stat_cold_us"] = round(time_stats(paths, COLD_SAMPLES), 1)
    if layout == "flat":
        if cold and drop_caches():
            out["list_dir_cold_ms"] = round(time_listing(dir_list[0])[0], 2)
        ms, count = time_listing(dir_list[0])
        out.update(list_dir_ms=round(ms, 2), list_dir_entries=count, dir_size_bytes=os.stat(dir_list[0]).st_size)
    else:
        leaf = random.Random(3).choice(dir_list)
        if cold and drop_caches():
            out["list_leaf_cold_ms"] = round(time_listing(leaf)[0], 3)
        ms, count = time_listing(leaf)
        sizes = [len(os.listdir(d)) for d in random.Random(4).sample(dir_list, min(200, len(dir_list)))]
        t = time.perf_counter()
        walked = sum(len(f) for _, _, f in os.walk(base))
        out.update(
            list_leaf_ms=round(ms, 3), list_leaf_entries=count,
            leaf_entries_mean=round(sum(sizes) / len(sizes), 1), leaf_entries_max=max(sizes),
            leaf_dir_size_bytes=os.stat(leaf).st_size, walk_all_s=round(time.perf_counter() - t, 3),
        )
        assert walked == len(ids)
    t = time.perf_counter()
    shutil.rmtree(base)
    os.sync()
    out["delete_all_s"] = round(time.perf_counter() - t, 3)
    return out


def probe_fs(root: Path, sizes: list[int], cold: bool) -> dict:
    result = {"file_system": inode_stats(root), "runs": {}}
    for n in sizes:
        ids = names(n)
        result["runs"][str(n)] = {}
        for layout in ("flat", "fanout"):
            result["runs"][str(n)][layout] = probe_layout(root, ids, layout, cold)
            print(f"[probe] {result['file_system']['fs_type']} N={n} {layout}: "
                  f"{json.dumps(result['runs'][str(n)][layout])}", file=sys.stderr, flush=True)
    return result


# --- loop-mounted images --------------------------------------------------------------------------


def can_loop_mount(tmp: Path) -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "not root"
    if not shutil.which("mkfs.ext4"):
        return False, "mkfs.ext4 missing"
    img, mnt = tmp / "probe.img", tmp / "probe-mnt"
    os.truncate(_touch(img), 64 << 20)
    try:
        if run(["mkfs.ext4", "-q", "-F", str(img)]).returncode != 0:
            return False, "mkfs.ext4 failed"
        mnt.mkdir()
        r = run(["mount", "-o", "loop", str(img), str(mnt)])
        if r.returncode != 0:
            return False, f"loop mount refused: {r.stderr.strip()}"
        run(["umount", str(mnt)])
        return True, "ok"
    finally:
        if mnt.exists():
            mnt.rmdir()
        img.unlink()


class Image:
    """A sparse image file, formatted and loop-mounted for the duration of a `with`."""

    def __init__(self, tmp: Path, fs: str, size: int, mkfs_args: list[str]):
        self.img = tmp / f"{fs}-{size}.img"
        self.mnt = tmp / f"{fs}-{size}-mnt"
        self.fs, self.size, self.mkfs_args = fs, size, mkfs_args

    def __enter__(self) -> Path:
        os.truncate(_touch(self.img), self.size)
        cmd = ["mkfs.ext4", "-q", "-F", *self.mkfs_args, str(self.img)] if self.fs == "ext4" else \
              ["mkfs.xfs", "-q", "-f", *self.mkfs_args, str(self.img)]
        r = run(cmd)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:2])} failed: {r.stderr.strip()}")
        self.mnt.mkdir()
        r = run(["mount", "-o", "loop", str(self.img), str(self.mnt)])
        if r.returncode != 0:
            raise RuntimeError(f"mount failed: {r.stderr.strip()}")
        return self.mnt

    def __exit__(self, *exc) -> None:
        run(["umount", str(self.mnt)])
        if self.mnt.exists():
            self.mnt.rmdir()
        self.img.unlink(missing_ok=True)


def fill_until_no_inodes(root: Path) -> dict:
    """Create empty files until the file system refuses; show what df said at that moment."""
    before = inode_stats(root)
    d = root / "fill"
    d.mkdir()
    created, error = 0, None
    t = time.perf_counter()
    for i in range(FILL_LIMIT):
        sub = d / f"{i // 10000:04d}"
        if i % 10000 == 0:
            try:
                sub.mkdir()
            except OSError as exc:
                error = exc.strerror
                break
        try:
            os.close(os.open(sub / str(i), os.O_CREAT | os.O_WRONLY, 0o644))
        except OSError as exc:
            error = exc.strerror
            break
        created += 1
    after = inode_stats(root)
    return {
        "size_bytes": before["size_bytes"], "inodes_total_before": before["inodes_total"],
        "empty_files_created": created, "stopped_by": error or f"limit {FILL_LIMIT}",
        "seconds": round(time.perf_counter() - t, 2),
        "inodes_total_after": after["inodes_total"], "inodes_free_after": after["inodes_free"],
        "bytes_free_after": after["bytes_free"],
        "bytes_free_pct_after": round(100 * after["bytes_free"] / after["size_bytes"], 1),
    }


def probe_images(tmp: Path, image_sizes: list[int], cold: bool) -> dict:
    out: dict = {}
    big = 8 << 30  # sparse; ext4 at 16 KiB/inode gives 524,288 inodes
    for fs, args in (("ext4", ["-i", "16384"]), ("xfs", [])):
        if not shutil.which(f"mkfs.{fs}"):
            out[fs] = {"error": f"mkfs.{fs} not installed"}
            continue
        try:
            with Image(tmp, fs, big, args) as mnt:
                out[fs] = probe_fs(mnt, image_sizes, cold)
            small = 512 << 20
            with Image(tmp, fs, small, args) as mnt:
                out[fs]["inode_exhaustion"] = fill_until_no_inodes(mnt)
        except (RuntimeError, OSError) as exc:
            out[fs] = {"error": str(exc)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,300000", help="comma-separated N values")
    ap.add_argument("--dir", default=None, help="where to make the temp dir (default: system temp)")
    ap.add_argument("--cold", action="store_true", help="also time stats after dropping the page cache (root)")
    ap.add_argument("--images", action="store_true", help="also probe fresh ext4/XFS loop images (root)")
    ap.add_argument("--image-sizes", default="10000,100000", help="N values on the images (at most 300,000)")
    ap.add_argument("--no-host", action="store_true", help="skip the timing runs on the host file system")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    image_sizes = [int(s) for s in args.image_sizes.split(",") if s.strip()]
    if any(n < 1 or n > MAX_N for n in sizes) or any(n < 1 or n > 300_000 for n in image_sizes):
        ap.error(f"sizes must be between 1 and {MAX_N} (images: 300,000)")

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="trendreel-fsprobe-", dir=args.dir))
    try:
        report: dict = {
            "machine": {"kernel": platform.release(), "python": platform.python_version(), "cpus": os.cpu_count()},
            "sizes": sizes,
            "method": "empty files via os.open(O_CREAT|O_EXCL); fan-out = sha256(name)[0:2]/[2:4]; "
                      "timings include os.sync(); warm = dentry/inode cache hot",
        }
        report["host"] = {"file_system": inode_stats(tmp)} if args.no_host else probe_fs(tmp, sizes, args.cold)
        mountable, why = can_loop_mount(tmp)  # also decides how the XFS dry runs are done
        report["loop_mount"] = why
        report["mkfs_defaults"] = {"ext4": ext4_defaults(tmp), "xfs": xfs_defaults(tmp, mountable)}
        if args.images:
            report["images"] = probe_images(tmp, image_sizes, args.cold) if mountable else {"error": why}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
