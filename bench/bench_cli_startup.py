"""Start-up time of the `trendreel` command against the floor of any Typer + Rich CLI, in one run.

Measures the wall time of whole processes, each started --runs times (round-robin, so that a noisy
neighbour slows every command alike), and reports min, median and p90 per command and the ratio of
its median to the baseline's:

  baseline   python -c "import typer, rich"        what any Typer + Rich command pays at least
  help       trendreel --help
  status     trendreel status --json --home HOME   a light command on an existing, migrated home
  articles   trendreel articles --json --home HOME
  stories    trendreel stories --json --home HOME

HOME is made once, before the timing: a temporary folder whose database is migrated and holds a few
imported items (so `articles` has rows to print). `trendreel` runs as `python -m trendreel` with the
code under test first on PYTHONPATH (--src, default: this checkout's src), which is what the console
script does after its own few imports. The aim: `--help` at most 5x the baseline.

Also prints `python -X importtime -m trendreel --help`: the 10 slowest imports by cumulative time
(a package with everything it imports) and by self time (the module's own code).

    python bench/bench_cli_startup.py                      # 20 runs each
    python bench/bench_cli_startup.py --runs 50
    python bench/bench_cli_startup.py --src /path/to/other/checkout/src   # e.g. the code before a change

Figures (2 shared cores under other work, load about 2.5, Python 3.11; 20 runs each, seconds;
"before" is the CLI as one module importing services, bootstrap and the engine at start, and every
database open running Alembic; "after" is the cli package with deferred imports and the
alembic_version fast path):

                 before: min  median   p90   x base    after: min  median   p90   x base
    baseline           0.060  0.098  0.113    1.0           0.064  0.090  0.111    1.0
    --help             1.887  2.317  2.863   23.7           0.217  0.290  0.338    3.2
    status             1.775  2.280  2.768   23.3           1.284  1.518  1.779   16.9
    articles           1.812  2.393  2.810   24.5           1.254  1.552  1.756   17.3
    stories            1.896  2.468  2.804   25.2           1.107  1.268  1.473   14.2

`--help` now imports 353 modules (1470 before), about what a two-command Typer app with Rich help
imports; its slowest imports are typer.rich_utils, rich.markdown (markdown_it) and rich.console. The
light commands still spend most of their time importing: services.content loads the crawler (and
numpy) at module level (~0.5 s) even to count rows, and bootstrap brings settings (pydantic),
SQLAlchemy and structlog (~0.3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ITEMS = [
    {"id": "b1", "title": "Night markets are back in Seoul", "published_at": "2026-11-02", "lang": "en",
     "text": "Night markets reopened across the city this weekend."},
    {"id": "b2", "title": "한강 불꽃축제에 백만 명", "published_at": "2026-11-03", "lang": "ko",
     "text": "올해 불꽃축제에는 백만 명이 모였다."},
    {"id": "b3", "title": "A new subway line opens", "published_at": "2026-11-04", "lang": "en",
     "text": "The line links the airport with the centre in 40 minutes."},
]


def _env(src: Path) -> dict[str, str]:
    # The user's own TRENDREEL_* settings must not change what is measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _make_home(python: str, env: dict[str, str], folder: Path) -> Path:
    home = folder / "home"
    items = folder / "items.jsonl"
    items.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in ITEMS), encoding="utf-8")
    subprocess.run([python, "-m", "trendreel", "import", str(items), "--home", str(home), "--json"],
                   env=env, check=True, capture_output=True)
    return home


def _time_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
    return wall


def _summary(times: list[float]) -> dict:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"min_s": round(ordered[0], 4), "median_s": round(statistics.median(ordered), 4), "p90_s": round(p90, 4)}


def _importtime(python: str, env: dict[str, str], top: int) -> dict:
    proc = subprocess.run([python, "-X", "importtime", "-m", "trendreel", "--help"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:"):].split("|")
        # One space after the bar for a top-level import, two more per level of nesting.
        top_level = len(name) - len(name.lstrip()) == 1
        rows.append({"module": name.strip(), "self_us": int(self_us), "cumulative_us": int(cumulative_us),
                     "top_level": top_level})
    total = sum(r["cumulative_us"] for r in rows if r["top_level"])  # nested imports are inside these
    return {
        "modules": len(rows),
        "total_ms": round(total / 1000, 1),
        "slowest_cumulative": [{"module": r["module"], "ms": round(r["cumulative_us"] / 1000, 1)}
                               for r in sorted(rows, key=lambda r: -r["cumulative_us"])[:top]],
        "slowest_self": [{"module": r["module"], "ms": round(r["self_us"] / 1000, 1)}
                         for r in sorted(rows, key=lambda r: -r["self_us"])[:top]],
        "imported": {name: any(r["module"] == name for r in rows)
                     for name in ("fastapi", "alembic", "sqlalchemy", "numpy", "scipy", "trendreel.services",
                                  "trendreel.bootstrap")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="Processes started per command.")
    parser.add_argument("--warmup", type=int, default=2, help="Untimed runs per command first (page cache, .pyc).")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="Folder holding the trendreel package under test.")
    parser.add_argument("--python", default=sys.executable, help="Interpreter (with trendreel's dependencies).")
    parser.add_argument("--top", type=int, default=10, help="How many of the slowest imports to list.")
    args = parser.parse_args()

    env = _env(args.src.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        home = _make_home(args.python, env, Path(tmp))
        trendreel = [args.python, "-m", "trendreel"]
        commands = {
            "baseline": [args.python, "-c", "import typer, rich"],
            "help": [*trendreel, "--help"],
            "status": [*trendreel, "status", "--json", "--home", str(home)],
            "articles": [*trendreel, "articles", "--json", "--home", str(home)],
            "stories": [*trendreel, "stories", "--json", "--home", str(home)],
        }
        for _ in range(args.warmup):
            for argv in commands.values():
                _time_once(argv, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(_time_once(argv, env))
        imports = _importtime(args.python, env, args.top)

    results = {name: _summary(t) for name, t in times.items()}
    base = results["baseline"]["median_s"]
    for r in results.values():
        r["x_baseline"] = round(r["median_s"] / base, 2)
    print(json.dumps({
        "bench": "cli_startup",
        "src": str(args.src),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "runs": args.runs,
        "results": results,
        "help_x_baseline": results["help"]["x_baseline"],
        "aim_help_x_baseline_at_most": 5,
        "importtime_help": imports,
    }, indent=2))


if __name__ == "__main__":
    main()
