"""Engine and session factory; migrations run through Alembic on first use."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from trendreel.errors import ConfigError, StorageError
from trendreel.logs import get_logger

log = get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, *, connect_args: dict | None = None) -> Engine:
    """SQLite gets WAL and a busy timeout so a crawler and a reader can share it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database_url {url!r} is not a database URL (e.g. sqlite:///path.db or postgresql+psycopg://host/db)") from exc
    args = dict(connect_args or {})
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    try:
        with engine.begin() as conn:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
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
            except Exception:
                s.rollback()
                raise

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
