"""The Flask application: configuration, security headers, CSRF and who is signed in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, g, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.routing import IntegerConverter

from reviewbot.models.base import MAX_ROW_ID
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.web.config import WebOptions, session_secret, web_options, workspace

# Everything from our own origin, no inline script or style, never framed, forms post only to us.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class RowId(IntegerConverter):
    """`<id:number>` in a route: a row id, 1 to MAX_ROW_ID; another number is a page not found, not a server error."""

    def __init__(self, url_map, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(url_map, min=1, max=MAX_ROW_ID)


def create_app(settings: Settings, store: Store, options: WebOptions | None = None) -> Flask:
    """The web console for a workspace's settings and store (the caller owns and disposes of the store)."""
    options = options or web_options(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=session_secret(settings, options),
        SESSION_COOKIE_NAME="reviewbot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not options.insecure_http,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=options.session_hours),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the signed-in session it is tied to
        MAX_CONTENT_LENGTH=256 * 1024,  # forms only: comments and reasons, never uploads
    )
    app.extensions["reviewbot"] = (settings, store, options)
    if options.proxy_hops:  # the client's address (for the sign-in limits) and scheme as the proxies saw them
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=options.proxy_hops, x_proto=options.proxy_hops)  # type: ignore[method-assign]
    if options.oidc and not options.trusted_header:
        from reviewbot.web.oidc import register

        register(app, settings, options.oidc)
    CSRFProtect(app)
    app.before_request(_no_nul)
    app.before_request(_who_is_signed_in)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_refused)

    from reviewbot.web import views

    app.url_map.converters["id"] = RowId
    app.register_blueprint(views.bp)
    app.jinja_env.globals["priority_of"] = views.priority_of
    app.jinja_env.globals["passwords"] = not options.trusted_header  # people may change their own password
    app.jinja_env.globals["oidc_label"] = options.oidc.label if options.oidc and not options.trusted_header else None
    return app


def _no_nul() -> Any:
    """Refuse a form or query holding a NUL character: PostgreSQL cannot store one, so a reason or theme name with it
    ended in "500 Internal Server Error" (and a browser never sends one: it was typed into a crafted request)."""
    if any("\x00" in value for fields in (request.form, request.args) for _, value in fields.items(multi=True)):
        message = "A field of the form holds a NUL character (\\0), which cannot be stored. Remove it and try again."
        return render_template("error.html", title="Request refused", message=message), 400
    return None


def _who_is_signed_in() -> None:
    """g.person: from the trusted proxy header when configured, else from the signed session cookie; a name
    that is no longer a person of the workspace (removed from the config) is signed out."""
    from reviewbot.web.auth import credential_stamp, people

    settings, store, options = workspace()
    g.person = None
    if request.endpoint == "static":
        return
    if options.trusted_header:
        name = (request.headers.get(options.trusted_header) or "").strip()
        g.person = name if name and name in people(store, settings) else None
        g.proxy_user = name or None
        return
    name = session.get("person")
    if name and name in people(store, settings) and session.get("stamp", "") == credential_stamp(store, name):
        g.person = name
    elif name:
        session.clear()  # removed from the workspace, or the password changed since this session began


def _security_headers(response):  # type: ignore[no-untyped-def]
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"  # pages show who may do what; never from a shared cache
    return response


def _csrf_refused(error: CSRFError):  # type: ignore[no-untyped-def]
    return render_template(
        "error.html",
        title="Request refused",
        message=f"Request refused: {error.description}. Reload the page and try again.",
    ), 400
