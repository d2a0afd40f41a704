"""Mobility programmes: applications, shortlisted and selected, and who applies and is chosen.

Every function takes the same filters, so a click on one breakdown chart can narrow the
others: programmes (page filter), fields of study, places (EU/other country codes or
Japanese prefecture codes 'JP-13'), genders and host sectors (click selections). Empty
filter sequences mean "no restriction". The global sector filter is the sector of the field
of study (`sector_code`). Nothing matching gives an empty frame.

The applications are few (tens of thousands) and every chart groups them by another
column: a SQL GROUP BY sorts them each time (3–5 ms on SQLite), while counting codes in
numpy takes a fraction of a millisecond. So the columns the charts filter and group by are
read once per data change (`_applications`, keyed by the row count, the newest id and the
data version) and kept in memory as integer codes. Shortlisted includes those later
selected (the stages are nested); a place is the prefecture when known, else the country.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from data_access.models import Meta
from data_access.models import ProgrammeApplication as A
from data_access.queries.common import (
    F64,
    I64,
    most_first,
    rows_frame,
)


def _rate(selected: int, applications: int) -> float:
    return selected / applications if applications > 0 else float("nan")


_COUNTS = {"year": I64, "applications": I64, "shortlisted": I64, "selected": I64,
           "placements": I64, "selection_rate": F64, "share": F64}
_COLUMNS = ("cycle_year", "sector_code", "programme", "field_of_study", "prefecture",
            "country_code", "gender", "host_sector", "status")


@dataclass(frozen=True)
class _Applications:
    """Every application as integer codes per column (`values[col][code]` is the value,
    None where missing), plus the selected / shortlisted flags as 0/1."""

    codes: dict[str, np.ndarray]
    values: dict[str, list[Any]]
    selected: np.ndarray
    shortlisted: np.ndarray

    def among(self, col: str, wanted: Sequence[Any]) -> np.ndarray:
        """Rows whose `col` is one of `wanted`."""
        want = set(wanted)
        hits = [i for i, v in enumerate(self.values[col]) if v in want]
        return np.isin(self.codes[col], np.array(hits, dtype=np.int64))


_FRAMES: dict[tuple[Any, ...], _Applications] = {}  # (database, fingerprint) -> codes
_SEEN: weakref.WeakKeyDictionary[Connection, _Applications] = weakref.WeakKeyDictionary()


def _applications(conn: Connection) -> _Applications:
    """The applications' filter and group columns, read once per data change (see the module
    docstring) and checked once per connection (one callback)."""
    if conn in _SEEN:
        return _SEEN[conn]
    version = select(Meta.value).where(Meta.key == "data_version").scalar_subquery()
    fingerprint = tuple(conn.execute(select(func.count(), func.max(A.id), version)).one())
    key = (conn.engine.url.render_as_string(hide_password=True), fingerprint)
    apps = _FRAMES.get(key)
    if apps is None:
        rows = conn.execute(select(*(getattr(A, c) for c in _COLUMNS))).all()
        cols = dict(zip(_COLUMNS, zip(*rows, strict=True), strict=True)) if rows \
            else {c: () for c in _COLUMNS}
        # where an applicant comes from: the prefecture when known, else the country code
        cols["place"] = tuple(p if p is not None else c for p, c in
                              zip(cols["prefecture"], cols["country_code"], strict=True))
        codes, values = {}, {}
        for c, vals in cols.items():
            index: dict[Any, int] = {}
            codes[c] = np.fromiter((index.setdefault(v, len(index)) for v in vals),
                                   dtype=np.int64, count=len(vals))
            values[c] = list(index)
        status = np.array(cols["status"], dtype=object)
        apps = _Applications(codes, values,
                             (status == "selected").astype(np.int64),
                             np.isin(status, ["shortlisted", "selected"]).astype(np.int64))
        if len(_FRAMES) >= 4:  # a few databases at most (tests use two at once)
            _FRAMES.pop(next(iter(_FRAMES)))
        _FRAMES[key] = apps
    _SEEN[conn] = apps
    return apps


def _matching(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str],
              programmes: Sequence[str], fields: Sequence[str], places: Sequence[str],
              genders: Sequence[str], host_sectors: Sequence[str]) -> tuple[_Applications,
                                                                          np.ndarray]:
    """The applications and which of them match the filters."""
    apps = _applications(conn)
    m = apps.among("cycle_year", [y for y in apps.values["cycle_year"]
                                  if y is not None and year_from <= y <= year_to])
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


def _groups(apps: _Applications, col: str, rows: np.ndarray,
            *weights: np.ndarray) -> list[tuple[Any, ...]]:
    """(value, rows, sum of each weight) per value of `col` among the selected `rows`."""
    codes = apps.codes[col][rows]
    n = len(apps.values[col])
    counts = np.bincount(codes, minlength=n)
    sums = [np.bincount(codes, weights=w[rows], minlength=n) for w in weights]
    return [(v, int(counts[i]), *(int(x[i]) for x in sums))
            for i, v in enumerate(apps.values[col]) if counts[i]]


def applications_by_year(conn: Connection, *, year_from: int, year_to: int,
                         sectors: Sequence[str] = (), programmes: Sequence[str] = (),
                         fields: Sequence[str] = (), places: Sequence[str] = (),
                         genders: Sequence[str] = (),
                         host_sectors: Sequence[str] = ()) -> pd.DataFrame:
    """Applications, shortlisted, selected and the selection rate per cycle year."""
    apps, m = _matching(conn, year_from=year_from, year_to=year_to, sectors=sectors,
                        programmes=programmes, fields=fields, places=places, genders=genders,
                        host_sectors=host_sectors)
    rows = sorted((y, a, sh, se, _rate(se, a)) for y, a, sh, se in
                  _groups(apps, "cycle_year", m, apps.shortlisted, apps.selected))
    return rows_frame(rows, ["year", "applications", "shortlisted", "selected",
                             "selection_rate"], _COUNTS)


def _breakdown(conn: Connection, col: str, name: str, *, skip_missing: bool = False,
               **filters: Any) -> pd.DataFrame:
    """Applicants, selected and the rate per value of `col` (most applicants first)."""
    apps, m = _matching(conn, **filters)
    rows = [(v, a, s, _rate(s, a)) for v, a, s in _groups(apps, col, m, apps.selected)
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
    m &= apps.selected.astype(bool)
    rows = [(h, n) for h, n in _groups(apps, "host_sector", m) if h is not None]
    total = sum(n for _, n in rows)
    return rows_frame([(h, n, n / total) for h, n in rows], ["host_sector", "placements", "share"],
                      _COUNTS, sort=most_first(1))
