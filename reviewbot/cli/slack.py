"""`reviewbot slack ...`: serve the Slack app, print its manifest."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import typer

from reviewbot.cli.app import done, err, load, open_store, sub_app
from reviewbot.errors import ConfigError

EXAMPLE_URL = "https://reviewbot.example.com"  # the placeholder in the bundled manifest
slack_app = sub_app("slack", "The Slack app: suggestions, sign-offs and acknowledgements in Slack.")


@slack_app.command("serve")
def slack_serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default: slack.host).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default: slack.port).")] = None,
    socket: Annotated[
        bool, typer.Option("--socket", help="Socket Mode: connect out to Slack, no public URL needed.")
    ] = False,
) -> None:
    """Serve the Slack app until interrupted: HTTP with request signing, or Socket Mode with --socket."""
    from reviewbot.connectors.slack.app import build_app
    from reviewbot.connectors.slack.config import secret, slack_options, web_client
    from reviewbot.connectors.slack.serve import http_server, socket_mode
    from reviewbot.serving import serve_until_stopped
    from reviewbot.workflows.slack_actions import WorkspaceActions

    with open_store(ctx) as (settings, store):
        options = slack_options(settings)
        app = build_app(
            options,
            WorkspaceActions(settings, store),
            web_client(settings, options),
            secret(settings, options.signing_secret_env, "signing secret"),
        )
        if socket:
            done("Slack app connected in Socket Mode; Ctrl-C to stop")
            socket_mode(app, secret(settings, options.app_token_env, "app-level token"))
            return
        server = http_server(
            app, host or options.host, options.port if port is None else port, options.path, threads=options.threads
        )
        address = f"http://{server.host}:{server.port}{options.path}"
        # Plain and flushed: scripts and supervisors read this line from a pipe (Rich would wrap it at 80 columns).
        print(f"Slack app listening on {address}; {options.threads} threads; Ctrl-C to stop", flush=True)
        serve_until_stopped(server)
        err.print("stopped")


@slack_app.command("manifest")
def slack_manifest(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="The public https:// base URL of `reviewbot slack serve` (default: public_url in [slack])."
        ),
    ] = None,
) -> None:
    """Write the Slack app manifest (YAML) with your URL, to paste into "Create New App" > "From an app manifest"."""
    from reviewbot.workspace import bundled_config

    base = (url or _configured_url(ctx) or "").strip().rstrip("/")
    if not base:
        raise ConfigError(
            "no public URL for the Slack app",
            hint="pass --url https://HOST (where Slack reaches `reviewbot slack serve` through your HTTPS proxy), "
            'or set public_url = "https://HOST" in [slack]',
        )
    if not re.fullmatch(r"https://[^\s/?#]+(/[^\s?#]*)?", base):
        raise ConfigError(
            f"{base!r} is not an https:// URL",
            field="--url",
            hint="Slack only posts to https://, e.g. https://bot.acme.com",
        )
    text = (bundled_config() / "slack-manifest.yaml").read_text(encoding="utf-8")
    # Plain text to stdout, never through Rich: a console would wrap long lines at its width and break the YAML.
    sys.stdout.write(text.replace(EXAMPLE_URL, base))
    sys.stdout.flush()


def _configured_url(ctx: typer.Context) -> str | None:
    """public_url in [slack], when the command runs in a workspace."""
    from reviewbot.connectors.slack.config import slack_options

    try:
        settings = load(ctx)
    except ConfigError:  # no workspace here: --url is then the only way
        return None
    return slack_options(settings).public_url
