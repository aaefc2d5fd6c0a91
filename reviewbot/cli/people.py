"""`reviewbot whoami`: who the command line takes you for, and personal tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from reviewbot.cli.app import JsonOption, app, load, out, print_json


@app.command()
def whoami(
    ctx: typer.Context,
    new_token: Annotated[
        bool, typer.Option("--new-token", help="Make a personal token for REVIEWBOT_TOKEN and print its config line.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Who your actions are recorded as (from your OS user or REVIEWBOT_TOKEN), and whether you are an admin."""
    from reviewbot.cli.identity import TOKEN_ENV
    from reviewbot.cli.identity import new_token as make_token
    from reviewbot.cli.identity import whoami as identify

    if new_token:
        token, digest = make_token()
        for line in (
            f"{TOKEN_ENV}={token}",
            "Keep the token secret: set it in the environment of whoever uses it. In reviewbot.toml, under",
            "[identity.people], add to that person's entry:",
            f'token_sha256 = "{digest}"',
        ):
            out.print(line, highlight=False, markup=False, soft_wrap=True)
        return
    settings = load(ctx)
    me = identify(settings)
    admin = me.person is not None and settings.is_admin(me.person)
    if as_json:
        print_json({"person": me.person, "how": me.how, "os_user": me.login, "admin": admin})
        return
    if me.person is None:
        out.print(f"{me.how} is not a person in this workspace (add it under [identity.people])", markup=False)
        raise typer.Exit(1)
    out.print(f"{me.person} ({me.how})" + (", admin: may act for others with --as" if admin else ""), markup=False)
