"""Generic figure builders (pure): tidy DataFrame + column names in, styled go.Figure out.

Category charts put the category *code* in `customdata`, so a click can filter by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go

from components.charts import FigureContext, base_layout
from components.formats import PALETTE


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def line_chart(df: pd.DataFrame, ctx: FigureContext, *, x: str, y: str,
               series: str | None = None, series_label: Callable[[str], str] = str,
               x_title: str, y_title: str, hover: str = "%{y:,.0f}",
               y_percent: bool = False, markers: bool = True) -> go.Figure:
    """One line per value of `series` (or a single line)."""
    fig = go.Figure()
    groups = [(None, df)] if series is None else list(df.groupby(series, sort=False))
    for i, (name, g) in enumerate(groups):
        label = series_label(name) if name is not None else y_title
        fig.add_trace(go.Scatter(
            x=g[x], y=g[y], name=label, mode="lines+markers" if markers else "lines",
            line={"color": _color(i), "width": 2.5}, marker={"size": 6},
            hovertemplate=f"{label}<br>%{{x}}: {hover}<extra></extra>"))
    base_layout(fig, ctx, x_title=x_title, y_title=y_title, legend=series is not None)
    if y_percent:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    else:
        fig.update_yaxes(rangemode="tozero")
    return fig


def bar_chart(df: pd.DataFrame, ctx: FigureContext, *, category: str, value: str,
              code: str | None = None, label: Callable[[str], str] = str,
              value_title: str, category_title: str = "", horizontal: bool = True,
              hover: str = "%{x:,.0f}", percent: bool = False, color_index: int = 0,
              sort: bool = True) -> go.Figure:
    """Bars per category; `code` (default: `category`) goes into customdata for clicks."""
    d = df.sort_values(value, ascending=horizontal) if sort else df
    cats = [label(c) for c in d[category]]
    codes = list(d[code or category])
    hv = hover if horizontal else hover.replace("%{x", "%{y")
    if horizontal:
        tr = go.Bar(y=cats, x=d[value], orientation="h", customdata=codes,
                    marker={"color": _color(color_index)},
                    hovertemplate=f"%{{y}}: {hv}<extra></extra>")
    else:
        tr = go.Bar(x=cats, y=d[value], customdata=codes, marker={"color": _color(color_index)},
                    hovertemplate=f"%{{x}}: {hv}<extra></extra>")
    fig = go.Figure(tr)
    if horizontal:
        base_layout(fig, ctx, x_title=value_title, y_title=category_title, legend=False)
        fig.update_layout(height=max(ctx.height, 90 + 22 * len(cats)))
        if percent:
            fig.update_xaxes(tickformat=".0%")
    else:
        base_layout(fig, ctx, x_title=category_title, y_title=value_title, legend=False)
        if percent:
            fig.update_yaxes(tickformat=".0%")
    return fig


def grouped_bars(df: pd.DataFrame, ctx: FigureContext, *, x: str, series: Sequence[str],
                 names: Sequence[str], x_title: str, y_title: str, stacked: bool = False,
                 hover: str = "%{y:,.0f}", customdata: str | None = None) -> go.Figure:
    """Several value columns as grouped (or stacked) bars over `x`."""
    fig = go.Figure()
    for i, (col, name) in enumerate(zip(series, names, strict=True)):
        fig.add_trace(go.Bar(x=df[x], y=df[col], name=name, marker={"color": _color(i)},
                             customdata=list(df[customdata]) if customdata else None,
                             hovertemplate=f"{name}<br>%{{x}}: {hover}<extra></extra>"))
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    fig.update_layout(barmode="stack" if stacked else "group")
    return fig


def stacked_by(df: pd.DataFrame, ctx: FigureContext, *, x: str, stack: str, value: str,
               label: Callable[[str], str] = str, x_title: str, y_title: str,
               hover: str = "%{y:,.0f}", percent: bool = False) -> go.Figure:
    """Stacked bars of `value` over `x`, one colour per value of `stack` (code in customdata)."""
    fig = go.Figure()
    for i, (code, g) in enumerate(df.groupby(stack, sort=False)):
        name = label(code)
        fig.add_trace(go.Bar(x=g[x], y=g[value], name=name, marker={"color": _color(i)},
                             customdata=[code] * len(g),
                             hovertemplate=f"{name}<br>%{{x}}: {hover}<extra></extra>"))
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    fig.update_layout(barmode="stack")
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return fig


def heatmap(df: pd.DataFrame, ctx: FigureContext, *, x: str, y: str, z: str,
            y_label: Callable[[str], str] = str, x_title: str, y_title: str,
            z_title: str, hover: str = "%{z:.1%}", percent: bool = True) -> go.Figure:
    """A year × category heatmap (sequential, colour-blind-safe scale)."""
    piv = df.pivot_table(index=y, columns=x, values=z, aggfunc="first", sort=False)
    fig = go.Figure(go.Heatmap(
        z=piv.to_numpy(), x=[str(c) for c in piv.columns], y=[y_label(i) for i in piv.index],
        customdata=[[i] * len(piv.columns) for i in piv.index],
        colorscale="Cividis", colorbar={"title": {"text": z_title},
                                        "tickformat": ".0%" if percent else ",.0f"},
        hovertemplate=f"%{{y}} · %{{x}}: {hover}<extra></extra>", xgap=1, ygap=1))
    base_layout(fig, ctx, x_title=x_title, y_title=y_title, legend=False)
    fig.update_layout(height=max(ctx.height, 110 + 20 * len(piv.index)))
    fig.update_yaxes(autorange="reversed", separatethousands=False)
    return fig
