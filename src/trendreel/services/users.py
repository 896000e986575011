"""Users and API tokens: Argon2id password hashes, bearer tokens stored as sha256, roles.

Roles grow by inclusion: viewer (read everything) < editor (write stories, render, edit, approve,
publish, start pipeline runs) < admin (users and tokens of others, accounts, storage gc).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select

from trendreel.bootstrap import App
from trendreel import events
from trendreel.db import repo
from trendreel.db.tables import ApiToken, LoginAttempt, User, UserSession
from trendreel.errors import Conflict, InvalidInput, NotFound, RateLimited, TrendreelError, Unauthenticated

log = logging.getLogger("trendreel.api.auth")

ROLES = ("viewer", "editor", "admin")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
TOKEN_PREFIX = "trt_"
MIN_PASSWORD_CHARS = 10


class AuthError(Unauthenticated):
    """Wrong user name or password, or an unknown, revoked or expired token."""


class LoginThrottled(RateLimited):
    """Too many failed logins for this user name or from this address; try again after retry_after_s."""


class LastAdmin(Conflict):
    """The change would leave no admin: nobody could manage users, accounts or storage any more."""


def _keep_an_admin(s, u: User, *, new_role: str | None) -> None:
    """Refuse demoting or removing `u` (new_role None) when it is the last active admin."""
    if u.role != "admin" or u.disabled_at is not None or new_role == "admin":
        return
    # the admins' rows stay locked until the change commits (PostgreSQL), so two admins demoting each
    # other at once cannot both pass; SQLite runs one writer at a time anyway
    admins = set(s.scalars(select(User.id).where(User.role == "admin", User.disabled_at.is_(None)).with_for_update()))
    if not admins - {u.id}:
        what = "removed" if new_role is None else f"made {new_role}"
        raise LastAdmin(f"{u.username} is the last admin and cannot be {what}: make another user admin first",
                        hint="`trendreel users add NAME --role admin` or `trendreel users role NAME admin`")


_hasher = None


def password_hasher():
    """pwdlib with Argon2id (argon2-cffi's RFC 9106 low-memory defaults); built once per process."""
    global _hasher
    if _hasher is None:
        from pwdlib import PasswordHash
        from pwdlib.hashers.argon2 import Argon2Hasher

        _hasher = PasswordHash((Argon2Hasher(),))
    return _hasher


def user_id(username: str) -> str:
    """'u' + 23 hex chars of sha256(user name, lower-cased): one row per name."""
    return "u" + hashlib.sha256(username.lower().encode("utf-8")).hexdigest()[:23]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_id(token: str) -> str:
    """'k' + 23 hex chars of sha256('id' + token): names a token without revealing its hash."""
    return "k" + hashlib.sha256(b"id\x1f" + token.encode("utf-8")).hexdigest()[:23]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise TrendreelError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > 1024:
        raise TrendreelError("the password must have at most 1024 characters")


def user_dict(u: User) -> dict:
    return {"id": u.id, "username": u.username, "role": u.role,
            "created_at": u.created_at.isoformat() if u.created_at else None,
            "disabled": u.disabled_at is not None}


def _user_by_name(s, username: str) -> User:
    u = s.get(User, user_id(username))
    if u is None:
        raise NotFound(f"no user named {username!r}", hint="list them with `trendreel users list`")
    return u


def add_user(app: App, *, username: str, password: str, role: str = "viewer") -> dict:
    """Add a user, or set the password and role of an existing one."""
    if not USERNAME_RE.match(username or ""):
        raise TrendreelError("a user name is 1-100 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    _check_role(role)
    _check_password(password)
    encoded = password_hasher().hash(password)
    with app.db.session() as s:
        u = s.get(User, user_id(username))
        created = u is None
        if created:
            u = User(id=user_id(username), username=username)
            s.add(u)
        else:
            _keep_an_admin(s, u, new_role=role)
        u.password_hash = encoded
        u.role = role
        u.disabled_at = None
        if not created:  # a new password ends every session of the user, on every server
            s.execute(delete(UserSession).where(UserSession.user_id == u.id))
        s.flush()
        forget_tokens()
        return {**user_dict(u), "created": created}


def list_users(app: App) -> list[dict]:
    with app.db.session() as s:
        return [user_dict(u) for u in s.scalars(select(User).order_by(User.username))]


def get_user(app: App, uid: str) -> dict:
    with app.db.session() as s:
        u = s.get(User, uid)
        if u is None:
            raise NotFound(f"no user with id {uid}")
        return user_dict(u)


def set_role(app: App, *, username: str, role: str) -> dict:
    _check_role(role)
    with app.db.session() as s:
        u = _user_by_name(s, username)
        _keep_an_admin(s, u, new_role=role)
        u.role = role
        forget_tokens()
        return user_dict(u)


def remove_user(app: App, *, username: str) -> dict:
    """Delete a user and every token of theirs (their sessions stop working on the next request)."""
    with app.db.session() as s:
        u = _user_by_name(s, username)
        _keep_an_admin(s, u, new_role=None)
        out = user_dict(u)
        n = s.execute(delete(ApiToken).where(ApiToken.user_id == u.id)).rowcount
        s.execute(delete(UserSession).where(UserSession.user_id == u.id))
        s.delete(u)
        forget_tokens()
        return {**out, "tokens_removed": n}


def verify_password(app: App, *, username: str, password: str) -> dict:
    """The user whose name and password these are, else AuthError (same message and cost either way)."""
    hasher = password_hasher()
    with app.db.session() as s:
        u = s.get(User, user_id(username)) if USERNAME_RE.match(username or "") else None
        if u is None or not u.password_hash or u.disabled_at is not None:
            hasher.hash(password)  # spend the same time, so timing does not tell which names exist
            raise AuthError("wrong user name or password")
        ok, new_hash = hasher.verify_and_update(password, u.password_hash)
        if not ok:
            raise AuthError("wrong user name or password")
        if new_hash:  # the hasher's parameters grew since this hash was made
            u.password_hash = new_hash
        return user_dict(u)


def create_token(app: App, *, username: str, name: str, expires_days: float | None = None) -> dict:
    """A new bearer token for the user; the token itself is in the answer once and never stored."""
    if not name or len(name) > 100:
        raise TrendreelError("a token name is 1-100 characters, e.g. the program that uses it")
    if expires_days is not None and not 0 < expires_days <= 3650:
        raise TrendreelError("expires_days must be between 0 and 3650")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with app.db.session() as s:
        u = _user_by_name(s, username)
        row = ApiToken(id=token_id(token), user_id=u.id, name=name, token_hash=token_hash(token),
                       expires_at=_now() + timedelta(days=expires_days) if expires_days else None)
        s.add(row)
        s.flush()
        return {**token_dict(row, u.username), "token": token}


def token_dict(t: ApiToken, username: str | None = None) -> dict:
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {"id": t.id, "user": username, "user_id": t.user_id, "name": t.name, "created_at": iso(t.created_at),
            "expires_at": iso(t.expires_at), "last_used_at": iso(t.last_used_at), "revoked_at": iso(t.revoked_at)}


def list_tokens(app: App, *, username: str | None = None, include_revoked: bool = False) -> list[dict]:
    with app.db.session() as s:
        q = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.created_at)
        if username:
            q = q.where(ApiToken.user_id == _user_by_name(s, username).id)
        if not include_revoked:
            q = q.where(ApiToken.revoked_at.is_(None))
        return [token_dict(t, name) for t, name in s.execute(q)]


def revoke_token(app: App, *, token_id: str, username: str | None = None) -> dict:
    """Revoke a token by id (only among the user's own tokens when `username` is given)."""
    with app.db.session() as s:
        t = s.get(ApiToken, token_id)
        owner = s.get(User, t.user_id) if t is not None else None
        if t is None or (username is not None and (owner is None or owner.username != username)):
            raise NotFound(f"no token with id {token_id}", hint="list them with `trendreel tokens list`")
        if t.revoked_at is None:
            t.revoked_at = _now()
        forget_tokens()
        return token_dict(t, owner.username if owner else None)


def user_for_token(app: App, token: str, *, touch_after_s: float = 60.0) -> dict:
    """The user a bearer token belongs to, else AuthError; notes when it was last used (once a minute)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise AuthError("unknown or revoked API token")
    now = _now()
    with app.db.session() as s:
        t = s.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).one_or_none()
        if t is None or t.revoked_at is not None:
            raise AuthError("unknown or revoked API token")
        if t.expires_at is not None and t.expires_at <= now:
            raise AuthError("the API token has expired; create a new one")
        u = s.get(User, t.user_id)
        if u is None or u.disabled_at is not None:
            raise AuthError("the API token's user no longer exists")
        if t.last_used_at is None or (now - t.last_used_at).total_seconds() > touch_after_s:
            t.last_used_at = now
        return {**user_dict(u), "token_id": t.id, "password_fingerprint": None}


# Token checks are one database read per request; a busy program polling the API pays it every time.
# Answers are kept this long in the process; revoking, removing a user or changing a role here clears
# them at once, and in other worker processes a revoked token stops working within this many seconds.
TOKEN_CACHE_S = 2.0
_token_cache: dict[str, tuple[float, dict]] = {}


def cached_user_for_token(app: App, token: str) -> dict | None:
    """user_for_token's answer if this process checked the same token less than TOKEN_CACHE_S ago."""
    import time

    hit = _token_cache.get(token_hash(token))
    if hit is not None and time.monotonic() - hit[0] < TOKEN_CACHE_S and hit[1].get("_app") == id(app):
        return hit[1]
    return None


def remember_token(app: App, token: str, user: dict) -> None:
    import time

    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[token_hash(token)] = (time.monotonic(), {**user, "_app": id(app)})


def forget_tokens() -> None:
    _token_cache.clear()


def session_user(app: App, uid: str, session_id: str | None = None) -> dict | None:
    """The user of a browser session, with a fingerprint of the password hash (a new password ends old sessions).

    With `session_id` (what the cookie carries), None unless that session is live on the server: not
    logged out, not ended by a new password or the user's removal, not expired."""
    with app.db.session() as s:
        u = s.get(User, uid)
        if u is None or u.disabled_at is not None:
            return None
        if session_id is not None:
            row = s.get(UserSession, session_hash(session_id)) if 0 < len(session_id) <= 200 else None
            if row is None or row.user_id != u.id or row.expires_at <= _now():
                return None
        return {**user_dict(u), "token_id": None, "password_fingerprint": password_fingerprint(u.password_hash)}


def session_hash(session_id: str) -> str:
    return hashlib.sha256(b"session\x1f" + session_id.encode("utf-8")).hexdigest()


def start_session(app: App, uid: str, *, max_age_s: float) -> str:
    """A new server-side session of the user (expired ones of theirs are dropped); its id, for the cookie only."""
    session_id = secrets.token_urlsafe(32)
    now = _now()
    with app.db.session() as s:
        s.execute(delete(UserSession).where(UserSession.user_id == uid, UserSession.expires_at <= now))
        s.add(UserSession(id=session_hash(session_id), user_id=uid, created_at=now,
                          expires_at=now + timedelta(seconds=max_age_s)))
    return session_id


def end_session(app: App, session_id: str) -> bool:
    """End one session (logging out); True when it was live."""
    if not session_id or len(session_id) > 200:
        return False
    with app.db.session() as s:
        return bool(s.execute(delete(UserSession).where(UserSession.id == session_hash(session_id))).rowcount)


def end_sessions(app: App, *, username: str) -> int:
    """End every browser session of a user (e.g. a lost laptop); how many there were."""
    with app.db.session() as s:
        u = _user_by_name(s, username)
        return int(s.execute(delete(UserSession).where(UserSession.user_id == u.id)).rowcount or 0)


def password_fingerprint(encoded: str | None) -> str:
    return hashlib.sha256((encoded or "").encode("utf-8")).hexdigest()[:16]


# ---- throttling logins -------------------------------------------------------------------------

def _login_name(username: str | None) -> str:
    return (username or "")[:100].lower()


def _log_failed(s, *, name: str, address: str, throttled: bool) -> None:
    repo.append_event(s, type=events.LOGIN_FAILED, subject_type="user", subject_id=user_id(name),
                      dedupe_key=f"{events.LOGIN_FAILED}:{uuid.uuid4().hex}",
                      payload={"username": name, "address": address, "throttled": throttled})
    log.warning("failed login for %r from %s%s", name, address, " (throttled)" if throttled else "")


def check_login(app: App, *, username: str, address: str) -> None:
    """Refuse a login attempt (LoginThrottled, 429) while the user name or the address has had too many failed
    logins in the last serve.login_window_s; the refusal is logged as a LoginFailed event too."""
    serve = app.settings.serve
    name, address = _login_name(username), (address or "unknown")[:64]
    now = _now()
    since = now - timedelta(seconds=serve.login_window_s)
    refused: tuple[str, int] | None = None
    with app.db.session() as s:
        for column, value, limit, what in ((LoginAttempt.username, name, serve.login_failures_per_account, "this user name"),
                                           (LoginAttempt.address, address, serve.login_failures_per_address, "this address")):
            failed = (LoginAttempt.ok.is_(False), LoginAttempt.at > since, column == value)
            n = s.scalar(select(func.count()).select_from(LoginAttempt).where(*failed)) or 0
            if n < limit:
                continue
            # logins open again when enough of these failures have left the window
            first = s.scalar(select(LoginAttempt.at).where(*failed).order_by(LoginAttempt.at).offset(n - limit).limit(1))
            refused = (what, max(1, math.ceil(((first or now) - since).total_seconds())))
            break
    if refused is not None:
        with app.db.session() as s:
            _log_failed(s, name=name, address=address, throttled=True)
        what, retry = refused
        raise LoginThrottled(f"too many failed logins for {what}; try again in {retry} s", retry_after_s=retry)


def record_login(app: App, *, username: str, address: str, ok: bool) -> None:
    """Note a login's outcome: a failure counts toward throttling and is a LoginFailed event; a success clears
    the user name's failures."""
    name, address = _login_name(username), (address or "unknown")[:64]
    now = _now()
    with app.db.session() as s:
        if ok:
            s.execute(delete(LoginAttempt).where(LoginAttempt.username == name, LoginAttempt.ok.is_(False)))
            horizon = now - timedelta(seconds=2 * app.settings.serve.login_window_s)
            s.execute(delete(LoginAttempt).where(LoginAttempt.at < horizon))  # what no window counts any more
            return
        s.add(LoginAttempt(at=now, username=name, address=address, ok=False))
        _log_failed(s, name=name, address=address, throttled=False)
