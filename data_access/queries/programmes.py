"""Mobility programmes: applications, shortlisted and selected, and who applies and is chosen.

Every function takes the same filters, so a click on one breakdown chart can narrow the
others: programmes (page filter), fields of study, places (EU/other country codes or
Japanese prefecture codes 'JP-13'), genders and host sectors (click selections). Empty
filter sequences mean "no restriction". The global sector filter is the sector of the field
of study (`sector_code`). Nothing matching gives an empty frame.

The applications are few (tens of thousands) and every chart groups them by another
column: a SQL GROUP BY sorts them each time (3–5 ms on SQLite), while counting codes in
numpy takes a fraction of a millisecond. So the columns the charts filter and group by are
read once per data change and kept in memory as integer codes (`common.coded_rows`).
Shortlisted includes those later selected (the stages are nested); a place is the
prefecture when known, else the country.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from data_access.models import ProgrammeApplication as A
from data_access.queries.common import (
    F64,
    I64,
    Coded,
    coded_rows,
    most_first,
    rows_frame,
)


def _rate(selected: int, applications: int) -> float:
    return selected / applications if applications > 0 else float("nan")


_COUNTS = {"year": I64, "applications": I64, "shortlisted": I64, "selected": I64,
           "placements": I64, "selection_rate": F64, "share": F64}
_COLUMNS = ("cycle_year", "sector_code", "programme", "field_of_study", "prefecture",
            "country_code", "gender", "host_sector", "status")


def _places(cols: dict[str, tuple]) -> dict[str, tuple]:
    """Where an applicant comes from: the prefecture when known, else the country code."""
    return {"place": tuple(p if p is not None else c for p, c in
                           zip(cols["prefecture"], cols["country_code"], strict=True))}


def _matching(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str],
              programmes: Sequence[str], fields: Sequence[str], places: Sequence[str],
              genders: Sequence[str], host_sectors: Sequence[str]) -> tuple[Coded, np.ndarray]:
    """The applications (in memory) and which of them match the filters."""
    apps = coded_rows(conn, A, _COLUMNS, _places)
    m = apps.where("cycle_year", lambda y: y is not None and year_from <= y <= year_to)
    for col, wanted in (("sector_code", sectors), ("programme", programmes),
                        ("field_of_study", fields), ("gender", genders),
                        ("host_sector", host_sectors)):
        if wanted:
            m &= apps.among(col, wanted)
    if places:
        prefs = [p for p in places if p.startswith("JP-")]
        countries = [p for p in places if not p.startswith("JP-")]
        # a country code matches only applicants without a finer prefecture code
        m &= apps.among("prefecture", prefs) | (apps.among("country_code", countries)
                                                & apps.among("prefecture", [None]))
    return apps, m


def warm(conn: Connection) -> None:
    """Read the applications into memory now (at start, before gunicorn forks its workers,
    so no visitor waits for the first read)."""
    coded_rows(conn, A, _COLUMNS, _places)


def _selected(apps: Coded) -> np.ndarray:
    return apps.among("status", ["selected"]).astype(np.int64)


def applications_by_year(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                         fields: Sequence[str] = (), places: Sequence[str] = (),
                         genders: Sequence[str] = (),
                         host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applications, shortlisted, selected and the selection rate per cycle year."""
    apps, m = _matching(conn, year_from=year_from, year_to=year_to, sectors=sectors,
                        programmes=programmes, fields=fields, places=places, genders=genders,
                        host_sectors=host_sectors)
    shortlisted = apps.among("status", ["shortlisted", "selected"]).astype(np.int64)
    rows = sorted((y, a, sh, se, _rate(se, a)) for y, a, sh, se in
                  apps.groups("cycle_year", m, shortlisted, _selected(apps)))
    return rows_frame(rows, ["year", "applications", "shortlisted", "selected",
                             "selection_rate"], _COUNTS)


def _breakdown(conn: Connection, col: str, name: str, *, skip_missing: bool = False,
               **filters: Any) -> pd.DataFrame:
    """Applicants, selected and the rate per value of `col` (most applicants first)."""
    apps, m = _matching(conn, **filters)
    rows = [(v, a, s, _rate(s, a)) for v, a, s in apps.groups(col, m, _selected(apps))
            if not (skip_missing and v is None)]
    return rows_frame(rows, [name, "applications", "selected", "selection_rate"], _COUNTS,
                      sort=most_first(1))


def applicants_by_field(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                        fields: Sequence[str] = (), places: Sequence[str] = (),
                        genders: Sequence[str] = (),
                        host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applicants and selected per field of study (most applicants first)."""
    return _breakdown(conn, "field_of_study", "field", year_from=year_from, year_to=year_to,
                      sectors=sectors, programmes=programmes, fields=fields, places=places,
                      genders=genders, host_sectors=host_sectors)


def applicants_by_place(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                        fields: Sequence[str] = (), places: Sequence[str] = (),
                        genders: Sequence[str] = (),
                        host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applicants and selected per country, or per Japanese prefecture where it is known."""
    return _breakdown(conn, "place", "place", year_from=year_from, year_to=year_to,
                      sectors=sectors, programmes=programmes, fields=fields, places=places,
                      genders=genders, host_sectors=host_sectors)


def applicants_by_gender(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                         fields: Sequence[str] = (), places: Sequence[str] = (),
                         genders: Sequence[str] = (),
                         host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applicants and selected per gender, for applications that state one."""
    return _breakdown(conn, "gender", "gender", skip_missing=True,
                      year_from=year_from, year_to=year_to, sectors=sectors,
                      programmes=programmes, fields=fields, places=places, genders=genders,
                      host_sectors=host_sectors)


def hosts_by_sector(conn: Connection, *, year_from: int, year_to: int,
                    sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                    fields: Sequence[str] = (), places: Sequence[str] = (),
                    genders: Sequence[str] = (),
                    host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Selected participants per sector of their host company (most first), with shares."""
    apps, m = _matching(conn, year_from=year_from, year_to=year_to, sectors=sectors,
                        programmes=programmes, fields=fields, places=places, genders=genders,
                        host_sectors=host_sectors)
    m &= apps.among("status", ["selected"])
    rows = [(h, n) for h, n in apps.groups("host_sector", m) if h is not None]
    total = sum(n for _, n in rows)
    return rows_frame([(h, n, n / total) for h, n in rows], ["host_sector", "placements", "share"],
                      _COUNTS, sort=most_first(1))
