"""Help desks: enquiries over time by desk and topic, who asks, and how fast they are answered."""

from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.charts import FigureContext, chart_card
from components.fastfig import merge_layout
from components.figures import bar_chart
from components.figures_helpdesk import (
    change_bars,
    monthly_stacked,
    percentile_lines,
    share_stacked,
)
from components.figures_programmes import bars_height, tidy_footer, wrap_label
from components.filters import page_filter
from components.i18n import norm_lang, t
from data_access import vocab
from data_access.queries import helpdesk as q
from pages._charts import ChartSpec, PageState, register_charts, register_dim, vocab_labeller
from pages._state import current_lang, global_filters

PAGE = "helpdesks"
dash.register_page(__name__, path="/helpdesks", name="Help desks", order=2,
                   title="Help desks · EU–Japan Centre")

EPA_IN_FORCE = dt.date(2019, 2, 1)
TOP_COUNTRIES = 15
MONTHLY_UP_TO_YEARS = 3  # ranges of up to 3 years show days to answer per month


def country_label(code: str, lang: str = "en") -> str:
    """A country name (or a Japanese prefecture name, should one appear)."""
    terms = vocab.JP_PREFECTURES if code.startswith("JP-") else vocab.COUNTRIES
    return vocab.label(terms, code, lang)


register_dim("desk", "Desk", vocab_labeller(vocab.DESKS))
register_dim("topic", "Topic", vocab_labeller(vocab.TOPICS))
register_dim("requester", "Requester type", vocab_labeller(vocab.ORG_TYPES))
register_dim("country", "Country", country_label)


def _args(s: PageState) -> dict:
    return {"year_from": s.year_from, "year_to": s.year_to, "sectors": list(s.sectors),
            "desks": list(s.values("desk")), "topics": list(s.values("topic")),
            "requesters": list(s.values("requester")), "countries": list(s.values("country"))}


def _days_args(s: PageState) -> dict:
    by = "month" if s.year_to - s.year_from < MONTHLY_UP_TO_YEARS else "quarter"
    return {**_args(s), "by": by}


