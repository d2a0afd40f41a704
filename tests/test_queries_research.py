"""Research-participation queries against an independent pandas computation, both backends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, text

from data_access.models import ResearchParticipation, ResearchProject
from data_access.queries import research as q


def _raw(engine: Engine) -> pd.DataFrame:
    df = pd.read_sql(text(
        "SELECT r.id, r.project_id, r.organisation_id, r.organisation_name, r.country_code, "
        "r.activity_type, r.role, r.ec_contribution, p.acronym, p.framework, p.programme_part, "
        "p.start_date, p.end_date, p.sector_code "
        "FROM research_participation r JOIN research_project p ON p.id = r.project_id"), engine)
    df["start_date"] = pd.to_datetime(df.start_date)
    df["activity_type"] = df.activity_type.fillna("OTH")
    return df


CASES = [
    dict(year_from=2014, year_to=2026, sectors=()),
    dict(year_from=2015, year_to=2023, sectors=("ict", "health"), frameworks=("H2020",)),
    dict(year_from=2014, year_to=2026, sectors=(), frameworks=("HORIZON",),
         parts=("HORIZON.2.4", "HORIZON.1.2"), roles=("participant",)),
    dict(year_from=2016, year_to=2024, sectors=(), activity_types=("HES", "REC")),
]


def _subset(engine: Engine, f: dict) -> pd.DataFrame:
    d = _raw(engine)
    d = d[(d.country_code == "JP") & d.start_date.dt.year.between(f["year_from"], f["year_to"])]
    for key, col in (("sectors", "sector_code"), ("frameworks", "framework"),
                     ("parts", "programme_part"), ("activity_types", "activity_type"),
                     ("roles", "role")):
        if f.get(key):
            d = d[d[col].isin(f[key])]
    return d


def _measures(g: pd.core.groupby.DataFrameGroupBy) -> pd.DataFrame:
    return g.agg(participations=("id", "size"), organisations=("organisation_id", "nunique"),
                 projects=("project_id", "nunique"),
                 ec_contribution=("ec_contribution", "sum"))


def _check(got: pd.DataFrame, want: pd.DataFrame, key: str) -> None:
    assert len(got) == len(want) > 0
    g = got.set_index(key).sort_index()
    w = want.sort_index()
    w.index = w.index.astype(g.index.dtype)
    for col in ("participations", "organisations", "projects"):
        assert g[col].tolist() == w[col].astype(int).tolist(), col
    assert g["ec_contribution"].tolist() == pytest.approx(w["ec_contribution"].tolist())


@pytest.mark.parametrize("f", CASES)
def test_per_year_matches_pandas(demo_engine, f) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.participations_by_year(c, **f)
    d = _subset(demo_engine, f)
    _check(got, _measures(d.groupby(d.start_date.dt.year.rename("year"))), "year")
    assert got.year.is_monotonic_increasing


@pytest.mark.parametrize("f", CASES)
@pytest.mark.parametrize("fn,col", [
    (q.participations_by_framework, "framework"), (q.participations_by_part, "programme_part"),
    (q.participations_by_activity, "activity_type"), (q.participations_by_role, "role"),
])
def test_breakdowns_match_pandas(demo_engine, f, fn, col) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = fn(c, **f)
    d = _subset(demo_engine, f)
    _check(got, _measures(d.groupby(col)), col)
    if fn is not q.participations_by_framework:
        assert list(got.participations) == sorted(got.participations, reverse=True)


def test_demo_totals_follow_published_figures(demo_engine) -> None:  # noqa: ANN001
    """H2020: 219 participations in 176 projects; Horizon Europe: 169 by 84 organisations."""
    with demo_engine.connect() as c:
        got = q.participations_by_framework(c, year_from=2014, year_to=2026, sectors=())
    g = got.set_index("framework")
    assert (g.loc["H2020", "participations"], g.loc["H2020", "projects"]) == (219, 176)
    assert (g.loc["HORIZON", "participations"], g.loc["HORIZON", "organisations"]) == (169, 84)


@pytest.mark.parametrize("f", CASES)
def test_contribution_by_year_matches_pandas(demo_engine, f) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.contribution_by_year(c, **f)
    d = _subset(demo_engine, f)
    want = d.groupby([d.start_date.dt.year.rename("year"), "framework"]).agg(
        ec_contribution=("ec_contribution", "sum"),
        funded=("ec_contribution", lambda s: int((s > 0).sum())),
        participations=("id", "size"))
    assert len(got) == len(want) > 0
    for r in got.itertuples():
        w = want.loc[(r.year, r.framework)]
        assert r.ec_contribution == pytest.approx(w.ec_contribution)
        assert (r.funded, r.participations) == (w.funded, w.participations)


@pytest.mark.parametrize("f", CASES)
def test_projects_table_matches_pandas(demo_engine, f) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        got = q.japanese_projects(c, **f)
    d = _subset(demo_engine, f)
    assert list(got.columns) == q.PROJECT_COLUMNS
    assert sorted(got.project_id) == sorted(d.project_id.unique())
    assert got.participations.sum() == len(d)
    assert got.start_date.tolist() == sorted(got.start_date, reverse=True)  # newest first
    for r in got.sample(min(len(got), 25), random_state=1).itertuples():
        mine = d[d.project_id == r.project_id]
        assert sorted(r.organisations.split("; ")) == sorted(
            f"{n} ({role})" for n, role in zip(mine.organisation_name, mine.role, strict=True))
        assert r.roles.split(", ") == sorted(set(mine.role))
        assert r.start_date == mine.start_date.iloc[0].strftime("%Y-%m-%d")
        assert len(r.end_date) == 10


def test_filters_that_match_nothing_give_empty_frames(demo_engine) -> None:  # noqa: ANN001
    # a Horizon Europe part asked for together with H2020 only
    f = dict(year_from=2014, year_to=2026, sectors=(), frameworks=("H2020",),
             parts=("HORIZON.2.1",))
    with demo_engine.connect() as c:
        for fn in (q.participations_by_year, q.participations_by_framework,
                   q.contribution_by_year, q.participations_by_part,
                   q.participations_by_activity, q.participations_by_role,
                   q.japanese_projects):
            assert fn(c, **f).empty, fn.__name__


def test_empty_database_gives_empty_frames(engine) -> None:  # noqa: ANN001
    kw = dict(year_from=2014, year_to=2026, sectors=())
    with engine.connect() as c:
        for fn in (q.participations_by_year, q.participations_by_framework,
                   q.contribution_by_year, q.participations_by_part,
                   q.participations_by_activity, q.participations_by_role):
            df = fn(c, **kw)
            assert df.empty and "participations" in df.columns, fn.__name__
        assert list(q.japanese_projects(c, **kw).columns) == q.PROJECT_COLUMNS


def test_non_japanese_and_missing_values(engine) -> None:  # noqa: ANN001
    """Hand-made rows: only JP participants count; a missing activity type is 'OTH'; an
    organisation in two projects is one organisation; unfunded counts as EUR 0."""
    proj = dict(title="T", framework="HORIZON", legal_basis="HORIZON.2.1.1",
                programme_part="HORIZON.2.1", end_date=dt.date(2026, 12, 31), total_cost=1.0,
                ec_max_contribution=1.0, sector_code="health", content_update=None,
                is_demo=False)
    part = dict(organisation_name="Org", city=None, sme=False, is_demo=False)
    with engine.begin() as c:
        c.execute(insert(ResearchProject), [
            dict(id=1, acronym="ONE", start_date=dt.date(2023, 3, 1), **proj),
            dict(id=2, acronym="TWO", start_date=dt.date(2023, 9, 1), **proj)])
        c.execute(insert(ResearchParticipation), [
            dict(project_id=1, organisation_id="A", country_code="JP", activity_type=None,
                 org_type="other", role="participant", ec_contribution=None, **part),
            dict(project_id=2, organisation_id="A", country_code="JP", activity_type=None,
                 org_type="other", role="coordinator", ec_contribution=1000.0, **part),
            dict(project_id=2, organisation_id="B", country_code="DE", activity_type="HES",
                 org_type="university", role="participant", ec_contribution=5e5, **part)])
    kw = dict(year_from=2023, year_to=2023, sectors=())
    with engine.connect() as c:
        year = q.participations_by_year(c, **kw)
        assert year[["participations", "organisations", "projects"]].values.tolist() == [
            [2, 1, 2]]
        assert year.ec_contribution.tolist() == [1000.0]
        act = q.participations_by_activity(c, **kw)
        assert act[["activity_type", "participations", "organisations"]].values.tolist() == [
            ["OTH", 2, 1]]
        assert q.participations_by_activity(c, **kw, activity_types=("OTH",)).shape[0] == 1
        contrib = q.contribution_by_year(c, **kw)
        assert contrib[["funded", "participations"]].values.tolist() == [[1, 2]]
        assert q.participations_by_year(c, **kw, roles=("coordinator",)).projects.tolist() == [1]
