"""The composition root: the one place that builds backends from settings.

`build_app(settings)` gives an App: the settings, the database, the file store and the registry, plus
one method per backend the stages use. Each backend is built on first use (crawling needs no model)
and kept for the App's life; every one comes from the registry (trendreel.registry), so a plugin's
backend is built exactly like a built-in one. Nothing else builds backends: stages and services ask
the App.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlparse

from trendreel.db.engine import Database
from trendreel.errors import StorageError
from trendreel.files.store import FileStore, open_file_store
from trendreel.registry import Registry, default_registry
from trendreel.settings import Settings

if TYPE_CHECKING:  # the types only: building them imports models, numpy, torch ... on first use
    from trendreel.edit.base import Editor
    from trendreel.index.categorize import Categorizer
    from trendreel.index.embedders.base import TextEmbedder
    from trendreel.index.media.images import ImageEmbedder
    from trendreel.index.media.speech import SpeechToText
    from trendreel.index.stage import Indexer
    from trendreel.index.vectors.base import VectorStore
    from trendreel.learn.backend import RidgeViews
    from trendreel.metrics.base import MetricsSource
    from trendreel.publish.base import Publisher
    from trendreel.publish.oauth import OAuthFlow
    from trendreel.render.base import VideoGenerator
    from trendreel.story.llm import ChatBackend
    from trendreel.story.writers import StoryWriter
    from trendreel.trends.llm_text import LlmTrendTexts

T = TypeVar("T")

__all__ = ["App", "Report", "StageRunner", "build_app"]


class Report(Protocol):
    def __call__(self, done: int, total: int | None, info: str | None = None) -> None:
        """Progress of a stage: `done` of `total` (None: unknown), and a short line about it."""


class StageRunner(Protocol):
    """What runs one stage of the pipeline table (services.pipeline) to its end: registry kind engine_runner."""

    name: str

    def run(self, name: str, params: dict, report: Report) -> dict:
        """Run stage `name` with `params`; its result."""
        ...


@dataclass
class App:
    """Everything a use case needs, built from one Settings."""

    settings: Settings
    db: Database
    files: FileStore
    registry: Registry = field(default_factory=default_registry)
    _built: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def _once(self, key: str, build: Callable[[], T]) -> T:
        """The backend under `key`, built the first time it is asked for (one build per App, thread-safe)."""
        with self._lock:
            if key not in self._built:
                self._built[key] = build()
            return self._built[key]

    # ---- index ---------------------------------------------------------------------------------

    def text_embedder(self) -> TextEmbedder:
        from trendreel.index.embedders import load_text_embedder  # numpy: only commands that embed need it

        idx = self.settings.index
        return self._once("text_embedder", lambda: load_text_embedder(idx.text_embedder, registry=self.registry,
                                                                       **idx.text_embedder_options))

    def image_embedder(self) -> ImageEmbedder:
        idx = self.settings.index
        return self._once("image_embedder", lambda: self.registry.create("image_embedder", idx.image_embedder, idx,
                                                                          self.text_embedder()))

    def vectors(self) -> VectorStore:
        """The vector DB (opened for the text embedder's dimension)."""
        url = self.settings.vectors_url
        return self._once("vectors", lambda: self.registry.create("vector_store", urlparse(url).scheme, url,
                                                                  dim=self.text_embedder().dim))

    def categorizer(self) -> Categorizer:
        idx = self.settings.index
        return self._once("categorizer", lambda: self.registry.create("categorizer", idx.categorizer, idx))

    def speech_to_text(self) -> SpeechToText | None:
        """Transcripts of videos; None when index.speech_model = "none" or no model is installed."""
        from trendreel.index.media.speech import load_speech_to_text  # faster-whisper: only for indexing videos

        idx = self.settings.index
        if idx.speech_model == "none":
            return None
        return self._once("speech_to_text", lambda: load_speech_to_text(idx.speech_model, model_path=idx.speech_model_path))

    def indexer(self) -> Indexer:
        """The index stage with every model the settings name."""
        # numpy, Pillow, imagehash, trafilatura: only commands that index need them
        from trendreel.index.stage import Indexer
        from trendreel.index.summarize import ExtractiveSummarizer

        idx = self.settings.index
        return self._once("indexer", lambda: Indexer(
            db=self.db, files=self.files, vectors=self.vectors(), text_embedder=self.text_embedder(),
            image_embedder=self.image_embedder(), categorizer=self.categorizer(),
            summarizer=ExtractiveSummarizer(max_chars=idx.summary_chars), speech=self.speech_to_text(),
            chunk_chars=idx.chunk_chars, max_keyframes=idx.max_keyframes))

    def release_vectors(self) -> None:
        """Close the vector store (and the indexer holding it), so another process may open a local one."""
        with self._lock:
            store = self._built.pop("vectors", None)
            self._built.pop("indexer", None)
        if store is not None:
            store.close()

    # ---- language models, stories ---------------------------------------------------------------

    def chat(self, name: str) -> ChatBackend:
        """The chat model `name` (llamacpp, openai, a plugin) over the [llm] settings; loaded once."""
        return self._once(f"chat:{name}", lambda: self.registry.create("chat_model", name, self.settings.llm,
                                                                       home=self.settings.home))

    def story_writer(self, name: str | None = None) -> StoryWriter:
        """The story writer `name` (default story.backend)."""
        name = self.registry.check("story_writer", name or self.settings.story.backend)
        return self._once(f"story_writer:{name}", lambda: self.registry.create(
            "story_writer", name, self.settings.story, self.settings.llm, self.chat))

    def trend_texts(self) -> LlmTrendTexts | None:
        """The language model that rewords trend lines when trends.text_backend names one, else None."""
        from trendreel.trends.llm_text import LlmTrendTexts  # the story stage's grounding: only when reworded

        name = self.settings.trends.text_backend
        if name == "extractive":
            return None
        return self._once(f"trend_texts:{name}", lambda: LlmTrendTexts(
            self.chat(name), llm=self.settings.llm, grounding_threshold=self.settings.story.grounding_threshold))

    # ---- video, publishing, metrics, engine -------------------------------------------------------

    def video_generator(self, name: str | None = None) -> VideoGenerator:
        name = self.registry.check("video_generator", name or self.settings.render.backend)
        return self._once(f"video_generator:{name}",
                          lambda: self.registry.create("video_generator", name, self.settings.render))

    def video_editor(self, name: str | None = None) -> Editor:
        name = self.registry.check("video_editor", name or self.settings.edit.backend)
        return self._once(f"video_editor:{name}", lambda: self.registry.create("video_editor", name, self.settings.edit))

    def publisher(self, platform: str) -> Publisher:
        self.registry.check("publisher", platform)
        return self._once(f"publisher:{platform}", lambda: self.registry.create("publisher", platform, self))

    def metrics_source(self, platform: str) -> MetricsSource:
        self.registry.check("metrics_source", platform)
        return self._once(f"metrics_source:{platform}", lambda: self.registry.create("metrics_source", platform, self))

    def oauth_flow(self, platform: str) -> OAuthFlow:
        """The web OAuth flow that connects an account of this platform from the workspace."""
        self.registry.check("oauth_flow", platform)
        return self._once(f"oauth_flow:{platform}", lambda: self.registry.create("oauth_flow", platform, self))

    def views_model(self) -> RidgeViews:
        """The views model (learn.model): makes and loads forecasters and cold-start predictors."""
        learn = self.settings.learn
        return self._once(f"views_model:{learn.model}", lambda: self.registry.create(
            "views_model", learn.model, learn, text_embedder=self.text_embedder()))

    def runner(self) -> StageRunner:
        """What runs a pipeline stage: in this process, or on the engine's workers (engine.runner)."""
        name = self.settings.engine.runner
        return self._once(f"runner:{name}", lambda: self.registry.create("engine_runner", name, self))

    def with_settings(self, settings: Settings) -> App:
        """An App for other settings on the same database, file store, registry and (when the settings name
        the same ones) vector store and text embedder: the local vector store admits one opener per process."""
        same_vectors = (settings.vectors_url == self.settings.vectors_url
                        and settings.index.text_embedder == self.settings.index.text_embedder)
        shared = {k: self._built[k] for k in ("vectors", "text_embedder") if same_vectors and k in self._built}
        return App(settings=settings, db=self.db, files=self.files, registry=self.registry, _built=shared)

    def close(self) -> None:
        self.release_vectors()
        self.db.dispose()


def build_app(settings: Settings, *, registry: Registry | None = None) -> App:
    """The App of these settings; backends come from `registry` (default: the process's registry)."""
    registry = registry or default_registry()
    try:
        if not settings.home.exists():  # the database, keys and credentials live here: its user's alone
            settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(f"cannot make the data folder {settings.home} (home): {exc.strerror or exc}",
                           hint="make its parent folder writable, or pass --home (TRENDREEL_HOME) naming one") from exc
    return App(settings=settings, db=Database(settings.database_url),
               files=open_file_store(settings.files_url, settings.s3, registry=registry), registry=registry)
