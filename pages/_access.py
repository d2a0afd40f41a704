"""Who may do what, checked on the server for every request.

Roles (data_access.settings.ROLES): a viewer reads every analysis page, export and chart
pack; staff also load and remove data (the Data page); an admin also manages users and reads
the audit trail. With READ_ACCESS=public anonymous visitors are viewers; writing always
needs a signed-in account with the role.

One `before_request` hook (`guard`) decides every request, in this order:

1. an idle session ends (SESSION_IDLE_MINUTES; audited);
2. a state-changing request (POST, PUT, PATCH, DELETE) must carry the CSRF token (a form
   field, or the `X-CSRFToken` header that Dash's renderer sends from the `_csrf_token`
   cookie) and, when the browser names one, a same-site `Origin`;
3. the role the request needs (`required_role`): nothing for sign-in, assets and health;
   staff for `/data-files/`; admin for `/admin/`; for a Dash callback
   (`/_dash-update-component`), the role of the page module that defined it (a page says
   `dash.register_page(..., role="staff")`); for a page address, its page's role;
   a viewer for everything else;
4. an account whose password must change may only change it.

A refused request changes nothing: an anonymous page view goes to the sign-in form; other
requests get 401/403 (a plain page in the interface's language, or JSON for callbacks) and an
audit row.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    session,
)
from flask_login import AnonymousUserMixin, LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from sqlalchemy.orm import Session

from components.i18n import t
from data_access import audit, db
from data_access.audit import Actor
from data_access.models import User
from data_access.settings import ROLES, Settings

log = logging.getLogger("dashboard.access")

RANK = {role: i + 1 for i, role in enumerate(ROLES)}  # viewer 1, staff 2, admin 3
PUBLIC_PREFIXES = ("/login", "/logout", "/auth/", "/account/", "/assets/",
                   "/_dash-component-suites/", "/_favicon.ico", "/favicon.ico", "/healthz",
                   "/readyz", "/lang/", "/robots.txt")
ROLE_PREFIXES = (("/data-files/", "staff"), ("/admin/", "admin"))
CALLBACK_PATH = "/_dash-update-component"
CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads (it sends it as X-CSRFToken)
USER_TTL_S = 5.0  # how long a worker trusts an account it read (role changes: ≤ this late)
SEEN_EVERY_S = 60  # how often a request refreshes the session's "last seen" time
UPLOAD_PATHS = frozenset({"/data-files/upload"})  # the only requests with large bodies
SMALL_BODY = 2 * 1024 * 1024  # any other request body (callbacks, forms) stays under this


# ---- the signed-in user -----------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """The account behind a request, as read from the database (no password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    epoch: int
    must_change_password: bool
    sso: bool

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """Session id: the account and its session epoch (a reset or disable moves it)."""
        return f"{self.id}:{self.epoch}"

    @classmethod
    def of(cls, user: User) -> Principal:
        """The principal of a User row."""
        return cls(user.id, user.username, user.display_name, user.role, user.session_epoch,
                   bool(user.must_change_password), user.oidc_subject is not None)


class Anonymous(AnonymousUserMixin):
    """A visitor who has not signed in."""

    username = "anonymous"
    display_name = ""
    role = ""
    must_change_password = False
    id = None


_users: dict[int, tuple[float, Principal | None]] = {}
_users_lock = threading.Lock()


def forget_user(user_id: int) -> None:
    """Drop this worker's copy of an account (after a change made here)."""
    with _users_lock:
        _users.pop(user_id, None)


def _load_user(session_id: str) -> Principal | None:
    """Flask-Login's loader: the active account whose epoch matches the session's."""
    try:
        uid, epoch = (int(x) for x in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    now = time.monotonic()
    with _users_lock:
        hit = _users.get(uid)
    if hit is None or now - hit[0] > USER_TTL_S:
        with Session(db.get_engine()) as s:
            row = s.get(User, uid)
            principal = Principal.of(row) if row is not None and row.active else None
        with _users_lock:
            _users[uid] = (now, principal)
        hit = (now, principal)
    principal = hit[1]
    return principal if principal is not None and principal.epoch == epoch else None


def settings() -> Settings:
    """The running app's settings."""
    return settings_of(current_app)


def settings_of(server: Flask) -> Settings:
    """A Flask server's dashboard settings."""
    return server.config["DASHBOARD_SETTINGS"]


def signed_in() -> Principal | None:
    """The signed-in account of the current request (None: anonymous, or no request)."""
    if not has_request_context() or current_user is None:
        return None
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]


def role_of_request() -> str:
    """The role the current request acts with: the account's, 'viewer' for anonymous
    visitors when READ_ACCESS=public, else '' (nothing)."""
    if not has_request_context():
        return ""
    user = signed_in()
    if user is not None:
        return user.role
    return "viewer" if settings().READ_ACCESS == "public" else ""


def may(role: str, have: str | None = None) -> bool:
    """True when the current request (or the role `have`) reaches `role`."""
    have = role_of_request() if have is None else have
    return RANK.get(have, 0) >= RANK.get(role, 99)


def actor() -> Actor:
    """The current request's actor for the audit trail."""
    addr = request.remote_addr if request else None
    if current_user.is_authenticated:
        return Actor(current_user.username, current_user.id, addr)
    return Actor("anonymous", None, addr)


class Forbidden(PermissionError):
    """Raised by `require` when the current request lacks a role."""


def require(role: str) -> Actor:
    """The current actor, or Forbidden when the request lacks `role` (a second, local check
    inside every function that writes, behind `guard`)."""
    if not may(role):
        raise Forbidden(role)
    return actor()


# ---- which role a request needs ---------------------------------------------------------------
def _page_roles() -> tuple[dict[str, str], dict[str, str]]:
    """(page path -> role, page module -> role) from Dash's page registry."""
    import dash

    paths: dict[str, str] = {}
    modules: dict[str, str] = {}
    for entry in dash.page_registry.values():
        role = entry.get("role", "viewer")
        paths[entry["path"].rstrip("/") or "/"] = role
        modules[entry["module"]] = role
    return paths, modules


def callback_role(output: str) -> str | None:
    """The role a Dash callback needs (that of the page module defining it), None if no
    callback has this output."""
    from dash import _callback

    dash_app = current_app.config.get("DASH_APP")
    entry = (dash_app.callback_map.get(output) if dash_app is not None else None) \
        or _callback.GLOBAL_CALLBACK_MAP.get(output)
    if entry is None:
        return None
    fn = entry.get("callback")
    module = getattr(fn, "__module__", "") or ""
    return _page_roles()[1].get(module, "viewer")


def required_role(path: str) -> str | None:
    """The role a request for `path` needs ('' for none; None: a callback nobody defined)."""
    if path.startswith(PUBLIC_PREFIXES):
        return ""
    for prefix, role in ROLE_PREFIXES:
        if path.startswith(prefix):
            return role
    if path == CALLBACK_PATH:
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        return callback_role(output) if isinstance(output, str) else None
    return _page_roles()[0].get(path.rstrip("/") or "/", "viewer")


# ---- refusals -----------------------------------------------------------------------------------
def _lang() -> str:
    from pages._state import current_lang

    try:
        return current_lang()
    except Exception:  # noqa: BLE001 - a refusal must be answered in some language
        return "en"


def _wants_page() -> bool:
    return request.method == "GET" and request.path != CALLBACK_PATH \
        and "text/html" in (request.headers.get("Accept") or "")


def _audit_refusal(action: str, needed: str | None, reason: str = "") -> None:
    detail = {"method": request.method, "needs": needed or "(unknown callback)",
              "role": role_of_request() or "none"}
    if reason:
        detail["reason"] = reason[:200]
    if request.path == CALLBACK_PATH:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("output"), str):
            detail["callback"] = body["output"][:200]
    try:
        audit.record(db.get_engine(), actor(), action, target=request.path[:300],
                     outcome="denied", detail=detail)
    except Exception:  # noqa: BLE001 - an audit failure must not turn a 403 into a 500
        log.exception("could not write the audit row of a refused request")


