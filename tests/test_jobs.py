"""Background checks and imports (data_access.jobs) on SQLite and PostgreSQL: they run in
their own processes, report progress and outcome, import once per upload, can be cancelled
without writing anything, wait their turn, and a job whose process died is marked failed."""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from data_access import audit, jobs
from data_access.audit import Actor
from data_access.models import AuditEvent, HelpdeskEnquiry, ImportLog
from data_access.settings import Settings
from data_access.staging import Area
from tests.conftest import wait_for
from tests.import_corpus import HELPDESK_HEADER, helpdesk_rows, to_csv

WHO = Actor("sakura", 2, "10.0.0.2")


def _settings(engine: Engine, tmp_path: Path, **kw: object) -> Settings:
    return Settings(DATABASE_URL=engine.url.render_as_string(hide_password=False),
                    UPLOAD_DIR=str(tmp_path / "uploads"), **kw)  # type: ignore[arg-type]


def _stage(settings: Settings, rows: list[list[str]], name: str = "e.csv") -> str:
    return Area.from_settings(settings).stage(
        [(name, io.BytesIO(to_csv(HELPDESK_HEADER, rows)))], family="helpdesk",
        owner="sakura")


def _wait(engine: Engine, settings: Settings, job_id: str, timeout: float = 120) -> jobs.JobView:
    def done() -> jobs.JobView | None:
        v = jobs.view(engine, settings, job_id)
        return v if v is not None and v.finished else None
    return wait_for(done, timeout=timeout, interval=0.2)


def _count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(HelpdeskEnquiry)).scalar_one())


def test_check_then_import_once_in_background_processes(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(engine, tmp_path)
    token = _stage(settings, helpdesk_rows(40))
    job, made = jobs.submit(engine, settings, kind="check", family="helpdesk", token=token,
                            actor=WHO)
    assert made and job.startswith("chk-")
    v = _wait(engine, settings, job)
    assert v.status == "done" and v.result["ok"] and v.result["rows_read"] == 40
    assert _count(engine) == 0  # a check writes nothing
    first, made1 = jobs.submit(engine, settings, kind="import", family="helpdesk",
                               token=token, actor=WHO)
    second, made2 = jobs.submit(engine, settings, kind="import", family="helpdesk",
                                token=token, actor=WHO)  # a double click
    assert first == second == f"imp-{token}" and made1 and not made2
    v = _wait(engine, settings, first)
    assert v.status == "done" and v.result["outcome"] == "committed"
    assert v.result["inserted"] == 40 and _count(engine) == 40
    assert Area.from_settings(settings).paths(token) is None  # committed: staging emptied
    with engine.connect() as c:
        actors = c.execute(select(ImportLog.actor)).scalars().all()
        trail = audit.events(c, limit=None)
    assert actors == ["sakura"]
    assert set(trail.action) == {"import_checked", "import_committed"}
    assert set(trail.address) == {"10.0.0.2"}


def test_a_refused_check_keeps_the_problems_not_the_file(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(engine, tmp_path)
    rows = helpdesk_rows(5)
    rows[3][7] = "ZZ"
    token = _stage(settings, rows)
    job, _ = jobs.submit(engine, settings, kind="check", family="helpdesk", token=token,
                         actor=WHO)
    v = _wait(engine, settings, job)
    assert v.status == "done" and not v.result["ok"] and v.result["problem_count"] == 1
    area = Area.from_settings(settings)
    assert area.paths(token) is None and b"country" in (area.problems(token) or b"")
    with engine.connect() as c:
        log = c.execute(select(ImportLog.outcome, ImportLog.actor)).one()
    assert tuple(log) == ("refused", "sakura")


def test_jobs_wait_their_turn_and_a_waiting_one_can_be_cancelled(engine: Engine,
                                                                   tmp_path: Path) -> None:
    settings = _settings(engine, tmp_path, JOBS_MAX_RUNNING=0)  # nothing may start
    token = _stage(settings, helpdesk_rows(3))
    job, _ = jobs.submit(engine, settings, kind="check", family="helpdesk", token=token,
                         actor=WHO)
    v = jobs.view(engine, settings, job)
    assert v is not None and v.status == "queued"
    assert jobs.cancel(engine, settings, job, WHO) == "cancelled"
    assert jobs.view(engine, settings, job).status == "cancelled"
    with engine.connect() as c:
        assert c.execute(select(AuditEvent.action)).scalars().all() == ["import_cancelled"]
    # once a slot is free, waiting jobs start by themselves
    open_settings = _settings(engine, tmp_path, JOBS_MAX_RUNNING=1)
    j2, _ = jobs.submit(engine, settings, kind="check", family="helpdesk", token=token,
                        actor=WHO)
    assert jobs.view(engine, settings, j2).status == "queued"
    assert _wait(engine, open_settings, j2).status == "done"


def test_cancelling_a_running_import_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(engine, tmp_path, MAX_IMPORT_ROWS=5_000_000)
    token = _stage(settings, helpdesk_rows(150_000))
    job, _ = jobs.submit(engine, settings, kind="import", family="helpdesk", token=token,
                         actor=WHO)
    wait_for(lambda: (jobs.view(engine, settings, job).status == "running"), timeout=30)
    time.sleep(1.0)
    assert jobs.cancel(engine, settings, job, WHO) == "running"
    v = _wait(engine, settings, job)
    assert v.status == "cancelled", (v.status, v.message)
    assert _count(engine) == 0
    with engine.connect() as c:
        assert "import_cancelled" in set(audit.events(c, limit=None).action)
        assert c.execute(select(func.count()).select_from(ImportLog)).scalar_one() == 0


def test_a_job_whose_process_died_is_marked_failed(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(engine, tmp_path, MAX_IMPORT_ROWS=5_000_000)
    token = _stage(settings, helpdesk_rows(150_000))
    job, _ = jobs.submit(engine, settings, kind="check", family="helpdesk", token=token,
                         actor=WHO)

    def pid() -> int | None:
        from sqlalchemy.orm import Session

        from data_access.models import Job

        with Session(engine) as s:
            return s.get(Job, job).pid
    p = wait_for(pid, timeout=30)
    os.kill(p, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    v = _wait(engine, settings, job)
    assert v.status == "failed" and "stopped unexpectedly" in v.message
    assert _count(engine) == 0


@pytest.mark.parametrize("kind", ["check"])
def test_an_expired_upload_fails_clearly(engine: Engine, tmp_path: Path, kind: str) -> None:
    settings = _settings(engine, tmp_path)
    token = _stage(settings, helpdesk_rows(3))
    Area.from_settings(settings).drop(token)
    job, _ = jobs.submit(engine, settings, kind=kind, family="helpdesk", token=token,
                         actor=WHO)
    v = _wait(engine, settings, job)
    assert v.status == "failed" and "expired" in v.message
