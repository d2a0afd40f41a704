"""EPA preference utilisation: rates and values by year, direction, member state, HS section."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from data_access.models import EpaUtilisation as U
from data_access.queries.common import F64, I64, coded_rows, group_index, rows_frame

_TYPES = {"year": I64, "eligible_eur": F64, "preferential_eur": F64, "pur": F64}


# The utilisation table is a few thousand rows (year x direction x member state x HS section
# x sector): kept in memory as integer codes (`common.coded_rows`, read once per data change)
# and summed with numpy, no statement per chart.
_COLUMNS = ("year", "direction", "member_state", "hs_section", "sector_code", "eligible_eur",
            "preferential_eur")


def warm(conn: Connection) -> None:
    """Read the utilisation rows into memory now (at start, before gunicorn forks)."""
    coded_rows(conn, U, _COLUMNS)


def _sums(conn: Connection, keys: Sequence[str], *, year_from: int, year_to: int,
          sectors: Sequence[str], directions: Sequence[str], member_states: Sequence[str],
          sections: Sequence[str]) -> list[tuple]:
    """(*keys, eligible EUR, preferential EUR) per group of `keys` among the matching rows."""
    c = coded_rows(conn, U, _COLUMNS)
    m = c.where("year", lambda y: y is not None and year_from <= y <= year_to)
    for col, wanted in (("sector_code", sectors), ("direction", directions),
                        ("member_state", member_states), ("hs_section", sections)):
        if wanted:
            m &= c.among(col, wanted)
    rows = np.flatnonzero(m)
    if not len(rows):
        return []
    first, inverse = group_index([c.codes[col][rows] for col in keys])
    eligible, preferential = (np.bincount(inverse, weights=c.numbers(col, rows)).tolist()
                              for col in ("eligible_eur", "preferential_eur"))
    return [(*(c.value_at(col, rows[at]) for col in keys), e, p)
            for at, e, p in zip(first.tolist(), eligible, preferential, strict=True)]


def _rated(sums: list[tuple], keys: list[str], *, by_rate: bool = False) -> pd.DataFrame:
    """The keys, eligible and preferential EUR and the rate (preferential / eligible; empty
    where nothing was eligible), from `_sums` (optionally highest rate first, empty last)."""
    rows = []
    for *k, eligible, preferential in sums:
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
    sums = _sums(conn, ["direction", "year"], year_from=year_from, year_to=year_to,
                 sectors=sectors, directions=directions, member_states=member_states,
                 sections=sections)
    return _rated(sorted(((y, d, e, p) for d, y, e, p in sums), key=lambda r: (r[1], r[0])),
                  ["year", "direction"])


def pur_by_member_state(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), directions: Sequence[str] = (),
                        member_states: Sequence[str] = (),
                        sections: Sequence[str] = ()) -> pd.DataFrame:
    """Utilisation rate over the whole range per member state (highest first)."""
    sums = _sums(conn, ["member_state"], year_from=year_from, year_to=year_to, sectors=sectors,
                 directions=directions, member_states=member_states, sections=sections)
    return _rated(sums, ["member_state"], by_rate=True)


def pur_by_year_section(conn: Connection, *, year_from: int, year_to: int,
                        sectors: Sequence[str] = (), directions: Sequence[str] = (),
                        member_states: Sequence[str] = (),
                        sections: Sequence[str] = ()) -> pd.DataFrame:
    """Utilisation rate per year and HS section (for the heatmap)."""
    sums = _sums(conn, ["hs_section", "year"], year_from=year_from, year_to=year_to,
                 sectors=sectors, directions=directions, member_states=member_states,
                 sections=sections)
    return _rated(sorted(((y, h, e, p) for h, y, e, p in sums), key=lambda r: (r[1], r[0])),
                  ["year", "hs_section"])
