"""Mobility programmes: applications, shortlisted and selected, and who applies and is chosen.

Every function takes the same filters, so a click on one breakdown chart can narrow the
others: programmes (page filter), fields of study, places (EU/other country codes or
Japanese prefecture codes 'JP-13'), genders and host sectors (click selections). Empty
filter sequences mean "no restriction". The global sector filter is the sector of the field
of study (`sector_code`). Results are aggregated in SQL; nothing matching gives an empty frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Select, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from data_access.models import ProgrammeApplication as A
from data_access.queries.common import (
    F64,
    I64,
    most_first,
    rows_frame,
    where_in,
    where_sectors,
)

# Shortlisted includes those later selected: the stages are nested.
_SHORTLISTED = func.sum(case((A.status.in_(["shortlisted", "selected"]), 1), else_=0))
_SELECTED = func.sum(case((A.status == "selected", 1), else_=0))


def place_of() -> ColumnElement[str]:
    """Where an applicant comes from: the prefecture when known, else the country code."""
    return func.coalesce(A.prefecture, A.country_code)


def _where_places(stmt: Select, places: Sequence[str] | None) -> Select:
    if not places:
        return stmt
    prefs = [p for p in places if p.startswith("JP-")]
    countries = [p for p in places if not p.startswith("JP-")]
    conds = []
    if prefs:
        conds.append(A.prefecture.in_(prefs))
    if countries:
        # a country code matches only applicants without a finer prefecture code, so that
        # 'JP' and 'JP-13' keep meaning what the country chart shows
        conds.append(A.country_code.in_(countries) & A.prefecture.is_(None))
    return stmt.where(or_(*conds))


def _filtered(stmt: Select, *, year_from: int, year_to: int, sectors: Sequence[str],
              programmes: Sequence[str], fields: Sequence[str], places: Sequence[str],
              genders: Sequence[str], host_sectors: Sequence[str]) -> Select:
    stmt = stmt.where(A.cycle_year.between(year_from, year_to))
    stmt = where_sectors(stmt, A.sector_code, sectors)
    stmt = where_in(stmt, A.programme, programmes)
    stmt = where_in(stmt, A.field_of_study, fields)
    stmt = _where_places(stmt, places)
    stmt = where_in(stmt, A.gender, genders)
    return where_in(stmt, A.host_sector, host_sectors)


def _rate(selected: int, applications: int) -> float:
    return selected / applications if applications > 0 else float("nan")


_COUNTS = {"year": I64, "applications": I64, "shortlisted": I64, "selected": I64,
           "placements": I64, "selection_rate": F64, "share": F64}


def applications_by_year(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                         fields: Sequence[str] = (), places: Sequence[str] = (),
                         genders: Sequence[str] = (),
                         host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applications, shortlisted, selected and the selection rate per cycle year."""
    stmt = _filtered(select(A.cycle_year, func.count(), _SHORTLISTED, _SELECTED),
                     year_from=year_from, year_to=year_to, sectors=sectors,
                     programmes=programmes, fields=fields, places=places, genders=genders,
                     host_sectors=host_sectors)
    stmt = stmt.group_by(A.cycle_year).order_by(A.cycle_year)
    rows = [(y, a, sh, se, _rate(se, a)) for y, a, sh, se in conn.execute(stmt)]
    return rows_frame(rows, ["year", "applications", "shortlisted", "selected",
                             "selection_rate"], _COUNTS)


def _breakdown(conn: Connection, col: ColumnElement, name: str, *,
               extra_where: ColumnElement[bool] | None = None,
               **filters: Any) -> pd.DataFrame:
    """Applicants, selected and the rate per value of `col` (most applicants first)."""
    stmt = _filtered(select(col, func.count(), _SELECTED), **filters)
    if extra_where is not None:
        stmt = stmt.where(extra_where)
    rows = [(v, a, s, _rate(s, a)) for v, a, s in conn.execute(stmt.group_by(col))]
    return rows_frame(rows, [name, "applications", "selected", "selection_rate"], _COUNTS,
                      sort=most_first(1))


def applicants_by_field(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                        fields: Sequence[str] = (), places: Sequence[str] = (),
                        genders: Sequence[str] = (),
                        host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applicants and selected per field of study (most applicants first)."""
    return _breakdown(conn, A.field_of_study, "field", year_from=year_from, year_to=year_to,
                      sectors=sectors, programmes=programmes, fields=fields, places=places,
                      genders=genders, host_sectors=host_sectors)


def applicants_by_place(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                        fields: Sequence[str] = (), places: Sequence[str] = (),
                        genders: Sequence[str] = (),
                        host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applicants and selected per country, or per Japanese prefecture where it is known."""
    return _breakdown(conn, place_of(), "place", year_from=year_from, year_to=year_to,
                      sectors=sectors, programmes=programmes, fields=fields, places=places,
                      genders=genders, host_sectors=host_sectors)


def applicants_by_gender(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                         fields: Sequence[str] = (), places: Sequence[str] = (),
                         genders: Sequence[str] = (),
                         host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applicants and selected per gender, for applications that state one."""
    return _breakdown(conn, A.gender, "gender", extra_where=A.gender.is_not(None),
                      year_from=year_from, year_to=year_to, sectors=sectors,
                      programmes=programmes, fields=fields, places=places, genders=genders,
                      host_sectors=host_sectors)


def hosts_by_sector(conn: Connection, *, year_from: int, year_to: int,
                    sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                    fields: Sequence[str] = (), places: Sequence[str] = (),
                    genders: Sequence[str] = (),
                    host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Selected participants per sector of their host company (most first), with shares."""
    stmt = _filtered(select(A.host_sector, func.count()), year_from=year_from, year_to=year_to,
                     sectors=sectors, programmes=programmes, fields=fields, places=places,
                     genders=genders, host_sectors=host_sectors)
    stmt = stmt.where(A.status == "selected", A.host_sector.is_not(None)).group_by(A.host_sector)
    rows = conn.execute(stmt).all()
    total = sum(n for _, n in rows)
    return rows_frame([(h, n, n / total) for h, n in rows], ["host_sector", "placements", "share"],
                      _COUNTS, sort=most_first(1))
