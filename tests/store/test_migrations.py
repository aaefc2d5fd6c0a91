"""The schema is created and upgraded by Alembic, on SQLite and PostgreSQL, and stale databases are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from reviewbot.errors import ConfigError
from reviewbot.models import metadata
from reviewbot.store import Store
from reviewbot.store.migrate import HEAD, current_revision, head_revision, require_current, upgrade


def test_upgrade_creates_every_table_and_is_safe_to_repeat(database_url: str) -> None:
    store = Store(database_url)
    with pytest.raises(ConfigError, match="no reviewbot tables yet"):
        require_current(store.engine)
    assert upgrade(store.engine) == (None, head_revision())
    assert upgrade(store.engine) == (head_revision(), head_revision())
    assert current_revision(store.engine) == head_revision()
    require_current(store.engine)
    tables = set(inspect(store.engine).get_table_names())
    assert set(metadata.tables) <= tables
    store.dispose()


def test_the_head_every_command_checks_against_is_alembics_head() -> None:
    # a new migration must update migrate.HEAD, or commands would accept a database one migration behind
    assert head_revision() == HEAD, "set reviewbot.store.migrate.HEAD to the new migration's revision"


def test_a_database_one_migration_behind_is_refused_with_the_way_to_upgrade(database_url: str) -> None:
    from alembic import command

    from reviewbot.store.migrate import _config

    store = Store(database_url)
    upgrade(store.engine)
    config = _config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")
    with pytest.raises(ConfigError, match=f"schema is at .*, this reviewbot needs {HEAD}") as caught:
        require_current(store.engine)
    assert "reviewbot db upgrade" in (caught.value.hint or "")
    store.dispose()


def test_migrations_match_the_models(store: Store) -> None:
    # A model change without a migration would make production databases differ from tests.
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_unreachable_database_is_a_config_error() -> None:
    store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(ConfigError) as caught:
        store.check_connection()
    assert "REVIEWBOT_DATABASE_URL" in (caught.value.hint or "")
