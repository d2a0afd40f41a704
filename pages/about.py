"""About the data: definitions, how each family is dated, sources, demo vs real data."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from components.i18n import norm_lang, t
from data_access import service
from data_access.queries.overview import data_dates
from pages._state import current_lang

dash.register_page(__name__, path="/about", name="About the data", order=10, nav="About",
                   title="About the data · EU–Japan Centre", filters=False)

# (family, what one record is, how its year is counted, definitions)
FAMILIES: list[tuple[str, str, str, str, str]] = [
    ("programmes", "Programmes",
     "One application to a mobility programme (Vulcanus in Japan, Vulcanus in Europe, "
     "Minerva, training missions). No names, e-mail addresses or birth dates are stored.",
     "Cycle year of the programme.",
     "Selection rate = selected applicants ÷ applications received."),
    ("helpdesk", "Help desks",
     "One enquiry to the EPA helpdesk, the public procurement helpdesk, the Technology "
     "Transfer Helpdesk or Horizon Europe NCP Japan.",
     "Date the enquiry was received.",
     "Days to answer = answer date − date received, for answered enquiries; the median and "
     "90th percentile are exact (not sampled)."),
    ("techtransfer", "Technology transfer",
     "Technology offers and requests in the database, and deals between EU and Japanese "
     "parties at the furthest stage reached (contact, NDA, negotiation, signed).",
     "Publication date (offers), signature date (signed deals).",
     "Stock of offers = offers published and not withdrawn at the year's end."),
    ("research", "Research participation",
     "One participation of a Japanese organisation in a Horizon 2020 or Horizon Europe "
     "project, from the public CORDIS files (project.csv, organization.csv).",
     "Start year of the project.",
     "Organisation types follow CORDIS activity types: HES higher education, REC research "
     "organisation, PRC private company (SME or large), PUB public body, OTH other."),
    ("epa", "EPA utilisation",
     "For a year, direction (EU→Japan or Japan→EU), member state and HS section: imports "
     "eligible for the EPA preference and imports that used it.",
     "Calendar year of the trade statistics (published with a lag of about a year).",
     "Preference utilisation rate = imports that used the preference ÷ imports eligible "
     "for it."),
]


def layout(lang: str | None = None, **_query: object) -> html.Div:
    """Static explanations plus the data date of each family (filled by a callback)."""
    lang = norm_lang(lang) if lang else current_lang()
    cards = [dbc.Col(dbc.Card(dbc.CardBody([
        html.H2(t(title, lang), className="h6 fw-semibold"),
        html.P(t(what, lang), className="small mb-1"),
        html.P([html.Strong(t("Year", lang) + ": "), t(year, lang)], className="small mb-1"),
        html.P(t(defs, lang), className="small mb-1"),
        html.P(id={"type": "about-asof", "index": key}, className="small text-muted mb-0"),
    ]), className="h-100 shadow-sm"), xs=12, md=6, xl=4, className="mb-3")
        for key, title, what, year, defs in FAMILIES]
    return html.Div([
        html.H1(t("About the data", lang), className="page-title"),
        html.P(t("Every figure on this dashboard is computed from the records described "
                 "below. Sectors are one vocabulary shared by all families: each family's "
                 "own categories (fields of study, HS sections, Horizon programme parts) are "
                 "mapped onto it, which is what the global sector filter uses.", lang),
               className="small"),
        html.P(id="about-demo", className="small"),
        dbc.Row(cards),
    ])


@callback(
    Output({"type": "about-asof", "index": dash.ALL}, "children"),
    Output("about-demo", "children"),
    Input("url", "pathname"),
    dash.State({"type": "about-asof", "index": dash.ALL}, "id"),
)
def fill_dates(_pathname, ids):  # noqa: ANN001, ANN201
    """Show how recent each family's data is, and whether it is demo data."""
    lang = current_lang()
    dates = service.run(data_dates)
    out = []
    for i in ids:
        d = dates.get(i["index"])
        out.append(f"{t('Data as of', lang)} {d.isoformat()}" if d else t("No data", lang))
    demo = (t("Synthetic demo data is loaded: figures are realistic in size but not real.",
              lang) if service.is_demo_loaded() else "")
    return out, demo
