"""Who owns long work, so that what a killed process leaves behind can be found and cleaned up.

A process is named by its *owner token*, `host:pid:start`, where `start` is the process's start time
as the kernel counts it (so a pid reused by another process is not taken for the owner). Long work
records the token where it leaves things: on its database row, in a `.owner` file in its scratch
folder, and in the environment of the programs it runs (TRENDREEL_OWNER). Those programs also get
PR_SET_PDEATHSIG on Linux: the kernel kills them when the process that started them dies, even by
`kill -9`.

The next start then reaps what a dead owner left: `owner_dead(token)` for its rows, `kill_orphans()`
for programs still running with its token, `remove_stale_folders()` for its scratch folders.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

ENV = "TRENDREEL_OWNER"
OWNER_FILE = ".owner"
_PROC = Path("/proc")
_PR_SET_PDEATHSIG = 1

__all__ = ["ENV", "child_kwargs", "host", "kill_orphans", "make_scratch", "owner_dead", "owner_token",
           "remove_stale_folders"]


def host() -> str:
    return socket.gethostname()


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux); None when it does not exist; "0" elsewhere."""
    if not _PROC.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "0"
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) ": state is field 3, starttime field 22
    if fields and fields[0] == "Z":  # a zombie has finished; its parent has not reaped it yet
        return None
    return fields[19] if len(fields) > 19 else "0"


def owner_token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{host()}:{pid}:{_start_time(pid) or '0'}"


def owner_dead(token: str) -> bool | None:
    """True when the token's process has ended; False while it runs; None when it ran on another host."""
    try:
        name, pid, start = token.rsplit(":", 2)
        pid_n = int(pid)
    except ValueError:
        return None
    if name != host():
        return None
    return _start_time(pid_n) != start


# ---- children that die with their owner -------------------------------------------------------

def _pdeathsig_function():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return None


_PRCTL = _pdeathsig_function()  # looked up once here: the child of a fork should do as little as it can


def _die_with_parent(parent: int):
    def preexec() -> None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def child_kwargs(env: dict[str, str] | None = None) -> dict:
    """subprocess keyword arguments for a program this process runs for long work: the owner token in its
    environment and, on Linux, death with its parent."""
    kwargs: dict = {"env": {**(os.environ if env is None else env), ENV: owner_token()}}
    if _PRCTL is not None:
        kwargs["preexec_fn"] = _die_with_parent(os.getpid())
    return kwargs


def kill_orphans() -> list[int]:
    """Kill the programs still running for an owner on this host that has died (Linux: read from /proc);
    the pids killed."""
    if not _PROC.is_dir():
        return []
    marker = f"{ENV}=".encode()
    killed = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        for item in environ.split(b"\0"):
            if item.startswith(marker):
                token = item[len(marker):].decode(errors="replace")
                if owner_dead(token):
                    try:
                        os.kill(int(entry.name), signal.SIGKILL)
                        killed.append(int(entry.name))
                    except (ProcessLookupError, PermissionError):
                        pass
                break
    return killed


# ---- scratch folders -------------------------------------------------------------------------

def make_scratch(prefix: str) -> Path:
    """A new scratch folder in the temp dir with this process's token in its `.owner` file."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / OWNER_FILE).write_text(json.dumps({"token": owner_token()}), encoding="utf-8")
    return path


def remove_stale_folders(prefixes: tuple[str, ...], root: Path | None = None) -> list[Path]:
    """Remove the scratch folders (of these name prefixes, in the temp dir) whose owner has died; those removed.
    A folder without an owner file, or of another host, is left alone."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    for prefix in prefixes:
        for path in root.glob(prefix + "*"):
            try:
                token = json.loads((path / OWNER_FILE).read_text(encoding="utf-8"))["token"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if owner_dead(token):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed
