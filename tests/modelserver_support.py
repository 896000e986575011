"""A real model server in a child process (python -m trendreel.modelserver) on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TOKEN = "test-internal-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, work: Path, *, kinds: str = "render:compositor", port: int | None = None,
                 env: dict[str, str] | None = None, home: Path | None = None, args: list[str] | None = None):
        self.work, self.kinds, self.args = Path(work), kinds, list(args or [])
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token_file = self.work.parent / f"{self.work.name}.token"
        self.token_file.write_text(TOKEN + "\n")
        self.env = {**os.environ, "TRENDREEL_HOME": str(home or self.work.parent / f"{self.work.name}-home"), **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log = self.work.parent / f"{self.work.name}.log"

    def start(self, timeout_s: float = 30.0) -> "ServerProcess":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "trendreel.modelserver", "--host", "127.0.0.1", "--port", str(self.port),
                 "--token-file", str(self.token_file), "--work-dir", str(self.work), "--kinds", self.kinds,
                 "--log-level", "warning", *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"model server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("model server did not start")

    def jobs(self) -> list[dict]:
        r = httpx.get(f"{self.url}/v1/jobs", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        r.raise_for_status()
        return r.json()["jobs"]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, like a crashed machine."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
