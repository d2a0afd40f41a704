"""Help-desk summary tables: enquiries pre-counted far below the fact table's grain.

The fact table holds millions of enquiries; every help-desk chart and KPI only needs counts
(or a days-to-answer histogram) per month and a few categories. `rebuild(conn)` recomputes
them with INSERT ... SELECT ... GROUP BY inside the caller's transaction, so a load commits
its rows and their summaries together; `data_access.demo._after_load` calls it after every
demo load and demo removal. An import calls `refresh(conn, before, years)` instead: only the
years of receipt its rows touched are deleted and recounted (none for an import of other
data), a few seconds at millions of enquiries where a rebuild takes most of a minute. After
either commits, `tidy(engine)` vacuums the summary tables on PostgreSQL (the deleted rows
would otherwise stay on disk where autovacuum is off or behind).

Layout. A *cuboid* is one grouping of the enquiries: a time grain (month or year; `ym` is
year * 100 + month, or year * 100) and a subset of the dimensions desk, topic, sector,
requester type and country. Each cuboid's rows live in one table (`helpdesk_summary`) with
'' in the dimensions it rolls up, told apart by the `cuboid` number. A query asks for the
smallest cuboid holding every dimension it groups by or filters on; as the primary key
starts with the cuboid and the dimensions, the query reads just its slice (a few hundred to a
few thousand rows, whatever the size of the fact table). `helpdesk_days_summary` does the
same for days to answer, one row per cell and month holding that month's histogram as text.

Rebuilding reads the fact table once for counts and once for days to answer, into temporary
staging tables (no index, no journal), and derives every cuboid from the smallest staging
table or cuboid that contains it: only the small cuboids are written to indexed tables.

Periods that start or end inside a month (the top-topics comparison, the overview's "same
period last year") read daily counts for those few months (`helpdesk_daily_*`, filled for
the months such periods can touch) or, for a combination not pre-counted, the fact table for
at most one month at each end.

Technology offers get one small table too (`tech_offer_summary`: offers published and
withdrawn per year, kind and sector), read by the offer charts instead of every offer.

Summaries are trusted only when fresh: `rebuild` records the fact tables' newest ids, and a
query finding others (rows written without the hook, e.g. by a test) gets None and reads the
fact table itself.

    python -m data_access.summaries [--database-url URL]   # rebuild and print the timings
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import logging
import os
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Select,
    SmallInteger,
    String,
    Table,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from data_access.models import HelpdeskDailyDaysSummary as DDS
from data_access.models import HelpdeskDailySummary as DS
from data_access.models import HelpdeskDaysSummary as HD
from data_access.models import HelpdeskEnquiry as E
from data_access.models import HelpdeskSummary as HS
from data_access.models import Meta
from data_access.models import TechOffer as O
from data_access.models import TechOfferSummary as OS
from data_access.queries.common import as_date, columns_frame, database_key, group_index

# Dimension name -> column name (the same in the fact table and the summaries).
DIMS: dict[str, str] = {"desk": "desk", "topic": "topic", "sector": "sector_code",
                        "requester": "requester_type", "country": "country_code"}
ALL = ""  # the value of a rolled-up dimension
META_KEY = "helpdesk_summary"
log = logging.getLogger(__name__)

_D, _T, _S, _R, _C = "desk", "topic", "sector", "requester", "country"


@dataclass(frozen=True)
class Cuboid:
    """One grouping: time grain ('month' or 'year'), the dimensions kept, and whether it is
    stored (queried) or only a temporary step to derive others from."""

    grain: str
    dims: frozenset[str]
    stored: bool = True

    def key(self) -> list[Any]:
        """JSON form (the status records what was built)."""
        return [self.grain, sorted(self.dims), self.stored]


def _cuboids(*specs: tuple[Any, ...]) -> tuple[Cuboid, ...]:
    return tuple(Cuboid(g, frozenset(d), *rest) for g, d, *rest in specs)


# Cuboids in build order. The first is counted from the fact table into a temporary table;
# every other one comes from the smallest cuboid before it that contains it. Chosen so that
# each chart's usual filters (years; sectors; a desk or topic; one clicked requester type or
# country) hit a small one: year-grain cuboids serve the charts of whole years (topic mix,
# requester, country; the finest year one holds every combination of filters), month-grain
# ones the monthly chart, the days chart and period ends. A combination no stored cuboid
# holds (month grain with requester type and country together) reads the fact table.
COUNT_CUBOIDS: tuple[Cuboid, ...] = _cuboids(
    ("month", (_D, _T, _S, _R, _C), False),
    ("year", (_D, _T, _S, _R, _C)),
    ("month", (_D, _T, _S, _R)),
    ("month", (_D, _T, _S, _C)),
    ("month", (_D, _S, _C)),
    ("month", (_D, _T, _C)),
    ("month", (_D, _R, _C)),
    ("month", (_D, _T, _S)),
    ("month", (_D, _S, _R)),
    ("month", (_D, _T, _R)),
    ("month", (_D, _C)),
    ("month", (_D, _S)),
    ("month", (_D, _T)),
    ("month", (_D, _R)),
    ("month", (_D,)),
    ("year", (_D, _T, _S, _R)),
    ("year", (_D, _T, _S, _C)),
    ("year", (_D, _S, _R, _C)),
    ("year", (_D, _T, _R, _C)),
    ("year", (_D, _S, _C)),
    ("year", (_D, _T, _C)),
    ("year", (_D, _R, _C)),
    ("year", (_D, _T, _S)),
    ("year", (_D, _S, _R)),
    ("year", (_D, _T, _R)),
    ("year", (_D, _C)),
    ("year", (_D, _S)),
    ("year", (_D, _T)),
    ("year", (_D, _R)),
    ("year", (_D,)),
)
# Days-to-answer histograms, month grain (the chart is per month or quarter). Country is kept
# out of the finest one (it would multiply it by forty); a second root with country gives
# the cuboids that serve the days chart when a country is clicked (a cuboid no earlier one
# contains is counted from the fact table itself).
DAYS_CUBOIDS: tuple[Cuboid, ...] = _cuboids(
    ("month", (_D, _T, _S, _R)),
    ("month", (_D, _T, _S)),
    ("month", (_D, _T, _R)),
    ("month", (_D, _S)),
    ("month", (_D, _T)),
    ("month", (_D, _R)),
    ("month", (_D,)),
    ("month", ()),
    ("month", (_D, _T, _S, _C)),
    ("month", (_D, _S, _C)),
    ("month", (_D, _T, _C)),
    ("month", (_D, _C)),
)
DAILY_DIMS = frozenset((_D, _T, _S))  # helpdesk_daily_summary
DAILY_DAYS_DIMS = frozenset((_S,))  # helpdesk_daily_days_summary


# ---- SQL expressions ------------------------------------------------------------------------
def ym_of(col: ColumnElement, dialect: str) -> ColumnElement[int]:
    """year * 100 + month of a date column, as an integer (cheap on both dialects)."""
    if dialect == "sqlite":  # dates are 'YYYY-MM-DD' text: '2019-04' -> 201904
        return cast(func.replace(func.substr(col, 1, 7), "-", ""), Integer)
    return cast(func.to_char(col, "YYYYMM"), Integer)


def days_to_answer(dialect: str) -> ColumnElement[int]:
    """Whole days from receipt to answer of a fact row."""
    if dialect == "postgresql":
        return E.answered_date - E.received_date
    return cast(func.julianday(E.answered_date) - func.julianday(E.received_date), Integer)


def time_of(ym: ColumnElement, grain: str | None) -> ColumnElement | None:
    """A `ym` column as year, month (ym), quarter (year * 10 + q) or None (no time)."""
    if grain is None:
        return None
    if grain == "month":
        return ym
    if grain == "year":
        return ym // 100
    if grain == "quarter":
        return (ym // 100) * 10 + ((ym % 100) + 2) // 3
    raise ValueError(f"unknown time grain {grain!r}")


def ym(d: dt.date) -> int:
    """year * 100 + month of a date."""
    return d.year * 100 + d.month


def month_end(d: dt.date) -> dt.date:
    """The last day of `d`'s month."""
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


