"""Figure builders of the Programmes page (pure: DataFrame + labels in, go.Figure out).

Category codes go into customdata (first item) so a click can filter the page by them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.charts import FigureContext, base_layout
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
    """Right-align the source line (on two lines) and put the demo mark under it.

    base_layout starts the source at the left edge of the plot area and the demo mark at its
    right edge: with long category labels or at phone width the two overlap. Stacked at the
    right, they never do.
    """
    # Rewritten as plain dicts: base_layout switches plotly's validation off, and then
    # attribute edits on `fig.layout.annotations[i]` do not reach the serialised figure.
    anns = [dict(a) for a in fig.to_plotly_json()["layout"].get("annotations", ())]
    for a in anns:
        if a.get("yshift") != FOOTER_SOURCE_SHIFT:
            continue
        if a.get("bgcolor") == DEMO_BG:
            a["yshift"] = FOOTER_SOURCE_SHIFT - 32
        elif ctx.source and a.get("text") == ctx.source:
            a.update(text=ctx.source.replace(" · ", "<br>", 1), x=1, xanchor="right",
                     align="right")
    fig.update_layout(annotations=anns)
    margin_b = fig.layout.margin.b or 90
    fig.update_layout(margin={"b": margin_b + (40 if ctx.demo else 14)})
    return fig


def legend_under_title(fig: go.Figure, ctx: FigureContext) -> go.Figure:
    """Put the legend in its own band right under the title and subtitle.

    base_layout anchors a horizontal legend to the top of the plot, where a legend that wraps
    onto several rows (long names, phone widths) climbs over the subtitle. Anchored to the
    container instead, Plotly's automatic margins push the plot down by the legend's height.
    """
    height = fig.layout.height or ctx.height
    fig.update_layout(legend={"orientation": "h", "yref": "container", "xref": "container",
                              "x": 0.01, "xanchor": "left", "y": 1 - TITLE_BLOCK_PX / height,
                              "yanchor": "top", "traceorder": "normal",
                              "font": {"size": 11}})
    return fig


def selection_by_year(df: pd.DataFrame, ctx: FigureContext, *, names: Sequence[str],
                      rate_name: str, x_title: str, y_title: str, rate_title: str,
                      of_word: str = "of") -> go.Figure:
    """Applications, shortlisted and selected as grouped bars per cycle year, with the
    selection rate (selected ÷ applications) as a line on a second y axis."""
    fig = go.Figure()
    years = [str(y) for y in df["year"]]
    for i, (col, name) in enumerate(zip(("applications", "shortlisted", "selected"), names,
                                        strict=True)):
        fig.add_trace(go.Bar(x=years, y=df[col], name=name, marker={"color": PALETTE[i]},
                             hovertemplate=f"{name}<br>%{{x}}: %{{y:,.0f}}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=years, y=df["selection_rate"], name=rate_name, yaxis="y2", mode="lines+markers",
        line={"color": PALETTE[5], "width": 2.5}, marker={"size": 7},
        customdata=list(zip(df["selected"], df["applications"], strict=True)),
        hovertemplate=(f"{rate_name}<br>%{{x}}: %{{y:.1%}} (%{{customdata[0]:,}} {of_word} "
                       "%{customdata[1]:,})<extra></extra>")))
    base_layout(fig, ctx, x_title=x_title, y_title=y_title)
    fig.update_layout(barmode="group", bargap=0.18, margin={"r": 64})
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero")
    top = float(df["selection_rate"].max()) if df["selection_rate"].notna().any() else 0.0
    fig.update_layout(yaxis2={
        "title": {"text": rate_title}, "overlaying": "y", "side": "right", "showgrid": False,
        "tickformat": ".0%", "rangemode": "tozero", "automargin": True,
        # head-room above the highest rate so the line does not sit on the legend
        "range": [0, max(top * 1.15, 0.01)]})
    return tidy_footer(legend_under_title(fig, ctx), ctx)


def applicants_and_selected(df: pd.DataFrame, ctx: FigureContext, *, category: str,
                            label: Callable[[str], str], names: Sequence[str],
                            axis_titles: Sequence[str], rate_word: str = "selected",
                            top: int | None = None) -> go.Figure:
    """Applicants and selected per category as two bar panels sharing the category axis.

    Selected are a few percent of applicants, so one shared value axis would flatten them;
    each panel gets its own scale and the hover gives both counts and the rate.
    `names` are (applicants, selected) for the hover, `axis_titles` the same with units.
    """
    d = df.sort_values(["applications", category], ascending=[False, True])
    if top is not None:
        d = d.head(top)
    d = d.iloc[::-1]  # horizontal bars draw bottom-up: biggest on top
    cats = [wrap_label(label(c)) for c in d[category]]
    cd = [[c, int(a), int(s), float(r)] for c, a, s, r in
          zip(d[category], d["applications"], d["selected"], d["selection_rate"], strict=True)]
    hover = ("<b>%{y}</b><br>" + names[0] + ": %{customdata[1]:,}<br>"
             + names[1] + ": %{customdata[2]:,} (%{customdata[3]:.1%} "
             + rate_word + ")<extra></extra>")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05,
                        column_widths=[0.55, 0.45])
    fig.add_trace(go.Bar(y=cats, x=d["applications"], orientation="h", customdata=cd,
                         name=names[0], marker={"color": PALETTE[0]},
                         hovertemplate=hover), row=1, col=1)
    fig.add_trace(go.Bar(y=cats, x=d["selected"], orientation="h", customdata=cd,
                         name=names[1], marker={"color": PALETTE[2]},
                         hovertemplate=hover), row=1, col=2)
    base_layout(fig, ctx, legend=False)
    # two-line axis titles and few ticks: side by side, each panel is narrow on a phone
    fig.update_xaxes(title_text=wrap_label(axis_titles[0], 12), row=1, col=1)
    fig.update_xaxes(title_text=wrap_label(axis_titles[1], 12), row=1, col=2)
    # short SI ticks (2k) stay horizontal; rotated ones would run into the source line
    fig.update_xaxes(rangemode="tozero", nticks=4, tickformat="~s", tickangle=0)
    fig.update_layout(height=bars_height(cats, ctx), bargap=0.25)
    return tidy_footer(fig, ctx)
