"""Research participation: Japanese participations in Horizon 2020 and Horizon Europe.

A participation is one row of `research_participation` with country JP; it is dated by its
project's start year. Organisations and projects are counted distinct. Organisation type is
the CORDIS activity type (HES, REC, PRC, PUB, OTH; a missing one counts as OTH).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Select, func, literal_column, select

from data_access.models import ResearchParticipation as R
from data_access.models import ResearchProject as P
from data_access.queries.common import (
    F64,
    I64,
    Coded,
    as_date,
    coded_rows,
    frame,
    group_index,
    most_first,
    rows_frame,
    where_in,
    where_sectors,
    year_bounds,
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


MEASURES = ["participations", "organisations", "projects", "ec_contribution"]
_TYPES = {"year": I64, "participations": I64, "organisations": I64, "projects": I64,
          "ec_contribution": F64}


# The Japanese participations are a few hundred rows that every chart groups by another
# column: kept in memory as integer codes (`common.coded_rows`, read once per data change),
# with their project's start year, sector, framework and part, and counted with numpy (no
# statement per chart; `_base` stays for the projects table).
_COLUMNS = ("project_id", "organisation_id", "country_code", "activity_type", "role",
            "ec_contribution")


def _participations(conn: Connection) -> Coded:
    def with_projects(cols: dict[str, tuple]) -> dict[str, tuple]:
        projects = {pid: rest for pid, *rest in conn.execute(
            select(P.id, P.start_date, P.sector_code, P.framework, P.programme_part))}
        none = (None, None, None, None)
        of = [projects.get(pid, none) for pid in cols["project_id"]]
        starts = [as_date(p[0]) for p in of]
        return {"year": tuple(d.year if d else None for d in starts),
                "start_date": tuple(starts),
                "sector_code": tuple(p[1] for p in of), "framework": tuple(p[2] for p in of),
                "programme_part": tuple(p[3] for p in of),
                "activity": tuple(a or "OTH" for a in cols["activity_type"])}
    return coded_rows(conn, R, _COLUMNS, with_projects)


def warm(conn: Connection) -> None:
    """Read the participations into memory now (at start, before gunicorn forks)."""
    _participations(conn)


def _matching(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str],
              frameworks: Sequence[str], parts: Sequence[str],
              activity_types: Sequence[str], roles: Sequence[str]) -> tuple[Coded, np.ndarray]:
    """The participations (in memory) and which of them match `_base`'s filters."""
    c = _participations(conn)
    d0, d1 = year_bounds(year_from, year_to)
    m = c.among("country_code", ["JP"])
    m &= c.where("start_date", lambda d: d is not None and d0 <= d <= d1)
    for col, wanted in (("sector_code", sectors), ("framework", frameworks),
                        ("programme_part", parts), ("activity", activity_types),
                        ("role", roles)):
        if wanted:
            m &= c.among(col, wanted)
    return c, m


