"""Generic figure builders (pure): tidy DataFrame + column names in, styled go.Figure out.

Category charts put the category *code* in `customdata`, so a click can filter by it.
Traces are written as plain dicts and the figure is built without plotly's per-property
validation (`components.fastfig`): the same figure as `go.Bar(...)` & co. would give, in a
fraction of the time, since building figures is most of a page callback's cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components.charts import FigureContext, base_layout
from components.fastfig import fast_figure, merge_axes, merge_layout
from components.formats import PALETTE


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _arr(values: Any) -> Any:
    """A column as plotly stores it after validation: numbers and dates as numpy arrays
    (sent as typed arrays / ISO strings), anything else as a list."""
    if isinstance(values, (pd.Series, pd.Index)):
        kind = values.dtype.kind
        if kind in "biufM":
            return np.ascontiguousarray(values.to_numpy())
        return values.tolist()
    return list(values)


def _groups(df: pd.DataFrame, by: str) -> list[tuple[Any, pd.DataFrame]]:
    """(value, rows) per value of `by`, in order of first appearance (groupby sort=False)."""
    return list(df.groupby(by, sort=False))


def _year_axis(fig: go.Figure, values: pd.Series) -> None:
    """Whole years on an integer x axis: no '2,019.5' ticks when only a few years show."""
    if len(values) and values.dtype.kind in "iu":
        span = int(values.max()) - int(values.min())
        merge_axes(fig, "x", {"tickformat": "d", "separatethousands": False,
                              **({"dtick": 1} if span <= 15 else {})})


def line_chart(df: pd.DataFrame, ctx: FigureContext, *, x: str, y: str,
               series: str | None = None, series_label: Callable[[str], str] = str,
               x_title: str, y_title: str, hover: str = "%{y:,.0f}",
               y_percent: bool = False, markers: bool = True) -> go.Figure:
    """One line per value of `series` (or a single line)."""
    groups = [(None, df)] if series is None else _groups(df, series)
    traces = []
    for i, (name, g) in enumerate(groups):
        label = series_label(name) if name is not None else y_title
        traces.append({"type": "scatter", "x": _arr(g[x]), "y": _arr(g[y]), "name": label,
                       "mode": "lines+markers" if markers else "lines",
                       "line": {"color": _color(i), "width": 2.5}, "marker": {"size": 6},
                       "hovertemplate": f"{label}<br>%{{x}}: {hover}<extra></extra>"})
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=x_title, y_title=y_title, legend=series is not None)
    _year_axis(fig, df[x])
    if y_percent:
        merge_axes(fig, "y", {"tickformat": ".0%", "rangemode": "tozero"})
    else:
        merge_axes(fig, "y", {"rangemode": "tozero"})
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
        tr = {"type": "bar", "y": cats, "x": _arr(d[value]), "orientation": "h",
              "customdata": codes, "marker": {"color": _color(color_index)},
              "hovertemplate": f"%{{y}}: {hv}<extra></extra>"}
    else:
        tr = {"type": "bar", "x": cats, "y": _arr(d[value]), "customdata": codes,
              "marker": {"color": _color(color_index)},
              "hovertemplate": f"%{{x}}: {hv}<extra></extra>"}
    fig = fast_figure([tr])
    if horizontal:
        base_layout(fig, ctx, x_title=value_title, y_title=category_title, legend=False)
        merge_layout(fig, {"height": max(ctx.height, 90 + 22 * len(cats))})
        if percent:
            merge_axes(fig, "x", {"tickformat": ".0%"})
    else:
        base_layout(fig, ctx, x_title=category_title, y_title=value_title, legend=False)
        if percent:
            merge_axes(fig, "y", {"tickformat": ".0%"})
    return fig


def grouped_bars(df: pd.DataFrame, ctx: FigureContext, *, x: str, series: Sequence[str],
                 names: Sequence[str], x_title: str, y_title: str, stacked: bool = False,
                 hover: str = "%{y:,.0f}", customdata: str | None = None) -> go.Figure:
    """Several value columns as grouped (or stacked) bars over `x`."""
    traces = []
    for i, (col, name) in enumerate(zip(series, names, strict=True)):
        tr = {"type": "bar", "x": _arr(df[x]), "y": _arr(df[col]), "name": name,
              "marker": {"color": _color(i)},
              "hovertemplate": f"{name}<br>%{{x}}: {hover}<extra></extra>"}
        if customdata:
            tr["customdata"] = list(df[customdata])
        traces.append(tr)
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    _year_axis(fig, df[x])
    merge_layout(fig, {"barmode": "stack" if stacked else "group"})
    return fig


def stacked_by(df: pd.DataFrame, ctx: FigureContext, *, x: str, stack: str, value: str,
               label: Callable[[str], str] = str, x_title: str, y_title: str,
               hover: str = "%{y:,.0f}", percent: bool = False) -> go.Figure:
    """Stacked bars of `value` over `x`, one colour per value of `stack` (code in customdata)."""
    traces = []
    for i, (code, g) in enumerate(_groups(df, stack)):
        name = label(code)
        traces.append({"type": "bar", "x": _arr(g[x]), "y": _arr(g[value]), "name": name,
                       "marker": {"color": _color(i)}, "customdata": [code] * len(g),
                       "hovertemplate": f"{name}<br>%{{x}}: {hover}<extra></extra>"})
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    _year_axis(fig, df[x])
    merge_layout(fig, {"barmode": "stack"})
    if percent:
        merge_axes(fig, "y", {"tickformat": ".0%"})
    return fig


def _pivot_first(df: pd.DataFrame, index: str, columns: str,
                 value: str) -> tuple[list[Any], list[Any], np.ndarray]:
    """Like `pivot_table(aggfunc="first", sort=False)`: rows and columns in order of first
    appearance, NaN where a cell is missing."""
    rows = list(pd.unique(df[index]))
    cols = list(pd.unique(df[columns]))
    ri = {r: i for i, r in enumerate(rows)}
    ci = {c: j for j, c in enumerate(cols)}
    z = np.full((len(rows), len(cols)), np.nan)
    seen = np.zeros_like(z, dtype=bool)
    for r, c, v in zip(df[index], df[columns], df[value], strict=True):
        i, j = ri[r], ci[c]
        if not seen[i, j] and not pd.isna(v):  # pivot_table's "first" skips missing values
            z[i, j] = v
            seen[i, j] = True
    return rows, cols, z


def heatmap(df: pd.DataFrame, ctx: FigureContext, *, x: str, y: str, z: str,
            y_label: Callable[[str], str] = str, x_title: str, y_title: str,
            z_title: str, hover: str = "%{z:.1%}", percent: bool = True) -> go.Figure:
    """A year × category heatmap (sequential, colour-blind-safe scale)."""
    rows, cols, zz = _pivot_first(df, y, x, z)
    fig = fast_figure([{
        "type": "heatmap", "z": zz, "x": [str(c) for c in cols],
        "y": [y_label(i) for i in rows], "customdata": [[i] * len(cols) for i in rows],
        "colorscale": [list(p) for p in _CIVIDIS],
        "colorbar": {"title": {"text": z_title}, "tickformat": ".0%" if percent else ",.0f"},
        "hovertemplate": f"%{{y}} · %{{x}}: {hover}<extra></extra>", "xgap": 1, "ygap": 1}])
    base_layout(fig, ctx, x_title=x_title, y_title=y_title, legend=False)
    merge_layout(fig, {"height": max(ctx.height, 110 + 20 * len(rows))})
    merge_axes(fig, "y", {"autorange": "reversed", "separatethousands": False})
    return fig


def _named_scale(name: str) -> list[list[Any]]:
    """A named plotly colour scale as the [[position, colour], ...] list plotly sends."""
    from _plotly_utils.basevalidators import ColorscaleValidator

    return [list(p) for p in ColorscaleValidator("colorscale", "heatmap").validate_coerce(name)]


_CIVIDIS = _named_scale("Cividis")
