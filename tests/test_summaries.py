"""Summary tables agree with counts taken from the raw rows, on SQLite and PostgreSQL.

Random filter combinations (seeded, so a failure can be replayed) over every grouping the
pages use: month, quarter and year, partial months at both ends of a period, and every
dimension as a filter, one at a time and together (including combinations no cuboid holds,
where the summaries must say "read the fact table" rather than answer wrongly).
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text

from data_access import summaries
from data_access.bulk import bulk_insert
from data_access.db import bump_data_version
from data_access.demo import ENQUIRY_COLUMNS, _after_load
from data_access.models import Base, HelpdeskCuboid, HelpdeskEnquiry, Meta
from data_access.queries import helpdesk as hq
from data_access.queries import techtransfer as tq
from tests.conftest import DEMO_UNTIL

DIM_COLS = {"desk": "desk", "topic": "topic", "sector": "sector_code",
            "requester": "requester_type", "country": "country_code"}


@pytest.fixture(scope="module")
def raw(demo_engine) -> pd.DataFrame:  # noqa: ANN001
    """The demo enquiries, read once per backend."""
    d = pd.read_sql(text("SELECT desk, topic, received_date, answered_date, sector_code, "
                         "requester_type, country_code FROM helpdesk_enquiry"), demo_engine)
    d["received_date"] = pd.to_datetime(d.received_date)
    d["answered_date"] = pd.to_datetime(d.answered_date)
    return d


def _random_case(rng: random.Random, raw: pd.DataFrame) -> dict:
    """A period (often cut mid-month), a grouping and a few filters drawn from the data."""
    y0 = rng.randint(2014, 2026)
    y1 = rng.randint(y0, 2026)
    d0, d1 = dt.date(y0, 1, 1), dt.date(y1, 12, 31)
    if rng.random() < 0.5:  # cut inside months at either end
        d0 = dt.date(y0, rng.randint(1, 12), rng.randint(2, 28))
        d1 = dt.date(y1, rng.randint(1, 12), rng.randint(1, 27))
        d0, d1 = min(d0, d1), max(d0, d1)
    by = rng.sample(sorted(DIM_COLS), rng.choice([0, 0, 1, 1, 2]))
    time_grain = rng.choice([None, "year", "quarter", "month"])
    filters = {}
    for dim in rng.sample(sorted(DIM_COLS), rng.choice([0, 1, 1, 2, 3])):
        values = sorted(raw[DIM_COLS[dim]].unique())
        filters[dim] = rng.sample(values, min(len(values), rng.choice([1, 1, 2])))
    return {"d0": d0, "d1": d1, "by": by, "time": time_grain, "filters": filters}


def _expected(raw: pd.DataFrame, case: dict, *, days: bool) -> pd.DataFrame:
    d = raw[(raw.received_date.dt.date >= case["d0"]) & (raw.received_date.dt.date <= case["d1"])]
    for dim, values in case["filters"].items():
        d = d[d[DIM_COLS[dim]].isin(values)]
    keys = []
    d = d.assign(**{dim: d[DIM_COLS[dim]] for dim in case["by"]})
    if case["time"]:
        r = d.received_date
        t = {"year": r.dt.year, "quarter": r.dt.year * 10 + (r.dt.month + 2) // 3,
             "month": r.dt.year * 100 + r.dt.month}[case["time"]]
        d = d.assign(**{case["time"]: t})
        keys.append(case["time"])
    keys += case["by"]
    if days:
        d = d[d.answered_date.notna()]
        d = d.assign(days=(d.answered_date - d.received_date).dt.days)
        keys.append("days")
    if not keys:
        return pd.DataFrame({"enquiries": [len(d)]}) if len(d) else pd.DataFrame(
            columns=["enquiries"])
    return d.groupby(keys).size().rename("enquiries").reset_index()


def _as_dict(df: pd.DataFrame) -> dict:
    keys = [c for c in df.columns if c != "enquiries"]
    return {tuple(int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                  for v in row[:-1]): int(row[-1])
            for row in df[[*keys, "enquiries"]].itertuples(index=False)}


@pytest.mark.parametrize("seed", range(24))
def test_counts_match_raw_rows(demo_engine, raw, seed) -> None:  # noqa: ANN001
    rng = random.Random(seed)
    for _ in range(6):
        case = _random_case(rng, raw)
        with demo_engine.connect() as c:
            got = summaries.counts(c, by=case["by"], time=case["time"], date_from=case["d0"],
                                   date_to=case["d1"], filters=case["filters"])
        needed = set(case["by"]) | set(case["filters"])
        if got is None:  # no month-grain cuboid holds these dimensions: read the fact table
            # (a period within one month is answered from days, whatever the dimensions)
            assert summaries.pick(summaries.COUNT_CUBOIDS, [1] * len(summaries.COUNT_CUBOIDS),
                                  needed, years=False) is None
            continue
        assert _as_dict(got) == _as_dict(_expected(raw, case, days=False)), case


@pytest.mark.parametrize("seed", range(16))
def test_days_histograms_match_raw_rows(demo_engine, raw, seed) -> None:  # noqa: ANN001
    rng = random.Random(1000 + seed)
    for _ in range(6):
        case = _random_case(rng, raw)
        with demo_engine.connect() as c:
            got = summaries.days_histogram(c, by=case["by"], time=case["time"],
                                           date_from=case["d0"], date_to=case["d1"],
                                           filters=case["filters"])
        needed = set(case["by"]) | set(case["filters"])
        if got is None:  # e.g. country with requester type: the caller reads the facts
            assert summaries.pick(summaries.DAYS_CUBOIDS, [1] * len(summaries.DAYS_CUBOIDS),
                                  needed, years=False) is None
            continue
        assert _as_dict(got) == _as_dict(_expected(raw, case, days=True)), case


def test_cuboids_are_read_once_per_build(engine) -> None:  # noqa: ANN001
    """Each cuboid is read into memory once per summary build, and again after new rows."""
    from sqlalchemy import event

    table = Base.metadata.tables["helpdesk_enquiry"]
    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(20, 0, dt.date(2024, 3, 10)))
        summaries.rebuild(c)
    reads: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cur, stmt, *a: reads.append(stmt)
                 if "FROM helpdesk_cuboid" in stmt else None)
    year = {"date_from": dt.date(2024, 1, 1), "date_to": dt.date(2024, 12, 31)}
    for _ in range(3):
        with engine.connect() as c:
            got = summaries.counts(c, by=["desk"], time="year", **year)
        assert _as_dict(got) == {(2024, "epa"): 20}
    assert len(reads) == 1  # the cuboid, read once for three questions
    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(5, 100, dt.date(2024, 4, 2), "ncp"))
        summaries.refresh(c, summaries.status(c), [2024])
    with engine.connect() as c:
        got = summaries.counts(c, by=["desk"], time="year", **year)
    assert _as_dict(got) == {(2024, "epa"): 20, (2024, "ncp"): 5}


def test_a_refresh_keeps_the_codes_of_the_years_it_does_not_recount(engine) -> None:  # noqa: ANN001
    """The cuboids store codes into each dimension's values: an import bringing a desk,
    topic, sector and country not seen before appends them, so the years it does not
    recount still mean what they did; counts by every dimension match both years' rows."""
    table = Base.metadata.tables["helpdesk_enquiry"]
    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(20, 0, dt.date(2023, 3, 10)))
        summaries.rebuild(c)
    new = [(f"N-{i:05d}", "ncp", "funding", "2024-05-02", None, "health", "university", "AT",
            False) for i in range(7)]
    with engine.begin() as c:
        before = summaries.status(c)
        bulk_insert(c, table, ENQUIRY_COLUMNS, new)
        st = summaries.refresh(c, before, [2024])
    assert st.vocab["country"] == ("DE", "AT")  # appended, not re-sorted
    years = {"date_from": dt.date(2023, 1, 1), "date_to": dt.date(2024, 12, 31)}
    with engine.connect() as c:
        for dim, old, added in (("desk", "epa", "ncp"), ("topic", "tariffs", "funding"),
                                ("sector", "ict", "health"), ("requester", "sme", "university"),
                                ("country", "DE", "AT")):
            got = summaries.counts(c, by=[dim], time="year", **years)
            assert _as_dict(got) == {(2023, old): 20, (2024, added): 7}, dim
            got = summaries.counts(c, by=["desk"], time="month", filters={dim: [added]},
                                   **years)
            assert _as_dict(got) == {(202405, "ncp"): 7}, dim
        hist = summaries.days_histogram(c, by=["sector"], time="year", **years)
    assert _as_dict(hist) == {(2023, "ict", d): 4 for d in range(5)}  # 2024's: unanswered


