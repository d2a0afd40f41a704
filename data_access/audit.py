"""The audit trail: who did what, to what, when, from where, and how it ended.

Rows are only ever added (`record`); the database refuses updates, and deletes of rows newer
than the retention cut-off (migration 0005's triggers). `purge` is the one place that
removes old rows, and only when AUDIT_RETENTION_DAYS is set.

Actions recorded (the `action` column):

| action | when |
|---|---|
| sign_in / sign_in_failed / sign_out / locked_out | local or single sign-on |
| session_expired | an idle session ended |
| password_changed / password_reset | by the user / by an admin or the CLI |
| user_created / user_role_changed / user_disabled / user_enabled | admin page or CLI |
| import_checked / _refused / _committed / _failed / _cancelled | Data page, `data_access.load` |
| demo_removed / demo_loaded | Data page / start-up and `./dev demo` |
| chart_pack_download / report_download | exports |
| forbidden / csrf_refused | a request the role or the CSRF check refused |
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.orm import Session

from data_access.models import AuditEvent, Meta

COLUMNS = ["id", "at", "actor", "action", "target", "outcome", "detail", "address",
           "import_log_id"]
OUTCOMES = ("ok", "denied", "failed")


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (id and name) or a process ("cli:alice", "system"), and from where."""

    name: str
    user_id: int | None = None
    address: str | None = None

    @classmethod
    def system(cls) -> Actor:
        """The dashboard itself (start-up work)."""
        return cls("system")

    @classmethod
    def cli(cls) -> Actor:
        """A command-line run: cli:<the operating-system account>."""
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(f"cli:{who}")


ANONYMOUS = Actor("anonymous")


def now() -> dt.datetime:
    """UTC now without a time zone (how every timestamp is stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _row(actor: Actor, action: str, target: str | None, outcome: str,
         detail: Mapping[str, Any] | None, import_log_id: int | None) -> AuditEvent:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    return AuditEvent(at=now(), user_id=actor.user_id, actor=actor.name[:120],
                      action=action[:40], target=(target or None) and target[:300],
                      outcome=outcome,
                      detail=json.dumps(dict(detail), ensure_ascii=False, default=str,
                                        sort_keys=True) if detail else None,
                      address=(actor.address or None) and actor.address[:64],
                      import_log_id=import_log_id)


def add(session: Session, actor: Actor, action: str, *, target: str | None = None,
        outcome: str = "ok", detail: Mapping[str, Any] | None = None,
        import_log_id: int | None = None) -> None:
    """Add an audit row to `session`'s transaction (committed with the change it records;
    flushed now, so a session bound to an outer connection does not drop it)."""
    session.add(_row(actor, action, target, outcome, detail, import_log_id))
    session.flush()


def record(bind: Engine | Connection, actor: Actor, action: str, *, target: str | None = None,
           outcome: str = "ok", detail: Mapping[str, Any] | None = None,
           import_log_id: int | None = None) -> None:
    """Write one audit row: in its own transaction on an Engine, or in the connection's."""
    if isinstance(bind, Connection):
        with Session(bind=bind) as s:
            add(s, actor, action, target=target, outcome=outcome, detail=detail,
                import_log_id=import_log_id)
        return
    with Session(bind) as s, s.begin():
        add(s, actor, action, target=target, outcome=outcome, detail=detail,
            import_log_id=import_log_id)


@dataclass(frozen=True)
class AuditFilter:
    """What the admin page asks of the trail: actor, action, outcome, a day range."""

    actor: str = ""
    action: str = ""
    outcome: str = ""
    day_from: dt.date | None = None
    day_to: dt.date | None = None


def _where(f: AuditFilter) -> list[Any]:
    cond: list[Any] = []
    if f.actor:
        cond.append(func.lower(AuditEvent.actor) == f.actor.strip().lower())
    if f.action:
        cond.append(AuditEvent.action == f.action)
    if f.outcome:
        cond.append(AuditEvent.outcome == f.outcome)
    if f.day_from:
        cond.append(AuditEvent.at >= dt.datetime.combine(f.day_from, dt.time()))
    if f.day_to:
        cond.append(AuditEvent.at < dt.datetime.combine(f.day_to + dt.timedelta(days=1),
                                                        dt.time()))
    return cond


def events(conn: Connection, f: AuditFilter = AuditFilter(), *, limit: int | None = 200,
           offset: int = 0) -> pd.DataFrame:
    """Audit rows matching `f`, newest first (every row with `limit=None`)."""
    q = (select(*(getattr(AuditEvent, c) for c in COLUMNS)).where(*_where(f))
         .order_by(AuditEvent.id.desc()).offset(offset))
    if limit is not None:
        q = q.limit(limit)
    return pd.DataFrame([tuple(r) for r in conn.execute(q).all()], columns=COLUMNS)


def count(conn: Connection, f: AuditFilter = AuditFilter()) -> int:
    """How many audit rows match `f`."""
    return int(conn.execute(select(func.count()).select_from(AuditEvent)
                            .where(*_where(f))).scalar_one())


def actions(conn: Connection) -> list[str]:
    """Every action name present in the trail, sorted (for the admin page's filter)."""
    return sorted(conn.execute(select(AuditEvent.action).distinct()).scalars())


def purge(engine: Engine, retention_days: int) -> int:
    """Delete audit rows older than `retention_days` (0 keeps everything); returns how many.

    The cut-off is written to app_meta in the same transaction: the database's trigger lets
    a delete through only for rows before it."""
    if retention_days <= 0:
        return 0
    cutoff = now() - dt.timedelta(days=retention_days)
    with Session(engine) as s, s.begin():
        stored = cutoff.isoformat(sep=" ")
        s.merge(Meta(key="audit_purge_before", value=stored))
        s.flush()
        gone = s.execute(delete(AuditEvent).where(AuditEvent.at < cutoff)).rowcount
        add(s, Actor.system(), "audit_purged", outcome="ok",
            detail={"before": stored, "rows": gone, "retention_days": retention_days})
    return int(gone or 0)
