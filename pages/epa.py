"""EPA utilisation: preference utilisation rates by direction, year, member state, product."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.charts import FigureContext, chart_card
from components.figures import bar_chart, grouped_bars, heatmap, line_chart
from components.filters import page_filter
from components.i18n import norm_lang, t
from data_access import vocab
from data_access.queries import epa as q
from pages._charts import ChartSpec, PageState, register_charts, register_dim, vocab_labeller
from pages._state import current_lang, global_filters

PAGE = "epa"
dash.register_page(__name__, path="/epa", name="EPA utilisation", order=5,
                   title="EPA utilisation · EU–Japan Centre")

SECTION_LABEL = {s[0]: f"{s[0]} {s[2]}" for s in vocab.HS_SECTIONS}
# Short names for the heatmap's axis, so it keeps its width on narrow screens.
SECTION_SHORT = {
    "I": "Animal products", "II": "Vegetable products", "III": "Fats & oils",
    "IV": "Foodstuffs & drinks", "V": "Mineral products", "VI": "Chemicals",
    "VII": "Plastics & rubber", "VIII": "Leather", "IX": "Wood", "X": "Paper",
    "XI": "Textiles", "XII": "Footwear", "XIII": "Stone & glass", "XIV": "Precious metals",
    "XV": "Base metals", "XVI": "Machinery", "XVII": "Vehicles", "XVIII": "Instruments",
    "XIX": "Arms", "XX": "Miscellaneous", "XXI": "Art",
}
SECTION_LABEL_JA = {s[0]: f"{s[0]} {s[3]}" for s in vocab.HS_SECTIONS}
register_dim("direction", "Direction", vocab_labeller(vocab.DIRECTIONS))
register_dim("member_state", "Member state", vocab_labeller(vocab.EU_MEMBER_STATES))
register_dim("hs_section", "Product group",
             lambda c, lang: (SECTION_LABEL_JA if lang == "ja" else SECTION_LABEL).get(c, c))


def _args(s: PageState) -> dict:
    return {"year_from": s.year_from, "year_to": s.year_to, "sectors": list(s.sectors),
            "directions": list(s.values("direction")),
            "member_states": list(s.values("member_state")),
            "sections": list(s.values("hs_section"))}


def _direction_label(lang: str):  # noqa: ANN202
    return lambda c: vocab.label(vocab.DIRECTIONS, c, lang)


def fig_pur_trend(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Utilisation rate per year, one line per direction."""
    return line_chart(df, ctx, x="year", y="pur", series="direction",
                      series_label=_direction_label(ctx.lang), x_title=t("Year", ctx.lang),
                      y_title=t("Preference utilisation rate (%)", ctx.lang),
                      hover="%{y:.1%}", y_percent=True)


