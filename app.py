"""Entry point: `create_app()` builds the Dash app; `server` is for `gunicorn app:server`."""

from __future__ import annotations

import fcntl
import gc
import gzip
import logging
import os
from pathlib import Path
from typing import Any

import dash
from dash import Dash, html
from flask_caching import Cache
from flask_compress import Compress

from components.shell import shell
from data_access import db, service, vocab
from data_access.settings import ROOT, Settings

log = logging.getLogger("dashboard")


def _prepare_database(settings: Settings) -> None:
    """Create or upgrade the schema and, on an empty database, load the demo data.

    A file lock makes several gunicorn workers starting together do this once.
    """
    engine = db.init_engine(settings.DATABASE_URL)
    lock_path = ROOT / "instance" / ".startup.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            db.upgrade_schema(engine)
            if settings.LOAD_DEMO_IF_EMPTY:
                from data_access.demo import has_any_data, load_demo

                with engine.connect() as conn:
                    empty = not has_any_data(conn)
                if empty:
                    log.warning("Empty database: loading demo data")
                    load_demo(engine, log=log.info)
            _refresh_summaries(engine)
            _warm_memory(engine)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _refresh_summaries(engine: Any) -> None:
    """Rebuild the summary tables when they do not match the data (a new version counts other
    cuboids, or rows were written without an import): queries would read the fact table
    meanwhile, correct but slow. Once, at start, under the start-up lock."""
    from data_access import summaries
    from data_access.demo import has_any_data

    with engine.begin() as conn:
        if summaries.status(conn) is None and has_any_data(conn):
            log.warning("Summary tables out of date: rebuilding them")
            st = summaries.rebuild(conn)
            log.warning("Summary tables rebuilt in %.1f s", st.seconds)
    summaries.tidy(engine)


def _warm_memory(engine: Any) -> None:
    """Read the tables the queries keep in memory (`common.coded_rows`, the summary
    cuboids) now: with gunicorn's preloaded app the workers inherit them, instead of a
    visitor's request paying the first read (~20 ms-0.5 s) in each worker."""
    from data_access import summaries
    from data_access.queries import epa, programmes, research, techtransfer

    with engine.connect() as conn:
        epa.warm(conn)
        programmes.warm(conn)
        techtransfer.warm(conn)
        research.warm(conn)
        summaries.warm(conn)


def settle_memory() -> None:
    """Once the app is built: collect, then freeze what is left (`gc.freeze`), so later full
    collections look only at objects made while serving (gunicorn.conf.py's `when_ready`
    does the same before forking the workers)."""
    gc.collect()
    gc.freeze()


def _make_cache(server: Any, settings: Settings) -> Cache:
    """Local in-process cache by default; Redis (shared by all workers) with REDIS_URL."""
    if settings.REDIS_URL:
        cfg = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.REDIS_URL}
    else:
        cfg = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}
    cfg["CACHE_DEFAULT_TIMEOUT"] = settings.CACHE_TIMEOUT
    return Cache(server, config=cfg)


def create_app(config: dict[str, Any] | None = None) -> Dash:
    """Build the Dash app from the environment, with `config` overriding it (tests)."""
    settings = Settings.from_env(config)
    _prepare_database(settings)
    app = Dash(__name__, use_pages=True, pages_folder=str(ROOT / "pages"),
               assets_folder=str(ROOT / "assets"), title="EU–Japan Centre dashboard",
               update_title=None, suppress_callback_exceptions=False,
               meta_tags=[{"name": "viewport",
                           "content": "width=device-width, initial-scale=1"}])
    server = app.server
    use_slim_plotlyjs(server)
    server.config["SECRET_KEY"] = settings.SECRET_KEY
    server.config["DASHBOARD_SETTINGS"] = settings
    Compress(server)
    _long_lived_assets(server)
    service.use_cache(_make_cache(server, settings))

    def serve_layout(**_: Any) -> html.Div:
        pages = [(p.get("nav", p["name"]), p["relative_path"])
                 for p in dash.page_registry.values()
                 if not p.get("hidden")]
        from pages._state import current_lang, year_options

        lang = current_lang()
        return shell(pages=pages, demo=service.is_demo_loaded(), years=year_options(),
                     sectors=[(s.code, s.ja if lang == "ja" else s.en) for s in vocab.SECTORS],
                     content=dash.page_container, lang=lang)

    app.layout = serve_layout
    _register_routes(server)
    _warm_pages(server)
    return app


