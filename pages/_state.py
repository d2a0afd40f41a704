"""Filter state shared by every page: the URL query string is the single source of truth.

Filter controls write `url.search` (a dcc.Location with refresh=False, which pushes a history
entry without telling Dash Pages, so the page is not rebuilt for each filter change); charts
read `Input("url", "search")`. Copying the URL, reloading and the back button all work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    no_update,
)

from components.filters import GLOBAL_KEYS, GlobalFilters, build_query, parse_query
from components.i18n import norm_lang
from data_access import vocab

MIN_YEAR = 2014

# Each page's main callback for its default view (no filters), run once at start by
# `app._warm_pages`; see there.
DEFAULT_VIEWS: list[Callable[[], object]] = []


def max_year() -> int:
    """The newest year the filters offer: the current calendar year."""
    return dt.date.today().year


def year_options() -> list[int]:
    """Every year the year filters offer."""
    return list(range(MIN_YEAR, max_year() + 1))


def current_lang(search: str | None = None) -> str:
    """Interface language: `lang` in the URL wins, then the `lang` cookie, then English."""
    from flask import has_request_context, request

    q = parse_query(search).get("lang")
    if q:
        return norm_lang(q[0])
    if has_request_context():
        # The layout request carries the page address in its Referer header.
        ref = request.headers.get("Referer", "")
        if search is None and "?" in ref:
            q = parse_query(ref.split("?", 1)[1]).get("lang")
            if q:
                return norm_lang(q[0])
        return norm_lang(request.cookies.get("lang"))
    return "en"


def global_filters(search: str | None) -> GlobalFilters:
    """Parse the global filters (plus any page keys, in `.extra`) from a query string."""
    return GlobalFilters.from_query(parse_query(search), min_year=MIN_YEAR,
                                    max_year=max_year(), sector_codes=vocab.SECTOR_CODES)


def canonical(f: GlobalFilters, page_params: Mapping[str, Sequence[str]] | None = None) -> str:
    """The canonical query string of a filter state (defaults left out of the URL)."""
    params: dict[str, object] = {}
    if f.year_from != MIN_YEAR:
        params["from"] = f.year_from
    if f.year_to != max_year():
        params["to"] = f.year_to
    if f.sectors:
        params["sector"] = list(f.sectors)
    for k, v in (page_params if page_params is not None else f.extra).items():
        if k not in GLOBAL_KEYS and v:
            params[k] = list(v)
    return build_query(params)


def with_page_params(search: str | None, **params: Sequence[str] | str | None) -> str:
    """Return `search` with page parameters replaced (None or empty removes a key)."""
    f = global_filters(search)
    extra = {k: tuple(v) for k, v in f.extra.items()}
    for k, v in params.items():
        if v is None or v == [] or v == "" or v == ():
            extra.pop(k, None)
        else:
            extra[k] = (v,) if isinstance(v, str) else tuple(v)
    return canonical(f, extra)


@callback(
    Output("url", "search"),
    Output("filter-year-from", "value"),
    Output("filter-year-to", "value"),
    Output("filter-sectors", "value"),
    Input("url", "search"),
    Input("filter-year-from", "value"),
    Input("filter-year-to", "value"),
    Input("filter-sectors", "value"),
    Input("filter-reset", "n_clicks"),
)
def sync_global_filters(search, year_from, year_to, sectors, _reset):  # noqa: ANN001, ANN201
    """Keep the global filter controls and the URL in step, in both directions.

    A control change writes the URL (dcc.Location pushes a history entry, so the back button
    restores the previous filters); a URL change (load, paste, back) sets the controls.
    """
    trigger = ctx.triggered_id
    if trigger in (None, "url"):
        f = global_filters(search)
        return no_update, str(f.year_from), str(f.year_to), list(f.sectors)
    current = global_filters(search)
    if trigger == "filter-reset":
        f = GlobalFilters(MIN_YEAR, max_year(), (), {})
        return canonical(f), str(f.year_from), str(f.year_to), []
    q = {"from": [str(year_from or "")], "to": [str(year_to or "")],
         "sector": list(sectors or [])}
    f = GlobalFilters.from_query(q, min_year=MIN_YEAR, max_year=max_year(),
                                 sector_codes=vocab.SECTOR_CODES)
    if str(f.year_from) != str(year_from) or str(f.year_to) != str(year_to):
        # "From" after "To": keep the one just changed and move the other to match.
        y0, y1 = int(year_from or MIN_YEAR), int(year_to or max_year())
        if trigger == "filter-year-from":
            y1 = max(y0, y1)
        else:
            y0 = min(y0, y1)
        f = GlobalFilters(y0, y1, f.sectors, {})
        return canonical(f, current.extra), str(y0), str(y1), no_update
    new = canonical(f, current.extra)
    return (new if new != (search or "") else no_update), no_update, no_update, no_update


@callback(
    Output("url", "search", allow_duplicate=True),
    Output({"type": "page-filter", "page": ALL, "dim": ALL}, "value"),
    Input("url", "search"),
    Input({"type": "page-filter", "page": ALL, "dim": ALL}, "value"),
    State({"type": "page-filter", "page": ALL, "dim": ALL}, "id"),
    prevent_initial_call=True,
)
def sync_page_filters(search, values, ids):  # noqa: ANN001, ANN201
    """The same two-way sync for a page's own filters (ids {'type': 'page-filter', ...})."""
    trigger = ctx.triggered_id
    if not ids:
        return no_update, []
    if trigger == "url":
        extra = global_filters(search).extra
        new_values = []
        for i, v in zip(ids, values, strict=True):
            want = list(extra.get(i["dim"], ()))
            single = not isinstance(v, list)
            new_values.append((want[0] if want else None) if single else want)
        return no_update, new_values
    params = {}
    for i, v in zip(ids, values, strict=True):
        params[i["dim"]] = [] if v is None else ([v] if not isinstance(v, list) else v)
    new = with_page_params(search, **params)
    return (new if new != (search or "") else no_update), [no_update] * len(ids)


# Navbar links keep the global filters (not the page's own) when moving between pages, in
# the browser (assets/clientside.js): one request fewer on every filter change (six went to
# two server workers at once, and the charts' request waited behind them). The URL is
# already canonical (written by sync_global_filters); the next page parses whatever it gets
# as strictly as ever.
clientside_callback(
    ClientsideFunction("eujp", "navLinks"),
    Output({"type": "nav-link", "index": ALL}, "href"),
    Input("url", "search"),
    State({"type": "nav-link", "index": ALL}, "id"),
)


clientside_callback(
    ClientsideFunction("eujp", "toggle"),
    Output("navbar-collapse", "is_open"),
    Input("navbar-toggler", "n_clicks"),
    State("navbar-collapse", "is_open"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("eujp", "langHref"),
    Output("lang-switch", "href"),
    Input("url", "pathname"),
    Input("url", "search"),
    State("lang-switch", "href"),
)


@callback(
    Output("demo-badge", "style"),
    Output("demo-banner", "is_open"),
    Output("filter-bar", "style"),
    Input("url", "pathname"),
)
def on_navigate(pathname):  # noqa: ANN001, ANN201
    """On every page change: re-check the demo flag (data may have been replaced) and hide
    the global filters on pages that have none (the Data page)."""
    import dash

    from data_access import service

    demo = service.is_demo_loaded()
    path = (pathname or "/").rstrip("/") or "/"
    no_filters = any(p["path"] == path and p.get("filters") is False
                     for p in dash.page_registry.values())
    return (None if demo else {"display": "none"}, demo,
            {"display": "none"} if no_filters else None)