def fig_by_ms(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Utilisation rate per member state, sorted."""
    return bar_chart(df, ctx, category="member_state", value="pur",
                     label=lambda c: vocab.label(vocab.EU_MEMBER_STATES, c, ctx.lang),
                     value_title=t("Preference utilisation rate (%)", ctx.lang),
                     hover="%{x:.1%}", percent=True)


def fig_heatmap(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Year × HS section heatmap of utilisation rates."""
    if ctx.lang == "ja":
        short = SECTION_LABEL_JA
    else:
        short = {c: f"{c} {n}" for c, n in SECTION_SHORT.items()}
    return heatmap(df, ctx, x="year", y="hs_section", z="pur",
                   y_label=lambda c: short.get(c, c), x_title=t("Year", ctx.lang),
                   y_title=t("HS section", ctx.lang), z_title="PUR")


def fig_values(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Eligible against preferential imports, EUR bn, per year (both directions summed)."""
    d = df.groupby("year", as_index=False)[["eligible_eur", "preferential_eur"]].sum()
    # billions for the whole trade, millions when filters leave small values (no "6µ" ticks)
    big = d["eligible_eur"].max() >= 1e9
    scale, unit, suffix = (1e9, "EUR billion", "bn") if big else (1e6, "EUR million", "M")
    d["eligible_v"] = d["eligible_eur"] / scale
    d["preferential_v"] = d["preferential_eur"] / scale
    return grouped_bars(d, ctx, x="year", series=["eligible_v", "preferential_v"],
                        names=[t("Eligible imports", ctx.lang),
                               t("Imports using the preference", ctx.lang)],
                        x_title=t("Year", ctx.lang), y_title=t(unit, ctx.lang),
                        hover="€%{y:,.1f}" + suffix)


SPECS = [
    ChartSpec(PAGE, "pur-by-year", "Preference utilisation rate by year", q.pur_by_year, _args,
              fig_pur_trend, [("year", "Year"), ("direction", "Direction"),
                              ("pur", "Utilisation rate (%)"),
                              ("eligible_eur", "Eligible imports (EUR)"),
                              ("preferential_eur", "Preferential imports (EUR)")],
              formats={"pur": "{:.1%}", "eligible_eur": "{:,.0f}",
                       "preferential_eur": "{:,.0f}"},
              click_dim="direction", family="epa"),
    ChartSpec(PAGE, "values-by-year", "Eligible and preferential imports by year",
              q.pur_by_year, _args, fig_values,
              [("year", "Year"), ("direction", "Direction"),
               ("eligible_eur", "Eligible imports (EUR)"),
               ("preferential_eur", "Preferential imports (EUR)")],
              formats={"eligible_eur": "{:,.0f}", "preferential_eur": "{:,.0f}"},
              family="epa"),
    ChartSpec(PAGE, "pur-by-member-state", "Preference utilisation rate by member state",
              q.pur_by_member_state, _args, fig_by_ms,
              [("member_state", "Member state"), ("pur", "Utilisation rate (%)"),
               ("eligible_eur", "Eligible imports (EUR)"),
               ("preferential_eur", "Preferential imports (EUR)")],
              formats={"pur": "{:.1%}", "eligible_eur": "{:,.0f}",
                       "preferential_eur": "{:,.0f}"},
              click_dim="member_state", family="epa", height=560),
    ChartSpec(PAGE, "pur-heatmap", "Preference utilisation rate by product group and year",
              q.pur_by_year_section, _args, fig_heatmap,
              [("year", "Year"), ("hs_section", "HS section"), ("pur", "Utilisation rate (%)"),
               ("eligible_eur", "Eligible imports (EUR)"),
               ("preferential_eur", "Preferential imports (EUR)")],
              formats={"pur": "{:.1%}", "eligible_eur": "{:,.0f}",
                       "preferential_eur": "{:,.0f}"},
              click_dim="hs_section", family="epa", height=560),
]
register_charts(PAGE, SPECS)


def _options(terms, lang: str) -> list[dict]:  # noqa: ANN001
    return [{"label": vocab.label(terms, x.code, lang), "value": x.code} for x in terms]


def layout(lang: str | None = None, **query: str) -> html.Div:
    """Page filters (direction, member state, product group), chips and the chart grid."""
    lang = norm_lang(lang) if lang else current_lang()
    f = global_filters("?" + "&".join(f"{k}={v}" for k, v in query.items()))
    sel = {k: list(v) for k, v in f.extra.items()}
    section_opts = [{"label": (SECTION_LABEL_JA if lang == "ja" else SECTION_LABEL)[c],
                     "value": c} for c in vocab.HS_SECTION_CODES]
    controls = dbc.Row([
        page_filter(PAGE, "direction", label=t("Direction", lang),
                    options=_options(vocab.DIRECTIONS, lang), value=sel.get("direction", []),
                    placeholder=t("Both directions", lang), md=4),
        page_filter(PAGE, "member_state", label=t("Member state", lang),
                    options=_options(vocab.EU_MEMBER_STATES, lang),
                    value=sel.get("member_state", []),
                    placeholder=t("All member states", lang), md=4),
        page_filter(PAGE, "hs_section", label=t("Product group", lang), options=section_opts,
                    value=sel.get("hs_section", []),
                    placeholder=t("All product groups", lang), md=4),
    ], className="g-2 mb-2")
    return html.Div([
        html.Div([html.H1(t("EPA utilisation", lang), className="page-title"),
                  html.Span(id={"type": "asof", "page": PAGE}, className="asof")],
                 className="page-head"),
        html.P(t("Preference utilisation rate = imports that used the EPA preference ÷ imports "
                 "eligible for it.", lang), className="text-muted small mb-2"),
        controls,
        html.Div(id={"type": "chips", "page": PAGE}, className="mb-2"),
        dbc.Row([chart_card(PAGE, s.key, t(s.title, lang), lang=lang, md=s.md)
                 for s in SPECS]),
    ])
