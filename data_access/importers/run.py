"""Checking and committing an import: read, validate, compare, then write in ONE transaction.

- `check(...)` reads and validates the files and compares them with the database without
  writing anything (the Data page's preview, the CLI's --dry-run).
- `import_files(...)` does the same, then commits everything in one `engine.begin()` with
  the import-log row, the data-version bump (so cached pages refresh) and the after-load
  hook. A refused or failed import writes its log row in a separate transaction after the
  rollback, so the data tables are exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from data_access import audit
from data_access.audit import Actor
from data_access.importers import cordis
from data_access.importers.reader import (
    InputFile,
    Limits,
    check_size,
    read_csv,
    read_xlsx,
    sniff_kind,
)
from data_access.importers.report import ImportReport
from data_access.importers.schemas import FAMILIES
from data_access.importers.upsert import Plan, Progress, plan, write
from data_access.importers.validate import Batch, validate_table
from data_access.models import ImportLog

log = logging.getLogger(__name__)

FAMILY_KEYS: tuple[str, ...] = ("programmes", "helpdesk", "techoffers", "techdeals", "epa",
                                "cordis")
FAMILY_LABELS: dict[str, str] = {**{k: s.label for k, s in FAMILIES.items()},
                                 "cordis": "Research participation (CORDIS)"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def read_and_validate(files: Sequence[InputFile], family: str, limits: Limits, *,
                      today: dt.date | None = None) -> tuple[ImportReport, list[Batch]]:
    """Read the files and validate every row; no database involved."""
    if family not in FAMILY_KEYS:
        raise ValueError(f"unknown family {family!r}; use one of {', '.join(FAMILY_KEYS)}")
    report = ImportReport(family=family)
    report.uploads = [f.info() for f in files]
    if family == "cordis":
        project, org = cordis.open_tables(list(files), limits, report)
        if project is None or org is None:
            return report, []
        return report, cordis.validate_cordis(project, org, report, limits)
    if len(files) != 1:
        report.files.extend(f.info() for f in files)
        report.add(", ".join(f.name for f in files) or "(upload)", None, None, None,
                   "Upload exactly one file for this family ({n} were given)", n=len(files))
        return report, []
    f = files[0]
    if not check_size(f, limits, report):
        report.files.append(f.info())
        return report, []
    kind = sniff_kind(f, report)
    if kind is None:
        report.files.append(f.info())
        return report, []
    table = read_xlsx(f, limits, report) if kind == "xlsx" else read_csv(f, report)
    if table is None:
        if not report.files:
            report.files.append(f.info())
        return report, []
    batch = validate_table(table, FAMILIES[family], report, limits, today=today)
    if report.rows_read == 0 and not report.problems:
        report.add(f.name, None, None, None, "The file has a header row but no data rows")
    return report, [batch]


def _plans(conn, batches: Sequence[Batch], report: ImportReport) -> list[Plan]:  # noqa: ANN001
    plans = [plan(conn, b) for b in batches]
    report.tables = {p.batch.table: p.counts for p in plans}
    return plans


def touched_years(plans: Sequence[Plan]) -> set[int]:
    """The years of receipt of the help-desk enquiries an import writes: of its new rows,
    and of the changed rows before and after (their summaries are recounted)."""
    from data_access.queries.common import as_date

    years: set[int] = set()
    for p in plans:
        if p.batch.table == "helpdesk_enquiry":
            years |= {d.year for d in map(as_date, p.values("received_date")) if d}
    return years


def check(engine: Engine | None, files: Sequence[InputFile], family: str, *,
          limits: Limits | None = None, today: dt.date | None = None) -> ImportReport:
    """Validate and compare with the database, writing nothing (preview / dry run)."""
    report, batches = read_and_validate(files, family, limits or Limits.from_settings(),
                                        today=today)
    if engine is not None and batches and any(b.rows for b in batches):
        with engine.connect() as conn:
            _plans(conn, batches, report)
    report.outcome = "checked" if report.ok else "refused"
    return report


def _write_log(engine: Engine, report: ImportReport, started: dt.datetime,
               actor: Actor | None) -> None:
    """The log and audit rows of a refused/failed import, in their own transaction (after
    the rollback)."""
    try:
        with Session(engine) as s, s.begin():
            _log_and_audit(s, report, started, actor)
    except Exception:  # noqa: BLE001 - a log failure must not hide the import's own outcome
        log.exception("could not write the import log")


def log_refusal(engine: Engine, report: ImportReport, started: dt.datetime | None = None, *,
                actor: Actor | None = None) -> None:
    """Log a refused check (the Data page logs a refused upload, like the CLI does)."""
    report.outcome = "refused"
    _write_log(engine, report, started or _now(), actor)


def _log_and_audit(s: Session, report: ImportReport, started: dt.datetime,
                   actor: Actor | None) -> None:
    """Add the import-log row and its audit row to `s` (report.log_id is set)."""
    who = actor or Actor.system()
    row = ImportLog(file_name=report.file_name[:300], sha256=report.sha256[:64],
                    family=report.family, rows_read=report.rows_read,
                    rows_inserted=report.inserted if report.outcome == "committed" else 0,
                    rows_updated=report.updated if report.outcome == "committed" else 0,
                    rows_refused=report.rows_refused, started_at=started,
                    finished_at=_now(), outcome=report.outcome,
                    message=report.log_message(), actor=who.name[:120])
    s.add(row)
    s.flush()
    report.log_id = row.id
    audit.add(s, who, f"import_{report.outcome}", target=report.file_name[:300],
              outcome={"committed": "ok", "refused": "denied"}.get(report.outcome, "failed"),
              import_log_id=row.id,
              detail={"family": report.family, "rows_read": report.rows_read,
                      "inserted": row.rows_inserted, "updated": row.rows_updated,
                      "refused": report.rows_refused, "sha256": report.sha256})


def import_files(engine: Engine, files: Sequence[InputFile], family: str, *,
                 limits: Limits | None = None, dry_run: bool = False,
                 progress: Progress | None = None, today: dt.date | None = None,
                 log_refused: bool = True, actor: Actor | None = None) -> ImportReport:
    """Validate, then (unless refused or a dry run) commit the whole import atomically; the
    import-log and audit rows name `actor` (a user, "cli:…", or "system")."""
    started = _now()
    limits = limits or Limits.from_settings()
    if dry_run:
        return check(engine, files, family, limits=limits, today=today)
    report, batches = read_and_validate(files, family, limits, today=today)
    if not report.ok:
        if batches and any(b.rows for b in batches):
            with engine.connect() as conn:
                _plans(conn, batches, report)
        report.outcome = "refused"
        if log_refused:
            _write_log(engine, report, started, actor)
        return report
    if progress:
        progress(f"validated {report.rows_read:,} rows; writing")
    try:
        from data_access import summaries
        from data_access.db import bump_data_version
        from data_access.demo import _after_load

        with engine.begin() as conn:
            before = summaries.status(conn)  # were the summaries up to date before?
            plans = _plans(conn, batches, report)
            for p in plans:
                write(conn, p, progress)
            report.outcome = "committed"
            with Session(bind=conn) as s:
                bump_data_version(s)  # cache keys include it: every page sees the new data
                _log_and_audit(s, report, started, actor)
            _after_load(conn, before=before, years=touched_years(plans))
        summaries.tidy(engine)  # (after the commit)
    except Exception:  # noqa: BLE001 - reported, logged, and the transaction rolled back
        # the reader gets a reference to quote, never the exception's text (SQL, paths)
        ref = uuid.uuid4().hex[:8]
        log.exception("import of %s failed (reference %s)", report.file_name, ref)
        report.outcome = "failed"
        report.error = f"reference {ref}"
        report.log_id = None
        _write_log(engine, report, started, actor)
    return report
