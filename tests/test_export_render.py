"""Server-side images and the export routes: valid PNG (2x), SVG and PDF files that carry the
title, the filters subtitle, the source line and the demo mark; Japanese text drawn; a clear
message and a working app where no Chromium is installed; the chart pack ZIP."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import threading
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import requests
from openpyxl import load_workbook

from components.charts import FigureContext, base_layout
from data_access import render as rendering
from data_access import service
from pages import _charts as charts
from pages import _routes_exports as rx

pytestmark = pytest.mark.browser  # needs the system Chromium


# ---- helpers ---------------------------------------------------------------------------------
def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG magic bytes"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def decode_png(data: bytes) -> np.ndarray:
    """Pixels (h, w, channels) of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    pos, idat = 8, b""
    w = h = ch = 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            ch = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + w * ch)
    out = np.zeros((h, w * ch), dtype=np.int32)
    prev = np.zeros(w * ch, dtype=np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        else:  # Sub, Average, Paeth depend on the pixel to the left: byte by byte
            cur = np.zeros_like(line)
            for x in range(w * ch):
                a = cur[x - ch] if x >= ch else 0
                b = prev[x]
                c = prev[x - ch] if x >= ch else 0
                if f == 1:
                    p = a
                elif f == 3:
                    p = (a + b) // 2
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    return out.reshape(h, w, ch).astype(np.uint8)


def svg_text(data: bytes) -> str:
    """All text of an SVG (parsed with xml.etree, so it must be well-formed)."""
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    return " ".join(" ".join(root.itertext()).split())


def squash(text: str) -> str:
    """Text to compare across line breaks and extraction quirks: NFKC (pdftotext gives CJK
    radicals like '⽇' for '日'), one kind of dash, no whitespace or wrap separators."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return re.sub(r"[\s·]+", "", text)


def no_digits(text: str) -> str:
    """`squash` without digits: Chromium embeds Noto Sans CJK (our Latin font where the Latin
    "Noto Sans" is not installed) as Type 3 glyphs whose digits have no ToUnicode entry, so
    pdftotext cannot read digits back, although they are drawn (see the PNG/SVG checks)."""
    return re.sub(r"[\d-]", "", squash(text))


def pdf_text(data: bytes) -> str | None:
    """Text of a PDF via poppler's pdftotext (None where poppler-utils is not installed)."""
    if not shutil.which("pdftotext"):
        return None
    res = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return res.stdout.decode("utf-8")


def assert_pdf(data: bytes) -> None:
    """A PDF with at least one page."""
    assert data[:5] == b"%PDF-"
    assert data.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/Type\s*/Page[^s]", data), "the PDF has a page"


# ---- the renderer ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def renderer() -> rendering.Renderer:
    """The process-wide renderer on the system Chromium (as the app uses it)."""
    r = rendering.get_renderer()
    st = r.status()
    assert st.ok, st.message
    return r


def _label_figure(text: str) -> dict:
    """A small figure with nothing but one big dark label."""
    return {"data": [], "layout": {
        "width": 420, "height": 120, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "paper_bgcolor": "white", "plot_bgcolor": "white",
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [{"text": text, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
                         "showarrow": False, "font": {"size": 40, "color": "black",
                                                      "family": "Noto Sans CJK JP"}}]}}


def _dark(img: np.ndarray) -> np.ndarray:
    return img[:, :, :3].max(axis=2) < 96


def test_japanese_text_is_drawn(renderer: rendering.Renderer) -> None:
    """Japanese labels come out as glyphs: ink where the text is, different ink for different
    characters, and not the 'missing glyph' boxes a font-less system would draw."""
    texts = ["日本語の表示", "欧州連合産業", "\ue000" * 6, ""]  # last two: no-glyph boxes, none
    imgs = [decode_png(b) for b in renderer.render(
        [rendering.RenderJob(_label_figure(s), "png", 420, 120, 1) for s in texts])]
    ja, other, tofu, blank = (_dark(i) for i in imgs)
    assert blank.sum() == 0
    assert ja.sum() > 800 and other.sum() > 800, "the label area has ink"
    # tofu boxes look alike whatever the character: real glyphs do not
    assert (ja != other).sum() > 400
    assert (ja != tofu).sum() > 400


def test_png_svg_pdf_of_a_figure(renderer: rendering.Renderer) -> None:
    import plotly.graph_objects as go

    fig = base_layout(go.Figure(go.Bar(x=["日本", "EU"], y=[3, -1])),
                      FigureContext(title="Title 日本", subtitle="2019–2024 · Sectors: ICT",
                                    source="Source: S · data as of 2025-12-31", demo=True,
                                    height=300))
    png, svg, pdf = renderer.render([rendering.RenderJob(fig.to_plotly_json(), f, 700, 300,
                                                         2 if f == "png" else 1)
                                     for f in ("png", "svg", "pdf")])
    assert png_size(png) == (1400, 600)
    text = svg_text(svg)
    for needle in ("Title 日本", "2019–2024 · Sectors: ICT", "data as of 2025-12-31",
                   "DEMO DATA"):
        assert needle in text
    assert_pdf(pdf)
    if (ptext := pdf_text(pdf)) is not None:
        for needle in ("Title 日本", "2019–2024 · Sectors: ICT", "data as of", "DEMO DATA"):
            assert no_digits(needle) in no_digits(ptext)


def test_renderer_stays_warm_and_serves_threads(renderer: rendering.Renderer) -> None:
    fig = _label_figure("x")
    renderer.render([rendering.RenderJob(fig, "svg", 100, 50)])
    starts = renderer.starts
    results: list[list[bytes]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(renderer.render([rendering.RenderJob(fig, f, 100, 50)
                                            for f in ("png", "svg", "pdf")]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors and len(results) == 3
    assert all(r[0][:4] == b"\x89PNG" and r[1].startswith(b"<svg") and r[2][:4] == b"%PDF"
               for r in results)
    assert renderer.starts == starts, "one warm browser serves every request"
    with pytest.raises(ValueError):
        renderer.render([rendering.RenderJob(fig, "gif", 10, 10)])


def test_missing_chromium_is_reported() -> None:
    r = rendering.Renderer("/nonexistent/chromium")
    st = r.status()
    assert not st.ok and "/nonexistent/chromium" in st.message and "chromium" in st.message
    with pytest.raises(rendering.RendererUnavailable, match="not found at /nonexistent"):
        r.render([rendering.RenderJob(_label_figure("x"), "png", 10, 10)])
    assert r.starts == 0
    assert st.reason == "Chromium was not found at /nonexistent/chromium."
    none = rendering.check_browser(None)
    assert not none.ok and "No Chromium" in none.message and "installed" in none.reason


def test_browser_path_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER_PATH", "/opt/x/chrome")
    assert rendering.default_browser_path() == "/opt/x/chrome"
    monkeypatch.delenv("BROWSER_PATH")
    assert rendering.default_browser_path() == shutil.which("chromium")


# ---- the routes (live app) ---------------------------------------------------------------------
EPA_SEARCH = "?from=2019&to=2024&sector=agrifood&direction=JP_EU&sel_hs_section=II"


def _get(url: str) -> requests.Response:
    return requests.get(url, timeout=120)


def _filename(resp: requests.Response) -> str:
    m = re.search(r'filename="([^"]+)"', resp.headers.get("Content-Disposition", ""))
    assert m, resp.headers
    return m.group(1)


@pytest.fixture(scope="module")
def epa_chart(live_server: str) -> Callable[[str, str], rx.ChartExport]:
    """What the app exports for an EPA chart and query (computed in-process, same DB)."""
    def make(key: str, search: str) -> rx.ChartExport:
        spec = next(s for s in charts.REGISTRY["epa"] if s.key == key)
        state = charts.page_state(search)
        return rx.build_chart(spec, state, demo=service.is_demo_loaded(), dates={})
    return make


def test_image_routes(live_server: str, epa_chart) -> None:  # noqa: ANN001
    c = epa_chart("pur-by-member-state", EPA_SEARCH)
    state = charts.page_state(EPA_SEARCH)
    subtitle = charts.filters_text(state)
    assert "Product group: II" in subtitle and "Direction: Japan" in subtitle
    base = f"{live_server}/export/epa/pur-by-member-state"

    png = _get(f"{base}.png{EPA_SEARCH}")
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert _filename(png) == "epa-pur-by-member-state_2019-2024_agrifood_jp-eu_ii.png"
    assert png_size(png.content) == (2 * c.width, 2 * c.height)

    svg = _get(f"{base}.svg{EPA_SEARCH}")
    assert svg.status_code == 200 and _filename(svg).endswith(".svg")
    root = ET.fromstring(svg.content)
    assert (root.get("width"), root.get("height")) == (str(c.width), str(c.height))
    text = svg_text(svg.content)
    assert squash(subtitle) in squash(text)
    for needle in ("Preference utilisation rate by member state",
                   "EU–Japan Centre for Industrial Cooperation", "data as of", "DEMO DATA",
                   "Preference utilisation rate (%)"):
        assert needle in text
    assert re.search(r"data as of \d{4}-\d{2}-\d{2}", text)

    pdf = _get(f"{base}.pdf{EPA_SEARCH}")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert_pdf(pdf.content)
    if (ptext := pdf_text(pdf.content)) is not None:
        # pdftotext orders text runs by position and font: a glyph from the fallback font
        # (the arrow in "Japan → EU") splits the line, so compare the words, not the line.
        assert all(w in ptext for w in re.findall(r"[A-Za-z&]+", subtitle))
        assert "DEMO DATA" in ptext


def test_data_routes_equal_the_chart(live_server: str, epa_chart) -> None:  # noqa: ANN001
    c = epa_chart("pur-by-year", EPA_SEARCH)
    state = charts.page_state(EPA_SEARCH)
    csv = _get(f"{live_server}/export/epa/pur-by-year.csv{EPA_SEARCH}")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert _filename(csv) == f"{c.stem}.csv"
    assert csv.content == rx.data_file(c, "csv", state, "", True)
    xlsx = _get(f"{live_server}/export/epa/pur-by-year.xlsx{EPA_SEARCH}")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    mine = load_workbook(io.BytesIO(rx.data_file(c, "xlsx", state, "", True)))
    assert [[x.value for x in r] for r in wb.worksheets[0].iter_rows()] == \
        [[x.value for x in r] for r in mine.worksheets[0].iter_rows()]
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    assert about["Filters"] == charts.filters_text(state)
    assert about["Permalink (opens this view)"].endswith("/epa" + EPA_SEARCH)


def test_unknown_exports_are_404(live_server: str) -> None:
    for path in ("/export/nope/pack.zip", "/export/epa/nope.csv", "/export/epa/pur-by-year.gif",
                 "/export/nope/x.png"):
        assert _get(live_server + path).status_code == 404, path


def test_formula_injection_end_to_end(live_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A category '=1+1' in the data comes out as text in the downloaded CSV and XLSX."""
    def evil(_conn, **_kw) -> pd.DataFrame:  # noqa: ANN001
        return pd.DataFrame({"category": ["=1+1", "@SUM(A1:A9)", "fine"],
                             "value": [-3, 2, 1]})

    import plotly.graph_objects as go

    spec = charts.ChartSpec("inject", "cats", "Categories", evil, lambda s: {},
                            lambda df, ctx: base_layout(go.Figure(go.Bar(x=df["category"],
                                                                         y=df["value"])), ctx),
                            [("category", "Category"), ("value", "Value (number)")])
    monkeypatch.setitem(charts.REGISTRY, "inject", [spec])
    csv = _get(f"{live_server}/export/inject/cats.csv")
    assert csv.status_code == 200
    assert csv.content.decode("utf-8-sig").splitlines() == [
        "Category,Value (number)", "'=1+1,-3", "'@SUM(A1:A9),2", "fine,1"]
    xlsx = _get(f"{live_server}/export/inject/cats.xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as z:
        assert all(b"<f>" not in z.read(n) for n in z.namelist() if "worksheets/" in n)
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    assert ws["B2"].value == -3 and ws["B2"].data_type == "n"


def test_chart_pack(live_server: str, epa_chart) -> None:  # noqa: ANN001
    resp = _get(f"{live_server}/export/epa/pack.zip{EPA_SEARCH}")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/zip"
    name = _filename(resp)
    assert name == "epa-chart-pack_2019-2024_agrifood_jp-eu_ii.zip"
    z = zipfile.ZipFile(io.BytesIO(resp.content))
    stem = name[:-4]
    specs = charts.REGISTRY["epa"]
    expected = {f"{stem}/README.txt", f"{stem}/manifest.json"}
    for s in specs:
        c = epa_chart(s.key, EPA_SEARCH)
        expected |= {f"{stem}/{c.stem}.{f}" for f in ("png", "svg", "pdf", "csv", "xlsx")}
        assert png_size(z.read(f"{stem}/{c.stem}.png")) == (2 * c.width, 2 * c.height)
        assert z.read(f"{stem}/{c.stem}.csv") == \
            _get(f"{live_server}/export/epa/{s.key}.csv{EPA_SEARCH}").content
        assert_pdf(z.read(f"{stem}/{c.stem}.pdf"))
        ET.fromstring(z.read(f"{stem}/{c.stem}.svg"))
    assert set(z.namelist()) == expected
    m = json.loads(z.read(f"{stem}/manifest.json"))
    state = charts.page_state(EPA_SEARCH)
    assert m["page"] == "epa" and m["demo_data"] is True
    assert m["filters"] == {"year_from": 2019, "year_to": 2024, "sectors": ["agrifood"],
                            "page_filters": {"direction": ["JP_EU"]},
                            "selections": {"hs_section": "II"},
                            "text": charts.filters_text(state)}
    assert m["permalink"] == live_server + "/epa" + EPA_SEARCH
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", m["data_as_of"]["epa"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", m["created_at"])
    assert [c["key"] for c in m["charts"]] == [s.key for s in specs]
    readme = z.read(f"{stem}/README.txt").decode("utf-8")
    assert m["permalink"] in readme and charts.filters_text(state) in readme


def test_without_chromium_the_pack_explains_and_data_still_works(
        live_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    st = _get(f"{live_server}/export/status").json()
    assert st["images"] is False and "/nonexistent/chromium" in st["message"]
    pack = _get(f"{live_server}/export/epa/pack.zip?from=2020")
    assert pack.status_code == 503
    assert "Chromium was not found at /nonexistent/chromium" in pack.text
    assert "apt-get install chromium" in pack.text
    assert _get(f"{live_server}/export/epa/pur-by-year.png").status_code == 503
    assert _get(f"{live_server}/export/epa/pur-by-year.csv?from=2020").status_code == 200
    assert _get(f"{live_server}/epa?from=2020").status_code == 200
