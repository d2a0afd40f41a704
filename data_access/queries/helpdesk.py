"""Help-desk enquiries: volumes by month and desk, topic mix, who asks, days to answer.

Every function takes the same filters: the global year range and sectors (the enquiry's
`sector_code`), the page filters desks and topics, and the click selections requesters
(organisation type) and countries. Empty sequences mean "no restriction". SQL does all the
counting (the table holds millions of rows); pandas only reshapes the small results.
Nothing matching gives an empty frame, never a frame of zeros.

The counts come from the help-desk summary tables (`data_access.summaries`: a few hundred to
a few thousand pre-counted rows, whatever the number of enquiries); the fact table is read
only when they are not fresh or do not hold a combination of filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Integer, Select, case, cast, extract, func, select
from sqlalchemy.sql.elements import ColumnElement

from data_access import summaries
from data_access.models import HelpdeskEnquiry as E
from data_access.queries.common import (
    F64,
    I64,
    as_date,
    columns_frame,
    days_between,
    frame,
    most_first,
    rows_frame,
    where_in,
    where_sectors,
    year_bounds,
    year_of,
)

TOP_TOPICS = 10


def _month(col: ColumnElement) -> ColumnElement[int]:
    return cast(extract("month", col), Integer)


def _first_days(years: pd.Series, months: pd.Series) -> np.ndarray:
    """First day of each (year, month) as datetime64[ns] (numpy: no per-row parsing)."""
    m = (np.asarray(years, dtype=np.int64) - 1970) * 12 + np.asarray(months, dtype=np.int64) - 1
    return m.astype("datetime64[M]").astype("datetime64[ns]")


def _filtered(stmt: Select, *, date_from: dt.date, date_to: dt.date, sectors: Sequence[str],
              desks: Sequence[str], topics: Sequence[str], requesters: Sequence[str],
              countries: Sequence[str]) -> Select:
    # A date range on the indexed column, not year(received_date), so the index is usable.
    stmt = stmt.where(E.received_date.between(date_from, date_to))
    stmt = where_sectors(stmt, E.sector_code, sectors)
    stmt = where_in(stmt, E.desk, desks)
    stmt = where_in(stmt, E.topic, topics)
    stmt = where_in(stmt, E.requester_type, requesters)
    return where_in(stmt, E.country_code, countries)


def _in_years(stmt: Select, year_from: int, year_to: int, **filters: Sequence[str]) -> Select:
    d0, d1 = year_bounds(year_from, year_to)
    return _filtered(stmt, date_from=d0, date_to=d1, **filters)


def _summary(conn: Connection, *, by: Sequence[str] = (), time: str | None = None,
             date_from: dt.date, date_to: dt.date, sectors: Sequence[str],
             desks: Sequence[str], topics: Sequence[str], requesters: Sequence[str],
             countries: Sequence[str], days: bool = False) -> pd.DataFrame | None:
    """The same counts from the summary tables (None: read the fact table instead)."""
    fn = summaries.days_histogram if days else summaries.counts
    return fn(conn, by=by, time=time, date_from=date_from, date_to=date_to,
              filters={"sector": sectors, "desk": desks, "topic": topics,
                       "requester": requesters, "country": countries})


def enquiries_by_month(conn: Connection, *, year_from: int, year_to: int,
                       sectors: Sequence[str] = (), desks: Sequence[str] = (),
                       topics: Sequence[str] = (), requesters: Sequence[str] = (),
                       countries: Sequence[str] = ()) -> pd.DataFrame:
    """Enquiries received per month and desk; `month` is the first day of the month."""
    d0, d1 = year_bounds(year_from, year_to)
    s = _summary(conn, by=["desk"], time="month", date_from=d0, date_to=d1, sectors=sectors,
                 desks=desks, topics=topics, requesters=requesters, countries=countries)
    if s is not None:
        ym_ = s["month"].to_numpy(dtype=I64)
        years, months = ym_ // 100, ym_ % 100
        desk, n = s["desk"].to_numpy(dtype=object), s["enquiries"].to_numpy(dtype=I64)
    else:
        y, m = year_of(E.received_date), _month(E.received_date)
        stmt = _in_years(select(y, m, E.desk, func.count()), year_from, year_to,
                         sectors=sectors, desks=desks, topics=topics, requesters=requesters,
                         countries=countries)
        df = frame(conn, stmt.group_by(y, m, E.desk), ["year", "m", "desk", "enquiries"])
        years, months = df["year"].to_numpy(dtype=I64), df["m"].to_numpy(dtype=I64)
        desk, n = df["desk"].to_numpy(dtype=object), df["enquiries"].to_numpy(dtype=I64)
    # by desk, then month (numpy: a few hundred rows, no pandas sort)
    order = sorted(range(len(desk)), key=lambda i: (desk[i], years[i], months[i]))
    return columns_frame({"month": _first_days(years[order], months[order]),
                         "desk": desk[order], "enquiries": n[order]})


def topic_share_by_year(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), desks: Sequence[str] = (),
                        topics: Sequence[str] = (), requesters: Sequence[str] = (),
                        countries: Sequence[str] = ()) -> pd.DataFrame:
    """Enquiries per year and topic, and each topic's share of its year."""
    d0, d1 = year_bounds(year_from, year_to)
    df = _summary(conn, by=["topic"], time="year", date_from=d0, date_to=d1, sectors=sectors,
                  desks=desks, topics=topics, requesters=requesters, countries=countries)
    if df is None:
        y = year_of(E.received_date)
        stmt = _in_years(select(y, E.topic, func.count()), year_from, year_to,
                         sectors=sectors, desks=desks, topics=topics, requesters=requesters,
                         countries=countries)
        df = frame(conn, stmt.group_by(y, E.topic), ["year", "topic", "enquiries"])
    rows = [(int(y), tp, int(n)) for y, tp, n in
            zip(df["year"].tolist(), df["topic"].tolist(), df["enquiries"].tolist(), strict=True)]
    per_year: dict[int, int] = {}
    per_topic: dict[str, int] = {}
    for y, tp, n in rows:
        per_year[y] = per_year.get(y, 0) + n
        per_topic[tp] = per_topic.get(tp, 0) + n
    # biggest topics overall first, so stacks and legends keep one order across years
    order = sorted(sorted(per_topic), key=lambda tp: -per_topic[tp])
    rank = {tp: i for i, tp in enumerate(order)}
    rows.sort(key=lambda r: (rank[r[1]], r[0]))
    return columns_frame({
        "year": np.array([r[0] for r in rows], dtype=I64),
        "topic": np.array([r[1] for r in rows], dtype=object),
        "enquiries": np.array([r[2] for r in rows], dtype=I64),
        "share": np.array([r[2] / per_year[r[0]] for r in rows], dtype=F64)})


