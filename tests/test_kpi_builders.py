"""KPI card builders as plain functions, from hand-made frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from components.kpi import delta_texts, kpi_card, sparkline_svg
from components.overview import kpi_views, overview_grid


def _head(rows: list[dict]) -> pd.DataFrame:
    base = {"partial": False, "latest": False}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_delta_texts_by_kind() -> None:
    assert delta_texts(110, 100, kind="count") == ("+10 (+10.0%)", 1)
    assert delta_texts(0.535, 0.633, kind="rate") == ("−9.8 pp", -1)
    assert delta_texts(4, 4, kind="days") == ("0.0 days", 0)
    assert delta_texts(None, 3, kind="count") == (None, 0)
    assert delta_texts(5, 0, kind="count") == ("+5", 1)  # no % change from zero


def test_views_format_values_and_periods() -> None:
    series = pd.DataFrame({"kpi": ["enquiries"] * 3 + ["pur_eu_jp"] * 2,
                           "year": [2024, 2025, 2026, 2024, 2025],
                           "value": [1000.0, 1500.0, 1200.0, 0.731, 0.738]})
    head = _head([
        {"kpi": "enquiries", "year": 2026, "value": 1200.0, "previous": 1300.0,
         "partial": True},
        {"kpi": "pur_eu_jp", "year": 2025, "value": 0.738, "previous": 0.731,
         "latest": True},
        {"kpi": "median_days", "year": 2026, "value": None, "previous": None},
    ])
    views = {v.key: v for v in kpi_views(series, head, as_of=dt.date(2026, 6, 30))}
    e = views["enquiries"]
    assert e.value_text == "1,200"
    assert e.delta_text == "−100 (−7.7%)" and e.delta_sign == -1
    assert e.period_text == "2026 to 30 Jun vs same period 2025"
    assert list(e.spark_y) == [1000.0, 1500.0, 1200.0]
    p = views["pur_eu_jp"]
    assert p.value_text == "73.8%" and p.delta_text == "+0.7 pp"
    assert p.period_text == "2025 (latest available) vs 2024"
    assert views["median_days"].value_text == "–"


def test_no_data_card_says_so_and_grid_renders() -> None:
    head = _head([{"kpi": "deals_signed", "year": 2020, "value": None, "previous": None}])
    views = kpi_views(pd.DataFrame(columns=["kpi", "year", "value"]), head,
                      as_of=dt.date(2026, 6, 30))
    card = kpi_card(views[0])
    text = str(card.to_plotly_json())
    assert "No data" in text
    grid = overview_grid(views)
    assert "Technology transfer" in str(grid.to_plotly_json())


def test_sparkline_svg_handles_gaps_and_flat_series() -> None:
    assert sparkline_svg([], []) == ""
    assert sparkline_svg([2020, 2021], [None, None]) == ""
    flat = sparkline_svg([2020, 2021, 2022], [5.0, 5.0, 5.0])
    assert flat.startswith("data:image/svg+xml") and "nan" not in flat
