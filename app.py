"""Entry point: `create_app()` builds the Dash app; `server` is for `gunicorn app:server`."""

from __future__ import annotations

import fcntl
import gc
import gzip
import logging
import os
import sys
from typing import Any

import dash
from dash import Dash, html
from flask_caching import Cache
from flask_compress import Compress

from components.shell import shell
from data_access import audit, db, service, users, vocab
from data_access.settings import ROOT, ConfigError, Settings

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
            _first_admin(engine)
            audit.purge(engine, settings.AUDIT_RETENTION_DAYS)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _first_admin(engine: Any) -> None:
    """On a database without accounts, make `admin` and print its one-time password to the
    console, once (not to the log: it is a secret); its first sign-in asks for a new one."""
    otp = users.ensure_first_admin(engine)
    if otp:
        sys.stderr.write(
            "\n" + "=" * 72 + "\nNo accounts yet: created the administrator account.\n"
            f"  user name: admin\n  one-time password: {otp}\n"
            "Sign in with it; you will be asked to choose your own password. It is shown only "
            "this once\n(lost it? python -m data_access.users reset-password admin).\n"
            + "=" * 72 + "\n\n")
        sys.stderr.flush()


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


class DashboardDash(Dash):
    """Dash without version banners: the page config leaves out the Python, Dash and plotly
    versions, and script names carry an opaque tag instead of package versions."""

    def _config(self) -> dict[str, Any]:
        from pages._headers import VERSION_KEYS

        return {k: v for k, v in super()._config().items() if k not in VERSION_KEYS}

    def interpolate_index(self, **kwargs: Any) -> str:
        from pages._headers import opaque_fingerprints

        for key in ("scripts", "css", "favicon"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = opaque_fingerprints(kwargs[key])
        return super().interpolate_index(**kwargs)


def create_app(config: dict[str, Any] | None = None) -> Dash:
    """Build the Dash app from the environment, with `config` overriding it (tests).

    Raises ConfigError when the configuration is unsafe (no SECRET_KEY in production)."""
    settings = Settings.from_env(config).checked()
    _prepare_database(settings)
    app = DashboardDash(__name__, use_pages=True, pages_folder=str(ROOT / "pages"),
                        assets_folder=str(ROOT / "assets"), title="EU–Japan Centre dashboard",
                        update_title=None, suppress_callback_exceptions=False,
                        meta_tags=[{"name": "viewport",
                                    "content": "width=device-width, initial-scale=1"}])
    server = app.server
    server.config["DASHBOARD_SETTINGS"] = settings
    server.config["DASH_APP"] = app
    _trust_proxies(server, settings)
    from pages import _access, _headers

    _access.install(server, settings)
    use_slim_plotlyjs(server)
    Compress(server)
    _long_lived_assets(server)
    service.use_cache(_make_cache(server, settings))
    app.layout = _serve_layout
    _register_routes(server)
    _access.prepare_pages(server)
    # (after Dash's first-request set-up, which adds its page-title script)
    _headers.install(server, list(app.csp_hashes()), settings)
    _warm_pages(server)
    return app


def _serve_layout(**_: Any) -> html.Div:
    """The shell for this request: the pages its role may open, who is signed in."""
    from flask_wtf.csrf import generate_csrf

    from pages._access import may, role_of_request, signed_in
    from pages._state import current_lang, year_options

    lang = current_lang()
    role = role_of_request()
    pages = [(p.get("nav", p["name"]), p["relative_path"])
             for p in dash.page_registry.values()
             if not p.get("hidden") and may(p.get("role", "viewer"), role)]
    user = signed_in()
    who = (user.display_name, role) if user is not None else None
    return shell(pages=pages, demo=service.is_demo_loaded(), years=year_options(),
                 sectors=[(s.code, s.ja if lang == "ja" else s.en) for s in vocab.SECTORS],
                 content=dash.page_container, lang=lang, user=who,
                 sign_in=user is None, csrf_token=generate_csrf() if user is not None else "")


def _trust_proxies(server: Any, settings: Settings) -> None:
    """Behind PROXY_FIX reverse proxies, take the client address and scheme from their
    X-Forwarded-For/-Proto headers (sign-in limits per address, HSTS over HTTPS)."""
    if settings.PROXY_FIX > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.PROXY_FIX
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0)


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


def _create_or_explain() -> Dash:
    """create_app(), or a one-paragraph explanation and exit status 2 for an unsafe
    configuration (no traceback: the message says what to set)."""
    try:
        return create_app()
    except ConfigError as exc:
        sys.stderr.write(f"\nThe dashboard cannot start: {exc}\n\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    application = _create_or_explain()
    settle_memory()
    from pages._headers import QuietHandler

    application.run(host=os.environ.get("HOST", "127.0.0.1"),
                    port=int(os.environ.get("PORT", "8050")), debug=False,
                    request_handler=QuietHandler)
elif os.environ.get("DASHBOARD_NO_AUTOAPP") != "1":  # imported by gunicorn (`app:server`)
    server = _create_or_explain().server
