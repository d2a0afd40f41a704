"""Programmes: applications against places, selection rate, who applies and who is chosen."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.charts import FigureContext, chart_card
from components.fastfig import merge_layout
from components.figures import bar_chart
from components.figures_programmes import (
    applicants_and_selected,
    bars_height,
    selection_by_year,
    tidy_footer,
    wrap_label,
)
from components.filters import page_filter
from components.i18n import norm_lang, t
from data_access import vocab
from data_access.queries import programmes as q
from pages._charts import ChartSpec, PageState, register_charts, register_dim, vocab_labeller
from pages._state import current_lang, global_filters

PAGE = "programmes"
dash.register_page(__name__, path="/programmes", name="Programmes", order=1,
                   title="Programmes · EU–Japan Centre")

TOP_PLACES = 20


def place_label(code: str, lang: str = "en") -> str:
    """A country name, or a Japanese prefecture as 'Tokyo (JP)' / '東京都'."""
    if code.startswith("JP-"):
        name = vocab.label(vocab.JP_PREFECTURES, code, lang)
        return name if lang == "ja" else f"{name} (JP)"
    return vocab.label(vocab.COUNTRIES, code, lang)


register_dim("programme", "Programme", vocab_labeller(vocab.PROGRAMMES))
register_dim("field", "Field of study", vocab_labeller(vocab.FIELDS_OF_STUDY))
register_dim("origin", "Country / prefecture", place_label)
register_dim("gender", "Gender", vocab_labeller(vocab.GENDERS))
register_dim("host_sector", "Host sector", vocab_labeller(vocab.SECTORS))


def _args(s: PageState) -> dict:
    return {"year_from": s.year_from, "year_to": s.year_to, "sectors": list(s.sectors),
            "programmes": list(s.values("programme")), "fields": list(s.values("field")),
            "places": list(s.values("origin")), "genders": list(s.values("gender")),
            "host_sectors": list(s.values("host_sector"))}


def fig_by_year(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Applications, shortlisted and selected per cycle year, selection rate on the right."""
    lang = ctx.lang
    return selection_by_year(
        df, ctx, names=[t("Applications", lang), t("Shortlisted", lang), t("Selected", lang)],
        rate_name=t("Selection rate", lang), x_title=t("Cycle year", lang),
        y_title=t("Applications (number)", lang),
        rate_title=t("Selection rate (% of applications)", lang), of_word=t("of", lang))


def _breakdown_fig(category: str, label, top: int | None = None):  # noqa: ANN001, ANN202
    def build(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN202
        lang = ctx.lang
        return applicants_and_selected(
            df, ctx, category=category, label=lambda c: label(c, lang),
            names=[t("Applicants", lang), t("Selected", lang)],
            axis_titles=[t("Applicants (number)", lang), t("Selected (number)", lang)],
            rate_word=t("selected", lang), top=top)
    return build


fig_by_field = _breakdown_fig("field", vocab_labeller(vocab.FIELDS_OF_STUDY))
fig_by_place = _breakdown_fig("place", place_label, top=TOP_PLACES)
fig_by_gender = _breakdown_fig("gender", vocab_labeller(vocab.GENDERS))


def fig_hosts(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Selected participants per host-company sector."""
    fig = bar_chart(df, ctx, category="host_sector", value="placements",
                    label=lambda c: wrap_label(vocab.label(vocab.SECTORS, c, ctx.lang)),
                    value_title=t("Participants placed (number)", ctx.lang),
                    hover="%{x:,.0f} " + t("participants", ctx.lang))
    merge_layout(fig, {"height": bars_height(fig.data[0].y, ctx)})
    return tidy_footer(fig, ctx)


_BREAKDOWN_COLUMNS = [("applications", "Applicants"), ("selected", "Selected"),
                      ("selection_rate", "Selection rate (%)")]
_BREAKDOWN_FORMATS = {"applications": "{:,}", "selected": "{:,}", "selection_rate": "{:.1%}"}

SPECS = [
    ChartSpec(PAGE, "by-year", "Applications, shortlisted, selected by year",
              q.applications_by_year, _args, fig_by_year,
              [("year", "Cycle year"), ("applications", "Applications"),
               ("shortlisted", "Shortlisted"), ("selected", "Selected"),
               ("selection_rate", "Selection rate (%)")],
              formats={"applications": "{:,}", "shortlisted": "{:,}", "selected": "{:,}",
                       "selection_rate": "{:.1%}"},
              family="programmes", height=400, md=12),
    ChartSpec(PAGE, "by-field", "Applicants and selected by field of study",
              q.applicants_by_field, _args, fig_by_field,
              [("field", "Field of study"), *_BREAKDOWN_COLUMNS], formats=_BREAKDOWN_FORMATS,
              click_dim="field", family="programmes", height=420),
    ChartSpec(PAGE, "by-origin", "Applicants and selected by country (top 20)",
              q.applicants_by_place, _args, fig_by_place,
              [("place", "Country / prefecture"), *_BREAKDOWN_COLUMNS],
              formats=_BREAKDOWN_FORMATS, click_dim="origin", family="programmes",
              height=420),
    ChartSpec(PAGE, "by-gender", "Applicants and selected by gender (where given)",
              q.applicants_by_gender, _args, fig_by_gender,
              [("gender", "Gender"), *_BREAKDOWN_COLUMNS], formats=_BREAKDOWN_FORMATS,
              click_dim="gender", family="programmes", height=360),
    ChartSpec(PAGE, "hosts", "Host companies by sector (selected participants)",
              q.hosts_by_sector, _args, fig_hosts,
              [("host_sector", "Host sector"), ("placements", "Participants placed"),
               ("share", "Share (%)")],
              formats={"placements": "{:,}", "share": "{:.1%}"},
              click_dim="host_sector", family="programmes", height=360),
]
register_charts(PAGE, SPECS)


def layout(lang: str | None = None, **query: str) -> html.Div:
    """Page filter (programme), chips and the chart grid."""
    lang = norm_lang(lang) if lang else current_lang()
    f = global_filters("?" + "&".join(f"{k}={v}" for k, v in query.items()))
    chosen = list(f.extra.get("programme", ()))
    controls = dbc.Row([
        page_filter(PAGE, "programme", label=t("Programme", lang),
                    options=[{"label": vocab.label(vocab.PROGRAMMES, p.code, lang),
                              "value": p.code} for p in vocab.PROGRAMMES],
                    value=chosen, placeholder=t("All programmes", lang)),
    ], className="g-2 mb-2")
    return html.Div([
        html.Div([html.H1(t("Programmes", lang), className="page-title"),
                  html.Span(id={"type": "asof", "page": PAGE}, className="asof")],
                 className="page-head"),
        html.P(t("Vulcanus in Japan, Vulcanus in Europe, Minerva fellowships and training "
                 "missions. Selection rate = selected ÷ applications. Japanese applicants are "
                 "shown by prefecture. Click a bar to filter the other charts by it.", lang),
               className="text-muted small mb-2"),
        controls,
        html.Div(id={"type": "chips", "page": PAGE}, className="mb-2"),
        dbc.Row([chart_card(PAGE, s.key, t(s.title, lang), lang=lang, md=s.md)
                 for s in SPECS]),
    ])
