"""EPA preference utilisation: rates and values by year, direction, member state, HS section."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection, Select, func, select

from data_access.models import EpaUtilisation as U
from data_access.queries.common import frame, where_in, where_sectors


def _filtered(stmt: Select, *, year_from: int, year_to: int, sectors: Sequence[str],
              directions: Sequence[str], member_states: Sequence[str],
              sections: Sequence[str]) -> Select:
    stmt = stmt.where(U.year.between(year_from, year_to))
    stmt = where_sectors(stmt, U.sector_code, sectors)
    stmt = where_in(stmt, U.direction, directions)
    stmt = where_in(stmt, U.member_state, member_states)
    return where_in(stmt, U.hs_section, sections)


def _rate(df: pd.DataFrame) -> pd.DataFrame:
    df["pur"] = (df["preferential_eur"] / df["eligible_eur"]).where(df["eligible_eur"] > 0)
    return df


def pur_by_year(conn: Connection, *, year_from: int, year_to: int, sectors: Sequence[str] = (),
                directions: Sequence[str] = (), member_states: Sequence[str] = (),
                sections: Sequence[str] = ()) -> pd.DataFrame:
    """Utilisation rate and values per year and direction."""
    stmt = _filtered(select(U.year, U.direction, func.sum(U.eligible_eur),
                            func.sum(U.preferential_eur)),
                     year_from=year_from, year_to=year_to, sectors=sectors,
                     directions=directions, member_states=member_states, sections=sections)
    stmt = stmt.group_by(U.year, U.direction).order_by(U.direction, U.year)
    return _rate(frame(conn, stmt, ["year", "direction", "eligible_eur", "preferential_eur"]))


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
    df = _rate(frame(conn, stmt, ["member_state", "eligible_eur", "preferential_eur"]))
    return df.sort_values("pur", ascending=False, ignore_index=True)


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
    return _rate(frame(conn, stmt, ["year", "hs_section", "eligible_eur", "preferential_eur"]))
