"""The data behind every chart of every registered page, on SQLite and PostgreSQL: the CSV and
XLSX of a chart hold exactly the numbers of the figure for the same filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterator

import pandas as pd
import pytest
from openpyxl import load_workbook

from components.i18n import t
from data_access import db, service
from pages import _charts as charts
from pages import _routes_exports as rx


@pytest.fixture(scope="module")
def registry(live_server: str) -> dict[str, list[charts.ChartSpec]]:
    """Every registered chart page (Dash imports the pages when the app is created)."""
    assert charts.REGISTRY, "no chart page registered"
    return charts.REGISTRY


@pytest.fixture
def bound(demo_engine, registry) -> Iterator[None]:  # noqa: ANN001
    """Point the app's one engine at the demo database of this backend, without the cache
    (cache keys carry the data version, not the database, so two databases could collide)."""
    old_url = db.get_engine().url.render_as_string(hide_password=False)
    old_cache = service._cache  # noqa: SLF001 - restored below
    db.init_engine(demo_engine.url.render_as_string(hide_password=False))
    service.use_cache(None)
    try:
        yield
    finally:
        db.init_engine(old_url)
        service.use_cache(old_cache)


def _traces(fig) -> list:  # noqa: ANN001
    return json.loads(fig.to_json())["data"]


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def _layout(spec: charts.ChartSpec, lang: str) -> list[tuple[str, str, bool, bool]]:
    """(column, header, percent, labelled) as a reviewer would expect them."""
    out = []
    for col, header in spec.columns:
        percent = str(spec.formats.get(col, "")).endswith("%}")
        h = t(header, lang)
        if percent and "%" not in h:
            h += " (%)"
        out.append((col, h, percent, col in charts.DIM_LABELS))
    return out


def check_csv(data: bytes, spec: charts.ChartSpec, df: pd.DataFrame | None, lang: str) -> None:
    """CSV headers carry the spec's headers; every cell equals the DataFrame's value."""
    rows = _csv(data)
    expect_head: list[str] = []
    for _, h, _, labelled in _layout(spec, lang):
        expect_head.append(h)
        if labelled:
            expect_head.append(f"{h} ({t('code', lang)})")
    assert rows[0] == expect_head
    n = 0 if df is None else len(df)
    assert len(rows) - 1 == n
    for i in range(n):
        rec = df.iloc[i]
        j = 0
        for col, _, percent, labelled in _layout(spec, lang):
            v = rec[col]
            cell = rows[i + 1][j]
            if labelled:
                assert rows[i + 1][j + 1] == str(v)
                assert cell == charts.DIM_LABELS[col][1](str(v), lang)
                j += 2
                continue
            j += 1
            if v is None or (isinstance(v, float) and math.isnan(v)):
                assert cell == ""
            elif isinstance(v, dt.date):
                ts = pd.Timestamp(v)
                assert cell == (ts.date().isoformat() if ts == ts.normalize()
                                else ts.isoformat())
            elif _is_num(v) or hasattr(v, "dtype"):
                want = float(v) * (100 if percent else 1)
                assert _close(float(cell), want), (spec.key, col, cell, want)
            else:
                assert cell.lstrip("'") == str(v)


def check_xlsx(data: bytes, spec: charts.ChartSpec, df: pd.DataFrame | None, lang: str) -> None:
    """XLSX: the same numbers, typed (shares as shares with a percent format)."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    grid = [[c.value for c in r] for r in ws.iter_rows()]
    n = 0 if df is None else len(df)
    assert len(grid) - 1 == n
    for i in range(n):
        rec = df.iloc[i]
        j = 0
        for col, _, percent, labelled in _layout(spec, lang):
            v = rec[col]
            cell = grid[i + 1][j]
            if labelled:
                assert grid[i + 1][j + 1] == str(v)
                j += 2
                continue
            if v is None or (isinstance(v, float) and math.isnan(v)):
                assert cell is None
            elif isinstance(v, dt.date):
                assert pd.Timestamp(cell) == pd.Timestamp(v)
            elif _is_num(v) or hasattr(v, "dtype"):
                assert _is_num(cell) and _close(float(cell), float(v)), (spec.key, col)
                if percent:
                    assert ws.cell(row=i + 2, column=j + 1).number_format.endswith("%")
            else:
                assert cell == str(v)
            j += 1
    assert "About" in wb.sheetnames or "説明" in wb.sheetnames


