"""KPI cards: value, change against the comparison period, and a sparkline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import html

from components.formats import NEGATIVE, NEUTRAL, PALETTE, POSITIVE, fmt_signed
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
    spark_labels: Sequence[str] = ()  # formatted values for the tooltip / alt text
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


def sparkline_svg(x: Sequence[object], y: Sequence[float | None],
                  color: str = PALETTE[0]) -> str:
    """A tiny inline SVG line (as a data URI): no plotting library needed on the overview."""
    pts = [(i, v) for i, v in enumerate(y) if v is not None]
    if not pts:
        return ""
    lo = min(v for _, v in pts)
    hi = max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(y) - 1, 1)
    coords = [(4 + 192 * i / n, 44 - 40 * (v - lo) / span) for i, v in pts]
    path = "M" + " L".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
    lx, ly = coords[-1]
    svg = ("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 200 48' "
           "preserveAspectRatio='none'>"
           f"<path d='{path}' fill='none' stroke='{color}' stroke-width='2' "
           "vector-effect='non-scaling-stroke' stroke-linejoin='round'/>"
           f"<path d='M{lx:.1f},{ly:.1f} l0,0' stroke='{color}' stroke-width='6' "
           "stroke-linecap='round' vector-effect='non-scaling-stroke'/></svg>")
    return "data:image/svg+xml;utf8," + quote(svg)


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
    src = sparkline_svg(view.spark_x, view.spark_y)
    described = ", ".join(f"{x}: {v}" for x, v in zip(view.spark_x, view.spark_labels or
                                                       view.spark_y, strict=False))
    alt = f"{t('Trend over the selected years', lang)}: {described}"
    spark = (html.Img(src=src, className="kpi-spark", alt=alt, title=described)
             if src else html.Div(className="kpi-spark"))
    return dbc.Card(dbc.CardBody([
        html.Div(view.title, className="kpi-title"),
        html.Div(t("No data", lang) if no_data else view.value_text, className="kpi-value",
                 **{"data-kpi": view.key}),
        html.Div([html.Span(view.period_text, className="kpi-period"), " ", delta]),
        spark,
        html.Div(view.note, className="kpi-note") if view.note else None,
    ]), className="kpi-card h-100 shadow-sm",
        id={"type": "kpi-card", "index": view.key})
