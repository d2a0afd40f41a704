"""Checks and imports of uploaded files, run as background processes.

A web request never validates or imports a file itself: it stages the upload
(data_access.staging), `submit`s a job and returns. The job runs in its own process
(`python -m data_access.jobs run <id>`, started by `dispatch`), at a lower CPU priority, with a
memory and a time limit, so a huge or hostile file costs that process, not the web workers
that answer every other reader. At most JOBS_MAX_RUNNING run at once; the rest wait
("queued") and start when one ends (the ending job and every status poll call `dispatch`).

The page polls `view(...)`: status, phase, progress and, at the end, the report. Progress is
written to `<upload dir>/jobs/<id>.json` rather than to the database, so that an import's own
transaction (SQLite allows one writer) is never waited on by its progress.

Cancelling: a queued job is marked cancelled; a running one is asked to stop (a flag file
and SIGTERM). While it reads and checks the file (nothing written yet) it stops at once;
once it writes, it stops at the next progress step and its transaction is rolled back; the
commit itself is not interrupted. A job whose process died (killed, out of memory) or ran
past JOB_TIMEOUT_MINUTES is marked failed by the next `dispatch`.

One import job per staged upload: its id is `imp-<token>`, so a second Confirm (a double
click, another tab, another worker) finds the first instead of importing twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data_access import audit
from data_access.audit import Actor
from data_access.models import Job
from data_access.settings import ROOT, Settings
from data_access.staging import Area

log = logging.getLogger("dashboard.jobs")
ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
PROGRESS_EVERY_S = 0.3
# Settings a job process needs from the app that started it (tests configure apps in code).
PASSED_SETTINGS = ("DATABASE_URL", "MAX_UPLOAD_MB", "MAX_IMPORT_ROWS", "JOBS_MAX_RUNNING",
                   "JOB_MEMORY_MB", "JOB_TIMEOUT_MINUTES", "STAGED_PER_USER",
                   "STAGED_TOTAL_MB")


class JobCancelled(BaseException):
    """Raised inside a job process when it was asked to stop (a BaseException, so no
    `except Exception` in the importers swallows it; transactions roll back)."""


def now() -> dt.datetime:
    """UTC now without a time zone (how every timestamp is stored)."""
    return audit.now()


@dataclass
class JobView:
    """What the Data page shows of a job."""

    id: str
    kind: str
    status: str
    family: str
    token: str | None
    phase: str = ""
    fraction: float | None = None
    seconds: float = 0.0
    result: dict[str, Any] | None = None
    message: str = ""
    queued_behind: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """True once the job will change no more."""
        return self.status in FINISHED


# ---- progress files -----------------------------------------------------------------------
def _jobs_dir(area: Area) -> Path:
    d = area.root / "jobs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_progress(area: Area, job_id: str, phase: str, fraction: float | None = None) -> None:
    """Record a running job's phase (an English key) and progress (0–1 or None)."""
    path = _jobs_dir(area) / f"{job_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"phase": phase, "fraction": fraction, "at": time.time()}))
    tmp.replace(path)


def read_progress(area: Area, job_id: str) -> dict[str, Any]:
    """A job's last recorded phase and progress ({} when none yet)."""
    try:
        return json.loads((_jobs_dir(area) / f"{job_id}.json").read_text())
    except (OSError, ValueError):
        return {}


def _cancel_flag(area: Area, job_id: str) -> Path:
    return _jobs_dir(area) / f"{job_id}.cancel"


# ---- submitting, watching, cancelling (the web side) -----------------------------------------
def submit(engine: Engine, settings: Settings, *, kind: str, family: str, token: str,
           actor: Actor, params: dict[str, Any] | None = None) -> tuple[str, bool]:
    """Queue a check or an import of a staged upload and start it if a slot is free; returns
    (job id, True when this request made it). An import of an upload that already has an
    import job returns that job."""
    if kind not in ("check", "import"):
        raise ValueError(f"unknown job kind {kind!r}")
    job_id = f"imp-{token}" if kind == "import" else f"chk-{uuid.uuid4().hex}"
    row = Job(id=job_id, kind=kind, status="queued", family=family, token=token,
              actor=actor.name[:120], user_id=actor.user_id, address=actor.address,
              params=json.dumps(params or {}), created_at=now())
    try:
        with Session(engine) as s, s.begin():
            s.add(row)
    except IntegrityError:
        return job_id, False
    dispatch(engine, settings)
    return job_id, True


