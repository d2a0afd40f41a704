"""Help-desk queries against an independent pandas computation, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from data_access.queries import helpdesk as q
from tests.conftest import DEMO_UNTIL

FUNCS = (q.enquiries_by_month, q.topic_share_by_year, q.top_topics, q.enquiries_by_requester,
         q.enquiries_by_country, q.days_to_answer)

CASES = [
    pytest.param({"year_from": 2014, "year_to": 2026}, id="everything"),
    pytest.param({"year_from": 2019, "year_to": 2021, "sectors": ["agrifood"],
                  "desks": ["epa"]}, id="sector+desk"),
    pytest.param({"year_from": 2024, "year_to": 2026, "topics": ["rules_of_origin", "customs"],
                  "requesters": ["sme"]}, id="topics+requester"),
    pytest.param({"year_from": 2020, "year_to": 2022, "countries": ["JP", "DE"],
                  "desks": ["ncp", "techtransfer"]}, id="countries+desks"),
]


@pytest.fixture(scope="module")
def raw(demo_engine) -> pd.DataFrame:  # noqa: ANN001
    """The demo enquiries (tens of thousands of rows), read once per backend."""
    d = pd.read_sql(text("SELECT desk, topic, received_date, answered_date, sector_code, "
                         "requester_type, country_code FROM helpdesk_enquiry"), demo_engine)
    d["received_date"] = pd.to_datetime(d.received_date)
    d["answered_date"] = pd.to_datetime(d.answered_date)
    return d


def _apply(raw: pd.DataFrame, f: dict, *, years: bool = True) -> pd.DataFrame:
    mask = pd.Series(True, index=raw.index)
    if years:
        mask &= raw.received_date.dt.year.between(f["year_from"], f["year_to"])
    for key, col in (("sectors", "sector_code"), ("desks", "desk"), ("topics", "topic"),
                     ("requesters", "requester_type"), ("countries", "country_code")):
        if f.get(key):
            mask &= raw[col].isin(f[key])
    return raw[mask]


def _run(engine, fn, f: dict, **extra) -> pd.DataFrame:  # noqa: ANN001
    with engine.connect() as c:
        return fn(c, **f, **extra)


@pytest.mark.parametrize("f", CASES)
def test_enquiries_by_month_matches_pandas(demo_engine, raw, f) -> None:  # noqa: ANN001
    got = _run(demo_engine, q.enquiries_by_month, f)
    d = _apply(raw, f)
    assert not d.empty, "the case should select some demo rows"
    exp = (d.assign(month=d.received_date.dt.to_period("M").dt.to_timestamp())
           .groupby(["desk", "month"]).size())
    assert dict(zip(zip(got.desk, got.month, strict=True), got.enquiries, strict=True)) \
        == exp.to_dict()
    assert (got.month.dt.day == 1).all()


@pytest.mark.parametrize("f", CASES)
def test_topic_share_matches_pandas(demo_engine, raw, f) -> None:  # noqa: ANN001
    got = _run(demo_engine, q.topic_share_by_year, f)
    d = _apply(raw, f)
    exp = d.groupby([d.received_date.dt.year, "topic"]).size()
    assert dict(zip(zip(got.year, got.topic, strict=True), got.enquiries, strict=True)) \
        == exp.to_dict()
    assert got.groupby("year")["share"].sum().tolist() == pytest.approx(
        [1.0] * got.year.nunique())
    # the biggest topic overall comes first (stacks keep one order across years)
    assert got.topic.iloc[0] == d.topic.value_counts().index[0]


@pytest.mark.parametrize("f", CASES)
def test_top_topics_compare_with_the_period_before(demo_engine, raw, f) -> None:  # noqa: ANN001
    got = _run(demo_engine, q.top_topics, f)
    d0 = dt.date(f["year_from"], 1, 1)
    d1 = min(dt.date(f["year_to"], 12, 31), raw.received_date.max().date())
    length = (d1 - d0).days + 1
    p1 = d0 - dt.timedelta(days=1)
    p0 = p1 - dt.timedelta(days=length - 1)
    assert (p1 - p0) == (d1 - d0), "periods of equal length"
    d = _apply(raw, f, years=False)
    day = d.received_date.dt.date
    cur = d[(day >= d0) & (day <= d1)].topic.value_counts()
    prev = d[(day >= p0) & (day <= p1)].topic.value_counts()
    exp = pd.DataFrame({"enquiries": cur}).assign(
        previous=lambda x: prev.reindex(x.index).fillna(0).astype(int))
    exp = exp.rename_axis("topic").reset_index().sort_values(
        ["enquiries", "topic"], ascending=[False, True]).head(q.TOP_TOPICS)
    assert got.topic.tolist() == exp.topic.tolist()
    assert got.enquiries.tolist() == exp.enquiries.tolist()
    assert got.previous.tolist() == exp.previous.tolist()
    assert set(got.period_from) == {d0.isoformat()}
    assert set(got.previous_to) == {p1.isoformat()}
    covered = raw.received_date.min().date() <= p0
    assert set(got.compared) == {covered}
    if covered:
        want = [(c - p) / p if p else None for c, p in zip(exp.enquiries, exp.previous,
                                                            strict=True)]
        for g, w in zip(got.change, want, strict=True):
            assert (pd.isna(g) and w is None) or g == pytest.approx(w)
    else:  # no change computed against a past the data does not cover
        assert got.change.isna().all()


def test_top_topics_partial_year_is_compared_like_for_like(demo_engine) -> None:  # noqa: ANN001
    got = _run(demo_engine, q.top_topics, {"year_from": 2025, "year_to": 2026})
    assert got.period_to.iloc[0] == DEMO_UNTIL.isoformat()
    assert got.previous_from.iloc[0] == "2023-07-05"  # 546 days: 2023-07-05 – 2024-12-31
    assert bool(got.compared.iloc[0]) is True


@pytest.mark.parametrize("f", CASES)
@pytest.mark.parametrize("fn,col,name", [
    (q.enquiries_by_requester, "requester_type", "requester"),
    (q.enquiries_by_country, "country_code", "country"),
])
def test_breakdowns_match_pandas(demo_engine, raw, f, fn, col, name) -> None:  # noqa: ANN001
    got = _run(demo_engine, fn, f)
    d = _apply(raw, f)
    exp = (d[col].value_counts().rename("enquiries").rename_axis(name).reset_index()
           .sort_values(["enquiries", name], ascending=[False, True], ignore_index=True))
    assert got[name].tolist() == exp[name].tolist()
    assert got.enquiries.tolist() == exp.enquiries.tolist()
    assert got.share.sum() == pytest.approx(1.0)


def _lower_quantile(values: pd.Series, num: int, den: int) -> float:
    s = sorted(values)
    k = -(-num * len(s) // den)  # ceil(q * n) in integers
    return float(s[k - 1])


@pytest.mark.parametrize("f", CASES)
@pytest.mark.parametrize("by", ["quarter", "month"])
def test_days_to_answer_matches_pandas(demo_engine, raw, f, by) -> None:  # noqa: ANN001
    got = _run(demo_engine, q.days_to_answer, f, by=by)
    d = _apply(raw, f)
    d = d[d.answered_date.notna()]
    days = (d.answered_date - d.received_date).dt.days
    period = d.received_date.dt.to_period("Q" if by == "quarter" else "M")
    exp = pd.DataFrame({"period": period, "days": days}).groupby("period")["days"]
    want = {p.start_time: (len(v), _lower_quantile(v, 1, 2), _lower_quantile(v, 9, 10))
            for p, v in exp}
    have = {ps: (n, m, p9) for ps, n, m, p9 in zip(got.period_start, got.answered,
                                                   got.median_days, got.p90_days, strict=True)}
    assert have == want
    label = got.period.iloc[0]
    assert ("-Q" in label) == (by == "quarter")
    assert (got.p90_days >= got.median_days).all()


def test_quantiles_from_histogram_are_exact() -> None:
    hist = pd.DataFrame({"k": ["a"] * 4 + ["b"], "v": [1, 2, 5, 9, 4], "n": [3, 4, 2, 1, 7]})
    got = q.quantiles_from_histogram(hist, "k", "v", "n", (0.5, 0.9)).set_index("k")
    # a: 1,1,1,2,2,2,2,5,5,9 -> lower median is the 5th value (2), p90 the 9th (5)
    assert got.loc["a"].tolist() == [10, 2.0, 5.0]
    assert got.loc["b"].tolist() == [7, 4.0, 4.0]
    empty = q.quantiles_from_histogram(hist.iloc[:0], "k", "v", "n")
    assert empty.empty and list(empty.columns) == ["k", "n", "q50", "q90"]


@pytest.mark.parametrize("fn", FUNCS)
def test_no_match_gives_empty_frame(demo_engine, fn) -> None:  # noqa: ANN001
    # the procurement desk has no customs topic: nothing matches, and nothing is invented
    got = _run(demo_engine, fn, {"year_from": 2014, "year_to": 2026,
                                 "desks": ["procurement"], "topics": ["customs"]})
    assert got.empty


@pytest.mark.parametrize("fn", FUNCS)
def test_empty_database_gives_empty_frames(engine, fn) -> None:  # noqa: ANN001
    with engine.connect() as c:
        got = fn(c, year_from=2014, year_to=2026)
    assert got.empty
    assert len(got.columns) >= 2
