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
TEMPLATE_POLICY = "policy-template.md.example"  # not *.md: read only once copied to a .md name
DEMO_ADMIN = "dana.ellis"  # the demo's head of customer experience


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


def init_workspace(folder: Path, *, demo: bool = False, creator: str | None = None) -> InitResult:
    """Create a workspace in `folder` (made if missing) and a migrated database; refuses to overwrite one.

    `creator` (an OS login) becomes the workspace's admin in `[identity]`: the demo's dana.ellis, else a person
    named after the login.
    """
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
    if creator:
        _add_identity(folder / CONFIG_FILE, creator, demo)
    _copy(config / ".env.example", folder / ".env.example", result)
    for name in ("policies", *(f"inbox/{f}" for f in INBOX_FOLDERS)):
        (folder / name).mkdir(parents=True, exist_ok=True)
        result.created.append(name + "/")
    if not demo:
        _copy(config / TEMPLATE_POLICY, folder / "policies" / TEMPLATE_POLICY, result)
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


def _add_identity(config_path: Path, login: str, demo: bool) -> None:
    """Append `[identity]` naming the creator (by OS login) as the workspace's admin."""
    import json
    import re

    from reviewbot.settings import PERSON_NAME

    person = DEMO_ADMIN if demo else (login if re.match(PERSON_NAME, login) else "admin")
    why = (
        f"your OS user is {person},\n# the head of customer experience, and an admin: `--as NAME` acts for the others"
        f' in the README\'s walk,\n# and the audit log records it as "{person} for NAME".'
        if demo
        else f'you,\n# the admin: `--as NAME` acts for someone else, audited as "{person} for NAME".'
        "\n# Add everyone who will use the command line, by their OS login."
    )
    block = (
        f"\n# Who is who on the command line (written by `reviewbot init`): {why}\n"
        "[identity]\n"
        f"admins = [{json.dumps(person)}]\n\n"
        "[identity.people]\n"
        f"{json.dumps(person)} = {{ os_user = {json.dumps(login)} }}\n"
        '# "marta.silva" = { os_user = "msilva" }\n'
        '# "ci-bot" = { token_sha256 = "..." }   # REVIEWBOT_TOKEN: `reviewbot whoami --new-token`\n'
    )
    with config_path.open("a", encoding="utf-8") as fh:
        fh.write(block)
