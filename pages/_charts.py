"""The chart framework every analysis page uses.

A page declares its charts as `ChartSpec`s (a query from `data_access`, a figure builder
from `components`, the table columns), calls `register_charts(page, specs)` and puts
`chart_card(...)`s in its layout. This module then wires, once per page:

- one main callback: URL -> every chart's figure and table (one HTTP round trip);
- click-to-filter: clicking a bar/segment of a chart with `click_dim` sets `sel_<dim>` in
  the URL; the page's other charts filter on it, chips show it and remove it;
- the same specs serve exports (data CSV/XLSX, images, chart packs): one callback fills every
  chart's download links (whose names the modebar downloads use) from the URL, and
  `install_pack_buttons` puts a "Chart pack" button into every chart page (routes in
  `pages/_routes_exports.py`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pandas as pd
import plotly.graph_objects as go
from dash import (
    ALL,
    MATCH,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    no_update,
)

from components.charts import (
    FigureContext,
    chart_tools,
    chips,
    empty_figure,
    pack_bar,
    pack_button,
    steady_value_margin,
)
from components.fastfig import figure_json, plain, table_json, to_json_bytes
from components.i18n import t
from data_access import service, vocab
from pages._state import DEFAULT_VIEWS, current_lang, global_filters, with_page_params

SOURCE = "EU–Japan Centre for Industrial Cooperation"


@dataclass(frozen=True)
class PageState:
    """Filters as one chart sees them: global range and sectors, page filters, selections."""

    year_from: int
    year_to: int
    sectors: tuple[str, ...]
    params: Mapping[str, tuple[str, ...]]
    selections: Mapping[str, str]
    lang: str = "en"

    def values(self, dim: str) -> tuple[str, ...]:
        """Allowed values of a dimension: page filter narrowed by a click selection."""
        base = tuple(self.params.get(dim, ()))
        sel = self.selections.get(dim)
        if sel is None:
            return base
        return (sel,) if not base or sel in base else ("__none__",)

    def without(self, dim: str | None) -> PageState:
        """The same state without the click selection on `dim` (a chart ignores its own)."""
        if dim is None or dim not in self.selections:
            return self
        return PageState(self.year_from, self.year_to, self.sectors, self.params,
                         {k: v for k, v in self.selections.items() if k != dim}, self.lang)


def page_state(search: str | None) -> PageState:
    """Parse a URL query string into a PageState."""
    f = global_filters(search)
    params = {k: v for k, v in f.extra.items() if not k.startswith("sel_") and k != "lang"}
    sels = {k[4:]: v[0] for k, v in f.extra.items() if k.startswith("sel_") and v}
    lang = current_lang(search)
    return PageState(f.year_from, f.year_to, f.sectors, params, sels, lang)


@dataclass(frozen=True)
class ChartSpec:
    """One chart: where its data comes from, how it is drawn, how its table reads."""

    page: str
    key: str
    title: str  # English; shown through t()
    query: Callable[..., pd.DataFrame]
    args: Callable[[PageState], dict[str, Any]]
    figure: Callable[[pd.DataFrame, FigureContext], go.Figure]
    columns: Sequence[tuple[str, str]]  # (column, header with unit) for tables and exports
    formats: Mapping[str, str] = field(default_factory=dict)
    click_dim: str | None = None  # dimension a click on this chart selects
    family: str = ""  # data family, for "data as of"
    height: int = 360
    md: int = 6  # bootstrap columns on large screens


REGISTRY: dict[str, list[ChartSpec]] = {}
PAGE_MODULES: dict[str, str] = {}  # page -> module that registered it (its dash.page_registry key)
DIM_LABELS: dict[str, tuple[str, Callable[[str, str], str]]] = {}


def register_dim(dim: str, label: str, value_label: Callable[[str, str], str]) -> None:
    """Declare how a click-filter dimension and its values are named on chips."""
    DIM_LABELS[dim] = (label, value_label)


def vocab_labeller(terms: tuple[vocab.Term, ...]) -> Callable[[str, str], str]:
    """A value labeller for `register_dim` from a vocabulary."""
    return lambda code, lang: vocab.label(terms, code, lang)


def filters_text(state: PageState, page_params_text: str = "") -> str:
    """'2019–2024 · Sectors: ICT & digital · Desk: EPA helpdesk' for subtitles and manifests."""
    lang = state.lang
    parts = [f"{state.year_from}–{state.year_to}"]
    parts.append(t("Sectors", lang) + ": " + (
        ", ".join(vocab.label(vocab.SECTORS, s, lang) for s in state.sectors)
        if state.sectors else t("All sectors", lang)))
    for dim, values in list(state.params.items()) + [(k, (v,)) for k, v in
                                                     state.selections.items()]:
        if dim in DIM_LABELS and values:
            lbl, vl = DIM_LABELS[dim]
            parts.append(f"{t(lbl, lang)}: " + ", ".join(vl(v, lang) for v in values))
    if page_params_text:
        parts.append(page_params_text)
    return " · ".join(parts)


def chart_data(spec: ChartSpec, state: PageState, *, shared: bool = True) -> pd.DataFrame:
    """The exact numbers a chart shows for a state (cached through `service.run`; with
    `shared=False` not in the shared cache, for a page output that is cached as a whole)."""
    own = state.without(spec.click_dim)
    return (service.run if shared else service.run_here)(spec.query, **spec.args(own))


def figure_context(spec: ChartSpec, state: PageState, *, demo: bool,
                   as_of: str | None) -> FigureContext:
    """Title, subtitle with filters, source line with data date, demo mark."""
    source = f"{t('Source', state.lang)}: {t(SOURCE, state.lang)}"
    if as_of:
        source += f" · {t('data as of', state.lang)} {as_of}"
    return FigureContext(title=t(spec.title, state.lang), subtitle=filters_text(state),
                         source=source, demo=demo, lang=state.lang, height=spec.height)


def render(spec: ChartSpec, state: PageState, *, demo: bool, as_of: str | None,
           shared: bool = True) -> tuple[go.Figure, pd.DataFrame]:
    """Data and figure of one chart; an empty result gives the 'No data' figure."""
    df = chart_data(spec, state, shared=shared)
    fctx = figure_context(spec, state, demo=demo, as_of=as_of)
    if df is None or df.empty:
        return empty_figure(fctx), df
    fig = steady_value_margin(spec.figure(df, fctx))
    sel = state.selections.get(spec.click_dim) if spec.click_dim else None
    if sel is not None:
        highlight(fig, sel)
    return fig, df


def highlight(fig: go.Figure, selected: str) -> None:
    """Fade the bars/segments that are not the clicked selection."""
    for tr in fig.data:
        cd = getattr(tr, "customdata", None)
        if cd is None or tr.type not in ("bar", "pie", "funnel"):
            continue
        codes = [c[0] if isinstance(c, (list, tuple)) else c for c in cd]
        if selected not in codes:
            continue
        op = [1.0 if c == selected else 0.35 for c in codes]
        if tr.type == "pie":
            tr.pull = [0.08 if c == selected else 0 for c in codes]
        else:
            tr.marker.opacity = op


def data_as_of(family: str) -> str | None:
    """'YYYY-MM-DD' of the newest data of a family (None when there is none)."""
    from data_access.queries.overview import data_dates

    d = service.run(data_dates).get(family)
    return d.isoformat() if d else None


def register_charts(page: str, specs: Sequence[ChartSpec]) -> None:
    """Record a page's charts and create its main callback (URL -> figures and tables)."""
    REGISTRY[page] = list(specs)
    PAGE_MODULES[page] = sys._getframe(1).f_globals.get("__name__", "")
    by_key = {s.key: s for s in specs}

    @callback(
        Output({"type": "chart", "page": page, "key": ALL}, "figure"),
        Output({"type": "chips", "page": page}, "children"),
        Output({"type": "asof", "page": page}, "children"),
        Input("url", "search"),
        State({"type": "chart", "page": page, "key": ALL}, "id"),
    )
    def update_charts(search, ids):  # noqa: ANN001, ANN202
        state = page_state(search)
        keys = [i["key"] for i in ids]
        # One meta read for the whole callback, and the whole output cached by filter state
        # + data version, as the JSON text Dash sends: a repeated view is served without a
        # query, a figure or a (de)serialisation of the figures.
        with service.pinned():
            return as_fragments(service.cached(
                "charts", [page, state_key(state), keys],
                lambda: serialised(page_output(by_key, state, keys))))

    update_charts.__name__ = f"update_charts_{page}"
    DEFAULT_VIEWS.append(lambda: update_charts(
        "", [{"type": "chart", "page": page, "key": s.key} for s in specs]))

    # The numbers under a chart are built when its "Show the numbers" is open (an odd number
    # of clicks on its summary), and again when the filters change while it is open: hundreds
    # of table rows in every card would make each filter change re-render thousands of
    # components. The browser decides (no request at all for the usual filter change with
    # every table closed); closing a table empties it.
    clientside_callback(
        ClientsideFunction("eujp", "tableWant"),  # assets/clientside.js
        Output({"type": "chart-table-want", "page": page, "key": MATCH}, "data"),
        Input({"type": "chart-summary", "page": page, "key": MATCH}, "n_clicks"),
        Input("url", "search"),
        prevent_initial_call=True,
    )

    @callback(
        Output({"type": "chart-table", "page": page, "key": MATCH}, "children"),
        Input({"type": "chart-table-want", "page": page, "key": MATCH}, "data"),
        State({"type": "chart-table-want", "page": page, "key": MATCH}, "id"),
        prevent_initial_call=True,
    )
    def update_tables(want, tid):  # noqa: ANN001, ANN202
        """One open chart's table for the filters `want` (a URL query); None when closed."""
        if want is None:
            return None
        state = page_state(want)
        with service.pinned():
            return orjson.Fragment(service.cached(
                "table", [page, tid["key"], state_key(state)],
                lambda: to_json_bytes(table_output(by_key[tid["key"]], state))))

    update_tables.__name__ = f"update_tables_{page}"


