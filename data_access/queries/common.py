"""Small SQL helpers shared by the query modules (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Integer, Select, cast, extract, func, select
from sqlalchemy.sql.elements import ColumnElement

# dtypes as numpy dtype objects: pandas resolves a name such as "int64" by asking every
# registered extension type first (~0.1 ms per astype, dozens per page callback)
I64 = np.dtype(np.int64)
F64 = np.dtype(np.float64)


def year_of(col: ColumnElement) -> ColumnElement[int]:
    """The calendar year of a date column, as an integer, on any dialect."""
    return cast(extract("year", col), Integer)


def month_of(col: ColumnElement, dialect: str) -> ColumnElement[str]:
    """'YYYY-MM' of a date column."""
    if dialect == "postgresql":
        return func.to_char(col, "YYYY-MM")
    return func.strftime("%Y-%m", col)


def days_between(later: ColumnElement, earlier: ColumnElement,
                 dialect: str) -> ColumnElement[int]:
    """Whole days from `earlier` to `later` (dates)."""
    if dialect == "postgresql":
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def where_sectors(stmt: Select, col: ColumnElement, sectors: Sequence[str] | None) -> Select:
    """Restrict to the given sectors; empty or None means all sectors."""
    return stmt.where(col.in_(list(sectors))) if sectors else stmt


def where_in(stmt: Select, col: ColumnElement, values: Sequence[str] | None) -> Select:
    """Restrict a column to values; empty or None means no restriction."""
    return stmt.where(col.in_(list(values))) if values else stmt


def as_date(v: object) -> dt.date | None:
    """A date from the driver: SQLite hands dates back as 'YYYY-MM-DD…' text (from aggregates
    and raw reads), PostgreSQL as dates or, from some expressions, datetimes."""
    if isinstance(v, str):
        return dt.date.fromisoformat(v[:10])
    if isinstance(v, dt.datetime):
        return v.date()
    return v  # type: ignore[return-value]


def year_bounds(year_from: int, year_to: int) -> tuple[dt.date, dt.date]:
    """First and last day of a range of calendar years."""
    return dt.date(year_from, 1, 1), dt.date(year_to, 12, 31)


def columns_frame(data: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """A frame of fresh numpy columns (in the mapping's order), taken as they are.

    `pd.DataFrame(data, columns=...)` costs ~0.2 ms (it copies and reindexes), five times
    this; a request builds a dozen small frames. The arrays must not be shared with another
    frame (they are not copied)."""
    return pd.DataFrame(dict(data), copy=False)


def typed(df: pd.DataFrame, types: dict[str, np.dtype]) -> pd.DataFrame:
    """`df.astype(types)` rebuilt from numpy columns: the same frame, without pandas'
    per-column concatenation (~0.3 ms, a lot on a request path of a dozen small frames)."""
    return columns_frame({c: df[c].to_numpy(dtype=types.get(c), copy=True)
                          for c in df.columns})


def most_first(count: int, name: int = 0) -> Callable[[Sequence[Any]], tuple]:
    """A sort key for result rows: the `count` column descending, then the `name` column
    ascending with missing names last (`sort_values([count, name], [False, True])`)."""
    return lambda r: (-r[count], r[name] is None, "" if r[name] is None else r[name])


def rows_frame(rows: Iterable[Sequence[Any]], columns: Sequence[str],
               types: Mapping[str, np.dtype],
               sort: Callable[[Sequence[Any]], Any] | None = None) -> pd.DataFrame:
    """A frame from result rows, each column typed at once (`types`; others are objects)
    and the rows optionally sorted in Python: no pandas steps for a chart's few rows."""
    rows = [tuple(r) for r in rows]
    if sort is not None:
        rows.sort(key=sort)
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return columns_frame({c: np.array(v, dtype=types.get(c, object))
                          for c, v in zip(columns, cols, strict=True)})


def frame(conn: Connection, stmt: Select, columns: Sequence[str]) -> pd.DataFrame:
    """Run a select and return its rows as a DataFrame with the given column names."""
    rows = conn.execute(stmt).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def median_from_histogram(hist: pd.DataFrame, key: str, value: str, count: str,
                          q: float = 0.5) -> pd.DataFrame:
    """Exact quantile per `key` from a (key, value, count) histogram (lower median)."""
    if hist.empty:
        return pd.DataFrame(columns=[key, value])
    rows = sorted(zip(hist[key].tolist(), hist[value].tolist(), hist[count].tolist(),
                      strict=True), key=lambda r: (r[0], r[1]))
    out = []
    i = 0
    while i < len(rows):  # (plain Python: a few hundred rows, one walk per key)
        j = i
        while j < len(rows) and rows[j][0] == rows[i][0]:
            j += 1
        total = sum(r[2] for r in rows[i:j])
        cum = 0
        for r in rows[i:j]:
            cum += r[2]
            if cum >= q * total:
                out.append((r[0], float(r[1])))
                break
        i = j
    return pd.DataFrame(out, columns=[key, value])


# ---- Small tables kept in memory --------------------------------------------------------------
def database_key(conn: Connection) -> str:
    """Which database a connection reads (keys of the copies kept in memory)."""
    return conn.engine.url.render_as_string(hide_password=True)


def group_index(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by several integer columns at once: (`first`, `inverse`), the first row of
    each group and each row's group number, groups in key order. The columns are combined
    into one integer key (mixed radix: each shifted past the previous one's range)."""
    key = np.zeros(len(parts[0]) if parts else 0, dtype=np.int64)
    for p in parts:
        low = int(p.min()) if len(p) else 0
        key = key * (int(p.max()) - low + 1 if len(p) else 1) + (p.astype(np.int64) - low)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse


@dataclass(frozen=True)
class Coded:
    """A table's rows as integer codes per column (`values[col][code]` is the value, None
    where missing): filters are `isin` on integers and groups are `bincount`s, a fraction of
    a millisecond where a SQL GROUP BY sorts the rows each time."""

    codes: dict[str, np.ndarray]
    values: dict[str, list[Any]]
    floats: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def among(self, col: str, wanted: Iterable[Any]) -> np.ndarray:
        """Which rows have `col` in `wanted`."""
        want = set(wanted)
        hits = [i for i, v in enumerate(self.values[col]) if v in want]
        return np.isin(self.codes[col], np.array(hits, dtype=np.int64))

    def where(self, col: str, test: Callable[[Any], bool]) -> np.ndarray:
        """Which rows have a `col` value passing `test` (called once per distinct value)."""
        return self.among(col, [v for v in self.values[col] if test(v)])

    def numbers(self, col: str, rows: np.ndarray) -> np.ndarray:
        """The numeric `col` of `rows` as floats, a missing value as 0 (as SQL's SUM)."""
        values = self.floats.get(col)
        if values is None:  # (once per column: thousands of distinct values)
            values = self.floats[col] = np.array(
                [0.0 if v is None else float(v) for v in self.values[col]], dtype=F64)
        return values[self.codes[col][rows]]

    def value_at(self, col: str, row: int) -> Any:
        """The value of `col` in one row."""
        return self.values[col][self.codes[col][row]]

    def groups(self, col: str, rows: np.ndarray,
               *weights: np.ndarray) -> list[tuple[Any, ...]]:
        """(value, number of rows, sum of each weight) per value of `col` among `rows`."""
        codes = self.codes[col][rows]
        n = len(self.values[col])
        counts = np.bincount(codes, minlength=n)
        sums = [np.bincount(codes, weights=w[rows], minlength=n) for w in weights]
        return [(v, int(counts[i]), *(int(x[i]) for x in sums))
                for i, v in enumerate(self.values[col]) if counts[i]]


_CODED: dict[tuple[Any, ...], Coded] = {}  # (database, table, fingerprint) -> rows
_CODED_SEEN: weakref.WeakKeyDictionary[Connection, dict[str, Coded]] = \
    weakref.WeakKeyDictionary()


def coded_rows(conn: Connection, table: Any, columns: Sequence[str],
               derive: Callable[[dict[str, tuple]], dict[str, tuple]] | None = None
               ) -> Coded:
    """`columns` of a small table (and `derive`d ones) as `Coded`, read once per data change
    and kept in memory: keyed by the row count, the newest id and the data version (which
    every import bumps), checked once per connection (one callback)."""
    from data_access.models import Meta

    seen = _CODED_SEEN.setdefault(conn, {})
    name = table.__tablename__
    if name in seen:
        return seen[name]
    version = select(Meta.value).where(Meta.key == "data_version").scalar_subquery()
    fingerprint = tuple(conn.execute(select(func.count(), func.max(table.id), version)).one())
    key = (database_key(conn), name, fingerprint)
    coded = _CODED.get(key)
    if coded is None:
        # through the driver: SQLAlchemy's row processing would triple the read
        sql = str(select(*(getattr(table, c) for c in columns)).compile(dialect=conn.dialect))
        rows = conn.exec_driver_sql(sql).fetchall()
        cols = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows \
            else {c: () for c in columns}
        if derive is not None:
            cols.update(derive(cols))
        codes, values = {}, {}
        for c, vals in cols.items():
            index: dict[Any, int] = {}
            codes[c] = np.fromiter((index.setdefault(v, len(index)) for v in vals),
                                   dtype=np.int64, count=len(vals))
            values[c] = list(index)
        coded = Coded(codes, values)
        if len(_CODED) >= 16:  # a few tables of a few databases (tests use two at once)
            _CODED.pop(next(iter(_CODED)))
        _CODED[key] = coded
    seen[name] = coded
    return coded
