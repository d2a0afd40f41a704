"""Yearly series behind the overview's KPI cards, one function per family."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from data_access import summaries
from data_access.models import (
    EpaUtilisation,
    HelpdeskEnquiry,
    ProgrammeApplication,
    ResearchParticipation,
    ResearchProject,
    TechDeal,
)
from data_access.queries import epa, programmes
from data_access.queries.common import (
    I64,
    columns_frame,
    days_between,
    frame,
    median_from_histogram,
    rows_frame,
    where_sectors,
    year_of,
)


def applications_by_year(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applications, shortlisted, selected and the selection rate per cycle year, all
    programmes (the Programmes page's counts, from the applications kept in memory)."""
    return programmes.applications_by_year(conn, year_from=year_from, year_to=year_to,
                                           sectors=sectors)


def enquiries_by_year(conn: Connection, *, date_from: dt.date, date_to: dt.date,
                      sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Enquiries received per year and the median days to answer (answered ones).

    Read from the help-desk summary tables (a few hundred rows whatever the number of
    enquiries); from the fact table when they are not fresh.
    """
    f = {"sector": list(sectors)}
    counts = summaries.counts(conn, time="year", date_from=date_from, date_to=date_to,
                              filters=f)
    hist = None if counts is None else summaries.days_histogram(
        conn, time="year", date_from=date_from, date_to=date_to, filters=f)
    if counts is None or hist is None:
        return _enquiries_by_year_facts(conn, date_from=date_from, date_to=date_to,
                                        sectors=sectors)
    med = median_from_histogram(hist, "year", "days", "enquiries")
    median = dict(zip(med["year"].tolist(), med["days"].tolist(), strict=True))
    years = sorted(zip(counts["year"].tolist(), counts["enquiries"].tolist(), strict=True))
    return columns_frame({"year": np.array([y for y, _ in years], dtype=I64),
                         "enquiries": np.array([n for _, n in years], dtype=I64),
                         "median_days": np.array([median.get(y, np.nan) for y, _ in years],
                                                 dtype=float)})


def _enquiries_by_year_facts(conn: Connection, *, date_from: dt.date, date_to: dt.date,
                             sectors: Sequence[str] = ()) -> pd.DataFrame:
    """`enquiries_by_year` counted from the fact table."""
    e = HelpdeskEnquiry
    y = year_of(e.received_date)
    days = days_between(e.answered_date, e.received_date, conn.dialect.name)
    counts = where_sectors(select(y, func.count()).where(
        e.received_date.between(date_from, date_to)).group_by(y).order_by(y), e.sector_code,
        sectors)
    df = frame(conn, counts, ["year", "enquiries"])
    hist_stmt = where_sectors(
        select(y, days, func.count())
        .where(e.received_date.between(date_from, date_to), e.answered_date.is_not(None))
        .group_by(y, days), e.sector_code, sectors)
    hist = frame(conn, hist_stmt, ["year", "days", "n"])
    med = median_from_histogram(hist, "year", "days", "n").rename(
        columns={"days": "median_days"})
    out = df.merge(med, on="year", how="left")
    out["enquiries"] = out["enquiries"].astype(I64)
    return out


def _by_year(conn: Connection, stmt: Select, name: str, day: ColumnElement,
             upto: dt.date | None) -> pd.DataFrame:
    """Year and count from `stmt` (grouped by year); with `upto`, also `<name>_upto`: the
    rows dated on or before that day, in the same statement (a partly elapsed year compared
    with the same days of the year before needs no second query)."""
    names = ["year", name]
    if upto is not None:
        stmt = stmt.add_columns(func.count().filter(day <= upto))
        names.append(f"{name}_upto")
    return rows_frame(conn.execute(stmt), names, dict.fromkeys(names, I64))


def deals_signed_by_year(conn: Connection, *, date_from: dt.date, date_to: dt.date,
                         sectors: Sequence[str] = (), upto: dt.date | None = None
                         ) -> pd.DataFrame:
    """Technology-transfer deals signed per year (by signature date)."""
    d = TechDeal
    y = year_of(d.signed_date)
    stmt = where_sectors(select(y, func.count()).where(
        d.stage == "signed", d.signed_date.between(date_from, date_to))
        .group_by(y).order_by(y), d.sector_code, sectors)
    return _by_year(conn, stmt, "deals_signed", d.signed_date, upto)


def participations_by_year(conn: Connection, *, date_from: dt.date, date_to: dt.date,
                           sectors: Sequence[str] = (), upto: dt.date | None = None
                           ) -> pd.DataFrame:
    """Japanese participations in Horizon projects per year of project start."""
    p, r = ResearchProject, ResearchParticipation
    y = year_of(p.start_date)
    stmt = where_sectors(
        select(y, func.count()).select_from(r).join(p, p.id == r.project_id)
        .where(r.country_code == "JP", p.start_date.between(date_from, date_to))
        .group_by(y).order_by(y), p.sector_code, sectors)
    return _by_year(conn, stmt, "participations", p.start_date, upto)


def epa_utilisation_by_year(conn: Connection, *, year_from: int, year_to: int,
                            sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Eligible and preferential imports and the utilisation rate per year and direction
    (the EPA page's figures, from the rows it keeps in memory)."""
    return epa.pur_by_year(conn, year_from=year_from, year_to=year_to, sectors=sectors)


def data_dates(conn: Connection) -> dict[str, dt.date | None]:
    """Latest date each family's data reaches ('data as of')."""
    def one(stmt) -> dt.date | None:  # noqa: ANN001
        v = conn.execute(stmt).scalar_one_or_none()
        if isinstance(v, str):
            return dt.date.fromisoformat(v[:10])
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, int):  # a year: the data reach its end, or today if sooner
            return min(dt.date(v, 12, 31), dt.date.today())
        return v

    return {
        "programmes": one(select(func.max(ProgrammeApplication.cycle_year))),
        "helpdesk": one(select(func.max(HelpdeskEnquiry.received_date))),
        "techtransfer": one(select(func.max(TechDeal.opened_date))),
        "research": one(select(func.max(ResearchProject.start_date))),
        "epa": one(select(func.max(EpaUtilisation.year))),
    }


