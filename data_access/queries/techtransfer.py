"""Technology transfer: offers and requests, stock of open offers, deal funnel and breakdowns.

Offers and requests are counted by publication year; deals by the year they were opened.
`TechDeal.stage` is the furthest stage a deal has reached, so a deal at 'signed' also passed
contact, NDA and negotiation: the funnel and the "reached at least" filter count cumulatively.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Select, func, select

from data_access import summaries
from data_access.models import TechDeal as D
from data_access.models import TechOffer as O
from data_access.queries.common import (
    F64,
    I64,
    Coded,
    as_date,
    coded_rows,
    frame,
    most_first,
    rows_frame,
    typed,
    where_in,
    where_sectors,
    year_bounds,
    year_of,
)
from data_access.vocab import DEAL_STAGE_CODES

STAGES: tuple[str, ...] = DEAL_STAGE_CODES  # contact -> nda -> negotiation -> signed
UNKNOWN_REGION = "unknown"


def stages_from(min_stage: str | None) -> tuple[str, ...]:
    """The stages a deal may be at to have reached `min_stage` (all stages when None)."""
    if not min_stage or min_stage not in STAGES:
        return STAGES
    return STAGES[STAGES.index(min_stage):]


# ---- Offers and requests --------------------------------------------------------------------
def _offers(stmt: Select, *, sectors: Sequence[str], kinds: Sequence[str]) -> Select:
    stmt = where_sectors(stmt, O.sector_code, sectors)
    return where_in(stmt, O.kind, kinds)


def offers_requests_by_year(conn: Connection, *, year_from: int, year_to: int,
                            sectors: Sequence[str] = (),
                            kinds: Sequence[str] = ()) -> pd.DataFrame:
    """New technology offers and requests published per year (columns year, kind, new)."""
    pre = summaries.offer_events(conn, event="published", year_from=year_from,
                                 year_to=year_to, sectors=sectors, kinds=kinds, count="new")
    if pre is not None:  # pre-counted per year (data_access.summaries)
        return pre
    d0, d1 = year_bounds(year_from, year_to)
    y = year_of(O.published_date)
    stmt = _offers(select(y, O.kind, func.count()).where(O.published_date.between(d0, d1)),
                   sectors=sectors, kinds=kinds)
    stmt = stmt.group_by(y, O.kind).order_by(O.kind, y)
    df = frame(conn, stmt, ["year", "kind", "new"])
    return typed(df, {"year": I64, "new": I64})


def offer_stock_by_year(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (),
                        kinds: Sequence[str] = ()) -> pd.DataFrame:
    """Offers (and requests) published and not withdrawn at each year end.

    Columns year, kind, published (that year), withdrawn (that year), stock (at 31 December,
    or the latest data of a year not over yet). Years start at the first publication and end
    at the last year with data, so a flat line is never drawn past the data.
    """
    _, d1 = year_bounds(year_from, year_to)
    # Two small histograms (publications and withdrawals per year) rather than a row per
    # offer: the stock at a year end is published-so-far minus withdrawn-so-far. Both are
    # pre-counted (data_access.summaries); the offers are read only when those are stale.
    pub = summaries.offer_events(conn, event="published", year_to=year_to, sectors=sectors,
                                 kinds=kinds, count="n")
    wd = summaries.offer_events(conn, event="withdrawn", year_to=year_to, sectors=sectors,
                                kinds=kinds, count="n")
    if pub is None or wd is None:
        yp = year_of(O.published_date)
        pub = frame(conn, _offers(select(yp, O.kind, func.count())
                                  .where(O.published_date <= d1), sectors=sectors,
                                  kinds=kinds).group_by(yp, O.kind), ["year", "kind", "n"])
        yw = year_of(O.withdrawn_date)
        wd = frame(conn, _offers(select(yw, O.kind, func.count())
                                 .where(O.published_date <= d1, O.withdrawn_date.is_not(None),
                                        O.withdrawn_date <= d1), sectors=sectors, kinds=kinds)
                   .group_by(yw, O.kind), ["year", "kind", "n"])
    cols = ["year", "kind", "published", "withdrawn", "stock"]
    if pub.empty:
        return pd.DataFrame(columns=cols)
    # plain dicts and running sums: pandas steps per kind and year cost more than the query
    per_kind: list[dict[str, dict[int, int]]] = [{}, {}]  # published, withdrawn
    for events, f in zip(per_kind, (pub, wd), strict=True):
        for y, kind, n in zip(f["year"].tolist(), f["kind"].tolist(), f["n"].tolist(),
                              strict=True):
            d = events.setdefault(kind, {})
            d[int(y)] = d.get(int(y), 0) + int(n)
    last = max(y for d in (*per_kind[0].values(), *per_kind[1].values()) for y in d)
    out = []
    for kind in sorted(per_kind[0]):
        p, w = per_kind[0][kind], per_kind[1].get(kind, {})
        start = max(year_from, min(p))
        published_to = sum(n for y, n in p.items() if y < start)
        withdrawn_to = sum(n for y, n in w.items() if y < start)
        for year in range(start, min(year_to, last) + 1):
            published_to += p.get(year, 0)
            withdrawn_to += w.get(year, 0)
            out.append((year, kind, p.get(year, 0), w.get(year, 0),
                        published_to - withdrawn_to))
    return rows_frame(out, cols, {"year": I64, "published": I64, "withdrawn": I64,
                                  "stock": I64})


# ---- Deals ----------------------------------------------------------------------------------
_DEAL_COLUMNS = ("opened_date", "stage", "sector_code", "deal_type", "eu_country_code",
                 "jp_region")


def _deals(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str],
           min_stage: str | None, deal_types: Sequence[str], eu_countries: Sequence[str],
           jp_regions: Sequence[str]) -> tuple[Coded, np.ndarray]:
    """The deals (kept in memory: a few thousand rows every deal chart groups by another
    column, see `common.coded_rows`) and which of them match the filters."""
    deals = coded_rows(conn, D, _DEAL_COLUMNS)
    d0, d1 = year_bounds(year_from, year_to)
    m = deals.where("opened_date", lambda d: d is not None and d0 <= as_date(d) <= d1)
    m &= deals.among("stage", stages_from(min_stage))
    for col, wanted in (("sector_code", sectors), ("deal_type", deal_types),
                        ("eu_country_code", eu_countries)):
        if wanted:
            m &= deals.among(col, wanted)
    if jp_regions:  # a deal without a region is shown as "unknown"
        m &= deals.among("jp_region", [None if r == UNKNOWN_REGION else r for r in jp_regions])
    return deals, m


def warm(conn: Connection) -> None:
    """Read the deals into memory now (at start, see `programmes.warm`)."""
    coded_rows(conn, D, _DEAL_COLUMNS)


def deal_funnel(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str] = (),
                min_stage: str | None = None, deal_types: Sequence[str] = (),
                eu_countries: Sequence[str] = (),
                jp_regions: Sequence[str] = ()) -> pd.DataFrame:
    """Deals that reached each stage, with the conversion from the stage before.

    Columns stage, deals (reached this stage or a later one), conversion (share of the
    previous stage's deals that got this far; empty for the first stage) and share (of the
    first stage shown). With `min_stage`, the funnel starts at that stage.
    """
    deals, m = _deals(conn, year_from=year_from, year_to=year_to, sectors=sectors,
                      min_stage=min_stage, deal_types=deal_types, eu_countries=eu_countries,
                      jp_regions=jp_regions)
    at = {stage: n for stage, n in deals.groups("stage", m)}
    cols = ["stage", "deals", "conversion", "share"]
    shown = stages_from(min_stage)
    if sum(at.values()) == 0:
        return pd.DataFrame(columns=cols)
    reached = [sum(int(at.get(s, 0)) for s in shown[i:]) for i in range(len(shown))]
    first = reached[0]
    rows = [(stage, n,
             # None (not NaN) where there is no stage before: tables show an empty cell
             n / reached[i - 1] if i and reached[i - 1] > 0 else None,
             n / first if first else float("nan"))
            for i, (stage, n) in enumerate(zip(shown, reached, strict=True))]
    return rows_frame(rows, cols, {"deals": I64, "share": F64})


def _deals_by(conn: Connection, col: str, name: str, **filters: Any) -> pd.DataFrame:
    deals, m = _deals(conn, **filters)
    signed = deals.among("stage", ["signed"]).astype(np.int64)
    return rows_frame(deals.groups(col, m, signed), [name, "deals", "signed"],
                      {"deals": I64, "signed": I64}, sort=most_first(1))


def deals_by_sector(conn: Connection, *, year_from: int, year_to: int,
                    sectors: Sequence[str] = (), min_stage: str | None = None,
                    deal_types: Sequence[str] = (), eu_countries: Sequence[str] = (),
                    jp_regions: Sequence[str] = ()) -> pd.DataFrame:
    """Deals and signed deals per sector (most deals first)."""
    return _deals_by(conn, "sector_code", "sector", year_from=year_from, year_to=year_to,
                     sectors=sectors, min_stage=min_stage, deal_types=deal_types,
                     eu_countries=eu_countries, jp_regions=jp_regions)


def deals_by_type(conn: Connection, *, year_from: int, year_to: int,
                  sectors: Sequence[str] = (), min_stage: str | None = None,
                  deal_types: Sequence[str] = (), eu_countries: Sequence[str] = (),
                  jp_regions: Sequence[str] = ()) -> pd.DataFrame:
    """Deals and signed deals per deal type (licence, R&D cooperation, ...)."""
    return _deals_by(conn, "deal_type", "deal_type", year_from=year_from, year_to=year_to,
                     sectors=sectors, min_stage=min_stage, deal_types=deal_types,
                     eu_countries=eu_countries, jp_regions=jp_regions)


def deals_by_eu_country(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), min_stage: str | None = None,
                        deal_types: Sequence[str] = (), eu_countries: Sequence[str] = (),
                        jp_regions: Sequence[str] = ()) -> pd.DataFrame:
    """Deals and signed deals per EU party's member state."""
    return _deals_by(conn, "eu_country_code", "eu_country", year_from=year_from,
                     year_to=year_to, sectors=sectors, min_stage=min_stage,
                     deal_types=deal_types, eu_countries=eu_countries, jp_regions=jp_regions)


def deals_by_jp_region(conn: Connection, *, year_from: int, year_to: int,
                       sectors: Sequence[str] = (), min_stage: str | None = None,
                       deal_types: Sequence[str] = (), eu_countries: Sequence[str] = (),
                       jp_regions: Sequence[str] = ()) -> pd.DataFrame:
    """Deals and signed deals per Japanese party's region ('unknown' when not given)."""
    df = _deals_by(conn, "jp_region", "jp_region", year_from=year_from, year_to=year_to,
                   sectors=sectors, min_stage=min_stage, deal_types=deal_types,
                   eu_countries=eu_countries, jp_regions=jp_regions)
    df["jp_region"] = df["jp_region"].fillna(UNKNOWN_REGION)
    return df
