"""Export builders as plain functions: CSV/XLSX bytes, formula neutralising, file names,
manifest text, and the static-figure preparation, on hand-made DataFrames."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pandas as pd
import plotly.graph_objects as go
import pytest
from openpyxl import load_workbook

from components import export as ex
from components.charts import FigureContext, base_layout, empty_figure

COLUMNS = [
    ex.Column("category", "Category"),
    ex.Column("value", "Value (EUR)", number_format="#,##0"),
    ex.Column("rate", "Rate (%)", percent=True, number_format="0.0%"),
]


def _df() -> pd.DataFrame:
    return pd.DataFrame({
        "category": ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=y", "plain", "-12.5",
                     "Ünïcödé 日本"],
        "value": [10, -5, -2.5, 0, 1_000_000, 3, 7, 8, 9],
        "rate": [0.535, -0.1, 0.25, 0.0, 1.0, float("nan"), 0.5, 0.125, 0.333],
    })


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV starts with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", True), ("+A1", True), ("-2+3", True), ("@SUM(A1)", True), ("\tx", True),
    ("\rx", True), ("-12.5", False), ("+7", False), ("abc", False), ("", False),
    (-5, False), (3.2, False), (None, False), ("a=1", False),
])
def test_formula_like(value: object, expected: bool) -> None:
    assert ex.is_formula_like(value) is expected


def test_csv_neutralises_formulas_and_keeps_numbers() -> None:
    rows = _csv_rows(ex.csv_bytes(_df(), COLUMNS))
    assert rows[0] == ["Category", "Value (EUR)", "Rate (%)"]
    cats = [r[0] for r in rows[1:]]
    assert cats[:6] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\t=x", "'\r=y"]
    assert cats[6:] == ["plain", "-12.5", "Ünïcödé 日本"]
    # negative numbers stay numbers, percentages become percent numbers, NaN is empty
    assert [r[1] for r in rows[1:4]] == ["10", "-5", "-2.5"]
    assert [r[2] for r in rows[1:3]] == ["53.5", "-10"]
    assert rows[6][2] == ""


def test_xlsx_keeps_text_as_text_and_numbers_typed() -> None:
    data = ex.xlsx_bytes(_df(), COLUMNS, about=[("Filters", "=HYPERLINK(\"x\")")])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and all(b"<f>" not in z.read(n) for n in sheets), "no formula cells"
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Data"]
    assert [c.value for c in ws[1]] == ["Category", "Value (EUR)", "Rate (%)"]
    first = ws.cell(row=2, column=1)
    assert first.value == "=1+1" and first.data_type == "s"
    assert ws.cell(row=4, column=1).value == "-2+3" and ws.cell(row=4, column=1).data_type == "s"
    assert ws.cell(row=3, column=2).value == -5 and ws.cell(row=3, column=2).data_type == "n"
    rate = ws.cell(row=2, column=3)
    assert rate.value == pytest.approx(0.535) and rate.number_format == "0.0%"
    assert ws.cell(row=7, column=3).value is None
    about = wb["About"]
    assert about.cell(row=1, column=2).data_type == "s"


def test_empty_and_missing_columns() -> None:
    assert _csv_rows(ex.csv_bytes(pd.DataFrame(), COLUMNS)) == [["Category", "Value (EUR)",
                                                                  "Rate (%)"]]
    assert _csv_rows(ex.csv_bytes(None, COLUMNS))[1:] == []
    wb = load_workbook(io.BytesIO(ex.xlsx_bytes(pd.DataFrame(), COLUMNS)))
    assert wb.active.max_row == 1
    rows = _csv_rows(ex.csv_bytes(pd.DataFrame({"category": ["a"]}), COLUMNS))
    assert rows[1] == ["a", "", ""]


def test_labelled_code_column() -> None:
    cols = [ex.Column("ms", "Member state", labeller=lambda c: {"DE": "Germany"}.get(c, c),
                      code_header="Member state (code)")]
    rows = _csv_rows(ex.csv_bytes(pd.DataFrame({"ms": ["DE", "=X"]}), cols))
    assert rows == [["Member state", "Member state (code)"], ["Germany", "DE"],
                    ["'=X", "'=X"]]


def test_make_columns_from_spec_formats() -> None:
    cols = ex.make_columns([("year", "Year"), ("pur", "Utilisation rate"),
                            ("eur", "Eligible imports (EUR)")],
                           {"pur": "{:.1%}", "eur": "{:,.0f}"}, lang="ja")
    assert cols[0].header == "年" and not cols[0].percent
    assert cols[1].percent and cols[1].header.endswith("(%)") and cols[1].number_format == "0.0%"
    assert cols[2].number_format == "#,##0"
    assert ex.excel_format("{:,.2f}") == (False, "#,##0.00")
    assert ex.excel_format("{}") == (False, None)
    assert ex.excel_format("{:,}") == (False, "#,##0")
    assert ex.excel_format("{:+.1%}") == (True, "+0.0%;-0.0%;0.0%")
    assert ex.excel_format("{:%Y-%m}") == (False, None)


def test_float_noise_is_trimmed_in_csv_only() -> None:
    df = pd.DataFrame({"v": [215978636.67000002], "p": [0.5349999999997]})
    cols = [ex.Column("v", "V"), ex.Column("p", "P (%)", percent=True)]
    assert _csv_rows(ex.csv_bytes(df, cols))[1] == ["215978636.67", "53.5"]
    ws = load_workbook(io.BytesIO(ex.xlsx_bytes(df, cols))).active
    assert ws.cell(row=2, column=2).value == 0.5349999999997


@pytest.mark.parametrize(("args", "stem"), [
    (("helpdesk", "enquiries-by-month", "2019-2024_ict"),
     "helpdesk-enquiries-by-month_2019-2024_ict"),
    (("epa", "pur-by-year", "2020"), "epa-pur-by-year_2020"),
])
def test_file_stem_examples(args: tuple[str, str, str], stem: str) -> None:
    assert ex.file_stem(*args) == stem


def test_filters_slug() -> None:
    assert ex.filters_slug(2019, 2024, ("ict",)) == "2019-2024_ict"
    assert ex.filters_slug(2020, 2020) == "2020"
    s = ex.filters_slug(2019, 2024, ("ict", "health"), {"direction": ("EU_JP",)},
                        {"member_state": "DE"})
    assert s == "2019-2024_ict+health_eu-jp_de"
    many = ex.filters_slug(2014, 2026, ("a", "b", "c", "d"), {"x": ("../../etc", "<b>")})
    assert many == "2014-2026_4-values_etc+b"
    long = ex.file_stem("page", "chart", "_".join(["abcdefghij"] * 30))
    assert len(long) <= ex.MAX_STEM and long != ex.file_stem("page", "chart", "x")


def test_content_disposition_is_ascii_safe() -> None:
    h = ex.content_disposition('a"b.csv')
    assert h.startswith('attachment; filename="ab.csv"') and "filename*=UTF-8''a%22b.csv" in h


def test_manifest_and_readme() -> None:
    m = {"title": "Chart pack: EPA", "page": "epa", "page_name": "EPA utilisation",
         "created_at": "2026-01-01T00:00:00Z", "permalink": "http://x/epa?from=2019",
         "filters": {"text": "2019–2026 · Sectors: All sectors"},
         "data_as_of": {"epa": "2025-12-31"}, "demo_data": True, "source": "S",
         "charts": [{"title": "PUR by year", "rows": 3, "data_as_of": "2025-12-31",
                     "files": {"png": "a.png", "csv": "a.csv"}}],
         "notes": ["n1"]}
    assert json.loads(ex.manifest_json(m)) == m
    text = ex.readme_text(m)
    for needle in ("http://x/epa?from=2019", "2019–2026 · Sectors: All sectors",
                   "epa: 2025-12-31", "2026-01-01T00:00:00Z", "DEMO DATA", "PUR by year",
                   "a.png", "a.csv", "- n1"):
        assert needle in text
    assert "パーマリンク" in ex.readme_text(m, "ja")


def _fig(subtitle: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    return base_layout(fig, FigureContext(title="T", subtitle=subtitle, source="Source: S",
                                          demo=True, height=400))


def test_static_figure_size_and_wrapping() -> None:
    from pages._routes_exports import TITLE_DROP, static_figure

    short = static_figure(_fig("2019–2024 · Sectors: ICT"), width=960)
    assert short.layout.width == 960 and short.layout.height == 400 + TITLE_DROP
    assert short.layout.title.text.count("<br>") == 1
    parts = [f"Filter {i}: value number {i}" for i in range(12)]
    long = static_figure(_fig(" · ".join(parts)), width=600)
    lines = long.layout.title.text.count("<br>")
    assert lines >= 3
    assert long.layout.height == 400 + TITLE_DROP + 15 * (lines - 1)
    # nothing of the subtitle is lost by wrapping
    flat = long.layout.title.text.replace("</span><br><span style='font-size:11px;"
                                          "color:#52606d'>", " ")
    for p in parts:
        assert p in flat
    # the on-screen figure is not modified
    assert _fig("x").layout.width is None
    empty = static_figure(empty_figure(FigureContext(title="T", subtitle="S")))
    assert empty.layout.meta == {"empty": True}


def _ids(tree) -> list:  # noqa: ANN001
    """Every id in a Dash component tree, depth first."""
    out = [getattr(tree, "id", None)]
    kids = getattr(tree, "children", None)
    for k in kids if isinstance(kids, list) else ([kids] if kids is not None else []):
        if not isinstance(k, str):
            out += _ids(k)
    return [i for i in out if i is not None]


def test_pack_button_goes_into_the_page_head() -> None:
    from dash import html

    from components.charts import pack_button
    from pages._charts import _with_pack_button

    pid = {"type": "chart-pack", "page": "p"}
    with_head = _with_pack_button("p", lambda **kw: html.Div([
        html.Div([html.H1("T"), html.Span(id="asof")], className="page-head x"),
        html.Div(id="grid")]))
    tree = with_head(lang="ja")
    head = tree.children[0]
    assert head.children[-1].id == pid and _ids(tree).count(pid) == 1
    assert "チャートパック" in str(head.children[-1].children)

    no_head = _with_pack_button("p", lambda **kw: html.Div([html.Div(id="grid")]))
    tree = no_head()
    assert tree.children[0].id == pid

    placed = _with_pack_button("p", lambda **kw: html.Div([pack_button("p"),
                                                          html.Div(id="grid")]))
    assert _ids(placed()).count(pid) == 1, "a page that placed the button keeps just that one"
    assert with_head._pack_page == "p"


def test_tools_callback_links_and_pack_button(monkeypatch: pytest.MonkeyPatch) -> None:
    from pages._charts import update_export_tools

    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    search = "?from=2019&to=2024&sector=ict&sel_direction=EU_JP"
    tools, packs = update_export_tools(
        search, [{"type": "chart-tools", "page": "epa", "key": "pur-by-year"}],
        [{"type": "chart-pack", "page": "epa"}])
    links = {a.children: a for a in _anchors(tools[0])}
    assert set(links) == {"CSV", "XLSX"}, "no server image links without a browser"
    assert links["CSV"].href == "/export/epa/pur-by-year.csv" + search
    assert getattr(links["CSV"], "data-filename") == \
        "epa-pur-by-year_2019-2024_ict_eu-jp.csv"
    button, status = packs[0]
    assert button.disabled is True
    assert "/nonexistent/chromium" in status.children and "apt-get" in status.title


def _anchors(tree) -> list:  # noqa: ANN001
    from dash import html

    out = [tree] if isinstance(tree, html.A) else []
    kids = getattr(tree, "children", None)
    for k in kids if isinstance(kids, list) else ([kids] if kids is not None else []):
        if not isinstance(k, str):
            out += _anchors(k)
    return out
