"""Demo data: deterministic, calibrated to the published figures, no personal data."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
from sqlalchemy import inspect, text

from data_access.demo import load_demo
from tests.conftest import DEMO_UNTIL


def _digest(engine, table: str, order: str) -> str:  # noqa: ANN001
    df = pd.read_sql(text(f"SELECT * FROM {table} ORDER BY {order}"), engine)  # noqa: S608
    df = df.drop(columns=[c for c in ("id",) if c in df.columns and table != "research_project"])
    return hashlib.sha256(df.astype(str).to_csv(index=False).encode()).hexdigest()


def test_same_seed_same_rows(engine) -> None:  # noqa: ANN001
    load_demo(engine, until=DEMO_UNTIL, log=lambda *_: None)
    first = {t: _digest(engine, t, "external_id") for t in
             ("helpdesk_enquiry", "programme_application", "tech_deal")}
    load_demo(engine, until=DEMO_UNTIL, log=lambda *_: None)  # replaces, does not duplicate
    second = {t: _digest(engine, t, "external_id") for t in first}
    assert first == second
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM helpdesk_enquiry")).scalar_one()
    assert 15_000 < n < 60_000


def test_calibration(demo_engine) -> None:  # noqa: ANN001
    e = demo_engine
    apps = pd.read_sql(text("SELECT programme, cycle_year, status FROM programme_application"), e)
    vj = apps[apps.programme == "vulcanus_jp"].groupby("cycle_year")
    n = vj.size()
    assert n.between(600, 1000).all()
    selected = vj["status"].apply(lambda s: (s == "selected").sum())
    assert selected.drop([2020, 2021]).between(30, 40).all()
    shortlisted = vj["status"].apply(lambda s: s.isin(["shortlisted", "selected"]).sum())
    assert shortlisted.between(100, 140).all()
    ve = apps[(apps.programme == "vulcanus_eu") & (apps.status == "selected")]
    assert ve.groupby("cycle_year").size().between(15, 25).all()

    epa = pd.read_sql(text("SELECT year, direction, eligible_eur, preferential_eur "
                           "FROM epa_utilisation"), e)
    g = epa.groupby(["year", "direction"]).sum()
    pur = (g.preferential_eur / g.eligible_eur).round(3)
    assert pur[(2019, "EU_JP")] == 0.535
    assert pur[(2020, "EU_JP")] == 0.633
    assert pur[(2021, "EU_JP")] == 0.700
    assert pur[(2020, "JP_EU")] == 0.590
    assert (epa.preferential_eur <= epa.eligible_eur + 0.01).all()

    res = pd.read_sql(text("SELECT p.framework, r.organisation_id, r.project_id, "
                           "r.ec_contribution FROM research_participation r "
                           "JOIN research_project p ON p.id = r.project_id"), e)
    h2020 = res[res.framework == "H2020"]
    he = res[res.framework == "HORIZON"]
    assert len(h2020) == 219 and h2020.project_id.nunique() == 176
    assert len(he) == 169 and he.organisation_id.nunique() == 84
    assert abs(he.ec_contribution.sum() - 1.25e6) < 1

    stock = pd.read_sql(text("SELECT count(*) AS n FROM tech_offer WHERE kind = 'offer' "
                             "AND withdrawn_date IS NULL"), e).n[0]
    assert stock > 20_000

    hd = pd.read_sql(text("SELECT desk, received_date FROM helpdesk_enquiry"), e)
    hd["received_date"] = pd.to_datetime(hd.received_date)
    epa_desk = hd[hd.desk == "epa"].set_index("received_date").resample("MS").size()
    assert epa_desk[: "2018-06-30"].sum() == 0
    launch = epa_desk["2019-02-01":"2019-04-30"].mean()
    later = epa_desk["2022-01-01":"2022-12-31"].mean()
    assert launch > 2 * later  # the launch peak
    assert hd.received_date.max().date() <= DEMO_UNTIL


def test_no_personal_data_columns(demo_engine) -> None:  # noqa: ANN001
    cols = {c["name"] for c in inspect(demo_engine).get_columns("programme_application")}
    assert not cols & {"name", "first_name", "last_name", "email", "birth_date", "dob"}


def test_scaled_enquiries(engine) -> None:  # noqa: ANN001
    load_demo(engine, until=dt.date(2025, 12, 31), enquiries=50_000, log=lambda *_: None)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM helpdesk_enquiry")).scalar_one() == 50_000


def test_demo_reload_keeps_real_rows_with_same_key(engine) -> None:  # noqa: ANN001
    load_demo(engine, until=DEMO_UNTIL, log=lambda *_: None)
    with engine.begin() as c:  # a real import takes over one demo row's natural key
        c.execute(text("UPDATE epa_utilisation SET is_demo = false, eligible_eur = 1, "
                       "preferential_eur = 1 WHERE year = 2020 AND direction = 'EU_JP' "
                       "AND member_state = 'DE' AND hs_section = 'I'"))
    load_demo(engine, until=DEMO_UNTIL, log=lambda *_: None)  # must not clash
    with engine.connect() as c:
        rows = c.execute(text("SELECT is_demo, eligible_eur FROM epa_utilisation "
                              "WHERE year = 2020 AND direction = 'EU_JP' "
                              "AND member_state = 'DE' AND hs_section = 'I'")).all()
    assert [(bool(r[0]), r[1]) for r in rows] == [(False, 1.0)]