def refuse(status: int, message: str, *, action: str = "forbidden",
           needed: str | None = None, reason: str = "", **fmt: object) -> Response:
    """A refused request: audited; JSON for callbacks and scripts, a short page otherwise."""
    _audit_refusal(action, needed, reason)
    lang = _lang()
    text = t(message, lang, **{k: t(str(v), lang) for k, v in fmt.items()})
    if request.path == CALLBACK_PATH or not _wants_page():
        resp = jsonify({"error": text, "status": status})
        resp.status_code = status
        return resp
    from pages._routes_auth import message_page

    return message_page(text, status=status, lang=lang)


def _sign_in_redirect() -> Response:
    target = request.full_path if request.query_string else request.path
    from pages._routes_auth import safe_next

    return redirect("/login?next=" + _quote(safe_next(target)))


def _quote(s: str) -> str:
    from urllib.parse import quote

    return quote(s, safe="/")


# ---- the hook -----------------------------------------------------------------------------------
def _expire_idle_session() -> None:
    if not current_user.is_authenticated:
        return
    idle = dt.timedelta(minutes=settings().SESSION_IDLE_MINUTES)
    now = time.time()
    seen = session.get("seen")
    if isinstance(seen, (int, float)) and now - seen > idle.total_seconds():
        who = actor()
        logout_user()
        session.clear()
        g.session_expired = True
        audit.record(db.get_engine(), who, "session_expired", target=who.name,
                     detail={"idle_minutes": settings().SESSION_IDLE_MINUTES})
        return
    if not isinstance(seen, (int, float)) or now - seen > min(SEEN_EVERY_S,
                                                              idle.total_seconds() / 4):
        session["seen"] = now
        session.permanent = True


