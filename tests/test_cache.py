"""The shared cache: results reused until the data change, on both databases and in Redis;
the cached page output is exactly what Dash would have sent.

The service keeps process-wide state (engine, cache); every test puts back what it found.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from flask import Flask
from flask_caching import Cache
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from components.charts import FigureContext, base_layout, data_table
from components.fastfig import fast_figure, merge_layout, plain, table_json
from data_access import db, service
from data_access.bulk import bulk_insert
from data_access.db import bump_data_version
from data_access.demo import ENQUIRY_COLUMNS, _after_load
from data_access.models import Base
from data_access.queries import helpdesk as hq
from pages._charts import page_state, state_key

REDIS_URL = "redis://127.0.0.1:6379/14"  # a database of its own, flushed by the test


@pytest.fixture
def wired(engine: Engine) -> Iterator[Engine]:
    """`service` pointed at this test's database and a fresh local cache."""
    saved = (db._engine, db._sessionmaker, service._cache)  # noqa: SLF001
    db._engine, db._sessionmaker = None, None  # noqa: SLF001 - so init_engine takes this one
    db.init_engine(engine.url.render_as_string(hide_password=False))
    service.use_cache(Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    yield engine
    db.get_engine().dispose()
    db._engine, db._sessionmaker = saved[0], saved[1]  # noqa: SLF001
    service.use_cache(saved[2])


def _import(engine: Engine, n: int, day: dt.date, start: int = 0) -> None:
    """What the importer does: rows, data-version bump and summaries, one transaction."""
    rows = [(f"C-{start + i:05d}", "epa", "customs", day.isoformat(), None, "ict", "sme", "FR",
             False) for i in range(n)]
    with engine.begin() as c:
        bulk_insert(c, Base.metadata.tables["helpdesk_enquiry"], ENQUIRY_COLUMNS, rows)
        with Session(bind=c) as s:
            bump_data_version(s)
            s.flush()
        _after_load(c)


def test_results_are_reused_until_an_import(wired: Engine) -> None:
    calls = []

    def counted(conn, **kw):  # noqa: ANN001, ANN003, ANN202
        calls.append(kw)
        return hq.enquiries_by_requester(conn, **kw)

    counted.__qualname__ = "counted"
    _import(wired, 5, dt.date(2022, 3, 1))
    first = service.run(counted, year_from=2022, year_to=2022)
    again = service.run(counted, year_from=2022, year_to=2022)
    assert len(calls) == 1 and first.enquiries.tolist() == again.enquiries.tolist() == [5]
    service.run(counted, year_from=2021, year_to=2022)  # other filters: another entry
    assert len(calls) == 2
    _import(wired, 3, dt.date(2022, 4, 1), start=100)  # a new data version
    after = service.run(counted, year_from=2022, year_to=2022)
    assert len(calls) == 3 and after.enquiries.tolist() == [8]


def test_page_output_is_cached_per_state_and_version(wired: Engine) -> None:
    built = []

    def build() -> list:
        built.append(1)
        return [{"data": [], "layout": {"title": {"text": "x"}}}]

    key = state_key(page_state("?from=2019&to=2020&sector=ict"))
    same = state_key(page_state("?sector=ict&to=2020&from=2019"))  # same state, other order
    assert key == same
    assert key != state_key(page_state("?from=2019&to=2020&sector=ict&lang=ja"))
    for _ in range(3):
        with service.pinned():
            out = service.cached("charts", ["helpdesks", key], build)
    assert len(built) == 1 and out[0]["layout"]["title"]["text"] == "x"
    _import(wired, 1, dt.date(2020, 1, 2))
    with service.pinned():
        service.cached("charts", ["helpdesks", key], build)
    assert len(built) == 2


def test_one_meta_read_per_callback(wired: Engine) -> None:
    """Inside `pinned()` the data version (and demo flag) is read once, whatever the number
    of queries; outside, every call reads it (so a write then a read sees the write)."""
    _import(wired, 2, dt.date(2021, 5, 5))
    reads = []

    @event.listens_for(db.get_engine(), "before_cursor_execute")
    def spy(conn, cursor, statement, *_a):  # noqa: ANN001, ANN202
        if "app_meta" in statement and "data_version" in str(_a[0]):
            reads.append(statement)

    with service.pinned():
        for y in (2019, 2020, 2021):
            service.run(hq.enquiries_by_country, year_from=y, year_to=y)
        service.is_demo_loaded()
    assert len(reads) == 1
    reads.clear()
    service.data_version()
    service.data_version()
    assert len(reads) == 2


def test_redis_cache_is_shared_by_workers_and_follows_imports(wired: Engine) -> None:
    """Two workers (two Cache objects on one Redis): what one computed, the other reuses;
    after an import both compute afresh."""
    import redis  # a pinned requirement; Redis itself is started by .ci/run when down

    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.exceptions.ConnectionError as exc:
        raise RuntimeError(f"Redis is required for this test ({REDIS_URL}): {exc}") from exc
    cfg = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL}
    worker_a, worker_b = (Cache(Flask(f"w{i}"), config=cfg) for i in "ab")
    calls = []

    def counted(conn, **kw):  # noqa: ANN001, ANN003, ANN202
        calls.append(1)
        return hq.enquiries_by_month(conn, **kw)

    counted.__qualname__ = "counted_redis"
    _import(wired, 4, dt.date(2024, 2, 2))
    service.use_cache(worker_a)
    a = service.run(counted, year_from=2024, year_to=2024)
    service.use_cache(worker_b)
    b = service.run(counted, year_from=2024, year_to=2024)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(a, b)
    _import(wired, 6, dt.date(2024, 2, 3), start=50)
    service.use_cache(worker_a)
    assert service.run(counted, year_from=2024, year_to=2024).enquiries.sum() == 10
    assert len(calls) == 2
    redis.Redis.from_url(REDIS_URL).flushdb()


