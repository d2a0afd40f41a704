"""Figure builders of the Research participation page (pure: DataFrame + labels in, figure out).

Category codes go into `customdata` (first item) so a click can filter the page by them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from components.charts import FigureContext, base_layout
from components.fastfig import fast_figure, merge_axes, merge_layout, ordered, trace
from components.formats import PALETTE
from components.i18n import t

Label = Callable[[str], str]

# (column, English name) of the three counts drawn per year and per framework.
COUNTS: tuple[tuple[str, str], ...] = (
    ("participations", "Participations"),
    ("organisations", "Organisations"),
    ("projects", "Projects"),
)


def _ident(code: str) -> str:
    return code


def wrap(text: str, width: int = 24) -> str:
    """Break a long category label onto lines of about `width` characters (<br>)."""
    return "<br>".join(textwrap.wrap(text, width)) or text


def _t(lang: str) -> Callable[[str], str]:
    return lambda s: t(s, lang)


def per_year(df: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """Japanese participations, distinct organisations and projects per start year (lines)."""
    tr = _t(ctx.lang)
    traces = []
    for i, (col, name) in enumerate(COUNTS):
        traces.append(trace("scatter",
            x=df["year"], y=df[col], name=tr(name), mode="lines+markers",
            line={"color": PALETTE[i], "width": 2.5}, marker={"size": 6},
            hovertemplate=f"{tr(name)}<br>%{{x}}: %{{y:,.0f}}<extra></extra>"))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=tr("Year of project start"), y_title=tr("Number"))
    merge_axes(fig, "y", {"rangemode": "tozero"})
    merge_axes(fig, "x", {"dtick": 1})
    return fig


def framework_comparison(df: pd.DataFrame, ctx: FigureContext, *,
                         framework_label: Label = _ident) -> go.Figure:
    """Horizon 2020 against Horizon Europe: the three counts side by side per framework."""
    tr = _t(ctx.lang)
    names = [framework_label(f) for f in df["framework"]]
    codes = list(df["framework"])
    traces = []
    for i, (col, name) in enumerate(COUNTS):
        cd = [[c, e] for c, e in zip(codes, df["ec_contribution"], strict=True)]
        traces.append(trace("bar",
            x=names, y=df[col], name=tr(name), marker={"color": PALETTE[i]}, customdata=cd,
            text=[f"{int(v):,}" for v in df[col]], textposition="outside", cliponaxis=False,
            hovertemplate=(f"%{{x}}<br>{tr(name)}: %{{y:,.0f}}<br>"
                           f"{tr('EU contribution')}: €%{{customdata[1]:,.0f}}<extra></extra>")))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=tr("Framework programme"), y_title=tr("Number"))
    merge_layout(fig, {"barmode": "group"})
    # headroom for the value labels above the bars (below the legend)
    top = max([float(df[c].max()) for c, _ in COUNTS if len(df)] + [1.0])
    merge_axes(fig, "y", {"range": [0, top * 1.18]})
    return fig


def contribution_per_year(df: pd.DataFrame, ctx: FigureContext, *,
                          framework_label: Label = _ident) -> go.Figure:
    """EU contribution to Japanese participants per start year, stacked by framework."""
    tr = _t(ctx.lang)
    traces = []
    for i, (fw, g) in enumerate(df.groupby("framework", sort=True)):
        name = framework_label(fw)
        cd = [[fw, f, p] for f, p in zip(g["funded"], g["participations"], strict=True)]
        traces.append(trace("bar",
            x=g["year"], y=g["ec_contribution"], name=name, customdata=cd,
            marker={"color": PALETTE[i % len(PALETTE)]},
            hovertemplate=(f"{name}<br>%{{x}}: €%{{y:,.0f}}<br>"
                           f"{tr('funded participations')}: %{{customdata[1]:,.0f}} / "
                           "%{customdata[2]:,.0f}<extra></extra>")))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=tr("Year of project start"),
                y_title=tr("EU contribution (EUR)"))
    merge_layout(fig, {"barmode": "stack"})
    merge_axes(fig, "y", {"tickprefix": "€", "rangemode": "tozero"})
    merge_axes(fig, "x", {"dtick": 1})
    return fig


def breakdown(df: pd.DataFrame, ctx: FigureContext, *, category: str, label: Label = _ident,
              category_title: str = "", color_index: int = 0,
              wrap_width: int = 24) -> go.Figure:
    """Horizontal bars of participations per category (largest on top), details on hover."""
    tr = _t(ctx.lang)
    d = ordered(df, "participations", category, most_first=False)
    # Wrapped labels keep the left margin narrow, so the plot (and its source line) keep room
    cats = [wrap(label(c), wrap_width) for c in d[category]]
    row_px = 32 if any("<br>" in c for c in cats) else 24
    cd = [[c, o, p, e] for c, o, p, e in zip(d[category], d["organisations"], d["projects"],
                                              d["ec_contribution"], strict=True)]
    fig = fast_figure([trace("bar",
        y=cats, x=d["participations"], orientation="h", customdata=cd,
        marker={"color": PALETTE[color_index % len(PALETTE)]},
        hovertemplate=(f"%{{y}}<br>{tr('Participations')}: %{{x:,.0f}}<br>"
                       f"{tr('Organisations')}: %{{customdata[1]:,.0f}} · "
                       f"{tr('Projects')}: %{{customdata[2]:,.0f}}<br>"
                       f"{tr('EU contribution')}: €%{{customdata[3]:,.0f}}<extra></extra>"))])
    base_layout(fig, ctx, x_title=tr("Participations (number)"),
                y_title=category_title, legend=False)
    return merge_layout(fig, {"height": max(ctx.height, 120 + row_px * len(cats))})
