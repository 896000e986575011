"""Request and response models of the API (they make /openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Role = Literal["viewer", "editor", "admin"]
# Every stored id is one letter and 23 hex digits: a(rticle) m(edia) t(rend) s(tory) v(ideo) c p u k r.
ID_PATTERN = r"^[a-z][0-9a-f]{23}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=24, max_length=24)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


ERRORS = {r: {"model": ErrorBody} for r in (400, 401, 403, 404, 413, 422)}


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