def data_span(conn: Connection) -> tuple[dt.date | None, dt.date | None]:
    """The oldest and newest received dates in the table (what the data covers)."""
    known = summaries.span(conn)
    if known is not None:
        return known
    # two subqueries: each is one step down the received-date index (min and max in one
    # SELECT make SQLite scan the whole table)
    lo, hi = conn.execute(select(select(func.min(E.received_date)).scalar_subquery(),
                                 select(func.max(E.received_date)).scalar_subquery())).one()
    return as_date(lo), as_date(hi)


def comparison_periods(year_from: int, year_to: int, latest: dt.date | None
                       ) -> tuple[dt.date, dt.date, dt.date, dt.date] | None:
    """(from, to, previous from, previous to): the selected years cut at the data date, and
    the period of equal length just before them. None when the data starts after the range."""
    d0, d1 = year_bounds(year_from, year_to)
    if latest is None or latest < d0:
        return None
    d1 = min(d1, latest)
    length = (d1 - d0).days + 1
    p1 = d0 - dt.timedelta(days=1)
    return d0, d1, p1 - dt.timedelta(days=length - 1), p1


def top_topics(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str] = (),
               desks: Sequence[str] = (), topics: Sequence[str] = (),
               requesters: Sequence[str] = (), countries: Sequence[str] = (),
               limit: int = TOP_TOPICS) -> pd.DataFrame:
    """The most asked topics of the selected period and their change against the period of
    equal length just before it (a partly elapsed last year is compared like for like).

    `compared` is False when the data do not reach back to the start of the period before:
    then `change` is left empty rather than showing growth from an unrecorded past.
    """
    earliest, latest = data_span(conn)
    periods = comparison_periods(year_from, year_to, latest)
    cols = ["topic", "enquiries", "previous", "change", "share", "compared",
            "period_from", "period_to", "previous_from", "previous_to"]
    if periods is None:
        return pd.DataFrame(columns=cols)
    d0, d1, p0, p1 = periods
    f = {"sectors": sectors, "desks": desks, "topics": topics, "requesters": requesters,
         "countries": countries}
    now = _summary(conn, by=["topic"], date_from=d0, date_to=d1, **f)
    before = None if now is None else _summary(conn, by=["topic"], date_from=p0,
                                               date_to=p1, **f)
    counts: dict[str, list[int]] = {}  # topic -> [enquiries, previous]
    if now is not None and before is not None:
        for i, frame_ in enumerate((now, before)):
            for topic, n in zip(frame_["topic"].tolist(), frame_["enquiries"].tolist(),
                                strict=True):
                counts.setdefault(topic, [0, 0])[i] += int(n)
    else:
        cur = func.sum(case((E.received_date >= d0, 1), else_=0))
        prev = func.sum(case((E.received_date <= p1, 1), else_=0))
        stmt = _filtered(select(E.topic, cur, prev), date_from=p0, date_to=d1, **f)
        for topic, n, m in conn.execute(stmt.group_by(E.topic)):
            counts[topic] = [int(n or 0), int(m or 0)]
    # (plain Python: a dozen topics, where each pandas step would cost more than the query)
    rows = sorted(((t, n, m) for t, (n, m) in counts.items() if n > 0),
                  key=lambda r: (-r[1], r[0]))
    if not rows:
        return pd.DataFrame(columns=cols)
    total = sum(n for _, n, _ in rows)
    covered = earliest is not None and earliest <= p0
    rows = rows[:limit]
    nan = float("nan")
    return columns_frame({
        "topic": np.array([t for t, _, _ in rows], dtype=object),
        "enquiries": np.array([n for _, n, _ in rows], dtype=I64),
        "previous": np.array([m for _, _, m in rows], dtype=I64),
        "change": np.array([(n - m) / m if m > 0 and covered else nan for _, n, m in rows],
                           dtype=F64),
        "share": np.array([n / total for _, n, _ in rows], dtype=F64),
        "compared": np.array([covered] * len(rows), dtype=bool),
        "period_from": d0.isoformat(), "period_to": d1.isoformat(),
        "previous_from": p0.isoformat(), "previous_to": p1.isoformat()})