def fig_monthly(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Enquiries per month stacked by desk, the EPA's entry into force marked."""
    lang = ctx.lang
    return monthly_stacked(
        df, ctx, x="month", stack="desk", value="enquiries",
        label=lambda c: vocab.label(vocab.DESKS, c, lang), order=[d.code for d in vocab.DESKS],
        x_title=t("Month received", lang), y_title=t("Enquiries per month (number)", lang),
        marker=(EPA_IN_FORCE, t("EPA enters into force (1 Feb 2019)", lang)),
        unit=t("enquiries", lang))


def fig_topic_share(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Each topic's share of the year's enquiries (the biggest topics, the rest grouped)."""
    lang = ctx.lang
    return share_stacked(df, ctx, x="year", stack="topic", value="enquiries",
                         label=lambda c: vocab.label(vocab.TOPICS, c, lang),
                         x_title=t("Year received", lang),
                         y_title=t("Share of the year's enquiries (%)", lang),
                         other_label=t("All other topics", lang), unit=t("enquiries", lang))


def fig_top_topics(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Top topics of the period with their change against the period before."""
    lang = ctx.lang
    note = ""
    if not df.empty:
        r = df.iloc[0]
        note = t("Change: {a} – {b} vs {c} – {d}", lang, a=r["period_from"],
                 b=r["period_to"], c=r["previous_from"], d=r["previous_to"])
        if not bool(r["compared"]):
            note += "<br>" + t("(no complete data for the period before)", lang)
    return change_bars(df, ctx, category="topic", value="enquiries", previous="previous",
                       change="change", compared="compared",
                       label=lambda c: vocab.label(vocab.TOPICS, c, lang),
                       value_title=t("Enquiries in the period (number)", lang), note=note,
                       previous_word=t("Period before", lang), change_word=t("Change", lang),
                       new_word=t("new", lang), unit=t("enquiries", lang))


def fig_requester(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Enquiries per requester type."""
    fig = bar_chart(df, ctx, category="requester", value="enquiries",
                    label=lambda c: wrap_label(vocab.label(vocab.ORG_TYPES, c, ctx.lang)),
                    value_title=t("Enquiries (number)", ctx.lang),
                    hover="%{x:,.0f} " + t("enquiries", ctx.lang))
    merge_layout(fig, {"height": bars_height(fig.data[0].y, ctx)})
    return tidy_footer(fig, ctx)


def fig_country(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Enquiries per requester country, the biggest ones."""
    fig = bar_chart(df.head(TOP_COUNTRIES), ctx, category="country", value="enquiries",
                    label=lambda c: wrap_label(country_label(c, ctx.lang)),
                    value_title=t("Enquiries (number)", ctx.lang),
                    hover="%{x:,.0f} " + t("enquiries", ctx.lang))
    merge_layout(fig, {"height": bars_height(fig.data[0].y, ctx)})
    return tidy_footer(fig, ctx)


def fig_days(df: pd.DataFrame, ctx: FigureContext):  # noqa: ANN201
    """Median and 90th-percentile days to answer per quarter (or month) of receipt."""
    lang = ctx.lang
    quarterly = df["period"].astype(str).str.contains("Q").any()
    return percentile_lines(
        df, ctx, x="period_start", period="period",
        lines=[("median_days", t("Median", lang)), ("p90_days", t("90th percentile", lang))],
        count="answered", count_word=t("answered", lang),
        x_title=t("Quarter received" if quarterly else "Month received", lang),
        y_title=t("Days to answer (calendar days)", lang), unit=t("days", lang))


_SHARE = {"enquiries": "{:,}", "share": "{:.1%}"}
SPECS = [
    ChartSpec(PAGE, "monthly", "Enquiries per month by desk", q.enquiries_by_month, _args,
              fig_monthly, [("month", "Month"), ("desk", "Desk"), ("enquiries", "Enquiries")],
              formats={"month": "{:%Y-%m}", "enquiries": "{:,}"}, click_dim="desk",
              family="helpdesk", height=460, md=12),
    ChartSpec(PAGE, "topic-share", "Topic mix: share of enquiries per year",
              q.topic_share_by_year, _args, fig_topic_share,
              [("year", "Year"), ("topic", "Topic"), ("enquiries", "Enquiries"),
               ("share", "Share of the year (%)")], formats=_SHARE, click_dim="topic",
              family="helpdesk", height=480),
    ChartSpec(PAGE, "top-topics", "Top topics and change against the period before",
              q.top_topics, _args, fig_top_topics,
              [("topic", "Topic"), ("enquiries", "Enquiries"), ("previous", "Period before"),
               ("change", "Change (%)"), ("share", "Share of the period (%)"),
               ("period_from", "Period from"), ("period_to", "Period to"),
               ("previous_from", "Period before from"), ("previous_to", "Period before to")],
              formats={"enquiries": "{:,}", "previous": "{:,}", "change": "{:+.1%}",
                       "share": "{:.1%}"},
              click_dim="topic", family="helpdesk", height=480),
    ChartSpec(PAGE, "requester", "Enquiries by requester type", q.enquiries_by_requester,
              _args, fig_requester,
              [("requester", "Requester type"), ("enquiries", "Enquiries"),
               ("share", "Share (%)")], formats=_SHARE, click_dim="requester",
              family="helpdesk", height=360),
    ChartSpec(PAGE, "country", "Enquiries by requester country (top 15)",
              q.enquiries_by_country, _args, fig_country,
              [("country", "Country"), ("enquiries", "Enquiries"), ("share", "Share (%)")],
              formats=_SHARE, click_dim="country", family="helpdesk", height=360),
    ChartSpec(PAGE, "days", "Days to answer: median and 90th percentile",
              q.days_to_answer, _days_args, fig_days,
              [("period", "Received"), ("answered", "Enquiries answered"),
               ("median_days", "Median days to answer"),
               ("p90_days", "90th percentile days to answer")],
              formats={"answered": "{:,}", "median_days": "{:,.0f}", "p90_days": "{:,.0f}"},
              family="helpdesk", height=400, md=12),
]
register_charts(PAGE, SPECS)


def _options(terms: tuple[vocab.Term, ...], lang: str) -> list[dict]:
    return [{"label": vocab.label(terms, x.code, lang), "value": x.code} for x in terms]


def layout(lang: str | None = None, **query: str) -> html.Div:
    """Page filters (desk, topic), chips and the chart grid."""
    lang = norm_lang(lang) if lang else current_lang()
    f = global_filters("?" + "&".join(f"{k}={v}" for k, v in query.items()))
    sel = {k: list(v) for k, v in f.extra.items()}
    controls = dbc.Row([
        page_filter(PAGE, "desk", label=t("Desk", lang), options=_options(vocab.DESKS, lang),
                    value=sel.get("desk", []), placeholder=t("All desks", lang)),
        page_filter(PAGE, "topic", label=t("Topic", lang), options=_options(vocab.TOPICS, lang),
                    value=sel.get("topic", []), placeholder=t("All topics", lang)),
    ], className="g-2 mb-2")
    return html.Div([
        html.Div([html.H1(t("Help desks", lang), className="page-title"),
                  html.Span(id={"type": "asof", "page": PAGE}, className="asof")],
                 className="page-head"),
        html.P(t("Enquiries to the EPA helpdesk, the public procurement helpdesk, the Technology "
                 "Transfer Helpdesk and the Horizon Europe NCP. Click a bar to filter the other "
                 "charts by it.", lang), className="text-muted small mb-2"),
        controls,
        html.Div(id={"type": "chips", "page": PAGE}, className="mb-2"),
        dbc.Row([chart_card(PAGE, s.key, t(s.title, lang), lang=lang, md=s.md)
                 for s in SPECS]),
    ])