def _same_origin() -> bool:
    """False when the browser says the request comes from another site (`Origin`)."""
    origin = request.headers.get("Origin")
    if not origin:
        return True  # not sent by every browser for every request; the CSRF token decides
    allowed = {request.host}
    if settings().PUBLIC_URL:
        allowed.add(urlsplit(settings().PUBLIC_URL).netloc)
    return origin != "null" and urlsplit(origin).netloc in allowed


def guard() -> Response | None:
    """The before_request hook: idle expiry, CSRF and origin, role, forced password change."""
    if validating():
        return None
    _expire_idle_session()
    if request.path not in UPLOAD_PATHS:
        request.max_content_length = SMALL_BODY  # only uploads may be big
    # the role first (a cheap look at the session): nobody without it makes the server read
    # a large body; then the CSRF token and origin of a state-changing request
    needed = required_role(request.path)
    if needed is None:
        return refuse(403, "You may not do this.", needed=None)
    if needed and not may(needed):
        if not current_user.is_authenticated and _wants_page():
            return _sign_in_redirect()
        if not current_user.is_authenticated:
            return refuse(401, "Please sign in.", needed=needed)
        return refuse(403, "Your role does not allow this: it needs {role}.", needed=needed,
                      role=needed)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if not _same_origin():
            return refuse(403, "This request came from another site and was refused.",
                          action="csrf_refused", reason="cross-site Origin "
                          + str(request.headers.get("Origin"))[:100])
        try:
            current_app.extensions["csrf"].protect()
        except CSRFError as exc:
            return refuse(403, "This form has expired or did not come from this dashboard. "
                               "Reload the page and try again.", action="csrf_refused",
                          reason=str(exc.description))
    if getattr(current_user, "must_change_password", False) and needed:
        if _wants_page():
            return redirect("/account/password")
        return refuse(403, "Change your one-time password first.", needed=needed)
    return None


def set_csrf_cookie(response: Response) -> Response:
    """after_request: hand HTML pages the CSRF token in the cookie dash-renderer reads."""
    if response.mimetype == "text/html" and request.method == "GET":
        response.set_cookie(CSRF_COOKIE, generate_csrf(), samesite="Strict",
                            secure=settings().https, httponly=False, path="/")
    return response


def install(server: Flask, s: Settings) -> None:
    """Sessions, CSRF, the guard and the CSRF cookie on the Flask server."""
    server.config.update(
        SECRET_KEY=s.SECRET_KEY,
        SESSION_COOKIE_NAME=s.SESSION_COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=s.https,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=s.SESSION_IDLE_MINUTES),
        SESSION_REFRESH_EACH_REQUEST=False,
        REMEMBER_COOKIE_DURATION=dt.timedelta(seconds=0),
        WTF_CSRF_CHECK_DEFAULT=False,  # guard() calls protect() itself, in its order
        WTF_CSRF_TIME_LIMIT=None,  # valid while the session is (it expires when idle)
        WTF_CSRF_SSL_STRICT=True,
        PREFERRED_URL_SCHEME="https" if s.https else "http",
    )
    CSRFProtect(server)
    lm = LoginManager(server)
    lm.anonymous_user = Anonymous
    lm.user_loader(_load_user)
    lm.session_protection = "basic"
    server.before_request(guard)
    server.after_request(set_csrf_cookie)
    server.register_error_handler(
        Forbidden, lambda exc: refuse(403, "Your role does not allow this: it needs {role}.",
                                      needed=str(exc), role=str(exc)))


def nav_allowed(role: str) -> Callable[[dict[str, Any]], bool]:
    """A filter for page-registry entries the current request may open."""
    return lambda entry: may(entry.get("role", "viewer"), role)


# ---- page layouts ---------------------------------------------------------------------------
def validating() -> bool:
    """True while Dash builds its validation layout (sent to every browser in the page's
    config): restricted pages then give their structure without any data."""
    return bool(has_request_context() and g.get("layout_validation"))


def restricted(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a page's `layout`: a request without `role` gets a notice saying so (the
    page's callbacks are refused by `guard` as well)."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def layout(**kwargs: Any) -> Any:
            if validating() or may(role):
                return fn(**kwargs)
            from components.access import not_allowed
            from pages._state import current_lang

            lang = current_lang(kwargs.get("lang") and f"?lang={kwargs['lang']}")
            return not_allowed(role, signed_in=current_user.is_authenticated,
                               have=role_of_request(), lang=lang)
        return layout
    return wrap


def prepare_pages(server: Flask) -> None:
    """Run Dash's first-request set-up now, at start (with gunicorn, once in the master):
    its validation layout is then built from the pages' data-free structure, never from
    what the first visitor's role could see."""
    with server.test_request_context("/"):
        g.layout_validation = True
        for fn in server.before_request_funcs.get(None, []):
            if fn is guard:
                continue
            fn()
