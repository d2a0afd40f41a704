"""Research participation: Japanese participations in Horizon 2020 and Horizon Europe.

A participation is one row of `research_participation` with country JP; it is dated by its
project's start year. Organisations and projects are counted distinct. Organisation type is
the CORDIS activity type (HES, REC, PRC, PUB, OTH; a missing one counts as OTH).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection, Select, case, func, literal_column, select

from data_access.models import ResearchParticipation as R
from data_access.models import ResearchProject as P
from data_access.queries.common import (
    F64,
    I64,
    frame,
    most_first,
    rows_frame,
    where_in,
    where_sectors,
    year_bounds,
    year_of,
)

# An inline literal, not a bound parameter: PostgreSQL must see the same expression in SELECT
# and GROUP BY, and two bound parameters would be two different expressions to it.
ACTIVITY = func.coalesce(R.activity_type, literal_column("'OTH'"))


def _base(stmt: Select, *, year_from: int, year_to: int, sectors: Sequence[str],
          frameworks: Sequence[str], parts: Sequence[str], activity_types: Sequence[str],
          roles: Sequence[str]) -> Select:
    d0, d1 = year_bounds(year_from, year_to)
    stmt = (stmt.select_from(R).join(P, P.id == R.project_id)
            .where(R.country_code == "JP", P.start_date.between(d0, d1)))
    stmt = where_sectors(stmt, P.sector_code, sectors)
    stmt = where_in(stmt, P.framework, frameworks)
    stmt = where_in(stmt, P.programme_part, parts)
    stmt = where_in(stmt, ACTIVITY, activity_types)
    return where_in(stmt, R.role, roles)


def _measures() -> tuple:
    return (func.count(R.id), func.count(func.distinct(R.organisation_id)),
            func.count(func.distinct(R.project_id)),
            func.coalesce(func.sum(R.ec_contribution), 0.0))


MEASURES = ["participations", "organisations", "projects", "ec_contribution"]
_TYPES = {"year": I64, "participations": I64, "organisations": I64, "projects": I64,
          "ec_contribution": F64}


def participations_by_year(conn: Connection, *, year_from: int, year_to: int,
                           sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                           parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                           roles: Sequence[str] = ()) -> pd.DataFrame:
    """Japanese participations, distinct organisations and projects, EU EUR per start year."""
    y = year_of(P.start_date)
    stmt = _base(select(y, *_measures()), year_from=year_from, year_to=year_to,
                 sectors=sectors, frameworks=frameworks, parts=parts,
                 activity_types=activity_types, roles=roles).group_by(y).order_by(y)
    return rows_frame(conn.execute(stmt), ["year", *MEASURES], _TYPES)


def participations_by_framework(conn: Connection, *, year_from: int, year_to: int,
                                sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                                parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                                roles: Sequence[str] = ()) -> pd.DataFrame:
    """The same measures per framework programme (H2020 against HORIZON)."""
    stmt = _base(select(P.framework, *_measures()), year_from=year_from, year_to=year_to,
                 sectors=sectors, frameworks=frameworks, parts=parts,
                 activity_types=activity_types, roles=roles)
    stmt = stmt.group_by(P.framework).order_by(P.framework)
    return rows_frame(conn.execute(stmt), ["framework", *MEASURES], _TYPES)


def contribution_by_year(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                         parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                         roles: Sequence[str] = ()) -> pd.DataFrame:
    """EU contribution (EUR) to Japanese participants per start year and framework.

    Columns year, framework, ec_contribution, funded (participations with a contribution
    above zero), participations. Unfunded participations count as EUR 0, not as missing.
    """
    y = year_of(P.start_date)
    funded = func.sum(case((R.ec_contribution > 0, 1), else_=0))
    stmt = _base(select(y, P.framework, func.coalesce(func.sum(R.ec_contribution), 0.0),
                        funded, func.count(R.id)),
                 year_from=year_from, year_to=year_to, sectors=sectors, frameworks=frameworks,
                 parts=parts, activity_types=activity_types, roles=roles)
    stmt = stmt.group_by(y, P.framework).order_by(P.framework, y)
    return rows_frame(conn.execute(stmt),
                      ["year", "framework", "ec_contribution", "funded", "participations"],
                      {**_TYPES, "funded": I64})


def _by(conn: Connection, col, name: str, **filters: object) -> pd.DataFrame:  # noqa: ANN001
    stmt = _base(select(col, *_measures()), **filters).group_by(col)
    return rows_frame(conn.execute(stmt), [name, *MEASURES], _TYPES, sort=most_first(1))


def participations_by_part(conn: Connection, *, year_from: int, year_to: int,
                           sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                           parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                           roles: Sequence[str] = ()) -> pd.DataFrame:
    """Measures per programme part (most participations first)."""
    return _by(conn, P.programme_part, "programme_part", year_from=year_from, year_to=year_to,
               sectors=sectors, frameworks=frameworks, parts=parts,
               activity_types=activity_types, roles=roles)


def participations_by_activity(conn: Connection, *, year_from: int, year_to: int,
                               sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                               parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                               roles: Sequence[str] = ()) -> pd.DataFrame:
    """Measures per organisation type (CORDIS activity type)."""
    return _by(conn, ACTIVITY, "activity_type", year_from=year_from, year_to=year_to,
               sectors=sectors, frameworks=frameworks, parts=parts,
               activity_types=activity_types, roles=roles)


def participations_by_role(conn: Connection, *, year_from: int, year_to: int,
                           sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                           parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                           roles: Sequence[str] = ()) -> pd.DataFrame:
    """Measures per role (coordinator, participant, partner, third party)."""
    return _by(conn, R.role, "role", year_from=year_from, year_to=year_to, sectors=sectors,
               frameworks=frameworks, parts=parts, activity_types=activity_types, roles=roles)


PROJECT_COLUMNS = ["project_id", "acronym", "title", "framework", "programme_part",
                   "start_date", "end_date", "organisations", "roles", "participations"]


def japanese_projects(conn: Connection, *, year_from: int, year_to: int,
                      sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                      parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                      roles: Sequence[str] = ()) -> pd.DataFrame:
    """One row per project with Japanese participants matching the filters (newest first).

    `organisations` lists the matching Japanese organisations as 'name (role)'; `roles` the
    distinct roles they hold; dates are ISO strings so a table sorts them correctly.
    """
    stmt = _base(select(P.id, P.acronym, P.title, P.framework, P.programme_part,
                        P.start_date, P.end_date, R.organisation_name, R.role),
                 year_from=year_from, year_to=year_to, sectors=sectors, frameworks=frameworks,
                 parts=parts, activity_types=activity_types, roles=roles)
    stmt = stmt.order_by(P.start_date.desc(), P.id, R.organisation_name)
    rows = frame(conn, stmt, ["project_id", "acronym", "title", "framework", "programme_part",
                              "start_date", "end_date", "organisation", "role"])
    if rows.empty:
        return pd.DataFrame(columns=PROJECT_COLUMNS)
    # Joining names into one cell is done here, not in SQL: string aggregation differs
    # between SQLite and PostgreSQL and is unordered in SQLite. The rows are already one per
    # Japanese participation (hundreds), so this stays small.
    rows["org_role"] = rows["organisation"] + " (" + rows["role"] + ")"
    keys = ["project_id", "acronym", "title", "framework", "programme_part", "start_date",
            "end_date"]
    out = (rows.groupby(keys, sort=False, dropna=False)
           .agg(organisations=("org_role", "; ".join),
                roles=("role", lambda s: ", ".join(sorted(set(s)))),
                participations=("org_role", "size"))
           .reset_index())
    for c in ("start_date", "end_date"):
        out[c] = out[c].map(lambda d: "" if d is None or pd.isna(d) else str(d)[:10])
    return out[PROJECT_COLUMNS]