def _breakdown(conn: Connection, col: ColumnElement, name: str, *, year_from: int,
               year_to: int, **filters: Sequence[str]) -> pd.DataFrame:
    """Enquiries and shares per value of `col` (most first)."""
    d0, d1 = year_bounds(year_from, year_to)
    # `name` ('requester' or 'country') is also the summaries' name of the dimension
    df = _summary(conn, by=[name], date_from=d0, date_to=d1, **filters)  # type: ignore[arg-type]
    if df is None:
        stmt = _in_years(select(col, func.count()), year_from, year_to, **filters)
        rows = [(k, int(n)) for k, n in conn.execute(stmt.group_by(col))]
    else:
        rows = list(zip(df[name].tolist(), df["enquiries"].tolist(), strict=True))
    total = sum(n for _, n in rows)
    return rows_frame([(k, n, n / total) for k, n in rows], [name, "enquiries", "share"],
                      {"enquiries": I64, "share": F64}, sort=most_first(1))


def enquiries_by_requester(conn: Connection, *, year_from: int, year_to: int,
                           sectors: Sequence[str] = (), desks: Sequence[str] = (),
                           topics: Sequence[str] = (), requesters: Sequence[str] = (),
                           countries: Sequence[str] = ()) -> pd.DataFrame:
    """Enquiries per requester type (organisation type), most first, with shares."""
    return _breakdown(conn, E.requester_type, "requester", year_from=year_from,
                      year_to=year_to, sectors=sectors, desks=desks, topics=topics,
                      requesters=requesters, countries=countries)


def enquiries_by_country(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = (), desks: Sequence[str] = (),
                         topics: Sequence[str] = (), requesters: Sequence[str] = (),
                         countries: Sequence[str] = ()) -> pd.DataFrame:
    """Enquiries per requester country, most first, with shares."""
    return _breakdown(conn, E.country_code, "country", year_from=year_from, year_to=year_to,
                      sectors=sectors, desks=desks, topics=topics, requesters=requesters,
                      countries=countries)


