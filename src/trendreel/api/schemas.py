"""Request and response models of the API (they make /openapi.json)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

Role = Literal["viewer", "editor", "admin"]
# Every stored id is one letter and 23 hex digits: a(rticle) m(edia) t(rend) s(tory) v(ideo) c p u k r.
ID_PATTERN = r"^[a-z][0-9a-f]{23}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=24, max_length=24)]


class Strict(BaseModel):
    """A request body: unknown fields refused, and no loose coercions (`{"dry_run": 0}` is not a bool, "3" not
    a number, 0 not a time)."""

    model_config = ConfigDict(extra="forbid", strict=True)


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _time_text(value: Any) -> Any:
    """A time is ISO 8601 text: a number (or number text, as a query gives it) is refused, not read as epoch seconds."""
    if isinstance(value, (bool, int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("give an ISO 8601 date or time (e.g. 2026-11-20 or 2026-11-20T09:30:00Z), not a number")
    return value


def _not_text(value: Any) -> Any:
    """A whole number is a JSON number (28 or 28.0, as JSON Schema's integer allows), never text or a bool."""
    if isinstance(value, (str, bool)):
        raise ValueError("give a whole number, not text or true/false")
    return value


def whole(ge: int, le: int) -> Any:
    """A whole number from `ge` to `le` in a strict request body: 28.0 is 28 (JSON Schema's integer allows it),
    "28" and true are refused."""
    return Annotated[int, Field(strict=False, ge=ge, le=le), BeforeValidator(_not_text)]

# A date or time in a request body or query: ISO 8601 text only (strict models take the text, parsed here).
When = Annotated[datetime, Field(strict=False), BeforeValidator(_time_text)]


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


# Every error an operation may answer with: the JSON error shape (409: the state forbids it now; 503: a
# backend or storage is down; 500: a bug, with an id in the server log).
ERRORS = {r: {"model": ErrorBody} for r in (400, 401, 403, 404, 409, 413, 422, 500, 503)}


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: str
    username: str
    role: Role
    created_at: str | None = None
    disabled: bool = False


class Me(BaseModel):
    id: str
    username: str
    role: Role
    via: Literal["session", "token"]
    token_id: str | None = None


class LoginResponse(BaseModel):
    user: Me
    csrf_token: str


class UserCreate(Strict):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
    password: str = Field(min_length=10, max_length=1024)
    role: Role = "viewer"


class RoleChange(Strict):
    role: Role


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    expires_days: float | None = Field(None, gt=0, le=3650)
    username: str | None = Field(None, min_length=1, max_length=100, description="Another user's (admins only).")


class TokenOut(BaseModel):
    id: str
    user: str | None
    user_id: str
    name: str
    created_at: str | None
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer token: shown this once, stored only as a hash.")


class Message(BaseModel):
    message: str


JsonDict = dict[str, Any]


class Open(BaseModel):
    """A resource shape with its main fields named; the service may add more."""

    model_config = ConfigDict(extra="allow")


class SourceOut(Open):
    name: str
    kind: str
    urls: list[str]


class CategoryOut(Open):
    slug: str
    name: str


class MediaOut(Open):
    id: str
    kind: str
    status: str
    url: str | None = None
    bytes: int | None = None
    caption: str | None = None
    file_url: str | None = Field(None, description="Where the stored file is served (range requests work).")


class ArticleOut(Open):
    id: str
    url: str | None
    title: str | None
    lang: str | None
    published_at: str | None
    category: str | None
    media: list[MediaOut]


class SearchHit(Open):
    id: str
    kind: str
    score: float
    article_id: str
    title: str | None = None
    url: str | None = None


class TrendOut(Open):
    id: str
    text: str | None
    lang: str | None
    category: str | None
    score: float
    item_count: int
    first_seen_at: str | None
    last_seen_at: str | None


class StorySummary(Open):
    id: str
    trend_id: str | None
    article_id: str
    title: str
    lang: str
    verbatim_share: float | None = None


class StoryOut(Open):
    id: str
    title: str
    hook: str
    lang: str
    scenes: list[dict[str, Any]]
    grounding: float | None = None
    verbatim_share: float | None = None
    warnings: list[str] = Field(default_factory=list)


class MediaRefIn(Strict):
    media_id: Id
    kind: Literal["image", "video"]
    start_s: float | None = Field(None, ge=0, le=86400)
    end_s: float | None = Field(None, gt=0, le=86400)


class CitationIn(Strict):
    article_id: Id
    sentence: whole(0, 100000) | None = None
    media_id: Id | None = None
    quote: str = Field(min_length=1, max_length=5000)


class SceneIn(Strict):
    narration: str = Field(min_length=1, max_length=2000)
    on_screen_text: str = Field("", max_length=500)
    duration_s: float = Field(gt=0, le=600)
    media: list[MediaRefIn] = Field(default_factory=list, max_length=20)
    citations: list[CitationIn] = Field(min_length=1, max_length=20)


class StoryEdit(Strict):
    """The parts of a story a person may change; anything left out stays as it is (at least one is given).
    A part is given with its value, never as null."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    title: str = Field(None, min_length=1, max_length=300)
    hook: str = Field(None, min_length=1, max_length=500)
    hashtags: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = Field(None, max_length=30)
    scenes: list[SceneIn] = Field(None, min_length=1, max_length=40)


# A backend's name; which names exist is the registry's business (routes check it: trendreel.registry), and
# the schema lists them (`x-backend-kind`, filled in by api.app from the App's registry).
BackendName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_+.-]{0,39}$")]


def backend_of(kind: str, description: str) -> Any:
    """A backend field of registry kind `kind` (left out: the setting's default)."""
    return Field(None, description=description, json_schema_extra={"x-backend-kind": kind})


class StoryRegenerate(Strict):
    backend: BackendName | None = backend_of("story_writer", "A story writer (the story's own when left out).")
    lang: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] | None = Field(
        None, description="Language of the story (the story's own when left out).")


Aspect = Literal["9:16", "1:1", "16:9"]
SubtitleStyle = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
VoiceSpec = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_+.-]{0,39}:\S.{0,299}$")]
MusicName = Annotated[str, StringConstraints(pattern=r"^[^/\\\x00]{1,200}$")]


