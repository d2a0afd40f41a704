"""KPI cards: value, change against the comparison period, and a sparkline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from components.formats import FONT_FAMILY, NEGATIVE, NEUTRAL, PALETTE, POSITIVE, fmt_signed
from components.i18n import t


@dataclass(frozen=True)
class KpiView:
    """Everything a KPI card shows, already computed and formatted by the caller."""

    key: str
    title: str
    value_text: str
    period_text: str
    delta_text: str | None = None
    delta_sign: int = 0  # +1 up, -1 down, 0 flat/unknown
    good_when_up: bool = True
    spark_x: Sequence[object] = ()
    spark_y: Sequence[float | None] = ()
    spark_hover: str = "%{x}: %{y}<extra></extra>"
    note: str | None = None


def delta_texts(current: float | None, previous: float | None, *, kind: str,
                lang: str = "en") -> tuple[str | None, int]:
    """Format a change: counts as '+12 (+4.1%)', rates as '+2.3 pp', days as '−1 days'."""
    if current is None or previous is None:
        return None, 0
    diff = current - previous
    sign = (diff > 0) - (diff < 0)
    if kind == "rate":
        return f"{fmt_signed(diff * 100, 1)} {t('pp', lang)}", sign
    if kind == "days":
        return f"{fmt_signed(diff, 1)} {t('days', lang)}", sign
    pct = f" ({fmt_signed(diff / previous * 100, 1, '%')})" if previous else ""
    return f"{fmt_signed(diff, 0)}{pct}", sign


def sparkline(x: Sequence[object], y: Sequence[float | None], hover: str) -> go.Figure:
    """A tiny line chart without axes, for a KPI card."""
    fig = go.Figure(go.Scatter(x=list(x), y=list(y), mode="lines+markers",
                               line={"color": PALETTE[0], "width": 2},
                               marker={"size": 4}, hovertemplate=hover, connectgaps=False))
    fig.update_layout(margin={"l": 2, "r": 2, "t": 2, "b": 2}, height=48,
                      xaxis={"visible": False}, yaxis={"visible": False},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      showlegend=False, font={"family": FONT_FAMILY})
    return fig


def kpi_card(view: KpiView, lang: str = "en") -> dbc.Card:
    """One KPI card; shows 'No data' when the value is missing, never an error."""
    no_data = view.value_text in ("", "–")
    if view.delta_text is None or no_data:
        delta = html.Span(t("No data", lang) if no_data else "",
                          className="kpi-delta text-muted")
    else:
        good = (view.delta_sign > 0) == view.good_when_up
        color = NEUTRAL if view.delta_sign == 0 else (POSITIVE if good else NEGATIVE)
        arrow = {1: "▲", -1: "▼", 0: "■"}[view.delta_sign]
        delta = html.Span([html.Span(arrow, **{"aria-hidden": "true"}), " ",
                           view.delta_text], className="kpi-delta", style={"color": color})
    spark = (dcc.Graph(figure=sparkline(view.spark_x, view.spark_y, view.spark_hover),
                       config={"displayModeBar": False, "staticPlot": False},
                       className="kpi-spark", style={"height": "48px"})
             if any(v is not None for v in view.spark_y) else html.Div(className="kpi-spark"))
    return dbc.Card(dbc.CardBody([
        html.Div(view.title, className="kpi-title"),
        html.Div(t("No data", lang) if no_data else view.value_text, className="kpi-value",
                 **{"data-kpi": view.key}),
        html.Div([html.Span(view.period_text, className="kpi-period"), " ", delta]),
        spark,
        html.Div(view.note, className="kpi-note") if view.note else None,
    ]), className="kpi-card h-100 shadow-sm",
        id={"type": "kpi-card", "index": view.key})
