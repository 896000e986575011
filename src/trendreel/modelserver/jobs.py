"""Jobs on disk: one folder per job under the server's work folder, its state in job.json.

    <work>/jobs/<job id>/job.json      state: kind, status, progress, error, attempts, outputs, result
                         spec.json     the job's JSON spec as submitted
                         inputs/       the uploaded files, by the names the spec uses
                         outputs/      the files the job made (moved here only when it finished)
                         scratch/      the handler's work folder while it runs (wiped on every start)

The job id is a hash of the kind, the spec and every input file's sha256, so the same job submitted
twice (a retry after a crash, a second worker) lands on the same folder. job.json is replaced
atomically (write, fsync, rename), so a server killed at any moment leaves the previous state; a job
left `running` by a killed server is queued again when the server starts (its scratch is wiped), and
finished jobs keep their outputs across restarts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from trendreel.adapters.modelserver import file_sha256, job_id

__all__ = ["FILE_NAME", "STATES", "JobStore"]

STATES = ("queued", "running", "done", "error")
# File names in a job: plain names only, so no upload or fetch can reach outside the job's folder.
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
JOB_ID = re.compile(r"^j[0-9a-f]{31}$")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class JobStore:
    """Job folders and their state; every change goes through one lock."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.jobs = self.root / "jobs"
        self.incoming = self.root / "incoming"
        self.jobs.mkdir(parents=True, exist_ok=True)
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()

    # ---- reading -------------------------------------------------------------------------------

    def folder(self, jid: str) -> Path:
        if not JOB_ID.match(jid):
            raise KeyError(jid)
        return self.jobs / jid

    def get(self, jid: str) -> dict | None:
        try:
            path = self.folder(jid) / "job.json"
        except KeyError:
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def spec(self, jid: str) -> dict:
        return json.loads((self.folder(jid) / "spec.json").read_text(encoding="utf-8"))

    def list(self) -> list[dict]:
        out = []
        for d in sorted(self.jobs.iterdir()):
            state = self.get(d.name)
            if state is not None:
                out.append(state)
        return sorted(out, key=lambda s: s["created_at"])

    def output(self, jid: str, name: str) -> Path | None:
        state = self.get(jid)
        if state is None or state["status"] != "done" or not FILE_NAME.match(name):
            return None
        if name not in {o["name"] for o in state.get("outputs", [])}:
            return None
        path = self.folder(jid) / "outputs" / name
        return path if path.is_file() else None

    # ---- changing ------------------------------------------------------------------------------

    def new_upload(self) -> Path:
        """A private folder for an upload in progress (moved into place by `create`)."""
        d = self.incoming / uuid.uuid4().hex
        (d / "inputs").mkdir(parents=True)
        return d

    def create(self, kind: str, spec: dict, upload: Path) -> tuple[dict, bool]:
        """The job for (kind, spec, uploaded inputs): (state, created). An existing job is returned as it is,
        except one that failed, which is queued again."""
        inputs = upload / "inputs"
        hashes = {p.name: file_sha256(p) for p in sorted(inputs.iterdir())}
        jid = job_id(kind, spec, hashes)
        with self.lock:
            state = self.get(jid)
            if state is not None:
                shutil.rmtree(upload, ignore_errors=True)
                if state["status"] == "error":
                    state = self.update(jid, status="queued", progress=0.0, error=None, retryable=None,
                                        finished_at=None)
                    return state, True
                return state, False
            state = {"id": jid, "kind": kind, "status": "queued", "progress": 0.0, "note": None, "error": None,
                     "retryable": None, "created_at": _now(), "started_at": None, "finished_at": None,
                     "attempts": 0, "inputs": [{"name": n, "sha256": h, "bytes": (inputs / n).stat().st_size}
                                                for n, h in hashes.items()],
                     "outputs": [], "result": None}
            _write_json(upload / "spec.json", spec)
            _write_json(upload / "job.json", state)
            os.replace(upload, self.jobs / jid)
            return state, True

    def update(self, jid: str, **changes) -> dict:
        with self.lock:
            state = self.get(jid)
            if state is None:
                raise KeyError(jid)
            state.update(changes)
            _write_json(self.folder(jid) / "job.json", state)
            return state

    def delete(self, jid: str) -> None:
        with self.lock:
            folder = self.folder(jid)
            if folder.exists():
                trash = self.incoming / f"deleted-{jid}-{uuid.uuid4().hex[:6]}"
                os.replace(folder, trash)  # gone from the job list at once, removed after
                shutil.rmtree(trash, ignore_errors=True)

    def recover(self) -> list[str]:
        """After a restart: unfinished uploads removed; jobs left queued or running queued again (oldest first)."""
        with self.lock:
            for d in self.incoming.iterdir():
                shutil.rmtree(d, ignore_errors=True)
            again = []
            for state in self.list():
                if state["status"] in ("queued", "running"):
                    shutil.rmtree(self.folder(state["id"]) / "scratch", ignore_errors=True)
                    if state["status"] == "running":
                        self.update(state["id"], status="queued", progress=0.0,
                                    note="the server stopped while this job ran; queued again")
                    again.append(state["id"])
            return again
