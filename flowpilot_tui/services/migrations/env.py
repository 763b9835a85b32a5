"""Alembic environment. Migrations run on a sync SQLite connection handed in by `services.store`."""

from __future__ import annotations

from alembic import context

from flowpilot_tui.services.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        url = config.get_main_option("sqlalchemy.url")
        assert url, "alembic: no sqlalchemy.url (FlowPilot passes a connection; the CLI sets the URL)"
        engine = create_engine(url)
        with engine.begin() as connection:
            _configure_and_run(connection)
        return
    _configure_and_run(connection)


def _configure_and_run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
