"""Alembic environment: runs reviewbot's migrations on the engine handed over by `reviewbot.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from reviewbot.models import metadata  # every table: asking for it loads every table module

config = context.config


def run_migrations_online() -> None:
    """Run migrations on a live connection (the only mode reviewbot uses)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # `alembic -c reviewbot/store/alembic.ini ...` from a checkout, for developers writing migrations.
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode recreates the table instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