def _quantiles(keys: np.ndarray, values: np.ndarray, counts: np.ndarray,
               qs: Sequence[float]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(keys, totals, one array per q) of exact lower quantiles from histogram arrays.

    The q-quantile is the smallest value whose cumulative count reaches q × total (the
    ceil(q·n)-th smallest observation), compared in exact fractions so q·n never rounds.
    Vectorised: one running total over all keys; per key, the first row whose running total
    within the key reaches ceil(q * total), found by a binary search.
    """
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order]
    cum = np.cumsum(counts[order].astype(np.int64))
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1
    before = np.r_[0, cum[:-1]][starts]
    totals = cum[ends] - before
    out = []
    for q in qs:
        f = Fraction(q).limit_denominator(1000)
        need = np.maximum(-(-f.numerator * totals // f.denominator), 1)  # exact ceil
        idx = np.clip(np.searchsorted(cum, before + need, side="left"), starts, ends)
        out.append(values[idx].astype(float))
    return keys[starts], totals, out


def quantiles_from_histogram(hist: pd.DataFrame, key: str, value: str, count: str,
                             qs: Sequence[float] = (0.5, 0.9)) -> pd.DataFrame:
    """Exact lower quantiles per `key` from a (key, value, count) histogram (see
    `_quantiles`). Returns `key`, `n` and one column per q named like 'q50', 'q90'."""
    names = [f"q{round(q * 100):02d}" for q in qs]
    if hist.empty:
        return pd.DataFrame(columns=[key, "n", *names])
    keys, totals, values = _quantiles(hist[key].to_numpy(), hist[value].to_numpy(),
                                      hist[count].to_numpy(), qs)
    return columns_frame({key: keys, "n": totals, **dict(zip(names, values, strict=True))})


def days_to_answer(conn: Connection, *, year_from: int, year_to: int,
                   sectors: Sequence[str] = (), desks: Sequence[str] = (),
                   topics: Sequence[str] = (), requesters: Sequence[str] = (),
                   countries: Sequence[str] = (), by: str = "quarter") -> pd.DataFrame:
    """Median and 90th-percentile days to answer per quarter (or month) of receipt.

    Only answered enquiries count. SQL returns a (period, days, count) histogram, a few
    thousand rows whatever the table size; the quantiles are walked from it exactly, the same
    on SQLite and PostgreSQL (neither percentile_cont nor window functions needed).
    """
    d0, d1 = year_bounds(year_from, year_to)
    grain = "quarter" if by == "quarter" else "month"
    s = _summary(conn, time=grain, date_from=d0, date_to=d1, sectors=sectors, desks=desks,
                 topics=topics, requesters=requesters, countries=countries, days=True)
    if s is not None:  # 'quarter' is year * 10 + q, 'month' is year * 100 + month
        scale = 10 if by == "quarter" else 100
        t = s[grain].to_numpy(dtype=I64)
        year_a, sub_a = t // scale, t % scale
        days_a, n_a = s["days"].to_numpy(), s["enquiries"].to_numpy()
    else:
        y, m = year_of(E.received_date), _month(E.received_date)
        sub = (m + 2) // 3 if by == "quarter" else m  # integer division on both dialects
        days = days_between(E.answered_date, E.received_date, conn.dialect.name)
        stmt = _in_years(select(y, sub, days, func.count()), year_from, year_to,
                         sectors=sectors, desks=desks, topics=topics, requesters=requesters,
                         countries=countries)
        stmt = stmt.where(E.answered_date.is_not(None)).group_by(y, sub, days)
        hist = frame(conn, stmt, ["year", "sub", "days", "n"])
        year_a, sub_a = hist["year"].to_numpy(dtype=I64), hist["sub"].to_numpy(dtype=I64)
        days_a, n_a = hist["days"].to_numpy(), hist["n"].to_numpy()
    cols = ["period", "period_start", "answered", "median_days", "p90_days"]
    if not len(year_a):
        return pd.DataFrame(columns=cols)
    keys, totals, (med, p90) = _quantiles(year_a * 100 + sub_a, days_a, n_a, (0.5, 0.9))
    year, sub_n = keys // 100, keys % 100  # keys come sorted: periods in order
    first_month = (sub_n - 1) * 3 + 1 if by == "quarter" else sub_n
    return columns_frame({
        "period": np.array([f"{y}-Q{q}" if by == "quarter" else f"{y}-{q:02d}"
                            for y, q in zip(year.tolist(), sub_n.tolist(), strict=True)],
                           dtype=object),
        "period_start": _first_days(year, first_month),
        "answered": totals.astype(I64), "median_days": med, "p90_days": p90})
