"""The bad-file corpus: each file is refused with its own clear message (file, row, column),
and the database is exactly as it was, on SQLite and PostgreSQL. Odd-but-valid files
(BOM, CP932, ';', UTF-16, XLSX, decimal commas) are read and committed."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import Engine, select

from data_access.db import get_meta
from data_access.importers import InputFile, import_files
from data_access.importers.status import FAMILY_TABLES
from data_access.models import HelpdeskEnquiry, ImportLog
from tests.import_corpus import (
    BAD_CASES,
    EPA_HEADER,
    GOOD_CASES,
    HELPDESK_HEADER,
    JA_ROWS,
    Case,
    GoodCase,
    epa_rows,
    helpdesk_rows,
    to_csv,
)


def snapshot(engine: Engine) -> dict:
    """Every row of every fact table, plus the data version."""
    out = {}
    with engine.connect() as conn:
        for _, _, model in FAMILY_TABLES:
            t = model.__table__
            out[t.name] = sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
        out["data_version"] = get_meta(conn, "data_version", "0")
    return out


def seed(engine: Engine) -> None:
    """Real rows already in the database, so 'unchanged' means something."""
    for name, data, family in (
            ("seed.csv", to_csv(HELPDESK_HEADER, helpdesk_rows(3, prefix="SEED")), "helpdesk"),
            ("seed-epa.csv", to_csv(EPA_HEADER, epa_rows()[:4]), "epa")):
        r = import_files(engine, [InputFile.from_bytes(name, data)], family)
        assert r.outcome == "committed", r.to_text()


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda c: c.name)
def test_bad_file_is_refused_and_database_unchanged(engine: Engine, case: Case) -> None:
    seed(engine)
    before = snapshot(engine)
    data = case.build()
    report = import_files(engine, [InputFile.from_bytes(case.filename, data)], case.family,
                          limits=case.limits)
    assert report.outcome == "refused"
    assert not report.ok
    hits = [p for p in report.problems if case.expect in p.message]
    assert hits, f"expected {case.expect!r} in:\n{report.to_text()}"
    p = hits[0]
    assert p.file == case.filename
    if case.row is not None:
        assert p.row == case.row, p.text()
    if case.column is not None:
        assert p.column == case.column, p.text()
    # the report names the file, row and column in one line, as the CLI prints it
    assert p.text().startswith(case.filename)
    assert snapshot(engine) == before
    # the refused attempt is in the import log, written after the rollback
    with engine.connect() as conn:
        log = conn.execute(select(ImportLog.__table__).order_by(ImportLog.id.desc())).first()
    assert log.outcome == "refused"
    assert log.file_name == case.filename
    assert log.family == case.family
    assert log.sha256 == hashlib.sha256(data).hexdigest()
    assert log.rows_inserted == 0 and log.rows_updated == 0
    assert case.expect in (log.message or "") or len(report.problems) > 20


def test_every_problem_is_reported_not_just_the_first(engine: Engine) -> None:
    rows = helpdesk_rows(6)
    rows[0][3] = "2025-13-01"  # row 2: bad date
    rows[0][5] = "nanotech"  # row 2: unknown sector, same row
    rows[2][7] = "Atlantis"  # row 4: unknown country
    rows[4][1] = ""  # row 6: missing desk
    report = import_files(engine, [InputFile.from_bytes("many.csv",
                                                        to_csv(HELPDESK_HEADER, rows))],
                          "helpdesk")
    where = sorted((p.row, p.column) for p in report.problems)
    assert where == [(2, "received_date"), (2, "sector"), (4, "country"), (6, "desk")]
    assert report.rows_read == 6 and report.rows_refused == 3 and report.rows_fine == 3
    bad = next(p for p in report.problems if p.column == "country")
    assert bad.value == "Atlantis"


@pytest.mark.parametrize("case", GOOD_CASES, ids=lambda c: c.name)
def test_odd_but_valid_files_are_committed(engine: Engine, case: GoodCase) -> None:
    report = import_files(engine, [InputFile.from_bytes(case.filename, case.build())],
                          case.family)
    assert report.outcome == "committed", report.to_text()
    info = report.files[0]
    if case.encoding:
        assert info.encoding == case.encoding
    if case.separator:
        assert info.separator == case.separator
    assert report.rows_read == case.rows
    assert report.inserted == case.rows and report.updated == 0
    assert f"{case.rows} rows read" in report.summary_text()


def test_cp932_japanese_labels_map_to_codes(engine: Engine) -> None:
    report = import_files(engine, [InputFile.from_bytes(
        "sjis.csv", to_csv(HELPDESK_HEADER, JA_ROWS, encoding="cp932"))], "helpdesk")
    assert report.outcome == "committed", report.to_text()
    with engine.connect() as conn:
        row = conn.execute(select(HelpdeskEnquiry.__table__).where(
            HelpdeskEnquiry.external_id == "JA-1")).one()
    assert (row.desk, row.topic, row.sector_code, row.requester_type, row.country_code) == \
        ("epa", "rules_of_origin", "ict", "sme", "JP")
    assert row.received_date == dt.date(2025, 4, 1)
    assert row.is_demo is False


def test_cp932_problem_shows_the_japanese_value(engine: Engine) -> None:
    rows = [list(JA_ROWS[0])]
    rows[0][5] = "宇宙旅行"  # not a sector
    report = import_files(engine, [InputFile.from_bytes(
        "sjis.csv", to_csv(HELPDESK_HEADER, rows, encoding="cp932"))], "helpdesk")
    assert report.outcome == "refused"
    assert report.files[0].encoding == "Shift_JIS (CP932)"
    assert report.problems[0].value == "宇宙旅行"
    assert "column sector, value '宇宙旅行'" in report.to_text()


def test_epa_chapters_add_up_into_sections(engine: Engine) -> None:
    rows = [[2022, "EU_JP", "DE", 84, 100.0, 60.0], [2022, "EU_JP", "DE", "85", 50.0, 30.0],
            [2022, "EU_JP", "EL", "Section I", 10.0, 5.0]]
    report = import_files(engine, [InputFile.from_bytes("ch.csv", to_csv(EPA_HEADER, rows))],
                          "epa")
    assert report.outcome == "committed", report.to_text()
    assert report.inserted == 2
    from data_access.models import EpaUtilisation as U

    with engine.connect() as conn:
        got = {(r.member_state, r.hs_section): (r.eligible_eur, r.preferential_eur, r.sector_code)
               for r in conn.execute(select(U))}
    assert got == {("DE", "XVI"): (150.0, 90.0, "machinery"), ("GR", "I"): (10.0, 5.0,
                                                                             "agrifood")}


def test_epa_section_and_its_chapter_in_one_file_is_refused(engine: Engine) -> None:
    rows = [[2022, "EU_JP", "DE", "XVI", 100.0, 60.0], [2022, "EU_JP", "DE", 84, 50.0, 30.0]]
    report = import_files(engine, [InputFile.from_bytes("ch.csv", to_csv(EPA_HEADER, rows))],
                          "epa")
    assert report.outcome == "refused"
    p = report.problems[0]
    assert (p.row, p.column) == (3, "hs_section")
    assert "counted twice" in p.message


def test_xlsx_dates_and_numbers_from_typed_cells(engine: Engine) -> None:
    from tests.import_corpus import to_xlsx

    rows = [["X-1", "epa", "customs", dt.date(2025, 1, 2), dt.datetime(2025, 1, 3), "ict",
             "sme", "DE"]]
    report = import_files(engine, [InputFile.from_bytes("typed.xlsx",
                                                        to_xlsx(HELPDESK_HEADER, rows))],
                          "helpdesk")
    assert report.outcome == "committed", report.to_text()
    assert report.files[0].kind == "xlsx" and report.files[0].sheet == "data"
    with engine.connect() as conn:
        row = conn.execute(select(HelpdeskEnquiry.__table__)).one()
    assert row.answered_date == dt.date(2025, 1, 3)
