"""The naive baseline the budget is measured against: the Help desks page written the way
typical Dash dashboards are.

Every filter change reads the whole enquiry table into pandas, filters and groups it there,
and draws the same six charts with plotly.express; no summaries, no cache. It is served by
gunicorn like the real app (`gunicorn benchmarks.naive_app:server`), on the same database,
and driven by the same harness through its one callback (URL -> all figures).
"""

from __future__ import annotations

import os

import dash
import pandas as pd
import plotly.express as px
from dash import ALL, Input, Output, State, dcc, html
from sqlalchemy import create_engine

from components.filters import parse_query

KEYS = ("monthly", "topic-share", "top-topics", "requester", "country", "days")
engine = create_engine(os.environ["DATABASE_URL"])
app = dash.Dash(__name__, title="naive baseline")
app.layout = html.Div([dcc.Location(id="url", refresh=False)] + [
    dcc.Graph(id={"type": "chart", "page": "naive", "key": k}) for k in KEYS])
server = app.server


def _load() -> pd.DataFrame:
    df = pd.read_sql("SELECT * FROM helpdesk_enquiry", engine)
    df["received_date"] = pd.to_datetime(df["received_date"])
    df["answered_date"] = pd.to_datetime(df["answered_date"])
    return df


def _filter(df: pd.DataFrame, q: dict[str, list[str]], own: str | None = None) -> pd.DataFrame:
    y0 = int((q.get("from") or ["2014"])[0])
    y1 = int((q.get("to") or ["2026"])[0])
    m = df["received_date"].dt.year.between(y0, y1)
    for key, col in (("sector", "sector_code"), ("desk", "desk"), ("topic", "topic"),
                     ("sel_desk", "desk"), ("sel_topic", "topic"),
                     ("sel_requester", "requester_type"), ("sel_country", "country_code")):
        if q.get(key) and key != f"sel_{own}":
            m &= df[col].isin(q[key])
    return df[m]


@app.callback(Output({"type": "chart", "page": "naive", "key": ALL}, "figure"),
              Input("url", "search"), State({"type": "chart", "page": "naive", "key": ALL}, "id"))
def update(search, ids):  # noqa: ANN001, ANN201
    """All six figures from the whole table, recomputed on every request."""
    q = parse_query(search)
    df = _load()
    out = {}
    d = _filter(df, q, "desk")
    monthly = d.groupby([d["received_date"].dt.to_period("M").dt.to_timestamp(), "desk"]
                        ).size().reset_index(name="enquiries")
    out["monthly"] = px.bar(monthly, x="received_date", y="enquiries", color="desk",
                            title="Enquiries per month by desk")
    d = _filter(df, q, "topic")
    share = d.groupby([d["received_date"].dt.year, "topic"]).size().reset_index(name="n")
    share["share"] = share["n"] / share.groupby("received_date")["n"].transform("sum")
    out["topic-share"] = px.bar(share, x="received_date", y="share", color="topic",
                                title="Topic mix")
    top = d["topic"].value_counts().head(10).reset_index()
    out["top-topics"] = px.bar(top, x="count", y="topic", orientation="h", title="Top topics")
    d = _filter(df, q, "requester")
    req = d["requester_type"].value_counts().reset_index()
    out["requester"] = px.bar(req, x="count", y="requester_type", orientation="h",
                              title="Enquiries by requester type")
    d = _filter(df, q, "country")
    cty = d["country_code"].value_counts().head(15).reset_index()
    out["country"] = px.bar(cty, x="count", y="country_code", orientation="h",
                            title="Enquiries by requester country")
    d = _filter(df, q)
    d = d[d["answered_date"].notna()]
    days = (d["answered_date"] - d["received_date"]).dt.days
    per = d["received_date"].dt.to_period("Q").dt.to_timestamp()
    q = days.groupby(per).quantile([0.5, 0.9])
    lines = (q.unstack() if len(q) else pd.DataFrame(columns=[0.5, 0.9])).reset_index()
    lines.columns = ["quarter", "median", "p90"]
    out["days"] = px.line(lines, x="quarter", y=["median", "p90"], title="Days to answer")
    return [out[i["key"]] for i in ids]
