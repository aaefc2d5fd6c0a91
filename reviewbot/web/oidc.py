"""Sign-in through the company's OpenID Connect identity provider (Authlib): the authorization code flow with
state and nonce kept in the signed session cookie (so any replica can finish what another began), the ID token's
signature, issuer, audience, nonce and expiry checked, and its e-mail or user name mapped to a person of the
workspace. Anyone else is refused."""

from __future__ import annotations

from typing import Any

from flask import Flask

from reviewbot.settings import Settings
from reviewbot.web.config import OidcOptions, oidc_secret
from reviewbot.workflows.review import RefusedError

CLIENT = "oidc"


def register(app: Flask, settings: Settings, oidc: OidcOptions) -> None:
    """Register the provider with Authlib on this app (its metadata and keys are fetched when first needed)."""
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=oidc.client_id,
        client_secret=oidc_secret(settings, oidc),
        server_metadata_url=f"{oidc.issuer}/.well-known/openid-configuration",
        # PKCE as well as the client secret: a code seen in transit is useless without this session's verifier
        client_kwargs={"scope": oidc.scopes, "code_challenge_method": "S256"},
    )
    app.extensions["reviewbot_oidc"] = (oauth, oidc)


def client(app: Flask) -> tuple[Any, OidcOptions]:
    """Authlib's client for the provider, and the options."""
    oauth, oidc = app.extensions["reviewbot_oidc"]
    return oauth.create_client(CLIENT), oidc


def claims_options(provider: Any, oidc: OidcOptions) -> dict[str, Any]:
    """What the ID token must say: issued by the configured issuer, for this client. The provider's metadata
    must name the same issuer (a provider claiming to be another is refused)."""
    metadata = provider.load_server_metadata()
    if str(metadata.get("issuer", "")).rstrip("/") != oidc.issuer:
        raise RefusedError(
            f"the identity provider says it is {metadata.get('issuer')!r}, not the configured {oidc.issuer!r}",
            hint="check web.oidc.issuer",
        )
    return {
        "iss": {"essential": True, "values": [metadata["issuer"]]},
        "aud": {"essential": True, "values": [oidc.client_id]},
    }


def person_of(claims: dict[str, Any], oidc: OidcOptions, people: set[str]) -> str:
    """The workspace person the ID token's claim names; RefusedError for anyone else."""
    value = str(claims.get(oidc.claim) or "").strip()
    if not value:
        raise RefusedError(f"the identity provider sent no {oidc.claim}", hint=f"add the {oidc.claim} claim's scope")
    if oidc.claim == "email" and claims.get("email_verified") is False:
        raise RefusedError(f"the identity provider has not verified {value}")
    mapped = {k.lower(): v for k, v in oidc.people.items()}.get(value.lower())
    name = mapped or value
    if not mapped and oidc.email_domain and value.lower().endswith("@" + oidc.email_domain.lower()):
        name = value[: -len(oidc.email_domain) - 1]
    if name not in people:
        raise RefusedError(
            f"{value} is not a person of this workspace",
            hint="an admin adds people to reviewbot.toml ([roles], policies' owners and approvers, web.oidc.people)",
        )
    return name