def warm_worker(server: Any) -> None:
    """In a gunicorn worker, just forked: the pages' default views once more, with the cache
    bypassed, on the worker's own database connection. A PostgreSQL connection's first
    statement on each table pays for catalog look-ups and planning (1-3 ms a table, up to
    ~10 ms with cold pages); without this, the first requests of each worker paid it."""
    saved = service.current_cache()
    service.use_cache(None)
    try:
        _warm_pages(server)
    finally:
        service.use_cache(saved)


def _warm_pages(server: Any) -> None:
    """Run each page's main callback once for its default view (no filters), at start: the
    first visitor of each page then finds it in the cache, and with gunicorn's preloaded
    app every worker inherits code paths that have run once (lazy imports, first-use set-up)
    and a database whose pages are in memory. Without it, the first request of each page in
    each worker took two to three times as long. A failure here only loses the head start."""
    from pages._state import DEFAULT_VIEWS

    with server.test_request_context("/"):
        for view in DEFAULT_VIEWS:
            try:
                view()
            except Exception:  # noqa: BLE001 - warming is an optimisation
                log.exception("warming a page's default view failed")


def use_slim_plotlyjs(server: Any) -> None:
    """Serve the dashboard's partial plotly.js bundle (components/vendor) where Dash's
    renderer fetches plotly.js: the same plotly.js version with only the trace types the
    charts use, a third of the bytes to download and parse on a first visit. The bundle is
    compressed once, at start (brotli at its best level, and gzip), not per request."""
    import brotli
    from flask import Response, request

    from components import vendor

    raw = (ROOT / "components" / "vendor" / vendor.PLOTLY_BUNDLE).read_bytes()
    encoded = {"br": brotli.compress(raw, quality=11), "gzip": gzip.compress(raw, 9)}
    etag = f'"plotly-eujp-{vendor.__version__}-{len(raw)}"'
    path = "/_dash-component-suites/plotly/package_data/plotly.min.js"

    @server.before_request
    def _plotlyjs() -> Any:
        if not request.path.endswith(path):  # (also under a path prefix)
            return None
        if request.if_none_match.contains(etag.strip('"')):
            return Response(status=304, headers={"ETag": etag})
        accepted = request.accept_encodings
        enc = next((e for e in ("br", "gzip") if accepted[e]), None)
        resp = Response(encoded[enc] if enc else raw, mimetype="application/javascript")
        if enc:
            resp.headers["Content-Encoding"] = enc
        resp.headers["Vary"] = "Accept-Encoding"
        resp.headers["ETag"] = etag
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp


def _long_lived_assets(server: Any) -> None:
    """Let browsers keep /assets/ files for a year: Dash links them with `?m=<mtime>`, so a
    changed file gets a new URL (its own bundles under /_dash-component-suites/ already are)."""
    from flask import request

    @server.after_request
    def _cache_assets(response: Any) -> Any:
        if request.path.startswith("/assets/") and "m" in request.args \
                and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _register_routes(server: Any) -> None:
    """Plain Flask routes (downloads, exports) live in pages/_routes_*.py modules, each with
    a `register_routes(server)` function; found here so app.py stays thin."""
    import importlib

    for path in sorted((ROOT / "pages").glob("_routes_*.py")):
        importlib.import_module(f"pages.{path.stem}").register_routes(server)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    application = create_app()
    settle_memory()
    application.run(host=os.environ.get("HOST", "127.0.0.1"),
                    port=int(os.environ.get("PORT", "8050")), debug=False)
else:  # imported by gunicorn (`gunicorn app:server`) or by a test
    if os.environ.get("DASHBOARD_NO_AUTOAPP") != "1":
        server = create_app().server
    _ = Path  # keep the import used for type checkers
