"""gunicorn settings: `gunicorn app:server` (or `-c gunicorn.conf.py app:server`).

Two workers for a two-core machine; the app is built once in the master (`preload_app`), so
the schema upgrade and the demo-data load on an empty database run once, and the workers
share the loaded code (copy-on-write). Environment variables override the defaults.
"""

from __future__ import annotations

import os

import gunicorn.http.wsgi

# No "Server: gunicorn/<version>" banner: gunicorn reads this module constant for each
# response (there is no setting for it).
gunicorn.http.wsgi.SERVER = "dashboard"

bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:"
                                       f"{os.environ.get('PORT', '8050')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# One thread per worker: page callbacks are CPU-bound Python, so more threads would only
# queue on the GIL; waiting requests queue in the listen backlog instead.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
preload_app = True
# Sync workers and a short timeout: every request answers in milliseconds. Checking and
# importing a file run as background processes (data_access.jobs), never in a worker; an
# upload is streamed to disk. A reverse proxy in front should buffer request bodies (nginx
# does by default), so a slow client's upload does not hold a worker while it trickles in.
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
backlog = 512
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))  # 0: never recycle
max_requests_jitter = 50
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def post_fork(server, worker) -> None:  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """Each worker opens its own database connections (none inherited from the master), and
    warms one before its first request (`app.warm_worker`)."""
    from data_access import db

    try:
        db.get_engine().dispose(close=False)
    except RuntimeError:  # no engine yet (the app was not preloaded)
        return
    import sys

    dashboard = sys.modules.get("app")  # (only when this server runs the dashboard's app)
    if dashboard is not None and hasattr(dashboard, "server"):
        dashboard.warm_worker(dashboard.server)


def when_ready(server) -> None:  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """The app is loaded (preload_app) and the workers are about to be forked: move every
    object made so far to the collector's permanent generation (`gc.freeze`). A worker's
    full collections then walk only what it made itself: one over the whole loaded app
    (Dash, plotly, pandas, the in-memory tables) took ~60 ms, a pause that landed on about
    one request in forty, i.e. on the p95. Frozen objects live as long as the process
    anyway, and stay shared with the workers (copy-on-write) instead of being touched by
    each worker's collections."""
    import gc

    gc.collect()
    gc.freeze()