def serialised(output: tuple[list[bytes], list, str]) -> tuple[list[bytes], bytes, str]:
    """A page's output with every figure and the chips as JSON bytes (what is cached:
    bytes unpickle at once, a tree of thousands of dicts does not)."""
    figures, chip_list, asof = output
    return figures, to_json_bytes(chip_list), asof


def as_fragments(cached: tuple[list[bytes], bytes, str]) -> tuple:
    """The cached JSON as callback return values Dash embeds verbatim (orjson.Fragment)."""
    figures, chip_list, asof = cached
    return [orjson.Fragment(f) for f in figures], orjson.Fragment(chip_list), asof


def state_key(state: PageState) -> list[Any]:
    """A JSON-able key of everything a page's output depends on besides the data."""
    return [state.year_from, state.year_to, list(state.sectors),
            sorted((k, list(v)) for k, v in state.params.items()),
            sorted(state.selections.items()), state.lang]


def labelled(df: pd.DataFrame | None, spec: ChartSpec, lang: str) -> pd.DataFrame | None:
    """A copy of a chart's data with category codes shown as names (tables are for people;
    the codes stay in the downloads)."""
    if df is None or df.empty:
        return df
    cols = [c for c, _ in spec.columns if c in DIM_LABELS and c in df.columns]
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        vl = DIM_LABELS[c][1]
        out[c] = [v if v is None or (isinstance(v, float) and pd.isna(v)) else vl(str(v), lang)
                  for v in out[c]]
    return out