def test_every_stored_cuboid_adds_up_to_the_fact_table(demo_engine, raw) -> None:  # noqa: ANN001
    total = len(raw)
    per_year = raw.received_date.dt.year.value_counts().to_dict()
    with demo_engine.connect() as c:
        st = summaries.status(c)
        assert st is not None
        for cid, cub in enumerate(summaries.COUNT_CUBOIDS):
            if not cub.stored:
                continue
            mem = summaries._read_cuboid(c, st, "counts", cid)
            assert int(mem.n.sum()) == total, cub
            assert list(mem.ym) == sorted(mem.ym), cub  # time order: a period is a slice
            years = pd.Series(mem.n).groupby(mem.ym // 100).sum().to_dict()
            assert years == per_year, cub
        answered = int(raw.answered_date.notna().sum())
        for cid, cub in enumerate(summaries.DAYS_CUBOIDS):
            mem = summaries._read_cuboid(c, st, "days", cid)
            assert int(mem.n.sum()) == answered, cub
            assert mem.offsets is not None and mem.offsets[-1] == len(mem.n), cub
    assert st.first == raw.received_date.min().date()
    assert st.last == raw.received_date.max().date() == DEMO_UNTIL


@pytest.mark.parametrize("case", [
    {"year_from": 2014, "year_to": 2026},
    {"year_from": 2019, "year_to": 2026, "sectors": ["ict", "health"], "desks": ["epa"],
     "requesters": ["sme"]},
    {"year_from": 2021, "year_to": 2023, "topics": ["rules_of_origin"], "countries": ["DE"]},
    {"year_from": 2016, "year_to": 2026, "countries": ["JP"], "requesters": ["university"],
     "sectors": ["research"]},
])
@pytest.mark.parametrize("fn", [hq.enquiries_by_month, hq.topic_share_by_year, hq.top_topics,
                                hq.enquiries_by_requester, hq.enquiries_by_country,
                                hq.days_to_answer])
def test_queries_answer_the_same_with_and_without_summaries(demo_engine, case, fn,
                                                            monkeypatch) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        fast = fn(c, **case)
    monkeypatch.setattr(summaries, "status", lambda _conn: None)  # as if stale
    with demo_engine.connect() as c:
        slow = fn(c, **case)
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), slow.reset_index(drop=True),
                                  check_dtype=False)