# ---- what is cached is what Dash sends ------------------------------------------------------
@pytest.mark.parametrize("df", [
    pd.DataFrame({"year": [2019, 2020], "pur": [0.5, math.nan], "name": ["a", None],
                  "month": pd.to_datetime(["2019-01-01", "2020-02-01"])}),
    pd.DataFrame({"year": [], "pur": [], "name": [], "month": []}),
    pd.DataFrame({"year": range(700), "pur": np.linspace(0, 1, 700), "name": ["x"] * 700,
                  "month": pd.date_range("1990-01-01", periods=700, freq="MS")}),
], ids=["mixed", "empty", "capped"])
def test_table_json_is_what_data_table_sends(df: pd.DataFrame) -> None:
    cols = [("year", "Year"), ("pur", "Rate (%)"), ("name", "Name"), ("month", "Month"),
            ("missing", "Not a column")]
    formats = {"pur": "{:.1%}", "month": "{:%Y-%m}", "year": "{:,}"}
    assert table_json(df, cols, formats) == plain(data_table(df, cols, formats))


def test_plain_figure_is_what_plotly_sends() -> None:
    fig = go.Figure(go.Bar(x=pd.to_datetime(["2020-01-01", "2020-02-01"]), y=np.array([1, 2]),
                           customdata=["a", "b"]))
    fig.add_trace(go.Scatter(x=[1, 2], y=[math.nan, 3.5], name="n"))
    got = plain(fig)
    assert [t["type"] for t in got["data"]] == ["bar", "scatter"]
    assert got["data"][0]["customdata"] == ["a", "b"]
    assert [str(v)[:10] for v in got["data"][0]["x"]] == ["2020-01-01", "2020-02-01"]
    assert got["data"][1]["y"] == [None, 3.5]  # NaN travels as null
    # the slim default template: plotly_white's look for 2-D charts, nothing else
    assert got["layout"]["template"]["layout"]["plot_bgcolor"] == "white"
    assert "geo" not in got["layout"]["template"]["layout"]


def test_fast_figures_look_like_validated_ones() -> None:
    ctx = FigureContext(title="T", subtitle="2019–2020", source="Source: x", demo=True)
    slow = go.Figure(go.Bar(x=["a", "b"], y=[1, 2], marker={"color": "#0072B2"}))
    base_layout(slow, ctx, x_title="X", y_title="Y")
    fast = base_layout(fast_figure([{"type": "bar", "x": ["a", "b"], "y": [1, 2],
                                     "marker": {"color": "#0072B2"}}]), ctx,
                       x_title="X", y_title="Y")
    assert plain(fast) == plain(slow)
    # subplot axes added by merge_layout are known to plotly afterwards (as update_layout)
    merge_layout(fast, {"yaxis2": {"overlaying": "y", "side": "right"},
                        "annotations": [{"text": "changed"}]})
    assert fast.layout.yaxis2.side == "right"
    anns = plain(fast)["layout"]["annotations"]
    assert anns[0]["text"] == "changed" and anns[0]["xref"] == "paper"  # merged, not replaced
    assert anns[1]["text"] == "DEMO DATA"


def test_run_here_runs_a_query_once_per_callback_and_skips_the_shared_cache(
        wired: Engine) -> None:
    """The page callbacks cache their whole output; their queries go through `run_here`: one
    run per query and arguments within the callback, each caller its own copy, nothing
    written to the shared cache."""
    _import(wired, 3, dt.date(2022, 3, 3))
    calls = []

    def counted(conn, **kw):  # noqa: ANN001, ANN003, ANN202
        calls.append(1)
        return hq.enquiries_by_month(conn, **kw)

    counted.__qualname__ = "counted_here"
    with service.pinned():
        a = service.run_here(counted, year_from=2022, year_to=2022)
        b = service.run_here(counted, year_from=2022, year_to=2022)
        service.run_here(counted, year_from=2021, year_to=2022)
    assert len(calls) == 2
    a.loc[0, "enquiries"] = -1  # a caller changing its frame does not change the other's
    assert b.enquiries.tolist() == [3]
    with service.pinned():  # a new callback runs it afresh (and found nothing shared)
        service.run_here(counted, year_from=2022, year_to=2022)
        service.run(counted, year_from=2022, year_to=2022)
    assert len(calls) == 4
