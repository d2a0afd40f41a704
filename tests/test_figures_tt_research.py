"""Figure builders of the Technology transfer and Research pages, as plain functions."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from components.charts import FigureContext
from components.figures_research import (
    breakdown,
    contribution_per_year,
    framework_comparison,
    per_year,
    wrap,
)
from components.figures_techtransfer import (
    deal_funnel,
    deals_breakdown,
    offer_stock,
    offers_requests_per_year,
)
from components.formats import PALETTE

CTX = FigureContext(title="T", subtitle="2014–2026", source="Source: test", demo=True)
CTX_JA = FigureContext(title="T", lang="ja")
UPPER = str.upper  # a label function that is visibly applied


def _titles(fig: go.Figure) -> tuple[str, str]:
    return fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


# ---- Technology transfer --------------------------------------------------------------------
NEW = pd.DataFrame({"year": [2020, 2021, 2020, 2021], "kind": ["offer", "offer", "request",
                                                                 "request"],
                    "new": [2000, 2100, 250, 260]})
STOCK = pd.DataFrame({"year": [2020, 2021], "kind": ["offer", "offer"],
                      "published": [2000, 2100], "withdrawn": [800, 900],
                      "stock": [19000, 20200]})
FUNNEL = pd.DataFrame({"stage": ["contact", "nda", "negotiation", "signed"],
                       "deals": [200, 90, 50, 20], "conversion": [None, 0.45, 50 / 90, 0.4],
                       "share": [1.0, 0.45, 0.25, 0.1]})
BREAK = pd.DataFrame({"sector": ["health", "ict", "energy"], "deals": [30, 50, 10],
                      "signed": [3, 8, 1]})


def test_offers_requests_per_year() -> None:
    fig = offers_requests_per_year(NEW, CTX, kind_label=UPPER)
    assert [t.name for t in fig.data] == ["OFFER", "REQUEST"]
    assert list(fig.data[0].y) == [2000, 2100] and list(fig.data[1].x) == [2020, 2021]
    assert fig.layout.barmode == "group"
    x, y = _titles(fig)
    assert x == "Year of publication" and "(number)" in y
    assert "%{y:,.0f}" in fig.data[0].hovertemplate
    assert fig.data[0].marker.color == PALETTE[0] and fig.data[1].marker.color == PALETTE[1]
    assert fig.layout.title.text.startswith("<b>T</b>")


def test_offer_stock() -> None:
    fig = offer_stock(STOCK, CTX, kind_label=UPPER)
    (tr,) = fig.data
    assert tr.name == "OFFER" and list(tr.y) == [19000, 20200]
    assert [list(c) for c in tr.customdata] == [[2000, 800], [2100, 900]]
    assert "customdata[1]:,.0f" in tr.hovertemplate
    assert "(number)" in _titles(fig)[1]


def test_deal_funnel_shows_conversion_and_codes() -> None:
    fig = deal_funnel(FUNNEL, CTX, stage_label=UPPER)
    (tr,) = fig.data
    assert tr.type == "funnel"
    assert list(tr.y) == ["CONTACT", "NDA", "NEGOTIATION", "SIGNED"]
    assert [c[0] for c in tr.customdata] == list(FUNNEL.stage)  # codes first, for clicks
    assert tr.text[0] == "200"  # no stage before the first
    assert tr.text[1] == "90 · 45%"
    assert tr.text[2] == "50 · 56%"
    assert [c[1] for c in tr.customdata] == ["–", "45%", "56%", "40%"]
    # on two lines, so the rotated title is not taller than the funnel
    assert _titles(fig)[1] == "Stage<br>(number of deals · % from the stage before)"
    assert "Conversion from the previous stage: %{customdata[1]}" in tr.hovertemplate


def test_deal_funnel_in_japanese() -> None:
    fig = deal_funnel(FUNNEL, CTX_JA)
    assert fig.layout.yaxis.title.text.startswith("段階（案件数")
    assert "前段階からの移行率" in fig.data[0].hovertemplate


def test_deals_breakdown_sorted_with_codes() -> None:
    fig = deals_breakdown(BREAK, CTX, category="sector", label=UPPER, category_title="Sector")
    signed, deals = fig.data  # "Signed" drawn first so "Deals" sits on top of each pair
    assert deals.name == "Deals" and signed.name == "Signed"
    assert list(deals.y) == ["ENERGY", "HEALTH", "ICT"]  # largest at the top
    assert list(deals.x) == [10, 30, 50] and list(signed.x) == [1, 3, 8]
    assert list(deals.customdata) == ["energy", "health", "ict"]
    assert fig.layout.legend.traceorder == "reversed"
    assert _titles(fig) == ("Deals (number)", "Sector")
    many = pd.DataFrame({"sector": [f"s{i}" for i in range(27)], "deals": range(27),
                         "signed": [0] * 27})
    assert deals_breakdown(many, CTX, category="sector", row_px=26).layout.height == 120 + 26 * 27


@pytest.mark.parametrize("build,df", [
    (offers_requests_per_year, NEW), (offer_stock, STOCK), (deal_funnel, FUNNEL),
])
def test_tt_builders_accept_empty_frames(build, df) -> None:  # noqa: ANN001
    fig = build(df.iloc[0:0], CTX)
    assert isinstance(fig, go.Figure)
    assert all(len(t.x if t.x is not None else []) == 0 for t in fig.data)


def test_breakdown_accepts_empty_frame() -> None:
    fig = deals_breakdown(BREAK.iloc[0:0], CTX, category="sector")
    assert all(len(t.x) == 0 for t in fig.data)


# ---- Research participation -----------------------------------------------------------------
YEAR = pd.DataFrame({"year": [2020, 2021], "participations": [30, 34],
                     "organisations": [20, 25], "projects": [25, 28],
                     "ec_contribution": [1e5, 0.0]})
FW = pd.DataFrame({"framework": ["H2020", "HORIZON"], "participations": [219, 169],
                   "organisations": [74, 84], "projects": [176, 128],
                   "ec_contribution": [4.2e6, 1.25e6]})
CONTRIB = pd.DataFrame({"year": [2020, 2021, 2022], "framework": ["H2020", "H2020", "HORIZON"],
                        "ec_contribution": [8e5, 0.0, 3e5], "funded": [6, 0, 1],
                        "participations": [26, 30, 35]})
ROLE = pd.DataFrame({"role": ["participant", "coordinator", "partner"],
                     "participations": [200, 10, 150], "organisations": [70, 9, 60],
                     "projects": [180, 10, 130], "ec_contribution": [3e6, 1e5, 2e6]})


def test_per_year_lines() -> None:
    fig = per_year(YEAR, CTX)
    assert [t.name for t in fig.data] == ["Participations", "Organisations", "Projects"]
    assert list(fig.data[1].y) == [20, 25]
    assert _titles(fig) == ("Year of project start", "Number")
    assert "%{y:,.0f}" in fig.data[0].hovertemplate


def test_framework_comparison() -> None:
    fig = framework_comparison(FW, CTX, framework_label=UPPER)
    assert list(fig.data[0].x) == ["H2020", "HORIZON"] and list(fig.data[0].y) == [219, 169]
    assert [c[0] for c in fig.data[2].customdata] == ["H2020", "HORIZON"]
    assert "€%{customdata[1]:,.0f}" in fig.data[0].hovertemplate
    assert fig.layout.yaxis.range[1] > 219  # room for the value labels


def test_contribution_per_year_stacks_frameworks() -> None:
    fig = contribution_per_year(CONTRIB, CTX, framework_label=UPPER)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["H2020", "HORIZON"]
    assert list(fig.data[0].y) == [8e5, 0.0]
    assert [c[0] for c in fig.data[1].customdata] == ["HORIZON"]
    assert _titles(fig)[1] == "EU contribution (EUR)"
    assert fig.layout.yaxis.tickprefix == "€"


def test_breakdown_sorted_with_codes_and_details() -> None:
    fig = breakdown(ROLE, CTX, category="role", label=UPPER, category_title="Role",
                    color_index=3)
    (tr,) = fig.data
    assert list(tr.y) == ["COORDINATOR", "PARTNER", "PARTICIPANT"]
    assert [c[0] for c in tr.customdata] == ["coordinator", "partner", "participant"]
    assert list(tr.customdata[0]) == ["coordinator", 9, 10, 1e5]
    assert tr.marker.color == PALETTE[3]
    assert _titles(fig) == ("Participations (number)", "Role")


def test_breakdown_wraps_long_labels() -> None:
    df = ROLE.assign(role=["a", "b", "c"])
    long = {"a": "Higher or secondary education institutions", "b": "B", "c": "C"}
    fig = breakdown(df, CTX, category="role", label=long.get, wrap_width=24)
    assert "Higher or secondary<br>education institutions" in list(fig.data[0].y)
    assert wrap("short") == "short" and wrap("") == ""


@pytest.mark.parametrize("build,df", [
    (per_year, YEAR), (framework_comparison, FW), (contribution_per_year, CONTRIB),
])
def test_research_builders_accept_empty_frames(build, df) -> None:  # noqa: ANN001
    fig = build(df.iloc[0:0], CTX)
    assert isinstance(fig, go.Figure)
    assert all(len(t.y) == 0 for t in fig.data)


def test_research_breakdown_accepts_empty_frame() -> None:
    fig = breakdown(ROLE.iloc[0:0], CTX, category="role")
    assert len(fig.data[0].x) == 0


@pytest.mark.parametrize("seed", range(40))
def test_ordered_sorts_bars_as_pandas_does(seed: int) -> None:
    """The builders' Python sort gives pandas' order (names with no value last)."""
    import random

    import numpy as np

    from components.fastfig import ordered

    rng = random.Random(seed)
    n = rng.randrange(0, 25)
    df = pd.DataFrame({"n": np.array([rng.randrange(0, 4) for _ in range(n)], dtype=np.int64),
                       "c": pd.Series([rng.choice(["a", "b", "c", None, "d"])
                                       for _ in range(n)], dtype=object)})
    for most_first in (True, False):
        got = ordered(df, "n", "c", most_first=most_first)
        exp = df.sort_values(["n", "c"], ascending=[not most_first, most_first], kind="stable")
        assert got.index.tolist() == exp.index.tolist()
