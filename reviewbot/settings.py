"""Settings: `reviewbot.toml` in the workspace, overridden by `REVIEWBOT_*` environment variables and `.env`."""

from __future__ import annotations

import io
import os
import re
import tomllib
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from dotenv.parser import parse_stream
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from reviewbot.errors import ConfigError
from reviewbot.names import field_name, look_alike, named_people

CONFIG_FILE = "reviewbot.toml"
DEFAULT_DB_FILE = "reviewbot.db"
ENV_PREFIX = "REVIEWBOT_"


def known_zone(value: str) -> str:
    """The name of a time zone this machine knows (an IANA name like "Europe/London"), or a ValueError."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name like 'Europe/London'") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(known_zone)]

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s*", re.IGNORECASE)


# Longest window or delay a setting may name: a century. Longer ones only overflow date arithmetic later, in
# the middle of a sync, instead of saying which setting is wrong.
DAYS_AT_MOST = 36_500


def human_duration(value: Any) -> Any:
    """ "2 days", "36 hours", "1 week" as a timedelta; anything else is left to pydantic (seconds, ISO 8601)."""
    if isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        try:
            return timedelta(**{match.group(2).lower() + "s": float(match.group(1))})
        except OverflowError:
            raise ValueError(f"{value!r} is longer than {DAYS_AT_MOST:,} days") from None
    if isinstance(value, str):
        try:  # seconds, "HH:MM:SS" or ISO 8601 ("P2D"); else say what is meant, not "invalid character in hour"
            return TypeAdapter(timedelta).validate_python(value)
        except ValidationError:
            raise ValueError(f'{value!r} is not a duration: write e.g. "2 days", "12 hours" or "1 week"') from None
    return value


def at_most_a_century(value: timedelta) -> timedelta:
    """A duration no longer than DAYS_AT_MOST."""
    if abs(value) > timedelta(days=DAYS_AT_MOST):
        raise ValueError(f"{value.days:,} days is longer than {DAYS_AT_MOST:,} days")
    return value


Duration = Annotated[timedelta, BeforeValidator(human_duration), AfterValidator(at_most_a_century)]


def known_region(value: str) -> str:
    """A region code the phone-number library knows (ISO 3166 like "US", "GB", "DE"), upper-cased."""
    import phonenumbers

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {value!r}; use a two-letter country code like 'US', 'GB' or 'DE'")
    return code


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # "1e400" is infinity to float(): refused


class SourceConfig(BaseModel):
    """One `[[sources]]` entry. Keys beyond these are the connector's own options, checked by the connector."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    type: str = "files"
    kind: Literal["complaint", "survey", "agent_note", "suggestion"]
    enabled: bool = True

    @property
    def options(self) -> dict[str, Any]:
        """The connector-specific keys of this entry."""
        return dict(self.model_extra or {})


class EnrichSettings(_Strict):
    """How text is cleaned and scored before it is stored."""

    max_text_chars: int = Field(default=10_000, gt=0, le=10_000_000)
    redact_patterns: dict[str, str] = Field(default_factory=dict)
    # polarity below this is negative; the calibrated scorer's polarity is 1 - 2 P(negative), so 0 reads "more
    # likely negative than not" (a margin of -0.05 cost MCC on the airline tweets and the UCI sentences alike)
    negative_below: float = 0.0
    # auto: learn from survey answers once there are enough; lexicon: TextBlob, VADER, complaint phrases, source;
    # off: TextBlob as it is
    calibration: Literal["auto", "lexicon", "off"] = "auto"
    calibration_min_answers: int = Field(default=200, ge=20)
    workers: int = Field(default=0, ge=0, le=256)  # processes scoring large imports; 0: one per core (at most 4)
    # phone numbers written without a country code are read as numbers of this country
    phone_region: Annotated[str, AfterValidator(known_region)] = "US"
    # possible: any number of a length the region's plan allows (written with separators); valid: only numbers
    # in ranges that are assigned (fewer false positives, misses made-up and newly assigned numbers)
    phone_leniency: Literal["possible", "valid"] = "possible"


