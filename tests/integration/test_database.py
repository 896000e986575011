"""The RDB spine on SQLite and PostgreSQL: migrations, seeded categories, idempotent events."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, inspect, select, text

from trendreel.db import repo
from trendreel.db.engine import Database, alembic_config, current_revisions, head_revision, migrate
from trendreel.db.tables import Category, Event

SEEDED = {"life", "economy", "entertainment", "politics", "society", "sports", "tech", "world", "culture"}


def test_migrations_create_tables_and_seed_categories(database):
    names = set(inspect(database.engine).get_table_names())
    assert {"category", "source", "article", "media_item", "event", "crawl_url", "crawl_run", "alembic_version"} <= names
    with database.session() as s:
        assert {c.slug for c in repo.list_categories(s)} == SEEDED


def test_migrate_twice_is_a_no_op(database):
    migrate(database.engine)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Category)) == len(SEEDED)


def test_event_with_same_key_is_appended_once(database):
    with database.session() as s:
        assert repo.append_event(s, type="ArticleCrawled", subject_type="article", subject_id="a1", dedupe_key="k1", payload={"x": 1})
    with database.session() as s:
        assert not repo.append_event(s, type="ArticleCrawled", subject_type="article", subject_id="a1", dedupe_key="k1")
        assert repo.append_event(s, type="ArticleCrawled", subject_type="article", subject_id="a1", dedupe_key="k2")
    with database.session() as s:
        rows = s.scalars(select(Event).order_by(Event.id)).all()
        assert [r.dedupe_key for r in rows] == ["k1", "k2"]
        assert rows[0].payload == {"x": 1}


def test_enqueue_urls_returns_only_new_rows(database):
    with database.session() as s:
        src = repo.upsert_source(s, name="s", kind="site", config={})
        first = repo.enqueue_urls(s, source_id=src.id, urls=[("http://x/a", "page", 0, None), ("http://x/b", "page", 1, None)])
        again = repo.enqueue_urls(s, source_id=src.id, urls=[("http://x/a", "page", 0, None), ("http://x/c", "page", 1, None)])
    assert sorted(r.url for r in first) == ["http://x/a", "http://x/b"]
    assert [r.url for r in again] == ["http://x/c"]


def test_a_sitemap_of_50000_urls_is_queued_in_one_call(database):
    # 500,000 values: past PostgreSQL's 65,535 parameters per statement, so the rows go in slices.
    urls = [(f"http://x/{n}", "page", 1, "http://x/sitemap.xml") for n in range(50_000)]
    with database.session() as s:
        src = repo.upsert_source(s, name="big", kind="sitemap", config={})
        rows = repo.enqueue_urls(s, source_id=src.id, urls=urls)
        assert len(rows) == 50_000 and rows[0].url == "http://x/0" and rows[-1].url == "http://x/49999"
        assert repo.enqueue_urls(s, source_id=src.id, urls=urls[:10]) == []


def test_analyze_refreshes_statistics_and_never_fails_the_caller(database):
    with database.session() as s:
        src = repo.upsert_source(s, name="s", kind="site", config={})
        repo.enqueue_urls(s, source_id=src.id, urls=[(f"http://x/{n}", "page", 1, None) for n in range(300)])
    database.analyze(["crawl_url", "article"])
    with database.engine.connect() as conn:
        if database.engine.dialect.name == "postgresql":
            rows = conn.execute(text("select reltuples from pg_class where relname = 'crawl_url' "
                                     "and relnamespace = (select oid from pg_namespace where nspname = current_schema())"))
            assert rows.scalar_one() == 300
        else:
            assert conn.execute(text("select count(*) from sqlite_stat1 where tbl = 'crawl_url'")).scalar_one() > 0
    database.analyze(["no_such_table", "article"])  # logged, not raised; the next table is still analyzed


def test_category_master_is_editable(database, make_settings):
    from trendreel import services
    from trendreel.bootstrap import App
    from trendreel.files import open_file_store

    app = App(settings=make_settings(), db=database, files=open_file_store("memory://"))
    services.save_category(app, slug="gossip", name="Gossip", name_ko="가십")
    services.save_category(app, slug="life", description="everyday life")
    cats = {c["slug"]: c for c in services.list_categories(app)}
    assert cats["gossip"]["name_ko"] == "가십"
    assert cats["life"]["description"] == "everyday life"


def test_bad_database_url_names_the_setting():
    import pytest

    from trendreel.errors import ConfigError, StorageError

    with pytest.raises(ConfigError, match="database_url"):
        Database("not a url")
    with pytest.raises(StorageError, match="cannot reach the database"):
        Database("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_migrations_match_the_table_models(database):
    """A model changed without a migration shows up here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from trendreel.db.tables import Base

    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


