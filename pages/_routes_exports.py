"""Reviewer exports as plain Flask routes (auto-registered by app.py):

- `/export/<page>/<chart>.csv|.xlsx`  the numbers a chart shows, for the URL's filters;
- `/export/<page>/<chart>.png|.svg|.pdf`  the chart as an image rendered on the server;
- `/export/<page>/pack.zip`  every chart of the page as PNG (2x), SVG, PDF, CSV and XLSX,
  with README.txt and manifest.json (filters, permalink, data dates, creation time);
- `/export/status`  whether this server can render images, and if not, why;
- `/export/warm` (POST)  start the renderer now (assets/exports.js, when the pointer or the
  keyboard reaches a chart's downloads or the pack button).

The query string is the page's own (`?from=2019&to=2024&sector=ict&sel_direction=eu_jp`), and
every file is built from the same `pages._charts.render` the page uses, so a download equals
what is on screen.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import threading
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from flask import Blueprint, Response, abort, jsonify, request

from components import export as ex
from components.i18n import t
from data_access import audit, db, service
from data_access import render as rendering
from pages._access import actor
from pages._charts import (
    DIM_LABELS,
    PAGE_MODULES,
    REGISTRY,
    SOURCE,
    ChartSpec,
    PageState,
    browser_path,
    data_as_of,
    export_stem,
    filters_text,
    pack_stem,
    page_state,
    render,
)
from pages._state import canonical, global_filters

log = logging.getLogger("dashboard.exports")

EXPORT_WIDTH = 960  # px; reviewers paste images into A4 documents
PNG_SCALE = 2
TITLE_DROP = 16  # px added above the plot in files, so the title sits inside the image
IMAGE_FORMATS = ("png", "svg", "pdf")
DATA_FORMATS = ("csv", "xlsx")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf",
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "zip": "application/zip"}
# At most this many packs are built at once per process; the rest wait (then get a 503),
# so a burst of clicks cannot starve the threads that serve ordinary page callbacks.
_PACK_SLOTS = threading.BoundedSemaphore(2)
PACK_WAIT_S = 60


# ---- building blocks (plain functions, used by the routes, tests and the benchmark) --------
@dataclass
class ChartExport:
    """One chart ready to export: its static figure, data, columns and file stem."""

    spec: ChartSpec
    figure: go.Figure
    data: pd.DataFrame | None
    columns: list[ex.Column]
    stem: str
    as_of: str | None

    @property
    def width(self) -> int:
        """Layout width of the exported image (px)."""
        return int(self.figure.layout.width or EXPORT_WIDTH)

    @property
    def height(self) -> int:
        """Layout height of the exported image (px)."""
        return int(self.figure.layout.height or 360)

    def image_job(self, fmt: str) -> rendering.RenderJob:
        """What the renderer needs for one image format (PNG at 2x, vectors at 1x)."""
        # plotly's own JSON encoder: it writes numpy datetimes as ISO dates. The raw dict
        # would hand the renderer datetime64 values it places nowhere (empty bars).
        return rendering.RenderJob(json.loads(self.figure.to_json()), fmt, self.width,
                                   self.height,
                                   PNG_SCALE if fmt == "png" else 1)


def export_columns(spec: ChartSpec, lang: str) -> list[ex.Column]:
    """The spec's table columns with units; code columns of known dimensions get names."""
    labellers = {}
    for col, _ in spec.columns:
        if col in DIM_LABELS:
            vl = DIM_LABELS[col][1]
            labellers[col] = (lambda f: (lambda code: f(code, lang)))(vl)
    return ex.make_columns(spec.columns, spec.formats, lang=lang, labellers=labellers)


