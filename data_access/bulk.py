"""Fast bulk inserts inside the caller's transaction: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str],
                rows: Iterable[Sequence[Any]], *, chunk: int = 50_000) -> int:
    """Insert rows (tuples in `columns` order) into `table`; returns the number inserted.

    Uses the driver's fastest path and stays inside the connection's current transaction,
    so a failure rolls everything back with the rest of the caller's work.
    """
    dialect = conn.dialect.name
    n = 0
    if dialect == "postgresql":
        raw = conn.connection.driver_connection
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as cp:
            for row in rows:
                cp.write_row(row)
                n += 1
        return n
    if dialect == "sqlite":
        raw = conn.connection.driver_connection
        sql = (f'INSERT INTO "{table.name}" ({", ".join(columns)}) '
               f'VALUES ({", ".join("?" for _ in columns)})')
        cur = raw.cursor()
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                cur.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
            n += len(batch)
        cur.close()
        return n
    # Any other dialect: portable, slower path.
    buf = [dict(zip(columns, r, strict=True)) for r in rows]
    if buf:
        conn.execute(insert(table), buf)
    return len(buf)
