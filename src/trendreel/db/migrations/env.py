"""Alembic environment: trendreel passes the connection in config.attributes."""

from alembic import context
from sqlalchemy import create_engine

from trendreel.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic` with -x url=...
        url = context.get_x_argument(as_dictionary=True).get("url")
        engine = create_engine(url)
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