@pytest.mark.parametrize("fn", [tq.offers_requests_by_year, tq.offer_stock_by_year])
@pytest.mark.parametrize("case", [{"year_from": 2014, "year_to": 2026},
                                  {"year_from": 2018, "year_to": 2021, "sectors": ["ict"],
                                   "kinds": ["offer"]}])
def test_offer_queries_answer_the_same_with_and_without_summaries(
        demo_engine, fn, case, monkeypatch) -> None:  # noqa: ANN001
    with demo_engine.connect() as c:
        fast = fn(c, **case)
    monkeypatch.setattr(summaries, "status", lambda _conn: None)
    with demo_engine.connect() as c:
        slow = fn(c, **case)
    assert not fast.empty
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), slow.reset_index(drop=True),
                                  check_dtype=False)


def _rows(n: int, start: int, day: dt.date, desk: str = "epa") -> list[tuple]:
    return [(f"T-{start + i:05d}", desk, "tariffs", day.isoformat(),
             (day + dt.timedelta(days=i % 5)).isoformat(), "ict", "sme", "DE", False)
            for i in range(n)]


def test_rows_written_without_a_rebuild_are_not_hidden(engine) -> None:  # noqa: ANN001
    """A write that skips the hook makes the summaries stale: queries read the facts."""
    table = Base.metadata.tables["helpdesk_enquiry"]
    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(30, 0, dt.date(2024, 3, 10)))
        summaries.rebuild(c)
    with engine.connect() as c:
        assert summaries.status(c) is not None
        assert hq.enquiries_by_month(c, year_from=2024, year_to=2024).enquiries.sum() == 30
    with engine.begin() as c:  # no rebuild
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(5, 100, dt.date(2024, 4, 2)))
    with engine.connect() as c:
        assert summaries.status(c) is None
        assert summaries.counts(c, date_from=dt.date(2024, 1, 1),
                                date_to=dt.date(2024, 12, 31)) is None
        assert hq.enquiries_by_month(c, year_from=2024, year_to=2024).enquiries.sum() == 35