def page_output(by_key: Mapping[str, ChartSpec], state: PageState,
                keys: Sequence[str]) -> tuple[list[bytes], list, str]:
    """Every chart's figure (as the JSON text Dash sends), the chips and "data as of" of a
    page (so they can be cached and served as they are)."""
    demo = service.is_demo_loaded()
    figures = []
    dates: dict[str, str | None] = {}
    for key in keys:
        spec = by_key[key]
        if spec.family not in dates:
            dates[spec.family] = data_as_of(spec.family) if spec.family else None
        # (the output is cached whole: its queries need not be cached one by one)
        fig, _df = render(spec, state, demo=demo, as_of=dates[spec.family], shared=False)
        figures.append(figure_json(fig))
    sel = []
    for dim, value in state.selections.items():
        lbl, vl = DIM_LABELS.get(dim, (dim, lambda v, _l: v))
        sel.append((dim, t(lbl, state.lang), vl(value, state.lang)))
    known = sorted(d for d in dates.values() if d)
    asof = (f"{t('Data as of', state.lang)} {known[-1]}" if known else "")
    return figures, plain(chips(sel, state.lang)), asof


def table_output(spec: ChartSpec, state: PageState) -> dict[str, Any]:
    """The numbers behind one chart for a state, as the table Dash sends (codes as names)."""
    lang = state.lang
    return table_json(labelled(chart_data(spec, state), spec, lang),
                      [(c, t(h, lang)) for c, h in spec.columns], dict(spec.formats),
                      empty_text=t("No data for these filters", lang),
                      more_text=t("Showing the first {n:,} of {total:,} rows; the downloads "
                                  "hold them all.", lang))