def _text_width(text: str, size: float) -> float:
    """Rough rendered width (px): wide (CJK) characters count double."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return (len(text) - wide) * size * 0.55 + wide * size * 1.05


_SUB = re.compile(r"(<span[^>]*>)(.*?)(</span>)\s*$", re.S)


def static_figure(fig: go.Figure, width: int = EXPORT_WIDTH) -> go.Figure:
    """The on-screen figure at a fixed width; a long filters subtitle wraps onto more lines
    (margin and height grow, so the plot keeps its size and nothing is cut off)."""
    out = go.Figure(fig)
    height = int(fig.layout.height or 360)
    out.update_layout(width=width, height=height)
    if out.layout.title.text:
        # On screen the card gives the title room; a file needs its own: with yanchor "top"
        # plotly puts the first baseline at y, so `pad.t` brings the glyphs ~13 px inside.
        top = (out.layout.margin.t if out.layout.margin.t is not None else 78) + TITLE_DROP
        out.update_layout(title={"x": 12 / width, "xref": "container", "y": 1,
                                 "yref": "container", "yanchor": "top",
                                 "pad": {"t": 26, "l": 0}},
                          margin={"t": top}, height=height + TITLE_DROP)
    title = out.layout.title.text or ""
    m = _SUB.search(title)
    if not m:
        return out
    usable = width - 40
    parts = m.group(2).split(" · ")
    lines, cur = [], ""
    for p in parts:
        cand = f"{cur} · {p}" if cur else p
        if cur and _text_width(cand, 11) > usable:
            lines.append(cur)
            cur = p
        else:
            cur = cand
    lines.append(cur)
    extra = len(lines) - 1
    if extra:
        wrapped = m.group(1) + f" ·{m.group(3)}<br>{m.group(1)}".join(lines) + m.group(3)
        out.layout.title.text = title[:m.start()] + wrapped
        grow = 15 * extra
        top = (out.layout.margin.t if out.layout.margin.t is not None else 78) + grow
        out.update_layout(margin={"t": top}, height=out.layout.height + grow)
    return out


def page_info(page: str) -> tuple[str, str]:
    """(name, path) of a chart page from Dash's page registry."""
    import dash

    entry = dash.page_registry.get(PAGE_MODULES.get(page, ""), {})
    return entry.get("name", page), entry.get("relative_path") or entry.get("path") or f"/{page}"


def build_chart(spec: ChartSpec, state: PageState, *, demo: bool,
                dates: dict[str, str | None]) -> ChartExport:
    """Render one chart exactly as the page does, then fix its export size and columns."""
    if spec.family not in dates:
        dates[spec.family] = data_as_of(spec.family) if spec.family else None
    as_of = dates[spec.family]
    fig, df = render(spec, state, demo=demo, as_of=as_of)
    return ChartExport(spec, static_figure(fig), df, export_columns(spec, state.lang),
                       export_stem(spec.page, spec.key, state), as_of)


def about_rows(c: ChartExport, state: PageState, permalink: str, demo: bool) -> list:
    """The 'About' sheet of an XLSX: what, which filters, source, date, link."""
    rows = [(t("Chart", state.lang), t(c.spec.title, state.lang)),
            (t("Filters", state.lang), filters_text(state)),
            (t("Source", state.lang), t(SOURCE, state.lang)),
            (t("Data as of", state.lang), c.as_of or "–"),
            (t("Permalink (opens this view)", state.lang), permalink),
            (t("Created", state.lang), _now_iso())]
    if demo:
        rows.append((t("Demo data", state.lang),
                     t("DEMO DATA: synthetic figures, realistic in size but not real.",
                       state.lang)))
    return rows


def data_file(c: ChartExport, fmt: str, state: PageState, permalink: str, demo: bool) -> bytes:
    """CSV or XLSX bytes of one chart's data."""
    if fmt == "csv":
        return ex.csv_bytes(c.data, c.columns)
    return ex.xlsx_bytes(c.data, c.columns, sheet=t("Data", state.lang),
                         about=about_rows(c, state, permalink, demo),
                         about_sheet=t("About", state.lang))


