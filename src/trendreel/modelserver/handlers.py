"""What a model server can run: job kinds, each a handler built once per server from its settings.

A handler is a callable `handler(ctx) -> dict`: it reads `ctx.spec` and the files in `ctx.inputs`,
writes its output files into `ctx.out`, may call `ctx.progress(fraction, note)`, and returns a JSON
result. It may also have `check(spec, names)`, run when a job is submitted, raising ValueError for a
spec it can never run (the submit gets 422). A TrendreelError it raises becomes the job's error
message (with the error's `retryable` flag when it has one); any other exception is logged and
reported as an internal error.

Built in: `render:<backend>` for every video generator (`render:compositor` on CPU, `render:ltx2` on a
GPU, `render:<name>` for any registered one). More kinds: `register_kind(kind, factory)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from trendreel.errors import ConfigError
from trendreel.registry import default_registry
from trendreel.render.jobspec import RenderHandler
from trendreel.settings import Settings

__all__ = ["Handler", "JobContext", "build_handlers", "kind_names", "register_kind"]


@dataclass
class JobContext:
    job_id: str
    kind: str
    spec: dict
    inputs: Path  # uploaded files, by the names the spec uses
    out: Path  # write output files here
    scratch: Path  # a private work folder, wiped before every attempt
    report: Callable[[float, str | None], None] = field(default=lambda f, n=None: None, repr=False)
    is_cancelled: Callable[[], bool] = field(default=lambda: False, repr=False)

    def progress(self, fraction: float, note: str | None = None) -> None:
        self.report(max(0.0, min(1.0, float(fraction))), note)

    def cancelled(self) -> bool:
        return self.is_cancelled()


class Handler(Protocol):
    def __call__(self, ctx: JobContext) -> dict: ...


_KINDS: dict[str, Callable[[Settings], Handler]] = {}


def register_kind(kind: str, factory: Callable[[Settings], Handler]) -> None:
    """Make `kind` available to `--kinds`; `factory(settings)` builds its handler once per server."""
    _KINDS[kind] = factory


def _render_factory(kind: str) -> Callable[[Settings], Handler] | None:
    if not kind.startswith("render:"):
        return None
    backend = kind.split(":", 1)[1]
    if backend == "remote" or not default_registry().knows("video_generator", backend):
        return None

    def factory(settings: Settings) -> Handler:
        return RenderHandler(backend, settings.render)

    return factory


def kind_names() -> list[str]:
    return sorted(set(_KINDS) | {f"render:{n}" for n in default_registry().names("video_generator") if n != "remote"})


def build_handlers(kinds: list[str], settings: Settings) -> dict[str, Handler]:
    """One handler per kind; ConfigError names the known kinds for an unknown one."""
    out: dict[str, Handler] = {}
    for kind in kinds:
        factory = _KINDS.get(kind) or _render_factory(kind)
        if factory is None:
            raise ConfigError(f"unknown job kind {kind!r}; known: {', '.join(kind_names())} (--kinds)")
        out[kind] = factory(settings)
    return out
