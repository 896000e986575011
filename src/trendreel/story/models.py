"""The story format: what every backend must produce, and what the render stage reads.

A story is a title, a hook line (said first), 3-8 scenes and hashtags. Each scene says one thing
(narration), shows a short text and stored media (images, or a time range of a stored video) of
the item or of other items of its trend, and cites where its words come from: sentences of the
stored item (0 is the title) or a media caption. The hook cites the sentences its claim comes from.
`verbatim_share` says how much of what is said is copied word for word (see verbatim.py).
Checks that need only the story itself live here; checks against the item and the settings
(scene count, length, known media, grounding) live in `validate.py`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# 2: hook citations, verbatim share, source language and warnings; media of the trend's other items.
FORMAT_VERSION = 2


class MediaRef(BaseModel):
    """A stored image, or the part [start_s, end_s) of a stored video, shown during a scene."""

    model_config = ConfigDict(extra="forbid")

    media_id: str = Field(min_length=1)
    kind: Literal["image", "video"]
    start_s: float | None = Field(None, ge=0)
    end_s: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _time_range_for_videos_only(self) -> "MediaRef":
        if self.kind == "video":
            if self.start_s is None or self.end_s is None:
                raise ValueError(f"video {self.media_id} needs start_s and end_s")
            if self.end_s <= self.start_s:
                raise ValueError(f"video {self.media_id}: end_s {self.end_s} is not after start_s {self.start_s}")
        elif self.start_s is not None or self.end_s is not None:
            raise ValueError(f"image {self.media_id} cannot have a time range")
        return self


class Citation(BaseModel):
    """Where a scene's words come from: a sentence of the item (0 = its title) or a media caption
    (of the item, or of another item of the trend whose media the scene shows)."""

    model_config = ConfigDict(extra="forbid")

    article_id: str = Field(min_length=1)
    sentence: int | None = Field(None, ge=0)
    media_id: str | None = None
    quote: str = Field(min_length=1, description="The cited text itself, so the story stays checkable after files are purged.")

    @model_validator(mode="after")
    def _points_somewhere(self) -> "Citation":
        if self.sentence is None and self.media_id is None:
            raise ValueError("a citation names a sentence number or a media id")
        return self


class Scene(BaseModel):
    model_config = ConfigDict(extra="forbid")

    narration: str = Field(min_length=1)
    on_screen_text: str = ""
    duration_s: float = Field(gt=0)
    media: list[MediaRef] = Field(default_factory=list)
    citations: list[Citation] = Field(min_length=1)
    # The grounding check's verdict: share of the narration found in what it cites.
    support: float | None = Field(None, ge=0, le=1)
    supported: bool | None = None
    # True when the writer's own citations did not back the narration and the check cited the item's
    # sentences that do (see grounding.best_sources).
    citations_fixed: bool = False

    @field_validator("narration", "on_screen_text")
    @classmethod
    def _one_line(cls, v: str) -> str:
        return " ".join(v.split())

    @field_validator("narration")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v:
            raise ValueError("narration is empty")
        return v


class Story(BaseModel):
    """One validated story for one short video."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    format: int = FORMAT_VERSION
    title: str = Field(min_length=1)
    hook: str = Field(min_length=1)
    scenes: list[Scene] = Field(min_length=1)
    hashtags: list[str] = Field(default_factory=list)
    lang: str = Field(min_length=2, max_length=16)
    duration_s: float = Field(gt=0)
    trend_id: str | None = None
    article_id: str = Field(min_length=1)
    backend: str = Field(min_length=1)
    model: str = Field(min_length=1)
    grounding: float | None = Field(None, ge=0, le=1)
    attempts: int = Field(1, ge=1, description="Answers the model needed (1 for the template).")
    hook_citations: list[Citation] = Field(default_factory=list, description="The sentences the hook's claim comes from.")
    hook_support: float | None = Field(None, ge=0, le=1)
    hook_supported: bool | None = None
    source_lang: str | None = Field(None, description="The told item's language, when it is not the story's.")
    verbatim_share: float | None = Field(
        None, ge=0, le=1, description="Share of the narration's characters said word for word from its sources.")
    warnings: list[str] = Field(default_factory=list)

    @field_validator("title", "hook")
    @classmethod
    def _one_line(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("must not be blank")
        return v

    @field_validator("hashtags")
    @classmethod
    def _hashtag_form(cls, tags: list[str]) -> list[str]:
        out: list[str] = []
        for tag in tags:
            tag = "#" + "".join(tag.split()).lstrip("#")
            if len(tag) > 1 and tag not in out:
                out.append(tag)
        return out

    def media_ids(self) -> set[str]:
        return {m.media_id for scene in self.scenes for m in scene.media}

    def narrations(self) -> list[str]:
        """Everything the voice says, in order: the hook, then each scene."""
        return [self.hook, *(s.narration for s in self.scenes)]

    def quotes(self) -> list[str]:
        """Every quote the story cites (hook and scenes)."""
        return [c.quote for c in (*self.hook_citations, *(c for s in self.scenes for c in s.citations))]
