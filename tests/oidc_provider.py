"""A small but real OpenID Connect identity provider for tests, served on loopback.

It is built from Authlib's *server* side (``AuthorizationServer``, the authorization code
grant with the ``OpenIDCode`` and PKCE ``CodeChallenge`` extensions, ``UserInfoEndpoint``
behind a ``ResourceProtector``) and keeps its one client, its codes and its tokens in
in-memory dicts. ID tokens are signed RS256 with an RSA key made when the provider is
created; the public half is published at ``/jwks``. So an app's single sign-on is tested
against the same protocol a real provider speaks: discovery, redirect with state, nonce and
PKCE S256, code exchange with client authentication, signature and claim checks, userinfo.

How tests use it::

    from tests.oidc_provider import OidcProvider

    provider = OidcProvider(
        users={"alice": {"sub": "u-alice", "email": "alice@example.org",
                         "name": "Alice Example", "preferred_username": "alice",
                         "groups": ["eujc-staff"]}},
        client_id="dashboard", client_secret="s3cret",
        redirect_uris=["http://127.0.0.1:8050/auth/oidc/callback"])
    provider.start()        # http://127.0.0.1:<free port>, in a daemon thread
    provider.issuer         # point the app's OIDC_ISSUER here
    provider.redirect_uris.append(...)  # fine after start: checked on every request
    ...
    assert provider.sign_ins == ["alice"]  # who the provider let through, in order
    provider.stop()

Endpoints:

- ``GET /.well-known/openid-configuration``: discovery metadata.
- ``GET /jwks``: the public signing key.
- ``GET /authorize``: checks the request (client, redirect URI, ``response_type=code``,
  scope with ``openid``, ``state``, ``nonce``, PKCE S256) and shows a sign-in form (input
  ``#oidc-username``, buttons ``#oidc-sign-in`` and ``#oidc-cancel``). No password: the test
  chooses who signs in. With ``login_hint=<known user>`` it approves at once (unless
  ``prompt=login``), which lets a test skip the form.
- ``POST /authorize``: the form. A known username is approved: back to the client with
  ``code`` and ``state``. An unknown one gets the form again with an error (``#oidc-error``);
  cancel sends ``error=access_denied`` back.
- ``POST /token``: ``authorization_code`` grant; client authentication by
  ``client_secret_basic`` or ``client_secret_post``; the PKCE verifier is checked. Returns an
  access token and an ID token with ``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``nonce``,
  ``auth_time``, ``at_hash`` and every entry of the user's dict (so ``groups`` too).
- ``GET``/``POST /userinfo``: with ``Authorization: Bearer <access token>``, the user's claims.

The ID token and userinfo carry all of a user's claims whatever the scope (a test provider
need not withhold ``email`` when only ``openid profile`` was asked for). A user's ``sub``
defaults to their username when the dict has none.
"""

from __future__ import annotations

import hmac
import html
import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    InvalidRequestError,
    InvalidScopeError,
    list_to_scope,
    scope_to_list,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode, UserInfo, UserInfoEndpoint
from flask import Flask, Response, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

# Authlib's server refuses plain-http request URLs unless this is set; everything here is
# loopback http. Set at import so the app under test (a child process) inherits it too.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

#: Scopes the provider knows; a request for any other scope is refused (invalid_scope).
SCOPES: tuple[str, ...] = ("openid", "profile", "email", "groups")
#: The client-authentication methods accepted at the token endpoint.
TOKEN_AUTH_METHODS: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
#: Lifetimes, in seconds.
CODE_LIFETIME = 600
TOKEN_LIFETIME = 3600
ID_TOKEN_LIFETIME = 3600
#: Claims every ID token has besides the user's own.
_PROTOCOL_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash")


# --- the stored things: a client, a user, an authorization code, an access token --------


@dataclass
class OidcUser:
    """A person who can sign in: the username typed in the form and their claims."""

    username: str
    claims: dict[str, Any]

    def user_info(self) -> UserInfo:
        """All claims, ``sub`` first (the username when the dict has no ``sub``)."""
        rest = {k: v for k, v in self.claims.items() if k != "sub"}
        return UserInfo(sub=str(self.claims.get("sub", self.username)), **rest)


