"""The one door from pages to queries: opens a connection, runs a query function, caches.

Pages call `run(query_fn, **filters)`; they never see engines or sessions. The cache key
includes the data version, which every import and demo load bumps, so a change of data is
seen at once by every worker sharing the cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from data_access.db import get_engine, get_meta

T = TypeVar("T")

_cache: Any = None  # a flask_caching.Cache, set by `use_cache`


def use_cache(cache: Any) -> None:
    """Route query results through a flask-caching cache (None disables caching)."""
    global _cache
    _cache = cache


def data_version() -> str:
    """The current data version (a counter bumped by every data change)."""
    with get_engine().connect() as conn:
        return get_meta(conn, "data_version", "0") or "0"


def _key(fn: Callable[..., Any], kwargs: dict[str, Any], version: str) -> str:
    payload = json.dumps([fn.__module__, fn.__qualname__, version, kwargs], sort_keys=True,
                         default=str)
    return "q:" + hashlib.sha1(payload.encode()).hexdigest()


def run(fn: Callable[..., T], **kwargs: Any) -> T:
    """Run `fn(conn, **kwargs)` on a fresh connection (read-only use), cached when enabled."""
    if _cache is None:
        with get_engine().connect() as conn:
            return fn(conn, **kwargs)
    version = data_version()
    key = _key(fn, kwargs, version)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    with get_engine().connect() as conn:
        result = fn(conn, **kwargs)
    _cache.set(key, result)
    return result


def is_demo_loaded() -> bool:
    """True while demo data is in the database."""
    with get_engine().connect() as conn:
        return get_meta(conn, "demo_loaded", "0") == "1"


def today() -> dt.date:
    """Today's date (one place, so tests can reason about partial years)."""
    return dt.date.today()
