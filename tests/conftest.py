"""Shared fixtures: real SQLite and PostgreSQL databases, real file stores, the real sample site."""

from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from trendreel.db.engine import Database
from trendreel.settings import Settings

PG_URL = os.environ.get("TRENDREEL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SAMPLE_TODAY = date(2026, 11, 20)
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def fresh_registry():
    """Every test starts with the built-in backends only: what one test registers, no other sees."""
    from trendreel.registry import reset_default_registry

    yield reset_default_registry()
    reset_default_registry()


def _pg_available() -> bool:
    try:
        eng = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


def _fresh_pg_schema() -> tuple[str, dict]:
    schema = "t_" + uuid.uuid4().hex[:12]
    eng = sa.create_engine(PG_URL)
    with eng.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    return schema, {"options": f"-csearch_path={schema}"}


def _drop_pg_schema(schema: str) -> None:
    eng = sa.create_engine(PG_URL)
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, pg_available):
    """A database URL (and connect args) for each backend; PostgreSQL gets a fresh schema per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}", {}
        return
    if not pg_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    schema, args = _fresh_pg_schema()
    try:
        yield PG_URL, args
    finally:
        _drop_pg_schema(schema)


@pytest.fixture
def database(db_url):
    url, args = db_url
    db = Database(url, connect_args=args)
    yield db
    db.dispose()


@pytest.fixture
def make_settings(tmp_path):
    """Settings for a fresh home, with crawl politeness turned down for local servers."""

    def _make(**overrides) -> Settings:
        crawl = {"delay_s": 0.0, "retries": 1, "backoff_s": 0.05, "timeout_s": 5.0, "per_host_concurrency": 4}
        crawl.update(overrides.pop("crawl", {}))
        return Settings(home=overrides.pop("home", tmp_path / "home"), crawl=crawl, **overrides)

    return _make


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory):
    """The bundled sample site, built once per test session."""
    from trendreel.demo.site import build_sample_site

    root = tmp_path_factory.mktemp("sample-site")
    return build_sample_site(root, today=SAMPLE_TODAY)


@pytest.fixture(scope="session")
def sample_url(sample_site):
    from trendreel.demo.server import serve_site

    with serve_site(sample_site.root) as url:
        yield url
