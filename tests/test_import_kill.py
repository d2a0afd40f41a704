"""All or nothing, even when the process dies: a command-line import is killed (SIGKILL, no
clean-up of any kind) half-way through writing, and the database is exactly as before —
on a SQLite file and on PostgreSQL. Then the same import runs to the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data_access.db import make_engine, upgrade_schema
from data_access.importers import InputFile, import_files
from data_access.models import HelpdeskEnquiry
from data_access.settings import ROOT
from tests.import_corpus import HELPDESK_HEADER, helpdesk_rows, to_csv
from tests.test_import_corpus import snapshot

N_ROWS = 200_000
# printed by the import once the first 50,000 rows are inside the open transaction (SQLite
# writes them in one executemany before asking for row 50,001; PostgreSQL streams COPY)
MIDWAY = f"50,000 of {N_ROWS:,} rows written"


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid help-desk file large enough to be killed while it is being written."""
    path = tmp_path_factory.mktemp("big") / "enquiries-big.csv"
    path.write_bytes(to_csv(HELPDESK_HEADER, helpdesk_rows(N_ROWS, prefix="BIG")))
    return path


def _cli(path: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "data_access.load", str(path), "--family", "helpdesk",
            "--database-url", url]


def test_killed_import_leaves_the_database_unchanged(db_url: str, big_csv: Path) -> None:
    engine = make_engine(db_url)
    upgrade_schema(engine)
    seeded = import_files(engine, [InputFile.from_bytes(
        "seed.csv", to_csv(HELPDESK_HEADER, helpdesk_rows(5, prefix="SEED")))], "helpdesk")
    assert seeded.outcome == "committed"
    before = snapshot(engine)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_cli(big_csv, db_url), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if MIDWAY in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    out = "".join(seen)
    assert MIDWAY in out, out
    assert proc.returncode == -signal.SIGKILL, out
    assert "COMMITTED" not in out
    assert snapshot(engine) == before
    # nothing half-done blocks the next run: the same import now completes
    done = subprocess.run(_cli(big_csv, db_url), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{N_ROWS:,} new" in done.stdout
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(HelpdeskEnquiry)
                            ).scalar_one() == N_ROWS + 5
    engine.dispose()