def clicked_value(click: Mapping[str, Any] | None) -> str | None:
    """The category code a click landed on (the first customdata item of the point)."""
    if not click or not click.get("points"):
        return None
    cd = click["points"][0].get("customdata")
    if isinstance(cd, (list, tuple)):
        cd = cd[0] if cd else None
    return None if cd is None else str(cd)


@callback(
    Output("url", "search", allow_duplicate=True),
    Input({"type": "chart", "page": ALL, "key": ALL}, "clickData"),
    State("url", "search"),
    prevent_initial_call=True,
)
def click_to_filter(_clicks, search):  # noqa: ANN001, ANN201
    """A click on a breakdown chart selects its category (a second click clears it)."""
    trig = ctx.triggered_id
    if not trig or not ctx.triggered or ctx.triggered[0]["value"] is None:
        return no_update
    spec = next((s for s in REGISTRY.get(trig["page"], []) if s.key == trig["key"]), None)
    if spec is None or spec.click_dim is None:
        return no_update
    value = clicked_value(ctx.triggered[0]["value"])
    if value is None:
        return no_update
    state = page_state(search)
    current = state.selections.get(spec.click_dim)
    return with_page_params(search, **{f"sel_{spec.click_dim}":
                                       None if current == value else value})


@callback(
    Output("url", "search", allow_duplicate=True),
    Input({"type": "chip-remove", "dim": ALL}, "n_clicks"),
    State("url", "search"),
    prevent_initial_call=True,
)
def remove_chip(clicks, search):  # noqa: ANN001, ANN201
    """Clearing a chip removes its selection from the URL."""
    trig = ctx.triggered_id
    if not trig or not any(clicks or []):
        return no_update
    return with_page_params(search, **{f"sel_{trig['dim']}": None})


# ---- exports: download links, modebar file names, "Chart pack" button ------------------------
EXPORT_FORMATS = ("csv", "xlsx", "png", "svg", "pdf")


def export_stem(page: str, key: str, state: PageState) -> str:
    """File name (without extension) of a chart's downloads: chart + filters."""
    from components.export import file_stem, filters_slug

    return file_stem(page, key, filters_slug(state.year_from, state.year_to, state.sectors,
                                             state.params, state.selections))


def pack_stem(page: str, state: PageState) -> str:
    """File name (without extension) of a page's chart pack."""
    return export_stem(page, "chart-pack", state)


def _url(path: str) -> str:
    """An app-relative URL (respects a path prefix when the app is served under one)."""
    try:
        import dash

        return dash.get_relative_path(path)
    except Exception:  # noqa: BLE001 - outside a running app (plain-function tests)
        return path


def browser_path() -> str | None:
    """The browser configured for this app (RENDER_BROWSER_PATH), else the process default."""
    try:
        from flask import current_app

        return current_app.config.get("RENDER_BROWSER_PATH")
    except RuntimeError:  # no app context: the process default
        return None


def renderer_status():  # noqa: ANN201 - render.RenderStatus
    """Can this server render chart images? (The browser it renders with is started when a
    person reaches for an export: `/export/warm`, called by assets/exports.js.)"""
    from data_access import render

    return render.get_renderer(browser_path()).status()


