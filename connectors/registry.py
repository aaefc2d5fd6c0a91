"""Connectors by name: `type = "files"` in reviewbot.toml picks the connector installed under the name "files".

Connectors are found through entry points in the group "reviewbot.connectors" (the built-in ones are declared in
reviewbot's own pyproject.toml the same way), so a connector shipped as its own package needs no change here:

    [project.entry-points."reviewbot.connectors"]
    acme = "acme_reviewbot:connector"

The entry point names a `Connector`: a Source, Tracker and/or Notifier factory. A factory takes the connector's
options (already a dict from reviewbot.toml) and a `ConnectorContext`, and returns the object. An entry point is
loaded only when reviewbot.toml names it, so a missing optional dependency of one connector cannot break the
others. Tests may also `register_*` a factory in-process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from reviewbot.errors import ConfigError
from reviewbot.protocols import Notifier, Source, Tracker
from reviewbot.settings import Settings, SourceConfig, mask_config, setting_error
from reviewbot.store import Store

GROUP = "reviewbot.connectors"
MAX_SHOWN_VALUE = 80  # characters of a wrong value quoted back in its error (a longer one is named, not shown)
Role = Literal["source", "tracker", "notifier"]


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector may use besides its options: the settings (for secrets and paths) and the store."""

    settings: Settings
    store: Store | None = None


SourceFactory = Callable[[SourceConfig, ConnectorContext], Source]
TrackerFactory = Callable[[dict[str, Any], ConnectorContext], Tracker]
NotifierFactory = Callable[[dict[str, Any], ConnectorContext], Notifier]


@dataclass(frozen=True)
class Connector:
    """What an entry point of the group "reviewbot.connectors" names: the factories of one connector type."""

    source: SourceFactory | None = None
    tracker: TrackerFactory | None = None
    notifier: NotifierFactory | None = None


# Factories registered in-process (tests); they take precedence over entry points of the same name.
SOURCES: dict[str, SourceFactory] = {}
TRACKERS: dict[str, TrackerFactory] = {}
NOTIFIERS: dict[str, NotifierFactory] = {}
_REGISTERED: dict[Role, dict[str, Any]] = {"source": SOURCES, "tracker": TRACKERS, "notifier": NOTIFIERS}

F = TypeVar("F")


def register_source(name: str) -> Callable[[F], F]:
    """Register a Source factory under `name` in this process (decorator)."""
    return _register(SOURCES, name)


def register_tracker(name: str) -> Callable[[F], F]:
    """Register a Tracker factory under `name` in this process (decorator)."""
    return _register(TRACKERS, name)


def register_notifier(name: str) -> Callable[[F], F]:
    """Register a Notifier factory under `name` in this process (decorator)."""
    return _register(NOTIFIERS, name)


def _register(table: dict[str, Any], name: str) -> Callable[[F], F]:
    def decorator(factory: F) -> F:
        table[name] = factory
        return factory

    return decorator


def make_source(config: SourceConfig, context: ConnectorContext) -> Source:
    """Build the source described by one `[[sources]]` entry."""
    index = context.settings.sources.index(config)
    factory = _lookup("source", config.type, ("sources", index, "type"), context.settings)
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
    return _lookup("tracker", tracker.type, ("tracker", "type"), context.settings)(tracker.options, context)


def make_notifier(context: ConnectorContext) -> Notifier:
    """Build the notifier chosen in `[notifier]`."""
    notifier = context.settings.notifier
    return _lookup("notifier", notifier.type, ("notifier", "type"), context.settings)(notifier.options, context)


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
        raise setting_error(settings, where, _problem(model, error), "check this setting in reviewbot.toml") from None


def _problem(model: type[BaseModel], error: Any) -> str:
    """What is wrong with an option, naming it: `project = 'pol': should be a Jira project key like POL (upper
    case)` when the option describes the values it takes, else pydantic's words."""
    name = str(error["loc"][-1]) if error["loc"] else model.__name__
    field = model.model_fields.get(name) if len(error["loc"]) == 1 else None
    what = f"should be {field.description}" if field is not None and field.description else error["msg"]
    value = mask_config(error.get("input"), name)  # a wrong token is not shown back
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= MAX_SHOWN_VALUE:
        return f"{name} = {value!r}: {what}"
    return f"{name}: {what}"


def installed() -> dict[str, EntryPoint]:
    """The connector entry points of every installed distribution, by name (not loaded)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def installed_for(role: Role) -> list[str]:
    """The names of the connectors that provide `role`, sorted; connectors that fail to load are left out."""
    names = set(_REGISTERED[role])
    for name, ep in installed().items():
        try:
            if getattr(_load(ep), role, None) is not None:
                names.add(name)
        except Exception:  # noqa: BLE001 - a broken plug-in is reported when it is picked, not while listing
            continue
    return sorted(names)


def _lookup(role: Role, name: str, loc: tuple[Any, ...], settings: Settings) -> Any:
    if name in _REGISTERED[role]:
        return _REGISTERED[role][name]
    ep = installed().get(name)
    if ep is None:
        raise setting_error(
            settings,
            loc,
            f"unknown connector type {name!r}",
            f"installed {role}s: {', '.join(installed_for(role)) or 'none'}; a connector from another package is "
            f'found once that package is installed (entry point group "{GROUP}")',
        )
    try:
        connector = _load(ep)
    except Exception as exc:  # an ImportError of its dependencies, or any error of a third party's module
        raise setting_error(
            settings,
            loc,
            f"connector {name!r} ({_origin(ep)}) could not be loaded: {type(exc).__name__}: {exc}",
            "install what it needs into reviewbot's environment, or pick another connector in reviewbot.toml",
        ) from None
    factory = getattr(connector, role, None)
    if factory is None:
        raise setting_error(
            settings,
            loc,
            f"connector {name!r} ({_origin(ep)}) is not a {role}",
            f"installed {role}s: {', '.join(installed_for(role)) or 'none'}",
        )
    return factory


def _load(ep: EntryPoint) -> Connector:
    connector = ep.load()
    if not isinstance(connector, Connector):
        raise TypeError(f"entry point {ep.value} is not a reviewbot.connectors.registry.Connector")
    return connector


def _origin(ep: EntryPoint) -> str:
    """Which distribution declared an entry point, e.g. "acme-reviewbot 1.0: acme_reviewbot:connector"."""
    dist = ep.dist
    return f"{dist.name} {dist.version}: {ep.value}" if dist is not None else ep.value
