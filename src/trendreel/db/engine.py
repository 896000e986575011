"""Engine and session factory; migrations run through Alembic when the database is behind.

Opening a database whose schema is current costs one query: its `alembic_version` is compared with the
head revision read from the migration files, and Alembic (about 0.3 s to import) is loaded only when
they differ: a new database, a pending migration, or one Alembic has to refuse.
"""

from __future__ import annotations

import ast
import os
import re
import stat
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from trendreel.errors import ConfigError, StorageError
from trendreel.logs import get_logger

if TYPE_CHECKING:
    from alembic.config import Config

log = get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default; env.py keeps it

# `revision = "0006"`, `down_revision: str | None = "0005"`: module-level lines of a migration file
_REVISION_LINE = re.compile(r"^(?:revision|down_revision)\b.*$", re.MULTILINE)


def _private_sqlite_file(path: Path) -> None:
    """Create the SQLite file readable by its user only (0600; it holds password and token hashes), in a
    folder made 0700 when it is made here. SQLite gives its -wal and -shm files the database's mode."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        try:  # made world-readable by an older version: other users of the machine lose access
            st = path.stat()
            if st.st_mode & 0o007 and st.st_uid == os.getuid():
                os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o007)
        except OSError:
            pass
    except OSError:  # a read-only folder and the like: SQLite reports it when it opens the file
        pass


# Errors of a database that has no room or may not be written, as SQLite and PostgreSQL word them.
_NO_ROOM = ("database or disk is full", "no space left", "could not extend file", "disk full", "file too large")
_NOT_WRITABLE = ("readonly database", "read-only file system", "permission denied", "unable to open database file")


def database_failed(url: str, exc: OperationalError) -> StorageError:
    """The error of a database write or read that failed for the storage under it (full, read-only, gone)."""
    safe = make_url(url).render_as_string() if "://" in url else url
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    low = reason.lower()
    if any(s in low for s in _NO_ROOM) or "disk i/o error" in low:
        return StorageError(f"the database {safe} (database_url) has no room to write: {reason}",
                            hint="free disk space where the database lives (`trendreel gc` removes old files), "
                                 "or set database_url to one with room; then run the same command again")
    if any(s in low for s in _NOT_WRITABLE):
        return StorageError(f"the database {safe} (database_url) cannot be written: {reason}",
                            hint="make the database file and its folder writable, or set database_url")
    return StorageError(f"the database {safe} (database_url) failed: {reason}")


def make_engine(url: str, *, connect_args: dict | None = None) -> Engine:
    """SQLite gets WAL and a busy timeout so a crawler and a reader can share it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database_url {url!r} is not a database URL (e.g. sqlite:///path.db or postgresql+psycopg://host/db)") from exc
    args = dict(connect_args or {})
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            try:
                if not Path(parsed.database).parent.exists():
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise StorageError(f"database_url {parsed.render_as_string()}: cannot make the folder "
                                   f"{Path(parsed.database).parent}: {exc.strerror or exc}",
                                   hint="make its parent folder writable, or set database_url") from exc
            _private_sqlite_file(Path(parsed.database))
        args.setdefault("timeout", 30)
        engine = create_engine(url, connect_args=args)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    try:
        return create_engine(url, connect_args=args, pool_pre_ping=True)
    except Exception as exc:  # missing driver etc.
        raise ConfigError(f"cannot use database_url {parsed.render_as_string()}: {exc}") from exc


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision of the migration files, as Alembic's ScriptDirectory.get_current_head() says,
    read from their `revision` and `down_revision` lines without importing Alembic.

    None where the files do not say it plainly (branches, a revision that is computed), which leaves the
    decision to Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found: dict[str, object] = {}
        for line in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            try:  # the one line alone: a trailing comment or an annotation is fine
                node = ast.parse(line).body[0]
            except SyntaxError:  # not an assignment (a line of the docstring, say)
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                try:
                    found[getattr(target, "id", "")] = ast.literal_eval(node.value)
                except ValueError:  # computed, not a literal: Alembic has to read it
                    return None
        if not isinstance(found.get("revision"), str):
            continue
        revisions.add(found["revision"])
        down = found.get("down_revision")
        parents.update([down] if isinstance(down, str) else (down or ()))  # a merge names a tuple
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revisions(conn: Connection) -> set[str]:
    """The revisions the database is at (none for a database Alembic has not touched)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return set()
    return set(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


# Processes that start together on an empty PostgreSQL database (a gateway and its workers) would each
# create the tables; the first takes this transaction lock, the others wait for it and find the schema current.
_MIGRATE_LOCK_KEY = 7347025113


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; Alembic runs only when the database is behind)."""
    try:
        with engine.connect() as conn:
            head = head_revision()
            if head is not None and current_revisions(conn) == {head}:
                return
        from alembic import command

        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK_KEY})
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        reason = str(exc.orig).lower()
        if any(s in reason for s in _NO_ROOM + _NOT_WRITABLE):
            raise database_failed(engine.url.render_as_string(), exc) from exc
        raise StorageError(f"cannot reach the database {engine.url.render_as_string()}: {exc.orig}") from exc


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


class Database:
    """An engine, migrated, with a session factory."""

    def __init__(self, url: str, *, connect_args: dict | None = None, auto_migrate: bool = True):
        self.url = url
        self.engine = make_engine(url, connect_args=connect_args)
        if auto_migrate:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error."""
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except OperationalError as exc:  # the storage under the database: full, read-only, gone
                try:
                    s.rollback()
                except SQLAlchemyError:
                    pass
                raise database_failed(self.url, exc) from exc
            except Exception:
                s.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a few reads without an ORM session's bookkeeping (the crawl looks up every page)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise database_failed(self.url, exc) from exc

    def analyze(self, tables: list[str]) -> None:
        """Refresh the planner's row statistics of `tables` (PostgreSQL and SQLite both have ANALYZE).

        Bulk writers call this as their tables grow: where autovacuum is off or behind, the planner
        takes a table of 20,000 rows for an empty one and scans it whole on every lookup.
        """
        for table in tables:  # one transaction each: a table that cannot be analyzed does not stop the others
            try:
                with self.engine.begin() as conn:
                    conn.execute(text(f'ANALYZE "{table}"'))
            except SQLAlchemyError as exc:  # statistics only speed lookups up; never fail the write over them
                log.warning("db.analyze_failed", table=table, error=str(exc)[:300])

    def dispose(self) -> None:
        self.engine.dispose()