def export_links(page: str, key: str, search: str | None,
                 state: PageState) -> list[tuple[str, str, str]]:
    """(format, href, file name) of every download of one chart for this URL state."""
    stem = export_stem(page, key, state)
    q = search or ""
    return [(f, _url(f"/export/{page}/{key}.{f}") + q, f"{stem}.{f}") for f in EXPORT_FORMATS]


@callback(
    Output({"type": "chart-tools", "page": ALL, "key": ALL}, "children"),
    Output({"type": "chart-pack", "page": ALL}, "children"),
    Input("url", "search"),
    State({"type": "chart-tools", "page": ALL, "key": ALL}, "id"),
    State({"type": "chart-pack", "page": ALL}, "id"),
)
def update_export_tools(search, tool_ids, pack_ids):  # noqa: ANN001, ANN201
    """From the URL: each chart's download links and the page's pack button.

    The modebar's PNG/SVG file names follow these links (assets/exports.js copies the name
    into the graph when its camera is clicked): changing the Graph `config` instead would
    redraw every chart a second time on each filter change."""
    state = page_state(search)
    st = renderer_status() if (tool_ids or pack_ids) else None
    ok = bool(st and st.ok)
    tools = [chart_tools(export_links(i["page"], i["key"], search, state), images=ok,
                         lang=state.lang) for i in tool_ids]
    packs = []
    for i in pack_ids:
        name = pack_stem(i["page"], state) + ".zip"
        reason, detail = ("", "") if ok else _missing_renderer_text(st, state.lang)
        packs.append(pack_bar(_url(f"/export/{i['page']}/pack.zip") + (search or ""), ok=ok,
                              message=reason, detail=detail, filename=name, lang=state.lang))
    return tools, packs


def _missing_renderer_text(st, lang: str) -> tuple[str, str]:  # noqa: ANN001
    """(what is missing in a sentence, how to fix it) for a disabled pack button."""
    reason = st.reason if st is not None else ""
    detail = st.message if st is not None else ""
    return (t("Chart packs need Chromium on the server to draw the images.", lang) + " "
            + reason, detail)


def install_pack_buttons() -> None:
    """Give every page with registered charts a 'Chart pack' button in its page head.

    Pages need not place it themselves: their layout function is wrapped once (after Dash has
    imported the pages). A page that already contains `pack_button(page)` is left alone.
    """
    import dash

    for page, module in PAGE_MODULES.items():
        entry = dash.page_registry.get(module)
        if not entry:
            continue
        layout = entry.get("layout")
        if not callable(layout) or getattr(layout, "_pack_page", None) == page:
            continue
        entry["layout"] = _with_pack_button(page, layout)


def _with_pack_button(page: str, layout: Callable[..., Any]) -> Callable[..., Any]:
    from dash import html

    from components.i18n import norm_lang

    def wrapped(**kwargs: Any) -> Any:
        tree = layout(**kwargs)
        pid = {"type": "chart-pack", "page": page}
        if _find(tree, lambda c: getattr(c, "id", None) == pid) is not None:
            return tree
        lang = norm_lang(kwargs["lang"]) if kwargs.get("lang") else current_lang()
        button = pack_button(page, lang)
        head = _find(tree, lambda c: "page-head" in (getattr(c, "className", None) or ""))
        if head is not None and isinstance(head.children, list):
            head.children = [*head.children, button]
        elif isinstance(getattr(tree, "children", None), list):
            tree.children = [button, *tree.children]
        else:
            tree = html.Div([button, tree])
        return tree

    wrapped._pack_page = page  # type: ignore[attr-defined]
    wrapped.__doc__ = layout.__doc__
    wrapped.__wrapped__ = layout  # type: ignore[attr-defined]
    return wrapped


def _find(node: Any, pred: Callable[[Any], bool]) -> Any:
    """Depth-first search of a Dash component tree."""
    if node is None or isinstance(node, (str, int, float)):
        return None
    if pred(node):
        return node
    children = getattr(node, "children", None)
    if isinstance(children, (list, tuple)):
        for c in children:
            hit = _find(c, pred)
            if hit is not None:
                return hit
    elif children is not None:
        return _find(children, pred)
    return None