# ---- Status ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    """What the last rebuild wrote: per-cuboid sizes, data span, months with daily rows."""

    max_id: int | None
    offer_max_id: int | None
    first: dt.date | None
    last: dt.date | None
    count_rows: tuple[int, ...]
    days_rows: tuple[int, ...]
    daily_months: frozenset[int]
    seconds: float
    build: str = ""  # unique per build: what the in-memory copies are checked against

    def to_json(self) -> str:
        """The meta-table form."""
        return json.dumps({
            "max_id": self.max_id, "offer_max_id": self.offer_max_id,
            "first": self.first and self.first.isoformat(),
            "last": self.last and self.last.isoformat(), "count_rows": self.count_rows,
            "days_rows": self.days_rows, "daily_months": sorted(self.daily_months),
            "seconds": self.seconds, "build": self.build, "cuboids": _definition()})

    @classmethod
    def from_json(cls, raw: str) -> Status | None:
        """Parse the meta value; None when it describes other cuboids (an older build)."""
        s = json.loads(raw)
        if s.get("cuboids") != _definition() or "offer_max_id" not in s:
            return None

        def day(v: str | None) -> dt.date | None:
            return dt.date.fromisoformat(v) if v else None

        return cls(s["max_id"], s["offer_max_id"], day(s["first"]), day(s["last"]),
                   tuple(s["count_rows"]),
                   tuple(s["days_rows"]), frozenset(s["daily_months"]), s["seconds"],
                   s.get("build", ""))


def _definition() -> list[Any]:
    # (the last item names the histogram text format: a change makes older builds stale)
    return [[c.key() for c in COUNT_CUBOIDS], [c.key() for c in DAYS_CUBOIDS], "pairs-1"]


# The status as read on each connection (one `service.run` call): a query function asks
# several times, and the pages only read. (Code that changes the facts rebuilds the summaries,
# which forgets the memo of its connection.)
_STATUS: weakref.WeakKeyDictionary[Connection, Status | None] = weakref.WeakKeyDictionary()


def status(conn: Connection) -> Status | None:
    """The summaries' status when they match the fact table, else None (read the facts)."""
    if conn not in _STATUS:
        _STATUS[conn] = _read_status(conn)
    return _STATUS[conn]


def _read_status(conn: Connection) -> Status | None:
    row = conn.execute(select(Meta.value, select(func.max(E.id)).scalar_subquery(),
                              select(func.max(O.id)).scalar_subquery())
                       .where(Meta.key == META_KEY)).one_or_none()
    if row is None:
        return None
    st = Status.from_json(row[0])
    if st is None or row[1] != st.max_id or row[2] != st.offer_max_id:
        return None
    return st


def span(conn: Connection) -> tuple[dt.date | None, dt.date | None] | None:
    """(first, last) received date from the summaries, None when they are not fresh."""
    st = status(conn)
    return None if st is None else (st.first, st.last)


# ---- Rebuild --------------------------------------------------------------------------------
# Primary-key order of the cell columns (inserting in this order appends to the b-tree).
_CELL_ORDER: tuple[tuple[str, str], ...] = (("sector", "sector_code"),
                                            ("country", "country_code"),
                                            ("requester", "requester_type"),
                                            ("topic", "topic"), ("desk", "desk"))
_CELL_COLS = [col for _, col in _CELL_ORDER]


def _tune(conn: Connection) -> None:
    """Give the big GROUP BYs memory (PostgreSQL hashes in memory instead of sorting on
    disk) or threads (SQLite sorts them with two helper threads: a quarter faster)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA threads = 2")


def _cell(cols: Any, dims: frozenset[str]) -> list[ColumnElement]:
    """The five cell columns of `cols` (a column collection), '' for dims not in `dims`."""
    return [getattr(cols, col) if dim in dims else literal(ALL) for dim, col in _CELL_ORDER]


def _keys(cols: Any, dims: frozenset[str]) -> list[ColumnElement]:
    return [getattr(cols, col) for dim, col in _CELL_ORDER if dim in dims]


def _derivable(parent: Cuboid, child: Cuboid) -> bool:
    return child.dims <= parent.dims and (parent.grain == "month" or child.grain == "year")


def _stage(conn: Connection, name: str, *, with_days: bool) -> Table:
    """A temporary table of plain rows (no key, no journal) for one step of the rebuild."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    cols = [Column(c, String(32)) for c in _CELL_COLS] + [Column("ym", Integer)]
    if with_days:
        cols.append(Column("days", Integer))
    table = Table(name, MetaData(), *cols, Column("enquiries", Integer),
                  prefixes=["TEMPORARY"])
    table.create(conn)
    return table


def _fill(conn: Connection, target: Table, columns: Sequence[str], stmt: Select) -> int:
    ins = insert(target).from_select(list(columns), stmt)
    return conn.execute(ins.execution_options(preserve_rowcount=True)).rowcount


@dataclass
class _Built:
    cuboid: Cuboid
    rows: int
    table: Table
    cid: int | None  # its number in the stored table, None for a staging table