class IntakeSettings(_Strict):
    """Which rows of a file source are quarantined rather than stored."""

    # longest field a CSV row may have (the csv module's own limit is 131,072); longer rows are quarantined
    max_field_chars: int = Field(default=1_000_000, ge=1_000, le=1_000_000_000)
    # a row dated further ahead of the time it is read than this is quarantined ("2 days", "12 hours", ...)
    future_tolerance: Duration = timedelta(days=2)
    earliest_date: date = date(1990, 1, 1)  # a row dated before this is quarantined (a placeholder like 0001-01-01)


class ThemeSettings(_Strict):
    """How feedback is grouped into themes."""

    min_size: int = Field(default=5, ge=2)
    assign_threshold: float = Field(default=0.2, gt=0, lt=1)
    cluster_similarity: float = Field(default=0.25, gt=0, lt=1)
    max_cluster_items: int = Field(default=10_000, ge=100, le=50_000)  # clustering time grows with its square
    top_terms: int = Field(default=60, ge=5, le=1_000)
    # "embeddings" finds new themes by meaning with a local sentence-transformers model (the optional extra)
    backend: Literal["tfidf", "embeddings"] = "tfidf"
    embedding_model: str = ""  # folder of the model, relative to the workspace


class MappingSettings(_Strict):
    """How themes are matched to policy sections."""

    min_confidence: float = Field(default=0.08, ge=0, lt=1)
    # a second section is cited too when it scores at least this fraction of the best one
    also_within: float = Field(default=0.8, gt=0, le=1)
    max_sections: int = Field(default=2, ge=1, le=20)


class TicketSettings(_Strict):
    """When a theme earns a review ticket, and what evidence it carries."""

    min_items: int = Field(default=8, ge=1)
    # share of items that are complaints or negative answers
    min_concern_share: float = Field(default=0.5, ge=0, le=1)
    min_growth: float = Field(default=2.0, gt=0)
    # a theme is filed against a section only when it matches it at least this well
    min_confidence: float = Field(default=0.12, ge=0, lt=1)
    # a coverage gap is filed only when this share of its items talks about rules or promises
    min_gap_rules_share: float = Field(default=0.3, ge=0, le=1)
    recent_days: int = Field(default=28, ge=1, le=DAYS_AT_MOST)
    max_quotes: int = Field(default=5, ge=0, le=100)
    # a ticket's tracker gets a comment when its theme grew by this share of distinct texts since the last one
    # (or its tone, survey scores, priority or section changed); smaller changes refresh the ticket quietly
    comment_growth: float = Field(default=0.1, ge=0)


class ReviewSettings(_Strict):
    """Sign-off timing, review cadence, reopening, publishing."""

    default_interval_days: int = Field(default=365, ge=1, le=DAYS_AT_MOST)  # sections without review_interval_days
    signoff_sla_days: float = Field(
        default=3, gt=0, le=DAYS_AT_MOST
    )  # a pending sign-off older than this gets a reminder
    reminder_interval_days: float = Field(
        default=2, gt=0, le=DAYS_AT_MOST
    )  # at most one reminder per approver this often
    escalate_after_days: float = Field(default=7, gt=0, le=DAYS_AT_MOST)  # then the document owner is told too
    reopen_factor: float = Field(default=1.5, gt=1)  # a dismissed or closed ticket reopens when its theme grows so
    ack_roles: list[str] = Field(default_factory=lambda: ["agents"])  # who must acknowledge a new version
    # a version not acknowledged this long after it was published gets reminders (one per reminder_interval_days)...
    ack_sla_days: float = Field(default=7, gt=0, le=DAYS_AT_MOST)
    ack_reminders: int = Field(default=2, ge=0, le=100)  # ...at most this many per person and version (0: none)
    publish_dir: str = "publish"
    publish_url: str | None = None  # where publish_dir is served, for links from tickets (default: file://)


