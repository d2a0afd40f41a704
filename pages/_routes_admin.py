"""`/admin/audit.csv`: the audit trail (admins only, by `pages._access.guard`) as a CSV file,
formula-neutralised like every export, for the filters in the query string."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, request

from components import export as ex
from components.i18n import t
from data_access import audit, service
from pages._access import require
from pages._state import current_lang

AUDIT_COLUMNS = (("id", "Id"), ("at", "When (UTC)"), ("actor", "Who"), ("action", "Action"),
                 ("target", "On"), ("outcome", "Outcome"), ("detail", "Details"),
                 ("address", "Address"), ("import_log_id", "Import log id"))


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_csv() -> Response:
    """Every audit row matching the query's filters, newest first."""
    who = require("admin")
    lang = current_lang(request.query_string.decode("ascii", "replace"))
    args = request.args
    f = audit.AuditFilter(actor=args.get("actor", "")[:120], action=args.get("action", "")[:40],
                          outcome=args.get("outcome", "") if args.get("outcome") in
                          audit.OUTCOMES else "",
                          day_from=_day(args.get("from")), day_to=_day(args.get("to")))
    rows = service.read(audit.events, f=f, limit=None)
    columns = ex.make_columns([(c, t(h, lang)) for c, h in AUDIT_COLUMNS], {}, lang=lang)
    body = ex.csv_bytes(rows, columns)
    with service.transaction() as s:
        audit.add(s, who, "audit_exported", target="audit.csv",
                  detail={"rows": len(rows), **{k: v for k, v in args.items()}})
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             ex.content_disposition(f"audit-trail_{stamp}.csv")})


def register_routes(server: Any) -> None:
    """Add the admin download route to the Flask server."""
    server.add_url_rule("/admin/audit.csv", "admin_audit_csv", audit_csv)
