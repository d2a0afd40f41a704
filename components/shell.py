"""The app shell: navbar, demo-data banner, global filter bar, footer."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.access import account_menu
from components.filters import filter_bar
from components.i18n import t


def navbar(pages: Sequence[tuple[str, str]], *, demo: bool, lang: str = "en",
           user: tuple[str, str] | None = None, sign_in: bool = False,
           csrf_token: str = "") -> dbc.Navbar:
    """Top navigation from (name, path) pairs, with the 'Demo data' badge when relevant and
    who is signed in (`user`: display name and role) or a sign-in link."""
    links = [dbc.NavItem(dbc.NavLink(t(name, lang), href=path, active="partial"
                                     if path != "/" else "exact",
                                     id={"type": "nav-link", "index": path}))
             for name, path in pages]
    brand = html.Span([html.Span(t("EU–Japan Centre", lang)),
                       html.Span(" " + t("dashboard", lang), className="d-none d-md-inline")],
                      className="brand-main")
    badge = dbc.Badge(t("Demo data", lang), color="warning", text_color="dark",
                      className="ms-2 demo-badge", id="demo-badge",
                      style=None if demo else {"display": "none"},
                      title=t("Synthetic demo data is loaded: figures are realistic in size "
                              "but not real.", lang))
    other = "ja" if lang == "en" else "en"
    switch = html.A("日本語" if other == "ja" else "English", id="lang-switch",
                    href=f"/lang/{other}", className="nav-link lang-switch",
                    lang=other, title=t("Language", lang))
    return dbc.Navbar(dbc.Container([
        html.A([brand, badge], href="/", className="navbar-brand d-flex align-items-center"),
        dbc.NavbarToggler(id="navbar-toggler"),
        dbc.Collapse(dbc.Nav(links + [dbc.NavItem(switch)]
                             + account_menu(user, csrf_token=csrf_token, lang=lang,
                                            sign_in=sign_in),
                             navbar=True, className="ms-auto align-items-lg-center"),
                     id="navbar-collapse", navbar=True),
    ], fluid=True), color="dark", dark=True, className="mb-3 app-navbar", expand="lg")


def demo_banner(lang: str = "en", *, demo: bool = True) -> dbc.Alert:
    """A plain-words notice under the navbar while demo data is loaded."""
    return dbc.Alert(is_open=demo, children=[html.Strong(t("Demo data", lang) + ": "),
                      t("Synthetic demo data is loaded: figures are realistic in size but not "
                        "real.", lang)],
                     color="warning", className="py-1 px-3 small mb-2 demo-banner",
                     id="demo-banner")


def shell(*, pages: Sequence[tuple[str, str]], demo: bool, years: Sequence[int],
          sectors: Sequence[tuple[str, str]], content: object, lang: str = "en",
          user: tuple[str, str] | None = None, sign_in: bool = False,
          csrf_token: str = "") -> html.Div:
    """The whole page frame around `content` (dash.page_container)."""
    return html.Div([
        dcc.Location(id="url", refresh=False),
        navbar(pages, demo=demo, lang=lang, user=user, sign_in=sign_in, csrf_token=csrf_token),
        dbc.Container([
            demo_banner(lang, demo=demo),
            filter_bar(years=years, sectors=sectors, lang=lang),
            content,
        ], fluid=True, className="pb-4 app-main"),
    ])
