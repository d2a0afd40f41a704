"""Help-desk summary tables: enquiries pre-counted far below the fact table's grain.

The fact table holds millions of enquiries; every help-desk chart and KPI only needs counts
(or a days-to-answer histogram) per month and a few categories. `rebuild(conn)` recomputes
them inside the caller's transaction, so a load commits its rows and their summaries
together; `data_access.demo._after_load` calls it after every demo load and demo removal.
An import calls `refresh(conn, before, years)` instead: only the years of receipt its rows
touched are deleted and recounted (none for an import of other data). After either commits,
`tidy(engine)` vacuums the summary tables on PostgreSQL (the deleted rows would otherwise
stay on disk where autovacuum is off or behind).

Layout. A *cuboid* is one grouping of the enquiries: a time grain (month or year; `ym` is
year * 100 + month, or year * 100) and a subset of the dimensions desk, topic, sector,
requester type and country. A query asks for the smallest cuboid holding every dimension it
groups by or filters on. Each cuboid is stored in `helpdesk_cuboid` as one row per year of
packed numpy arrays (ym, a code per kept dimension, and the enquiries, or for days to answer
each row's histogram as pairs of days and count); the status keeps each dimension's values,
which the codes index. Every process reads the cuboids into memory once per build (~60 MB at
5M enquiries; gunicorn's master reads them before it forks) and answers with numpy, without
a statement: rows are in time order, so a period is a slice found by binary search.

Rebuilding reads the fact rows once, as one text per 250,000 rows that the database writes
in C and pandas parses in C (in a thread, while the database writes the next), counts the
finest cuboids from those arrays and every other one from the smallest cuboid built before
it that holds it, and writes a few hundred packed rows: 6-9 s at 5M enquiries, where
writing 2.3M summary rows into indexed tables took most of a minute.

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
import csv
import ctypes
import datetime as dt
import io
import json
import logging
import os
import sys
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Integer,
    Select,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from data_access.bulk import bulk_insert
from data_access.models import HelpdeskCuboid as HC
from data_access.models import HelpdeskDailyDaysSummary as DDS
from data_access.models import HelpdeskDailySummary as DS
from data_access.models import HelpdeskEnquiry as E
from data_access.models import Meta
from data_access.models import TechOffer as O
from data_access.models import TechOfferSummary as OS
from data_access.queries.common import as_date, columns_frame, database_key, group_index

# Dimension name -> column name (the same in the fact table and the summaries).
DIMS: dict[str, str] = {"desk": "desk", "topic": "topic", "sector": "sector_code",
                        "requester": "requester_type", "country": "country_code"}
META_KEY = "helpdesk_summary"
log = logging.getLogger(__name__)

_D, _T, _S, _R, _C = "desk", "topic", "sector", "requester", "country"


@dataclass(frozen=True)
class Cuboid:
    """One grouping: time grain ('month' or 'year'; 'day' for the daily summaries while
    rebuilding), the dimensions kept, and whether it is stored (queried) or only a
    temporary step to derive others from."""

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
def days_to_answer(dialect: str) -> ColumnElement[int]:
    """Whole days from receipt to answer of a fact row."""
    if dialect == "postgresql":
        return E.answered_date - E.received_date
    return cast(func.julianday(E.answered_date) - func.julianday(E.received_date), Integer)


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
    vocab: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # codes' values

    def to_json(self) -> str:
        """The meta-table form."""
        return json.dumps({
            "max_id": self.max_id, "offer_max_id": self.offer_max_id,
            "first": self.first and self.first.isoformat(),
            "last": self.last and self.last.isoformat(), "count_rows": self.count_rows,
            "days_rows": self.days_rows, "daily_months": sorted(self.daily_months),
            "seconds": self.seconds, "build": self.build,
            "vocab": {d: list(v) for d, v in self.vocab.items()}, "cuboids": _definition()})

    @classmethod
    def from_json(cls, raw: str) -> Status | None:
        """Parse the meta value; None when it describes other cuboids (an older build)."""
        s = json.loads(raw)
        if s.get("cuboids") != _definition() or "vocab" not in s:
            return None

        def day(v: str | None) -> dt.date | None:
            return dt.date.fromisoformat(v) if v else None

        return cls(s["max_id"], s["offer_max_id"], day(s["first"]), day(s["last"]),
                   tuple(s["count_rows"]),
                   tuple(s["days_rows"]), frozenset(s["daily_months"]), s["seconds"],
                   s.get("build", ""), {d: tuple(v) for d, v in s["vocab"].items()})


def _definition() -> list[Any]:
    # (the last item names the storage format: a change makes older builds stale)
    return [[c.key() for c in COUNT_CUBOIDS], [c.key() for c in DAYS_CUBOIDS], "packed-1"]


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
# The dimensions in the order a fact row's text names them, and the status keeps their values.
_FACT_DIMS: tuple[str, ...] = (_D, _T, _S, _R, _C)
_FACT_CHUNK = 250_000  # fact ids per statement (twice that where rows are sparse)
_MAX_ID = 2 ** 63 - 1
_DENSE = 8_000_000  # groupings over at most this many possible keys count with bincount


def _fact_lines(dialect: str) -> ColumnElement[str]:
    """An aggregate of a statement's fact rows as one text, a line per row:
    desk, topic, sector, requester type and country joined by U+001F, then U+001E, the day of
    receipt (days since 1970-01-01), U+001E and the days to answer (empty: not answered).
    One string per 250,000 rows instead of seven Python objects per row: SQLite and
    PostgreSQL write it in C and pandas parses it in C, 2-4 s for 5M rows."""
    if dialect == "sqlite":
        return literal_column(
            "group_concat(printf('%s' || char(31) || '%s' || char(31) || '%s' || char(31)"
            " || '%s' || char(31) || '%s' || char(30) || '%s' || char(30) || '%s',"
            " desk, topic, sector_code, requester_type, country_code,"
            " cast(julianday(received_date) - 2440587.5 AS INTEGER),"
            " coalesce(cast(julianday(answered_date) - julianday(received_date) AS INTEGER),"
            " '')), char(10))")
    return literal_column(
        "string_agg(concat_ws(chr(31), desk, topic, sector_code, requester_type, country_code)"
        " || chr(30) || (received_date - DATE '1970-01-01') || chr(30)"
        " || coalesce((answered_date - received_date)::text, ''), chr(10))")


_SHIFTED = ("help-desk enquiries: a row that cannot be read (a desk, topic or code holding a "
            "control character, a line break or U+001E/U+001F, or a date that is not a "
            "date), which no import lets through; the summaries were not rebuilt")


def _parse_lines(lines: str, rows: int) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(lines.encode()), sep="\x1e", header=None,
                            names=["cell", "day", "days"], quoting=csv.QUOTE_NONE,
                            dtype={"cell": "category", "day": np.int32, "days": np.float64},
                            keep_default_na=False, na_values={"days": [""]}, engine="c")
    except ValueError as e:  # (pandas' ParserError is one too)
        raise ValueError(_SHIFTED) from e
    if len(frame) != rows:
        raise ValueError(_SHIFTED)
    return frame


@dataclass
class _Facts:
    """The fact rows being counted, as arrays: each row's cell (a distinct combination of
    desk, topic, sector, requester type and country) and its codes per dimension (into
    `vocab`), month of receipt (months since January 1970), day of receipt and days to
    answer (answered rows only: `answered`)."""

    cell: np.ndarray
    codes: dict[str, np.ndarray]
    vocab: dict[str, tuple[str, ...]]
    month: np.ndarray
    day: np.ndarray
    answered: np.ndarray
    days: np.ndarray


def _read_facts(conn: Connection, where: ColumnElement[bool] | None,
                vocab: Mapping[str, Sequence[str]] | None) -> _Facts:
    """The fact rows `where` (None: all) as arrays, read in ranges of ids holding up to
    250,000 rows each (twice that where ids are sparse); each range's text is parsed in a
    thread while the database writes the next. Codes extend `vocab` (a refresh keeps the
    codes of the years it does not recount; None: sorted values)."""
    stmt = select(_fact_lines(conn.dialect.name), func.count()).where(
        E.id.between(bindparam("a"), bindparam("b")))
    if where is not None:
        stmt = stmt.where(where)
    after = select(func.min(E.id)).where(E.id > bindparam("b"))  # (past a gap in the ids)
    a = conn.execute(select(func.min(E.id))).scalar()
    width = _FACT_CHUNK
    pending = []
    with ThreadPoolExecutor(1, thread_name_prefix="summaries-parse") as pool:
        while a is not None:
            b = min(a + width - 1, _MAX_ID)
            lines, rows = conn.execute(stmt, {"a": a, "b": b}).one()
            if rows:
                pending.append(pool.submit(_parse_lines, lines, rows))
            a = conn.execute(after, {"b": b}).scalar() if b < _MAX_ID else None
            # Ids with gaps, or a refresh's few years among all: a wider range for about as
            # many rows, but at most twice as many ids (a dense stretch may follow: one
            # statement's text stays under ~25 MB)
            width = _FACT_CHUNK * (2 if rows < _FACT_CHUNK // 2 else 1)
        frames = [p.result() for p in pending]
    index: dict[str, int] = {}  # cell text -> cell
    cells = []
    for frame in frames:
        col = frame["cell"].cat
        remap = np.array([index.setdefault(c, len(index)) for c in col.categories],
                         dtype=np.int32)
        cells.append(remap[col.codes.to_numpy()] if len(remap) else np.zeros(0, np.int32))
    split = [c.split("\x1f") for c in index]
    if any(len(s) != len(_FACT_DIMS) for s in split):
        raise ValueError(_SHIFTED)
    out_vocab: dict[str, tuple[str, ...]] = {}
    codes: dict[str, np.ndarray] = {}
    for k, dim in enumerate(_FACT_DIMS):
        seen = {s[k] for s in split}
        known = tuple(vocab[dim]) if vocab is not None else ()
        values = known + tuple(sorted(seen - set(known)))
        at = {v: i for i, v in enumerate(values)}
        out_vocab[dim] = values
        codes[dim] = np.array([at[s[k]] for s in split], dtype=np.int32)
    day = (np.concatenate([f["day"].to_numpy() for f in frames]) if frames
           else np.zeros(0, np.int32))
    days = (np.concatenate([f["days"].to_numpy() for f in frames]) if frames
            else np.zeros(0, np.float64))
    answered = ~np.isnan(days)
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)
    return _Facts(np.concatenate(cells) if cells else np.zeros(0, np.int32), codes, out_vocab,
                  month, day, answered, days[answered].astype(np.int32))


def _group(key: np.ndarray, size: int, weights: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of `key` (non-negative, below `size`), sorted, and the sum of
    `weights` (None: the number of rows) of each."""
    if size <= _DENSE:
        sums = np.bincount(key, weights=weights, minlength=size)
        keys = np.flatnonzero(sums)
        return keys, sums[keys].astype(np.int64)
    keys, inverse = np.unique(key, return_inverse=True)
    return keys, np.bincount(inverse, weights=weights, minlength=len(keys)).astype(np.int64)


