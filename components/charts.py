"""Figure and chart-card builders shared by every analysis page (pure functions).

Every figure carries its title, a subtitle with the filters, axis titles with units and a
source line inside the figure itself, so an exported image stands on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components.fastfig import fast_figure, merge_axes, merge_layout, template_json, unvalidated
from components.formats import FONT_FAMILY, PALETTE
from components.i18n import t


@dataclass(frozen=True)
class FigureContext:
    """What a figure needs besides its data: title, filters text, source, demo flag."""

    title: str
    subtitle: str = ""
    source: str = ""
    demo: bool = False
    lang: str = "en"
    height: int = 360


def base_layout(fig: go.Figure, ctx: FigureContext, *, x_title: str = "", y_title: str = "",
                legend: bool = True) -> go.Figure:
    """Apply the shared look: title + subtitle, axis titles, source line, palette, fonts.

    It also switches off plotly's per-property validation on `fig` (see components/fastfig):
    the look applied here is known to be valid, and later updates by the page's builder
    become cheap. The template is the slim copy of plotly_white (same look, fewer bytes).
    """
    unvalidated(fig)
    sub = f"<br><span style='font-size:11px;color:#52606d'>{ctx.subtitle}</span>" \
        if ctx.subtitle else ""
    # Footer, right-aligned so long category labels and phone widths never collide with it:
    # the source on two lines, the demo mark under it.
    annotations = []
    if ctx.source:
        annotations.append({"text": ctx.source.replace(" · ", "<br>", 1), "xref": "paper",
                            "yref": "paper", "x": 1, "y": 0, "yshift": -62,
                            "xanchor": "right", "yanchor": "top", "align": "right",
                            "showarrow": False, "font": {"size": 10, "color": "#616e7c"}})
    if ctx.demo:
        annotations.append({"text": t("Demo data", ctx.lang).upper(), "xref": "paper",
                            "yref": "paper", "x": 1, "y": 0, "yshift": -94,
                            "xanchor": "right", "yanchor": "top", "showarrow": False,
                            "font": {"size": 11, "color": "#8a5a00"},
                            "bgcolor": "#ffe08a", "borderpad": 3})
    merge_layout(fig, dict(
        title={"text": f"<b>{ctx.title}</b>{sub}", "x": 0, "xanchor": "left", "y": 1,
               "yanchor": "top", "pad": {"t": 10}, "font": {"size": 15}},
        font={"family": FONT_FAMILY, "size": 12, "color": "#1f2933"},
        colorway=list(PALETTE), height=ctx.height,
        margin={"l": 60, "r": 20, "t": 78, "b": 130 if ctx.demo else 104},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 11}},
        annotations=annotations, hoverlabel={"font": {"family": FONT_FAMILY}},
        separators=".,",
    ))
    fig._layout["template"] = template_json()  # noqa: SLF001 - replaced, as update_layout did
    merge_axes(fig, "x", {"title": {"text": x_title}, "automargin": True})
    merge_axes(fig, "y", {"title": {"text": y_title}, "automargin": True,
                          "separatethousands": True})
    return fig


_VALUE_TRACES = frozenset({"bar", "scatter"})
VALUE_AXIS_MARGIN = 72  # px: a value axis's tick labels (80k, 4,000, 100%, €400M) + title


def steady_value_margin(fig: go.Figure) -> go.Figure:
    """A numeric left y axis gets a fixed left margin instead of plotly's automargin.

    Automargin measures the tick labels after drawing and, when their width changed with the
    data (8,000 -> 12k), draws the chart a second time: on a filter change that was half of
    the monthly chart's redraw in the browser (~70 ms of ~110 ms). A value axis's labels are
    at most five or six characters, which VALUE_AXIS_MARGIN holds with the axis title.
    Category axes (horizontal bars: long names) keep automargin.
    """
    lay, traces = fig._layout, fig._data  # noqa: SLF001 - the figure's own dicts
    if not traces or any(tr.get("type", "scatter") not in _VALUE_TRACES
                         or tr.get("orientation") == "h" or tr.get("yaxis", "y") != "y"
                         for tr in traces):
        return fig
    y = lay.get("yaxis") or {}
    if y.get("type") in ("category", "multicategory") or y.get("visible") is False:
        return fig
    merge_axes(fig, "y", {"automargin": False})
    margin = lay.setdefault("margin", {})
    margin["l"] = max(margin.get("l", 0), VALUE_AXIS_MARGIN)
    return fig


def empty_figure(ctx: FigureContext) -> go.Figure:
    """A figure that says plainly there is nothing to show for these filters."""
    fig = base_layout(fast_figure(), ctx, legend=False)
    fig._layout["annotations"].append(  # noqa: SLF001 - base_layout made the list
        {"text": t("No data for these filters", ctx.lang), "x": 0.5, "y": 0.5,
         "xref": "paper", "yref": "paper", "showarrow": False,
         "font": {"size": 16, "color": "#616e7c"}})
    merge_axes(fig, "x", {"visible": False})
    merge_axes(fig, "y", {"visible": False})
    return merge_layout(fig, {"meta": {"empty": True}})


def data_table(df: pd.DataFrame, columns: Sequence[tuple[str, str]],
               formats: dict[str, str] | None = None, max_rows: int = 500) -> html.Div:
    """The numbers behind a chart as an accessible HTML table (columns: (col, header))."""
    formats = formats or {}
    if df is None or df.empty:
        return html.P(t("No data for these filters"), className="text-muted small mb-0")
    head = html.Thead(html.Tr([html.Th(h, scope="col") for _, h in columns]))
    body = []
    for row in df.head(max_rows).itertuples(index=False):
        rec = row._asdict()
        cells = []
        for col, _ in columns:
            v = rec.get(col)
            fmt = formats.get(col)
            try:
                missing = v is None or bool(pd.isna(v))
            except (TypeError, ValueError):
                missing = False
            if missing:
                v = "–"  # never "nan" in a table a person reads
            elif fmt:
                try:
                    v = fmt.format(v)
                except (ValueError, TypeError):
                    pass
            cells.append(html.Td(str(v)))
        body.append(html.Tr(cells))
    if len(df) > max_rows:
        body.append(html.Tr([html.Td(
            t("Showing the first {n:,} of {total:,} rows; the downloads hold them all.")
            .format(n=max_rows, total=len(df)), colSpan=len(columns),
            className="text-muted fst-italic")]))
    return html.Div(dbc.Table([head, html.Tbody(body)], size="sm", striped=True, hover=True,
                              className="mb-0 chart-table"), className="table-responsive")


def graph_config(filename: str) -> dict:
    """dcc.Graph config: the modebar camera saves a PNG at 2x. assets/exports.js names the
    file after chart + filters when clicked and adds an SVG button that uses the same name."""
    return {
        "displaylogo": False, "responsive": True,
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
        "toImageButtonOptions": {"format": "png", "scale": 2, "filename": filename},
    }


def chart_card(page: str, key: str, title: str, *, lang: str = "en",
               md: int = 6) -> dbc.Col:
    """A card with a graph, its table (in a <details>) and download buttons."""
    graph_id = {"type": "chart", "page": page, "key": key}
    return dbc.Col(dbc.Card(dbc.CardBody([
        dcc.Loading(dcc.Graph(id=graph_id, config=graph_config(f"{page}-{key}"),
                              style={"minHeight": "360px"}, className="chart-graph"),
            type="circle", delay_show=250, overlay_style={"visibility": "visible",
                                                          "opacity": .5}),
        html.Details([
            html.Summary(t("Show the numbers", lang), className="small",
                         id={"type": "chart-summary", "page": page, "key": key}),
            html.Div(id={"type": "chart-table", "page": page, "key": key},
                     className="mt-2"),
            # the filters the open table must show (set in the browser; None: closed)
            dcc.Store(id={"type": "chart-table-want", "page": page, "key": key}),
        ], className="chart-details mt-1"),
        html.Div(id={"type": "chart-tools", "page": page, "key": key},
                 className="chart-tools mt-1"),
    ]), className="chart-card h-100 shadow-sm"),
        xs=12, lg=md, className="mb-3", id=f"card-{page}-{key}")


def chart_tools(links: Sequence[tuple[str, str, str]], *, images: bool,
                lang: str = "en") -> html.Div:
    """'Download data: CSV · XLSX  Image: PNG · SVG · PDF' links, given (format, href, name).

    Image links (rendered on the server) are left out when the server cannot render them."""
    data = [(f, h, n) for f, h, n in links if f in ("csv", "xlsx")]
    imgs = [(f, h, n) for f, h, n in links if f in ("png", "svg", "pdf")] if images else []

    def group(label: str, items: Sequence[tuple[str, str, str]], cls: str) -> html.Span:
        anchors: list = []
        for i, (fmt, href, name) in enumerate(items):
            if i:
                anchors.append(html.Span(" · ", className="text-muted"))
            anchors.append(html.A(fmt.upper(), href=href, className=f"chart-dl chart-dl-{fmt}",
                                  title=f"{t(label, lang)}: {name}",
                                  **{"data-format": fmt, "data-filename": name}))
        return html.Span([html.Span(t(label, lang) + ": ", className="text-muted"), *anchors],
                         className=f"me-3 {cls}")

    parts = [group("Download data", data, "chart-dl-data")] if data else []
    if imgs:
        parts.append(group("Image", imgs, "chart-dl-images"))
    return html.Div(parts, className="small chart-dl-row")


def pack_button(page: str, lang: str = "en") -> html.Div:
    """The place of a page's 'Chart pack' button (filled from the URL by a callback)."""
    return html.Div(pack_bar(None, ok=False, message="", lang=lang),
                    id={"type": "chart-pack", "page": page}, className="chart-pack")