class ImpactSettings(_Strict):
    """Measuring the effect of a published version on the themes its tickets cited (see reviewbot.analysis.effect)."""

    before_days: int = Field(default=28, ge=1, le=DAYS_AT_MOST)  # the window before the publish date...
    after_days: int = Field(
        default=28, ge=1, le=DAYS_AT_MOST
    )  # ...and after it; the effect is reported once this one has closed
    alpha: float = Field(default=0.05, gt=0, lt=1)  # significance level of a theme's verdict
    min_expected: float = Field(default=5.0, gt=0)  # fewer expected items in a cell of a test is "too little data"


class ScheduleSettings(_Strict):
    """`reviewbot schedule`: cron expressions (minute hour day month weekday) in a time zone; empty to turn off."""

    timezone: TimeZoneName = "UTC"
    sync: str | None = "*/30 * * * *"
    reminders: str | None = "0 9 * * 1-5"  # sign-off and acknowledgement reminders, escalations
    cadence: str | None = "0 6 * * *"  # periodic-review tickets for sections past their interval
    digest: str | None = "0 8 * * 1"  # the weekly summary of open tickets and overdue sign-offs
    misfire_grace_seconds: int = Field(
        default=300, ge=1, le=DAYS_AT_MOST * 86_400
    )  # a run missed by more than this is skipped

    @field_validator("sync", "reminders", "cadence", "digest")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if not value:
            return None
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a cron expression (minute hour day month weekday): {exc}") from None
        return value


PERSON_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$"


class PersonSettings(_Strict):
    """One `[identity.people."name"]` entry: how that person is recognised on the command line."""

    # operating-system login(s) the person runs `reviewbot` as
    os_user: list[str] = Field(default_factory=list)
    # SHA-256 (hex) of a personal token given in REVIEWBOT_TOKEN (for a shared or service login); the token
    # itself never goes in this file (`reviewbot whoami --new-token` makes one)
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @field_validator("os_user", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class IdentitySettings(_Strict):
    """`[identity]`: who is who on the command line. Read from reviewbot.toml only, never the environment."""

    # people (or roles) who may act for someone else with --as NAME; audited as "ADMIN for NAME"
    admins: list[str] = Field(default_factory=list)
    people: dict[Annotated[str, Field(pattern=PERSON_NAME)], PersonSettings] = Field(default_factory=dict)

    def person_of_login(self, login: str) -> str | None:
        """The person who logs in to the operating system as `login`, if any."""
        return next((name for name, p in self.people.items() if login in p.os_user), None)

    def person_of_token(self, token: str) -> str | None:
        """The person whose personal token this is, if any (compared by SHA-256, in constant time)."""
        import hashlib
        import hmac

        digest = hashlib.sha256(token.encode()).hexdigest()
        return next(
            (n for n, p in self.people.items() if p.token_sha256 and hmac.compare_digest(p.token_sha256, digest)),
            None,
        )


class ConnectorSettings(BaseModel):
    """`[tracker]` or `[notifier]`: the connector's name plus its own options."""

    model_config = ConfigDict(extra="allow")

    type: str

    @property
    def options(self) -> dict[str, Any]:
        """The connector-specific keys of this table."""
        return dict(self.model_extra or {})

    @property
    def site(self) -> str:
        """Which instance of the tracker: its `server` and `project` when it has them ("" for the built-in one).

        A key such as POL-5 means something only there: another site, or another project, is another tracker.
        """
        server = str(self.options.get("server") or "").strip()
        if server:
            parts = urlsplit(server)  # scheme and host are case-blind; a trailing / changes nothing
            server = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))
        return f"{server} {str(self.options.get('project') or '').strip()}".strip()


