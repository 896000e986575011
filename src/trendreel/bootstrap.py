"""The one place that builds backends from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from trendreel.db.engine import Database
from trendreel.files.store import FileStore, open_file_store
from trendreel.settings import Settings


@dataclass
class App:
    settings: Settings
    db: Database
    files: FileStore
    # Models and the vector DB load on first use: crawling needs none of them.
    _cache: dict = field(default_factory=dict, repr=False)

    def text_embedder(self):
        if "text" not in self._cache:
            from trendreel.index.embedders import load_text_embedder

            idx = self.settings.index
            self._cache["text"] = load_text_embedder(idx.text_embedder, **idx.text_embedder_options)
        return self._cache["text"]

    def vectors(self):
        if "vectors" not in self._cache:
            from trendreel.index.vectors import open_vector_store

            self._cache["vectors"] = open_vector_store(self.settings.vectors_url, dim=self.text_embedder().dim)
        return self._cache["vectors"]

    def indexer(self):
        """The index stage with every model the settings name."""
        if "indexer" not in self._cache:
            from trendreel.index.categorize import load_categorizer
            from trendreel.index.media.speech import load_speech_to_text
            from trendreel.index.stage import Indexer
            from trendreel.index.summarize import ExtractiveSummarizer

            idx = self.settings.index
            image = None
            if idx.image_embedder == "clip":
                from trendreel.errors import ConfigError
                from trendreel.index.media.clip import ClipImageEmbedder

                if not (idx.clip_model and idx.clip_checkpoint):
                    raise ConfigError("index.image_embedder = clip needs index.clip_model and index.clip_checkpoint")
                image = ClipImageEmbedder(idx.clip_model, idx.clip_checkpoint)
            speech = None if idx.speech_model == "none" else load_speech_to_text(idx.speech_model, model_path=idx.speech_model_path)
            self._cache["indexer"] = Indexer(
                db=self.db, files=self.files, vectors=self.vectors(), text_embedder=self.text_embedder(),
                image_embedder=image, categorizer=load_categorizer(model_path=idx.categorizer_model_path),
                summarizer=ExtractiveSummarizer(max_chars=idx.summary_chars), speech=speech,
                chunk_chars=idx.chunk_chars, max_keyframes=idx.max_keyframes,
            )
        return self._cache["indexer"]

    def close(self) -> None:
        if "vectors" in self._cache:
            self._cache["vectors"].close()
        self.db.dispose()


def build_app(settings: Settings) -> App:
    settings.home.mkdir(parents=True, exist_ok=True)
    return App(settings=settings, db=Database(settings.database_url),
               files=open_file_store(settings.files_url, settings.s3))
