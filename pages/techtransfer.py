"""Technology transfer: offers and requests, the stock of open offers, the deal funnel and
deals by sector, party country and deal type."""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.charts import FigureContext, chart_card
from components.figures_techtransfer import (
    deal_funnel,
    deals_breakdown,
    offer_stock,
    offers_requests_per_year,
)
from components.filters import page_filter
from components.i18n import norm_lang, t
from data_access import vocab
from data_access.queries import techtransfer as q
from pages._charts import ChartSpec, PageState, register_charts, register_dim, vocab_labeller
from pages._state import global_filters

PAGE = "techtransfer"
dash.register_page(__name__, path="/techtransfer", name="Technology transfer", order=3,
                   nav="Tech transfer",
                   title="Technology transfer · EU–Japan Centre")

JP_REGIONS = vocab.JP_REGIONS + (vocab.Term(q.UNKNOWN_REGION, "Region not given", "地域不明"),)
register_dim("kind", "Offers / requests", vocab_labeller(vocab.TT_KINDS))
register_dim("stage", "Deals that reached", vocab_labeller(vocab.DEAL_STAGES))
register_dim("tt_sector", "Sector", vocab_labeller(vocab.SECTORS))
register_dim("deal_type", "Deal type", vocab_labeller(vocab.DEAL_TYPES))
register_dim("eu_country", "EU member state", vocab_labeller(vocab.EU_MEMBER_STATES))
register_dim("jp_region", "Japanese region", vocab_labeller(JP_REGIONS))


def _sectors(s: PageState) -> list[str]:
    """Global sectors narrowed by a click on the sector chart (nothing when they disagree)."""
    sel = s.selections.get("tt_sector")
    if sel is None:
        return list(s.sectors)
    return [sel] if not s.sectors or sel in s.sectors else ["__none__"]


def _min_stage(s: PageState) -> str | None:
    """The furthest stage asked for by the page filter or a click on the funnel.

    Stages are cumulative (a signed deal passed NDA), so filter and click combine by taking
    the later stage rather than intersecting.
    """
    asked = [x for x in (*s.params.get("stage", ()), s.selections.get("stage"))
             if x in q.STAGES]
    return max(asked, key=q.STAGES.index) if asked else None


def _offer_args(s: PageState) -> dict:
    kinds = [k for k in s.params.get("kind", ()) if k in ("offer", "request")]
    return {"year_from": s.year_from, "year_to": s.year_to, "sectors": _sectors(s),
            "kinds": kinds}


def _deal_args(s: PageState) -> dict:
    return {"year_from": s.year_from, "year_to": s.year_to, "sectors": _sectors(s),
            "min_stage": _min_stage(s), "deal_types": list(s.values("deal_type")),
            "eu_countries": list(s.values("eu_country")),
            "jp_regions": list(s.values("jp_region"))}


def _labeller(terms: tuple[vocab.Term, ...], lang: str):  # noqa: ANN202
    return lambda c: vocab.label(terms, c, lang)


