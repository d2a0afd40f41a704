"""CORDIS project.csv + organization.csv, with CORDIS's quirks, imported and checked against
counts computed independently (pandas straight from the files), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from data_access.importers import InputFile, import_files
from data_access.models import ImportLog
from data_access.models import ResearchParticipation as RP
from data_access.models import ResearchProject as RPj
from tests.import_corpus import ORG_HEADER, PROJECT_HEADER, CordisFixture, cordis_fixture, to_csv


def _files(fx: CordisFixture) -> list[InputFile]:
    return [InputFile.from_path(fx.project_csv), InputFile.from_path(fx.organization_csv)]


def _expected(fx: CordisFixture) -> dict:
    """What the database must hold, read from the files with pandas, not with the importer."""
    org = pd.read_csv(fx.organization_csv, sep=";", dtype=str, keep_default_na=False)
    proj = pd.read_csv(fx.project_csv, sep=";", dtype=str, keep_default_na=False)
    jp = org[org["country"] == "JP"]

    def num(s: pd.Series) -> pd.Series:
        return pd.to_numeric(s.str.replace(",", ".", regex=False).replace("", None))

    kind = jp["activityType"].map({"HES": "university", "REC": "research", "PUB": "public",
                                   "OTH": "other"})
    kind = kind.where(jp["activityType"] != "PRC",
                      jp["SME"].map(lambda s: "sme" if s == "true" else "large"))
    jp_projects = proj[proj["id"].isin(jp["projectID"])]
    return {
        "participations": len(jp), "projects": jp["projectID"].nunique(),
        "ec_total": float(num(jp["ecContribution"]).sum()),
        "org_types": kind.value_counts().to_dict(),
        "roles": jp["role"].str.lower().map({"associatedpartner": "partner", "partner": "partner",
                                             "participant": "participant",
                                             "coordinator": "coordinator",
                                             "thirdparty": "thirdParty"}).value_counts().to_dict(),
        "total_cost": float(num(jp_projects["totalCost"]).sum()),
        "skipped": len(org) - len(jp) + len(proj) - len(jp_projects),
        "rows": len(org) + len(proj),
        "frameworks": jp_projects["frameworkProgramme"].value_counts().to_dict(),
    }


def _db(engine: Engine) -> dict:
    with engine.connect() as conn:
        return {
            "participations": conn.execute(select(func.count()).select_from(RP)).scalar_one(),
            "projects": conn.execute(select(func.count()).select_from(RPj)).scalar_one(),
            "ec_total": float(conn.execute(select(func.coalesce(
                func.sum(RP.ec_contribution), 0))).scalar_one()),
            "org_types": dict(conn.execute(select(RP.org_type, func.count())
                                           .group_by(RP.org_type)).all()),
            "roles": dict(conn.execute(select(RP.role, func.count()).group_by(RP.role)).all()),
            "total_cost": float(conn.execute(select(func.coalesce(
                func.sum(RPj.total_cost), 0))).scalar_one()),
            "frameworks": dict(conn.execute(select(RPj.framework, func.count())
                                            .group_by(RPj.framework)).all()),
        }


def test_cordis_import_matches_independent_counts(engine: Engine, tmp_path: Path) -> None:
    fx = cordis_fixture(tmp_path)
    exp = _expected(fx)
    report = import_files(engine, _files(fx), "cordis")
    assert report.outcome == "committed", report.to_text()
    got = _db(engine)
    assert got["participations"] == exp["participations"] > 20
    assert got["projects"] == exp["projects"]
    assert got["ec_total"] == pytest.approx(exp["ec_total"], rel=1e-9)
    assert got["total_cost"] == pytest.approx(exp["total_cost"], rel=1e-9)
    assert got["org_types"] == exp["org_types"]
    assert set(got["org_types"]) == {"university", "research", "sme", "large", "public", "other"}
    assert got["roles"] == exp["roles"]
    assert {"partner", "thirdParty"} <= set(got["roles"])
    assert got["frameworks"] == exp["frameworks"]
    assert report.rows_read == exp["rows"]
    assert report.rows_skipped == exp["skipped"]
    assert report.tables["research_project"].inserted == exp["projects"]
    assert report.tables["research_participation"].inserted == exp["participations"]
    roles = {f.role for f in report.files}
    assert roles == {"project", "organization"}
    assert all(f.separator == ";" for f in report.files)


def test_cordis_values_are_mapped(engine: Engine, tmp_path: Path) -> None:
    fx = cordis_fixture(tmp_path)
    assert import_files(engine, _files(fx), "cordis").outcome == "committed"
    with engine.connect() as conn:
        projects = {r.id: r for r in conn.execute(select(RPj.__table__))}
        parts = list(conn.execute(select(RP.__table__)))
    src = {p["id"]: p for p in fx.projects}
    for pid, row in projects.items():
        s = src[str(pid)]
        assert row.legal_basis == s["legalBasis"]
        # decimal commas: '1234,5' and '1234.5' are the same number
        assert row.total_cost == pytest.approx(float(s["totalCost"].replace(",", ".")))
        assert row.content_update == dt.datetime.fromisoformat(s["contentUpdateDate"])
        assert row.start_date == dt.date.fromisoformat(s["startDate"])
    by_legal = {r.legal_basis: (r.programme_part, r.sector_code, r.framework)
                for r in projects.values()}
    assert by_legal["HORIZON.2.5.1"] == ("HORIZON.2.5", "energy", "HORIZON")
    assert by_legal["H2020-EU.3.1.1."] == ("H2020-EU.3.1.", "health", "H2020")
    assert by_legal["H2020-EU.2.1.1."][1] == "ict"
    assert all(p.country_code == "JP" and p.is_demo is False for p in parts)
    names = {p.organisation_name for p in parts}
    # a name that would run as a spreadsheet formula is kept, but defused
    assert "'=HYPERLINK(\"x\") ASSOCIATION" in names
    sakura = {p.sme for p in parts if p.organisation_name == "SAKURA PHOTONICS KK"}
    assert sakura == {True}
    kansai = {p.org_type for p in parts if p.organisation_name == "KANSAI STARTUP GK"}
    assert kansai == {"large"}  # PRC with SME '' is not known to be an SME
    assert any(p.ec_contribution is None for p in parts)  # '' stays unknown, not 0


def test_cordis_from_a_zip_and_reimport_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    fx = cordis_fixture(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(fx.project_csv, "csv/project.csv")
        z.write(fx.organization_csv, "csv/organization.csv")
        z.writestr("csv/euroSciVoc.csv", "ignored")
    zipped = InputFile.from_bytes("cordis-HORIZONprojects-csv.zip", buf.getvalue())
    first = import_files(engine, [zipped], "cordis")
    assert first.outcome == "committed", first.to_text()
    assert [f.name for f in first.files] == ["cordis-HORIZONprojects-csv.zip/project.csv",
                                             "cordis-HORIZONprojects-csv.zip/organization.csv"]
    with engine.connect() as conn:
        log = conn.execute(select(ImportLog.__table__)).one()
    assert log.file_name == "cordis-HORIZONprojects-csv.zip"
    assert log.sha256 == hashlib.sha256(buf.getvalue()).hexdigest()
    again = import_files(engine, _files(fx), "cordis")
    assert again.outcome == "committed"
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged == first.inserted


def test_cordis_corrected_file_updates_only_what_changed(engine: Engine,
                                                         tmp_path: Path) -> None:
    fx = cordis_fixture(tmp_path)
    assert import_files(engine, _files(fx), "cordis").outcome == "committed"
    text = fx.organization_csv.read_text()
    target = next(o for o in fx.orgs if o["country"] == "JP" and o["ecContribution"])
    line = next(ln for ln in text.splitlines() if f'"{target["projectID"]}"' in ln
                and f'"{target["organisationID"]}"' in ln and f'"{target["role"]}"' in ln)
    fixed = line.replace(f'"{target["ecContribution"]}"', '"12345,5"')
    fx.organization_csv.write_text(text.replace(line, fixed))
    report = import_files(engine, _files(fx), "cordis")
    assert report.outcome == "committed", report.to_text()
    assert report.tables["research_participation"].updated == 1
    assert report.tables["research_project"].updated == 0
    assert report.inserted == 0
    with engine.connect() as conn:
        v = conn.execute(select(RP.ec_contribution).where(
            RP.project_id == int(target["projectID"]),
            RP.organisation_id == target["organisationID"])).scalars().all()
    assert 12345.5 in v


@pytest.mark.parametrize("mutation, expect", [
    ("drop_project", "is not in project.csv"),
    ("fp7", "Only Horizon 2020 (H2020) and Horizon Europe (HORIZON) projects"),
    ("bad_number", "Not a number"),
    ("bad_role", "Unknown role"),
])
def test_cordis_problems_refuse_and_leave_nothing(engine: Engine, tmp_path: Path,
                                                  mutation: str, expect: str) -> None:
    fx = cordis_fixture(tmp_path, reorder=False)
    jp = [o for o in fx.orgs if o["country"] == "JP"]
    projects = list(fx.projects)
    orgs = list(fx.orgs)
    if mutation == "drop_project":
        projects = [p for p in projects if p["id"] != jp[0]["projectID"]]
    elif mutation == "fp7":
        p = next(p for p in projects if p["id"] == jp[0]["projectID"])
        p["frameworkProgramme"] = "FP7"
    elif mutation == "bad_number":
        jp[1]["ecContribution"] = "12.345,67"
    elif mutation == "bad_role":
        jp[2]["role"] = "observer"
    fx.project_csv.write_bytes(to_csv(PROJECT_HEADER, [[p[h] for h in PROJECT_HEADER]
                                                       for p in projects], sep=";",
                                      quote_all=True))
    fx.organization_csv.write_bytes(to_csv(ORG_HEADER, [[o[h] for h in ORG_HEADER]
                                                        for o in orgs], sep=";",
                                           quote_all=True))
    report = import_files(engine, _files(fx), "cordis")
    assert report.outcome == "refused"
    assert any(expect in p.message for p in report.problems), report.to_text()
    p = next(p for p in report.problems if expect in p.message)
    assert p.row is not None and p.row >= 2 and p.file in ("project.csv", "organization.csv")
    assert _db(engine)["participations"] == 0 and _db(engine)["projects"] == 0


def test_cordis_needs_both_files(engine: Engine, tmp_path: Path) -> None:
    fx = cordis_fixture(tmp_path)
    report = import_files(engine, [InputFile.from_path(fx.project_csv)], "cordis")
    assert report.outcome == "refused"
    assert "organization.csv is missing" in report.problems[0].message


def test_cordis_missing_column(engine: Engine, tmp_path: Path) -> None:
    fx = cordis_fixture(tmp_path)
    org = pd.read_csv(fx.organization_csv, sep=";", dtype=str, keep_default_na=False)
    org = org.drop(columns=["role"])
    fx.organization_csv.write_text(org.to_csv(sep=";", index=False))
    report = import_files(engine, _files(fx), "cordis")
    assert report.outcome == "refused"
    p = report.problems[0]
    assert (p.file, p.row, p.column) == ("organization.csv", 1, "role")
    assert "Missing CORDIS column 'role'" in p.message