KPI_KINDS: dict[str, str] = {  # how each KPI's change is expressed
    "applications": "count", "selection_rate": "rate", "enquiries": "count",
    "median_days": "days", "deals_signed": "count", "participations": "count",
    "pur_eu_jp": "rate", "pur_jp_eu": "rate",
}


def _pairs(df: pd.DataFrame, col: str, *, where: tuple[str, Any] | None = None
           ) -> list[tuple[int, float]]:
    """(year, value) of the rows with a value, and `where` (column, value) (plain Python:
    a dozen rows per KPI; no pandas masks)."""
    keep = df[where[0]].tolist() if where else [None] * len(df)
    want = where[1] if where else None
    return [(int(y), float(v)) for y, v, k in zip(df["year"].tolist(), df[col].tolist(), keep,
                                                   strict=True)
            if v is not None and v == v and k == want]


def overview_kpis(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str] = (),
                  as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Series and headline figures of every overview KPI.

    Returns (series, headline). `series` has columns kpi, year, value (one row per year of
    the range that has data). `headline` has one row per KPI: kpi, year, value, previous,
    partial (the year is not over: value and previous cover 1 Jan to `as_of`'s day) and
    latest (EPA data lag: the latest year with data at or before `year_to`).
    """
    d1 = dt.date(year_to, 12, 31)
    partial = year_to == as_of.year
    prev_to = None
    if partial:
        try:
            prev_to = as_of.replace(year=year_to - 1)
        except ValueError:  # 29 February
            prev_to = as_of.replace(year=year_to - 1, day=28)
    series: list[tuple] = []
    head: list[dict] = []

    def add(kpi: str, every: list[tuple[int, float]], *,
            before: list[tuple[int, float]] | None = None, is_partial: bool = False,
            latest: bool = False) -> None:
        """A KPI from its (year, value) pairs (`every`, years before the range included)
        and those to compare with (`before`; None: the range's own)."""
        pairs = [(y, v) for y, v in every if y >= year_from]
        series.extend((kpi, y, v) for y, v in pairs)
        by_year = dict(pairs)
        year = year_to
        if latest and by_year:
            year = max(y for y in by_year if y <= year_to)
        value = by_year.get(year)
        previous = dict(before if before is not None else pairs).get(year - 1)
        if KPI_KINDS[kpi] == "count" and by_year:
            # the family has data in the range: a year without rows counts zero
            value = 0.0 if value is None else value
            previous = 0.0 if previous is None and year - 1 >= year_from else previous
        head.append({"kpi": kpi, "year": year, "value": value, "previous": previous,
                     "partial": is_partial, "latest": latest and year != year_to})

    apps = applications_by_year(conn, year_from=year_from - 1, year_to=year_to, sectors=sectors)
    for kpi, col in (("applications", "applications"), ("selection_rate", "selection_rate")):
        add(kpi, _pairs(apps, col))
        if not apps.empty and head[-1]["previous"] is None:
            prev = apps[apps["year"] == year_to - 1]
            head[-1]["previous"] = float(prev[col].iloc[0]) if not prev.empty else None

    def dated(fn, cols: tuple[str, ...], *, upto: bool = False) -> None:  # noqa: ANN001
        if partial and upto:  # one statement: each year's count and its count up to a day
            full = fn(conn, date_from=dt.date(year_from - 1, 1, 1), date_to=d1,
                      sectors=sectors, upto=prev_to)
            for kpi_col in cols:
                add(kpi_col, _pairs(full, kpi_col), before=_pairs(full, f"{kpi_col}_upto"),
                    is_partial=True)
            return
        full = fn(conn, date_from=dt.date(year_from - 1, 1, 1), date_to=d1, sectors=sectors)
        prev_df = full
        if partial:
            prev_df = fn(conn, date_from=dt.date(year_to - 1, 1, 1), date_to=prev_to,
                         sectors=sectors)
        for kpi_col in cols:
            add(kpi_col, _pairs(full, kpi_col), before=_pairs(prev_df, kpi_col),
                is_partial=partial)

    dated(enquiries_by_year, ("enquiries", "median_days"))
    dated(deals_signed_by_year, ("deals_signed",), upto=True)
    dated(participations_by_year, ("participations",), upto=True)

    epa = epa_utilisation_by_year(conn, year_from=year_from - 1, year_to=year_to,
                                  sectors=sectors)
    for kpi, direction in (("pur_eu_jp", "EU_JP"), ("pur_jp_eu", "JP_EU")):
        sub = _pairs(epa, "pur", where=("direction", direction))
        add(kpi, sub, before=sub, latest=True)
    return (pd.DataFrame(series, columns=["kpi", "year", "value"]), pd.DataFrame(head))
