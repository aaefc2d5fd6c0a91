"""Creating a workspace: the folder holding reviewbot.toml, policies, inbox folders and (by default) the database."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import reviewbot
from reviewbot.errors import ConfigError
from reviewbot.settings import CONFIG_FILE, load_settings
from reviewbot.store import Store
from reviewbot.store.migrate import upgrade

INBOX_FOLDERS = ("complaints", "surveys", "agent_notes")


def bundled_config() -> Path:
    """The `config/` folder shipped with reviewbot (inside the wheel, or the checkout when installed editable)."""
    package = Path(reviewbot.__file__).parent
    for candidate in (package / "_bundled_config", package.parent / "config"):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise ConfigError("reviewbot's bundled config folder is missing", hint="reinstall reviewbot")


@dataclass
class InitResult:
    """What `init` created."""

    workspace: Path
    created: list[str] = field(default_factory=list)
    database: str = ""


def init_workspace(folder: Path, *, demo: bool = False) -> InitResult:
    """Create a workspace in `folder` (made if missing) and a migrated database; refuses to overwrite one."""
    folder = folder.resolve()
    if (folder / CONFIG_FILE).exists():
        raise ConfigError(
            f"{folder} is already a workspace ({CONFIG_FILE} exists)",
            hint="use it as it is, or run `reviewbot db upgrade` to migrate its database",
        )
    config = bundled_config()
    result = InitResult(workspace=folder)
    folder.mkdir(parents=True, exist_ok=True)
    template = config / "demo" / CONFIG_FILE if demo else config / CONFIG_FILE
    _copy(template, folder / CONFIG_FILE, result)
    _copy(config / ".env.example", folder / ".env.example", result)
    for name in ("policies", *(f"inbox/{f}" for f in INBOX_FOLDERS)):
        (folder / name).mkdir(parents=True, exist_ok=True)
        result.created.append(name + "/")
    if demo:
        for sub in ("policies", "inbox"):
            for path in sorted((config / "demo" / sub).rglob("*")):
                if path.is_file():
                    _copy(path, folder / path.relative_to(config / "demo"), result)
    settings = load_settings(folder)
    store = Store(settings.db_url)
    try:
        store.check_connection()
        upgrade(store.engine)
    finally:
        store.dispose()
    result.database = store.engine.url.render_as_string(hide_password=True)
    return result


def _copy(source: Path, target: Path, result: InitResult) -> None:
    if target.exists():
        return  # never overwrite what a person put there
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    result.created.append(str(target.relative_to(result.workspace)))
