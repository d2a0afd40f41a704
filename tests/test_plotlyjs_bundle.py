"""The partial plotly.js bundle the app serves (components/vendor, tools/plotlyjs).

It must be the plotly.js version Python's `plotly` writes figures for, hold every trace type
the dashboard's charts use, and be what a browser gets where Dash's renderer asks for
plotly.js (compressed, cacheable). The browser tests then draw every page with it.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest
from plotly.offline import get_plotlyjs_version

from components import vendor

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "components" / "vendor" / vendor.PLOTLY_BUNDLE
PLOTLY_PATH = "/_dash-component-suites/plotly/package_data/plotly.min.js"


def test_bundle_is_the_plotlyjs_version_python_plotly_targets() -> None:
    head = BUNDLE.read_text(encoding="utf-8")[:400]
    m = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", head)
    assert m, "the bundle's banner names its plotly.js version"
    assert m.group(1) == get_plotlyjs_version() == vendor.__version__
    full = (Path(__import__("plotly").__file__).parent / "package_data" / "plotly.min.js")
    assert BUNDLE.stat().st_size < 0.3 * full.stat().st_size  # a partial bundle indeed


def test_bundle_registers_the_trace_types_it_claims() -> None:
    index = (ROOT / "tools" / "plotlyjs" / "index.js").read_text(encoding="utf-8")
    registered = set(re.findall(r"plotly\.js/lib/(\w+)'", index)) - {"core"}
    assert registered == set(vendor.PLOTLY_TRACES)


def test_every_chart_uses_only_bundled_trace_types(live_server: str,
                                                  demo_engine) -> None:  # noqa: ANN001
    """Every chart of every page, drawn from demo data with and without filters, uses trace
    types the bundle holds (a new chart type must be added to tools/plotlyjs/index.js)."""
    from data_access import db, service
    from pages._charts import REGISTRY, page_state, render

    saved = (db._engine, db._sessionmaker, service._cache)  # noqa: SLF001
    db._engine, db._sessionmaker = demo_engine, None  # noqa: SLF001
    service.use_cache(None)
    try:  # (the live server's app has imported every page: REGISTRY is full)
        seen = set()
        for specs in REGISTRY.values():
            for search in ("", "?from=2019&to=2021&sector=ict"):
                state = page_state(search)
                with service.pinned():
                    for spec in specs:
                        fig, _df = render(spec, state, demo=True, as_of=None)
                        seen |= {tr["type"] for tr in fig._data}  # noqa: SLF001
        assert seen, "charts were drawn"
        assert seen <= set(vendor.PLOTLY_TRACES), seen - set(vendor.PLOTLY_TRACES)
    finally:
        db._engine, db._sessionmaker = saved[0], saved[1]  # noqa: SLF001
        service.use_cache(saved[2])


@pytest.mark.parametrize("encoding", ["br", "gzip", None])
def test_app_serves_the_bundle_where_dash_loads_plotly(live_server: str,
                                                       encoding: str | None) -> None:
    import requests

    headers = {"Accept-Encoding": encoding or "identity"}
    r = requests.get(live_server + PLOTLY_PATH, headers=headers, timeout=30, stream=True)
    assert r.status_code == 200
    body = r.raw.read()
    assert r.headers.get("Content-Encoding") == encoding
    raw = {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, lambda b: b)(body)
    assert raw == BUNDLE.read_bytes()
    assert "javascript" in r.headers["Content-Type"]
    etag = r.headers["ETag"]
    again = requests.get(live_server + PLOTLY_PATH, headers={"If-None-Match": etag}, timeout=30)
    assert again.status_code == 304