# ---- opening a database: Alembic only when the schema is behind ---------------------------------

def _alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from trendreel.db.engine import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_head_revision_read_from_the_files_is_alembics_head():
    assert head_revision() == _alembic_head()


def _open_in_a_fresh_process(url: str, args: dict) -> dict:
    """Open the database as a command does, in a new interpreter, and say what that loaded."""
    code = (
        "import json, sys\n"
        "from trendreel.db.engine import Database, current_revisions\n"
        "db = Database(sys.argv[1], connect_args=json.loads(sys.argv[2]))\n"
        "with db.engine.connect() as conn:\n"
        "    revisions = sorted(current_revisions(conn))\n"
        "db.dispose()\n"
        "print(json.dumps({'revisions': revisions, 'alembic': 'alembic' in sys.modules,\n"
        "                  'alembic.command': 'alembic.command' in sys.modules}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, url, json.dumps(args)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_new_database_is_migrated_and_a_current_one_opens_without_alembic(db_url):
    url, args = db_url
    first = _open_in_a_fresh_process(url, args)
    assert first == {"revisions": [_alembic_head()], "alembic": True, "alembic.command": True}
    again = _open_in_a_fresh_process(url, args)
    assert again == {"revisions": [_alembic_head()], "alembic": False, "alembic.command": False}


def _downgrade(database: Database, revision: str) -> None:
    from alembic import command

    with database.engine.begin() as conn:
        cfg = alembic_config(database.engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_an_older_schema_is_upgraded_when_opened(database, db_url):
    from alembic.script import ScriptDirectory

    head = _alembic_head()
    previous = ScriptDirectory.from_config(alembic_config(database.engine)).get_revision(head).down_revision
    _downgrade(database, previous)
    older_tables = set(inspect(database.engine).get_table_names())
    with database.engine.connect() as conn:
        assert current_revisions(conn) == {previous}

    url, args = db_url
    reopened = Database(url, connect_args=args)
    try:
        with reopened.engine.connect() as conn:
            assert current_revisions(conn) == {head}
        assert set(inspect(reopened.engine).get_table_names()) > older_tables  # the newest migration's tables
    finally:
        reopened.dispose()


_OPEN_WHEN_TOLD = """
import json, sys, time
from pathlib import Path
from trendreel.db.engine import Database, current_revisions
url, args, folder = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
(folder / f"ready-{sys.argv[4]}").touch()
while not (folder / "go").exists():
    time.sleep(0.005)
db = Database(url, connect_args=args)
with db.engine.connect() as conn:
    print(json.dumps(sorted(current_revisions(conn))))
"""


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_processes_opening_an_empty_database_at_once_migrate_it_once(db_url, tmp_path):
    """A gateway and its workers started together (compose, a chart's replicas) all find the database empty:
    one migrates it, the others wait for that and open it, none fails."""
    url, args = db_url
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN_WHEN_TOLD, url, json.dumps(args), str(tmp_path), str(i)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("ready-*"))) < len(procs) and time.monotonic() < deadline:
            time.sleep(0.01)
        (tmp_path / "go").touch()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert json.loads(out) == [_alembic_head()]


def test_the_home_and_its_database_are_private_to_their_user(tmp_path):
    """The SQLite database holds password and token hashes: never readable by other users of the machine."""
    import os
    import stat

    from trendreel.bootstrap import build_app
    from trendreel.settings import Settings

    old = os.umask(0o022)  # the usual umask: files 0644 and folders 0755 unless made otherwise
    try:
        settings = Settings(home=tmp_path / "home")
        app = build_app(settings)
        with app.db.session() as s:
            repo.list_categories(s)
        app.close()
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "home") == 0o700
    db_files = [p for p in (tmp_path / "home").iterdir() if p.name.startswith("trendreel.db")]
    assert db_files and (tmp_path / "home" / "trendreel.db") in db_files
    for p in db_files:
        assert mode(p) & 0o077 == 0, f"{p.name} is {oct(mode(p))}"
