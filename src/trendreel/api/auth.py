"""Who is asking: a browser session (signed cookie) or a bearer token, and what their role lets them do.

FastAPI dependencies for routes of the API and the web workspace:

    user: CurrentUser = Depends(current_user)          any signed-in user
    user: CurrentUser = Depends(require_role("editor")) editor or admin

Sessions are Starlette's signed-cookie sessions (itsdangerous): HttpOnly, SameSite=Lax, Secure when
`serve.cookie_secure`. A session holds the user id, the id of its row in `user_session` (checked on
every request: logging out, a new password or removing the user deletes it, so a copied cookie stops
working at once), a fingerprint of the password hash and a CSRF token. Requests that change something and come with the session cookie
(not a bearer token) must echo that CSRF token in the `X-CSRF-Token` header or a `csrf_token` form
field; the token is also in the readable `trendreel_csrf` cookie (double submit) and in the login answer.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Literal

from fastapi import Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from trendreel.api.errors import ApiError
from trendreel.errors import ConfigError
from trendreel.services import users

SESSION_COOKIE = "trendreel_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ROLE_RANK = {r: i for i, r in enumerate(users.ROLES)}


class CurrentUser(BaseModel):
    """The user a request is made for, and how they proved it."""

    id: str
    username: str
    role: Literal["viewer", "editor", "admin"]
    via: Literal["session", "token"]
    token_id: str | None = None

    def can(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def get_app(request: Request):
    """The trendreel App (settings, db, files) of this server."""
    return request.app.state.trendreel


def secret_key(settings) -> str:
    """The session-signing key from `serve.secret_key_file` (default <home>/secret_key), made 0600 on first use."""
    path = Path(settings.serve.secret_key_file or settings.home / "secret_key").expanduser()
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            return secret_key(settings)
        key = secrets.token_urlsafe(48)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key + "\n")
        return key
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the session key file {path} (serve.secret_key_file): {exc}") from exc
    if len(key) < 32:
        raise ConfigError(f"the session key in {path} (serve.secret_key_file) is too short: use 32 or more random characters")
    return key


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "unauthenticated", "the Authorization header must be 'Bearer <token>'",
                       headers={"WWW-Authenticate": "Bearer"})
    return value.strip()


async def _check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(str(expected), str(given)):
        raise ApiError(403, "csrf_failed", f"missing or wrong CSRF token: send the session's token in the {CSRF_HEADER} "
                                           f"header (or the {CSRF_FIELD} form field)")


async def optional_user(request: Request) -> CurrentUser | None:
    """The signed-in user, or None when the request carries no credentials at all."""
    if "user" in request.scope.get("state", {}):
        return request.state.user
    app = get_app(request)
    token = _bearer(request)
    user: CurrentUser | None = None
    if token is not None:
        data = users.cached_user_for_token(app, token)
        if data is None:
            data = await run_in_threadpool(users.user_for_token, app, token)
            users.remember_token(app, token, data)
        user = CurrentUser(id=data["id"], username=data["username"], role=data["role"], via="token",
                           token_id=data["token_id"])
    elif "session" in request.scope and request.session.get("uid"):
        sid = request.session.get("sid")
        data = (await run_in_threadpool(users.session_user, app, request.session["uid"], sid)
                if isinstance(sid, str) and sid else None)  # a cookie from before server-side sessions: log in again
        if data is None or not hmac.compare_digest(data["password_fingerprint"], request.session.get("pwf", "")):
            request.session.clear()
            raise ApiError(401, "unauthenticated", "the session has ended; log in again")
        user = CurrentUser(id=data["id"], username=data["username"], role=data["role"], via="session")
        if request.method not in SAFE_METHODS:
            await _check_csrf(request)
    request.state.user = user
    return user


async def current_user(request: Request) -> CurrentUser:
    """The signed-in user; 401 when the request has no valid session or token."""
    user = await optional_user(request)
    if user is None:
        raise ApiError(401, "unauthenticated", "log in (POST /api/v1/auth/login) or send 'Authorization: Bearer <token>'",
                       headers={"WWW-Authenticate": "Bearer"})
    return user


def require_role(role: Literal["viewer", "editor", "admin"]):
    """A dependency that lets in users with this role or a higher one (viewer < editor < admin)."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> CurrentUser:
        user = await current_user(request)
        if not user.can(role):
            raise ApiError(403, "forbidden", f"this needs the {role} role; {user.username} is {user.role}")
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


def session_max_age_s(request: Request) -> float:
    return get_app(request).settings.serve.session_max_age_h * 3600


def login_session(request: Request, user: dict, session_id: str) -> str:
    """Put a server-side session (users.start_session) of a user whose password was checked into the cookie;
    returns the CSRF token."""
    request.session.clear()
    csrf = secrets.token_urlsafe(32)
    request.session.update({"uid": user["id"], "sid": session_id, "pwf": user["password_fingerprint"], "csrf": csrf})
    request.state.set_csrf_cookie = csrf
    return csrf


async def logout_session(request: Request) -> None:
    """End the session on the server (a copy of the cookie stops working too) and clear the cookie."""
    sid = request.session.get("sid") if "session" in request.scope else None
    if isinstance(sid, str) and sid:
        await run_in_threadpool(users.end_session, get_app(request), sid)
    request.session.clear()
    request.state.set_csrf_cookie = ""


def csrf_token(request: Request) -> str | None:
    """The CSRF token of the current session (for pages that embed it in forms)."""
    return request.session.get("csrf") if "session" in request.scope else None


def client_address(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For behind a trusted proxy)."""
    return request.client.host if request.client else "unknown"


async def login(request: Request, username: str, password: str) -> dict:
    """Check a user name and password and start a session; AuthError (401) when they are wrong, LoginThrottled
    (429) after too many failures for the name or the address (serve.login_*)."""
    app, address = get_app(request), client_address(request)
    await run_in_threadpool(users.check_login, app, username=username, address=address)
    try:
        data = await run_in_threadpool(users.verify_password, app, username=username, password=password)
    except users.AuthError:
        await run_in_threadpool(users.record_login, app, username=username, address=address, ok=False)
        raise
    await run_in_threadpool(users.record_login, app, username=username, address=address, ok=True)
    data = await run_in_threadpool(users.session_user, get_app(request), data["id"])
    if data is None:
        raise users.AuthError("wrong user name or password")
    old = request.session.get("sid") if "session" in request.scope else None
    if isinstance(old, str) and old:  # a new login replaces the session this browser had
        await run_in_threadpool(users.end_session, get_app(request), old)
    sid = await run_in_threadpool(users.start_session, get_app(request), data["id"], max_age_s=session_max_age_s(request))
    csrf = login_session(request, data, sid)
    return {"user": {k: data[k] for k in ("id", "username", "role")}, "csrf_token": csrf}
