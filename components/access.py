"""Builders for who is signed in: the navbar's account menu, and the notice a page shows to a
role that may not open it."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.i18n import t

ROLE_LABELS = {"viewer": "viewer", "staff": "staff", "admin": "admin"}


def role_label(role: str, lang: str) -> str:
    """A role's name in the interface language ('' for none)."""
    return t(ROLE_LABELS[role], lang) if role in ROLE_LABELS else ""


def account_menu(user: tuple[str, str] | None, *, csrf_token: str, lang: str,
                 sign_in: bool) -> list:
    """Navbar items: the signed-in account's menu (who and which role, change password, sign
    out: a POST form with the CSRF token), or a "Sign in" link for anonymous readers."""
    if user is None:
        if not sign_in:
            return []
        return [dbc.NavItem(dbc.NavLink(t("Sign in", lang), href="/login", id="nav-sign-in",
                                        external_link=True))]
    name, role = user
    sign_out = html.Form([
        dcc.Input(type="hidden", name="csrf_token", value=csrf_token, id="nav-csrf"),
        html.Button(t("Sign out", lang), type="submit", id="nav-sign-out",
                    className="dropdown-item"),
    ], method="POST", action="/logout")
    return [dbc.DropdownMenu([
        dbc.DropdownMenuItem([t("Signed in as", lang), " ", html.Strong(name),
                              html.Br(), t("Role", lang), ": ", role_label(role, lang)],
                             header=True, id="nav-user"),
        dbc.DropdownMenuItem(t("Change password", lang), href="/account/password",
                             external_link=True, id="nav-password"),
        dbc.DropdownMenuItem(divider=True),
        sign_out,
    ], label=html.Span(name, id="nav-user-name"), nav=True, in_navbar=True, align_end=True,
        id="nav-account", toggle_class_name="text-nowrap",
        toggle_style={"maxWidth": "14rem", "overflow": "hidden", "textOverflow": "ellipsis"})]


def not_allowed(role: str, *, signed_in: bool, have: str, lang: str) -> html.Div:
    """What a page says to a request whose role may not open it."""
    if signed_in:
        text = t("This page is for {role} and above. You are signed in as {have}.", lang,
                 role=role_label(role, lang), have=role_label(have, lang))
        link = html.A(t("Go to the overview", lang), href="/")
    else:
        text = t("This page is for {role} and above. Please sign in.", lang,
                 role=role_label(role, lang))
        link = html.A(t("Sign in", lang), href="/login")
    return html.Div([
        html.H1(t("Not allowed", lang), className="page-title"),
        dbc.Alert([html.P(text, className="mb-1", id="not-allowed"), link], color="warning"),
    ], className="not-allowed-page")
