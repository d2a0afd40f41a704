"""Overview KPI queries against an independent pandas computation, on both backends."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from data_access.queries.overview import overview_kpis
from tests.conftest import DEMO_UNTIL


def _raw(engine, sql: str) -> pd.DataFrame:  # noqa: ANN001
    return pd.read_sql(text(sql), engine)


@pytest.mark.parametrize("year_from,year_to,sectors", [
    (2014, 2025, ()), (2019, 2023, ("ict", "health")), (2016, 2016, ("agrifood",)),
])
def test_kpis_match_pandas(demo_engine, year_from, year_to, sectors) -> None:  # noqa: ANN001
    e = demo_engine
    with e.connect() as c:
        series, head = overview_kpis(c, year_from=year_from, year_to=year_to,
                                     sectors=sectors, as_of=DEMO_UNTIL)
    h = head.set_index("kpi")

    apps = _raw(e, "SELECT cycle_year, status, sector_code FROM programme_application")
    if sectors:
        apps = apps[apps.sector_code.isin(sectors)]
    last = apps[apps.cycle_year == year_to]
    if apps.cycle_year.between(year_from, year_to).any():
        assert h.loc["applications", "value"] == len(last)
        assert h.loc["selection_rate", "value"] == pytest.approx(
            (last.status == "selected").mean())
    else:  # nothing in the range: "No data", not zero
        assert pd.isna(h.loc["applications", "value"])

    enq = _raw(e, "SELECT received_date, answered_date, sector_code FROM helpdesk_enquiry")
    if sectors:
        enq = enq[enq.sector_code.isin(sectors)]
    enq["received_date"] = pd.to_datetime(enq.received_date)
    enq["answered_date"] = pd.to_datetime(enq.answered_date)
    y = enq[enq.received_date.dt.year == year_to]
    assert h.loc["enquiries", "value"] == len(y)
    days = (y.answered_date - y.received_date).dt.days.dropna().sort_values().to_numpy()
    if len(days):
        lower_median = days[int(np.ceil(len(days) / 2)) - 1]
        assert h.loc["median_days", "value"] == lower_median

    epa = _raw(e, "SELECT year, direction, sector_code, eligible_eur, preferential_eur "
                  "FROM epa_utilisation")
    if sectors:
        epa = epa[epa.sector_code.isin(sectors)]
    sub = epa[(epa.direction == "EU_JP") & (epa.year <= year_to)]
    if sub.empty or sub[sub.year >= year_from].empty:
        assert pd.isna(h.loc["pur_eu_jp", "value"])
    else:
        ly = sub.year.max()
        s = sub[sub.year == ly]
        assert h.loc["pur_eu_jp", "value"] == pytest.approx(
            s.preferential_eur.sum() / s.eligible_eur.sum())
        assert h.loc["pur_eu_jp", "year"] == ly

    spark = series[series.kpi == "enquiries"]
    assert spark.year.min() >= year_from and spark.year.max() <= year_to
    per_year = enq[enq.received_date.dt.year.between(year_from, year_to)].groupby(
        enq.received_date.dt.year).size()
    assert dict(zip(spark.year, spark.value.astype(int), strict=True)) == per_year.to_dict()


def test_partial_year_compares_same_period(demo_engine) -> None:  # noqa: ANN001
    e = demo_engine
    with e.connect() as c:
        _, head = overview_kpis(c, year_from=2020, year_to=DEMO_UNTIL.year, sectors=(),
                                as_of=DEMO_UNTIL)
    h = head.set_index("kpi")
    assert bool(h.loc["enquiries", "partial"]) is True
    enq = _raw(e, "SELECT received_date FROM helpdesk_enquiry")
    d = pd.to_datetime(enq.received_date)
    prev_same = ((d >= f"{DEMO_UNTIL.year - 1}-01-01")
                 & (d <= pd.Timestamp(DEMO_UNTIL.replace(year=DEMO_UNTIL.year - 1)))).sum()
    assert h.loc["enquiries", "previous"] == prev_same
    # deals and participations: this year so far, and the same days a year before, counted
    # in one statement each
    last_year_day = pd.Timestamp(DEMO_UNTIL.replace(year=DEMO_UNTIL.year - 1))
    deals = _raw(e, "SELECT signed_date FROM tech_deal WHERE stage = 'signed'")
    signed = pd.to_datetime(deals.signed_date)
    assert h.loc["deals_signed", "value"] == (signed.dt.year == DEMO_UNTIL.year).sum()
    assert h.loc["deals_signed", "previous"] == (
        (signed >= f"{DEMO_UNTIL.year - 1}-01-01") & (signed <= last_year_day)).sum()
    parts = _raw(e, "SELECT p.start_date FROM research_participation r JOIN research_project p"
                    " ON p.id = r.project_id WHERE r.country_code = 'JP'")
    start = pd.to_datetime(parts.start_date)
    assert h.loc["participations", "previous"] == (
        (start >= f"{DEMO_UNTIL.year - 1}-01-01") & (start <= last_year_day)).sum()
    # EPA statistics lag a year: the card shows the latest available year
    assert h.loc["pur_eu_jp", "year"] == DEMO_UNTIL.year - 1
    assert bool(h.loc["pur_eu_jp", "latest"]) is True


def test_no_data_is_none_not_error(engine) -> None:  # noqa: ANN001
    with engine.connect() as c:
        series, head = overview_kpis(c, year_from=2015, year_to=2016, sectors=("ict",),
                                     as_of=dt.date(2026, 6, 30))
    assert series.empty
    assert head["value"].isna().all()
    assert len(head) == 8