def _project(codes: Mapping[str, np.ndarray], vocab: Mapping[str, Sequence[str]],
             dims: frozenset[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Cells grouped by `dims` only: each cell's coarser cell, and those cells' codes."""
    n = len(next(iter(codes.values()))) if codes else 1
    key = np.zeros(n, dtype=np.int64)
    for dim in _FACT_DIMS:
        if dim in dims:
            key = key * max(len(vocab[dim]), 1) + codes[dim]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.astype(np.int32), {d: codes[d][first] for d in _FACT_DIMS if d in dims}


@dataclass
class _Cuboid:
    """One cuboid while rebuilding: per row its time (months since January 1970, or years
    since 1970) and cell (codes per dimension in `codes`); counts: enquiries per row (`n`);
    days to answer: each row's histogram as `lens` (pairs per row), `days` and `n` per
    pair. Rows are in time order."""

    cuboid: Cuboid
    t: np.ndarray
    cell: np.ndarray
    codes: dict[str, np.ndarray]
    n: np.ndarray
    lens: np.ndarray | None = None
    days: np.ndarray | None = None

    @property
    def rows(self) -> int:
        return len(self.t)


def _grouped(child: Cuboid, t: np.ndarray, cell: np.ndarray, codes: dict[str, np.ndarray],
             weights: np.ndarray | None, days: np.ndarray | None = None) -> _Cuboid:
    """Rows (time `t`, cell `cell`, [days]) summed into `child`'s rows, in time order."""
    cells = max(len(next(iter(codes.values()))) if codes else 1, 1)
    t0 = int(t.min()) if len(t) else 0
    head = (t - t0).astype(np.int64) * cells + cell
    if days is None:
        keys, n = _group(head, (int(head.max()) + 1 if len(head) else 0), weights)
        return _Cuboid(child, keys // cells + t0, (keys % cells).astype(np.int32), codes, n)
    d0 = int(days.min()) if len(days) else 0
    width = (int(days.max()) - d0 + 1) if len(days) else 1
    key = head * width + (days - d0)
    keys, n = _group(key, (int(key.max()) + 1 if len(key) else 0), weights)
    row_key = keys // width
    starts = np.flatnonzero(np.r_[True, row_key[1:] != row_key[:-1]]) if len(keys) \
        else np.zeros(0, np.int64)
    lens = np.diff(np.r_[starts, len(keys)])
    heads = row_key[starts]
    return _Cuboid(child, heads // cells + t0, (heads % cells).astype(np.int32), codes,
                   n, lens, (keys % width + d0).astype(np.int32))


def _derive(parent: _Cuboid | _Facts, child: Cuboid, vocab: Mapping[str, Sequence[str]],
            *, with_days: bool) -> _Cuboid:
    """`child`'s rows from the fact rows or from a built cuboid holding it."""
    if isinstance(parent, _Facts):
        rows = parent.answered if with_days else slice(None)
        month, cell = parent.month[rows], parent.cell[rows]
        weights, days = None, parent.days if with_days else None
        src_codes = parent.codes
        t = month if child.grain == "month" else month // 12
    else:
        src_codes = parent.codes
        if with_days:
            assert parent.lens is not None
            at = np.repeat(np.arange(parent.rows), parent.lens)
            pt, cell, days = parent.t[at], parent.cell[at], parent.days
        else:
            pt, cell, days = parent.t, parent.cell, None
        weights = parent.n
        t = pt if child.grain == parent.cuboid.grain else pt // 12
    to_cell, codes = _project(src_codes, vocab, child.dims)
    return _grouped(child, t, to_cell[cell], codes, weights, days)


def _parent(built: Sequence[_Cuboid], child: Cuboid) -> _Cuboid | None:
    """The smallest built cuboid `child` can be derived from (None: count it from the facts)."""
    fits = [b for b in built if child.dims <= b.cuboid.dims
            and (b.cuboid.grain == "month" or child.grain == "year")]
    return min(fits, key=lambda b: len(b.n)) if fits else None


def _small(values: np.ndarray) -> np.ndarray:
    """`values` in the smallest signed integer type holding them."""
    if not len(values):
        return values.astype(np.int16)
    lo, hi = int(values.min()), int(values.max())
    for kind in (np.int8, np.int16, np.int32):
        if np.iinfo(kind).min <= lo and hi <= np.iinfo(kind).max:
            return values.astype(kind)
    return values.astype(np.int64)


def _pack(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Arrays as one value: a JSON head naming each array's type and length, then the
    arrays, each at a multiple of 8 bytes."""
    head = json.dumps([[k, a.dtype.str, len(a)] for k, a in arrays.items()]).encode()
    out = [len(head).to_bytes(4, "little"), head, bytes(-(4 + len(head)) % 8)]
    for a in arrays.values():
        out += [np.ascontiguousarray(a).tobytes(), bytes(-a.nbytes % 8)]
    return b"".join(out)


def _unpack(data: bytes) -> dict[str, np.ndarray]:
    size = int.from_bytes(data[:4], "little")
    at = 4 + size + (-(4 + size) % 8)
    out = {}
    for name, dtype, length in json.loads(data[4:4 + size]):
        out[name] = np.frombuffer(data, dtype=dtype, count=length, offset=at)
        at += out[name].nbytes + (-out[name].nbytes % 8)
    return out


def _stored_rows(kind: str, cid: int, c: _Cuboid) -> Iterable[dict[str, Any]]:
    """One helpdesk_cuboid row per year of `c`: ym, the codes of its dimensions, and the
    counts (counts) or the histograms (days: pairs per row, days and count per pair)."""
    year = c.t // 12 + 1970 if c.cuboid.grain == "month" else c.t + 1970
    ym_all = (year * 100 + (c.t % 12 + 1 if c.cuboid.grain == "month" else 0)).astype(np.int32)
    cuts = np.flatnonzero(np.r_[True, year[1:] != year[:-1], True]) if len(year) else []
    pair_at = np.r_[0, np.cumsum(c.lens)] if c.lens is not None else None
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        arrays = {"ym": ym_all[a:b]}
        for dim in _FACT_DIMS:
            if dim in c.cuboid.dims:
                arrays[dim] = _small(c.codes[dim][c.cell[a:b]])
        if c.lens is None:
            arrays["n"] = _small(c.n[a:b])
        else:
            assert pair_at is not None and c.days is not None
            p, q = pair_at[a], pair_at[b]
            arrays |= {"lens": _small(c.lens[a:b]), "days": _small(c.days[p:q]),
                       "n": _small(c.n[p:q])}
        yield {"kind": kind, "cuboid": cid, "year": int(year[a]), "rows": int(b - a),
               "data": _pack(arrays)}


def _count(conn: Connection, facts: _Facts) -> list[int]:
    """Count `facts` into every cuboid, each from the facts or from the smallest cuboid built
    before it that holds it, and store each stored one, a row per year. Returns the rows of
    each cuboid built (counts, then days to answer)."""
    sizes: list[int] = []
    for kind, cuboids in (("counts", COUNT_CUBOIDS), ("days", DAYS_CUBOIDS)):
        built: list[_Cuboid] = []
        for cid, c in enumerate(cuboids):
            parent = _parent(built, c)
            b = _derive(parent if parent is not None else facts, c, facts.vocab,
                        with_days=kind == "days")
            built.append(b)
            sizes.append(b.rows)
            rows = list(_stored_rows(kind, cid, b)) if c.stored else []
            if rows:
                conn.execute(insert(HC), rows)
    return sizes


def _daily(conn: Connection, facts: _Facts, months: Iterable[int]) -> None:
    """The daily summaries of `months` (ym) from the fact rows read: enquiries per day,
    desk, topic and sector; answered ones per day, sector and days to answer (grouped as a
    cuboid is, with the day of receipt as its time)."""
    at = [(mm // 100 - 1970) * 12 + mm % 100 - 1 for mm in months]
    if not at or not len(facts.day):
        return
    in_months = np.isin(facts.month, at)
    for table, dims in ((DS, DAILY_DIMS), (DDS, DAILY_DAYS_DIMS)):
        answered = table is DDS
        rows = in_months[facts.answered] if answered else in_months
        day = (facts.day[facts.answered] if answered else facts.day)[rows]
        if not len(day):
            continue
        cell = (facts.cell[facts.answered] if answered else facts.cell)[rows]
        to_cell, codes = _project(facts.codes, facts.vocab, dims)
        g = _grouped(Cuboid("day", dims, False), day, to_cell[cell], codes, None,
                     facts.days[rows] if answered else None)
        of = np.repeat(np.arange(g.rows), g.lens) if g.lens is not None else np.arange(g.rows)
        cols = {"received_date": np.datetime_as_string(g.t[of].astype("datetime64[D]")).tolist()}
        for dim in (_S, _T, _D):
            if dim in dims:
                cols[DIMS[dim]] = [facts.vocab[dim][k] for k in codes[dim][g.cell[of]].tolist()]
        if g.days is not None:
            cols["days"] = g.days.tolist()
        cols["enquiries"] = g.n.tolist()
        bulk_insert(conn, table.__table__, list(cols), zip(*cols.values(), strict=True))


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


def _kept(conn: Connection, st: Status, what: Any, read: Callable[[Connection], Any]) -> Any:
    """A copy of (part of) the summaries made by `read(conn)`, kept until the next build."""
    key = (database_key(conn), what)
    held = _KEPT.get(key)
    if held is not None and held[0] == st:
        return held[1]
    _KEPT[key] = (st, read(conn))
    return _KEPT[key][1]


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
    st = _build(conn, None, None, today)
    _give_back_memory()
    return st


def refresh(conn: Connection, before: Status | None, years: Iterable[int], *,
            today: dt.date | None = None) -> Status:
    """Bring the summaries up to date after a change that touched only the enquiries
    received in `years` (an import: the years of its new rows and of the rows it changed,
    before and after; none for an import of another kind), in the caller's transaction.

    `before` is `status(conn)` read before the change: when the summaries matched the facts
    then, only those years are recounted (~1 s for a year at 5M enquiries, where a full
    rebuild takes 6 s); otherwise everything is rebuilt. The small summaries (offers, the
    daily counts of period ends) are always recomputed."""
    if before is None:
        return rebuild(conn, today=today)
    st = _build(conn, before, sorted(set(years)), today)
    _give_back_memory()
    return st


def _give_back_memory() -> None:
    """Return the memory of the freed fact arrays to the system: glibc keeps freed heap for
    reuse, ~90 MB after a rebuild at 5M enquiries, which stayed resident (and gunicorn's
    workers inherited it from a master that rebuilt at start)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


SUMMARY_TABLES = (HC, DS, DDS, OS)


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
    cuboid rows are deleted first (the other years' rows stay, with their codes)."""
    t0 = time.perf_counter()
    _STATUS.pop(conn, None)
    dialect = conn.dialect.name
    conn.execute(delete(OS))
    _offer_events(conn)
    vocab: Mapping[str, Sequence[str]] | None = None
    where: ColumnElement[bool] | None = None  # which fact rows to count (None: all)
    if years is None:
        conn.execute(delete(HC))
    else:
        assert before is not None
        vocab = before.vocab
        runs = _runs(years)
        if runs:
            where = or_(*(E.received_date.between(dt.date(a, 1, 1), dt.date(b, 12, 31))
                          for a, b in runs))
            conn.execute(delete(HC).where(or_(*(HC.year.between(a, b) for a, b in runs))))
    built: list[int] | None = None
    facts: _Facts | None = None
    if years is None or years:
        facts = _read_facts(conn, where, vocab)
        vocab = facts.vocab
        built = _count(conn, facts)
    stored = {(k, c): int(n) for k, c, n in conn.execute(
        select(HC.kind, HC.cuboid, func.sum(HC.rows)).group_by(HC.kind, HC.cuboid))}
    count_rows = tuple(stored.get(("counts", cid), 0) if c.stored else
                       (built[cid] if built else before.count_rows[cid] if before else 0)
                       for cid, c in enumerate(COUNT_CUBOIDS))
    days_rows = tuple(stored.get(("days", cid), 0) for cid in range(len(DAYS_CUBOIDS)))

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
    if facts is not None:  # the months whose rows were read: counted from those
        counted = {mm for mm in redo if years is None or mm // 100 in years}
        redo -= counted
        _daily(conn, facts, counted)
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
    st = Status(max_id, offer_max_id, first, last, count_rows, days_rows,
                frozenset(months), round(time.perf_counter() - t0, 3), uuid.uuid4().hex,
                {d: tuple(vocab[d]) if vocab else () for d in _FACT_DIMS})
    conn.execute(delete(Meta).where(Meta.key == META_KEY))
    conn.execute(insert(Meta).values(key=META_KEY, value=st.to_json()))
    _STATUS.pop(conn, None)
    return st


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


# A piece of an answer: one array per key ([time] + by + [days]), then the enquiries; each
# combination of keys at most once.
Columns = list[np.ndarray]


def _columns(rows: Sequence[Sequence[Any]], keys: int) -> Columns:
    """Result rows as columns (`keys` key columns, then the count); rows counting nothing
    dropped (an ungrouped count over no rows is one row of 0, a sum one row of NULL: no
    rows, as from the summaries)."""
    rows = [r for r in rows if r[-1]]
    if not rows:
        return [np.zeros(0, dtype=object) for _ in range(keys)] + [np.zeros(0, np.int64)]
    cols = list(zip(*rows, strict=True))
    return ([np.array(c, dtype=object) for c in cols[:-1]]
            + [np.array(cols[-1], dtype=np.int64)])


def _select_part(src: Any, by: Sequence[str], filters: Mapping[str, list[str]],
                 dcol: ColumnElement | None, measure: ColumnElement) -> Select:
    """SELECT by..., [days], measure FROM src WHERE filters (IN lists) GROUP BY the keys."""
    keys = [getattr(src, DIMS[d]) for d in by] + ([dcol] if dcol is not None else [])
    stmt = select(*keys, measure)
    for dim, values in filters.items():
        stmt = stmt.where(getattr(src, DIMS[dim]).in_(values))
    return stmt.group_by(*keys) if keys else stmt


def _read(conn: Connection, *, with_days: bool, by: Sequence[str], grain: str | None,
          date_from: dt.date, date_to: dt.date, filters: Filters) -> pd.DataFrame | None:
    st = status(conn)
    if st is None:
        return None
    f = _active(filters)
    needed = set(by) | set(f)
    cuboids, rows = ((DAYS_CUBOIDS, st.days_rows) if with_days
                     else (COUNT_CUBOIDS, st.count_rows))
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
    parts: list[Columns] = []
    for part, cid in plan:
        if cid is None:
            parts.append(_days_of_month(conn, part, grain, by, f, with_days,
                                        daily=(ym(part.d0) in st.daily_months
                                               and needed <= daily_dims),
                                        daily_table=daily_table))
            continue
        a, b = part.ym0, part.ym1
        if cuboids[cid].grain == "year":  # year-grain rows hold ym = year * 100
            a, b = a // 100 * 100, b // 100 * 100
        try:
            parts.append(_memory_histograms(conn, st, cid, grain, by, f, a, b) if with_days
                         else _memory_rows(conn, st, cid, grain, by, f, a, b))
        except _Moved:
            _STATUS.pop(conn, None)
            return None
    for part, daily in minus:
        *heads, n = _days_of_month(conn, part, grain, by, f, with_days, daily=daily,
                                   daily_table=daily_table)
        parts.append([*heads, -n])
    names = ([grain] if grain else []) + list(by) + (["days"] if with_days else [])
    return _combine(parts, names)


# ---- Cuboids in memory ----------------------------------------------------------------------
# Each process reads every cuboid it is asked for once per summary build (the master at
# start, before gunicorn forks its workers: they share those pages) and counts with numpy:
# no statement per chart. Rows are in time order, so a period is a slice found by binary
# search, and only the filters of that slice are compared. Memory at 5M enquiries: ~60 MB.
@dataclass
class _MemoryCuboid:
    """One cuboid: ym per row (in order), and each kept dimension as codes into
    `values[dim]`. Count cuboids: enquiries per row (`n`). Days-to-answer cuboids: each
    row's histogram as the pairs days[o[i]:o[i+1]] with n[o[i]:o[i+1]] (`offsets` o)."""

    ym: np.ndarray
    codes: dict[str, np.ndarray]
    values: Mapping[str, Sequence[str]]
    n: np.ndarray
    offsets: np.ndarray | None = None
    days: np.ndarray | None = None

    def code_of(self, dim: str) -> dict[str, int]:
        return {v: i for i, v in enumerate(self.values[dim])}


def _memory_cuboid(conn: Connection, st: Status, cid: int, *,
                   with_days: bool = False) -> _MemoryCuboid:
    """A stored cuboid in memory (read now when not read yet for this build)."""
    kind = "days" if with_days else "counts"
    return _kept(conn, st, (kind, cid), lambda c: _read_cuboid(c, st, kind, cid))


class _Moved(Exception):
    """The summaries were rebuilt or refreshed between reading their status and reading a
    cuboid (another process committed in between): the arrays may hold codes the status
    does not name. The request reads the fact table instead; the next one finds the new
    status."""


def _read_cuboid(conn: Connection, st: Status, kind: str, cid: int) -> _MemoryCuboid:
    """One cuboid's yearly rows, unpacked and joined (years in order: rows in time order).
    Raises `_Moved` when the status read again afterwards is not `st` (each statement sees
    what was committed before it: the same status before and after means the rows read
    belong to it)."""
    years = [_unpack(data) for (data,) in conn.execute(
        select(HC.data).where(HC.kind == kind, HC.cuboid == cid).order_by(HC.year))]
    cuboid = (DAYS_CUBOIDS if kind == "days" else COUNT_CUBOIDS)[cid]

    def joined(name: str, dtype: Any) -> np.ndarray:
        parts = [y[name] for y in years]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    codes = {d: joined(d, np.int8) for d in _FACT_DIMS if d in cuboid.dims}
    mem = _MemoryCuboid(joined("ym", np.int32), codes, st.vocab, joined("n", np.int32))
    if kind == "days":
        mem.offsets = np.r_[0, np.cumsum(joined("lens", np.int32), dtype=np.int64)]
        mem.days = joined("days", np.int16)
    if _read_status(conn) != st:
        raise _Moved
    return mem


def _memory_heads(mem: _MemoryCuboid, grain: str | None, by: Sequence[str],
                  f: Mapping[str, list[str]], ym0: int, ym1: int
                  ) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """The rows of `mem` within [ym0, ym1] and the filters (their indices), and what groups
    them ([time] + by codes, per row); None: no row."""
    # (bounds of the array's own type: int64 ones would make numpy copy the whole array)
    lo, hi = np.searchsorted(mem.ym, np.array([ym0, ym1 + 1], dtype=mem.ym.dtype))
    keep: np.ndarray | None = None
    for dim, wanted in f.items():
        index = mem.code_of(dim)
        codes = [index[v] for v in wanted if v in index]
        if not codes:
            return None
        hit = np.isin(mem.codes[dim][lo:hi], codes)
        keep = hit if keep is None else keep & hit
    sel = np.arange(lo, hi) if keep is None else np.flatnonzero(keep) + lo
    if not len(sel):
        return None
    ym_k = mem.ym[sel]
    parts: list[np.ndarray] = []
    if grain is not None:
        parts.append({"month": ym_k, "year": ym_k // 100,
                      "quarter": (ym_k // 100) * 10 + ((ym_k % 100) + 2) // 3}[grain])
    parts.extend(mem.codes[d][sel] for d in by)
    return sel, parts


def _heads(mem: _MemoryCuboid, grain: str | None, by: Sequence[str], parts: list[np.ndarray],
           at: np.ndarray) -> Columns:
    """The keys of the groups whose first rows are `at`: [time] + by values."""
    cols: Columns = []
    if grain is not None:
        cols.append(parts[0][at].astype(np.int64))
    for d, p in zip(by, parts[len(parts) - len(by):], strict=True):
        cols.append(np.asarray(mem.values[d], dtype=object)[p[at]])
    return cols


def _memory_histograms(conn: Connection, st: Status, cid: int, grain: str | None,
                       by: Sequence[str], f: Mapping[str, list[str]], ym0: int,
                       ym1: int) -> Columns:
    """The summed histograms of the matching cells and months: [time] + by + days + count."""
    mem = _memory_cuboid(conn, st, cid, with_days=True)
    got = _memory_heads(mem, grain, by, f, ym0, ym1)
    if got is None:
        return []
    sel, parts = got
    assert mem.offsets is not None and mem.days is not None
    starts, lens = mem.offsets[sel], mem.offsets[sel + 1] - mem.offsets[sel]
    total = int(lens.sum())
    if not total:
        return []
    # every pair of the selected rows: its index into the flat arrays, and its row
    pair = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
    row = np.repeat(np.arange(len(sel)), lens)
    days = mem.days[pair]
    first, inverse = group_index([*(p[row] for p in parts), days])
    sums = np.bincount(inverse, weights=mem.n[pair]).astype(np.int64)
    return [*_heads(mem, grain, by, parts, row[first]), days[first].astype(np.int64), sums]


def _memory_rows(conn: Connection, st: Status, cid: int, grain: str | None,
                 by: Sequence[str], f: Mapping[str, list[str]], ym0: int, ym1: int
                 ) -> Columns:
    """Enquiries of the months [ym0, ym1] matching the filters `f`: [time] + by +
    enquiries per group."""
    mem = _memory_cuboid(conn, st, cid)
    got = _memory_heads(mem, grain, by, f, ym0, ym1)
    if got is None:
        return []
    sel, parts = got
    if not parts:  # no grouping: one total
        return [np.array([mem.n[sel].sum()], dtype=np.int64)]
    first, inverse = group_index(parts)
    sums = np.bincount(inverse, weights=mem.n[sel]).astype(np.int64)
    return [*_heads(mem, grain, by, parts, first), sums]


def warm(conn: Connection) -> None:
    """Read every cuboid into memory now (at start: gunicorn's workers inherit them instead
    of a visitor's first requests reading them)."""
    st = status(conn)
    if st is None:
        return
    try:
        for cuboids, with_days in ((COUNT_CUBOIDS, False), (DAYS_CUBOIDS, True)):
            for cid, c in enumerate(cuboids):
                if c.stored:
                    _memory_cuboid(conn, st, cid, with_days=with_days)
    except _Moved:  # (rebuilt meanwhile: the requests read the new ones)
        return
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


def _days_of_month(conn: Connection, part: _Part, grain: str | None, by: Sequence[str],
                   f: Mapping[str, list[str]], with_days: bool, *, daily: bool,
                   daily_table: Any) -> Columns:
    """Some days of one month, from the daily summary or (at most a month of) fact rows."""
    if daily:
        src, measure = daily_table, func.sum(daily_table.enquiries)
        dcol = daily_table.days if with_days else None
    else:
        src, measure = E, func.count()
        dcol = days_to_answer(conn.dialect.name) if with_days else None
    stmt = _select_part(src, by, f, dcol, measure).where(
        src.received_date.between(part.d0, part.d1))
    if with_days and not daily:
        stmt = stmt.where(E.answered_date.is_not(None))
    out = _columns(conn.execute(stmt).all(), len(by) + (1 if with_days else 0))
    if grain is None:
        return out
    d0 = part.d0  # a month lies within one year and one quarter
    assert d0 is not None
    t = {"month": ym(d0), "year": d0.year, "quarter": d0.year * 10 + (d0.month + 2) // 3}[grain]
    return [np.full(len(out[-1]), t, dtype=np.int64), *out]


def _combine(parts: list[Columns], keys: list[str]) -> pd.DataFrame:
    """One frame of keys + enquiries, summing the counts of equal keys across the parts (a
    part taken away has negative counts: keys it cancels out are no rows, as from the
    facts)."""
    parts = [p for p in parts if p and len(p[-1])]
    ints = [name in ("days", "year", "month", "quarter") for name in keys]
    if not parts:
        cols = [np.zeros(0, dtype=object) for _ in keys] + [np.zeros(0, dtype=np.int64)]
    elif len(parts) == 1:
        keep = parts[0][-1] != 0
        cols = [c[keep] for c in parts[0]]
    else:
        cols = [np.concatenate([p[k] for p in parts]) for k in range(len(keys) + 1)]
        if keys:
            first, inverse = group_index([c.astype(np.int64) if is_int else pd.factorize(c)[0]
                                          for c, is_int in zip(cols, ints, strict=False)])
            total = np.bincount(inverse, weights=cols[-1]).astype(np.int64)
            cols = [c[first] for c in cols[:-1]] + [total]
        else:
            cols = [np.array([int(cols[0].sum())], dtype=np.int64)]
        keep = cols[-1] != 0
        cols = [c[keep] for c in cols]
    data = {name: c.astype(np.int64 if is_int else object)
            for name, c, is_int in zip(keys, cols, ints, strict=False)}
    data["enquiries"] = cols[-1].astype(np.int64)  # (PostgreSQL's sums are Decimals)
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