def permalink_for(page: str, search: str | None, root: str = "") -> str:
    """The URL that reopens this exact view (canonical query: defaults left out)."""
    _, path = page_info(page)
    return root.rstrip("/") + path + canonical(global_filters(search))


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_pack(page: str, search: str | None, *, root: str = "",
               renderer: rendering.Renderer | None = None) -> tuple[str, bytes]:
    """(file name, ZIP bytes) of a page's chart pack; images come from one render batch."""
    specs = REGISTRY[page]
    state = page_state(search)
    lang = state.lang
    demo = service.is_demo_loaded()
    dates: dict[str, str | None] = {}
    charts = [build_chart(s, state, demo=demo, dates=dates) for s in specs]
    renderer = renderer or rendering.get_renderer(browser_path())
    images = renderer.render([c.image_job(f) for c in charts for f in IMAGE_FORMATS])
    permalink = permalink_for(page, search, root)
    stem = pack_stem(page, state)
    page_name, _ = page_info(page)
    created = _now_iso()
    entries: list[tuple[str, bytes]] = []
    chart_meta = []
    for i, c in enumerate(charts):
        files = {}
        for j, fmt in enumerate(IMAGE_FORMATS):
            files[fmt] = f"{c.stem}.{fmt}"
            entries.append((files[fmt], images[i * len(IMAGE_FORMATS) + j]))
        for fmt in DATA_FORMATS:
            files[fmt] = f"{c.stem}.{fmt}"
            entries.append((files[fmt], data_file(c, fmt, state, permalink, demo)))
        chart_meta.append({
            "key": c.spec.key, "title": t(c.spec.title, lang), "family": c.spec.family,
            "data_as_of": c.as_of, "rows": 0 if c.data is None else len(c.data),
            "columns": [{"column": col.name, "header": col.header,
                         "percent": col.percent} for col in c.columns],
            "image": {"width": c.width, "height": c.height, "png_scale": PNG_SCALE},
            "files": files,
            "url": _export_url(root, page, c.spec.key, search),
        })
    manifest = {
        "title": f"{t('EU–Japan Centre dashboard', lang)} · {t('Chart pack', lang)}: "
                 f"{t(page_name, lang)}",
        "page": page, "page_name": t(page_name, lang),
        "created_at": created,
        "permalink": permalink,
        "query": canonical(global_filters(search)),
        "language": lang,
        "filters": filters_dict(state),
        "data_as_of": {k or "": v for k, v in dates.items()},
        "demo_data": demo,
        "source": t(SOURCE, lang),
        "charts": chart_meta,
        "notes": pack_notes(lang),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        stamp = dt.datetime.now().timetuple()[:6]
        for name, data in [("README.txt", ex.readme_text(manifest, lang).encode("utf-8")),
                           ("manifest.json", ex.manifest_json(manifest).encode("utf-8")),
                           *entries]:
            info = zipfile.ZipInfo(f"{stem}/{name}", date_time=stamp)
            # PNG and PDF are compressed already: storing them saves time, not space
            info.compress_type = (zipfile.ZIP_STORED if name.endswith((".png", ".pdf"))
                                  else zipfile.ZIP_DEFLATED)
            z.writestr(info, data)
    return f"{stem}.zip", buf.getvalue()


def filters_dict(state: PageState) -> dict[str, Any]:
    """The filters of a view, structured (codes) and as the subtitle text (names)."""
    return {"year_from": state.year_from, "year_to": state.year_to,
            "sectors": list(state.sectors),
            "page_filters": {k: list(v) for k, v in state.params.items()},
            "selections": dict(state.selections),
            "text": filters_text(state)}


def pack_notes(lang: str) -> list[str]:
    """How to read the files of a pack."""
    return [
        t("PNG images are drawn at 2× their layout size; SVG and PDF are vector images.", lang),
        t("Each chart's CSV and XLSX hold exactly the numbers the chart shows for these "
          "filters; a chart ignores its own click selection (it highlights it).", lang),
        t("CSV files are UTF-8, comma-separated; percentages are percent numbers "
          "(53.5 means 53.5%). XLSX files keep shares with a percent format.", lang),
        t("Text that a spreadsheet would run as a formula (starting with =, +, -, @) is "
          "prefixed with an apostrophe in CSV and stored as text in XLSX.", lang),
    ]


def _export_url(root: str, page: str, key: str, search: str | None) -> str:
    return f"{root.rstrip('/')}/export/{page}/{key}.csv{canonical(global_filters(search))}"


# ---- routes ---------------------------------------------------------------------------------
def _search() -> str:
    qs = request.query_string.decode("utf-8", "replace")
    return f"?{qs}" if qs else ""


def _spec(page: str, chart: str) -> ChartSpec:
    for s in REGISTRY.get(page, []):
        if s.key == chart:
            return s
    abort(404, description=f"No chart {chart!r} on page {page!r}.")


def _attachment(data: bytes, filename: str, fmt: str) -> Response:
    resp = Response(data, content_type=MIME[fmt])
    resp.headers["Content-Disposition"] = ex.content_disposition(filename)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _unavailable(message: str) -> Response:
    resp = Response(message + "\n", status=503, mimetype="text/plain")
    resp.headers["Retry-After"] = "60"
    return resp


def chart_file(page: str, chart: str, fmt: str) -> Response:
    """One chart's data (CSV/XLSX) or image (PNG/SVG/PDF) for the query string's filters."""
    if fmt not in DATA_FORMATS + IMAGE_FORMATS:
        abort(404)
    spec = _spec(page, chart)
    search = _search()
    state = page_state(search)
    demo = service.is_demo_loaded()
    c = build_chart(spec, state, demo=demo, dates={})
    if fmt in DATA_FORMATS:
        permalink = permalink_for(page, search, request.url_root)
        return _attachment(data_file(c, fmt, state, permalink, demo), f"{c.stem}.{fmt}", fmt)
    try:
        (img,) = rendering.get_renderer(browser_path()).render([c.image_job(fmt)])
    except rendering.RendererUnavailable as exc:
        return _unavailable(str(exc))
    return _attachment(img, f"{c.stem}.{fmt}", fmt)


def pack(page: str) -> Response:
    """The page's chart pack as one ZIP."""
    if page not in REGISTRY:
        abort(404, description=f"No chart page {page!r}.")
    renderer = rendering.get_renderer(browser_path())
    st = renderer.status()
    if not st.ok:
        return _unavailable(st.message)
    if not _PACK_SLOTS.acquire(timeout=PACK_WAIT_S):
        return _unavailable("The server is busy making other chart packs; please try again "
                            "in a minute.")
    try:
        name, data = build_pack(page, _search(), root=request.url_root, renderer=renderer)
    except rendering.RendererUnavailable as exc:
        return _unavailable(str(exc))
    except Exception as exc:  # noqa: BLE001 - the button shows this text, not an HTML page
        log.exception("Chart pack of %s%s failed", page, _search())
        return Response(f"The chart pack could not be made ({type(exc).__name__}). The error "
                        "has been logged.\n", status=500, mimetype="text/plain")
    finally:
        _PACK_SLOTS.release()
    audit.record(db.get_engine(), actor(), "chart_pack_download", target=page,
                 detail={"filters": _search(), "file": name, "bytes": len(data)})
    return _attachment(data, name, "zip")


def status() -> Response:
    """JSON: can this server render chart images (and if not, what is missing)?"""
    st = rendering.get_renderer(browser_path()).status()
    return jsonify({"images": st.ok, "browser": st.path, "message": st.message,
                    "warning": st.warning,
                    "warm": rendering.get_renderer(browser_path()).is_warm})


def warm() -> Response:
    """Start the image renderer in the background (the browser asks when a person reaches
    for a download or the chart pack), so the file they are about to ask for is quick.
    Starting it when a page opens instead took the two cores from the page's first filter
    changes; it is nobody's business until an export is near."""
    renderer = rendering.get_renderer(browser_path())
    if renderer.status().ok and not renderer.is_warm:
        renderer.warm(wait=False)
    return Response(status=204)


def register_routes(server: Any) -> None:
    """Add the export routes to the Flask server and the pack button to chart pages."""
    settings = server.config.get("DASHBOARD_SETTINGS")
    path = getattr(settings, "extra", {}).get("RENDER_BROWSER_PATH") if settings else None
    if path:
        server.config["RENDER_BROWSER_PATH"] = path
    bp = Blueprint("exports", __name__)
    bp.add_url_rule("/export/status", "status", status)
    bp.add_url_rule("/export/warm", "warm", warm, methods=["POST"])
    bp.add_url_rule("/export/<page>/pack.zip", "pack", pack)
    bp.add_url_rule("/export/<page>/<chart>.<fmt>", "chart_file", chart_file)
    server.register_blueprint(bp)
    from pages._charts import install_pack_buttons

    install_pack_buttons()
