"""Accounts of the platforms videos are published to, with their OAuth credentials encrypted at rest.

Several accounts per platform, told apart by name; the id is "c" + hash of (platform, name). The
credentials JSON is encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key from
`publish.secret_key` (e.g. TRENDREEL_PUBLISH__SECRET_KEY) or the file `publish.secret_key_file`
(default <home>/secret.key, created with mode 0600 on first use). Plain credentials never reach the
database, the logs or the command output. Removing an account keeps its row (and so its publications'
history) and drops its credentials.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select

from trendreel.db.tables import Account, Publication, utcnow
from trendreel.errors import ConfigError
from trendreel.ids import account_id as make_account_id
from trendreel.publish.errors import CredentialsError, FolderNotAllowed, PublishError, UnknownPublication

__all__ = ["AUTHORIZED_USER_FIELDS", "account_dict", "add_account", "check_folder_path", "find_account",
           "find_folder_account", "folder_roots", "get_account", "list_accounts", "load_credentials",
           "read_authorized_user", "remove_account", "save_credentials"]

# What google-auth writes for an authorized user (Credentials.to_json) and needs to refresh a token.
AUTHORIZED_USER_FIELDS = ("token", "refresh_token", "client_id", "client_secret", "token_uri")
PLATFORMS_WITH_CREDENTIALS = {"youtube", "tiktok", "instagram"}


# ---- the key ---------------------------------------------------------------------------------

def _key_file(app) -> Path:
    return Path(app.settings.publish.secret_key_file or app.settings.home / "secret.key").expanduser()


def _fernet(app, *, create: bool) -> Fernet:
    """The Fernet of the configured key; creates the key file (0600) when asked and none exists."""
    configured = app.settings.publish.secret_key
    if configured is not None:
        raw = configured.get_secret_value().strip().encode()
        where = "publish.secret_key"
    else:
        path = _key_file(app)
        where = f"the key file {path}"
        if not path.exists():
            if not create:
                raise CredentialsError(f"no secret key at {path}, so stored credentials cannot be decrypted; "
                                       "restore the key file or set publish.secret_key, then add the account again")
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it a moment ago
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(Fernet.generate_key())
        raw = path.read_bytes().strip()
    try:
        return Fernet(raw)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where} is not a Fernet key (32 url-safe base64 bytes); make one with "
                          "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`") from exc


def encrypt(app, data: dict) -> str:
    return _fernet(app, create=True).encrypt(json.dumps(data, sort_keys=True).encode()).decode("ascii")


def decrypt(app, token: str, *, what: str) -> dict:
    try:
        return json.loads(_fernet(app, create=False).decrypt(token.encode("ascii")))
    except InvalidToken as exc:
        raise CredentialsError(f"cannot decrypt the credentials of {what}: the secret key is not the one they were "
                               "stored with; restore that key or add the account again") from exc


# ---- credentials files -----------------------------------------------------------------------

def read_credentials_file(path: Path, check, *, what: str = "") -> dict:
    """A credentials JSON file, then `check(data, where=...)` on it field by field; `what` says what the file
    should be when it is not JSON."""
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CredentialsError(f"credentials file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialsError(f"credentials file {path} is not JSON ({type(exc).__name__})"
                               + (f"; give {what}" if what else "")) from exc
    return check(data, where=f"credentials file {path}")


def read_authorized_user(path: Path) -> dict:
    """An authorized-user JSON file as google-auth writes it, checked field by field."""
    return read_credentials_file(path, check_authorized_user,
                                 what="the authorized-user JSON that google-auth writes (Credentials.to_json())")


def check_authorized_user(data, *, where: str = "the credentials") -> dict:
    """An authorized-user JSON (already parsed), checked field by field; CredentialsError says what is missing."""
    if not isinstance(data, dict):
        raise CredentialsError(f"{where} holds {type(data).__name__}, not a JSON object")
    if data.get("type") not in (None, "authorized_user"):
        raise CredentialsError(f"{where} is of type {data.get('type')!r}; give an authorized-user "
                               "JSON (type authorized_user)", hint="`trendreel accounts login youtube NAME` makes one")
    missing = [f for f in AUTHORIZED_USER_FIELDS if not data.get(f)]
    if missing:
        raise CredentialsError(f"{where} lacks {', '.join(missing)}; an authorized-user JSON needs "
                               f"{', '.join(AUTHORIZED_USER_FIELDS)}", hint="`trendreel accounts login youtube NAME` makes one")
    return data


# ---- where folder accounts may write ---------------------------------------------------------

def folder_roots(app) -> list[Path]:
    """The folders folder accounts may write into: publish.folder_roots, else <home>/published (resolved)."""
    roots = app.settings.publish.folder_roots or [app.settings.home / "published"]
    return [Path(r).expanduser().absolute().resolve() for r in roots]


def check_folder_path(app, path) -> Path:
    """The folder, resolved (symbolic links and '..' followed), when it lies inside an allowed root."""
    if "\x00" in str(path):  # no file system takes it; resolving would raise ValueError
        raise FolderNotAllowed("a folder path cannot hold a NUL character", hint="give a plain folder path")
    resolved = Path(path).expanduser().absolute().resolve()
    roots = folder_roots(app)
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        raise FolderNotAllowed(
            "a folder account may write only inside the folders of publish.folder_roots (by default the "
            "folder published in the trendreel home); pick a folder inside one, or have the operator add a root",
            hint=f"allowed: {', '.join(str(r) for r in roots)}; folder given: {resolved}")
    return resolved


# ---- rows ------------------------------------------------------------------------------------

def account_dict(row: Account, publications: int | None = None) -> dict:
    """The public shape of an account: never its credentials."""
    return {"id": row.id, "platform": row.platform, "name": row.name, "options": dict(row.options or {}),
            "has_credentials": bool(row.credentials), "created_at": row.created_at.isoformat() if row.created_at else None,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None,
            "removed_at": row.removed_at.isoformat() if row.removed_at else None,
            **({"publications": publications} if publications is not None else {})}


def _check_name(app, platform: str, name: str) -> None:
    app.registry.check("publisher", platform)
    if not name or len(name) > 100 or any(c.isspace() for c in name) or ":" in name:
        raise PublishError(f"account name {name!r} must be 1-100 characters without spaces or ':'")


def add_account(app, *, platform: str, name: str, credentials: dict | None = None, options: dict | None = None) -> dict:
    """Add an account (or replace the credentials and options of an existing or removed one)."""
    _check_name(app, platform, name)
    if platform in PLATFORMS_WITH_CREDENTIALS and not credentials:
        raise CredentialsError(f"a {platform} account needs credentials",
                               hint=f"`trendreel accounts add {platform} {name} --credentials FILE` or "
                                    f"`trendreel accounts login {platform} {name}`")
    aid = make_account_id(platform, name)
    sealed = encrypt(app, credentials) if credentials else None
    with app.db.session() as s:
        row = s.get(Account, aid)
        created = row is None or row.removed_at is not None
        if row is None:
            row = Account(id=aid, platform=platform, name=name, created_at=utcnow(), options={})
            s.add(row)
        row.credentials = sealed
        row.options = dict(options or {})
        row.removed_at = None
        row.updated_at = utcnow()
        s.flush()
        return {**account_dict(row), "created": created}


def list_accounts(app, *, platform: str | None = None, include_removed: bool = False) -> list[dict]:
    """Accounts by platform and name, with how many videos each has published."""
    with app.db.session() as s:
        counts = dict(s.execute(select(Publication.account_id, func.count()).where(Publication.status == "done")
                                .group_by(Publication.account_id)).all())
        q = select(Account).order_by(Account.platform, Account.name)
        if platform:
            q = q.where(Account.platform == platform)
        if not include_removed:
            q = q.where(Account.removed_at.is_(None))
        return [account_dict(r, counts.get(r.id, 0)) for r in s.scalars(q)]


def find_account(app, platform: str, name: str) -> dict | None:
    """The active account (platform, name), or None."""
    with app.db.session() as s:
        row = s.get(Account, make_account_id(platform, name))
        return account_dict(row) if row is not None and row.removed_at is None else None


def find_folder_account(app, path) -> dict | None:
    """The active folder account that writes to this folder, or None (never makes one)."""
    wanted = Path(path).expanduser().absolute().resolve()
    for account in list_accounts(app, platform="folder"):
        where = (account.get("options") or {}).get("path")
        if where and Path(where).resolve() == wanted:
            return account
    return None


def get_account(app, platform: str, name: str) -> dict:
    found = find_account(app, platform, name)
    if found is None:
        known = [a["name"] for a in list_accounts(app, platform=platform)]
        hint = f"known {platform} accounts: {', '.join(known)}" if known else f"no {platform} accounts yet"
        raise UnknownPublication(f"unknown {platform} account {name!r} ({hint})",
                                 hint=f"add it with `trendreel accounts add {platform} {name} ...`")
    return found


def remove_account(app, *, platform: str, name: str) -> dict:
    """Mark the account removed and drop its credentials; its publications stay listed."""
    get_account(app, platform, name)
    with app.db.session() as s:
        row = s.get(Account, make_account_id(platform, name))
        row.removed_at, row.credentials, row.updated_at = utcnow(), None, utcnow()
        s.flush()
        return account_dict(row)


def load_credentials(app, account_id: str) -> dict:
    """The decrypted credentials of an account (for the publisher only; never print them)."""
    with app.db.session() as s:
        row = s.get(Account, account_id)
        if row is None or not row.credentials:
            name = f"{row.platform}:{row.name}" if row is not None else account_id
            raise CredentialsError(f"account {name} has no credentials; add them again",
                                   hint=f"`trendreel accounts add {row.platform if row else 'youtube'} NAME --credentials FILE`")
        sealed, what = row.credentials, f"account {row.platform}:{row.name}"
    return decrypt(app, sealed, what=what)


def save_credentials(app, account_id: str, credentials: dict) -> None:
    """Store refreshed credentials (encrypted) for the account."""
    sealed = encrypt(app, credentials)
    with app.db.session() as s:
        row = s.get(Account, account_id)
        if row is not None:
            row.credentials, row.updated_at = sealed, utcnow()
