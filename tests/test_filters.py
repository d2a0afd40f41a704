"""URL filter parsing: valid values kept, invalid ones fall back to defaults silently."""

from __future__ import annotations

from components.filters import build_query, parse_query
from pages._state import MIN_YEAR, canonical, global_filters, max_year, with_page_params


def test_parse_valid() -> None:
    f = global_filters("?from=2019&to=2024&sector=ict,health")
    assert (f.year_from, f.year_to, f.sectors) == (2019, 2024, ("health", "ict"))


def test_invalid_values_fall_back() -> None:
    f = global_filters("?from=abc&to=1900&sector=unknown,ict&sector=")
    assert (f.year_from, f.year_to, f.sectors) == (MIN_YEAR, max_year(), ("ict",))
    f = global_filters("?from=2024&to=2019")  # reversed range -> defaults
    assert (f.year_from, f.year_to) == (MIN_YEAR, max_year())
    assert global_filters("?%%%&&=").sectors == ()


def test_canonical_round_trip_and_page_params() -> None:
    s = "?from=2019&sector=ict&desk=epa"
    f = global_filters(s)
    assert global_filters(canonical(f)) == f
    s2 = with_page_params(s, topic=["customs", "tariffs"], desk=None)
    assert parse_query(s2) == {"from": ["2019"], "sector": ["ict"],
                               "topic": ["customs", "tariffs"]}
    assert build_query({"a": [], "b": None}) == ""
