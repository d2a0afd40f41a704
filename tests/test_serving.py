"""How the app is served: gunicorn's settings (gunicorn.conf.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_loaded_app_is_frozen_before_the_workers_are_forked(tmp_path: Path) -> None:
    """gunicorn's `when_ready` (after the preloaded app is built, before the fork) moves the
    app's objects out of the collector's reach: a worker's full collection does not walk the
    whole app (a ~60 ms pause on about one request in forty)."""
    code = ("import gc, runpy, sys; from app import create_app; "
            "create_app({'DATABASE_URL': sys.argv[1], 'LOAD_DEMO_IF_EMPTY': False}); "
            "cfg = runpy.run_path('gunicorn.conf.py'); "
            "before = gc.get_freeze_count(); cfg['when_ready'](None); "
            "print(before, gc.get_freeze_count(), gc.collect())")
    out = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / 'x.sqlite'}"],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "DASHBOARD_NO_AUTOAPP": "1"}).stdout.split()
    before, after, collected = int(out[0]), int(out[1]), int(out[2])
    assert before == 0
    assert after > 100_000  # the built app: Dash, plotly, pandas, the pages
    assert collected == 0  # nothing left for a full collection to walk and free


def test_each_page_default_view_is_ready_when_the_app_starts(tmp_path: Path) -> None:
    """At start the app runs each page's main callback once for its default view: the first
    visitor of a page is answered from the cache (in gunicorn's master, before the workers
    are forked: they inherit the warmed code and cache)."""
    code = """
import sys
from app import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "LOAD_DEMO_IF_EMPTY": False})
import pages.overview as ov
from pages import _charts, _state
built = []
page_output, kpis = _charts.page_output, ov.overview_kpis
_charts.page_output = lambda *a, **k: built.append("charts") or page_output(*a, **k)
ov.overview_kpis = lambda *a, **k: built.append("overview") or kpis(*a, **k)
with app.server.test_request_context("/"):
    for view in _state.DEFAULT_VIEWS:
        view()
    ov.update_cards("?from=2019")  # (a view not warmed is built: the spies work)
print(len(_state.DEFAULT_VIEWS), ",".join(built))
"""
    out = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / 'x.sqlite'}"],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "DASHBOARD_NO_AUTOAPP": "1"}).stdout.split()
    views, built = int(out[0]), out[1]
    assert views >= 6  # the overview and the five chart pages
    assert built == "overview"  # only the view that was not warmed


def test_a_forked_worker_warms_its_own_connection_before_its_first_request(
        tmp_path: Path) -> None:
    """gunicorn's `post_fork`: the inherited connections are dropped and the worker runs the
    pages' default views on a connection of its own, past the cache (which the master
    filled), so the database has planned its statements before the first visitor; the cache
    is put back."""
    code = """
import sys, runpy
from sqlalchemy import event
from app import create_app
import app as module
module.server = create_app({"DATABASE_URL": sys.argv[1], "LOAD_DEMO_IF_EMPTY": False}).server
from data_access import db, service
cache = service.current_cache()
seen = []
event.listen(db.get_engine(), "before_cursor_execute",
             lambda conn, cur, stmt, *a: seen.append(stmt))
runpy.run_path("gunicorn.conf.py")["post_fork"](None, None)
print(service.current_cache() is cache, sum("FROM helpdesk_" in s for s in seen),
      sum("FROM research_" in s for s in seen))
"""
    out = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / 'x.sqlite'}"],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "DASHBOARD_NO_AUTOAPP": "1"}).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) > 0 and int(out[2]) > 0  # the help-desk and research pages' reads
