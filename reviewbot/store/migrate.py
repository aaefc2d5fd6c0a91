"""Schema migrations (Alembic), run programmatically by `reviewbot init` and `reviewbot db upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from reviewbot.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision, so every command can check the schema without importing Alembic and reading
# the migration scripts (0.3-0.6 s of a command that lists rows). A test holds it equal to Alembic's head; if it
# were ever stale behind a newer migration, `require_current` still accepts a database at Alembic's head.
HEAD = "0007"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of reviewbot."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate the database to the newest schema; safe to run again. Returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, head_revision()


def require_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is missing or older than this code."""
    current = _stored_revision(engine)
    if current == HEAD or current == head_revision():
        return
    if current is None:
        raise ConfigError(
            "the database has no reviewbot tables yet",
            field="database_url",
            hint="run `reviewbot db upgrade` (or `reviewbot init` for a new workspace)",
        )
    raise ConfigError(
        f"the database schema is at {current}, this reviewbot needs {head_revision()}",
        field="database_url",
        hint="run `reviewbot db upgrade`",
    )


def _stored_revision(engine: Engine) -> str | None:
    """The revision in Alembic's version table, read without Alembic (None without the table or a row)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return versions[0] if len(versions) == 1 else None
