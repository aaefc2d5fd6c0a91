"""`reviewbot serve`: the web console, and the admin commands that let people sign in to it."""

from __future__ import annotations

from typing import Annotated

import typer

from reviewbot.cli.app import Typer, app, done, err, open_store
from reviewbot.errors import ConfigError

serve_app = Typer(
    help="The web console: triage, sign-off, publishing and acknowledgements in a browser.",
    invoke_without_command=True,
)
app.add_typer(serve_app, name="serve")

PersonArgument = Annotated[str, typer.Argument(help="The person, as the workspace names them (e.g. marta.silva).")]


@serve_app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default: web.host).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default: web.port).")] = None,
) -> None:
    """Serve the web console on the workspace's store until interrupted (several replicas may share a database)."""
    if ctx.invoked_subcommand is not None:
        return
    from reviewbot.serving import WsgiServer, serve_until_stopped
    from reviewbot.web import create_app
    from reviewbot.web.config import web_options

    with open_store(ctx) as (settings, store):
        options = web_options(settings)
        server = WsgiServer(
            create_app(settings, store, options),
            host or options.host,
            options.port if port is None else port,
            threads=options.threads,
        )
        # Plain and flushed: scripts and supervisors read this line from a pipe.
        print(f"Web console on {server.address}; {options.threads} threads; Ctrl-C to stop", flush=True)
        serve_until_stopped(server)
        err.print("stopped")


def _admin(settings) -> str:  # type: ignore[no-untyped-def]
    """The person running the command, who must be an admin: only admins hand out ways to sign in."""
    from reviewbot.cli.identity import whoami

    me = whoami(settings)
    if me.person is None or not settings.is_admin(me.person):
        from reviewbot.workflows.review import RefusedError

        who = me.person or me.how
        raise RefusedError(
            f"{who} is not an admin: only identity.admins may set passwords or make sign-in links",
            hint="ask an admin (identity.admins in reviewbot.toml)",
        )
    return me.person


@serve_app.command("set-password")
def set_password(
    ctx: typer.Context,
    person: PersonArgument,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
) -> None:
    """Set a person's web console password (admins only; stored as a scrypt hash; audited)."""
    import sys

    from reviewbot.web.auth import set_password as run

    with open_store(ctx) as (settings, store):
        admin = _admin(settings)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt(f"Password for {person}", hide_input=True, confirmation_prompt=True)
        done(run(store, settings, person, password, admin))


@serve_app.command("sign-in-link")
def sign_in_link(
    ctx: typer.Context,
    person: PersonArgument,
    url: Annotated[
        str, typer.Option("--url", help="The console's address as people open it (e.g. https://review.acme.com).")
    ] = "",
) -> None:
    """Print a one-time sign-in link for a person (admins only; works once, for web.link_minutes; audited)."""
    from reviewbot.web.auth import new_sign_in_link
    from reviewbot.web.config import web_options

    with open_store(ctx) as (settings, store):
        admin = _admin(settings)
        options = web_options(settings)
        base = url.strip().rstrip("/") or f"http://{options.host}:{options.port}"
        if not base.startswith(("http://", "https://")):
            raise ConfigError(f"{base!r} is not an http(s) URL", field="--url", hint="e.g. https://review.acme.com")
        token = new_sign_in_link(store, settings, person, admin, options.link_minutes)
        print(f"{base}/sign-in/link/{token}", flush=True)
        err.print(f"works once, for {options.link_minutes} minutes, for {person}")
