"""Overview: one KPI card per family for the last year of the selected range."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from components.fastfig import plain
from components.i18n import norm_lang, t
from components.overview import kpi_views, overview_grid
from data_access import service, vocab
from data_access.queries.overview import overview_kpis
from pages._state import DEFAULT_VIEWS, current_lang, global_filters

dash.register_page(__name__, path="/", name="Overview", title="Overview · EU–Japan Centre",
                   order=0)


def layout(lang: str | None = None, **_query: object) -> html.Div:
    """Page skeleton; the cards are filled by `update_cards` from the filter state."""
    lang = norm_lang(lang) if lang else current_lang()
    return html.Div([
        html.H1(t("Overview", lang), className="page-title"),
        html.P(id="overview-subtitle", className="text-muted small"),
        dcc.Loading(html.Div(id="overview-cards"), type="dot", delay_show=300),
    ])


@callback(
    Output("overview-cards", "children"),
    Output("overview-subtitle", "children"),
    Input("url", "search"),
)
def update_cards(search):  # noqa: ANN001, ANN201
    """Recompute the KPI cards for the filters in the URL."""
    f = global_filters(search)
    lang = current_lang(search)
    as_of = service.today()

    def build() -> tuple:
        # (cached below as part of the whole output, not on its own)
        series, head = service.run_here(overview_kpis, year_from=f.year_from,
                                        year_to=f.year_to, sectors=list(f.sectors),
                                        as_of=as_of)
        views = kpi_views(series, head, as_of=as_of, lang=lang)
        sectors = (", ".join(vocab.label(vocab.SECTORS, s, lang) for s in f.sectors)
                   if f.sectors else t("All sectors", lang))
        subtitle = (f"{t('Key figures for', lang)} {f.year_from}–{f.year_to} · {sectors}")
        return plain(overview_grid(views, lang)), subtitle

    # the whole output, as sent, cached by filters + data version (one meta read)
    with service.pinned():
        return service.cached("overview", [f.year_from, f.year_to, list(f.sectors), lang,
                                           as_of.isoformat()], build)


DEFAULT_VIEWS.append(lambda: update_cards(""))