def view(engine: Engine, settings: Settings, job_id: str) -> JobView | None:
    """A job's state for the page (and a `dispatch`, so waiting jobs start)."""
    dispatch(engine, settings)
    with Session(engine) as s:
        job = s.get(Job, job_id)
        if job is None:
            return None
        ahead = 0
        if job.status == "queued":
            ahead = len(s.scalars(select(Job.id).where(Job.status.in_(ACTIVE),
                                                       Job.created_at < job.created_at)).all())
    area = Area.from_settings(settings)
    prog = read_progress(area, job.id) if job.status == "running" else {}
    started = job.started_at or job.created_at
    end = job.finished_at or now()
    return JobView(job.id, job.kind, job.status, job.family, job.token,
                   phase=prog.get("phase", ""), fraction=prog.get("fraction"),
                   seconds=max(0.0, (end - started).total_seconds()),
                   result=json.loads(job.result) if job.result else None,
                   message=job.message or "", queued_behind=ahead)


def cancel(engine: Engine, settings: Settings, job_id: str, actor: Actor) -> str:
    """Ask a job to stop; returns its status after the request."""
    with Session(engine) as s, s.begin():
        job = s.get(Job, job_id)
        if job is None or job.status in FINISHED:
            return job.status if job else "gone"
        if job.status == "queued":
            job.status, job.finished_at = "cancelled", now()
            audit.add(s, actor, "import_cancelled", target=job.family,
                      detail={"job": job.id, "kind": job.kind, "while": "queued"})
            return "cancelled"
        pid = job.pid
    _cancel_flag(Area.from_settings(settings), job_id).touch()
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    return "running"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive (its parent has not collected it yet)
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _reap(engine: Engine, settings: Settings) -> None:
    """Mark running jobs whose process is gone, or that ran too long, as failed."""
    limit = dt.timedelta(minutes=settings.JOB_TIMEOUT_MINUTES)
    with Session(engine) as s, s.begin():
        for job in s.scalars(select(Job).where(Job.status == "running")).all():
            started = job.started_at or job.created_at
            if _alive(job.pid) and now() - started <= limit:
                continue
            if _alive(job.pid):
                try:
                    os.kill(job.pid or 0, signal.SIGKILL)
                except OSError:
                    pass
                job.message = "The check took too long and was stopped."
            else:
                job.message = ("The check stopped unexpectedly; the file may be too large to "
                               "process.")
            job.status, job.finished_at = "failed", now()
            audit.add(s, Actor(job.actor, job.user_id, job.address), f"{job.kind}_failed",
                      target=job.family, outcome="failed",
                      detail={"job": job.id, "reason": job.message})


def dispatch(engine: Engine, settings: Settings) -> list[str]:
    """Reap dead jobs, then start waiting ones while fewer than JOBS_MAX_RUNNING run;
    returns the ids started."""
    _reap(engine, settings)
    started: list[str] = []
    while True:
        with Session(engine) as s, s.begin():
            running = len(s.scalars(select(Job.id).where(Job.status == "running")).all())
            if running >= settings.JOBS_MAX_RUNNING:
                return started
            nxt = s.scalars(select(Job.id).where(Job.status == "queued")
                            .order_by(Job.created_at, Job.id).limit(1)).first()
            if nxt is None:
                return started
            claimed = s.execute(update(Job).where(Job.id == nxt, Job.status == "queued")
                                .values(status="running", started_at=now())).rowcount
        if claimed:
            pid = _spawn(nxt, settings)
            with Session(engine) as s, s.begin():
                s.execute(update(Job).where(Job.id == nxt, Job.pid.is_(None)).values(pid=pid))
            started.append(nxt)


def _limits(memory_mb: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        os.nice(10)  # the web workers come first
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return apply


def _spawn(job_id: str, settings: Settings) -> int:
    """Start the process that runs a job; returns its pid."""
    env = {**os.environ, **{k: str(getattr(settings, k)) for k in PASSED_SETTINGS},
           "UPLOAD_DIR": str(Area.from_settings(settings).root), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "DASHBOARD_NO_AUTOAPP": "1"}
    logs = _jobs_dir(Area.from_settings(settings)) / f"{job_id}.log"
    with open(logs, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "data_access.jobs", "run", job_id],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_limits(settings.JOB_MEMORY_MB))  # noqa: PLW1509
    # collect it when it ends (no zombie left behind by a long-lived web worker)
    threading.Thread(target=proc.wait, daemon=True, name=f"job-{job_id}").start()
    return proc.pid


