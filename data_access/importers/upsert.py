"""Insert-or-update by natural key, counting honestly what is new, changed and unchanged.

Runs inside the caller's transaction (the import's one `engine.begin()`), so a failure or a
killed process leaves nothing behind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, select, tuple_, update

from data_access.bulk import bulk_insert
from data_access.importers.report import TableCounts
from data_access.importers.validate import Batch
from data_access.models import Base

Progress = Callable[[str], None]
FETCH_CHUNK = 2_000
UPDATE_CHUNK = 5_000
PROGRESS_EVERY = 10_000


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return a == b


class Plan:
    """What writing a batch will do: the rows to insert and the rows to update."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.new: list[tuple] = []
        self.changed: list[tuple] = []
        self.replaced: list[dict[str, Any]] = []  # the stored values of the changed rows
        self.counts = TableCounts()

    def values(self, column: str) -> list[Any]:
        """Every value `column` will have or had in the rows this plan writes: the new
        rows', the changed rows' and what the changed rows held before."""
        i = self.batch.columns.index(column)
        return ([r[i] for r in self.new] + [r[i] for r in self.changed]
                + [old[column] for old in self.replaced])


def plan(conn: Connection, batch: Batch) -> Plan:
    """Compare the batch with the database by natural key (read-only)."""
    p = Plan(batch)
    table: Table = Base.metadata.tables[batch.table]
    if not batch.rows:
        return p
    if conn.execute(select(func.count()).select_from(table)).scalar_one() == 0:
        p.new = list(batch.rows)
        p.counts.inserted = len(p.new)
        return p
    cols = batch.columns
    ki = [cols.index(k) for k in batch.key]
    vi = [i for i, c in enumerate(cols) if c not in batch.key]
    key_cols = [table.c[k] for k in batch.key]
    val_cols = [table.c[cols[i]] for i in vi] + [table.c.is_demo]
    existing: dict[tuple, tuple] = {}
    rows = batch.rows
    for start in range(0, len(rows), FETCH_CHUNK):
        chunk = rows[start:start + FETCH_CHUNK]
        if len(key_cols) == 1:
            cond = key_cols[0].in_([r[ki[0]] for r in chunk])
        else:
            cond = tuple_(*key_cols).in_([tuple(r[i] for i in ki) for r in chunk])
        for rec in conn.execute(select(*key_cols, *val_cols).where(cond)):
            existing[tuple(rec[:len(ki)])] = tuple(rec[len(ki):])
    for r in rows:
        old = existing.get(tuple(r[i] for i in ki))
        if old is None:
            p.new.append(r)
        # a demo row with the same key becomes a real one: that is a change
        elif old[-1] or not all(_same(r[i], o) for i, o in zip(vi, old[:-1], strict=True)):
            p.changed.append(r)
            p.replaced.append({cols[i]: o for i, o in zip(vi, old[:-1], strict=True)})
        else:
            p.counts.unchanged += 1
    p.counts.inserted = len(p.new)
    p.counts.updated = len(p.changed)
    return p


def _counting(rows: Iterable[tuple], total: int, label: str,
              progress: Progress | None) -> Iterator[tuple]:
    n = 0
    for r in rows:
        yield r
        n += 1
        if progress and n % PROGRESS_EVERY == 0:
            progress(f"  {label}: {n:,} of {total:,} rows written")


def write(conn: Connection, p: Plan, progress: Progress | None = None) -> None:
    """Insert the new rows (COPY on PostgreSQL) and update the changed ones; imported rows
    are never demo rows."""
    batch = p.batch
    table: Table = Base.metadata.tables[batch.table]
    cols: Sequence[str] = batch.columns
    if p.new:
        if progress:
            progress(f"{batch.table}: inserting {len(p.new):,} new rows")
        bulk_insert(conn, table, tuple(cols) + ("is_demo",),
                    _counting((r + (False,) for r in p.new), len(p.new), batch.table, progress))
    if p.changed:
        if progress:
            progress(f"{batch.table}: updating {len(p.changed):,} rows")
        values = [c for c in cols if c not in batch.key]
        stmt = (update(table)
                .where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in batch.key)))
                .values({**{c: bindparam(f"v_{c}") for c in values},
                         "is_demo": bindparam("v_is_demo")}))
        params = [{**{f"k_{k}": r[cols.index(k)] for k in batch.key},
                   **{f"v_{c}": r[cols.index(c)] for c in values}, "v_is_demo": False}
                  for r in p.changed]
        for start in range(0, len(params), UPDATE_CHUNK):
            conn.execute(stmt, params[start:start + UPDATE_CHUNK])
