"""`reviewbot slack ...`: serve the Slack app, print its manifest."""

from __future__ import annotations

from typing import Annotated

import typer

from reviewbot.cli.app import done, err, open_store, out, sub_app

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
    from connectors.slack.app import build_app
    from connectors.slack.config import secret, slack_options, web_client
    from connectors.slack.serve import http_server, socket_mode
    from workflows.slack_actions import WorkspaceActions

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
        server = http_server(app, host or options.host, options.port if port is None else port, options.path)
        address = f"http://{server.server_address[0]}:{server.server_port}{options.path}"
        done(f"Slack app listening on {address}; Ctrl-C to stop")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            err.print("stopped")
        finally:
            server.server_close()


@slack_app.command("manifest")
def slack_manifest(
    url: Annotated[
        str, typer.Option("--url", help="The public base URL of `reviewbot slack serve`.")
    ] = "https://reviewbot.example.com",
) -> None:
    """Print the Slack app manifest, with your URL, to paste into "Create New App" > "From an app manifest"."""
    from reviewbot.workspace import bundled_config

    text = (bundled_config() / "slack-manifest.yaml").read_text(encoding="utf-8")
    out.print(text.replace("https://reviewbot.example.com", url.rstrip("/")), highlight=False, markup=False)
