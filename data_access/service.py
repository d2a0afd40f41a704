"""The one door from pages to queries: opens a connection, runs a query function, caches.

Pages call `run(query_fn, **filters)`; they never see engines or sessions. The cache key
includes the data version, which every import and demo load bumps, so a change of data is
seen at once by every worker sharing the cache.

Reading the data version is one small query. A callback that runs several queries reads it
once: inside `with pinned():` every `run`/`cached` call (and `is_demo_loaded`) uses the same
snapshot of the meta table, and the same database connection (one pool checkout per callback,
not one per chart, and per-connection memos such as the summaries' status are read once).
Outside such a block each call reads it afresh, so code that changes data and then reads it
back in the same request always sees its own change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple, TypeVar

import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from data_access.db import get_engine
from data_access.models import Meta

T = TypeVar("T")

_cache: Any = None  # a flask_caching.Cache, set by `use_cache`


class Snapshot(NamedTuple):
    """The meta values every cached read depends on."""

    data_version: str
    demo_loaded: bool


_pinned: ContextVar[Snapshot | None] = ContextVar("dashboard_meta_snapshot", default=None)
_conn: ContextVar[Connection | None] = ContextVar("dashboard_pinned_connection", default=None)
_memo: ContextVar[dict[str, Any] | None] = ContextVar("dashboard_request_memo", default=None)


def use_cache(cache: Any) -> None:
    """Route query results through a flask-caching cache (None disables caching)."""
    global _cache
    _cache = cache


def current_cache() -> Any:
    """The cache in use (None: caching disabled)."""
    return _cache


def _read_snapshot(conn: Connection) -> Snapshot:
    rows = dict(conn.execute(select(Meta.key, Meta.value).where(
        Meta.key.in_(("data_version", "demo_loaded")))).all())
    return Snapshot(rows.get("data_version") or "0", rows.get("demo_loaded") == "1")


def read_snapshot() -> Snapshot:
    """Data version and demo flag, read together in one query."""
    with connection() as conn:
        return _read_snapshot(conn)


@contextmanager
def connection() -> Iterator[Connection]:
    """The pinned block's connection, else a fresh one (closed at the end of the block)."""
    shared = _conn.get()
    if shared is not None:
        yield shared
        return
    with get_engine().connect() as conn:
        yield conn


def read(fn: Callable[..., T], **kwargs: Any) -> T:
    """Run `fn(conn, **kwargs)` uncached: for what the data version does not cover (accounts,
    the audit trail, the import log)."""
    with connection() as conn:
        return fn(conn, **kwargs)


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in a transaction on the process's engine: committed at the end of the block,
    rolled back if it raises (writes that are not imports: accounts, audit rows)."""
    with Session(get_engine(), expire_on_commit=False) as s, s.begin():
        yield s


def snapshot() -> Snapshot:
    """The pinned snapshot inside `pinned()`, else a fresh read."""
    return _pinned.get() or read_snapshot()


@contextmanager
def pinned() -> Iterator[Snapshot]:
    """Read the meta snapshot once and use it, and one connection, for every call inside the
    block (read-only use: the connection runs without a transaction)."""
    outer = _pinned.get()
    if outer is not None:  # nested: keep the outer snapshot
        yield outer
        return
    with get_engine().connect() as conn:
        # Read-only, and each statement sees the latest committed data either way (READ
        # COMMITTED): no transaction, so no BEGIN and ROLLBACK round trips on PostgreSQL.
        conn.execution_options(isolation_level="AUTOCOMMIT")
        ctoken = _conn.set(conn)
        mtoken = _memo.set({})
        token = _pinned.set(_read_snapshot(conn))
        try:
            yield _pinned.get()  # type: ignore[misc]
        finally:
            _pinned.reset(token)
            _memo.reset(mtoken)
            _conn.reset(ctoken)


def data_version() -> str:
    """The current data version (a counter bumped by every data change)."""
    return snapshot().data_version


def _key(fn: Callable[..., Any], kwargs: dict[str, Any], version: str) -> str:
    payload = json.dumps([fn.__module__, fn.__qualname__, version, kwargs], sort_keys=True,
                         default=str)
    return "q:" + hashlib.sha1(payload.encode()).hexdigest()


def run(fn: Callable[..., T], **kwargs: Any) -> T:
    """Run `fn(conn, **kwargs)` on a fresh connection (read-only use), cached when enabled."""
    if _cache is None:
        with connection() as conn:
            return fn(conn, **kwargs)
    key = _key(fn, kwargs, data_version())
    hit = _cache.get(key)
    if hit is not None:
        return hit
    with connection() as conn:
        result = fn(conn, **kwargs)
    _cache.set(key, result)
    return result


def run_here(fn: Callable[..., T], **kwargs: Any) -> T:
    """`run` without the shared cache, for a result that is about to be cached as part of a
    bigger one (a page's whole output): no pickling and no cache round trips per query.
    Inside `pinned()` a query asked twice with the same arguments runs once (charts sharing
    a query); each caller gets its own copy of a DataFrame."""
    memo = _memo.get()
    if memo is None:
        with connection() as conn:
            return fn(conn, **kwargs)
    key = _key(fn, kwargs, "")
    if key not in memo:
        with connection() as conn:
            memo[key] = fn(conn, **kwargs)
    hit = memo[key]
    return hit.copy() if isinstance(hit, pd.DataFrame) else hit


def cached(namespace: str, key: Any, compute: Callable[[], T]) -> T:
    """`compute()` memoised under (namespace, key, data version): for results built from
    several queries, such as a page's whole callback output. `key` must be JSON-able."""
    if _cache is None:
        return compute()
    payload = json.dumps([namespace, data_version(), key], sort_keys=True, default=str)
    k = "c:" + hashlib.sha1(payload.encode()).hexdigest()
    hit = _cache.get(k)
    if hit is not None:
        return hit
    result = compute()
    _cache.set(k, result)
    return result


def is_demo_loaded() -> bool:
    """True while demo data is in the database."""
    return snapshot().demo_loaded


def today() -> dt.date:
    """Today's date (one place, so tests can reason about partial years)."""
    return dt.date.today()
