"""Filter state <-> URL query string, and the global filter bar.

The URL is the single source of truth for filters: `?from=2019&to=2024&sector=ict,health`.
Anything invalid falls back to the default, silently, so a mistyped link still opens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

import dash_bootstrap_components as dbc
from dash import dcc

from components.i18n import t

GLOBAL_KEYS = ("from", "to", "sector")


def parse_query(search: str | None) -> dict[str, list[str]]:
    """'?a=1,2&a=3&b=' -> {'a': ['1', '2', '3']}; empty values dropped."""
    raw = parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    out: dict[str, list[str]] = {}
    for k, values in raw.items():
        items = [p.strip() for v in values for p in v.split(",") if p.strip()]
        if items:
            out[k] = items
    return out


def pick(values: Iterable[str] | None, allowed: Sequence[str]) -> tuple[str, ...]:
    """Keep only allowed values, in vocabulary order, without duplicates."""
    wanted = set(values or ())
    return tuple(a for a in allowed if a in wanted)


def _year(value: list[str] | None, lo: int, hi: int, default: int) -> int:
    try:
        y = int((value or [""])[0])
    except ValueError:
        return default
    return y if lo <= y <= hi else default


@dataclass(frozen=True)
class GlobalFilters:
    """Year range and sectors shared by every analysis page (empty sectors = all)."""

    year_from: int
    year_to: int
    sectors: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: Mapping[str, list[str]], *, min_year: int, max_year: int,
                   sector_codes: Sequence[str]) -> GlobalFilters:
        """Parse global filters from a parsed query; invalid values become defaults."""
        y0 = _year(query.get("from"), min_year, max_year, min_year)
        y1 = _year(query.get("to"), min_year, max_year, max_year)
        if y0 > y1:
            y0, y1 = min_year, max_year
        sectors = pick(query.get("sector"), sector_codes)
        extra = {k: tuple(v) for k, v in query.items() if k not in GLOBAL_KEYS}
        return cls(y0, y1, sectors, extra)

    @property
    def years(self) -> list[int]:
        """Every year of the range, inclusive."""
        return list(range(self.year_from, self.year_to + 1))


def build_query(params: Mapping[str, object]) -> str:
    """{'from': 2019, 'sector': ['ict', 'health'], 'x': None} -> '?from=2019&sector=ict,health'."""
    pairs = []
    for k, v in params.items():
        if v is None or v == "" or v == [] or v == ():
            continue
        if isinstance(v, (list, tuple)):
            v = ",".join(str(i) for i in v)
        pairs.append((k, str(v)))
    return ("?" + urlencode(pairs, safe=",")) if pairs else ""


def filter_bar(*, years: Sequence[int], sectors: Sequence[tuple[str, str]],
               lang: str = "en") -> dbc.Card:
    """The global filter bar: from/to year selects and a sector multi-select."""
    year_opts = [{"label": str(y), "value": str(y)} for y in years]
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([dbc.Label(t("From", lang), html_for="filter-year-from", className="small mb-0"),
                 dbc.Select(id="filter-year-from", options=year_opts, size="sm")],
                xs=6, md=2),
        dbc.Col([dbc.Label(t("To", lang), html_for="filter-year-to", className="small mb-0"),
                 dbc.Select(id="filter-year-to", options=year_opts, size="sm")],
                xs=6, md=2),
        dbc.Col([dbc.Label(t("Sectors", lang), html_for="filter-sectors",
                           className="small mb-0"),
                 dcc.Dropdown(id="filter-sectors", multi=True,
                              options=[{"label": lbl, "value": code} for code, lbl in sectors],
                              placeholder=t("All sectors", lang), className="dash-sm")],
                xs=12, md=6),
        dbc.Col(dbc.Button(t("Reset filters", lang), id="filter-reset", color="link",
                           size="sm", className="mt-md-3 px-0"), xs=12, md=2,
                className="text-md-end"),
    ], className="g-2 align-items-end")), className="filter-bar mb-3 shadow-sm",
        id="filter-bar")


def page_filter(page: str, dim: str, *, label: str, options: Sequence[dict],
                value: object, placeholder: str, md: int = 6, multi: bool = True,
                **dropdown: object) -> dbc.Col:
    """One labelled page-filter dropdown; its id is what pages/_state.py syncs with the URL."""
    return dbc.Col([dbc.Label(label, className="small mb-0"),
                    dcc.Dropdown(id={"type": "page-filter", "page": page, "dim": dim},
                                 options=list(options), multi=multi, value=value,
                                 placeholder=placeholder, **dropdown)], xs=12, md=md)
