"""Schema migrations (Alembic), run programmatically by `reviewbot init` and `reviewbot db upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from reviewbot.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of reviewbot."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate the database to the newest schema; safe to run again. Returns (before, after)."""
    before = current_revision(engine)
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, head_revision()


def require_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is missing or older than this code."""
    current = current_revision(engine)
    if current == head_revision():
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
