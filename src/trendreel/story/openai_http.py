"""Chat completions from any OpenAI-compatible server: vLLM, llama.cpp server, Ollama, OpenAI itself.

The HTTP work (retries with backoff on 429, 5xx and connection errors up to `llm.max_retries` times,
a generation past `llm.timeout_s` not repeated, errors naming the URL and the setting to fix, the API
key only in the Authorization header) is `trendreel.adapters.openai_http`; this is the ChatBackend
over it, with the llm.* setting names and LlmError.
"""

from __future__ import annotations

import httpx

from trendreel.adapters.openai_http import OpenAIClient, SettingNames
from trendreel.errors import LlmError
from trendreel.settings import LlmSettings

LLM_SETTINGS = SettingNames(user="story.backend = openai", base_url="llm.base_url", api_key="llm.api_key",
                            model="llm.model", slow="raise llm.timeout_s or lower llm.max_tokens")


class OpenAIChat:
    """A ChatBackend over HTTP."""

    name = "openai"

    def __init__(self, settings: LlmSettings, *, home=None, backoff_s: float = 0.5,
                 transport: httpx.BaseTransport | None = None):
        # `home` is part of the chat model factory's signature (a local model keeps files there); unused here.
        self.client = OpenAIClient(settings.base_url, api_key=settings.api_key, timeout_s=settings.timeout_s,
                                   retries=settings.max_retries, backoff_s=backoff_s, names=LLM_SETTINGS,
                                   error=LlmError, transport=transport)
        self.url = self.client.url("chat/completions")
        self.model = settings.model
        self.timeout_s = settings.timeout_s
        self.retries = settings.max_retries
        self.backoff_s = backoff_s

    def complete(self, request: dict) -> dict:
        return self.client.chat(request)

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:  # no key here
        return f"<OpenAIChat url={self.url!r} model={self.model!r}>"