# ---- running (the job process) ----------------------------------------------------------------
class _Runner:
    """One job in its own process: check or import the staged files, record the outcome."""

    def __init__(self, engine: Engine, settings: Settings, job: Job) -> None:
        self.engine, self.settings, self.job = engine, settings, job
        self.area = Area.from_settings(settings)
        self.actor = Actor(job.actor, job.user_id, job.address)
        self.interruptible = True  # nothing written yet: SIGTERM may stop it at once
        self.stop_asked = False
        self.last = 0.0

    def on_term(self, *_: Any) -> None:
        self.stop_asked = True
        if self.interruptible:
            raise JobCancelled

    def progress(self, message: str) -> None:
        """The importer's progress lines: phase and fraction; the place a stop is honoured."""
        self.interruptible = False  # from here on the import writes in a transaction
        if self.stop_asked or _cancel_flag(self.area, self.job.id).exists():
            raise JobCancelled
        frac = None
        words = message.replace(",", "").split()
        if "of" in words and words.index("of") > 0:
            try:
                i = words.index("of")
                frac = int(words[i - 1]) / max(1, int(words[i + 1]))
            except (ValueError, IndexError):
                frac = None
        if time.monotonic() - self.last >= PROGRESS_EVERY_S or frac == 1.0:
            self.last = time.monotonic()
            write_progress(self.area, self.job.id, "Writing to the database", frac)

    def files(self) -> list[Any]:
        from data_access.importers import InputFile

        paths = self.area.paths(self.job.token)
        if paths is None:
            raise FileNotFoundError("the upload has expired")
        # (read from the staged copy, known by the name the file had when it was uploaded)
        return [replace(InputFile.from_path(p, self.area.max_file_bytes), name=name)
                for name, p in paths]

    def run(self) -> tuple[str, dict[str, Any] | None, str]:
        """(status, report dict, message) of the job."""
        from data_access.importers import Limits, check, import_files, log_refusal

        params = json.loads(self.job.params or "{}")
        limits = Limits.from_settings(self.settings)
        write_progress(self.area, self.job.id, "Reading and checking the file")
        files = self.files()
        kwargs: dict[str, Any] = {}
        if params.get("encoding") and params["encoding"] != "auto":
            kwargs["encoding"] = params["encoding"]
        if self.job.kind == "check":
            report = check(self.engine, files, self.job.family, limits=limits, **kwargs)
            self.interruptible = False
            if not report.ok:
                log_refusal(self.engine, report, actor=self.actor)
                self.area.save_problems(self.job.token or "", report.problems_csv())
                self.area.forget_files(self.job.token or "")  # refused: nothing kept
            else:
                audit.record(self.engine, self.actor, "import_checked",
                             target=report.file_name[:300],
                             detail={"family": self.job.family, "rows_read": report.rows_read,
                                     "sha256": report.sha256, "job": self.job.id})
        else:
            report = import_files(self.engine, files, self.job.family, limits=limits,
                                  actor=self.actor, progress=self.progress, **kwargs)
            self.interruptible = False
            if report.outcome == "committed":
                self.area.drop(self.job.token or "")
            else:
                self.area.save_problems(self.job.token or "", report.problems_csv())
        return "done", report.to_dict(max_problems=500), ""


def _finish(engine: Engine, job_id: str, status: str, result: dict[str, Any] | None,
            message: str) -> None:
    with Session(engine) as s, s.begin():
        s.execute(update(Job).where(Job.id == job_id).values(
            status=status, result=json.dumps(result, default=str) if result else None,
            message=message[:300] or None, finished_at=now()))


def run(job_id: str, settings: Settings | None = None) -> int:
    """Run one job to its end (in the job process); returns the exit status."""
    from data_access.db import make_engine

    settings = settings or Settings.from_env()
    engine = make_engine(settings.DATABASE_URL)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            job = s.get(Job, job_id)
            if job is None or job.status != "running":
                return 2
            job.pid = os.getpid()
        runner = _Runner(engine, settings, job)
        signal.signal(signal.SIGTERM, runner.on_term)
        try:
            status, result, message = runner.run()
        except JobCancelled:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            status, result, message = "cancelled", None, ""
            audit.record(engine, runner.actor, "import_cancelled", target=job.family,
                         detail={"job": job.id, "kind": job.kind, "while": "running"})
        except FileNotFoundError:
            status, result, message = ("failed", None,
                                       "The upload has expired; please upload the file again.")
        except Exception:  # noqa: BLE001 - recorded with a reference, never shown raw
            ref = uuid.uuid4().hex[:8]
            log.exception("job %s failed (reference %s)", job_id, ref)
            status, result, message = "failed", None, f"ref:{ref}"
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _finish(engine, job_id, status, result, message)
        _cancel_flag(runner.area, job_id).unlink(missing_ok=True)
        dispatch(engine, settings)  # the next waiting job, if any
        return 0 if status == "done" else 1
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """`python -m data_access.jobs run <id>` (started by `dispatch`, not by people)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "run":
        sys.stderr.write("usage: python -m data_access.jobs run JOB_ID\n")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run(args[1])


if __name__ == "__main__":
    raise SystemExit(main())
