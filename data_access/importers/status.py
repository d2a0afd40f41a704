"""What the Data page shows about the database: rows per family (real and demo), the import
log, and removing the demo data once real data is loaded."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.orm import Session

from data_access import audit
from data_access.audit import Actor
from data_access.models import (
    EpaUtilisation,
    HelpdeskEnquiry,
    ImportLog,
    ProgrammeApplication,
    ResearchParticipation,
    ResearchProject,
    TechDeal,
    TechOffer,
)

# (family, table label, model) in the order the Data page lists them
FAMILY_TABLES = (
    ("programmes", "Programme applications", ProgrammeApplication),
    ("helpdesk", "Help-desk enquiries", HelpdeskEnquiry),
    ("techoffers", "Technology offers and requests", TechOffer),
    ("techdeals", "Technology transfer deals", TechDeal),
    ("cordis", "Research projects", ResearchProject),
    ("cordis", "Research participations", ResearchParticipation),
    ("epa", "EPA utilisation", EpaUtilisation),
)
LOG_COLUMNS = ["id", "started_at", "finished_at", "family", "file_name", "sha256", "rows_read",
               "rows_inserted", "rows_updated", "rows_refused", "outcome", "message", "actor"]


def family_counts(conn: Connection) -> pd.DataFrame:
    """Rows per table: family, table, rows, demo_rows, real_rows, last_import."""
    last = dict(conn.execute(
        select(ImportLog.family, func.max(ImportLog.finished_at))
        .where(ImportLog.outcome == "committed").group_by(ImportLog.family)).all())
    out = []
    for family, label, model in FAMILY_TABLES:
        total, demo = conn.execute(select(
            func.count(), func.coalesce(func.sum(case((model.is_demo.is_(True), 1), else_=0)), 0)
        ).select_from(model)).one()
        out.append({"family": family, "table": label, "rows": int(total),
                    "demo_rows": int(demo), "real_rows": int(total) - int(demo),
                    "last_import": last.get(family)})
    return pd.DataFrame(out, columns=["family", "table", "rows", "demo_rows", "real_rows",
                                      "last_import"])


def import_log(conn: Connection, *, limit: int = 50) -> pd.DataFrame:
    """The newest import-log rows first."""
    rows = conn.execute(select(*(getattr(ImportLog, c) for c in LOG_COLUMNS))
                        .order_by(ImportLog.id.desc()).limit(limit)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=LOG_COLUMNS)


def has_real_data(conn: Connection) -> bool:
    """True when any fact table holds an imported (non-demo) row."""
    return any(conn.execute(select(model.id).where(model.is_demo.is_(False)).limit(1)).first()
               for _, _, model in FAMILY_TABLES)


def has_demo_data(conn: Connection) -> bool:
    """True when any fact table still holds a demo row."""
    return any(conn.execute(select(model.id).where(model.is_demo.is_(True)).limit(1)).first()
               for _, _, model in FAMILY_TABLES)


def remove_demo_data(engine: Engine, actor: Actor | None = None) -> int:
    """Delete every demo row in one transaction (with the version bump, the after-load hook
    and a log row); returns how many rows went. Refuses while no real data is loaded, which
    would leave every page empty."""
    from data_access import summaries
    from data_access.db import bump_data_version
    from data_access.demo import _after_load, clear_demo

    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        if not has_real_data(conn):
            raise ValueError("No real data is loaded: removing the demo data would leave "
                             "every page empty")
        before = sum(conn.execute(select(func.count()).select_from(m)
                                  .where(m.is_demo.is_(True))).scalar_one()
                     for _, _, m in FAMILY_TABLES)
        clear_demo(conn)
        with Session(bind=conn) as s:
            bump_data_version(s)
            who = actor or Actor.system()
            row = ImportLog(file_name="(demo data removed)", sha256="-", family="all",
                            rows_read=0, rows_inserted=0, rows_updated=0, rows_refused=0,
                            started_at=started,
                            finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                            outcome="demo removed", message=f"{before:,} demo rows deleted",
                            actor=who.name[:120])
            s.add(row)
            s.flush()
            audit.add(s, who, "demo_removed", target="demo data", import_log_id=row.id,
                      detail={"rows": before})
        _after_load(conn)
    summaries.tidy(engine)  # (after the commit)
    return before
