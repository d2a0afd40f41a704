"""Figure builders of the Programmes page (pure: DataFrame + labels in, go.Figure out).

Category codes go into customdata (first item) so a click can filter the page by them.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.charts import FigureContext, base_layout
from components.fastfig import fast_figure, merge_axes, merge_layout, ordered, trace
from components.formats import PALETTE

TITLE_BLOCK_PX = 58  # title + subtitle lines at the top of every figure (see base_layout)
FOOTER_SOURCE_SHIFT = -62  # where base_layout puts the source line and the demo mark
DEMO_BG = "#ffe08a"
LABEL_WIDTH = 22  # characters per line of a category label


def wrap_label(text: str, width: int = LABEL_WIDTH) -> str:
    """Break a long category label onto lines of at most `width` characters ('<br>').

    Long one-line labels push the plot into a sliver on a phone; two short lines do not.
    """
    return "<br>".join(textwrap.wrap(text, width)) if len(text) > width else text


def bars_height(labels: Sequence[str], ctx: FigureContext, *, base: int = 230) -> int:
    """Figure height that gives each horizontal bar room for its (wrapped) label."""
    extra_lines = sum(str(c).count("<br>") for c in labels)
    return max(ctx.height, base + 26 * len(labels) + 14 * extra_lines)


def tidy_footer(fig: go.Figure, ctx: FigureContext) -> go.Figure:
    """Kept for the builders that call it: base_layout now lays the footer out itself
    (source right-aligned on two lines, the demo mark under it), for every page."""
    del ctx
    return fig


def legend_under_title(fig: go.Figure, ctx: FigureContext) -> go.Figure:
    """Put the legend in its own band right under the title and subtitle.

    base_layout anchors a horizontal legend to the top of the plot, where a legend that wraps
    onto several rows (long names, phone widths) climbs over the subtitle. Anchored to the
    container instead, Plotly's automatic margins push the plot down by the legend's height.
    """
    height = fig._layout.get("height") or ctx.height  # noqa: SLF001
    return merge_layout(fig, {"legend": {
        "orientation": "h", "yref": "container", "xref": "container", "x": 0.01,
        "xanchor": "left", "y": 1 - TITLE_BLOCK_PX / height, "yanchor": "top",
        "traceorder": "normal", "font": {"size": 11}}})


def selection_by_year(df: pd.DataFrame, ctx: FigureContext, *, names: Sequence[str],
                      rate_name: str, x_title: str, y_title: str, rate_title: str,
                      of_word: str = "of") -> go.Figure:
    """Applications, shortlisted and selected as grouped bars per cycle year, with the
    selection rate (selected ÷ applications) as a line on a second y axis."""
    traces = []
    years = [str(y) for y in df["year"]]
    for i, (col, name) in enumerate(zip(("applications", "shortlisted", "selected"), names,
                                        strict=True)):
        traces.append(trace("bar", x=years, y=df[col], name=name, marker={"color": PALETTE[i]},
                             hovertemplate=f"{name}<br>%{{x}}: %{{y:,.0f}}<extra></extra>"))
    traces.append(trace("scatter",
        x=years, y=df["selection_rate"], name=rate_name, yaxis="y2", mode="lines+markers",
        line={"color": PALETTE[5], "width": 2.5}, marker={"size": 7},
        customdata=list(zip(df["selected"], df["applications"], strict=True)),
        hovertemplate=(f"{rate_name}<br>%{{x}}: %{{y:.1%}} (%{{customdata[0]:,}} {of_word} "
                       "%{customdata[1]:,})<extra></extra>")))
    fig = fast_figure(traces)
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    merge_layout(fig, {"barmode": "group", "bargap": 0.18, "margin": {"r": 64}})
    merge_axes(fig, "x", {"type": "category"})
    merge_axes(fig, "y", {"rangemode": "tozero"})
    top = float(df["selection_rate"].max()) if df["selection_rate"].notna().any() else 0.0
    merge_layout(fig, {"yaxis2": {
        "title": {"text": rate_title}, "overlaying": "y", "side": "right", "showgrid": False,
        "tickformat": ".0%", "rangemode": "tozero", "automargin": True,
        # head-room above the highest rate so the line does not sit on the legend
        "range": [0, max(top * 1.15, 0.01)]}})
    return tidy_footer(legend_under_title(fig, ctx), ctx)


_PANELS = {k: v for k, v in make_subplots(
    rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05,
    column_widths=[0.55, 0.45]).to_plotly_json()["layout"].items() if k != "template"}


def applicants_and_selected(df: pd.DataFrame, ctx: FigureContext, *, category: str,
                            label: Callable[[str], str], names: Sequence[str],
                            axis_titles: Sequence[str], rate_word: str = "selected",
                            top: int | None = None) -> go.Figure:
    """Applicants and selected per category as two bar panels sharing the category axis.

    Selected are a few percent of applicants, so one shared value axis would flatten them;
    each panel gets its own scale and the hover gives both counts and the rate.
    `names` are (applicants, selected) for the hover, `axis_titles` the same with units.
    """
    d = ordered(df, "applications", category, most_first=True)
    if top is not None:
        d = d.head(top)
    d = d.iloc[::-1]  # horizontal bars draw bottom-up: biggest on top
    cats = [wrap_label(label(c)) for c in d[category]]
    cd = [[c, int(a), int(s), float(r)] for c, a, s, r in
          zip(d[category], d["applications"], d["selected"], d["selection_rate"], strict=True)]
    hover = ("<b>%{y}</b><br>" + names[0] + ": %{customdata[1]:,}<br>"
             + names[1] + ": %{customdata[2]:,} (%{customdata[3]:.1%} "
             + rate_word + ")<extra></extra>")
    # the two panels as make_subplots(rows=1, cols=2, shared_yaxes=True, ...) lays them out
    # (_PANELS), without building a subplot figure for every request
    fig = fast_figure([
        trace("bar", y=cats, x=d["applications"], orientation="h", customdata=cd, name=names[0],
               marker={"color": PALETTE[0]}, hovertemplate=hover, xaxis="x", yaxis="y"),
        trace("bar", y=cats, x=d["selected"], orientation="h", customdata=cd, name=names[1],
               marker={"color": PALETTE[2]}, hovertemplate=hover, xaxis="x2", yaxis="y2")],
        copy.deepcopy(_PANELS))
    base_layout(fig, ctx, legend=False)
    # two-line axis titles and few ticks: side by side, each panel is narrow on a phone
    merge_layout(fig, {"xaxis": {"title": {"text": wrap_label(axis_titles[0], 12)}},
                       "xaxis2": {"title": {"text": wrap_label(axis_titles[1], 12)}}})
    # short SI ticks (2k) stay horizontal; rotated ones would run into the source line
    merge_axes(fig, "x", {"rangemode": "tozero", "nticks": 4, "tickformat": "~s",
                          "tickangle": 0})
    merge_layout(fig, {"height": bars_height(cats, ctx), "bargap": 0.25})
    return tidy_footer(fig, ctx)