def test_an_import_rebuilds_the_summaries_in_its_transaction(engine) -> None:  # noqa: ANN001
    """As the importer does: rows, version bump and rebuild commit (or fail) together."""
    from sqlalchemy.orm import Session

    table = Base.metadata.tables["helpdesk_enquiry"]
    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(12, 0, dt.date(2023, 5, 5), "ncp"))
        with Session(bind=c) as s:
            bump_data_version(s)
            s.flush()
        _after_load(c)
    with engine.connect() as c:
        got = summaries.counts(c, by=["desk"], time="month", date_from=dt.date(2023, 1, 1),
                               date_to=dt.date(2023, 12, 31))
    assert _as_dict(got) == {(202305, "ncp"): 12}
    with pytest.raises(RuntimeError), engine.begin() as c:  # a failing import leaves nothing
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(7, 500, dt.date(2023, 6, 1), "ncp"))
        _after_load(c)
        raise RuntimeError("refused half-way")
    with engine.connect() as c:
        assert summaries.status(c) is not None
        assert len(c.execute(select(HelpdeskEnquiry.id)).all()) == 12


def test_answers_dated_before_receipt_keep_their_negative_days(engine) -> None:  # noqa: ANN001
    """A correction can date an answer a day before receipt: the histograms keep -1 as it
    is (the packed arrays hold signed days), as the fact table says."""
    table = Base.metadata.tables["helpdesk_enquiry"]
    rows = [(f"B-{i}", "epa", "tariffs", "2024-03-10",
             ("2024-03-09" if i < 3 else "2024-03-12"), "ict", "sme", "DE", False)
            for i in range(5)]
    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, rows)
        summaries.rebuild(c)
    with engine.connect() as c:
        got = summaries.days_histogram(c, by=["desk"], time="month",
                                       date_from=dt.date(2024, 1, 1),
                                       date_to=dt.date(2024, 12, 31))
    assert _as_dict(got) == {(202403, "epa", -1): 3, (202403, "epa", 2): 2}


def test_a_value_holding_a_line_break_stops_the_rebuild_with_a_clear_error(
        engine) -> None:  # noqa: ANN001
    """The rebuild reads the facts as lines of text: a value with a line break in it (which
    no import lets through) would shift the lines; the rebuild refuses instead of counting
    wrong, and the caller's transaction leaves the summaries as they were."""
    table = Base.metadata.tables["helpdesk_enquiry"]
    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(4, 0, dt.date(2024, 3, 10)))
        summaries.rebuild(c)
    bad = [("X-1", "epa", "tariffs\nrules", "2024-03-11", None, "ict", "sme", "DE", False)]
    with pytest.raises(ValueError, match="control character"), engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, bad)
        summaries.rebuild(c)
    with engine.connect() as c:
        assert summaries.status(c) is not None
        got = summaries.counts(c, by=["topic"], date_from=dt.date(2024, 1, 1),
                               date_to=dt.date(2024, 12, 31))
    assert _as_dict(got) == {("tariffs",): 4}


def test_ids_far_apart_are_read_in_a_few_statements(engine) -> None:  # noqa: ANN001
    """The rebuild reads the facts by ranges of ids: a gap of billions of ids (rows deleted,
    or ids from another system) is jumped over, not walked through range by range."""
    from sqlalchemy import event, insert

    rows = [dict(zip(ENQUIRY_COLUMNS, r, strict=True)) | {"id": i} for i, r in zip(
        (5, 7, 3_000_000_000, 3_000_000_001), _rows(4, 0, dt.date(2024, 3, 10)), strict=True)]
    for r in rows:
        r["received_date"] = dt.date.fromisoformat(r["received_date"])
        r["answered_date"] = dt.date.fromisoformat(r["answered_date"])
    reads: list[str] = []
    with engine.begin() as c:
        c.execute(insert(HelpdeskEnquiry), rows)
        event.listen(c, "before_cursor_execute",
                     lambda conn, cur, stmt, *a: reads.append(stmt)
                     if "helpdesk_enquiry" in stmt else None)
        summaries.rebuild(c)
    assert len(reads) < 20, len(reads)
    with engine.connect() as c:
        got = summaries.counts(c, by=["desk"], time="year", date_from=dt.date(2024, 1, 1),
                               date_to=dt.date(2024, 12, 31))
    assert _as_dict(got) == {(2024, "epa"): 4}


