"""Signing in and out: the sign-in form, single sign-on by OpenID Connect, the password
change, and the short pages that explain a refusal. Plain Flask routes and templates
(pages/templates/): they work before any Dash page can be read, and without JavaScript.

- `GET|POST /login`        name (or e-mail) and password; rate-limited per address and per
                           account (Flask-Limiter), lock-out after repeated failures
- `POST /logout`           sign out (CSRF-checked like every POST)
- `GET /auth/oidc/login`   to the identity provider (when OIDC_ISSUER is set)
- `GET /auth/oidc/callback` back from it: the account is found or made, its role follows the
                           provider's claims (OIDC_ROLE_CLAIM, OIDC_ROLE_MAP)
- `GET|POST /account/password`  change one's own password (forced after a one-time one)
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
)
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import Session

from components.i18n import t
from data_access import audit, db, users
from data_access.models import User
from pages import _access
from pages._state import current_lang

log = logging.getLogger("dashboard.auth")


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else '/' (no open redirects: no scheme, no
    host, no '//' or '/\\' that browsers read as another host, no control characters,
    whether written plainly or percent-encoded)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return "/"
    for form in (target, unquote(target)):
        if any(ord(c) < 0x21 or c == "\\" or ord(c) == 0x7F for c in form):
            return "/"
        parts = urlsplit(form)
        if parts.scheme or parts.netloc or not form.startswith("/") or form.startswith("//"):
            return "/"
    return target


def _page(template: str, status: int = 200, **ctx: Any) -> Response:
    lang = ctx.pop("lang", None) or current_lang()
    other = "ja" if lang == "en" else "en"
    body = render_template(template, lang=lang, other_lang=other,
                           other_lang_label="日本語" if other == "ja" else "English",
                           here=request.full_path if request.query_string else request.path,
                           t=lambda text, **fmt: t(text, lang, **fmt), **ctx)
    return Response(body, status=status, mimetype="text/html")


def message_page(message: str, *, status: int, lang: str, ref: str = "") -> Response:
    """A short page that says why a request was refused (in the interface's language)."""
    heading = {401: "Please sign in", 403: "Not allowed", 404: "Page not found",
               429: "Too many attempts"}.get(status, "Something went wrong")
    return _page("message.html", status=status, lang=lang, title=t(heading, lang),
                 heading=t(heading, lang), message=message, ref=ref,
                 signed_in=current_user.is_authenticated)


def _login_page(status: int = 200, *, error: str = "", username: str = "") -> Response:
    s = _access.settings()
    notice, kind = "", "info"
    if request.args.get("signed_out"):
        notice = t("You have signed out.", current_lang())
    elif request.args.get("expired"):
        notice, kind = t("Your session ended after a time without activity. Please sign in "
                         "again.", current_lang()), "warning"
    return _page("login.html", status=status, title=t("Sign in", current_lang()),
                 error=error, notice=notice, notice_kind=kind, username=username,
                 next=safe_next(request.values.get("next")),
                 oidc_label=t(s.OIDC_LABEL, current_lang()) if s.oidc_enabled else "")


def _when(moment: dt.datetime, lang: str) -> str:
    """A UTC time as the reader's clock shows it is unknown: say it in UTC, minutes."""
    return moment.strftime("%Y-%m-%d %H:%M") + " UTC" if lang == "en" else \
        moment.strftime("%Y年%m月%d日 %H:%M") + "（UTC）"


def _start_session(user: User | _access.Principal) -> None:
    """A fresh session for `user` (no state carried over from before: no fixation)."""
    principal = user if isinstance(user, _access.Principal) else _access.Principal.of(user)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(principal)
    session["seen"] = time.time()
    session.permanent = True
    _access.forget_user(principal.id)


def _after_sign_in(user: User | _access.Principal, target: str) -> Response:
    _start_session(user)
    if user.must_change_password if isinstance(user, _access.Principal) \
            else user.must_change_password:
        return redirect("/account/password")
    return redirect(safe_next(target))


def _account_key() -> str:
    return "account:" + users.normalise_name(request.form.get("username", ""))[:120]


def _too_many(limit: RequestLimit) -> Response:
    lang = current_lang()
    wait = max(1, int((limit.reset_at - time.time() + 59) // 60))
    _access._audit_refusal("sign_in_rate_limited", "", f"{limit.limit}")
    return _login_page(429, error=t("Too many sign-in attempts. Try again in {m} minutes.",
                                    lang, m=wait),
                       username=request.form.get("username", ""))


def login() -> Response:
    """The sign-in form and its answer."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")))
        return _login_page()
    s = _access.settings()
    lang = current_lang()
    name = request.form.get("username", "")[:254]
    result = users.authenticate(db.get_engine(), name, request.form.get("password", "")[:1024],
                                address=request.remote_addr,
                                max_failures=s.LOGIN_MAX_FAILURES,
                                lock_minutes=s.LOGIN_LOCK_MINUTES)
    if result.user is not None:
        return _after_sign_in(result.user, request.form.get("next", "/"))
    if result.reason == "locked" and result.locked_until is not None:
        error = t("This account is locked after too many failed sign-ins. It unlocks at {when}.",
                  lang, when=_when(result.locked_until, lang))
    elif result.reason == "disabled":
        error = t("This account is disabled. Ask an administrator.", lang)
    else:
        error = t("The user name or password is not right.", lang)
    return _login_page(401 if result.reason == "bad" else 403, error=error, username=name)


def logout() -> Response:
    """Sign out (a POST with the CSRF token: a link on another site cannot sign you out)."""
    if current_user.is_authenticated:
        audit.record(db.get_engine(), _access.actor(), "sign_out", target=current_user.username)
    logout_user()
    session.clear()
    return redirect("/login?signed_out=1")


def change_password() -> Response:
    """Change one's own password (forced after signing in with a one-time password)."""
    if not current_user.is_authenticated:
        return redirect("/login?next=/account/password")
    lang = current_lang()
    ctx: dict[str, Any] = {"title": t("Change your password", lang),
                           "display_name": current_user.display_name,
                           "forced": current_user.must_change_password}
    if current_user.sso:
        return message_page(t("Your password is managed by your organisation's sign-in "
                              "service.", lang), status=400, lang=lang)
    if request.method == "GET":
        return _page("password.html", **ctx)
    new, again = request.form.get("new", "")[:1024], request.form.get("again", "")[:1024]
    if new != again:
        return _page("password.html", 400, error=t("The two new passwords differ.", lang), **ctx)
    try:
        with Session(db.get_engine(), expire_on_commit=False) as s, s.begin():
            user = s.get(User, current_user.id)
            if user is None:
                raise users.UserError("No such user: {name}", name=current_user.username)
            users.change_password(s, _access.actor(), user, request.form.get("current", ""),
                                  new)
    except users.UserError as exc:
        return _page("password.html", 400, error=t(exc.template, lang, **exc.fmt), **ctx)
    _start_session(user)  # the epoch moved: other sessions of this account end
    ctx["forced"] = False
    return _page("password.html", done=True, **ctx)


# ---- single sign-on ---------------------------------------------------------------------------
def _oidc() -> Any:
    """This app's OpenID Connect client (authlib), None when single sign-on is off."""
    return current_app.extensions.get("eujc_oidc")


def _oidc_redirect_uri() -> str:
    base = _access.settings().PUBLIC_URL.rstrip("/") or request.host_url.rstrip("/")
    return base + "/auth/oidc/callback"


def oidc_login() -> Response:
    """Go to the organisation's identity provider."""
    client = _oidc()
    if client is None:
        return message_page(t("Single sign-on is not configured.", current_lang()),
                            status=404, lang=current_lang())
    session["oidc_next"] = safe_next(request.args.get("next"))
    return client.authorize_redirect(_oidc_redirect_uri())


def oidc_callback() -> Response:
    """Back from the identity provider: check the answer, map the role, sign in."""
    from authlib.integrations.base_client import OAuthError

    lang = current_lang()
    client = _oidc()
    if client is None:
        return message_page(t("Single sign-on is not configured.", lang), status=404, lang=lang)
    s = _access.settings()
    try:
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        if s.OIDC_ROLE_CLAIM not in claims:
            claims = {**dict(client.userinfo(token=token)), **claims}
    except (OAuthError, ValueError, KeyError) as exc:
        _access._audit_refusal("sign_in_failed", "", f"oidc: {type(exc).__name__}")
        return message_page(t("Single sign-on did not succeed. Please try again.", lang),
                            status=401, lang=lang)
    role = users.role_from_claims(claims, s.OIDC_ROLE_CLAIM,
                                  users.parse_role_map(s.OIDC_ROLE_MAP), s.OIDC_DEFAULT_ROLE)
    result = users.sign_in_oidc(db.get_engine(), issuer=s.OIDC_ISSUER, claims=claims, role=role,
                                address=request.remote_addr)
    if result.user is None:
        text = ("This account is disabled. Ask an administrator." if result.reason == "disabled"
                else "Your organisation account has no role in this dashboard. Ask an "
                     "administrator.")
        return message_page(t(text, lang), status=403, lang=lang)
    return _after_sign_in(result.user, session.pop("oidc_next", "/"))


def _register_oidc(server: Flask) -> None:
    s = _access.settings_of(server)
    if not s.oidc_enabled:
        return
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(server)
    server.extensions["eujc_oidc"] = oauth.register(
        "oidc", client_id=s.OIDC_CLIENT_ID, client_secret=s.OIDC_CLIENT_SECRET or None,
        server_metadata_url=s.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": s.OIDC_SCOPES, "code_challenge_method": "S256"})


def register_routes(server: Flask) -> None:
    """Add the sign-in routes, their rate limits and single sign-on to the Flask server."""
    s = _access.settings_of(server)
    limiter = Limiter(get_remote_address, app=server, storage_uri=s.REDIS_URL or "memory://",
                      strategy="moving-window", headers_enabled=False,
                      key_prefix="eujc-limits")
    limited_login = limiter.limit(s.LOGIN_RATE_PER_ADDRESS, methods=["POST"],
                                  on_breach=_too_many)(
        limiter.limit(s.LOGIN_RATE_PER_ACCOUNT, key_func=_account_key, methods=["POST"],
                      on_breach=_too_many)(login))
    limited_password = limiter.limit(s.LOGIN_RATE_PER_ADDRESS, methods=["POST"],
                                     on_breach=_too_many)(change_password)
    bp = Blueprint("auth", __name__, template_folder="templates")
    bp.add_url_rule("/login", view_func=limited_login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", view_func=logout, methods=["POST"])
    bp.add_url_rule("/account/password", view_func=limited_password, methods=["GET", "POST"])
    bp.add_url_rule("/auth/oidc/login", view_func=oidc_login)
    bp.add_url_rule("/auth/oidc/callback", view_func=oidc_callback)
    server.register_blueprint(bp)
    _register_oidc(server)