def pack_bar(href: str | None, *, ok: bool, message: str, filename: str = "",
             detail: str = "", lang: str = "en") -> list:
    """The 'Chart pack' button, or, where images cannot be made, why not (disabled; the
    sentence is shown, `detail` - how to fix it - is its tooltip)."""
    label = [html.Span("⬇ ", **{"aria-hidden": "true"}), t("Chart pack", lang)]
    title = t("All charts of this page as PNG, SVG and PDF, their data as CSV and XLSX, "
              "and a manifest, in one ZIP file", lang)
    if not ok or not href:
        return [dbc.Button(label, color="secondary", outline=True, size="sm", disabled=True,
                           className="chart-pack-link", title=message or title),
                html.Span(message, className="chart-pack-status small text-muted ms-2",
                          role="status", title=detail or None)]
    return [html.A(label, href=href, className="btn btn-sm btn-outline-primary chart-pack-link",
                   title=title, role="button",
                   **{"data-filename": filename,
                      "data-busy-text": t("Preparing the chart pack…", lang),
                      "data-done-text": t("Chart pack downloaded", lang),
                      "data-error-text": t("The chart pack could not be made", lang)}),
            html.Span("", className="chart-pack-status small text-muted ms-2", role="status",
                      **{"aria-live": "polite"})]


def chips(selections: Sequence[tuple[str, str, str]], lang: str = "en") -> list[dbc.Badge]:
    """Removable chips for click-to-filter selections: (dim, dim label, value label)."""
    out = []
    for dim, dim_label, value_label in selections:
        cross = html.Span("×", **{"aria-hidden": "true"})
        out.append(dbc.Button([f"{dim_label}: {value_label} ", cross],
                              id={"type": "chip-remove", "dim": dim}, size="sm",
                              color="primary", outline=True, className="me-2 mb-1 chip",
                              title=t("Remove this filter", lang)))
    return out
