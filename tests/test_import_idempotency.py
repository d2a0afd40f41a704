"""Natural keys make imports idempotent: the same file twice changes nothing, a corrected file
updates exactly the rows it corrects; each import is logged and bumps the data version."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import Engine, func, insert, select

from data_access.db import get_meta
from data_access.importers import (
    InputFile,
    family_counts,
    has_demo_data,
    has_real_data,
    import_files,
    import_log,
    remove_demo_data,
)
from data_access.models import EpaUtilisation, HelpdeskEnquiry, ImportLog
from tests.import_corpus import EPA_HEADER, HELPDESK_HEADER, epa_rows, helpdesk_rows, to_csv


def _hd(rows: list[list]) -> InputFile:
    return InputFile.from_bytes("enquiries.csv", to_csv(HELPDESK_HEADER, rows))


def _version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(get_meta(conn, "data_version", "0") or 0)


def test_same_file_twice_changes_nothing(engine: Engine) -> None:
    rows = helpdesk_rows(50)
    first = import_files(engine, [_hd(rows)], "helpdesk")
    assert (first.outcome, first.inserted, first.updated) == ("committed", 50, 0)
    v1 = _version(engine)
    second = import_files(engine, [_hd(rows)], "helpdesk")
    assert (second.outcome, second.inserted, second.updated, second.unchanged) == \
        ("committed", 0, 0, 50)
    assert _version(engine) == v1 + 1  # every committed import bumps the cache version
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(HelpdeskEnquiry)).scalar_one() == 50
        logs = conn.execute(select(ImportLog.__table__).order_by(ImportLog.id)).all()
    assert [(r.outcome, r.rows_read, r.rows_inserted, r.rows_updated) for r in logs] == \
        [("committed", 50, 50, 0), ("committed", 50, 0, 0)]
    assert logs[0].sha256 == hashlib.sha256(to_csv(HELPDESK_HEADER, rows)).hexdigest()
    assert logs[0].started_at <= logs[0].finished_at


def test_corrected_file_updates_only_the_corrected_rows(engine: Engine) -> None:
    rows = helpdesk_rows(20)
    import_files(engine, [_hd(rows)], "helpdesk")
    fixed = [list(r) for r in rows]
    fixed[3][5] = "energy" if fixed[3][5] != "energy" else "ict"  # sector corrected
    fixed[7][4] = "2025-12-01"  # answered date corrected
    fixed[7][3] = "2025-11-30"
    fixed += helpdesk_rows(2, start=100)  # two new enquiries
    report = import_files(engine, [_hd(fixed)], "helpdesk")
    assert (report.inserted, report.updated, report.unchanged) == (2, 2, 18)
    with engine.connect() as conn:
        row = conn.execute(select(HelpdeskEnquiry.__table__).where(
            HelpdeskEnquiry.external_id == fixed[7][0])).one()
    assert row.answered_date == dt.date(2025, 12, 1)


def test_epa_natural_key_and_demo_row_becomes_real(engine: Engine) -> None:
    with engine.begin() as conn:  # a demo row under the same natural key as a real one
        conn.execute(insert(EpaUtilisation), [{
            "year": 2019, "direction": "EU_JP", "member_state": "DE", "hs_section": "XVI",
            "sector_code": "machinery", "eligible_eur": 1000.0, "preferential_eur": 500.0,
            "is_demo": True}])
    rows = epa_rows()
    report = import_files(engine, [InputFile.from_bytes("epa.csv", to_csv(EPA_HEADER, rows))],
                          "epa")
    # same values, but it was demo data: replacing it is an update, honestly counted
    assert (report.inserted, report.updated) == (len(rows) - 1, 1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(EpaUtilisation)
                            .where(EpaUtilisation.is_demo.is_(True))).scalar_one() == 0
    again = import_files(engine, [InputFile.from_bytes("epa.csv", to_csv(EPA_HEADER, rows))],
                         "epa")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(rows))


def test_dry_run_writes_nothing_but_counts(engine: Engine) -> None:
    import_files(engine, [_hd(helpdesk_rows(5))], "helpdesk")
    v = _version(engine)
    report = import_files(engine, [_hd(helpdesk_rows(8))], "helpdesk", dry_run=True)
    assert (report.outcome, report.inserted, report.unchanged) == ("checked", 3, 5)
    assert _version(engine) == v
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ImportLog)).scalar_one() == 1


def test_failure_while_writing_rolls_back_and_is_logged(engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    import data_access.importers.run as run_mod

    import_files(engine, [_hd(helpdesk_rows(3))], "helpdesk")
    real_write = run_mod.write

    def write_then_fail(conn, p, progress=None):  # noqa: ANN001, ANN202
        real_write(conn, p, progress)
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_mod, "write", write_then_fail)
    report = import_files(engine, [_hd(helpdesk_rows(10))], "helpdesk")
    # the reader gets a reference, the server log the error with the same reference
    assert report.outcome == "failed" and "disk full" not in report.error
    ref = report.error.removeprefix("reference ")
    assert len(ref) == 8 and any(ref in r.getMessage() and r.exc_info
                                 and "disk full" in str(r.exc_info[1]) for r in caplog.records)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(HelpdeskEnquiry)).scalar_one() == 3
        last = conn.execute(select(ImportLog.__table__).order_by(ImportLog.id.desc())).first()
    assert last.outcome == "failed" and ref in last.message and "disk full" not in last.message


def test_status_and_removing_demo_data(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(EpaUtilisation), [{
            "year": 2020, "direction": "JP_EU", "member_state": "FR", "hs_section": "I",
            "sector_code": "agrifood", "eligible_eur": 10.0, "preferential_eur": 5.0,
            "is_demo": True}])
        assert has_demo_data(conn) and not has_real_data(conn)
    with pytest.raises(ValueError, match="No real data"):
        remove_demo_data(engine)
    import_files(engine, [_hd(helpdesk_rows(4))], "helpdesk")
    with engine.connect() as conn:
        counts = family_counts(conn).set_index("table")
        assert counts.loc["Help-desk enquiries", "real_rows"] == 4
        assert counts.loc["EPA utilisation", "demo_rows"] == 1
        assert counts.loc["Help-desk enquiries", "last_import"] is not None
    v = _version(engine)
    assert remove_demo_data(engine) == 1
    assert _version(engine) == v + 1
    with engine.connect() as conn:
        assert not has_demo_data(conn) and has_real_data(conn)
        log = import_log(conn)
    assert list(log["outcome"][:2]) == ["demo removed", "committed"]
    assert log["message"].iloc[0] == "1 demo rows deleted"


def test_an_import_vacuums_the_summary_tables_it_recounted(engine: Engine) -> None:
    """An import recounts summary rows (deletes and inserts): on PostgreSQL the old rows stay
    on disk as dead rows until a vacuum, and where autovacuum is off or behind the tables
    grew with every import and rebuild. The import vacuums them after its commit."""
    from sqlalchemy import text

    from data_access import summaries

    rows = helpdesk_rows(30)
    assert import_files(engine, [_hd(rows)], "helpdesk").outcome == "committed"
    fixed = [list(r) for r in rows]
    fixed[2][5] = "energy" if fixed[2][5] != "energy" else "ict"
    assert import_files(engine, [_hd(fixed)], "helpdesk").updated == 1
    with engine.connect() as conn:
        assert summaries.status(conn) is not None  # the summaries match the facts
        if engine.dialect.name != "postgresql":
            return  # (SQLite reuses freed pages by itself)
        stats = dict(conn.execute(text(
            "SELECT relname, last_vacuum FROM pg_stat_user_tables WHERE relname IN "
            "('helpdesk_cuboid', 'helpdesk_daily_summary')")).all())
    assert set(stats) == {"helpdesk_cuboid", "helpdesk_daily_summary"}
    assert all(v is not None for v in stats.values()), stats