class OidcClient:
    """The registered relying party (Authlib's ``ClientMixin`` protocol).

    ``redirect_uris`` is the provider's own list, so URIs appended later count at once.
    """

    id_token_signed_response_alg = "RS256"

    def __init__(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris
        self.client_metadata: dict[str, Any] = {}  # read by UserInfoEndpoint

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return list_to_scope([s for s in scope_to_list(scope or "") or [] if s in SCOPES])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in TOKEN_AUTH_METHODS if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    """An issued code, with what the token request must match (Authlib's OIDC mixin)."""

    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    username: str
    nonce: str | None
    auth_time: int
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class AccessToken:
    """An issued bearer token (Authlib's ``TokenMixin`` protocol)."""

    access_token: str
    client: OidcClient
    user: OidcUser
    scope: str
    issued_at: float
    expires_in: int
    revoked: bool = field(default=False)

    def check_client(self, client: OidcClient) -> bool:
        return client.client_id == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> OidcUser:
        return self.user

    def get_client(self) -> OidcClient:
        return self.client


# --- Authlib's server parts, bound to one OidcProvider ---------------------------------


class _Server(AuthorizationServer):
    """Flask ``AuthorizationServer`` that knows its provider (grants reach it from here)."""

    def __init__(self, app: Flask, provider: OidcProvider) -> None:
        self.provider = provider
        super().__init__(app, query_client=provider._query_client,
                         save_token=provider._save_token)


class _CodeGrant(AuthorizationCodeGrant):
    """The authorization code grant over the provider's dicts; OpenID Connect only."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    @property
    def provider(self) -> OidcProvider:
        return self.server.provider

    def validate_authorization_request(self) -> str:
        redirect_uri = super().validate_authorization_request()
        # Beyond RFC 6749: this provider only speaks OpenID Connect, and wants `state`.
        if "openid" not in scope_to_list(self.request.scope or ""):
            raise InvalidScopeError("The scope must include 'openid'.",
                                    redirect_uri=redirect_uri)
        if not self.request.payload.state:
            raise InvalidRequestError("Missing 'state' in request.", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        item = AuthorizationCode(
            code=code, client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri, scope=request.scope,
            username=request.user.username, nonce=data.get("nonce"),
            auth_time=int(time.time()), code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            expires_at=time.time() + CODE_LIFETIME)
        with self.provider._lock:
            self.provider.codes[code] = item
            if item.nonce:
                self.provider.nonces.add((item.client_id, item.nonce))
            # a code is issued only once the person is approved: that is a sign-in
            self.provider.sign_ins.append(item.username)

    def query_authorization_code(self, code: str, client: OidcClient) -> AuthorizationCode | None:
        item = self.provider.codes.get(code)
        if item and item.client_id == client.client_id and item.expires_at > time.time():
            return item
        return None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        with self.provider._lock:
            self.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> OidcUser | None:
        return self.provider.user(authorization_code.username)


class _OpenIDCode(OpenIDCode):
    """Adds the RS256 ID token to the token response; a nonce is required."""

    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # a nonce already bound to a code of this client is a replay
        return (request.payload.client_id, nonce) in self.provider.nonces

    def resolve_client_private_key(self, client: OidcClient) -> RSAKey:
        return self.provider.key

    def get_client_algorithm(self, client: OidcClient) -> str:
        return "RS256"

    def get_encode_header(self, client: OidcClient) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.provider.kid, "typ": "JWT"}

    def get_client_claims(self, client: OidcClient) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.provider.issuer, "aud": client.get_client_id(),
                "iat": now, "exp": now + ID_TOKEN_LIFETIME}

    def generate_user_info(self, user: OidcUser, scope: str) -> UserInfo:
        return user.user_info()


class _S256Challenge(CodeChallenge):
    """PKCE, S256 only, and (by default) required of every authorization request."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if self.required and not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE S256 is required.")
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be 'S256'.")
        super().validate_code_challenge(grant, redirect_uri)


class _BearerValidator(BearerTokenValidator):
    """Finds bearer tokens in the provider's dict."""

    def __init__(self, provider: OidcProvider) -> None:
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        return self.provider.tokens.get(token_string)


class _UserInfo(UserInfoEndpoint):
    """``/userinfo``: the token's user's claims, as JSON."""

    def __init__(self, provider: OidcProvider, resource_protector: ResourceProtector) -> None:
        super().__init__(resource_protector=resource_protector)
        self.provider = provider

    def generate_user_info(self, user: OidcUser, scope: str) -> UserInfo:
        return user.user_info()

    def get_issuer(self) -> str:
        return self.provider.issuer


