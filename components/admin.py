"""Pure builders of the Admin page: the accounts table with its controls, the audit trail
table, the sign-in settings and the one-time password notice. Plain DataFrames in."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from components.access import role_label
from components.formats import is_missing
from components.i18n import t

ROLES = ("viewer", "staff", "admin")
OUTCOME_COLOR = {"ok": "success", "denied": "danger", "failed": "warning"}
OUTCOME_LABEL = {"ok": "done", "denied": "refused", "failed": "failed"}


def when(value: Any) -> str:
    """'2026-12-02 18:04' for a stored UTC time ('–' when missing)."""
    if value is None or is_missing(value) or pd.isna(value):
        return "–"
    if isinstance(value, str):
        return value[:16].replace("T", " ")
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def _status(r: Any, now: dt.datetime, lang: str) -> html.Span:
    locked = r.locked_until is not None and not pd.isna(r.locked_until) \
        and pd.Timestamp(r.locked_until).to_pydatetime() > now
    if not r.active:
        return dbc.Badge(t("disabled", lang), color="secondary")
    if locked:
        return dbc.Badge(t("locked until {when}", lang, when=when(r.locked_until)),
                         color="warning", text_color="dark")
    if r.must_change_password:
        return dbc.Badge(t("one-time password", lang), color="info", text_color="dark")
    return dbc.Badge(t("active", lang), color="success")


def users_table(df: pd.DataFrame, *, me: int | None, lang: str,
                now: dt.datetime | None = None) -> html.Div:
    """Every account with its role selector and its disable/enable and reset buttons."""
    if df is None or df.empty:
        return html.P(t("No accounts yet.", lang), className="text-muted small")
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    head = html.Thead(html.Tr([html.Th(t(h, lang), scope="col") for h in
                               ("User name", "Name", "E-mail", "Sign-in", "Role", "Status",
                                "Last sign-in (UTC)", "Actions")]))
    rows = []
    for r in df.itertuples(index=False):
        uid = int(r.id)
        # (the label wraps the select: pattern-matching ids have no plain id to point at)
        role = html.Label([
            html.Span(t("Role of {name}", lang, name=r.username), className="visually-hidden"),
            dbc.Select(id={"type": "admin-role", "user": uid}, value=r.role, size="sm",
                       options=[{"label": role_label(x, lang), "value": x} for x in ROLES],
                       disabled=uid == me, className="admin-role-select")])
        buttons = [dbc.Button(t("Enable", lang) if not r.active else t("Disable", lang),
                              id={"type": "admin-active", "user": uid}, size="sm",
                              color="secondary", outline=True, disabled=uid == me,
                              className="me-1",
                              title=t("Disable or enable {name}", lang, name=r.username))]
        if not r.sso:
            buttons.append(dbc.Button(t("Reset password", lang), size="sm", color="warning",
                                      outline=True, id={"type": "admin-reset", "user": uid},
                                      title=t("Give {name} a new one-time password", lang,
                                              name=r.username)))
        rows.append(html.Tr([
            html.Td(html.Code(r.username)), html.Td(r.display_name),
            html.Td(r.email or "–"),
            html.Td(t("single sign-on", lang) if r.sso else t("password", lang)),
            html.Td(role), html.Td(_status(r, now, lang)),
            html.Td(when(r.last_sign_in_at), className="text-nowrap"),
            html.Td(html.Div(buttons, className="d-flex flex-wrap gap-1")),
        ], **{"data-user": r.username}))
    return html.Div(dbc.Table([head, html.Tbody(rows)], size="sm", hover=True,
                              className="mb-0 admin-users align-middle"),
                    className="table-responsive")


def new_user_form(lang: str) -> html.Div:
    """User name, name, e-mail and role of a new account."""
    def field(label: str, cid: str, **kw: Any) -> dbc.Col:
        return dbc.Col([dbc.Label(t(label, lang), html_for=cid, className="small mb-0"),
                        dbc.Input(id=cid, size="sm", **kw)], xs=12, md=3)

    return html.Div([
        dbc.Row([
            field("User name", "admin-new-username", autoComplete="off"),
            field("Name", "admin-new-name", autoComplete="off"),
            field("E-mail (optional)", "admin-new-email", type="email", autoComplete="off"),
            dbc.Col([dbc.Label(t("Role", lang), html_for="admin-new-role",
                               className="small mb-0"),
                     dbc.Select(id="admin-new-role", size="sm", value="viewer",
                                options=[{"label": role_label(x, lang), "value": x}
                                         for x in ROLES])], xs=12, md=3),
        ], className="g-2 mb-2"),
        dbc.Button(t("Add account", lang), id="admin-new-add", color="primary", size="sm"),
    ], className="admin-new-user")


def secret_notice(username: str, secret: str, lang: str) -> dbc.Alert:
    """The one-time password of a new or reset account, shown this once."""
    return dbc.Alert([
        html.Strong(t("One-time password for {name}:", lang, name=username) + " "),
        html.Code(secret, id="admin-secret", className="fs-6 user-select-all"),
        html.Br(),
        html.Span(t("Hand it over in person or by a separate channel. It is shown only now; "
                    "the first sign-in asks for a new password.", lang), className="small"),
    ], color="success", className="py-2 mb-2")


def message(text: str, *, ok: bool) -> dbc.Alert:
    """A one-line outcome of an admin action."""
    return dbc.Alert(text, color="success" if ok else "danger", className="py-2 mb-2",
                     id="admin-message-text")


def settings_list(items: Sequence[tuple[str, str]], lang: str) -> html.Dl:
    """The sign-in settings as term / value pairs."""
    out: list[Any] = []
    for term, value in items:
        out += [html.Dt(t(term, lang), className="col-sm-4 small"),
                html.Dd(value, className="col-sm-8 small mb-1")]
    return html.Dl(out, className="row mb-0 admin-settings")


def _detail_text(raw: Any) -> str:
    if raw is None or is_missing(raw) or not raw:
        return ""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return str(raw)
    return "; ".join(f"{k}: {v}" for k, v in data.items()) if isinstance(data, dict) \
        else str(data)


def audit_table(df: pd.DataFrame, lang: str) -> html.Div:
    """Audit rows, newest first: when, who, action, target, outcome, details, address."""
    if df is None or df.empty:
        return html.P(t("No audit rows match these filters.", lang),
                      className="text-muted small mb-0", id="admin-audit-empty")
    head = html.Thead(html.Tr([html.Th(t(h, lang), scope="col") for h in
                               ("When (UTC)", "Who", "Action", "On", "Outcome", "Details",
                                "Address")]))
    rows = [html.Tr([
        html.Td(when(r.at), className="text-nowrap"), html.Td(r.actor),
        html.Td(html.Code(r.action)), html.Td(r.target or "–", className="admin-target"),
        html.Td(dbc.Badge(t(OUTCOME_LABEL.get(r.outcome, r.outcome), lang),
                          color=OUTCOME_COLOR.get(r.outcome, "secondary"))),
        html.Td(_detail_text(r.detail), className="small admin-detail"),
        html.Td(r.address or "–", className="small"),
    ], **{"data-action": r.action, "data-actor": r.actor}) for r in df.itertuples(index=False)]
    return html.Div(dbc.Table([head, html.Tbody(rows)], size="sm", striped=True,
                              className="mb-0 admin-audit"), className="table-responsive")


def audit_filters(actions: Sequence[str], lang: str) -> dbc.Row:
    """Who, action, outcome and day range of the audit view."""
    def col(label: str, control: Any, cid: str, md: int = 2) -> dbc.Col:
        return dbc.Col([dbc.Label(t(label, lang), html_for=cid, className="small mb-0"),
                        control], xs=6, md=md)

    return dbc.Row([
        col("Who", dbc.Input(id="admin-audit-actor", size="sm", debounce=True,
                             placeholder=t("user name", lang)), "admin-audit-actor", 3),
        col("Action", dbc.Select(id="admin-audit-action", size="sm", value="",
                                 options=[{"label": t("All actions", lang), "value": ""}]
                                 + [{"label": a, "value": a} for a in actions]),
            "admin-audit-action", 3),
        col("Outcome", dbc.Select(id="admin-audit-outcome", size="sm", value="",
                                  options=[{"label": t("All outcomes", lang), "value": ""}]
                                  + [{"label": t(OUTCOME_LABEL[o], lang), "value": o}
                                     for o in ("ok", "denied", "failed")]),
            "admin-audit-outcome"),
        col("From", dcc.Input(id="admin-audit-from", type="date", className="form-control "
                              "form-control-sm", debounce=True), "admin-audit-from"),
        col("To", dcc.Input(id="admin-audit-to", type="date", className="form-control "
                            "form-control-sm", debounce=True), "admin-audit-to"),
    ], className="g-2 mb-2")