def test_a_statement_reads_a_bounded_number_of_rows_whatever_the_ids(
        engine, monkeypatch) -> None:  # noqa: ANN001
    """Sparse ids widen the ranges read, but a dense stretch after them is still read a
    range at a time: no statement's text grows with the table (at 20M rows it would pass
    the databases' 1 GB limit on a string)."""
    from sqlalchemy import insert

    monkeypatch.setattr(summaries, "_FACT_CHUNK", 4)
    ids = [1000 * k for k in range(1, 11)] + list(range(20_000, 20_030))
    rows = [dict(zip(ENQUIRY_COLUMNS, r, strict=True)) | {"id": i} for i, r in zip(
        ids, _rows(len(ids), 0, dt.date(2024, 3, 10)), strict=True)]
    for r in rows:
        r["received_date"] = dt.date.fromisoformat(r["received_date"])
        r["answered_date"] = dt.date.fromisoformat(r["answered_date"])
    sizes: list[int] = []
    parse = summaries._parse_lines

    def spy(lines, n):  # noqa: ANN001, ANN202
        sizes.append(n)
        return parse(lines, n)

    monkeypatch.setattr(summaries, "_parse_lines", spy)
    with engine.begin() as c:
        c.execute(insert(HelpdeskEnquiry), rows)
        summaries.rebuild(c)
    assert sum(sizes) == len(ids) and max(sizes) <= 8, sizes
    with engine.connect() as c:
        got = summaries.counts(c, by=["desk"], date_from=dt.date(2024, 1, 1),
                               date_to=dt.date(2024, 12, 31))
    assert _as_dict(got) == {("epa",): len(ids)}


def test_more_than_127_values_and_a_refresh_mixing_code_sizes(engine) -> None:  # noqa: ANN001
    """Codes are stored in the smallest integer type that holds them: a year whose topics
    all have codes below 128 is stored as int8, a later year with appended topics as int16;
    read back together, every topic keeps its count."""
    table = Base.metadata.tables["helpdesk_enquiry"]

    def rows(year: int, topics: range) -> list[tuple]:
        return [(f"V-{year}-{k}", "epa", f"t{k:03d}", f"{year}-06-0{1 + k % 3}", None, "ict",
                 "sme", "DE", False) for k in topics]

    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, rows(2023, range(100)))
        summaries.rebuild(c)
    with engine.begin() as c:
        before = summaries.status(c)
        bulk_insert(c, table, ENQUIRY_COLUMNS, rows(2024, range(40, 200)))
        st = summaries.refresh(c, before, [2024])
    assert len(st.vocab["topic"]) == 200
    with engine.connect() as c:
        got = summaries.counts(c, by=["topic"], time="year", date_from=dt.date(2023, 1, 1),
                               date_to=dt.date(2024, 12, 31))
        mem = summaries._read_cuboid(c, st, "counts",
                                     summaries.pick(summaries.COUNT_CUBOIDS, st.count_rows,
                                                    ["topic"], years=True))
    assert mem.codes["topic"].dtype == np.int16
    assert _as_dict(got) == ({(2023, f"t{k:03d}"): 1 for k in range(100)}
                             | {(2024, f"t{k:03d}"): 1 for k in range(40, 200)})