class Settings(BaseSettings):
    """Everything reviewbot reads from configuration, after merging file, `.env` and environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore")

    workspace: Path = Path(".")
    database_url: str | None = None
    policies_dir: str = "policies"
    # globs of file names in policies_dir that are not policies (README.md, LICENSE.md and the like never are)
    policies_exclude: list[str] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    enrich: EnrichSettings = Field(default_factory=EnrichSettings)
    themes: ThemeSettings = Field(default_factory=ThemeSettings)
    mapping: MappingSettings = Field(default_factory=MappingSettings)
    tickets: TicketSettings = Field(default_factory=TicketSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    impact: ImpactSettings = Field(default_factory=ImpactSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    # role -> people, e.g. compliance-lead = ["sam.okafor"]; a name that is not a role is a person
    roles: dict[str, list[str]] = Field(default_factory=dict)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    tracker: ConnectorSettings = Field(default_factory=lambda: ConnectorSettings(type="builtin"))
    notifier: ConnectorSettings = Field(default_factory=lambda: ConnectorSettings(type="console"))
    slack: dict[str, Any] = Field(default_factory=dict)  # checked by the Slack connector
    web: dict[str, Any] = Field(default_factory=dict)  # checked by the web console (reviewbot.web.config)

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return sources

    @property
    def db_url(self) -> str:
        """The database URL: configured, or a SQLite file in the workspace (relative SQLite paths are too)."""
        url = normalise_db_url(self.database_url or f"sqlite:///{DEFAULT_DB_FILE}")
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
            url = prefix + str((self.workspace / url[len(prefix) :]).resolve())
        return url

    def people(self, names: Iterable[str]) -> list[str]:
        """The people behind role names (a name that is no role is a person), in order, without repeats."""
        found: list[str] = []
        for name in names:
            for person in self.roles.get(name, [name]):
                if person not in found:
                    found.append(person)
        return found

    def known_people(self) -> set[str]:
        """Everyone this workspace names as a person: in [identity], in [roles], and in [slack] people."""
        slack_people = self.slack.get("people")
        slack_names = set(slack_people) if isinstance(slack_people, dict) else set()
        return set(self.people(self.roles)) | set(self.identity.people) | slack_names

    def is_admin(self, person: str) -> bool:
        """True when `person` may act for someone else (listed, or holding a role listed, in identity.admins)."""
        return person in self.people(self.identity.admins)

    @property
    def publish_path(self) -> Path:
        """The folder published documents are written to."""
        return self.workspace / self.review.publish_dir

    @property
    def policies_path(self) -> Path:
        """The folder holding the policy documents."""
        return self.workspace / self.policies_dir

    def secret(self, name: str) -> str | None:
        """A secret from the environment or the workspace `.env` (never from reviewbot.toml)."""
        if name in os.environ:
            return os.environ[name]
        env_file = self.workspace / ".env"
        if env_file.is_file():
            return dotenv_values(env_file).get(name)
        return None


def normalise_db_url(url: str) -> str:
    """`postgres://` and `postgresql://` (as Heroku, Render and most docs write them) mean PostgreSQL through
    psycopg 3, the driver reviewbot installs; SQLAlchemy alone would look for psycopg2 or reject the name."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


ALLOWED_TOP_LEVEL = set(Settings.model_fields) - {"workspace"}


def find_workspace(start: Path | None = None, explicit: Path | None = None) -> Path:
    """The workspace folder: `explicit` if given, else the nearest folder upwards holding reviewbot.toml."""
    if explicit is not None:
        if not (explicit / CONFIG_FILE).is_file():
            raise ConfigError(
                f"no {CONFIG_FILE} in {explicit}",
                hint=f"run `reviewbot init {explicit}` to create a workspace there",
            )
        return explicit.resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ConfigError(
        f"no {CONFIG_FILE} in {here} or any folder above it",
        hint="run `reviewbot init` to create a workspace, or pass --workspace DIR",
    )


