"""EPA preference utilisation: rates and values by year, direction, member state, HS section."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection, Select, func, select

from data_access.models import EpaUtilisation as U
from data_access.queries.common import F64, I64, rows_frame, where_in, where_sectors

_TYPES = {"year": I64, "eligible_eur": F64, "preferential_eur": F64, "pur": F64}


def _filtered(stmt: Select, *, year_from: int, year_to: int, sectors: Sequence[str],
              directions: Sequence[str], member_states: Sequence[str],
              sections: Sequence[str]) -> Select:
    stmt = stmt.where(U.year.between(year_from, year_to))
    stmt = where_sectors(stmt, U.sector_code, sectors)
    stmt = where_in(stmt, U.direction, directions)
    stmt = where_in(stmt, U.member_state, member_states)
    return where_in(stmt, U.hs_section, sections)


def _rated(conn: Connection, stmt: Select, keys: list[str], *,
           by_rate: bool = False) -> pd.DataFrame:
    """The keys, eligible and preferential EUR and the rate (preferential / eligible; empty
    where nothing was eligible), from the rows (optionally highest rate first, empty last)."""
    rows = []
    for *k, eligible, preferential in conn.execute(stmt):
        rate = (preferential / eligible if eligible and preferential is not None
                and eligible > 0 else math.nan)
        rows.append((*k, eligible, preferential, rate))
    sort = (lambda r: (math.isnan(r[-1]), -r[-1] if not math.isnan(r[-1]) else 0.0)) \
        if by_rate else None
    return rows_frame(rows, [*keys, "eligible_eur", "preferential_eur", "pur"], _TYPES,
                      sort=sort)


def pur_by_year(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str] = (),
                directions: Sequence[str] = (), member_states: Sequence[str] = (),
                sections: Sequence[str] = ()) -> pd.DataFrame:
    """Utilisation rate and values per year and direction."""
    stmt = _filtered(select(U.year, U.direction, func.sum(U.eligible_eur),
                            func.sum(U.preferential_eur)),
                     year_from=year_from, year_to=year_to, sectors=sectors,
                     directions=directions, member_states=member_states, sections=sections)
    stmt = stmt.group_by(U.year, U.direction).order_by(U.direction, U.year)
    return _rated(conn, stmt, ["year", "direction"])


def pur_by_member_state(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), directions: Sequence[str] = (),
                        member_states: Sequence[str] = (),
                        sections: Sequence[str] = ()) -> pd.DataFrame:
    """Utilisation rate over the whole range per member state (highest first)."""
    stmt = _filtered(select(U.member_state, func.sum(U.eligible_eur),
                            func.sum(U.preferential_eur)),
                     year_from=year_from, year_to=year_to, sectors=sectors,
                     directions=directions, member_states=member_states, sections=sections)
    stmt = stmt.group_by(U.member_state)
    return _rated(conn, stmt, ["member_state"], by_rate=True)


def pur_by_year_section(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), directions: Sequence[str] = (),
                        member_states: Sequence[str] = (),
                        sections: Sequence[str] = ()) -> pd.DataFrame:
    """Utilisation rate per year and HS section (for the heatmap)."""
    stmt = _filtered(select(U.year, U.hs_section, func.sum(U.eligible_eur),
                            func.sum(U.preferential_eur)),
                     year_from=year_from, year_to=year_to, sectors=sectors,
                     directions=directions, member_states=member_states, sections=sections)
    stmt = stmt.group_by(U.year, U.hs_section).order_by(U.hs_section, U.year)
    return _rated(conn, stmt, ["year", "hs_section"])
