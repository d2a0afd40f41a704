"""Shared fixtures: a fresh database per backend (SQLite file and PostgreSQL), demo data,
a live app server and a headless Chromium.

PostgreSQL and Chromium are required: when missing the tests fail, they never skip.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DASHBOARD_NO_AUTOAPP", "1")
# Production mode (the default) needs a real key; each app the tests start also gets its own
# session cookie name, since cookies of 127.0.0.1 are shared by every port.
os.environ.setdefault("SECRET_KEY", "tests-" + "k" * 40)

from sqlalchemy import Engine  # noqa: E402

from data_access.db import make_engine, upgrade_schema  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEMO_UNTIL = dt.date(2026, 6, 30)  # fixed, so expected figures do not move with the clock
BACKENDS = ["sqlite", "postgresql"]


def _pg_create() -> str:
    import psycopg

    name = f"dash_test_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"PostgreSQL is required for the tests ({PG_ADMIN_URL}): {exc}") from exc
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _pg_drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _new_url(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'db-{uuid.uuid4().hex[:8]}.sqlite'}"
    return _pg_create()


def _drop_url(url: str) -> None:
    if url.startswith("postgresql"):
        _pg_drop(url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend (no schema), removed afterwards."""
    url = _new_url(request.param, tmp_path)
    yield url
    _drop_url(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty database of each backend."""
    eng = make_engine(db_url)
    upgrade_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def demo_engine(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of each backend with the demo data (until DEMO_UNTIL); read-only use."""
    from data_access.demo import load_demo

    url = _new_url(request.param, tmp_path_factory.mktemp("demo"))
    eng = make_engine(url)
    upgrade_schema(eng)
    load_demo(eng, until=DEMO_UNTIL, log=lambda *_: None)
    yield eng
    eng.dispose()
    _drop_url(url)


# ---- Browser --------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on a free local port, on its own SQLite file with demo data, readable
    without signing in (READ_ACCESS=public: a public statistics page)."""
    from werkzeug.serving import make_server

    from app import create_app

    db = tmp_path_factory.mktemp("live") / "live.sqlite"
    app = create_app({"DATABASE_URL": f"sqlite:///{db}", "READ_ACCESS": "public",
                      "SESSION_COOKIE_NAME": "live_session"})
    port = _free_port()
    srv = make_server("127.0.0.1", port, app.server, threaded=True)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{port}"
    srv.shutdown()


@pytest.fixture(scope="session")
def download_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser saves downloads."""
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(download_dir: Path):  # noqa: ANN201
    """A headless Chromium driven by Selenium (Debian chromium + chromium-driver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    if not chromium or not driver_bin:
        raise RuntimeError("Browser tests need Debian's chromium and chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-dev-shm-usage",
              "--window-size=1366,900", "--no-first-run", "--disable-component-update",
              "--disable-sync", "--lang=en-GB"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {
        "download.default_directory": str(download_dir),
        "download.prompt_for_download": False,
    })
    drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


def add_user(db_url: str, username: str, role: str, password: str, **kw: str) -> None:
    """Make an account directly in a database (as the user CLI does)."""
    from sqlalchemy.orm import Session

    from data_access import users
    from data_access.audit import Actor

    eng = make_engine(db_url)
    try:
        upgrade_schema(eng)
        with Session(eng) as s, s.begin():
            users.create(s, Actor("tests"), username=username, role=role, password=password,
                         **kw)
    finally:
        eng.dispose()


def sign_in(browser, base: str, username: str, password: str) -> None:  # noqa: ANN001
    """Sign in through the real form, as a person does (fresh cookies first)."""
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(base + "/login")
    wait_for(lambda: browser.find_element(By.ID, "username")).send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "sign-in").click()
    wait_for(lambda: "/login" not in browser.current_url)


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):  # noqa: ANN001, ANN201
    """Poll `predicate` until it returns something truthy; fail with a clear message."""
    end = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < end:
        try:
            v = predicate()
            if v:
                return v
        except Exception as exc:  # noqa: BLE001 - the DOM may be mid-update
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last error: {last_exc})")


SCROLL_CENTER = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})"


def chart_numbers(browser, page: str, key: str) -> list[list[str]]:  # noqa: ANN001
    """Open "Show the numbers" under a chart, as a person does, and return the table's rows
    (the table is fetched when it opens: wait for its rows, or its "No data" line)."""
    from selenium.webdriver.common.by import By

    card = browser.find_element(By.ID, f"card-{page}-{key}")
    details = card.find_element(By.CSS_SELECTOR, "details")
    summary = details.find_element(By.TAG_NAME, "summary")

    def opened() -> bool:
        if details.get_attribute("open") is None:
            # charts above may still be redrawing: scroll again and retry until it opens
            browser.execute_script(SCROLL_CENTER, summary)
            summary.click()
        return details.get_attribute("open") is not None
    wait_for(opened)
    wait_for(lambda: card.find_elements(By.CSS_SELECTOR, ".chart-table tbody tr, "
                                                         "[id*='chart-table'] p"))
    rows = card.find_elements(By.CSS_SELECTOR, ".chart-table tbody tr")
    return [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