def fig_new(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """New offers and requests per year."""
    return offers_requests_per_year(df, ctx, kind_label=_labeller(vocab.TT_KINDS, ctx.lang))


def fig_stock(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Open offers and requests at each year end."""
    return offer_stock(df, ctx, kind_label=_labeller(vocab.TT_KINDS, ctx.lang))


def fig_funnel(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Deal funnel with stage-to-stage conversion."""
    return deal_funnel(df, ctx, stage_label=_labeller(vocab.DEAL_STAGES, ctx.lang))


def _breakdown(category: str, terms: tuple[vocab.Term, ...], title: str,
               row_px: int = 30):  # noqa: ANN202
    def build(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN202
        return deals_breakdown(df, ctx, category=category, label=_labeller(terms, ctx.lang),
                               category_title=t(title, ctx.lang), row_px=row_px)
    build.__doc__ = f"Deals and signed deals by {title.lower()}."
    return build


DEAL_COLS = [("deals", "Deals (number)"), ("signed", "Signed deals (number)")]
FMT = {"deals": "{:,}", "signed": "{:,}"}
SPECS = [
    ChartSpec(PAGE, "new-per-year", "New technology offers and requests per year",
              q.offers_requests_by_year, _offer_args, fig_new,
              [("year", "Year"), ("kind", "Offer or request"), ("new", "Published (number)")],
              formats={"new": "{:,}"}, family="techtransfer"),
    ChartSpec(PAGE, "stock", "Open offers and requests at each year end",
              q.offer_stock_by_year, _offer_args, fig_stock,
              [("year", "Year end"), ("kind", "Offer or request"),
               ("published", "Published that year (number)"),
               ("withdrawn", "Withdrawn that year (number)"), ("stock", "Open (number)")],
              formats={"published": "{:,}", "withdrawn": "{:,}", "stock": "{:,}"},
              family="techtransfer"),
    ChartSpec(PAGE, "funnel", "Deal funnel: deals reaching each stage", q.deal_funnel,
              _deal_args, fig_funnel,
              [("stage", "Stage"), ("deals", "Deals that reached it (number)"),
               ("conversion", "Conversion from the previous stage (%)"),
               ("share", "Share of the first stage (%)")],
              formats={"deals": "{:,}", "conversion": "{:.1%}", "share": "{:.1%}"},
              # tall enough for its two-line rotated stage-axis title
              click_dim="stage", family="techtransfer", height=430),
    ChartSpec(PAGE, "by-type", "Deals by type", q.deals_by_type, _deal_args,
              _breakdown("deal_type", vocab.DEAL_TYPES, "Deal type"),
              [("deal_type", "Deal type"), *DEAL_COLS], formats=FMT, click_dim="deal_type",
              family="techtransfer"),
    ChartSpec(PAGE, "by-sector", "Deals by sector", q.deals_by_sector, _deal_args,
              _breakdown("sector", vocab.SECTORS, "Sector"),
              [("sector", "Sector"), *DEAL_COLS], formats=FMT, click_dim="tt_sector",
              family="techtransfer", md=12),
    ChartSpec(PAGE, "by-jp-region", "Deals by Japanese party's region", q.deals_by_jp_region,
              _deal_args, _breakdown("jp_region", JP_REGIONS, "Japanese region"),
              [("jp_region", "Japanese region"), *DEAL_COLS], formats=FMT,
              click_dim="jp_region", family="techtransfer", md=12),
    ChartSpec(PAGE, "by-eu-country", "Deals by EU party's member state",
              q.deals_by_eu_country, _deal_args,
              _breakdown("eu_country", vocab.EU_MEMBER_STATES, "EU member state", row_px=26),
              [("eu_country", "EU member state"), *DEAL_COLS], formats=FMT,
              click_dim="eu_country", family="techtransfer"),
]
register_charts(PAGE, SPECS)
_SPEC = {s.key: s for s in SPECS}


def _options(terms: tuple[vocab.Term, ...], lang: str) -> list[dict]:
    return [{"label": vocab.label(terms, x.code, lang), "value": x.code} for x in terms]


def layout(lang: str | None = None, **query: str) -> html.Div:
    """Page filters (offers/requests, deal stage reached), chips and the chart grid."""
    lang = norm_lang(lang)
    f = global_filters("?" + urlencode(query))
    kinds = [k for k in f.extra.get("kind", ()) if k in ("offer", "request")]
    stage = next((s for s in f.extra.get("stage", ()) if s in q.STAGES), None)

    def card(key: str) -> dbc.Col:
        s = _SPEC[key]
        return chart_card(PAGE, s.key, t(s.title, lang), lang=lang, md=s.md)

    controls = dbc.Row([
        page_filter(PAGE, "kind", label=t("Offers / requests", lang),
                    options=_options(vocab.TT_KINDS, lang), value=kinds,
                    placeholder=t("Offers and requests", lang)),
        page_filter(PAGE, "stage", label=t("Deals that reached", lang),
                    options=_options(vocab.DEAL_STAGES, lang), multi=False, value=stage,
                    clearable=True, placeholder=t("Any stage (all deals)", lang)),
    ], className="g-2 mb-2")
    return html.Div([
        html.Div([html.H1(t("Technology transfer", lang), className="page-title"),
                  html.Span(id={"type": "asof", "page": PAGE}, className="asof")],
                 className="page-head"),
        html.P(t("Offers and requests are counted by year of publication, deals by the year "
                 "they were opened. A deal's stage is the furthest it reached, so the funnel "
                 "counts it at every stage it passed. Offer and request charts follow the "
                 "years, sectors and the offers/requests filter; deal charts also follow the "
                 "deal filters and clicks.", lang), className="text-muted small mb-2"),
        controls,
        html.Div(id={"type": "chips", "page": PAGE}, className="mb-2"),
        dbc.Row([
            card("new-per-year"), card("stock"), card("funnel"), card("by-type"),
            card("by-eu-country"),
            # two shorter charts stacked beside the tall member-state chart
            dbc.Col(dbc.Row([card("by-sector"), card("by-jp-region")]), xs=12, lg=6),
        ]),
    ])