class RenderChoices(Strict):
    """Choices for one render; left out, the render settings decide. Each combination is its own video."""

    aspect: Aspect | None = Field(None, description="Frame: 9:16 (the default), 1:1 or 16:9.")
    subtitle_style: SubtitleStyle | None = Field(None, description="A subtitle preset (render.subtitle_style).")
    voice: VoiceSpec | None = Field(None, description="ENGINE:VOICE for the story's language, e.g. modelserver:ko.")
    music: MusicName | None = Field(None, description="A file name in the music folder (render.music_dir), or none.")


class RenderRequest(RenderChoices):
    backend: BackendName | None = backend_of("video_generator", "A video generator (render.backend when left out).")
    force: bool = False

    def choices(self) -> dict:
        return self.model_dump(include=set(RenderChoices.model_fields), exclude_none=True)


class VoicePreviewRequest(Strict):
    voice: VoiceSpec | None = Field(None, description="ENGINE:VOICE; the voice of `lang` when left out.")
    lang: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] | None = Field(
        None, description="Preview the voice this language gets (render.voices).")
    text: str | None = Field(None, max_length=200, description="What to say (a sample sentence when left out).")


class VideoOut(Open):
    id: str
    story_id: str
    status: str
    stage: str
    backend: str
    duration_s: float | None = None
    file_url: str | None = None


class ReviewRequest(Strict):
    reason: str | None = Field(None, max_length=1000)


class RunOut(Open):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "error"]
    params: dict[str, Any]
    progress: dict[str, Any]
    result: dict[str, Any]
    error: str | None


class RunAccepted(BaseModel):
    run: RunOut
    url: str = Field(description="Where to follow the run.")


class EventOut(BaseModel):
    id: int
    stage: str
    at: str
    type: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
