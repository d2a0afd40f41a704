"""Programme queries against an independent pandas computation, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from data_access.queries import programmes as q

FUNCS = (q.applications_by_year, q.applicants_by_field, q.applicants_by_place,
         q.applicants_by_gender, q.hosts_by_sector)

CASES = [
    pytest.param({"year_from": 2014, "year_to": 2026}, id="everything"),
    pytest.param({"year_from": 2019, "year_to": 2023, "sectors": ["ict", "machinery"],
                  "programmes": ["vulcanus_jp"]}, id="sector+programme"),
    pytest.param({"year_from": 2016, "year_to": 2025, "programmes": ["vulcanus_eu", "minerva"],
                  "places": ["JP-13", "JP-27", "DE"]}, id="prefectures+country"),
    pytest.param({"year_from": 2014, "year_to": 2026, "fields": ["chemistry"],
                  "genders": ["F"]}, id="field+gender"),
    pytest.param({"year_from": 2018, "year_to": 2024, "host_sectors": ["machinery"]},
                 id="host-sector"),
]


@pytest.fixture(scope="module")
def raw(demo_engine) -> pd.DataFrame:  # noqa: ANN001
    """The whole (small) programme table, read once per backend for the reference sums."""
    return pd.read_sql(text("SELECT * FROM programme_application"), demo_engine)


def _apply(raw: pd.DataFrame, f: dict) -> pd.DataFrame:
    d = raw.assign(place=raw.prefecture.fillna(raw.country_code))
    mask = d.cycle_year.between(f["year_from"], f["year_to"])
    for key, col in (("sectors", "sector_code"), ("programmes", "programme"),
                     ("fields", "field_of_study"), ("places", "place"), ("genders", "gender"),
                     ("host_sectors", "host_sector")):
        if f.get(key):
            mask &= d[col].isin(f[key])
    return d[mask]


def _run(engine, fn, f: dict) -> pd.DataFrame:  # noqa: ANN001
    with engine.connect() as c:
        return fn(c, **f)


def _expected_breakdown(d: pd.DataFrame, col: str, name: str) -> pd.DataFrame:
    g = d.groupby(col).agg(applications=("status", "size"),
                           selected=("status", lambda s: int((s == "selected").sum())))
    g = g.reset_index().rename(columns={col: name})
    return g.sort_values(["applications", name], ascending=[False, True], ignore_index=True)


@pytest.mark.parametrize("f", CASES)
def test_applications_by_year_matches_pandas(demo_engine, raw, f) -> None:  # noqa: ANN001
    got = _run(demo_engine, q.applications_by_year, f)
    d = _apply(raw, f)
    assert not d.empty, "the case should select some demo rows"
    exp = d.groupby("cycle_year").agg(
        applications=("status", "size"),
        shortlisted=("status", lambda s: int(s.isin(["shortlisted", "selected"]).sum())),
        selected=("status", lambda s: int((s == "selected").sum()))).reset_index()
    assert got["year"].tolist() == exp["cycle_year"].tolist()
    for col in ("applications", "shortlisted", "selected"):
        assert got[col].tolist() == exp[col].tolist(), col
    assert got["selection_rate"].tolist() == pytest.approx(
        (exp["selected"] / exp["applications"]).tolist())


@pytest.mark.parametrize("f", CASES)
@pytest.mark.parametrize("fn,col,name", [
    (q.applicants_by_field, "field_of_study", "field"),
    (q.applicants_by_place, "place", "place"),
])
def test_breakdowns_match_pandas(demo_engine, raw, f, fn, col, name) -> None:  # noqa: ANN001
    got = _run(demo_engine, fn, f)
    exp = _expected_breakdown(_apply(raw, f), col, name)
    assert got[name].tolist() == exp[name].tolist()
    assert got["applications"].tolist() == exp["applications"].tolist()
    assert got["selected"].tolist() == exp["selected"].tolist()
    assert got["selection_rate"].tolist() == pytest.approx(
        (exp["selected"] / exp["applications"]).tolist())


@pytest.mark.parametrize("f", CASES)
def test_gender_counts_only_given_genders(demo_engine, raw, f) -> None:  # noqa: ANN001
    got = _run(demo_engine, q.applicants_by_gender, f)
    d = _apply(raw, f)
    exp = _expected_breakdown(d[d.gender.notna()], "gender", "gender")
    assert got["gender"].tolist() == exp["gender"].tolist()
    assert got["applications"].tolist() == exp["applications"].tolist()
    assert got["selected"].tolist() == exp["selected"].tolist()
    # the demo leaves some genders blank: they are not counted as a category
    assert got["applications"].sum() <= len(d)


@pytest.mark.parametrize("f", CASES)
def test_hosts_by_sector_matches_pandas(demo_engine, raw, f) -> None:  # noqa: ANN001
    got = _run(demo_engine, q.hosts_by_sector, f)
    d = _apply(raw, f)
    sel = d[(d.status == "selected") & d.host_sector.notna()]
    exp = (sel.groupby("host_sector").size().rename("placements").reset_index()
           .sort_values(["placements", "host_sector"], ascending=[False, True],
                        ignore_index=True))
    assert got["host_sector"].tolist() == exp["host_sector"].tolist()
    assert got["placements"].tolist() == exp["placements"].tolist()
    assert got["share"].sum() == pytest.approx(1.0)


def test_places_split_prefectures_from_countries(demo_engine, raw) -> None:  # noqa: ANN001
    f = {"year_from": 2014, "year_to": 2026}
    got = _run(demo_engine, q.applicants_by_place, f)
    # Vulcanus in Europe applicants are Japanese with a prefecture: they appear per
    # prefecture, and a bare 'JP' appears only for Japanese rows without one.
    prefs = got[got.place.str.startswith("JP-")]
    assert len(prefs) > 5
    jp_rows = raw[raw.country_code == "JP"]
    assert prefs.applications.sum() == jp_rows.prefecture.notna().sum()
    only_tokyo = _run(demo_engine, q.applications_by_year, {**f, "places": ["JP-13"]})
    assert only_tokyo.applications.sum() == (raw.prefecture == "JP-13").sum()
    only_jp = _run(demo_engine, q.applications_by_year, {**f, "places": ["JP"]})
    assert only_jp.applications.sum() == ((raw.country_code == "JP")
                                          & raw.prefecture.isna()).sum()


@pytest.mark.parametrize("fn", FUNCS)
def test_no_match_gives_empty_frame(demo_engine, fn) -> None:  # noqa: ANN001
    # Minerva started in 2015: 2014 has no Minerva applications at all
    got = _run(demo_engine, fn, {"year_from": 2014, "year_to": 2014,
                                 "programmes": ["minerva"]})
    assert got.empty
    got = _run(demo_engine, fn, {"year_from": 2014, "year_to": 2026,
                                 "fields": ["__none__"]})
    assert got.empty


@pytest.mark.parametrize("fn", FUNCS)
def test_empty_database_gives_empty_frames(engine, fn) -> None:  # noqa: ANN001
    with engine.connect() as c:
        got = fn(c, year_from=2014, year_to=2026)
    assert got.empty
    assert len(got.columns) >= 2


def test_in_memory_applications_follow_every_change(engine) -> None:  # noqa: ANN001
    """The applications are kept in memory between callbacks: new rows, and a changed row
    with its data-version bump (what an import does), show at the next read."""
    from sqlalchemy import insert, update
    from sqlalchemy.orm import Session

    from data_access.db import bump_data_version
    from data_access.models import ProgrammeApplication as PA

    def add(rows: list[tuple[str, str]]) -> None:
        with engine.begin() as c:
            c.execute(insert(PA), [
                {"external_id": ext, "programme": "vulcanus_jp", "cycle_year": 2022,
                 "country_code": "FR", "prefecture": None, "field_of_study": "mechanical",
                 "gender": "F", "status": status, "sector_code": "machinery",
                 "host_sector": "machinery" if status == "selected" else None}
                for ext, status in rows])

    def by_year() -> list[tuple[int, int, int]]:
        with engine.connect() as c:
            df = q.applications_by_year(c, year_from=2020, year_to=2024)
        return list(zip(df.year, df.applications, df.selected, strict=True))

    add([("a1", "applied"), ("a2", "selected")])
    assert by_year() == [(2022, 2, 1)]
    add([("a3", "applied")])
    assert by_year() == [(2022, 3, 1)]
    with engine.begin() as c:  # same rows, one changed: the data version tells
        c.execute(update(PA).where(PA.external_id == "a3")
                  .values(status="selected", host_sector="machinery"))
        with Session(bind=c) as s:
            bump_data_version(s)
            s.flush()
    assert by_year() == [(2022, 3, 2)]
    with engine.connect() as c:
        hosts = q.hosts_by_sector(c, year_from=2022, year_to=2022)
    assert hosts.placements.tolist() == [2]
