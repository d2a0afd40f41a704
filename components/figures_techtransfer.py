"""Figure builders of the Technology transfer page (pure: DataFrame + labels in, figure out).

Category codes go into `customdata` (first item) so a click can filter the page by them.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from components.charts import FigureContext, base_layout
from components.fastfig import fast_figure, merge_axes, merge_layout, ordered, trace
from components.formats import PALETTE, fmt_int, fmt_pct
from components.i18n import t

Label = Callable[[str], str]


def _ident(code: str) -> str:
    return code


def offers_requests_per_year(df: pd.DataFrame, ctx: FigureContext, *,
                             kind_label: Label = _ident) -> go.Figure:
    """New offers and requests per year as grouped bars, one colour per kind."""
    lang = ctx.lang
    traces = []
    for i, (kind, g) in enumerate(df.groupby("kind", sort=True)):
        name = kind_label(kind)
        traces.append(trace("bar",
            x=g["year"], y=g["new"], name=name, marker={"color": PALETTE[i % len(PALETTE)]},
            hovertemplate=f"{name}<br>%{{x}}: %{{y:,.0f}} {t('published', lang)}"
                          "<extra></extra>"))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=t("Year of publication", lang),
                y_title=t("New offers and requests (number)", lang))
    merge_layout(fig, {"barmode": "group"})
    merge_axes(fig, "x", {"dtick": 1})
    return fig


def offer_stock(df: pd.DataFrame, ctx: FigureContext, *, kind_label: Label = _ident) -> go.Figure:
    """Open offers (published, not withdrawn) at each year end, one line per kind."""
    lang = ctx.lang
    traces = []
    for i, (kind, g) in enumerate(df.groupby("kind", sort=True)):
        name = kind_label(kind)
        traces.append(trace("scatter",
            x=g["year"], y=g["stock"], name=name, mode="lines+markers",
            line={"color": PALETTE[i % len(PALETTE)], "width": 2.5}, marker={"size": 6},
            customdata=list(zip(g["published"], g["withdrawn"], strict=True)),
            hovertemplate=(f"{name}<br>{t('Open at the end of', lang)} %{{x}}: %{{y:,.0f}}<br>"
                           f"{t('published', lang)} %{{customdata[0]:,.0f}} · "
                           f"{t('withdrawn', lang)} %{{customdata[1]:,.0f}}<extra></extra>")))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=t("Year end", lang),
                y_title=t("Open offers and requests (number)", lang))
    merge_axes(fig, "y", {"rangemode": "tozero"})
    merge_axes(fig, "x", {"dtick": 1})
    return fig


def deal_funnel(df: pd.DataFrame, ctx: FigureContext, *,
                stage_label: Label = _ident) -> go.Figure:
    """Deals reaching each stage, with the conversion from the stage before on each bar."""
    lang = ctx.lang
    conv = [("–" if pd.isna(c) else fmt_pct(c, 0)) for c in df["conversion"]]
    share = [fmt_pct(s, 0) for s in df["share"]]
    # short bar text (fits a phone); the words are in the axis title and the hover.
    # A funnel hides its value axis, so the unit goes into the stage axis title.
    text = [fmt_int(n) if c == "–" else f"{fmt_int(n)} · {c}"
            for n, c in zip(df["deals"], conv, strict=True)]
    fig = fast_figure([trace("funnel",
        y=[stage_label(s) for s in df["stage"]], x=df["deals"],
        customdata=[[s, c, sh] for s, c, sh in zip(df["stage"], conv, share, strict=True)],
        text=text, textinfo="text", textposition="auto",
        marker={"color": [PALETTE[i % len(PALETTE)] for i in range(len(df))]},
        connector={"line": {"color": "#9aa5b1", "width": 1}},
        hovertemplate=(f"%{{y}}: %{{x:,.0f}} {t('deals', lang)}<br>"
                       f"{t('Conversion from the previous stage', lang)}: %{{customdata[1]}}<br>"
                       f"{t('Share of the first stage', lang)}: %{{customdata[2]}}"
                       "<extra></extra>"))])
    # two lines: on one, the rotated title is taller than the funnel and runs into the title
    y_title = t("Stage (number of deals · % from the stage before)", lang).replace(" (", "<br>(", 1)
    base_layout(fig, ctx, y_title=y_title,
                legend=False)
    return fig


def deals_breakdown(df: pd.DataFrame, ctx: FigureContext, *, category: str,
                    label: Label = _ident, category_title: str = "",
                    row_px: int = 30) -> go.Figure:
    """Horizontal grouped bars of deals and signed deals per category (largest on top)."""
    lang = ctx.lang
    d = ordered(df, "deals", category, most_first=False)
    cats = [label(c) for c in d[category]]
    codes = list(d[category])
    traces = []
    # Horizontal groups stack their traces bottom-up: add "Signed" first so "Deals" sits on
    # top of each pair, and reverse the legend so it still reads Deals, Signed.
    for col, name, color in (("signed", t("Signed", lang), PALETTE[1]),
                             ("deals", t("Deals", lang), PALETTE[0])):
        traces.append(trace("bar",
            y=cats, x=d[col], name=name, orientation="h", customdata=codes,
            marker={"color": color},
            hovertemplate=f"%{{y}}<br>{name}: %{{x:,.0f}}<extra></extra>"))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=t("Deals (number)", lang), y_title=category_title)
    return merge_layout(fig, {"barmode": "group",
                              "height": max(ctx.height, 120 + row_px * len(cats)),
                              "bargap": 0.25, "bargroupgap": 0.05,
                              "legend": {"traceorder": "reversed"}})
