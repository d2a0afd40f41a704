"""Admin (admins only): accounts and roles, the sign-in settings, and the audit trail.

Every change goes through data_access.users, which writes its audit row in the same
transaction; every callback here needs the admin role (pages._access.guard checks it from
this page's `role`, and each callback checks it again with `require`).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from components import admin as ui
from components.access import role_label
from components.i18n import norm_lang, t
from data_access import audit, service, users
from data_access.models import User
from data_access.users import UserError
from pages import _access
from pages._state import current_lang

ROLE = "admin"
dash.register_page(__name__, path="/admin", name="Admin", order=11,
                   title="Admin · EU–Japan Centre", role=ROLE, filters=False)
AUDIT_PAGE_SIZE = 50


def rate_text(rate: str, lang: str) -> str:
    """'30 per 10 minutes' in the interface language (as Flask-Limiter reads it)."""
    from limits import parse

    try:
        item = parse(rate)
    except ValueError:
        return rate
    unit = item.GRANULARITY.name  # second, minute, hour, day, month, year
    ja_unit = {"second": "秒", "minute": "分", "hour": "時間", "day": "日", "month": "か月",
               "year": "年"}.get(unit, unit)
    if lang == "ja":
        return f"{item.multiples if item.multiples > 1 else ''}{ja_unit}あたり{item.amount}回"
    span = f"{item.multiples} {unit}s" if item.multiples > 1 else unit
    return f"{item.amount} per {span}"


def _settings_items(lang: str) -> list[tuple[str, str]]:
    s = _access.settings()
    public = s.READ_ACCESS == "public"
    items = [
        ("Who may read", t("anyone, without signing in (READ_ACCESS=public)", lang) if public
         else t("signed-in accounts only (READ_ACCESS=signed-in)", lang)),
        ("Session ends after", t("{n} minutes without activity", lang,
                                 n=f"{s.SESSION_IDLE_MINUTES:g}")),
        ("Lock-out", t("{n} failed sign-ins in a row lock an account for {m} minutes", lang,
                       n=s.LOGIN_MAX_FAILURES, m=f"{s.LOGIN_LOCK_MINUTES:g}")),
        ("Sign-in attempts", t("at most {a} per address and {b} per account", lang,
                               a=rate_text(s.LOGIN_RATE_PER_ADDRESS, lang),
                               b=rate_text(s.LOGIN_RATE_PER_ACCOUNT, lang))),
        ("Single sign-on", (f"{s.OIDC_ISSUER} · {s.OIDC_ROLE_CLAIM}: "
                            f"{s.OIDC_ROLE_MAP or '–'} · "
                            + t("otherwise", lang) + " "
                            + (role_label(s.OIDC_DEFAULT_ROLE, lang)
                               or t("no access", lang))) if s.oidc_enabled
         else t("not configured", lang)),
        ("Audit rows kept", t("for {n} days", lang, n=s.AUDIT_RETENTION_DAYS)
         if s.AUDIT_RETENTION_DAYS > 0 else t("for ever", lang)),
    ]
    return items


@_access.restricted(ROLE)
def layout(lang: str | None = None, **_query: Any) -> html.Div:
    """Accounts, sign-in settings and the audit trail."""
    lang = norm_lang(lang) if lang else current_lang()
    validating = _access.validating()
    me = _access.signed_in()
    accounts = ui.users_table(None if validating else service.read(users.users_table),
                              me=me.id if me else None, lang=lang)
    actions = [] if validating else service.read(audit.actions)
    return html.Div([
        html.Div([html.H1(t("Administration", lang), className="page-title")],
                 className="page-head"),
        dbc.Card(dbc.CardBody([
            html.H2(t("Accounts", lang), className="h5"),
            html.Div(id="admin-message", role="status"),
            html.Div(accounts, id="admin-users"),
            html.H3(t("Add an account", lang), className="h6 mt-3"),
            ui.new_user_form(lang),
            html.P(t("Accounts can also be managed from the command line: python -m "
                     "data_access.users create|set-role|disable|enable|reset-password.",
                     lang), className="small text-muted mt-2 mb-0"),
        ]), className="shadow-sm mb-3"),
        dbc.Card(dbc.CardBody([
            html.H2(t("Sign-in settings", lang), className="h5"),
            ui.settings_list(_settings_items(lang), lang),
            html.P(t("These are set by environment variables (see the README) and apply "
                     "after a restart.", lang), className="small text-muted mt-2 mb-0"),
        ]), className="shadow-sm mb-3"),
        dbc.Card(dbc.CardBody([
            html.Div([html.H2(t("Audit trail", lang), className="h5 mb-0"),
                      html.A(t("Download CSV", lang), id="admin-audit-csv",
                             href="/admin/audit.csv", className="small")],
                     className="d-flex justify-content-between align-items-baseline mb-2"),
            ui.audit_filters(actions, lang),
            html.Div(id="admin-audit-count", className="small text-muted mb-1",
                     role="status"),
            html.Div(id="admin-audit"),
            html.Div([
                dbc.Button(t("Newer", lang), id="admin-audit-newer", size="sm",
                           color="secondary", outline=True, className="me-2"),
                dbc.Button(t("Older", lang), id="admin-audit-older", size="sm",
                           color="secondary", outline=True),
            ], className="mt-2"),
            dcc.Store(id="admin-audit-offset", data=0),
        ]), className="shadow-sm mb-3"),
    ], className="admin-page")


def _apply(actor: audit.Actor, trigger: dict[str, Any] | str, value: Any,
           new: dict[str, str], lang: str) -> Any:
    """Carry out one account action; the notice to show (raises UserError)."""
    if trigger == "admin-new-add":
        with service.transaction() as s:
            user, otp = users.create(s, actor, username=new["username"], role=new["role"],
                                     display_name=new["name"], email=new["email"])
        return ui.secret_notice(user.username, otp or "", lang)
    assert isinstance(trigger, dict)
    uid = int(trigger["user"])
    me = _access.signed_in()
    if me is not None and uid == me.id:
        raise UserError("You cannot change your own account here.")
    with service.transaction() as s:
        user = s.get(User, uid)
        if user is None:
            raise UserError("No such user: {name}", name=str(uid))
        kind = trigger["type"]
        if kind == "admin-role":
            users.set_role(s, actor, user, str(value))
            text = t("{name} is now {role}.", lang, name=user.username,
                     role=role_label(str(value), lang))
            out: Any = ui.message(text, ok=True)
        elif kind == "admin-active":
            users.set_active(s, actor, user, not user.active)
            out = ui.message(t("{name} is enabled." if user.active else "{name} is disabled.",
                               lang, name=user.username), ok=True)
        else:
            out = ui.secret_notice(user.username, users.reset_password(s, actor, user), lang)
    _access.forget_user(uid)
    return out


@callback(
    Output("admin-users", "children"),
    Output("admin-message", "children"),
    Output("admin-new-username", "value"),
    Output("admin-new-name", "value"),
    Output("admin-new-email", "value"),
    Input("admin-new-add", "n_clicks"),
    Input({"type": "admin-role", "user": ALL}, "value"),
    Input({"type": "admin-active", "user": ALL}, "n_clicks"),
    Input({"type": "admin-reset", "user": ALL}, "n_clicks"),
    State("admin-new-username", "value"),
    State("admin-new-name", "value"),
    State("admin-new-email", "value"),
    State("admin-new-role", "value"),
    State("url", "search"),
    prevent_initial_call=True,
)
def manage_accounts(_add, _roles, _active, _reset, username, name, email, role,  # noqa: ANN001, ANN201
                    search):
    """Add an account, change a role, disable/enable, reset a password; show the outcome."""
    actor = _access.require(ROLE)
    lang = current_lang(search)
    trigger = ctx.triggered_id
    if trigger is None or not ctx.triggered or ctx.triggered[0]["value"] in (None, 0):
        return no_update, no_update, no_update, no_update, no_update
    new = {"username": username or "", "name": name or "", "email": email or "",
           "role": role or "viewer"}
    try:
        notice = _apply(actor, trigger, ctx.triggered[0]["value"], new, lang)
    except UserError as exc:
        notice = ui.message(t(exc.template, lang, **exc.fmt), ok=False)
        cleared: tuple[Any, ...] = (no_update,) * 3
    else:
        cleared = ("", "", "") if trigger == "admin-new-add" else (no_update,) * 3
    me = _access.signed_in()
    table = ui.users_table(service.read(users.users_table), me=me.id if me else None,
                           lang=lang)
    return (table, notice, *cleared)


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@callback(
    Output("admin-audit", "children"),
    Output("admin-audit-count", "children"),
    Output("admin-audit-csv", "href"),
    Output("admin-audit-offset", "data"),
    Input("admin-audit-actor", "value"),
    Input("admin-audit-action", "value"),
    Input("admin-audit-outcome", "value"),
    Input("admin-audit-from", "value"),
    Input("admin-audit-to", "value"),
    Input("admin-audit-newer", "n_clicks"),
    Input("admin-audit-older", "n_clicks"),
    Input("admin-message", "children"),
    State("admin-audit-offset", "data"),
    State("url", "search"),
)
def show_audit(who, action, outcome, day_from, day_to, _newer, _older, _msg,  # noqa: ANN001, ANN201
               offset, search):
    """The audit rows for the filters, 50 at a time, newest first."""
    _access.require(ROLE)
    lang = current_lang(search)
    f = audit.AuditFilter(actor=(who or "")[:120], action=action or "",
                          outcome=outcome if outcome in audit.OUTCOMES else "",
                          day_from=_day(day_from), day_to=_day(day_to))
    total = service.read(audit.count, f=f)
    offset = int(offset or 0)
    if ctx.triggered_id == "admin-audit-older":
        offset = min(offset + AUDIT_PAGE_SIZE, max(total - 1, 0) // AUDIT_PAGE_SIZE
                     * AUDIT_PAGE_SIZE)
    elif ctx.triggered_id == "admin-audit-newer":
        offset = max(offset - AUDIT_PAGE_SIZE, 0)
    elif ctx.triggered_id is not None:
        offset = 0
    rows = service.read(audit.events, f=f, limit=AUDIT_PAGE_SIZE, offset=offset)
    shown = (t("Rows {a}–{b} of {n}", lang, a=offset + 1, b=offset + len(rows), n=total)
             if total else "")
    query = {k: v for k, v in (("actor", f.actor), ("action", f.action),
                               ("outcome", f.outcome), ("from", day_from or ""),
                               ("to", day_to or ""), ("lang", lang)) if v}
    href = "/admin/audit.csv" + ("?" + urllib.parse.urlencode(query) if query else "")
    return ui.audit_table(rows, lang), shown, href, offset
