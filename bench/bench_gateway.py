"""What the gateway costs, and whether its API holds up to generated input.

1. Overhead: one trend read by id (`get_trend`, a database read every time) through the gateway
   (`trendreel serve`'s app: bearer token checked in the database, id validated, role, Prometheus
   metrics, session and body-limit middlewares, JSON error handlers) against the same service function
   on a bare Starlette endpoint on uvicorn with nothing else. Same data, same machine, same run.
2. A cached read: the trend list (`GET /api/v1/trends`, kept for 2 s in process) through the gateway.
3. Fuzzing: schemathesis over every operation of the OpenAPI schema, valid and invalid cases, counting
   cases and answers by status; any 5xx is a failure.

Load comes from wrk on loopback when it is installed (else a Python load generator on httpx, named as
such in the output). The data is the bundled sample site, crawled, indexed and with its trends detected.

    python bench/bench_gateway.py [--duration 10] [--connections 16] [--workers 1] [--fuzz-examples 8] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

BARE_APP = '''
import os
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from trendreel.bootstrap import build_app
from trendreel.settings import load_settings
from trendreel import services

application = build_app(load_settings())

def trend(request):
    return JSONResponse(services.get_trend(application, request.path_params["trend_id"]))

app = Starlette(routes=[Route("/trends/{trend_id}", trend)])
'''


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout_s: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def prepare(home: Path) -> dict:
    """The sample site crawled, indexed, trends detected; an admin with a token."""
    from trendreel import services
    from trendreel.services import users
    from trendreel.bootstrap import build_app
    from trendreel.demo.run import demo_sources
    from trendreel.demo.server import serve_site
    from trendreel.demo.site import build_sample_site
    from trendreel.settings import Settings

    site = build_sample_site(home.parent / "site")
    with serve_site(site.root) as url:
        settings = Settings(home=home, crawl={"delay_s": 0, "per_host_concurrency": 4}, index={"speech_model": "none"},
                            sources=demo_sources(url))
        app = build_app(settings)
        try:
            services.crawl_sources(app)
            services.index_articles(app)
            trends = services.detect_trends(app)
            users.add_user(app, username="bench", password="bench password long", role="admin")
            token = users.create_token(app, username="bench", name="bench")["token"]
        finally:
            app.close()
    return {"token": token, "trend_id": trends[0]["id"], "trends": len(trends)}


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float | None:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    return round(float(m.group(1)) * _UNITS[m.group(2)], 3) if m else None


def run_wrk(url: str, *, duration: int, connections: int, threads: int, headers: dict) -> dict:
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=duration + 60).stdout
    lat = {p: _ms(v) for p, v in re.findall(r"^\s*(50|75|90|99)%\s+(\S+)\s*$", out, re.M)}
    if lat.get("99") is None:
        log("wrk output without a 99th percentile:\n" + out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"tool": "wrk", "requests": total, "requests_per_s": round(rps, 1), "p50_ms": lat.get("50"),
            "p90_ms": lat.get("90"), "p99_ms": lat.get("99"), "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def run_python_load(url: str, *, duration: int, connections: int, headers: dict) -> dict:
    """A Python load generator (used only without wrk): `connections` async clients in a loop."""
    import asyncio

    import httpx

    lat: list[float] = []
    bad = 0

    async def worker(client, until):
        nonlocal bad
        while time.monotonic() < until:
            t = time.perf_counter()
            r = await client.get(url, headers=headers)
            lat.append((time.perf_counter() - t) * 1000)
            bad += r.status_code >= 300

    async def main():
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections)) as client:
            until = time.monotonic() + duration
            await asyncio.gather(*(worker(client, until) for _ in range(connections)))

    start = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - start
    lat.sort()
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 3)  # noqa: E731
    return {"tool": "python-httpx", "requests": len(lat), "requests_per_s": round(len(lat) / elapsed, 1),
            "p50_ms": pick(0.5), "p90_ms": pick(0.9), "p99_ms": pick(0.99), "non_2xx": bad}


def measure(url: str, args, headers: dict, *, connections: int | None = None) -> dict:
    import httpx

    r = httpx.get(url, headers=headers, timeout=10)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    for _ in range(50):  # warm up: imports, caches, connections
        httpx.get(url, headers=headers, timeout=10)
    conns = connections or args.connections
    if shutil.which("wrk"):
        out = run_wrk(url, duration=args.duration, connections=conns, threads=1, headers=headers)
    else:
        out = run_python_load(url, duration=args.duration, connections=conns, headers=headers)
    return {"connections": conns, **out}


def compare(direct_url: str, gateway_url: str, args, headers: dict) -> dict:
    """Latency one request at a time (what a caller waits) and throughput under load, alternating the two."""
    one = {"direct": measure(direct_url, args, {}, connections=1), "gateway": measure(gateway_url, args, headers, connections=1)}
    many = {"direct": measure(direct_url, args, {}), "gateway": measure(gateway_url, args, headers)}
    return {
        "one_at_a_time": {**one, "added_p50_ms": round(one["gateway"]["p50_ms"] - one["direct"]["p50_ms"], 3),
                          "added_p99_ms": round(one["gateway"]["p99_ms"] - one["direct"]["p99_ms"], 3)},
        "under_load": {**many, "added_ms_per_request": round(1000 / many["gateway"]["requests_per_s"]
                                                             - 1000 / many["direct"]["requests_per_s"], 3)},
    }


def fuzz(home: Path, token: str, examples: int) -> dict:
    from tests.integration.api_helpers import fuzz_schema
    from trendreel.api import create_app
    from trendreel.settings import Settings

    api = create_app(Settings(home=home))
    start = time.perf_counter()
    stats = fuzz_schema(api, token, max_examples=examples)
    api.state.runner.shutdown(wait=True)  # runs the fuzzer started finish before their files go
    api.state.trendreel.close()
    return {"operations": stats["operations"], "cases": stats["cases"], "by_mode": stats["by_mode"],
            "by_status": dict(sorted(stats["by_status"].items())), "server_errors": len(stats["failures"]),
            "failures": stats["failures"][:10], "examples_per_operation_and_mode": examples,
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=10, help="Seconds of load per measurement.")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=1, help="Gateway worker processes (more than 1 names a server vector store).")
    ap.add_argument("--fuzz-examples", type=int, default=8, help="Generated requests per operation and mode (0: no fuzzing).")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    home = work / "home"
    log("preparing: the sample site crawled, indexed, trends detected ...")
    data = prepare(home)
    env = {**os.environ, "TRENDREEL_HOME": str(home), "TRENDREEL_LOG_LEVEL": "WARNING"}
    headers = {"Authorization": f"Bearer {data['token']}"}
    result = {"bench": "gateway", "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                              "load_avg_at_start": os.getloadavg()},
              "load": {"duration_s": args.duration, "connections": args.connections,
                       "generator": "wrk" if shutil.which("wrk") else "python-httpx"},
              "data": {"trends": data["trends"]}}
    bin_dir = Path(sys.executable).parent
    servers = {}
    try:
        # The bare endpoint: the same service function, nothing around it.
        (work / "bare_app.py").write_text(BARE_APP)
        port = free_port()
        servers["bare"] = subprocess.Popen([str(bin_dir / "uvicorn"), "bare_app:app", "--port", str(port), "--log-level", "warning",
                                            "--no-access-log"], cwd=work, env=env)
        bare = f"http://127.0.0.1:{port}"
        wait_up(bare + f"/trends/{data['trend_id']}", servers["bare"])
        # The gateway, as `trendreel serve` runs it.
        gport = free_port()
        genv = dict(env)
        if args.workers > 1:
            genv["TRENDREEL_VECTORS_URL"] = f"qdrant://127.0.0.1:{free_port()}/unused"  # trend reads open no vectors
        servers["gateway"] = subprocess.Popen([str(bin_dir / "trendreel"), "serve", "--port", str(gport), "--workers", str(args.workers)],
                                              env=genv, stderr=subprocess.DEVNULL)
        gw = f"http://127.0.0.1:{gport}"
        wait_up(gw + "/healthz", servers["gateway"])
        tid = data["trend_id"]
        log("measuring: one trend by id, bare service endpoint vs through the gateway ...")
        result["trend_by_id"] = compare(f"{bare}/trends/{tid}", f"{gw}/api/v1/trends/{tid}", args, headers)
        log("measuring: cached trend list through the gateway ...")
        cached = measure(f"{gw}/api/v1/trends", args, headers)
        log("measuring: /healthz (no auth, no database) ...")
        health = measure(f"{gw}/healthz", args, {})
        result["cached_trend_list"] = cached
        result["healthz"] = health
        result["gateway_workers"] = args.workers
    finally:
        for p in servers.values():
            stop(p)
    if args.fuzz_examples:
        log("fuzzing the OpenAPI schema with schemathesis ...")
        result["fuzz"] = fuzz(home, data["token"], args.fuzz_examples)
    result["machine"]["load_avg_at_end"] = os.getloadavg()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