def _derive(conn: Connection, parent: _Built, child: Cuboid, target: Table,
            cid: int | None, *, with_days: bool,
            runs: Sequence[tuple[int, int]] | None = None) -> int:
    """INSERT the `child` grouping of `parent`'s rows into `target` (cuboid `cid`); only
    those of the years `runs` ((first, last) year pairs; None: all) from a stored parent
    (a staging table holds only the rows being counted)."""
    pc = parent.table.c
    t = pc.ym if child.grain == parent.cuboid.grain else (pc.ym // 100) * 100
    more = [pc.days] if with_days else []
    keys = [*_keys(pc, child.dims), t, *more]
    head = [literal(cid, SmallInteger)] if cid is not None else []
    stmt = select(*head, *_cell(pc, child.dims), t, *more, func.sum(pc.enquiries))
    if parent.cid is not None:
        stmt = stmt.where(pc.cuboid == parent.cid)
        if runs is not None:
            stmt = stmt.where(_in_years(pc.ym, runs))
    stmt = stmt.group_by(*keys)
    if cid is not None:  # key order: the primary-key b-tree is appended to, not split
        stmt = stmt.order_by(*keys)
    cols = ((["cuboid"] if cid is not None else []) + _CELL_COLS + ["ym"]
            + (["days"] if with_days else []) + ["enquiries"])
    return _fill(conn, target, cols, stmt)


def _pack(conn: Connection, stage: Table, cid: int, dims: frozenset[str]) -> int:
    """One helpdesk_days_summary row per cell and month, its histogram as the text
    'days count days count ...' (numpy reads thousands of those pairs in a millisecond)."""
    sc = stage.c
    pair = cast(sc.days, String) + " " + cast(sc.enquiries, String)
    if conn.dialect.name == "postgresql":
        hist = func.string_agg(pair, literal(" "))
    else:
        hist = func.group_concat(pair, " ")
    keys = [*_keys(sc, dims), sc.ym]
    stmt = (select(literal(cid, SmallInteger), *_cell(sc, dims), sc.ym,
                   func.sum(sc.enquiries), hist).group_by(*keys).order_by(*keys))
    return _fill(conn, HD.__table__, ["cuboid", *_CELL_COLS, "ym", "enquiries", "histogram"],
                 stmt)


def _parent(built: Sequence[_Built], child: Cuboid) -> _Built | None:
    """The smallest built cuboid `child` can be derived from (None: count it from the facts)."""
    fits = [b for b in built if _derivable(b.cuboid, child)]
    return min(fits, key=lambda b: b.rows) if fits else None


def year_of_date(col: ColumnElement, dialect: str) -> ColumnElement[int]:
    """The year of a date column as an integer (a substring on SQLite's ISO text dates)."""
    if dialect == "sqlite":
        return cast(func.substr(col, 1, 4), Integer)
    return cast(func.extract("year", col), Integer)


def _offer_events(conn: Connection) -> None:
    """Technology offers published and withdrawn per year, kind and sector (a few hundred
    rows: the offer charts read these instead of scanning every offer)."""
    for event, col, where in (("published", O.published_date, None),
                              ("withdrawn", O.withdrawn_date, O.withdrawn_date.is_not(None))):
        y = year_of_date(col, conn.dialect.name)
        stmt = select(literal(event), O.kind, O.sector_code, y, func.count())
        if where is not None:
            stmt = stmt.where(where)
        conn.execute(insert(OS).from_select(["event", "kind", "sector_code", "year", "offers"],
                                            stmt.group_by(O.kind, O.sector_code, y)))


# (database, what) -> (the status it was read under, the copy): summary tables kept in memory
_KEPT: dict[tuple[str, Any], tuple[Status, Any]] = {}
_LOADING: set[tuple[str, Any, str]] = set()  # (database, what, build) being read in a thread
_LOADING_LOCK = threading.Lock()


def _kept(conn: Connection, st: Status, what: Any, read: Callable[[Connection], Any], *,
          wait: bool = True) -> Any:
    """A copy of (part of) the summaries made by `read(conn)`, kept until the next build.

    With `wait=False` a copy not made yet for this build is made in a thread, on a
    connection of its own, and None is returned meanwhile (the caller reads the table
    with SQL): after an import, a worker's first requests do not wait for the bigger
    cuboids to be read again."""
    key = (database_key(conn), what)
    held = _KEPT.get(key)
    if held is not None and held[0] == st:
        return held[1]
    url = conn.engine.url
    if wait or url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        _KEPT[key] = (st, read(conn))  # (an in-memory SQLite database has one connection)
        return _KEPT[key][1]
    job = (*key, st.build)
    with _LOADING_LOCK:
        if job in _LOADING:
            return None
        _LOADING.add(job)
    threading.Thread(target=_load, args=(conn.engine, st, key, job, read), daemon=True,
                     name="summaries-load").start()
    return None


def _load(engine: Any, st: Status, key: tuple[str, Any], job: tuple[str, Any, str],
          read: Callable[[Connection], Any]) -> None:
    try:
        with engine.connect() as conn:
            if _read_status(conn) == st:  # (not if the summaries changed meanwhile)
                _KEPT[key] = (st, read(conn))
    except Exception:  # noqa: BLE001 - a copy is an optimisation: the reads use SQL meanwhile
        log.exception("reading a summary cuboid into memory failed")
    finally:
        with _LOADING_LOCK:
            _LOADING.discard(job)


def _offer_rows(conn: Connection, st: Status) -> list[tuple[str, str, str, int, int]]:
    """The offer summary (a few hundred rows), read once per summary build and process."""
    return _kept(conn, st, "offers", lambda c: [
        (e, k, s, int(y), int(n)) for e, k, s, y, n in c.execute(
            select(OS.event, OS.kind, OS.sector_code, OS.year, OS.offers))])


def offer_events(conn: Connection, *, event: str, year_from: int | None = None,
                 year_to: int | None = None, sectors: Sequence[str] = (),
                 kinds: Sequence[str] = (), count: str = "offers") -> pd.DataFrame | None:
    """Offers published (or withdrawn) per year and kind, within [year_from, year_to] and the
    given sectors and kinds (empty: all): columns year, kind and `count` (kind, then year
    order). None when the summaries are not fresh (the caller reads the offers themselves).
    Counted in memory: no statement."""
    st = status(conn)
    if st is None:
        return None
    lo = year_from if year_from is not None else -1
    hi = year_to if year_to is not None else 10_000
    sector_set, kind_set = set(sectors), set(kinds)
    sums: dict[tuple[str, int], int] = {}
    for e, kind, sector, year, n in _offer_rows(conn, st):
        if (e == event and lo <= year <= hi and (not sector_set or sector in sector_set)
                and (not kind_set or kind in kind_set)):
            sums[kind, year] = sums.get((kind, year), 0) + n
    keys = sorted(k for k, n in sums.items() if n)
    return columns_frame({"year": np.array([y for _, y in keys], dtype=np.int64),
                          "kind": np.array([k for k, _ in keys], dtype=object),
                          count: np.array([sums[k] for k in keys], dtype=np.int64)})


def candidate_months(first: dt.date | None, last: dt.date | None,
                     today: dt.date) -> set[int]:
    """Months (ym) where a compared period can start or end mid-month: where the top-topics
    comparison's period before starts, for every year range, and this month last year (the
    overview compares the year so far with the same days of the year before)."""
    out = {ym(today.replace(day=1, year=today.year - 1))}
    if first is None or last is None:
        return out
    try:
        from data_access.queries.helpdesk import comparison_periods
    except ImportError:  # pragma: no cover - the help-desk queries always exist
        return out
    for y0 in range(first.year, last.year + 1):
        for y1 in range(y0, last.year + 1):
            p = comparison_periods(y0, y1, last)
            if p is not None and p[2].day != 1 and p[2] >= first.replace(day=1):
                out.add(ym(p[2]))
    return out


def rebuild(conn: Connection, *, today: dt.date | None = None) -> Status:
    """Recompute every help-desk summary from the fact table, in the caller's transaction."""
    return _build(conn, None, None, today)


def refresh(conn: Connection, before: Status | None, years: Iterable[int], *,
            today: dt.date | None = None) -> Status:
    """Bring the summaries up to date after a change that touched only the enquiries
    received in `years` (an import: the years of its new rows and of the rows it changed,
    before and after; none for an import of another kind), in the caller's transaction.

    `before` is `status(conn)` read before the change: when the summaries matched the facts
    then, only those years are recounted (seconds, not the minute a full rebuild takes at
    millions of enquiries); otherwise everything is rebuilt. The small summaries (offers,
    the daily counts of period ends) are always recomputed."""
    if before is None:
        return rebuild(conn, today=today)
    return _build(conn, before, sorted(set(years)), today)


SUMMARY_TABLES = (HS, HD, DS, DDS, OS)


def tidy(engine: Any) -> None:
    """After a committed rebuild or refresh, on PostgreSQL: VACUUM (ANALYZE) the summary
    tables, on a connection of its own (not in a transaction). Recounting deletes the old
    rows, which stay on disk as dead rows until a vacuum; where autovacuum is off or behind
    (this machine's server runs without it), each full rebuild left 1.4M more at 5M
    enquiries, the tables grew to seven times their size (1.1 GB for 170 MB) and the
    slowest page requests took 30-40 ms. ~1.6 s at 5M. SQLite reuses freed pages by itself:
    nothing to do there."""
    if engine.dialect.name != "postgresql":
        return
    names = ", ".join(m.__tablename__ for m in SUMMARY_TABLES)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {names}")


def _runs(years: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted years as runs of consecutive years: [2015, 2016, 2019] -> [(2015, 2016),
    (2019, 2019)]."""
    out: list[tuple[int, int]] = []
    for y in years:
        if out and out[-1][1] == y - 1:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return out


def _in_years(ym_col: ColumnElement, runs: Sequence[tuple[int, int]]) -> ColumnElement[bool]:
    """A `ym` column within the years `runs` (a year-grain row's ym is year * 100)."""
    return or_(*(ym_col.between(a * 100, b * 100 + 99) for a, b in runs))


def _build(conn: Connection, before: Status | None, years: Sequence[int] | None,
           today: dt.date | None) -> Status:
    """Recount everything (`years` None) or only the enquiries received in `years`, whose
    summary rows are deleted first; `before` then gives the other cuboid sizes."""
    t0 = time.perf_counter()
    _STATUS.pop(conn, None)
    dialect = conn.dialect.name
    _tune(conn)
    conn.execute(delete(OS))
    _offer_events(conn)
    count_rows = [0] * len(COUNT_CUBOIDS)
    days_rows = [0] * len(DAYS_CUBOIDS)
    facts: ColumnElement[bool] | None = None  # which fact rows to count (None: all)
    if years is None:
        for model in (HS, HD):
            conn.execute(delete(model))
    else:
        assert before is not None
        count_rows, days_rows = list(before.count_rows), list(before.days_rows)
        runs = _runs(years)
        if runs:
            facts = or_(*(E.received_date.between(dt.date(a, 1, 1), dt.date(b, 12, 31))
                          for a, b in runs))
            for model, sizes, cuboids in ((HS, count_rows, COUNT_CUBOIDS),
                                          (HD, days_rows, DAYS_CUBOIDS)):
                for cid, c in enumerate(cuboids):
                    if c.stored:
                        gone = conn.execute(
                            delete(model).where(model.cuboid == cid, _in_years(model.ym, runs))
                            .execution_options(preserve_rowcount=True))
                        sizes[cid] -= gone.rowcount
    if years is None or years:
        _count(conn, facts, count_rows, days_rows,
               runs=None if years is None else _runs(years))

    first, last = conn.execute(select(
        select(func.min(E.received_date)).scalar_subquery(),
        select(func.max(E.received_date)).scalar_subquery())).one()
    first, last = as_date(first), as_date(last)
    months = candidate_months(first, last, today or dt.date.today()) if last else set()
    redo = set(months)
    if before is not None and years is not None:  # keep the months whose days did not change
        redo = {mm for mm in months
                if mm // 100 in years or mm not in before.daily_months}
        for mm in sorted(redo | (before.daily_months - months)):
            start = dt.date(mm // 100, mm % 100, 1)
            for model in (DS, DDS):
                conn.execute(delete(model).where(
                    model.received_date.between(start, month_end(start))))
    else:
        for model in (DS, DDS):
            conn.execute(delete(model))
    days = days_to_answer(dialect)
    for mm in sorted(redo):
        start = dt.date(mm // 100, mm % 100, 1)
        in_month = E.received_date.between(start, month_end(start))
        conn.execute(insert(DS).from_select(
            ["received_date", "sector_code", "topic", "desk", "enquiries"],
            select(E.received_date, E.sector_code, E.topic, E.desk, func.count())
            .where(in_month).group_by(E.received_date, E.sector_code, E.topic, E.desk)))
        conn.execute(insert(DDS).from_select(
            ["received_date", "sector_code", "days", "enquiries"],
            select(E.received_date, E.sector_code, days, func.count())
            .where(in_month, E.answered_date.is_not(None))
            .group_by(E.received_date, E.sector_code, days)))
    max_id = conn.execute(select(func.max(E.id))).scalar()
    offer_max_id = conn.execute(select(func.max(O.id))).scalar()
    if dialect == "postgresql" and years is None:  # fresh statistics: reads use the keys
        for model in SUMMARY_TABLES:
            conn.execute(text(f"ANALYZE {model.__tablename__}"))
    st = Status(max_id, offer_max_id, first, last, tuple(count_rows), tuple(days_rows),
                frozenset(months), round(time.perf_counter() - t0, 3), uuid.uuid4().hex)
    conn.execute(delete(Meta).where(Meta.key == META_KEY))
    conn.execute(insert(Meta).values(key=META_KEY, value=st.to_json()))
    _STATUS.pop(conn, None)
    return st


def _count(conn: Connection, facts: ColumnElement[bool] | None, count_rows: list[int],
           days_rows: list[int], *, runs: Sequence[tuple[int, int]] | None) -> None:
    """Count the fact rows `facts` (None: all; else those received in the years `runs`) into
    every cuboid: the finest grouping from the fact table into a staging table, then each
    cuboid from the smallest one before it that holds it. `count_rows` / `days_rows` get
    each stored cuboid's rows (added to, when counting some years only, else set) and each
    staging step's."""
    added = runs is not None
    m = ym_of(E.received_date, conn.dialect.name)
    days = days_to_answer(conn.dialect.name)
    ec = E.__table__.c
    stages: list[Table] = []

    def size(sizes: list[int], cid: int, n: int, stored: bool) -> None:
        sizes[cid] = sizes[cid] + n if added and stored else n

    top = COUNT_CUBOIDS[0]
    stage = _stage(conn, "hd_stage_c0", with_days=False)
    stages.append(stage)
    root = select(*_cell(ec, top.dims), m, func.count())
    if facts is not None:
        root = root.where(facts)
    n = _fill(conn, stage, [*_CELL_COLS, "ym", "enquiries"],
              root.group_by(*_keys(ec, top.dims), m))
    size(count_rows, 0, n, top.stored)
    built = [_Built(top, n, stage, None)]
    for cid, c in enumerate(COUNT_CUBOIDS[1:], 1):
        parent = _parent(built, c)
        assert parent is not None, c  # the first count cuboid holds every dimension
        if c.stored:
            target, number = HS.__table__, cid
        else:
            target, number = _stage(conn, f"hd_stage_c{cid}", with_days=False), None
            stages.append(target)
        n = _derive(conn, parent, c, target, number, with_days=False, runs=runs)
        size(count_rows, cid, n, c.stored)
        built.append(_Built(c, n, target, number))

    # days to answer: plain staging histograms, each packed into one text row per cell+month
    dbuilt: list[_Built] = []
    for c in DAYS_CUBOIDS:
        target = _stage(conn, f"hd_stage_d{len(dbuilt)}", with_days=True)
        stages.append(target)
        parent = _parent(dbuilt, c)
        if parent is not None:
            n = _derive(conn, parent, c, target, None, with_days=True)
        else:  # a root: counted from the fact table
            stmt = (select(*_cell(ec, c.dims), m, days, func.count())
                    .where(E.answered_date.is_not(None)))
            if facts is not None:
                stmt = stmt.where(facts)
            n = _fill(conn, target, [*_CELL_COLS, "ym", "days", "enquiries"],
                      stmt.group_by(*_keys(ec, c.dims), m, days))
        dbuilt.append(_Built(c, n, target, None))
    for cid, b in enumerate(dbuilt):
        n = _pack(conn, b.table, cid, b.cuboid.dims) if b.cuboid.stored else b.rows
        size(days_rows, cid, n, b.cuboid.stored)
    for stage in stages:
        stage.drop(conn)


# ---- Reading --------------------------------------------------------------------------------
Filters = Mapping[str, Sequence[str] | None]


def _active(filters: Filters) -> dict[str, list[str]]:
    unknown = set(filters) - set(DIMS)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}")
    return {d: list(v) for d, v in filters.items() if v}


def pick(cuboids: Sequence[Cuboid], rows: Sequence[int], needed: Iterable[str], *,
         years: bool) -> int | None:
    """The smallest cuboid holding every needed dimension, year grain only when `years`
    (the question is about whole years); None when none does."""
    need = frozenset(needed)
    fits = [cid for cid, c in enumerate(cuboids)
            if c.stored and need <= c.dims and (years or c.grain == "month")]
    return min(fits, key=lambda c: rows[c]) if fits else None


def _where_cell(stmt: Select, table: Any, dims: frozenset[str] | None,
                filters: Mapping[str, list[str]]) -> Select:
    """Filters as IN lists, rolled-up dimensions as = '' (so the key's prefix is used)."""
    for dim, col in _CELL_ORDER:
        if not hasattr(table, col):
            continue
        if dims is not None and dim not in dims:
            stmt = stmt.where(getattr(table, col) == ALL)
        elif dim in filters:
            stmt = stmt.where(getattr(table, col).in_(filters[dim]))
    return stmt


@dataclass(frozen=True)
class _Part:
    """A piece of a period: whole months [ym0, ym1], or the days [d0, d1] of one month."""

    ym0: int = 0
    ym1: int = 0
    d0: dt.date | None = None
    d1: dt.date | None = None


def _next_ym(v: int) -> int:
    return v + 89 if v % 100 == 12 else v + 1


def _prev_ym(v: int) -> int:
    return v - 89 if v % 100 == 1 else v - 1


def split_period(date_from: dt.date, date_to: dt.date, first: dt.date | None,
                 last: dt.date | None) -> list[_Part]:
    """Cut [date_from, date_to] into whole months and at most two partial months.

    A month cut only where there is no data (before the first enquiry or after the last)
    counts as whole: its whole-month figure is then exact.
    """
    if first is not None:
        date_from = max(date_from, first)
    if last is not None:
        date_to = min(date_to, last)
    if date_from > date_to:
        return []
    head_whole = date_from.day == 1 or date_from == first
    tail_whole = date_to == month_end(date_to) or date_to == last
    start, end = ym(date_from), ym(date_to)
    if start == end:
        whole = head_whole and tail_whole
        return [_Part(start, end) if whole else _Part(d0=date_from, d1=date_to)]
    parts: list[_Part] = []
    if not head_whole:
        parts.append(_Part(d0=date_from, d1=month_end(date_from)))
        start = _next_ym(start)
    if not tail_whole:
        parts.append(_Part(d0=date_to.replace(day=1), d1=date_to))
        end = _prev_ym(end)
    if start <= end:
        parts.append(_Part(start, end))
    return parts


def _years_and_months(ym0: int, ym1: int, first: dt.date | None = None,
                      last: dt.date | None = None) -> list[tuple[int, int, bool]]:
    """[ym0, ym1] as (from, to, whole_years) pieces: leading months, whole years, trailing.

    Months before the first enquiry or after the last hold no data, so a range cut there
    extends to its whole years (the year-grain cuboids then answer it exactly)."""
    if first is not None and ym0 == ym(first):
        ym0 = ym0 // 100 * 100 + 1
    if last is not None and ym1 == ym(last):
        ym1 = ym1 // 100 * 100 + 12
    y0 = ym0 // 100 + (0 if ym0 % 100 == 1 else 1)
    y1 = ym1 // 100 - (0 if ym1 % 100 == 12 else 1)
    if y0 > y1:
        return [(ym0, ym1, False)]
    out = []
    if ym0 < y0 * 100 + 1:
        out.append((ym0, (y0 - 1) * 100 + 12, False))
    out.append((y0 * 100 + 1, y1 * 100 + 12, True))
    if ym1 > y1 * 100 + 12:
        out.append(((y1 + 1) * 100 + 1, ym1, False))
    return out


Rows = list[tuple[Any, ...]]  # (*keys, enquiries)


def _rows(conn: Connection, stmt: Select) -> Rows:
    # (an ungrouped count over no rows is one row of 0: no rows, as from the summaries)
    return [tuple(r) for r in conn.execute(stmt) if r[-1]]


def _select_part(src: Any, dims: frozenset[str] | None, tcol: ColumnElement | None,
                 by: Sequence[str], filters: Mapping[str, list[str]],
                 dcol: ColumnElement | None, measure: ColumnElement) -> tuple[Select, list[str]]:
    """SELECT [time], by..., [days], measure FROM src WHERE filters GROUP BY the keys."""
    keys = (([tcol] if tcol is not None else []) + [getattr(src, DIMS[d]) for d in by]
            + ([dcol] if dcol is not None else []))
    stmt = _where_cell(select(*keys, measure), src, dims, filters)
    if keys:
        stmt = stmt.group_by(*keys)
    names = ((["t"] if tcol is not None else []) + list(by)
             + (["days"] if dcol is not None else []))
    return stmt, [*names, "enquiries"]


def _read(conn: Connection, *, with_days: bool, by: Sequence[str], grain: str | None,
          date_from: dt.date, date_to: dt.date, filters: Filters) -> pd.DataFrame | None:
    st = status(conn)
    if st is None:
        return None
    f = _active(filters)
    needed = set(by) | set(f)
    table, cuboids, rows = ((HD, DAYS_CUBOIDS, st.days_rows) if with_days
                            else (HS, COUNT_CUBOIDS, st.count_rows))
    daily_table, daily_dims = (DDS, DAILY_DAYS_DIMS) if with_days else (DS, DAILY_DIMS)
    plan: list[tuple[_Part, int | None]] = []  # each piece and the cuboid answering it
    minus: list[tuple[_Part, bool]] = []  # days to take away (a month's total less the days
    # outside), and whether the daily summary holds them
    for part in split_period(date_from, date_to, st.first, st.last):
        if part.d0 is not None:  # days of one month: the daily summary, else the fact table
            assert part.d1 is not None
            m = ym(part.d0)
            daily = m in st.daily_months and needed <= daily_dims
            cid = pick(cuboids, rows, needed, years=False)
            start, end = part.d0.replace(day=1), month_end(part.d0)
            outside = (part.d0 - start).days + (end - part.d1).days
            if cid is not None and outside < (part.d1 - part.d0).days + 1:
                # Most of the month: its total from the cuboid, less the few days outside,
                # read from the daily summary where it holds them, else from the facts (a
                # leap year's "period before" starts on 2 January: one day read instead of
                # thirty).
                plan.append((_Part(m, m), cid))
                if part.d0 > start:
                    minus.append((_Part(d0=start, d1=part.d0 - dt.timedelta(days=1)), daily))
                if part.d1 < end:
                    minus.append((_Part(d0=part.d1 + dt.timedelta(days=1), d1=end), daily))
                continue
            plan.append((part, None))
            continue
        pieces = ([(part.ym0, part.ym1, False)] if grain in ("month", "quarter")
                  else _years_and_months(part.ym0, part.ym1, st.first, st.last))
        for a, b, whole_years in pieces:
            cid = pick(cuboids, rows, needed, years=whole_years)
            if cid is None:  # no stored cuboid holds this combination: read the facts
                return None
            plan.append((_Part(a, b), cid))
    plan = _merged(plan)
    parts: list[Rows] = []
    for part, cid in plan:
        if cid is None:
            parts.append(_days_of_month(conn, part, grain, by, f, with_days,
                                        daily=(ym(part.d0) in st.daily_months
                                               and needed <= daily_dims),
                                        daily_table=daily_table, daily_dims=daily_dims))
            continue
        a, b = part.ym0, part.ym1
        if cuboids[cid].grain == "year":  # year-grain rows hold ym = year * 100
            a, b = a // 100 * 100, b // 100 * 100
        if with_days:
            got = (_memory_histograms(conn, st, cid, grain, by, f, a, b)
                   if rows[cid] <= MEMORY_DAYS_ROWS else None)
            parts.append(got if got is not None else
                         _histograms(conn, cid, cuboids[cid].dims, grain, by, f, a, b))
            continue
        got = (_memory_rows(conn, st, cid, grain, by, f, a, b)  # no statement
               if rows[cid] <= MEMORY_ROWS else None)
        if got is not None:
            parts.append(got)
            continue
        stmt, _ = _select_part(table, cuboids[cid].dims, time_of(table.ym, grain), by, f,
                               None, func.sum(table.enquiries))
        parts.append(_rows(conn, stmt.where(table.cuboid == cid, table.ym.between(a, b))))
    for part, daily in minus:
        parts.append([(*r[:-1], -r[-1]) for r in _days_of_month(
            conn, part, grain, by, f, with_days, daily=daily, daily_table=daily_table,
            daily_dims=daily_dims)])
    names = ([grain] if grain else []) + list(by) + (["days"] if with_days else [])
    return _combine(parts, names)


# ---- Cuboids in memory ----------------------------------------------------------------------
# Most chart reads hit a small or medium count cuboid (enquiries per year and desk, per year,
# desk and requester type, ...: a few hundred to ~150,000 rows at 5M enquiries). Each is
# read once per summary build and process, kept as integer codes, and counted with numpy: a
# statement less per chart (on PostgreSQL a loopback round trip, ~0.5-1 ms, and
# SQLAlchemy's statement building either way).
# The biggest cuboid kept in memory, in stored rows. Count rows take 18 bytes in memory (five
# int16 codes, ym and the count as int32): every count cuboid this small is ~20 MB at 5M
# enquiries, and on PostgreSQL it answers without a round trip the medium cuboids a clicked
# country or requester type needs (60-230k rows at 5M; reading them cold from disk took
# 10-15 ms). A days-to-answer row holds a histogram (~20 pairs at 5M, 8 bytes each): those
# stay in memory up to a smaller size.
MEMORY_ROWS = 250_000
MEMORY_DAYS_ROWS = 60_000
# A request needing a cuboid not in memory yet (after an import or a rebuild) reads it itself
# up to this size; a bigger one is read by a thread while SQL answers.
MEMORY_READ_NOW = 40_000


@dataclass
class _MemoryCuboid:
    """One cuboid: ym per row, and each dimension as codes into its sorted values (a
    rolled-up dimension holds the code of ''). Count cuboids: enquiries per row (`n`).
    Days-to-answer cuboids: each row's histogram as the pairs days[o[i]:o[i+1]] with
    counts[o[i]:o[i+1]] (`offsets` o)."""

    ym: np.ndarray
    codes: dict[str, np.ndarray]
    values: dict[str, list[str]]
    n: np.ndarray | None = None
    offsets: np.ndarray | None = None
    days: np.ndarray | None = None
    counts: np.ndarray | None = None

    def code_of(self, dim: str) -> dict[str, int]:
        return {v: i for i, v in enumerate(self.values[dim])}


def _memory_cuboid(conn: Connection, st: Status, cid: int, *, with_days: bool = False,
                   wait: bool | None = None) -> _MemoryCuboid | None:
    """A stored cuboid in memory. Not read yet for this build: read now with `wait`; by
    default only a small one (tens of milliseconds), a bigger one is left to a thread and
    None returned meanwhile (the caller uses SQL)."""
    if wait is None:
        wait = (st.days_rows if with_days else st.count_rows)[cid] <= MEMORY_READ_NOW
    return _kept(conn, st, ("days" if with_days else "counts", cid),
                 lambda c: _read_cuboid(c, cid, with_days=with_days), wait=wait)


def _read_cuboid(conn: Connection, cid: int, *, with_days: bool) -> _MemoryCuboid:
    """One stored cuboid as arrays, read in chunks (a chunk's Python rows are dropped as soon
    as they are coded: the process does not keep the peak of a whole cuboid's objects)."""
    table = HD if with_days else HS
    cols = [getattr(table, c) for c in _CELL_COLS]
    measure = HD.histogram if with_days else HS.enquiries
    stmt = select(*cols, table.ym, measure).where(table.cuboid == cid)
    seen: list[dict[str, int]] = [{} for _ in cols]  # value -> code in order of appearance
    code_parts: list[list[np.ndarray]] = [[] for _ in cols]
    ym_parts, n_parts, len_parts, pair_parts = [], [], [], []
    for chunk in conn.execute(stmt).partitions(20_000):
        data = list(zip(*chunk, strict=True))
        for k, col in enumerate(data[:-2]):
            index = seen[k]
            code_parts[k].append(np.fromiter((index.setdefault(v, len(index)) for v in col),
                                             dtype=np.int32, count=len(col)))
        ym_parts.append(np.array(data[-2], dtype=np.int32))
        if with_days:
            texts = data[-1]
            len_parts.append(np.fromiter(((t.count(" ") + 1) // 2 for t in texts),
                                         dtype=np.int64, count=len(texts)))
            pair_parts.append(np.fromstring(" ".join(texts), dtype=np.int64, sep=" "))
        else:
            n_parts.append(np.array(data[-1], dtype=np.int32))

    def joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    codes, values = {}, {}
    for (dim, _), index, parts in zip(_CELL_ORDER, seen, code_parts, strict=True):
        names = sorted(index)  # codes into the sorted values
        rank = np.zeros(len(index), dtype=np.int32)
        rank[[index[v] for v in names]] = np.arange(len(names), dtype=np.int32)
        values[dim] = [str(v) for v in names]
        codes[dim] = rank[joined(parts, np.int32)].astype(
            np.int16 if len(names) < 2 ** 15 else np.int32)
    mem = _MemoryCuboid(joined(ym_parts, np.int32), codes, values)
    if with_days:
        flat = joined(pair_parts, np.int64).reshape(-1, 2)
        mem.offsets = np.concatenate(([0], np.cumsum(joined(len_parts, np.int64))))
        mem.days, mem.counts = flat[:, 0].astype(np.int32), flat[:, 1].astype(np.int32)
    else:
        mem.n = joined(n_parts, np.int32)
    return mem


def _memory_heads(mem: _MemoryCuboid, grain: str | None, by: Sequence[str],
                  f: Mapping[str, list[str]], ym0: int, ym1: int
                  ) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """The rows of `mem` within [ym0, ym1] and the filters (their indices), and what groups
    them ([time] + by codes, per row); None: no row."""
    keep = (mem.ym >= ym0) & (mem.ym <= ym1)
    for dim, wanted in f.items():
        index = mem.code_of(dim)
        codes = [index[v] for v in wanted if v in index]
        if not codes:
            return None
        keep &= np.isin(mem.codes[dim], codes)
    sel = np.flatnonzero(keep)
    if not len(sel):
        return None
    ym_k = mem.ym[sel]
    parts: list[np.ndarray] = []
    if grain is not None:
        parts.append({"month": ym_k, "year": ym_k // 100,
                      "quarter": (ym_k // 100) * 10 + ((ym_k % 100) + 2) // 3}[grain])
    parts.extend(mem.codes[d][sel] for d in by)
    return sel, parts


def _head_values(mem: _MemoryCuboid, grain: str | None, by: Sequence[str],
                 parts: list[np.ndarray], at: np.ndarray) -> list[tuple[Any, ...]]:
    """The groups of the rows `at` as result keys: [time] + by values."""
    cols: list[list[Any]] = []
    if grain is not None:
        cols.append(parts[0][at].tolist())
    for d, p in zip(by, parts[len(parts) - len(by):], strict=True):
        names = mem.values[d]
        cols.append([names[c] for c in p[at].tolist()])
    return list(zip(*cols, strict=True)) if cols else [()] * len(at)


def _memory_histograms(conn: Connection, st: Status, cid: int, grain: str | None,
                       by: Sequence[str], f: Mapping[str, list[str]], ym0: int,
                       ym1: int) -> Rows | None:
    """What `_histograms` reads from SQL ([time] + by + days + count), from memory; None
    while the cuboid is being read into memory."""
    mem = _memory_cuboid(conn, st, cid, with_days=True)
    if mem is None:
        return None
    got = _memory_heads(mem, grain, by, f, ym0, ym1)
    if got is None:
        return []
    sel, parts = got
    assert mem.offsets is not None and mem.days is not None and mem.counts is not None
    starts, lens = mem.offsets[sel], mem.offsets[sel + 1] - mem.offsets[sel]
    total = int(lens.sum())
    if not total:
        return []
    # every pair of the selected rows: its index into the flat arrays, and its row
    pair = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
    row = np.repeat(np.arange(len(sel)), lens)
    days = mem.days[pair]
    first, inverse = group_index([*(p[row] for p in parts), days])
    sums = np.bincount(inverse, weights=mem.counts[pair])
    heads = _head_values(mem, grain, by, parts, row[first])
    return [(*h, int(d), int(n)) for h, d, n in
            zip(heads, days[first].tolist(), sums.tolist(), strict=True) if n]


def _memory_rows(conn: Connection, st: Status, cid: int, grain: str | None,
                 by: Sequence[str], f: Mapping[str, list[str]], ym0: int, ym1: int
                 ) -> Rows | None:
    """What the SQL read of a count cuboid returns ([time] + by + enquiries per group, for
    the months [ym0, ym1] and the filters `f`), counted in memory; None while the cuboid is
    being read into memory."""
    mem = _memory_cuboid(conn, st, cid)
    if mem is None:
        return None
    got = _memory_heads(mem, grain, by, f, ym0, ym1)
    if got is None:
        return []
    sel, parts = got
    assert mem.n is not None
    if not parts:  # no grouping: one total
        return [(int(mem.n[sel].sum()),)]
    first, inverse = group_index(parts)
    sums = np.bincount(inverse, weights=mem.n[sel])
    heads = _head_values(mem, grain, by, parts, first)
    return [(*h, int(n)) for h, n in zip(heads, sums.tolist(), strict=True) if n]


def warm(conn: Connection) -> None:
    """Read every small count cuboid into memory now (at start: gunicorn's workers inherit
    them instead of a visitor's first requests reading them)."""
    st = status(conn)
    if st is None:
        return
    for cid, c in enumerate(COUNT_CUBOIDS):
        if c.stored and st.count_rows[cid] <= MEMORY_ROWS:
            _memory_cuboid(conn, st, cid, wait=True)
    for cid, c in enumerate(DAYS_CUBOIDS):
        if c.stored and st.days_rows[cid] <= MEMORY_DAYS_ROWS:
            _memory_cuboid(conn, st, cid, with_days=True, wait=True)
    _offer_rows(conn, st)


def _merged(plan: list[tuple[_Part, int | None]]) -> list[tuple[_Part, int | None]]:
    """Month ranges of one cuboid that meet (a month counted whole, and the whole months
    after it) as one range: one statement instead of two."""
    out: list[tuple[_Part, int | None]] = []
    for part, cid in sorted(plan, key=lambda pc: (pc[1] is None, pc[1] or 0, pc[0].ym0)):
        if out and cid is not None and out[-1][1] == cid and part.d0 is None \
                and out[-1][0].d0 is None and _next_ym(out[-1][0].ym1) == part.ym0:
            out[-1] = (_Part(out[-1][0].ym0, part.ym1), cid)
        else:
            out.append((part, cid))
    return out


def _histograms(conn: Connection, cid: int, dims: frozenset[str], grain: str | None,
                by: Sequence[str], f: Mapping[str, list[str]], ym0: int, ym1: int) -> Rows:
    """Sum the histograms of the matching cells and months, per [time] + by + days."""
    tcol = time_of(HD.ym, grain)
    keys = ([tcol] if tcol is not None else []) + [getattr(HD, DIMS[d]) for d in by]
    stmt = _where_cell(select(*keys, HD.histogram), HD, dims, f).where(
        HD.cuboid == cid, HD.ym.between(ym0, ym1))
    heads: dict[tuple[Any, ...], int] = {}
    row_head, texts = [], []
    for row in conn.execute(stmt):
        row_head.append(heads.setdefault(tuple(row[:-1]), len(heads)))
        texts.append(row[-1])
    if not texts:
        return []
    # one numpy parse for all rows ('days count days count ...'), then one bincount
    lengths = np.fromiter(((t.count(" ") + 1) // 2 for t in texts), dtype=np.int64,
                          count=len(texts))
    flat = np.fromstring(" ".join(texts), dtype=np.int64, sep=" ").reshape(-1, 2)
    head_of = np.repeat(np.asarray(row_head, dtype=np.int64), lengths)
    low = min(int(flat[:, 0].min()), 0)  # (an answer dated before receipt: negative days)
    width = int(flat[:, 0].max()) - low + 1
    sums = np.bincount(head_of * width + flat[:, 0] - low, weights=flat[:, 1],
                       minlength=len(heads) * width)
    names = list(heads)
    return [(*names[k // width], k % width + low, int(sums[k]))
            for k in np.flatnonzero(sums)]


def _days_of_month(conn: Connection, part: _Part, grain: str | None, by: Sequence[str],
                   f: Mapping[str, list[str]], with_days: bool, *, daily: bool,
                   daily_table: Any, daily_dims: frozenset[str]) -> Rows:
    """Some days of one month, from the daily summary or (at most a month of) fact rows."""
    if daily:
        src, dims, measure = daily_table, daily_dims, func.sum(daily_table.enquiries)
        dcol = daily_table.days if with_days else None
    else:
        src, dims, measure = E, None, func.count()
        dcol = days_to_answer(conn.dialect.name) if with_days else None
    stmt, _ = _select_part(src, dims, None, by, f, dcol, measure)
    stmt = stmt.where(src.received_date.between(part.d0, part.d1))
    if with_days and not daily:
        stmt = stmt.where(E.answered_date.is_not(None))
    out = _rows(conn, stmt)
    if grain is None:
        return out
    d0 = part.d0  # a month lies within one year and one quarter
    assert d0 is not None
    t = {"month": ym(d0), "year": d0.year, "quarter": d0.year * 10 + (d0.month + 2) // 3}[grain]
    return [(t, *r) for r in out]


def _combine(parts: list[Rows], keys: list[str]) -> pd.DataFrame:
    """One frame of keys + enquiries, summing rows of equal keys across the parts."""
    parts = [p for p in parts if p]
    if len(parts) == 1:
        merged = parts[0]
    else:
        acc: dict[tuple[Any, ...], int] = {}
        for part in parts:
            for row in part:
                k = row[:-1]
                acc[k] = acc.get(k, 0) + row[-1]
        # (a part may be taken away: keys it cancels out are no rows, as from the facts)
        merged = [(*k, n) for k, n in acc.items() if n]
    cols = list(zip(*merged, strict=True)) if merged else [()] * (len(keys) + 1)
    data: dict[str, Any] = {}
    for name, values in zip([*keys, "enquiries"], cols, strict=True):
        is_int = name in ("enquiries", "days", "year", "month", "quarter")
        # (numpy converts PostgreSQL's Decimal sums to integers itself)
        data[name] = np.array(values, dtype=np.int64 if is_int else object)
    return columns_frame(data)


def counts(conn: Connection, *, by: Sequence[str] = (), time: str | None = None,
           date_from: dt.date, date_to: dt.date,
           filters: Filters | None = None) -> pd.DataFrame | None:
    """Enquiries received from `date_from` to `date_to` matching `filters` ({dim: values};
    empty means all), grouped by `time` ('year'; 'quarter' as year*10+q; 'month' as
    year*100+month; or None) and the dimensions `by`: columns [time] + by + ['enquiries'].

    None when the summaries are not fresh or do not hold the dimensions asked for: the
    caller then reads the fact table.
    """
    return _read(conn, with_days=False, by=by, grain=time, date_from=date_from,
                 date_to=date_to, filters=filters or {})


def days_histogram(conn: Connection, *, by: Sequence[str] = (), time: str | None = None,
                   date_from: dt.date, date_to: dt.date,
                   filters: Filters | None = None) -> pd.DataFrame | None:
    """Like `counts`, for answered enquiries, with their whole days to answer: columns
    [time] + by + ['days', 'enquiries'] (a histogram to take exact quantiles from)."""
    return _read(conn, with_days=True, by=by, grain=time, date_from=date_from,
                 date_to=date_to, filters=filters or {})


# ---- Command line ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Rebuild the summaries of DATABASE_URL (or --database-url) and print the timings."""
    from data_access.db import make_engine
    from data_access.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                    or Settings().DATABASE_URL)
    args = ap.parse_args(argv)
    engine = make_engine(args.database_url)
    with engine.begin() as conn:
        st = rebuild(conn)
    print(f"rebuilt in {st.seconds:.2f} s: {sum(st.count_rows):,} count rows "
          f"({len(st.count_rows)} cuboids), {sum(st.days_rows):,} histogram rows "
          f"({len(st.days_rows)} cuboids), daily months {sorted(st.daily_months)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