def test_a_build_committed_between_status_and_cuboid_is_not_mixed_in(engine) -> None:  # noqa: ANN001
    """Another process refreshes the summaries after this request read their status and
    before it read a cuboid: the arrays read hold codes that status does not name. The
    request answers from the fact table instead (None here), never from arrays of
    another build; the next request reads the new ones."""
    table = Base.metadata.tables["helpdesk_enquiry"]
    with engine.begin() as c:
        bulk_insert(c, table, ENQUIRY_COLUMNS, _rows(6, 0, dt.date(2023, 3, 10)))
        summaries.rebuild(c)
    year = {"date_from": dt.date(2023, 1, 1), "date_to": dt.date(2024, 12, 31)}
    summaries._KEPT.clear()
    with engine.connect() as reader:
        assert summaries.status(reader) is not None  # the request's status, then:
        with engine.begin() as other:
            before = summaries.status(other)
            bulk_insert(other, table, ENQUIRY_COLUMNS,
                        [("W-1", "ncp", "funding", "2024-02-02", None, "health", "university",
                          "AT", False)])
            summaries.refresh(other, before, [2024])
        assert summaries.counts(reader, by=["topic"], time="year", **year) is None
    with engine.connect() as c:
        got = summaries.counts(c, by=["topic"], time="year", **year)
    assert _as_dict(got) == {(2023, "tariffs"): 6, (2024, "funding"): 1}


def test_empty_database_has_no_summaries(engine) -> None:  # noqa: ANN001
    with engine.connect() as c:
        assert summaries.status(c) is None
        assert hq.enquiries_by_country(c, year_from=2014, year_to=2026).empty
    with engine.begin() as c:
        st = summaries.rebuild(c)
    assert st.first is None and sum(st.count_rows) == 0
    with engine.connect() as c:
        got = summaries.counts(c, date_from=dt.date(2014, 1, 1), date_to=dt.date(2026, 12, 31))
    assert got is not None and got.empty


def test_an_older_build_is_not_trusted(engine) -> None:  # noqa: ANN001
    with engine.begin() as c:
        summaries.rebuild(c)
        c.execute(Meta.__table__.update().where(Meta.key == summaries.META_KEY)
                  .values(value='{"cuboids": []}'))
    with engine.connect() as c:
        assert summaries.status(c) is None
    with engine.begin() as c:
        summaries.rebuild(c)
    with engine.connect() as c:
        assert summaries.status(c) is not None


def test_split_period_cuts_only_where_data_exist() -> None:
    first, last = dt.date(2014, 1, 3), dt.date(2026, 6, 30)
    parts = summaries.split_period(dt.date(2019, 3, 15), dt.date(2020, 2, 10), first, last)
    assert [(p.d0, p.d1) for p in parts if p.d0] == [
        (dt.date(2019, 3, 15), dt.date(2019, 3, 31)), (dt.date(2020, 2, 1), dt.date(2020, 2, 10))]
    assert [(p.ym0, p.ym1) for p in parts if not p.d0] == [(201904, 202001)]
    # before the first and after the last enquiry a month counts as whole
    parts = summaries.split_period(dt.date(2014, 1, 1), dt.date(2026, 12, 31), first, last)
    assert [(p.ym0, p.ym1, p.d0) for p in parts] == [(201401, 202606, None)]
    assert summaries.split_period(dt.date(2030, 1, 1), dt.date(2030, 2, 1), first, last) == []


def test_pick_takes_the_smallest_cuboid_that_holds_the_question() -> None:
    cubs = summaries._cuboids(("month", ("desk", "topic", "sector"), False),
                              ("month", ("desk", "topic", "sector")),
                              ("month", ("desk", "sector")), ("year", ("desk", "sector")),
                              ("month", ("desk",)))
    rows = [1000, 900, 100, 10, 20]
    assert summaries.pick(cubs, rows, ["desk"], years=False) == 4
    assert summaries.pick(cubs, rows, ["sector"], years=True) == 3
    assert summaries.pick(cubs, rows, ["sector"], years=False) == 2
    assert summaries.pick(cubs, rows, ["topic", "sector"], years=True) == 1  # not 0: temporary
    assert summaries.pick(cubs, rows, ["country"], years=True) is None


def test_stale_summaries_are_rebuilt_when_the_app_starts(engine) -> None:  # noqa: ANN001
    """A database whose summaries do not match (another version's cuboids, or rows written
    without an import) gets them rebuilt at start, instead of every chart reading the facts."""
    from sqlalchemy import delete, update

    from app import _refresh_summaries
    from data_access.demo import load_demo

    load_demo(engine, until=dt.date(2021, 6, 30), enquiries=3000, log=lambda *_: None)
    with engine.begin() as c:  # what an older build left: another definition of the cuboids
        c.execute(update(Meta).where(Meta.key == summaries.META_KEY)
                  .values(value='{"cuboids": [], "max_id": 0}'))
        c.execute(delete(HelpdeskCuboid))
    with engine.connect() as c:
        assert summaries.status(c) is None
    _refresh_summaries(engine)
    with engine.connect() as c:
        assert summaries.status(c) is not None
        n = c.execute(select(HelpdeskCuboid.rows)).first()
        assert n is not None
        got = hq.enquiries_by_requester(c, year_from=2014, year_to=2021)
    assert int(got["enquiries"].sum()) == 3000


