"""The Data page's builders as plain functions (hand-made reports and frames, empty cases
too), the page's upload decoding and staging, and its download routes."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pandas as pd
import pytest

from components.data_page import (
    demo_control,
    downloads,
    import_log_table,
    loaded_table,
    problem_text,
    problems_table,
    report_view,
    summary,
    verdict,
)
from data_access.importers import InputFile, check
from tests.import_corpus import HELPDESK_HEADER, helpdesk_rows, to_csv


def _walk(c: Any) -> list[Any]:
    out = [c]
    kids = getattr(c, "children", None)
    if isinstance(kids, (list, tuple)):
        for k in kids:
            out.extend(_walk(k))
    elif kids is not None and not isinstance(kids, (str, int, float)):
        out.extend(_walk(kids))
    return out


def _text(c: Any) -> str:
    return json.dumps(c.to_plotly_json(), default=lambda o: o.to_plotly_json()
                      if hasattr(o, "to_plotly_json") else str(o), ensure_ascii=False)


def _report(rows: list[list[str]], name: str = "x.csv") -> dict:
    return check(None, [InputFile.from_bytes(name, to_csv(HELPDESK_HEADER, rows))],
                 "helpdesk").to_dict()


def test_report_of_a_refused_file_lists_each_problem() -> None:
    rows = helpdesk_rows(4)
    rows[2][7] = "ZZ"
    rep = _report(rows)
    view = report_view(rep)
    v = next(c for c in _walk(view) if getattr(c, "id", None) == "data-verdict")
    assert v.to_plotly_json()["props"]["data-outcome"] == "refused"
    table = next(c for c in _walk(view) if getattr(c, "id", None) == "data-problems")
    cells = [c.children for c in _walk(table) if type(c).__name__ == "Td"]
    assert cells[:3] == ["x.csv", "4", "country"]
    assert "Unknown country code" in cells[4]
    assert '"data-stat": "refused"' in _text(view)


def test_report_of_a_valid_file_says_ready_and_shows_the_preview() -> None:
    view = report_view(_report(helpdesk_rows(3)))
    text = _text(view)
    assert "Ready to import" in text and "Preview: the first rows as read" in text
    assert "HD-000001" in text and "Problems" not in text


def test_summary_words_change_once_committed() -> None:
    rep = {"rows_read": 10, "rows_fine": 10, "rows_refused": 0, "inserted": 7, "updated": 3,
           "unchanged": 0, "outcome": "checked"}
    assert "To add" in _text(summary(rep))
    done = _text(summary({**rep, "outcome": "committed"}))
    assert "New" in done and "To add" not in done
    assert "Skipped (not Japan)" in _text(summary({**rep, "rows_skipped": 5}))


def test_problem_text_translates_and_fills_parameters() -> None:
    p = {"template": "Duplicate: the same {columns} as row {first}",
         "params": {"columns": "external_id", "first": 3}}
    assert problem_text(p) == "Duplicate: the same external_id as row 3"
    ja = problem_text(p, "ja")
    assert "3" in ja and "external_id" in ja and ja != problem_text(p)


def test_problems_table_caps_and_links_the_full_list() -> None:
    problems = [{"file": "f.csv", "row": i, "column": "c", "value": "v", "template": "Bad",
                 "params": {}} for i in range(2, 12)]
    t = problems_table({"problems": problems, "problem_count": 900}, max_rows=5,
                       full_report_href="/data-files/report/abc.csv")
    text = _text(t)
    assert "Showing the first 5 of 900 problems." in text
    assert "/data-files/report/abc.csv" in text
    assert problems_table({"problems": [], "problem_count": 0}) is None


def test_failed_and_committed_verdicts() -> None:
    failed = verdict({"outcome": "failed", "error": "OperationalError: gone", "ok": True})
    assert "rolled back" in _text(failed) and "OperationalError" in _text(failed)
    assert failed.to_plotly_json()["props"]["data-outcome"] == "failed"
    assert "every page shows it now" in _text(verdict({"outcome": "committed", "ok": True}))


def test_log_and_loaded_tables_including_empty() -> None:
    assert "No imports yet." in _text(import_log_table(pd.DataFrame()))
    df = pd.DataFrame([{
        "id": 1, "started_at": pd.Timestamp("2026-01-02 10:00"),
        "finished_at": pd.Timestamp("2026-01-02 10:01"), "family": "epa",
        "file_name": "epa.csv", "sha256": "ab" * 32, "rows_read": 1200, "rows_inserted": 1000,
        "rows_updated": 200, "rows_refused": 0, "outcome": "committed", "message": "ok"}])
    text = _text(import_log_table(df, family_labels={"epa": "EPA utilisation"}))
    assert "2026-01-02 10:01" in text and "EPA utilisation" in text and "1,200" in text
    assert '"data-outcome": "committed"' in text
    assert "No data" in _text(loaded_table(pd.DataFrame()))
    loaded = pd.DataFrame([{"family": "epa", "table": "EPA utilisation", "rows": 30,
                            "demo_rows": 10, "real_rows": 20, "last_import": None}])
    assert '"data-table-name": "EPA utilisation"' in _text(loaded_table(loaded))


@pytest.mark.parametrize("demo, real, enabled, says", [
    (0, 0, False, "No demo data is loaded"), (10, 0, False, "Load at least one file"),
    (10, 5, True, "10 demo rows and 5 rows of your own data")])
def test_demo_switch_only_offered_with_real_data(demo: int, real: int, enabled: bool,
                                                 says: str) -> None:
    c = demo_control(demo, real)
    switch = next(x for x in _walk(c) if getattr(x, "id", None) == "data-demo-switch")
    assert switch.disabled is (not enabled)
    assert switch.value is (demo > 0)
    assert says in _text(c)


def test_downloads_link_every_template() -> None:
    text = _text(downloads([("epa", "EPA utilisation"), ("helpdesk", "Help-desk enquiries")]))
    assert "/data-files/template/epa.xlsx" in text and "/data-files/template/helpdesk.csv" in text
    assert "/data-files/dictionary.xlsx" in text


# ---- staging, routes ---------------------------------------------------------------------
def _area(tmp_path, **kw: int):  # noqa: ANN001, ANN202
    from data_access.staging import Area

    return Area(tmp_path, kw.get("max_file_bytes", 1000), kw.get("per_user", 2),
                kw.get("total_bytes", 5000))


def test_staging_keeps_streams_on_disk_within_limits(tmp_path) -> None:  # noqa: ANN001
    from data_access.staging import StagingError

    area = _area(tmp_path)
    raw = to_csv(HELPDESK_HEADER, helpdesk_rows(2))
    token = area.stage([("../../etc/enquiries.csv", io.BytesIO(raw))], family="helpdesk",
                       owner="sakura", encoding="cp932")
    ((name, path),) = area.paths(token)
    assert name == "enquiries.csv" and path.read_bytes() == raw and path.parent.parent == tmp_path
    assert area.meta(token)["encoding"] == "cp932" and area.meta(token)["owner"] == "sakura"
    assert area.paths("../" + token) is None and area.paths("x" * 32) is None
    # too big: cut off while copying, nothing left behind
    before = set(tmp_path.iterdir())
    with pytest.raises(StagingError, match="larger than"):
        area.stage([("big.csv", io.BytesIO(b"x" * 1001))], family="helpdesk", owner="sakura")
    assert set(tmp_path.iterdir()) == before
    # at most two per account: the oldest goes
    t2 = area.stage([("b.csv", io.BytesIO(raw))], family="helpdesk", owner="sakura")
    t3 = area.stage([("c.csv", io.BytesIO(raw))], family="helpdesk", owner="sakura")
    assert area.paths(token) is None and area.paths(t2) and area.paths(t3)
    # a refused upload keeps its problem list, not its files
    area.save_problems(t3, b"problems")
    area.forget_files(t3)
    assert area.paths(t3) is None and area.problems(t3) == b"problems"
    area.drop(t2)
    assert area.paths(t2) is None


def test_a_full_staging_area_refuses_new_uploads(tmp_path) -> None:  # noqa: ANN001
    from data_access.staging import StagingError

    area = _area(tmp_path, per_user=5, total_bytes=1500)
    for who in ("a", "b"):
        area.stage([("f.csv", io.BytesIO(b"y" * 800))], family="epa", owner=who)
    with pytest.raises(StagingError, match="full"):
        area.stage([("g.csv", io.BytesIO(b"z"))], family="epa", owner="c")
    assert area.sweep(max_age=-1) == 2 and not list(tmp_path.glob("*/*.bin"))


def test_download_routes(tmp_path) -> None:  # noqa: ANN001
    from flask import Flask

    from data_access.settings import Settings
    from pages._routes_data import register_routes

    app = Flask("t")
    app.config["DASHBOARD_SETTINGS"] = Settings(UPLOAD_DIR=str(tmp_path), MAX_UPLOAD_MB=1)
    register_routes(app)
    assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024
    c = app.test_client()
    r = c.get("/data-files/template/helpdesk.csv")
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbfexternal_id,desk")
    assert "template-helpdesk.csv" in r.headers["Content-Disposition"]
    r = c.get("/data-files/template/epa.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(r.data), read_only=True)
    assert wb.sheetnames[0] == "data"
    assert c.get("/data-files/dictionary.xlsx").status_code == 200
    assert c.get("/data-files/template/secrets.csv").status_code == 404
    assert c.get("/data-files/template/epa.exe").status_code == 404
    assert c.get("/data-files/report/nothere.csv").status_code == 404
