"""Research participation: Japanese participations in Horizon 2020 and Horizon Europe."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, dash_table, dcc, html

from components.charts import FigureContext, chart_card
from components.figures_research import (
    breakdown,
    contribution_per_year,
    framework_comparison,
    per_year,
)
from components.filters import page_filter
from components.formats import FONT_FAMILY
from components.i18n import norm_lang, t
from data_access import service, vocab
from data_access.queries import research as q
from pages._charts import (
    ChartSpec,
    PageState,
    page_state,
    register_charts,
    register_dim,
    vocab_labeller,
)
from pages._state import global_filters

PAGE = "research"
dash.register_page(__name__, path="/research", name="Research participation", order=4,
                   nav="Research",
                   title="Research participation · EU–Japan Centre")

PARTS: tuple[vocab.Term, ...] = tuple(vocab.Term(c, en, ja) for c, en, ja, _ in
                                      vocab.PROGRAMME_PARTS)
PART_CODES: tuple[str, ...] = tuple(p.code for p in PARTS)
# CORDIS activity types, as the issue names the organisation types.
ACTIVITY_TYPES: tuple[vocab.Term, ...] = (
    vocab.Term("HES", "Higher or secondary education", "高等教育機関"),
    vocab.Term("REC", "Research organisation", "研究機関"),
    vocab.Term("PRC", "Private company", "民間企業"),
    vocab.Term("PUB", "Public body", "公的機関"),
    vocab.Term("OTH", "Other", "その他"),
)
register_dim("framework", "Framework programme", vocab_labeller(vocab.FRAMEWORKS))
register_dim("programme_part", "Programme part", vocab_labeller(PARTS))
register_dim("activity_type", "Organisation type", vocab_labeller(ACTIVITY_TYPES))
register_dim("role", "Role", vocab_labeller(vocab.ROLES))

TABLE_ID = "research-projects-table"


def _args(s: PageState) -> dict:
    return {"year_from": s.year_from, "year_to": s.year_to, "sectors": list(s.sectors),
            "frameworks": list(s.values("framework")),
            "parts": list(s.values("programme_part")),
            "activity_types": list(s.values("activity_type")), "roles": list(s.values("role"))}


def _labeller(terms: tuple[vocab.Term, ...], lang: str):  # noqa: ANN202
    return lambda c: vocab.label(terms, c, lang)


def fig_per_year(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Participations, organisations and projects per start year."""
    return per_year(df, ctx)