class _WithoutIdentity(PydanticBaseSettingsSource):
    """A variables source (the environment, `.env`) with `identity` left out: who is who comes from reviewbot.toml
    alone, so whoever can set a variable for a command cannot make themselves an admin or add a login or a token to
    someone (pydantic-settings merges tables key by key, so even a file's own [identity] would be extended)."""

    def __init__(self, source: PydanticBaseSettingsSource) -> None:
        super().__init__(source.settings_cls)
        self.source = source

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Not used: `__call__` reads the whole source."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {name: value for name, value in self.source().items() if name != "identity"}


def load_settings(workspace: Path, **overrides: Any) -> Settings:
    """Read the workspace's reviewbot.toml, `.env` and `REVIEWBOT_*` variables into Settings."""
    config_path = workspace / CONFIG_FILE
    text, data = _read_toml(config_path)
    unknown = sorted(set(data) - ALLOWED_TOP_LEVEL)
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]!r}",
            file=config_path,
            line=_locate(text, (unknown[0],)),
            hint=f"allowed top-level settings: {', '.join(sorted(ALLOWED_TOP_LEVEL))}",
        )

    class WorkspaceSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # Priority: explicit overrides > environment > .env > reviewbot.toml > defaults.
            return (
                init_settings,
                _WithoutIdentity(env_settings),
                _WithoutIdentity(dotenv_settings),
                InitSettingsSource(settings_cls, data),
            )

    _check_person_ids(data, config_path, text)  # before validation, which would only say a pattern failed
    env_file = workspace / ".env"
    if env_file.is_file():
        _check_env_file(env_file)
    try:
        settings = WorkspaceSettings(
            _env_file=env_file if env_file.is_file() else None,  # type: ignore[call-arg]
            workspace=workspace,
            **overrides,
        )
    except ValidationError as exc:
        raise _config_error(exc, config_path, text) from None
    _check_merged_person_ids(settings)
    return settings


def _check_person_ids(data: dict[str, Any], path: Path, text: str) -> None:
    """Refuse a person id of the file that is not ASCII or reads as another (ConfigError at its line)."""
    wrong = look_alike(named_people(data))
    if wrong is not None:
        line = _locate(text, wrong.where)
        raise ConfigError(wrong.message, file=path, line=line, field=field_name(wrong.where), hint=wrong.hint)


def _check_merged_person_ids(settings: Settings) -> None:
    """The same check once variables and .env are merged in: they may set [roles], [slack] and [tracker]."""
    identity = {"admins": settings.identity.admins, "people": settings.identity.people}
    merged = {
        "roles": settings.roles,
        "identity": identity,
        "slack": settings.slack,
        "tracker": settings.tracker.options,
    }
    wrong = look_alike(named_people(merged))
    if wrong is not None:
        raise setting_error(settings, wrong.where, wrong.message, wrong.hint)


