"""One registry of connectors by name: `type = "files"` in reviewbot.toml picks the factory registered as "files".

A factory takes the connector's options (already a dict from reviewbot.toml) and a `ConnectorContext`, and
returns a Source, Tracker or Notifier. Third parties and tests call `register_*` to add their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from reviewbot.errors import ConfigError
from reviewbot.protocols import Notifier, Source, Tracker
from reviewbot.settings import Settings, SourceConfig, setting_error
from reviewbot.store import Store


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector may use besides its options: the settings (for secrets and paths) and the store."""

    settings: Settings
    store: Store | None = None


SourceFactory = Callable[[SourceConfig, ConnectorContext], Source]
TrackerFactory = Callable[[dict[str, Any], ConnectorContext], Tracker]
NotifierFactory = Callable[[dict[str, Any], ConnectorContext], Notifier]

SOURCES: dict[str, SourceFactory] = {}
TRACKERS: dict[str, TrackerFactory] = {}
NOTIFIERS: dict[str, NotifierFactory] = {}

F = TypeVar("F")


def register_source(name: str) -> Callable[[F], F]:
    """Register a Source factory under `name` (decorator)."""
    return _register(SOURCES, name)


def register_tracker(name: str) -> Callable[[F], F]:
    """Register a Tracker factory under `name` (decorator)."""
    return _register(TRACKERS, name)


def register_notifier(name: str) -> Callable[[F], F]:
    """Register a Notifier factory under `name` (decorator)."""
    return _register(NOTIFIERS, name)


def _register(table: dict[str, Any], name: str) -> Callable[[F], F]:
    def decorator(factory: F) -> F:
        table[name] = factory
        return factory

    return decorator


def make_source(config: SourceConfig, context: ConnectorContext) -> Source:
    """Build the source described by one `[[sources]]` entry."""
    index = context.settings.sources.index(config)
    factory = _lookup(SOURCES, config.type, ("sources", index, "type"), context.settings)
    return factory(config, context)


def source_loc(config: SourceConfig, settings: Settings) -> tuple[Any, ...]:
    """Where a source's entry is in reviewbot.toml, for error messages."""
    return ("sources", settings.sources.index(config))


ConfigErrorFactory = Callable[[str, str, str], ConfigError]  # (setting, message, hint) -> error


def source_errors(config: SourceConfig, settings: Settings) -> ConfigErrorFactory:
    """Errors about one setting of a source's entry: they name the source and point at its line in reviewbot.toml."""
    loc = source_loc(config, settings)

    def config_error(setting: str, message: str, hint: str) -> ConfigError:
        return setting_error(settings, (*loc, setting), f"{config.name}: {message}", hint)

    return config_error


def make_tracker(context: ConnectorContext) -> Tracker:
    """Build the tracker chosen in `[tracker]`."""
    tracker = context.settings.tracker
    return _lookup(TRACKERS, tracker.type, ("tracker", "type"), context.settings)(tracker.options, context)


def make_notifier(context: ConnectorContext) -> Notifier:
    """Build the notifier chosen in `[notifier]`."""
    notifier = context.settings.notifier
    return _lookup(NOTIFIERS, notifier.type, ("notifier", "type"), context.settings)(notifier.options, context)


M = TypeVar("M", bound=BaseModel)


def parse_options(model: type[M], options: dict[str, Any], loc: tuple[Any, ...], settings: Settings) -> M:
    """Validate a connector's options; the first problem becomes a ConfigError with its line in reviewbot.toml."""
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = (*loc, *error["loc"])
        if error["type"] == "extra_forbidden":
            known = ", ".join(sorted(model.model_fields))
            raise setting_error(settings, where, f"unknown setting {where[-1]!r}", f"allowed here: {known}") from None
        raise setting_error(settings, where, error["msg"], "check this setting in reviewbot.toml") from None


def _lookup(table: dict[str, F], name: str, loc: tuple[Any, ...], settings: Settings) -> F:
    _load_builtins()
    if name not in table:
        raise setting_error(settings, loc, f"unknown connector type {name!r}", f"available: {', '.join(sorted(table))}")
    return table[name]


def _load_builtins() -> None:
    # Importing a connector module registers it; done lazily so a missing optional dependency of one
    # connector cannot break the others.
    from reviewbot.connectors import builtin, console, files, jira, zendesk  # noqa: F401
    from reviewbot.connectors.slack import notifier, source  # noqa: F401
