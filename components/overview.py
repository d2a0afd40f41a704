"""Turn the overview's KPI frames into card views (pure; a hand-made DataFrame suffices)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.formats import fmt_int, fmt_num, fmt_pct, is_missing
from components.i18n import t
from components.kpi import KpiView, delta_texts, kpi_card

# key: (title, family heading, kind, good when up, formatter, hover template)
KPI_META: dict[str, tuple[str, str, str, bool]] = {
    "applications": ("Applications received", "Programmes", "count", True),
    "selection_rate": ("Selection rate", "Programmes", "rate", True),
    "enquiries": ("Enquiries received", "Help desks", "count", True),
    "median_days": ("Median days to answer", "Help desks", "days", False),
    "deals_signed": ("Technology deals signed", "Technology transfer", "count", True),
    "participations": ("Japanese Horizon participations", "Research participation", "count",
                       True),
    "pur_eu_jp": ("EPA utilisation EU → JP", "EPA utilisation", "rate", True),
    "pur_jp_eu": ("EPA utilisation JP → EU", "EPA utilisation", "rate", True),
}
FAMILY_PATHS = {"Programmes": "/programmes", "Help desks": "/helpdesks",
                "Technology transfer": "/techtransfer",
                "Research participation": "/research", "EPA utilisation": "/epa"}


def format_value(kind: str, v: float | None) -> str:
    """Format a KPI value by kind (count, rate, days)."""
    if is_missing(v):
        return "–"
    if kind == "rate":
        return fmt_pct(v)
    if kind == "days":
        return f"{fmt_num(v, 0)}"
    return fmt_int(v)


def period_text(row: Mapping[str, Any], as_of: dt.date, lang: str) -> str:
    """'2026 to 25 Nov vs same period 2025', '2025 (latest available) vs 2024', '2024 vs 2023'."""
    y = int(row["year"])
    if row.get("partial"):
        day = f"{as_of.month}/{as_of.day}" if lang == "ja" else f"{as_of.day} {as_of:%b}"
        return t("{y} to {day} vs same period {p}", lang, y=y, day=day, p=y - 1)
    if row.get("latest"):
        return t("{y} (latest available) vs {p}", lang, y=y, p=y - 1)
    return t("{y} vs {p}", lang, y=y, p=y - 1)


def kpi_views(series: pd.DataFrame, headline: pd.DataFrame, *, as_of: dt.date,
              lang: str = "en") -> list[KpiView]:
    """One KpiView per headline row, with the series as sparkline."""
    views = []
    # (one pass over the series, plain rows: pandas filters per KPI cost more than the cards)
    points: dict[str, list[tuple[int, float]]] = {}
    for k, y, v in zip(series["kpi"].tolist(), series["year"].tolist(),
                       series["value"].tolist(), strict=True):
        points.setdefault(k, []).append((y, v))
    for row in headline.to_dict("records"):
        key = row["kpi"]
        title, _family, kind, good_up = KPI_META[key]
        value = None if is_missing(row["value"]) else float(row["value"])
        prev = None if is_missing(row["previous"]) else float(row["previous"])
        delta, sign = delta_texts(value, prev, kind=kind, lang=lang)
        s = sorted(points.get(key, []), key=lambda p: p[0])
        unit = " " + t("days", lang) if kind == "days" else ""
        views.append(KpiView(
            key=key, title=t(title, lang),
            value_text=format_value(kind, value) + (unit if value is not None else ""),
            period_text=period_text(row, as_of, lang), delta_text=delta, delta_sign=sign,
            good_when_up=good_up, spark_x=[y for y, _ in s], spark_y=[v for _, v in s],
            spark_labels=[format_value(kind, v) + unit for _, v in s]))
    return views


def overview_grid(views: list[KpiView], lang: str = "en") -> html.Div:
    """KPI cards grouped by family, each group linking to its page."""
    groups: dict[str, list[KpiView]] = {}
    for v in views:
        groups.setdefault(KPI_META[v.key][1], []).append(v)
    cols = []
    for family, vs in groups.items():
        cols.append(dbc.Col(html.Section([
            html.H2(html.A(t(family, lang), href=FAMILY_PATHS[family],
                           className="family-link"), className="family-title"),
            dbc.Row([dbc.Col(kpi_card(v, lang), xs=6 if len(vs) > 1 else 12,
                             className="mb-2") for v in vs], className="g-2"),
        ], className="family-section"), xs=12, md=6, xl=4 if len(vs) > 1 else 4,
            className="mb-3"))
    return dbc.Row(cols, className="g-3")