def _check_env_file(path: Path) -> None:
    """Refuse a workspace .env that cannot be read whole (ConfigError at its line, the line not shown: it may hold a
    token). python-dotenv skips a line it cannot parse with a log warning nobody sees, so a token written on it was
    silently missing, and a byte that is not UTF-8 ended the command in a traceback."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not valid UTF-8 ({exc.reason})",
            file=path,
            line=data[: exc.start].count(b"\n") + 1,
            hint="save it as UTF-8 (NAME=value lines)",
        ) from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ConfigError(
                "cannot read this line as NAME=value",
                file=path,
                line=binding.original.line,
                hint="write it as NAME=value, closing any quote it opens, or delete it (# starts a comment)",
            )


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        # Windows Notepad starts UTF-8 with a byte order mark, which tomllib reads as an "invalid statement"
        text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist", hint="run `reviewbot init`") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 ({exc.reason})", file=path) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise ConfigError(f"not valid TOML: {exc}", file=path, line=line, hint="fix the syntax at that line") from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise ConfigError(
            "cannot read it: arrays or inline tables nested thousands of levels deep", file=path, hint="flatten them"
        ) from None


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _config_error(exc: ValidationError, path: Path, text: str) -> ConfigError:
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    field = field_name(loc)
    more = f"; {len(exc.errors()) - 1} more problem(s) after this one" if len(exc.errors()) > 1 else ""
    unknown = error["type"] == "extra_forbidden"
    message = f"unknown setting {loc[-1]!r}" if unknown else error["msg"]
    allowed = f"allowed here: {', '.join(allowed_keys(Settings, loc[:-1]))}"
    # A variable overrides the file, so the file's line would show a value that is not the wrong one (or none).
    variable = _variable_setting(path.parent, loc)
    if variable is not None:
        return ConfigError(
            f"{message} (set by {_variable_origin(path.parent, variable)})",
            field=field,
            hint=(
                f"rename or unset {variable}; {allowed}"
                if unknown
                else f"fix or unset {variable}: it overrides {field} in {path.name}"
            )
            + more,
        )
    hint = allowed if unknown else f"fix it in {path.name}"
    return ConfigError(message, file=path, line=_locate(text, loc), field=field, hint=hint + more)


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The setting names a model accepts at a location such as ("tickets",)."""
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[str(part)].annotation
        inner = [
            a
            for a in getattr(annotation, "__args__", (annotation,))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not inner:
            return []
        model = inner[0]
    return sorted(model.model_fields)


def setting_error(settings: Settings, loc: tuple[Any, ...], message: str, hint: str) -> ConfigError:
    """A ConfigError about the setting at `loc` (e.g. ("sources", 0, "columns")), with its line in reviewbot.toml,
    or, when a `REVIEWBOT_*` variable set it, the variable's name (the file's line would show another value)."""
    path = settings.workspace / CONFIG_FILE
    field = field_name(loc)
    variable = env_origin(settings, loc)
    if variable is not None:
        return ConfigError(
            f"{message} (set by {_variable_origin(settings.workspace, variable)})",
            field=field,
            hint=f"fix or unset {variable}: it overrides {field} in {CONFIG_FILE}",
        )
    try:
        line = _locate(path.read_text(encoding="utf-8"), loc)
    except OSError:
        line = None
    return ConfigError(message, file=path, line=line, field=field, hint=hint)


def env_origin(settings: Settings, loc: tuple[Any, ...]) -> str | None:
    """The `REVIEWBOT_*` variable (in the environment or the workspace .env) that set the setting at `loc` or the
    table holding it (REVIEWBOT_TRACKER__PROJECT, REVIEWBOT_TRACKER), if one did."""
    return _variable_setting(settings.workspace, loc)


def _variable_origin(workspace: Path, variable: str) -> str:
    """Where a variable that set a setting comes from: the environment wins over the workspace's .env, and someone
    told "the environment variable X" looks for it in `env`, not in a file."""
    if variable in {name.upper() for name in os.environ}:
        return f"the environment variable {variable}"
    return f"{variable} in {workspace / '.env'}"


def _variable_setting(workspace: Path, loc: tuple[Any, ...]) -> str | None:
    """`env_origin` for a workspace folder, usable before its settings validate."""
    if not loc or loc[0] == "identity":  # [identity] is read from reviewbot.toml alone
        return None
    names, parts = [], []
    for part in loc:
        if isinstance(part, int):  # a list is set whole (REVIEWBOT_SOURCES='[...]'), never item by item
            break
        parts.append(str(part))
        names.append(ENV_PREFIX + "__".join(parts).upper())
    env_file = workspace / ".env"
    given = {name.upper() for name in os.environ}  # variable names are matched in any case, as settings read them
    if env_file.is_file():
        given |= {name.upper() for name in dotenv_values(env_file)}
    return next((name for name in reversed(names) if name in given), None)


def _locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line of a setting in TOML text, e.g. ("sources", 1, "columns", "id").

    A missing setting is reported at the line of the nearest enclosing one that exists.
    """
    lines = text.splitlines()
    start, end = 0, len(lines)
    found: int | None = None
    table: list[str] = []
    for part in loc:
        if isinstance(part, int):
            headers = [i for i in range(start, end) if re.match(rf"\s*\[\[{re.escape('.'.join(table))}\]\]", lines[i])]
            if part >= len(headers):
                break
            start = found = headers[part]
            end = next((i for i in range(start + 1, end) if re.match(r"\s*\[\[", lines[i])), end)
            continue
        key_line = next(
            (i for i in range(start, end) if re.match(rf"\s*\"?{re.escape(str(part))}\"?\s*=", lines[i])), None
        )
        table.append(str(part))
        header = next(
            (i for i in range(start, end) if re.match(rf"\s*\[+{re.escape('.'.join(table))}\]+\s*$", lines[i])),
            None,
        )
        line = header if header is not None else key_line
        if line is None:
            if any(re.match(rf"\s*\[+{re.escape('.'.join(table))}\.", row) for row in lines[start:end]):
                continue  # a dotted header such as [identity.people] opens the table this part names
            break
        start = found = line
    return None if found is None else found + 1


SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "API_KEY")


def secret_values(settings: Settings) -> list[str]:
    """Every secret this workspace can see (REVIEWBOT_* variables named like secrets, the tracker's token,
    the database password), so they can be masked wherever text is shown or logged."""
    names = {n for n in os.environ if n.startswith(ENV_PREFIX) and any(w in n for w in SECRET_WORDS)}
    env_file = settings.workspace / ".env"
    if env_file.is_file():
        names |= {n for n in dotenv_values(env_file) if any(w in n for w in SECRET_WORDS)}
    token_env = settings.tracker.options.get("token_env")
    if isinstance(token_env, str):
        names.add(token_env)
    values = [settings.secret(n) for n in sorted(names)]
    password = make_url_password(settings.db_url)
    return sorted({v for v in [*values, password] if v and len(v) >= 4}, key=len, reverse=True)


def make_url_password(url: str) -> str | None:
    """The password in a database URL, if any."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:  # noqa: BLE001 - an unparsable URL is reported elsewhere
        return None


def mask(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret replaced by ****."""
    for secret in secrets:
        text = text.replace(secret, "****")
    return text


# Setting names whose values are secrets wherever they appear ("bot_token", "signing_secret", "password",
# "api_key"); a name ending in _env or _file holds the name of a variable or file, which is no secret.
_SECRET_NAME = re.compile(
    r"token|secret|passw(?:or)?d|passphrase|pwd|credential|(?:^|_)(?:api|access|private|secret|signing)_?key$|^key$",
    re.IGNORECASE,
)
_NOT_SECRET_NAME = re.compile(r"_(?:env|file|path)$", re.IGNORECASE)
# Values that are secrets whatever their setting is called.
_SECRET_VALUES = (
    re.compile(r"\bxox[a-z]-[A-Za-z0-9-]{8,}"),  # Slack bot, user and legacy tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"),  # Slack app-level tokens
    re.compile(r"\bATATT[A-Za-z0-9_=+/-]{16,}"),  # Atlassian (Jira) API tokens
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}"),
)
# The password of a URL: scheme://user:PASSWORD@host
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)", re.IGNORECASE)
MASK = "****"


def mask_secret_values(text: str) -> str:
    """Text with tokens that look like Slack, Jira or GitHub tokens and passwords in URLs replaced by ****."""
    for pattern in _SECRET_VALUES:
        text = pattern.sub(MASK, text)
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def mask_config(value: Any, name: str = "") -> Any:
    """Settings as data with every secret masked: values of secret-named keys, and secret-looking values."""
    if isinstance(value, dict):
        return {key: mask_config(item, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_config(item, name) for item in value]
    if isinstance(value, str):
        if value and _SECRET_NAME.search(name) and not _NOT_SECRET_NAME.search(name):
            return MASK
        return mask_secret_values(value)
    return value