# ---- Refresh after an import: only the touched years, same result as a full rebuild --------
def _snapshot(engine) -> tuple[dict[str, set], tuple]:  # noqa: ANN001
    """Every summary row (each cuboid's rows as values, not codes: a refresh appends values
    a full rebuild would sort) and the status, less the size of the unstored root."""
    from data_access.models import (
        HelpdeskDailyDaysSummary,
        HelpdeskDailySummary,
        TechOfferSummary,
    )

    with engine.connect() as c:
        st = summaries.status(c)
        assert st is not None, "the summaries must be fresh after every import"
        tables = {m.__tablename__: {tuple(r) for r in c.execute(select(m.__table__))}
                  for m in (HelpdeskDailySummary, HelpdeskDailyDaysSummary, TechOfferSummary)}
        for kind, cuboids in (("counts", summaries.COUNT_CUBOIDS),
                              ("days", summaries.DAYS_CUBOIDS)):
            for cid, cub in enumerate(cuboids):
                if cub.stored:
                    tables[f"{kind} {cid}"] = _cuboid_rows(summaries._read_cuboid(
                        c, st, kind, cid))
    stored = tuple(n for n, cub in zip(st.count_rows, summaries.COUNT_CUBOIDS, strict=True)
                   if cub.stored)
    return tables, (st.max_id, st.offer_max_id, st.first, st.last, stored, st.days_rows,
                    st.daily_months)


def _cuboid_rows(mem) -> set[tuple]:  # noqa: ANN001
    """A cuboid's rows as (ym, values of its dimensions..., count or sorted histogram)."""
    values = [[mem.values[d][k] for k in codes] for d, codes in sorted(mem.codes.items())]
    heads = list(zip(mem.ym.tolist(), *values, strict=True))
    if mem.offsets is None:
        return {(*h, n) for h, n in zip(heads, mem.n.tolist(), strict=True)}
    o = mem.offsets.tolist()
    return {(*h, tuple(sorted(zip(mem.days[o[i]:o[i + 1]].tolist(),
                                  mem.n[o[i]:o[i + 1]].tolist(), strict=True))))
            for i, h in enumerate(heads)}


def test_an_import_recounts_only_its_years_and_matches_a_full_rebuild(
        engine, monkeypatch) -> None:  # noqa: ANN001
    """New rows, rows moved to another year, and an import of other data: each refresh
    recounts only the years the import touched, and leaves every summary exactly as a full
    rebuild would."""
    from data_access.demo import load_demo
    from data_access.importers import InputFile, import_files
    from tests.import_corpus import EPA_HEADER, HELPDESK_HEADER, epa_rows, helpdesk_rows, to_csv

    load_demo(engine, until=DEMO_UNTIL, enquiries=4000, log=lambda *_: None)
    recounted: list[list[int] | None] = []
    build = summaries._build

    def spy(conn, before, years, today):  # noqa: ANN001, ANN202
        recounted.append(None if years is None else list(years))
        return build(conn, before, years, today)

    monkeypatch.setattr(summaries, "_build", spy)

    def check(name: str, header: list[str], rows: list, family: str) -> None:
        report = import_files(engine, [InputFile.from_bytes(name, to_csv(header, rows))],
                              family)
        assert report.outcome == "committed", report.error
        after_import = _snapshot(engine)
        with engine.begin() as c:
            summaries.rebuild(c)
        assert after_import == _snapshot(engine)

    new = helpdesk_rows(400)  # received 2024-01-02 .. 2025-02-04
    check("enquiries.csv", HELPDESK_HEADER, new, "helpdesk")
    assert recounted[-2:] == [[2024, 2025], None]  # the import's refresh, then the rebuild
    moved = [r[:3] + ["2016-05-17", "2016-06-01"] + r[5:] for r in new[:5]]
    check("moved.csv", HELPDESK_HEADER, moved, "helpdesk")
    assert recounted[-2] == [2016, 2024]  # where the rows went, and where they were
    check("epa.csv", EPA_HEADER, epa_rows(), "epa")
    assert recounted[-2] == []  # no enquiry changed: nothing recounted