def fig_frameworks(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Horizon 2020 against Horizon Europe."""
    return framework_comparison(df, ctx, framework_label=_labeller(vocab.FRAMEWORKS, ctx.lang))


def fig_contribution(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """EU contribution per start year, stacked by framework."""
    return contribution_per_year(df, ctx,
                                 framework_label=_labeller(vocab.FRAMEWORKS, ctx.lang))


def _breakdown(category: str, terms: tuple[vocab.Term, ...], title: str, color: int,
               wrap_width: int = 24):  # noqa: ANN202
    def build(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN202
        return breakdown(df, ctx, category=category, label=_labeller(terms, ctx.lang),
                         category_title=t(title, ctx.lang), color_index=color,
                         wrap_width=wrap_width)
    build.__doc__ = f"Japanese participations by {title.lower()}."
    return build


MEASURE_COLS = [("participations", "Participations (number)"),
                ("organisations", "Organisations (number)"), ("projects", "Projects (number)"),
                ("ec_contribution", "EU contribution (EUR)")]
FMT = {"participations": "{:,}", "organisations": "{:,}", "projects": "{:,}",
       "ec_contribution": "{:,.0f}", "funded": "{:,}"}
SPECS = [
    ChartSpec(PAGE, "per-year", "Japanese participation by year",
              q.participations_by_year, _args, fig_per_year,
              [("year", "Year of project start"), *MEASURE_COLS], formats=FMT,
              family="research"),
    ChartSpec(PAGE, "frameworks", "Horizon 2020 against Horizon Europe",
              q.participations_by_framework, _args, fig_frameworks,
              [("framework", "Framework programme"), *MEASURE_COLS], formats=FMT,
              click_dim="framework", family="research"),
    ChartSpec(PAGE, "by-part", "Japanese participations by programme part",
              q.participations_by_part, _args,
              _breakdown("programme_part", PARTS, "Programme part", 0, wrap_width=26),
              [("programme_part", "Programme part"), *MEASURE_COLS], formats=FMT,
              click_dim="programme_part", family="research", md=12),
    ChartSpec(PAGE, "by-org-type", "Japanese participations by organisation type",
              q.participations_by_activity, _args,
              _breakdown("activity_type", ACTIVITY_TYPES, "Organisation type", 2),
              [("activity_type", "Organisation type"), *MEASURE_COLS], formats=FMT,
              click_dim="activity_type", family="research"),
    ChartSpec(PAGE, "by-role", "Japanese participations by role",
              q.participations_by_role, _args,
              _breakdown("role", vocab.ROLES, "Role", 3),
              [("role", "Role"), *MEASURE_COLS], formats=FMT, click_dim="role",
              family="research"),
    ChartSpec(PAGE, "contribution", "EU contribution to Japanese participants per year",
              q.contribution_by_year, _args, fig_contribution,
              [("year", "Year of project start"), ("framework", "Framework programme"),
               ("ec_contribution", "EU contribution (EUR)"),
               ("funded", "Funded participations (number)"),
               ("participations", "Participations (number)")], formats=FMT,
              click_dim="framework", family="research", md=12),
]
register_charts(PAGE, SPECS)
_SPEC = {s.key: s for s in SPECS}

# (column id, English header); the Japanese organisations column carries each one's role.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("acronym", "Acronym"), ("title", "Title"), ("start_date", "Start"), ("end_date", "End"),
    ("programme_part", "Programme part"), ("organisations", "Japanese organisations (role)"),
    ("roles", "Role"),
)
_ROLE_IN_NAME = re.compile(r"\((\w+)\)(?=; |$)")


def projects_rows(df: pd.DataFrame, lang: str) -> list[dict]:
    """Rows for the projects table: codes replaced by labels in the page language."""
    if df is None or df.empty:
        return []
    role = _labeller(vocab.ROLES, lang)
    out = df.assign(
        programme_part=df["programme_part"].map(_labeller(PARTS, lang)),
        organisations=df["organisations"].map(
            lambda s: _ROLE_IN_NAME.sub(lambda m: f"({role(m.group(1))})", s)),
        roles=df["roles"].map(lambda s: ", ".join(role(r) for r in s.split(", "))),
    )
    return out[[c for c, _ in TABLE_COLUMNS]].to_dict("records")


@callback(
    Output(TABLE_ID, "data"),
    Output("research-projects-count", "children"),
    Input("url", "search"),
)
def update_projects_table(search: str | None) -> tuple[list[dict], str]:
    """The projects table follows the same filters and clicks as the charts."""
    state = page_state(search)
    df = service.run(q.japanese_projects, **_args(state))
    rows = projects_rows(df, state.lang)
    if not rows:
        return [], t("No data for these filters", state.lang)
    return rows, t("{n} projects", state.lang, n=f"{len(rows):,}")


def projects_table(lang: str) -> dbc.Card:
    """The searchable, sortable table of projects with Japanese participants."""
    table = dash_table.DataTable(
        id=TABLE_ID, data=[],
        columns=[{"id": c, "name": t(h, lang), "type": "text"} for c, h in TABLE_COLUMNS],
        filter_action="native", sort_action="native", page_action="native", page_size=15,
        filter_options={"case": "insensitive",
                        "placeholder_text": t("Filter…", lang)},
        style_table={"overflowX": "auto", "minWidth": "100%"},
        style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto",
                    "fontFamily": FONT_FAMILY, "fontSize": "0.8rem", "padding": "4px 6px",
                    "minWidth": "70px", "maxWidth": "360px"},
        style_cell_conditional=[
            {"if": {"column_id": "title"}, "minWidth": "220px"},
            {"if": {"column_id": "organisations"}, "minWidth": "220px"},
            *({"if": {"column_id": c}, "whiteSpace": "nowrap"} for c in ("start_date",
                                                                        "end_date"))],
        style_header={"fontWeight": "600", "backgroundColor": "#f0f4f8"},
        style_filter={"backgroundColor": "#fffdf5"},
        style_data_conditional=[{"if": {"row_index": "odd"}, "backgroundColor": "#f9fafb"}],
    )
    return dbc.Card(dbc.CardBody([
        html.Div([html.H2(t("Projects with Japanese participants", lang),
                          className="h6 mb-0 fw-semibold"),
                  html.Span(id="research-projects-count", className="asof")],
                 className="page-head mb-1"),
        html.P(t("Type in the row under a header to filter that column; click a header to "
                 "sort.", lang), className="text-muted small mb-2"),
        dcc.Loading(table, type="circle", delay_show=250),
    ]), className="chart-card shadow-sm mb-3", id="research-projects-card")


def _options(terms: tuple[vocab.Term, ...], lang: str) -> list[dict]:
    return [{"label": vocab.label(terms, x.code, lang), "value": x.code} for x in terms]


def layout(lang: str | None = None, **query: str) -> html.Div:
    """Page filters (framework programme, programme part), chips, charts and projects table."""
    lang = norm_lang(lang)
    f = global_filters("?" + urlencode(query))
    frameworks = [x for x in f.extra.get("framework", ()) if x in ("H2020", "HORIZON")]
    parts = [x for x in f.extra.get("programme_part", ()) if x in PART_CODES]

    def card(key: str):  # noqa: ANN202
        s = _SPEC[key]
        return chart_card(PAGE, s.key, t(s.title, lang), lang=lang, md=s.md)

    controls = dbc.Row([
        page_filter(PAGE, "framework", label=t("Framework programme", lang),
                    options=_options(vocab.FRAMEWORKS, lang), value=frameworks,
                    placeholder=t("Horizon 2020 and Horizon Europe", lang), md=4),
        page_filter(PAGE, "programme_part", label=t("Programme part", lang),
                    options=_options(PARTS, lang), value=parts,
                    placeholder=t("All programme parts", lang), md=8),
    ], className="g-2 mb-2")
    return html.Div([
        html.Div([html.H1(t("Research participation", lang), className="page-title"),
                  html.Span(id={"type": "asof", "page": PAGE}, className="asof")],
                 className="page-head"),
        html.P(t("Participations of Japanese organisations in Horizon 2020 and Horizon Europe "
                 "projects (CORDIS), by year of project start. Organisations and projects are "
                 "counted once each.", lang), className="text-muted small mb-2"),
        controls,
        html.Div(id={"type": "chips", "page": PAGE}, className="mb-2"),
        dbc.Row([
            card("per-year"), card("frameworks"), card("by-org-type"), card("by-role"),
            card("by-part"), card("contribution"),
        ]),
        projects_table(lang),
    ])
