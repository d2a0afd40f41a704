"""EPA utilisation queries against an independent pandas computation, on both backends."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, text

from data_access.models import EpaUtilisation
from data_access.queries import epa as q

CASES = [
    dict(year_from=2014, year_to=2026, sectors=()),
    dict(year_from=2019, year_to=2022, sectors=("agrifood",), directions=("EU_JP",)),
    dict(year_from=2020, year_to=2024, sectors=(), member_states=("DE", "FR", "IT"),
         sections=("XVI", "XVII")),
    dict(year_from=2021, year_to=2021, sectors=("machinery", "mobility"),
         directions=("JP_EU",), member_states=("NL",)),
]


def _subset(engine: Engine, f: dict) -> pd.DataFrame:
    d = pd.read_sql(text("SELECT * FROM epa_utilisation"), engine)
    d = d[d.year.between(f["year_from"], f["year_to"])]
    for key, col in (("sectors", "sector_code"), ("directions", "direction"),
                     ("member_states", "member_state"), ("sections", "hs_section")):
        if f.get(key):
            d = d[d[col].isin(f[key])]
    return d


def _want(d: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    w = d.groupby(keys)[["eligible_eur", "preferential_eur"]].sum()
    w["pur"] = w.preferential_eur / w.eligible_eur
    return w


def _check(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    assert len(got) == len(want) > 0
    g = got.set_index(keys)
    for idx, w in want.iterrows():
        r = g.loc[idx]
        assert r.eligible_eur == pytest.approx(w.eligible_eur)
        assert r.preferential_eur == pytest.approx(w.preferential_eur)
        assert r.pur == pytest.approx(w.pur)


@pytest.mark.parametrize("f", CASES)
def test_pur_by_year_matches_pandas(demo_engine, f) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.pur_by_year(c, **f)
    _check(got, _want(_subset(demo_engine, f), ["year", "direction"]), ["year", "direction"])


@pytest.mark.parametrize("f", CASES)
def test_pur_by_member_state_matches_pandas_and_is_sorted(demo_engine, f) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.pur_by_member_state(c, **f)
    _check(got, _want(_subset(demo_engine, f), ["member_state"]), ["member_state"])
    assert list(got.pur) == sorted(got.pur, reverse=True)


@pytest.mark.parametrize("f", CASES)
def test_pur_by_year_section_matches_pandas(demo_engine, f) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.pur_by_year_section(c, **f)
    _check(got, _want(_subset(demo_engine, f), ["year", "hs_section"]), ["year", "hs_section"])


def test_published_utilisation_rates(demo_engine) -> None:  # noqa: ANN001
    """The demo data is calibrated to the published rates (53.5%, 63.3% EU->JP; 59% JP->EU)."""
    with demo_engine.connect() as c:
        got = q.pur_by_year(c, year_from=2019, year_to=2020, sectors=())
    r = got.set_index(["year", "direction"]).pur
    assert r[(2019, "EU_JP")] == pytest.approx(0.535, abs=5e-4)
    assert r[(2020, "EU_JP")] == pytest.approx(0.633, abs=5e-4)
    assert r[(2020, "JP_EU")] == pytest.approx(0.59, abs=5e-4)


def test_filters_that_match_nothing_give_empty_frames(demo_engine) -> None:  # noqa: ANN001
    # no HS section maps to the "research" sector; and trade data starts in 2019
    with demo_engine.connect() as c:
        for fn in (q.pur_by_year, q.pur_by_member_state, q.pur_by_year_section):
            assert fn(c, year_from=2014, year_to=2026, sectors=("research",)).empty
            assert fn(c, year_from=2014, year_to=2018, sectors=()).empty
            # a click selection that contradicts the page filter
            assert fn(c, year_from=2014, year_to=2026, sectors=(),
                      member_states=("__none__",)).empty


def test_empty_database_gives_empty_frames(engine) -> None:  # noqa: ANN001
    with engine.connect() as c:
        for fn in (q.pur_by_year, q.pur_by_member_state, q.pur_by_year_section):
            df = fn(c, year_from=2014, year_to=2026, sectors=())
            assert df.empty and {"pur", "eligible_eur", "preferential_eur"} <= set(df.columns)


def test_zero_eligible_gives_no_rate(engine) -> None:  # noqa: ANN001
    """A member state with nothing eligible has no rate (not 0%, not a division error)."""
    row = dict(year=2022, direction="EU_JP", hs_section="I", sector_code="agrifood",
               is_demo=False)
    with engine.begin() as c:
        c.execute(insert(EpaUtilisation), [
            dict(member_state="MT", eligible_eur=0.0, preferential_eur=0.0, **row),
            dict(member_state="DE", eligible_eur=100.0, preferential_eur=60.0, **row)])
    with engine.connect() as c:
        got = q.pur_by_member_state(c, year_from=2022, year_to=2022, sectors=())
    assert got.member_state.tolist()[0] == "DE" and got.pur.tolist()[0] == pytest.approx(0.6)
    assert pd.isna(got.set_index("member_state").loc["MT", "pur"])
