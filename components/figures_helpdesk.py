"""Figure builders of the Help desks page (pure: DataFrame + labels in, go.Figure out).

Category codes go into customdata (first item) so a click can filter the page by them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from components.charts import FigureContext, base_layout
from components.fastfig import fast_figure, merge_axes, merge_layout, trace
from components.figures_programmes import (
    bars_height,
    legend_under_title,
    tidy_footer,
    wrap_label,
)
from components.formats import NEGATIVE, NEUTRAL, PALETTE, POSITIVE, fmt_signed


def monthly_stacked(df: pd.DataFrame, ctx: FigureContext, *, x: str, stack: str, value: str,
                    label: Callable[[str], str], x_title: str, y_title: str,
                    order: Sequence[str] = (), marker: tuple[dt.date, str] | None = None,
                    unit: str = "") -> go.Figure:
    """Stacked bars per month, one colour per `stack` value, with an optional dated marker
    (a vertical line and its label) drawn when the date lies within the months shown."""
    stacks = df[stack].to_numpy(dtype=object)
    xs, ys = df[x].to_numpy(), df[value].to_numpy()
    present = list(dict.fromkeys(stacks.tolist()))
    codes = [c for c in order if c in present] + [c for c in present if c not in order]
    traces = []
    for i, code in enumerate(codes):
        rows = stacks == code
        name = label(code)
        # (no outline: a month is a few pixels wide, and plotly styles each bar's outline
        # on every redraw; the colours alone tell the desks apart)
        traces.append(trace("bar", x=xs[rows], y=ys[rows], name=name,
                            marker={"color": PALETTE[i], "line": {"width": 0}},
                            customdata=[code] * int(rows.sum()),
                            hovertemplate=f"{name}<br>%{{x|%b %Y}}: %{{y:,.0f}} {unit}"
                                          "<extra></extra>"))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    merge_layout(fig, {"barmode": "stack", "bargap": 0.08})
    if df.empty:
        return tidy_footer(legend_under_title(fig, ctx), ctx)
    lo, hi = pd.Timestamp(df[x].min()), pd.Timestamp(df[x].max()) + pd.offsets.MonthEnd(0)
    # an explicit range: the marker's label must not stretch the axis past the data
    merge_axes(fig, "x", {"type": "date",
                          "range": [(lo - pd.Timedelta(days=16)).isoformat(),
                                    (hi + pd.Timedelta(days=1)).isoformat()]})
    if marker is not None:
        day, text = marker
        if lo <= pd.Timestamp(day) <= hi:  # (appended as dicts: add_shape validates)
            lay = fig._layout  # noqa: SLF001 - base_layout made the annotations list
            lay.setdefault("shapes", []).append(
                {"type": "line", "x0": day.isoformat(), "x1": day.isoformat(), "xref": "x",
                 "y0": 0, "y1": 1, "yref": "paper",
                 "line": {"color": "#1f2933", "width": 1.5, "dash": "dash"}})
            lay["annotations"].append(
                {"x": day.isoformat(), "y": 1, "xref": "x", "yref": "paper", "text": text,
                 "showarrow": False, "xanchor": "left", "yanchor": "top", "xshift": 4,
                 "font": {"size": 11, "color": "#1f2933"},
                 "bgcolor": "rgba(255,255,255,0.85)"})
    return tidy_footer(legend_under_title(fig, ctx), ctx)


_OTHER = "__other__"


def share_stacked(df: pd.DataFrame, ctx: FigureContext, *, x: str, stack: str, value: str,
                  label: Callable[[str], str], x_title: str, y_title: str, other_label: str,
                  top: int = 7, unit: str = "") -> go.Figure:
    """100% stacked bars: each `stack` value's share of its `x` (e.g. topic share per year).

    The `top` biggest values keep their own palette colour; the rest are summed into one
    grey "other" band (no code in customdata, so clicking it filters nothing), which keeps
    the colours distinguishable and the legend short enough for a phone.
    """
    # (plain Python over a few hundred rows: cheaper than a dozen pandas steps)
    stacks, xs, vals = df[stack].tolist(), df[x].tolist(), df[value].tolist()
    totals: dict[Any, float] = {}  # in order of first appearance
    for code, v in zip(stacks, vals, strict=True):
        totals[code] = totals.get(code, 0) + v
    keep = [c for c, _ in sorted(totals.items(), key=lambda kv: -kv[1])][:top]  # stable
    kept = set(keep)
    cells: dict[tuple[Any, Any], float] = {}
    per_x: dict[Any, float] = {}
    for code, xv, v in zip(stacks, xs, vals, strict=True):
        key = code if code in kept else _OTHER
        cells[key, xv] = cells.get((key, xv), 0) + v
        per_x[xv] = per_x.get(xv, 0) + v
    keys = keep + ([_OTHER] if any(k == _OTHER for k, _ in cells) else [])
    traces = []
    for i, key in enumerate(keys):
        points = sorted((xv, n) for (k, xv), n in cells.items() if k == key)
        code = None if key == _OTHER else key
        name = other_label if code is None else label(code)
        color = NEUTRAL if code is None else PALETTE[i % len(PALETTE)]
        traces.append(trace(
            "bar", x=[str(xv) for xv, _ in points], y=[n / per_x[xv] for xv, n in points],
            name=name, marker={"color": color},
            customdata=[[code, int(n)] for _, n in points],
            hovertemplate=(f"{name}<br>%{{x}}: %{{y:.1%}} (%{{customdata[1]:,}} {unit})"
                           "<extra></extra>")))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    merge_layout(fig, {"barmode": "stack", "bargap": 0.2})
    merge_axes(fig, "x", {"type": "category"})
    merge_axes(fig, "y", {"tickformat": ".0%", "range": [0, 1]})
    return tidy_footer(legend_under_title(fig, ctx), ctx)


def change_bars(df: pd.DataFrame, ctx: FigureContext, *, category: str, value: str,
                previous: str, change: str, label: Callable[[str], str], value_title: str,
                previous_word: str, change_word: str, new_word: str, note: str = "",
                compared: str | None = None, unit: str = "") -> go.Figure:
    """Horizontal bars of `value` per category (biggest on top), each labelled with its change
    against the previous period: '+12%', '−5%', `new_word` when there was nothing before,
    or '–' where the rows' `compared` flag says the period before is not covered by data.
    `note` (which periods are compared) is added under the subtitle."""
    d = df.iloc[::-1]
    cats = [wrap_label(label(c)) for c in d[category]]
    flags = list(d[compared]) if compared else [True] * len(d)
    texts, colors = [], []
    for ch, prev, ok in zip(d[change], d[previous], flags, strict=True):
        if not ok:
            texts.append("–")
            colors.append(NEUTRAL)
        elif ch is None or pd.isna(ch):
            texts.append(new_word if prev == 0 else "–")
            colors.append(NEUTRAL)
        else:
            pct = float(ch) * 100
            # a decimal where rounding to whole percent would print a signed zero
            texts.append(fmt_signed(pct, 1 if 0 < abs(pct) < 0.5 else 0, "%"))
            colors.append(POSITIVE if ch > 0 else NEGATIVE if ch < 0 else NEUTRAL)
    cd = [[c, int(p), t] for c, p, t in zip(d[category], d[previous], texts, strict=True)]
    fig = fast_figure([trace(
        "bar", y=cats, x=d[value], orientation="h", customdata=cd, marker={"color": PALETTE[0]},
        text=texts, textposition="outside", textfont={"color": colors, "size": 12},
        cliponaxis=False,
        hovertemplate=(f"<b>%{{y}}</b><br>%{{x:,.0f}} {unit}<br>{previous_word}: "
                       f"%{{customdata[1]:,}}<br>{change_word}: %{{customdata[2]}}"
                       "<extra></extra>"))])
    if note:
        sub = f"{ctx.subtitle}<br>{note}" if ctx.subtitle else note
        ctx = dataclasses.replace(ctx, subtitle=sub)
    base_layout(fig, ctx, x_title=value_title, legend=False)
    if note:  # more title lines
        merge_layout(fig, {"margin": {"t": 78 + 15 * (note.count("<br>") + 1)}})
    top = float(d[value].max()) if len(d) else 1.0
    # room on the right for the change labels
    merge_axes(fig, "x", {"range": [0, top * 1.22], "nticks": 5})
    merge_layout(fig, {"height": bars_height(cats, ctx, base=250)})
    return tidy_footer(fig, ctx)


def percentile_lines(df: pd.DataFrame, ctx: FigureContext, *, x: str, period: str,
                     lines: Sequence[tuple[str, str]], count: str, count_word: str,
                     x_title: str, y_title: str, unit: str = "") -> go.Figure:
    """One line per (column, name) over `x` (e.g. median and 90th-percentile days), with the
    period label and the number of observations behind each point in the hover."""
    dashes = ("solid", "dash", "dot")
    traces = []
    for i, (col, name) in enumerate(lines):
        traces.append(trace(
            "scatter", x=df[x], y=df[col], name=name, mode="lines+markers",
            line={"color": PALETTE[i], "width": 2.5, "dash": dashes[i % len(dashes)]},
            marker={"size": 5}, customdata=list(zip(df[period], df[count], strict=True)),
            hovertemplate=(f"{name}<br>%{{customdata[0]}}: %{{y:,.0f}} {unit} "
                           f"(%{{customdata[1]:,}} {count_word})<extra></extra>")))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    merge_axes(fig, "x", {"type": "date"})
    merge_axes(fig, "y", {"rangemode": "tozero"})
    return tidy_footer(legend_under_title(fig, ctx), ctx)