def _grouped(c: Coded, m: np.ndarray, cols: Sequence[str]) -> list[tuple]:
    """Per group of `cols` among the rows `m`: its values, then participations, distinct
    organisations, distinct projects, EU contribution (missing as 0) and funded (> 0)."""
    rows = np.flatnonzero(m)
    if not len(rows):
        return []
    first, inverse = group_index([c.codes[col][rows] for col in cols])
    groups = len(first)
    ec = c.numbers("ec_contribution", rows)

    def distinct(col: str) -> np.ndarray:  # COUNT(DISTINCT col): missing values not counted
        width = len(c.values[col])
        codes = c.codes[col][rows]
        known = np.array([v is not None for v in c.values[col]], dtype=bool)[codes]
        pairs = np.unique(inverse[known] * width + codes[known])
        return np.bincount(pairs // width, minlength=groups)

    n = np.bincount(inverse, minlength=groups)
    orgs, projects = distinct("organisation_id"), distinct("project_id")
    money = np.bincount(inverse, weights=ec, minlength=groups)
    funded = np.bincount(inverse, weights=(ec > 0).astype(F64), minlength=groups)
    out = []
    for g, at in enumerate(first.tolist()):
        values = tuple(c.value_at(col, rows[at]) for col in cols)
        out.append((*values, int(n[g]), int(orgs[g]), int(projects[g]), float(money[g]),
                    int(funded[g])))
    return out


def _none_last(v: object) -> tuple:
    return (v is None, "" if v is None else v)


def participations_by_year(conn: Connection, *, year_from: int, year_to: int,
                           sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                           parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                           roles: Sequence[str] = ()) -> pd.DataFrame:
    """Japanese participations, distinct organisations and projects, EU EUR per start year."""
    c, m = _matching(conn, year_from=year_from, year_to=year_to, sectors=sectors,
                     frameworks=frameworks, parts=parts, activity_types=activity_types,
                     roles=roles)
    rows = sorted((r[:-1] for r in _grouped(c, m, ["year"])), key=lambda r: r[0])
    return rows_frame(rows, ["year", *MEASURES], _TYPES)


def participations_by_framework(conn: Connection, *, year_from: int, year_to: int,
                                sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                                parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                                roles: Sequence[str] = ()) -> pd.DataFrame:
    """The same measures per framework programme (H2020 against HORIZON)."""
    c, m = _matching(conn, year_from=year_from, year_to=year_to, sectors=sectors,
                     frameworks=frameworks, parts=parts, activity_types=activity_types,
                     roles=roles)
    rows = sorted((r[:-1] for r in _grouped(c, m, ["framework"])),
                  key=lambda r: _none_last(r[0]))
    return rows_frame(rows, ["framework", *MEASURES], _TYPES)


def contribution_by_year(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                         parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                         roles: Sequence[str] = ()) -> pd.DataFrame:
    """EU contribution (EUR) to Japanese participants per start year and framework.

    Columns year, framework, ec_contribution, funded (participations with a contribution
    above zero), participations. Unfunded participations count as EUR 0, not as missing.
    """
    c, m = _matching(conn, year_from=year_from, year_to=year_to, sectors=sectors,
                     frameworks=frameworks, parts=parts, activity_types=activity_types,
                     roles=roles)
    rows = sorted(((y, fw, money, funded, n)
                   for y, fw, n, _, _, money, funded in _grouped(c, m, ["year", "framework"])),
                  key=lambda r: (*_none_last(r[1]), r[0]))
    return rows_frame(rows, ["year", "framework", "ec_contribution", "funded", "participations"],
                      {**_TYPES, "funded": I64})


def _by(conn: Connection, col: str, name: str, **filters: Any) -> pd.DataFrame:
    c, m = _matching(conn, **filters)
    return rows_frame((r[:-1] for r in _grouped(c, m, [col])), [name, *MEASURES], _TYPES,
                      sort=most_first(1))


def participations_by_part(conn: Connection, *, year_from: int, year_to: int,
                           sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                           parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                           roles: Sequence[str] = ()) -> pd.DataFrame:
    """Measures per programme part (most participations first)."""
    return _by(conn, "programme_part", "programme_part", year_from=year_from, year_to=year_to,
               sectors=sectors, frameworks=frameworks, parts=parts,
               activity_types=activity_types, roles=roles)


def participations_by_activity(conn: Connection, *, year_from: int, year_to: int,
                               sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                               parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                               roles: Sequence[str] = ()) -> pd.DataFrame:
    """Measures per organisation type (CORDIS activity type)."""
    return _by(conn, "activity", "activity_type", year_from=year_from, year_to=year_to,
               sectors=sectors, frameworks=frameworks, parts=parts,
               activity_types=activity_types, roles=roles)


def participations_by_role(conn: Connection, *, year_from: int, year_to: int,
                           sectors: Sequence[str] = (), frameworks: Sequence[str] = (),
                           parts: Sequence[str] = (), activity_types: Sequence[str] = (),
                           roles: Sequence[str] = ()) -> pd.DataFrame:
    """Measures per role (coordinator, participant, partner, third party)."""
    return _by(conn, "role", "role", year_from=year_from, year_to=year_to, sectors=sectors,
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
