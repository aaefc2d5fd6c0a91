"""Who is acting on the command line: the operating-system user (or a personal token) mapped to a person in
`[identity]`; `--as NAME` is acting for someone else, which only an admin may do, and is audited as such."""

from __future__ import annotations

import getpass
import os
import secrets
import sys
from dataclasses import dataclass

from reviewbot.errors import ConfigError
from reviewbot.settings import Settings
from reviewbot.store.review import ACTING_FOR
from reviewbot.workflows.review import RefusedError, require_person

TOKEN_ENV = "REVIEWBOT_TOKEN"


def os_user() -> str:
    """The login the process runs as. On POSIX it comes from the effective user id, not from $USER or $LOGNAME,
    which anyone can set (getpass.getuser() reads them first); elsewhere getpass.getuser()."""
    if sys.platform != "win32":
        import pwd

        try:
            return pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:  # a uid with no passwd entry (some containers)
            return f"uid-{os.geteuid()}"
    return getpass.getuser()


@dataclass(frozen=True)
class Identity:
    """Who runs the command, and how we know."""

    person: str | None  # None: nobody in [identity] matches
    how: str  # "OS user msilva", "personal token"
    login: str


def whoami(settings: Settings) -> Identity:
    """The person behind this process: a personal token in REVIEWBOT_TOKEN if set, else the OS user."""
    login = os_user()
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        person = settings.identity.person_of_token(token)
        if person is None:
            raise ConfigError(
                f"the token in {TOKEN_ENV} belongs to nobody in [identity.people]",
                hint=f"unset {TOKEN_ENV}, or add its token_sha256 to your entry (`reviewbot whoami --new-token`)",
            )
        return Identity(person, "personal token", login)
    return Identity(settings.identity.person_of_login(login), f"OS user {login}", login)


def acting_person(settings: Settings, as_: str | None, people: set[str]) -> str:
    """The person an action is recorded for: yourself, or with --as one of `people` an admin acts for (audited)."""
    me = whoami(settings)
    if me.person is None:
        raise ConfigError(
            f"{me.how} is not a person in this workspace: actions are recorded under a person's name",
            hint=f'add it to reviewbot.toml: [identity.people] "your.name" = {{ os_user = "{me.login}" }}',
        )
    wanted = (as_ or "").strip()
    if not wanted or wanted == me.person:
        return me.person
    if not settings.is_admin(me.person):
        admins = ", ".join(settings.identity.admins) or "none configured"
        raise RefusedError(
            f"you are {me.person} ({me.how}); only an admin may act for {wanted}",
            hint=f"run it as {wanted}, or ask an admin (identity.admins: {admins})",
        )
    require_person(wanted, people)
    ACTING_FOR.set((me.person, wanted))
    return wanted


def new_token() -> tuple[str, str]:
    """A fresh personal token and its SHA-256, the part that goes in reviewbot.toml."""
    import hashlib

    token = "rbt_" + secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()