def _states(specs: list[charts.ChartSpec]) -> list[str]:
    """Filter states to try: defaults, a range with a sector, a click selection, no data."""
    out = ["", "?from=2019&to=2022&sector=ict", "?from=2014&to=2014&sector=research"]
    base = charts.page_state("")
    for s in specs:
        if s.click_dim:
            df = charts.chart_data(s, base)
            if df is not None and not df.empty and s.click_dim in df.columns:
                out.append(f"?from=2016&sel_{s.click_dim}={df[s.click_dim].iloc[0]}")
                break
    return out


def test_every_chart_csv_and_xlsx_equal_the_figure_data(bound, registry) -> None:  # noqa: ANN001
    checked = 0
    for specs in registry.values():
        for search in _states(specs):
            state = charts.page_state(search)
            demo = service.is_demo_loaded()
            for spec in specs:
                as_of = charts.data_as_of(spec.family) if spec.family else None
                fig, df = charts.render(spec, state, demo=demo, as_of=as_of)
                c = rx.build_chart(spec, state, demo=demo, dates={})
                # the exported figure is the on-screen one: same traces, same data
                assert _traces(c.figure) == _traces(fig)
                assert c.as_of == as_of
                check_csv(rx.data_file(c, "csv", state, "http://x/", demo), spec, df, "en")
                check_xlsx(rx.data_file(c, "xlsx", state, "http://x/", demo), spec, df, "en")
                checked += 1
    assert checked >= 4 * len(registry)


def test_japanese_headers(bound, registry) -> None:  # noqa: ANN001
    spec = registry["epa"][0]
    state = charts.page_state("?lang=ja&from=2019&to=2021")
    c = rx.build_chart(spec, state, demo=True, dates={})
    fig, df = charts.render(spec, state, demo=True, as_of=c.as_of)
    data = rx.data_file(c, "csv", state, "http://x/", True)
    check_csv(data, spec, df, "ja")
    assert _csv(data)[0][0] == "年"


def _csv_table(data: bytes) -> pd.DataFrame:
    rows = _csv(data)
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_epa_figure_traces_equal_csv_numbers(bound, registry) -> None:  # noqa: ANN001
    """Read each EPA figure the way a reader does and find its numbers in the CSV."""
    state = charts.page_state("?from=2019&to=2024&sector=agrifood")
    by_key = {s.key: s for s in registry["epa"]}
    got = {}
    for key in ("pur-by-year", "values-by-year", "pur-by-member-state", "pur-heatmap"):
        c = rx.build_chart(by_key[key], state, demo=True, dates={})
        got[key] = (c.figure, _csv_table(rx.data_file(c, "csv", state, "", True)))

    fig, tab = got["pur-by-year"]
    for tr in fig.data:
        rows = tab[tab["Direction"] == tr.name]
        assert len(rows) == len(tr.y) > 0
        assert [int(y) for y in rows["Year"]] == [int(x) for x in tr.x]
        for y, p in zip(tr.y, rows["Utilisation rate (%)"], strict=True):
            assert _close(y * 100, float(p))

    fig, tab = got["values-by-year"]
    sums = tab.astype({"Eligible imports (EUR)": float, "Preferential imports (EUR)": float}
                      ).groupby("Year")[["Eligible imports (EUR)",
                                         "Preferential imports (EUR)"]].sum()
    eligible, preferential = fig.data
    for x, y in zip(eligible.x, eligible.y, strict=True):
        assert _close(y * 1e9, sums.loc[str(x), "Eligible imports (EUR)"])
    for x, y in zip(preferential.x, preferential.y, strict=True):
        assert _close(y * 1e9, sums.loc[str(x), "Preferential imports (EUR)"])

    fig, tab = got["pur-by-member-state"]
    bar = fig.data[0]
    pairs = dict(zip(tab["Member state (code)"], tab["Utilisation rate (%)"], strict=True))
    assert set(bar.customdata) == set(pairs)
    for code, x in zip(bar.customdata, bar.x, strict=True):
        assert _close(x * 100, float(pairs[code]))

    fig, tab = got["pur-heatmap"]
    hm = fig.data[0]
    cells = {(r["HS section (code)"], r["Year"]): float(r["Utilisation rate (%)"])
             for _, r in tab.iterrows()}
    for row_codes, zrow in zip(hm.customdata, hm.z, strict=True):
        for year, z in zip(hm.x, zrow, strict=True):
            if z is None or (isinstance(z, float) and math.isnan(z)):
                assert (row_codes[0], str(year)) not in cells
            else:
                assert _close(z * 100, cells[(row_codes[0], str(year))])
