"""A stand-in OpenID Connect provider for the console's tests: discovery document, JWKS, authorization and token
endpoints, ID tokens signed with a test RSA key (joserfc, the JOSE library Authlib itself uses). It signs in
whoever `user` says, at once, and can be told to get things wrong (`tamper`, `signing_key`)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey

from reviewbot.serving import WsgiServer

CLIENT_ID, CLIENT_SECRET = "reviewbot-console", "stand-in-client-secret"


class StandInProvider:
    """The provider, served on a free local port while the test runs."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.signing_key = self.key  # another key here makes a token whose signature does not verify
        self.user: dict[str, Any] = {"sub": "u-1", "email": "dana.ellis@northwind.example", "email_verified": True}
        self.tamper: dict[str, Any] = {}  # claims of the next ID tokens overridden, e.g. {"nonce": "other"}
        self.codes: dict[str, dict[str, Any]] = {}
        self.app = self._app()
        self.server = WsgiServer(self.app, "127.0.0.1", 0, threads=4)
        self.issuer = self.server.address.rstrip("/")
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandInProvider:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.thread.join(10)

    def _app(self) -> Flask:
        app = Flask("stand-in-oidc")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self.discovery)
        app.add_url_rule("/jwks", view_func=lambda: jsonify({"keys": [self.key.as_dict(private=False)]}))
        app.add_url_rule("/authorize", view_func=self.authorize)
        app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        return app

    def discovery(self) -> Any:
        return jsonify(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def authorize(self) -> Any:
        """Signs `user` in at once and sends the browser back with a code."""
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            abort(400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": args.get("nonce"),
            "challenge": args.get("code_challenge"),
            "redirect_uri": args["redirect_uri"],
        }
        return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args.get('state', '')})}")

    def token(self) -> Any:
        """Exchanges a code (once) for an ID token, checking the client secret and the PKCE verifier."""
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return jsonify({"error": "invalid_client"}), 401
        grant = self.codes.pop(request.form.get("code", ""), None)
        verifier = request.form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or grant["challenge"] != challenge
            or grant["redirect_uri"] != request.form.get("redirect_uri")
        ):
            return jsonify({"error": "invalid_grant"}), 400
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"]}
        claims |= self.user | self.tamper
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.signing_key)
        return jsonify(
            {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300, "id_token": id_token}
        )
