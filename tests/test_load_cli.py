"""`python -m data_access.load`: the same report as the Data page, and exit codes a scheduler
can act on (0 committed, 1 refused, 2 usage, 3 failed)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data_access.db import make_engine
from data_access.importers import InputFile, check
from data_access.load import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from data_access.models import HelpdeskEnquiry, ImportLog, ResearchParticipation
from data_access.settings import ROOT
from tests.import_corpus import HELPDESK_HEADER, cordis_fixture, helpdesk_rows, to_csv


def _count(url: str, model: type) -> int:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return conn.execute(select(func.count()).select_from(model)).scalar_one()
    finally:
        eng.dispose()


@pytest.fixture
def good(tmp_path: Path) -> Path:
    p = tmp_path / "enquiries.csv"
    p.write_bytes(to_csv(HELPDESK_HEADER, helpdesk_rows(12)))
    return p


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    rows = helpdesk_rows(4)
    rows[1][3] = "31/12/2024"
    p = tmp_path / "bad.csv"
    p.write_bytes(to_csv(HELPDESK_HEADER, rows, sep=";"))
    return p


def test_good_file_commits_and_exits_0(db_url: str, good: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(good), "--family", "helpdesk", "--database-url", db_url]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Outcome: COMMITTED" in out
    assert "12 rows read, 12 fine, 0 refused; 12 new, 0 updated, 0 unchanged" in out
    assert _count(db_url, HelpdeskEnquiry) == 12
    # again: nothing new
    assert main([str(good), "--family", "helpdesk", "--database-url", db_url]) == EXIT_OK
    assert "0 new, 0 updated, 12 unchanged" in capsys.readouterr().out


def test_refused_file_exits_1_with_the_same_report_as_the_page(
        db_url: str, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(bad), "--family", "helpdesk", "--database-url", db_url, "--quiet"])
    assert code == EXIT_REFUSED
    out = capsys.readouterr().out
    assert "bad.csv, row 3, column received_date, value '31/12/2024': Not a date in the form " \
           "YYYY-MM-DD" in out
    assert "separator ';'" in out and "Outcome: REFUSED: nothing was written." in out
    assert _count(db_url, HelpdeskEnquiry) == 0
    assert _count(db_url, ImportLog) == 1  # the refusal is logged
    # the page builds its report from the same object: same problem text
    page = check(None, [InputFile.from_path(bad)], "helpdesk")
    assert all(p.text() in out for p in page.problems)


def test_dry_run(db_url: str, good: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(good), "--family", "helpdesk", "--database-url", db_url,
                 "--dry-run"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "VALID: nothing written yet (dry run)" in out and "12 new" in out
    assert main([str(bad), "--family", "helpdesk", "--database-url", db_url,
                 "--dry-run"]) == EXIT_REFUSED
    assert _count(db_url, HelpdeskEnquiry) == 0 and _count(db_url, ImportLog) == 0


def test_usage_errors_exit_2(tmp_path: Path, good: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite'}"
    with pytest.raises(SystemExit) as e:
        main([str(good), "--family", "nonsense", "--database-url", url])
    assert e.value.code == EXIT_USAGE
    with pytest.raises(SystemExit) as e:
        main([str(good), str(good), "--family", "helpdesk", "--database-url", url])
    assert e.value.code == EXIT_USAGE
    assert main([str(tmp_path / "nope.csv"), "--family", "helpdesk",
                 "--database-url", url]) == EXIT_USAGE
    assert "No such file" in capsys.readouterr().err


def test_cordis_from_directory_zip_and_two_files(db_url: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fx = cordis_fixture(tmp_path / "cordis")
    assert main([str(tmp_path / "cordis"), "--family", "cordis", "--database-url",
                 db_url]) == EXIT_OK
    n = _count(db_url, ResearchParticipation)
    assert n > 0
    z = tmp_path / "cordis.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(fx.project_csv, "project.csv")
        zf.write(fx.organization_csv, "organization.csv")
    assert main([str(z), "--family", "cordis", "--database-url", db_url]) == EXIT_OK
    assert main([str(fx.organization_csv), str(fx.project_csv), "--family", "cordis",
                 "--database-url", db_url]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("Outcome: COMMITTED") == 3
    n_projects = len({o["projectID"] for o in fx.orgs if o["country"] == "JP"})
    assert f"0 new, 0 updated, {n + n_projects} unchanged" in out
    assert _count(db_url, ResearchParticipation) == n


def test_database_failure_exits_3(tmp_path: Path, good: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import data_access.importers.run as run_mod

    def boom(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("connection lost")

    monkeypatch.setattr(run_mod, "write", boom)
    url = f"sqlite:///{tmp_path / 'f.sqlite'}"
    assert main([str(good), "--family", "helpdesk", "--database-url", url]) == EXIT_FAILED
    assert _count(url, HelpdeskEnquiry) == 0


def test_module_entry_point_exit_status(tmp_path: Path, bad: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    r = subprocess.run([sys.executable, "-m", "data_access.load", str(bad), "--family",
                        "helpdesk", "--database-url", url], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == EXIT_REFUSED, r.stderr
    assert "row 3, column received_date" in r.stdout
    r = subprocess.run([sys.executable, "-m", "data_access.load", "--help"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--family" in r.stdout and "Exit status" in r.stdout