class _QuietHandler(WSGIRequestHandler):
    """Leaves the per-request access log out of test output (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


# --- the provider -------------------------------------------------------------------------


class OidcProvider:
    """An OpenID Connect provider with one confidential client, served on 127.0.0.1.

    Args:
        users: username -> claims (``sub``, ``email``, ``name``, ``groups``, ...).
        client_id, client_secret: the one registered client.
        redirect_uris: where the client may be sent back to; kept as ``self.redirect_uris``
            (a list: append to it later, e.g. once the app's port is known).
        require_pkce: refuse authorization requests without an S256 ``code_challenge``.

    Attributes:
        issuer: ``http://127.0.0.1:<port>`` once started (no trailing slash).
        sign_ins: usernames approved, in order (one per code issued).
        users, clients, codes, tokens, nonces: the in-memory state, for assertions.
        key, kid: the RSA signing key (private) and its key id.
    """

    def __init__(self, users: Mapping[str, Mapping[str, Any]], client_id: str,
                 client_secret: str, redirect_uris: Iterable[str] = (),
                 require_pkce: bool = True) -> None:
        self.users: dict[str, dict[str, Any]] = {name: dict(c) for name, c in users.items()}
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris: list[str] = list(redirect_uris)
        self.clients: dict[str, OidcClient] = {
            client_id: OidcClient(client_id, client_secret, self.redirect_uris)}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.nonces: set[tuple[str, str]] = set()
        self.sign_ins: list[str] = []
        self.kid = uuid.uuid4().hex[:16]
        self.key: RSAKey = RSAKey.generate_key(
            2048, parameters={"kid": self.kid, "use": "sig", "alg": "RS256"}, private=True)
        self._lock = threading.Lock()
        self._http: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app(require_pkce)

    # -- lifecycle

    def start(self) -> OidcProvider:
        """Serve on a free loopback port in a daemon thread; returns self."""
        if self._http is not None:
            raise RuntimeError("the provider is already running")
        self._http = make_server("127.0.0.1", 0, self.app, threaded=True,
                                 request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._http.serve_forever,
                                        name=f"oidc-provider-{self._http.server_port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        if self._http is None:
            return
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._http = self._thread = None

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("the provider is not started: call start() first")
        return self._http.server_port

    @property
    def issuer(self) -> str:
        """``http://127.0.0.1:<port>``: the ``iss`` of ID tokens and discovery."""
        return f"http://127.0.0.1:{self.port}"

    def user(self, username: str) -> OidcUser | None:
        """The user called `username`, or None."""
        claims = self.users.get(username)
        return OidcUser(username, claims) if claims is not None else None

    def jwks(self) -> dict[str, Any]:
        """The public key set published at ``/jwks``."""
        return KeySet([self.key]).as_dict(private=False)

    def metadata(self) -> dict[str, Any]:
        """The discovery document."""
        iss = self.issuer
        user_claims = {k for claims in self.users.values() for k in claims}
        return {
            "issuer": iss,
            "authorization_endpoint": iss + "/authorize",
            "token_endpoint": iss + "/token",
            "userinfo_endpoint": iss + "/userinfo",
            "jwks_uri": iss + "/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": sorted(set(_PROTOCOL_CLAIMS) | user_claims),
        }

    # -- callbacks for Authlib's AuthorizationServer

    def _query_client(self, client_id: str) -> OidcClient | None:
        return self.clients.get(client_id)

    def _save_token(self, token: dict[str, Any], req: Any) -> None:
        item = AccessToken(access_token=token["access_token"], client=req.client,
                           user=req.user, scope=token.get("scope", ""),
                           issued_at=time.time(), expires_in=int(token["expires_in"]))
        with self._lock:
            self.tokens[item.access_token] = item

    # -- the Flask app

    def _build_app(self, require_pkce: bool) -> Flask:
        app = Flask(f"oidc_provider_{id(self)}")
        app.config.update(OAUTH2_SCOPES_SUPPORTED=list(SCOPES),
                          OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": TOKEN_LIFETIME})
        server = _Server(app, self)
        server.register_grant(_CodeGrant, [_OpenIDCode(self), _S256Challenge(require_pkce)])
        protector = ResourceProtector()
        protector.register_token_validator(_BearerValidator(self))
        server.register_endpoint(_UserInfo(self, protector))

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(self.metadata())

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(self.jwks())

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Response:
            if request.method == "GET":
                hint = request.args.get("login_hint", "")
                user = self.user(hint) if hint else None
                try:  # validates client, redirect_uri, response_type, scope, nonce, PKCE
                    grant = server.get_consent_grant(end_user=user)
                except OAuth2Error as error:
                    return server.handle_error_response(None, error)
                if user is not None and grant.prompt != "login":
                    return server.create_authorization_response(grant_user=user, grant=grant)
                error_text = f"Unknown user {hint!r}." if hint and user is None else ""
                return self._form(grant.client.get_client_id(), hint, error_text)

            username = request.form.get("username", "").strip()
            user = self.user(username)
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            if "cancel" in request.form:  # the person refused: access_denied to the client
                return server.create_authorization_response(grant_user=None, grant=grant)
            if user is None:
                error_text = f"Unknown user {username!r}." if username else "Who are you?"
                return self._form(grant.client.get_client_id(), username, error_text)
            return server.create_authorization_response(grant_user=user, grant=grant)

        @app.post("/token")
        def token() -> Response:
            return server.create_token_response()

        @app.route("/userinfo", methods=["GET", "POST"])
        def userinfo() -> Response:
            return server.create_endpoint_response("userinfo")

        return app

    def _form(self, client_id: str, username: str, error: str) -> Response:
        """The sign-in page; it posts back to /authorize with the same query string."""
        action = "/authorize?" + request.query_string.decode("ascii")
        esc = html.escape
        error_html = f'<p id="oidc-error" role="alert">{esc(error)}</p>' if error else ""
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body>
<h1>Sign in</h1>
<p>to <b id="oidc-client">{esc(client_id)}</b> (test identity provider: no password)</p>
{error_html}
<form method="post" action="{esc(action)}">
  <label for="oidc-username">Username</label>
  <input id="oidc-username" name="username" value="{esc(username)}" autocomplete="off"
         autofocus>
  <button id="oidc-sign-in" type="submit" name="approve" value="1">Sign in</button>
  <button id="oidc-cancel" type="submit" name="cancel" value="1">Cancel</button>
</form>
</body></html>
"""
        return Response(page, status=200, mimetype="text/html")