@pytest.mark.parametrize("time_grain", [None, "month", "quarter"])
def test_most_of_a_month_is_its_total_less_the_days_outside(demo_engine, raw, monkeypatch,
                                                            time_grain) -> None:  # noqa: ANN001
    """A period cut one day into a month, with a filter the daily summary does not hold (a
    leap year's "period before" starts on 2 January): the month's total from a cuboid less
    the one day outside, read from the facts; the same numbers as the raw rows, counts and
    days-to-answer histograms alike."""
    read: list[tuple[dt.date, dt.date]] = []
    days_of_month = summaries._days_of_month

    def spy(conn, part, *args, **kwargs):  # noqa: ANN001, ANN202
        read.append((part.d0, part.d1))
        return days_of_month(conn, part, *args, **kwargs)

    monkeypatch.setattr(summaries, "_days_of_month", spy)
    requester = sorted(raw.requester_type.unique())[0]
    case = {"d0": dt.date(2020, 1, 2), "d1": dt.date(2020, 3, 31), "by": ["topic"],
            "time": time_grain, "filters": {"requester": [requester]}}
    with demo_engine.connect() as c:
        got = summaries.counts(c, by=["topic"], time=time_grain, date_from=case["d0"],
                               date_to=case["d1"], filters=case["filters"])
        hist = summaries.days_histogram(c, by=[], time=time_grain, date_from=case["d0"],
                                        date_to=case["d1"], filters=case["filters"])
    assert read == [(dt.date(2020, 1, 1), dt.date(2020, 1, 1))] * 2  # one day of facts each
    assert _as_dict(got) == _as_dict(_expected(raw, case, days=False))
    assert _as_dict(hist) == _as_dict(_expected(raw, {**case, "by": []}, days=True))


@pytest.mark.parametrize("time_grain", [None, "month"])
def test_most_of_a_month_less_the_days_outside_from_the_daily_summary(
        demo_engine, raw, monkeypatch, time_grain) -> None:  # noqa: ANN001
    """The same cut in a month the daily summary holds, with filters it holds (a sector):
    the month's total less the one day outside, read from the daily summary, not the
    thirty days inside; the same numbers as the raw rows."""
    read: list[tuple[dt.date, dt.date, bool]] = []
    days_of_month = summaries._days_of_month

    def spy(conn, part, *args, **kwargs):  # noqa: ANN001, ANN202
        read.append((part.d0, part.d1, kwargs["daily"]))
        return days_of_month(conn, part, *args, **kwargs)

    with demo_engine.connect() as c:
        st = summaries.status(c)
    assert st is not None and st.first is not None and st.last is not None
    inside = [m for m in sorted(st.daily_months)
              if dt.date(m // 100, m % 100, 1) > st.first
              and summaries.month_end(dt.date(m // 100, m % 100, 1)) < st.last]
    assert inside, "the demo data have a month with daily counts inside their span"
    start = dt.date(inside[0] // 100, inside[0] % 100, 1)
    monkeypatch.setattr(summaries, "_days_of_month", spy)
    sector = sorted(raw.sector_code.unique())[0]
    case = {"d0": start + dt.timedelta(days=1), "d1": summaries.month_end(start),
            "by": ["topic"], "time": time_grain, "filters": {"sector": [sector]}}
    with demo_engine.connect() as c:
        got = summaries.counts(c, by=["topic"], time=time_grain, date_from=case["d0"],
                               date_to=case["d1"], filters=case["filters"])
        hist = summaries.days_histogram(c, by=[], time=time_grain, date_from=case["d0"],
                                        date_to=case["d1"], filters=case["filters"])
    assert read == [(start, start, True)] * 2  # one day, from the daily summary, each
    assert _as_dict(got) == _as_dict(_expected(raw, case, days=False))
    assert _as_dict(hist) == _as_dict(_expected(raw, {**case, "by": []}, days=True))
