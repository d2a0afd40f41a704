"""Technology-transfer queries against an independent pandas computation, on both backends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, text

from data_access.models import TechDeal, TechOffer
from data_access.queries import techtransfer as q

STAGES = ["contact", "nda", "negotiation", "signed"]


def _offers(engine: Engine) -> pd.DataFrame:
    df = pd.read_sql(text("SELECT kind, published_date, withdrawn_date, sector_code "
                          "FROM tech_offer"), engine)
    df["published_date"] = pd.to_datetime(df.published_date)
    df["withdrawn_date"] = pd.to_datetime(df.withdrawn_date)
    return df


def _deals(engine: Engine) -> pd.DataFrame:
    df = pd.read_sql(text("SELECT stage, opened_date, deal_type, sector_code, eu_country_code, "
                          "jp_region FROM tech_deal"), engine)
    df["opened_date"] = pd.to_datetime(df.opened_date)
    return df


OFFER_CASES = [(2014, 2025, (), ()), (2019, 2023, ("ict", "health"), ("offer",)),
               (2016, 2016, ("agrifood",), ("request",))]


@pytest.mark.parametrize("year_from,year_to,sectors,kinds", OFFER_CASES)
def test_new_offers_and_requests_match_pandas(demo_engine, year_from, year_to, sectors,
                                              kinds) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.offers_requests_by_year(c, year_from=year_from, year_to=year_to,
                                        sectors=sectors, kinds=kinds)
    o = _offers(demo_engine)
    o = o[o.published_date.dt.year.between(year_from, year_to)]
    if sectors:
        o = o[o.sector_code.isin(sectors)]
    if kinds:
        o = o[o.kind.isin(kinds)]
    want = o.groupby([o.published_date.dt.year.rename("year"), "kind"]).size()
    assert len(got) == len(want) > 0
    assert {(int(r.year), r.kind): int(r.new) for r in got.itertuples()} == {
        (int(y), k): int(n) for (y, k), n in want.items()}
    if kinds:
        assert set(got.kind) == set(kinds)


@pytest.mark.parametrize("year_from,year_to,sectors,kinds", OFFER_CASES)
def test_offer_stock_matches_pandas(demo_engine, year_from, year_to, sectors,
                                    kinds) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.offer_stock_by_year(c, year_from=year_from, year_to=year_to,
                                    sectors=sectors, kinds=kinds)
    o = _offers(demo_engine)
    if sectors:
        o = o[o.sector_code.isin(sectors)]
    if kinds:
        o = o[o.kind.isin(kinds)]
    assert not got.empty
    assert got.year.min() == year_from and got.year.max() == year_to
    for r in got.itertuples():
        end = pd.Timestamp(int(r.year), 12, 31)
        k = o[o.kind == r.kind]
        open_ = (k.published_date <= end) & (k.withdrawn_date.isna() | (k.withdrawn_date > end))
        assert r.stock == int(open_.sum()), (r.year, r.kind)
        assert r.published == int((k.published_date.dt.year == r.year).sum())
        assert r.withdrawn == int((k.withdrawn_date.dt.year == r.year).sum())
    # the demo database goes back to 2008, so the stock of offers is above 20,000 by now
    if not sectors and not kinds:
        last = got[(got.kind == "offer")].sort_values("year").iloc[-1]
        assert last.stock > 20_000


DEAL_CASES = [
    dict(year_from=2014, year_to=2025, sectors=()),
    dict(year_from=2018, year_to=2024, sectors=("ict", "energy"), deal_types=("licence",)),
    dict(year_from=2016, year_to=2022, sectors=(), min_stage="nda",
         eu_countries=("DE", "FR"), jp_regions=("kanto", "kansai")),
    dict(year_from=2020, year_to=2020, sectors=("health",), min_stage="signed"),
]


def _deal_subset(engine: Engine, f: dict) -> pd.DataFrame:
    d = _deals(engine)
    d = d[d.opened_date.dt.year.between(f["year_from"], f["year_to"])]
    if f.get("sectors"):
        d = d[d.sector_code.isin(f["sectors"])]
    if f.get("deal_types"):
        d = d[d.deal_type.isin(f["deal_types"])]
    if f.get("eu_countries"):
        d = d[d.eu_country_code.isin(f["eu_countries"])]
    if f.get("jp_regions"):
        d = d[d.jp_region.isin(f["jp_regions"])]
    if f.get("min_stage"):
        d = d[d.stage.map(STAGES.index) >= STAGES.index(f["min_stage"])]
    return d


@pytest.mark.parametrize("f", DEAL_CASES)
def test_deal_funnel_is_cumulative_and_matches_pandas(demo_engine, f) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.deal_funnel(c, **f)
    d = _deal_subset(demo_engine, f)
    level = d.stage.map(STAGES.index)
    shown = STAGES[STAGES.index(f.get("min_stage") or "contact"):]
    assert list(got.stage) == shown
    reached = [int((level >= STAGES.index(s)).sum()) for s in shown]
    assert list(got.deals) == reached
    assert got.deals.iloc[0] == len(d)  # every deal reached the first stage shown
    assert got.conversion.iloc[0] is None
    for i in range(1, len(shown)):
        assert got.conversion.iloc[i] == pytest.approx(reached[i] / reached[i - 1])
        assert got.share.iloc[i] == pytest.approx(reached[i] / reached[0])
    assert list(got.deals) == sorted(got.deals, reverse=True)


@pytest.mark.parametrize("f", DEAL_CASES)
@pytest.mark.parametrize("fn,col,name", [
    (q.deals_by_sector, "sector_code", "sector"), (q.deals_by_type, "deal_type", "deal_type"),
    (q.deals_by_eu_country, "eu_country_code", "eu_country"),
    (q.deals_by_jp_region, "jp_region", "jp_region"),
])
def test_deal_breakdowns_match_pandas(demo_engine, f, fn, col, name) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = fn(c, **f)
    d = _deal_subset(demo_engine, f)
    want = d.groupby(col).agg(deals=("stage", "size"),
                              signed=("stage", lambda s: int((s == "signed").sum())))
    assert dict(zip(got[name], zip(got.deals, got.signed, strict=True), strict=True)) == {
        k: (int(r.deals), int(r.signed)) for k, r in want.iterrows()}
    assert list(got.deals) == sorted(got.deals, reverse=True)
    assert got.deals.sum() == len(d)


def test_filters_that_match_nothing_give_empty_frames(demo_engine) -> None:  # noqa: ANN001
    # no technology-transfer record is in the "research" sector
    kw = dict(year_from=2014, year_to=2025, sectors=("research",))
    with demo_engine.connect() as c:
        assert q.offers_requests_by_year(c, **kw).empty
        assert q.offer_stock_by_year(c, **kw).empty
        for fn in (q.deal_funnel, q.deals_by_sector, q.deals_by_type, q.deals_by_eu_country,
                   q.deals_by_jp_region):
            assert fn(c, **kw).empty, fn.__name__
        # a click selection that contradicts the page filter
        assert q.deal_funnel(c, year_from=2014, year_to=2025, sectors=(),
                             deal_types=("__none__",)).empty


def test_empty_database_gives_empty_frames(engine) -> None:  # noqa: ANN001
    kw = dict(year_from=2014, year_to=2026, sectors=())
    with engine.connect() as c:
        assert list(q.offers_requests_by_year(c, **kw).columns) == ["year", "kind", "new"]
        assert q.offers_requests_by_year(c, **kw).empty
        stock = q.offer_stock_by_year(c, **kw)
        assert stock.empty and "stock" in stock.columns
        funnel = q.deal_funnel(c, **kw)
        assert funnel.empty and list(funnel.columns) == ["stage", "deals", "conversion", "share"]
        for fn in (q.deals_by_sector, q.deals_by_type, q.deals_by_eu_country,
                   q.deals_by_jp_region):
            df = fn(c, **kw)
            assert df.empty and {"deals", "signed"} <= set(df.columns)


def _offer(i: int, kind: str, pub: str, wd: str | None) -> dict:
    return dict(external_id=f"T-{i}", kind=kind, published_date=dt.date.fromisoformat(pub),
                withdrawn_date=dt.date.fromisoformat(wd) if wd else None, sector_code="ict",
                country_code="JP", org_type="sme", is_demo=False)


def _deal(i: int, stage: str, region: str | None, opened: str = "2021-05-01") -> dict:
    return dict(external_id=f"D-{i}", offer_external_id=None, stage=stage,
                opened_date=dt.date.fromisoformat(opened), signed_date=None,
                deal_type="licence", sector_code="ict", eu_country_code="DE",
                jp_region=region, is_demo=False)


def test_stock_edges_and_unknown_region(engine) -> None:  # noqa: ANN001
    """Hand-made rows: withdrawal on 31 December closes the offer that year; a deal without
    a Japanese region is 'unknown' and can be selected as such."""
    with engine.begin() as c:
        c.execute(insert(TechOffer), [
            _offer(1, "offer", "2019-03-01", None),
            _offer(2, "offer", "2019-06-01", "2020-12-31"),
            _offer(3, "offer", "2020-01-01", "2021-01-01"),
            _offer(4, "request", "2021-02-02", None),
        ])
        c.execute(insert(TechDeal), [_deal(1, "signed", None), _deal(2, "nda", "kanto"),
                                     _deal(3, "contact", "kanto"),
                                     _deal(4, "negotiation", None, opened="2018-01-01")])
    with engine.connect() as c:
        stock = q.offer_stock_by_year(c, year_from=2014, year_to=2022, sectors=())
        offers = stock[stock.kind == "offer"].set_index("year")["stock"].to_dict()
        # starts at the first publication, ends at the last year with data (2021)
        assert offers == {2019: 2, 2020: 2, 2021: 1}
        assert stock[stock.kind == "request"].set_index("year")["stock"].to_dict() == {2021: 1}
        # the range starting later still counts what was published before it
        later = q.offer_stock_by_year(c, year_from=2021, year_to=2021, sectors=(),
                                      kinds=("offer",))
        assert later.stock.tolist() == [1]
        regions = q.deals_by_jp_region(c, year_from=2019, year_to=2022, sectors=())
        assert dict(zip(regions.jp_region, regions.deals, strict=True)) == {"kanto": 2,
                                                                              "unknown": 1}
        only_unknown = q.deal_funnel(c, year_from=2014, year_to=2022, sectors=(),
                                     jp_regions=("unknown",))
        assert only_unknown.deals.tolist() == [2, 2, 2, 1]
        assert only_unknown.conversion.tolist()[1:] == [1.0, 1.0, 0.5]
