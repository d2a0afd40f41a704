"""Checking a table against its family schema: every problem of every row, not just the first.

The output is a `Batch` of clean tuples ready for the upsert, and problems on the report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from data_access import vocab
from data_access.importers.parse import (
    Bad,
    as_text,
    is_blank,
    parse_date,
    parse_int,
    parse_number,
    parse_text,
    roman_or_chapter,
)
from data_access.importers.reader import MAX_CELL, PREVIEW_ROWS, Limits, Table
from data_access.importers.report import ImportReport
from data_access.importers.schemas import (
    MIN_DATE,
    PERSONAL_DATA_HEADERS,
    Column,
    FamilySchema,
    norm_header,
)

MAX_PROBLEMS = 100_000  # kept in memory; beyond that only counted (a file of nothing but errors)


@dataclass
class Batch:
    """Clean rows for one table: natural key columns, all columns, tuples in that order."""

    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


def is_formula(v: object) -> bool:
    """A cell that Excel would run as a formula (=HYPERLINK(...), =1+1)."""
    return isinstance(v, str) and v.lstrip()[:1] == "="


def _blank(v: object) -> bool:
    # is_blank, inlined for the common cases: this runs for every cell of every row
    if v is None:
        return True
    if v.__class__ is str:
        return not v or v.isspace()
    return is_blank(v)


def _label(table: Table, i: int) -> str:
    return table.header[i] if i < len(table.header) and table.header[i] else f"#{i + 1}"


FORMULA_MSG = ("Formulas are not accepted (a cell starting with '=' could run in a "
               "spreadsheet): copy the cells and paste them as values")


def map_header(table: Table, schema: FamilySchema, report: ImportReport) -> dict[int, Column]:
    """Match header cells to the schema's columns; record unknown, doubled, personal-data and
    missing columns as problems on row 1."""
    name = table.info.name
    mapping: dict[int, Column] = {}
    seen: dict[str, int] = {}
    expected = ", ".join(c.name for c in schema.columns)
    for i, h in enumerate(table.header):
        n = norm_header(h)
        if schema.refuse_personal_data and n in PERSONAL_DATA_HEADERS:
            report.add(name, 1, h, None, "Column {column!r} would hold personal data (names, "
                       "e-mail addresses, birth dates…): remove the column and upload again; "
                       "the dashboard stores no personal data", column=h)
            continue
        if not n:
            report.add(name, 1, f"#{i + 1}", None, "Column {index} has no name in the header "
                       "row", index=i + 1)
            continue
        col = schema.column(h)
        if col is None:
            report.add(name, 1, h, None, "Unknown column {column!r}: the {family} file has the "
                       "columns {expected}", column=h, family=schema.label, expected=expected)
            continue
        if col.name in seen:
            report.add(name, 1, h, None, "Column {column!r} appears twice", column=col.name)
            continue
        mapping[i] = col
        seen[col.name] = i
    for c in schema.columns:
        if c.required and c.name not in seen:
            report.add(name, 1, c.name, None, "Missing column {column!r} ({description})",
                       column=c.name, description=c.description)
    return mapping


def parse_cell(col: Column, v: Any, *, comma_decimal: bool, today: dt.date,
               rec: dict[str, Any]) -> Any:
    """Parse one non-empty cell for its column; raises Bad with the reason."""
    if col.kind == "text":
        return parse_text(v, max_len=col.max_len)
    if col.kind == "int":
        n = parse_int(v)
        if col.minimum is not None and n < col.minimum:
            raise Bad("Must be {minimum:g} or later" if col.name.endswith("year")
                      else "Must be at least {minimum:g}", minimum=col.minimum)
        if col.maximum is not None and n > col.maximum():
            raise Bad("Must be {maximum:g} or earlier" if col.name.endswith("year")
                      else "Must be at most {maximum:g}", maximum=col.maximum())
        return n
    if col.kind == "number":
        x = parse_number(v, comma_decimal=comma_decimal)
        if col.minimum == 0 and x < 0:
            raise Bad("Must not be negative")
        return x
    if col.kind == "date":
        d = parse_date(v)
        if d < MIN_DATE:
            raise Bad("Too early: dates before {min} are not accepted", min=MIN_DATE.isoformat())
        if col.not_future and d > today:
            raise Bad("In the future (today is {today})", today=today.isoformat())
        return d
    if col.kind == "code":
        assert col.vocab is not None
        code = col.vocab.lookup(as_text(v))
        if code is None:
            if col.vocab.name in ("country", "eu_country"):
                raise Bad("Unknown country code: use ISO 3166-1 alpha-2, e.g. DE or JP"
                          + (" (XX if unknown)" if col.vocab.name == "country" else
                             " for an EU member state"))
            codes = col.vocab.codes
            if len(codes) <= 8:
                raise Bad("Unknown value for {column}: use one of {allowed}",
                          column=col.name, allowed=", ".join(codes))
            raise Bad("Unknown value for {column}: use a code or English name listed in the "
                      "data dictionary", column=col.name)
        return code
    if col.kind == "hs":
        how, code = roman_or_chapter(v)
        if how == "section":
            if code not in vocab.HS_SECTION_CODES:
                raise Bad("Not an HS section (I–XXI) or HS chapter (1–99)")
            rec["_hs_given"] = ("section", code)
            return code
        try:
            section = vocab.hs_section_for_chapter(int(code))
        except ValueError:
            raise Bad("Not an HS section (I–XXI) or HS chapter (1–99)") from None
        rec["_hs_given"] = ("chapter", code)
        return section
    raise AssertionError(col.kind)


def validate_table(table: Table, schema: FamilySchema, report: ImportReport,
                   limits: Limits, *, today: dt.date | None = None) -> Batch:
    """Check every row of `table`; return the clean rows (only meaningful if report.ok)."""
    today = today or dt.date.today()
    name = table.info.name
    mapping = map_header(table, schema, report)
    fields = schema.fields
    batch = Batch(schema.table, schema.key_columns, fields)
    first_row_of: dict[tuple, int] = {}
    header_width = len(table.header)
    by_name = {c.name: c for c in schema.columns}
    preview = report.preview.setdefault(name, {"columns": list(table.header), "rows": []})
    dropped = 0
    hs_given: list[tuple[int, tuple[str, str]]] = []  # EPA: how each clean row named its product

    def problem(row: int, column: str | None, value: Any, template: str, /,
                **params: Any) -> None:
        nonlocal dropped
        if len(report.problems) >= MAX_PROBLEMS:
            dropped += 1
            return
        report.add(name, row, column, value, template, **params)

    mapped = [(i, c, c.target) for i, c in sorted(mapping.items())]
    # Parsed values of codes, dates and numbers repeat a lot: remember them per column.
    memos: dict[int, dict[Any, tuple]] = {i: {} for i, c, _ in mapped if c.kind != "text"}
    comma_decimal = table.comma_decimal

    for rownum, values in table.rows:
        if all(map(_blank, values)):
            continue  # blank lines and Excel's formatted-but-empty rows
        report.rows_read += 1
        if report.rows_read > limits.max_rows:
            report.rows_read -= 1
            problem(rownum, None, None, "The file has more than {limit:,} data rows (setting "
                    "MAX_IMPORT_ROWS): split it into smaller files", limit=limits.max_rows)
            break
        if len(preview["rows"]) < PREVIEW_ROWS:
            preview["rows"].append([as_text(v) if not is_blank(v) else "" for v in values])
        n_before = len(report.problems) + dropped
        rec: dict[str, Any] = {}
        n_values = len(values)
        skip: set[int] = set()  # cells already refused as too long or as formulas
        for i, v in enumerate(values):
            if v.__class__ is str:
                if not v:
                    continue
                if len(v) > MAX_CELL:
                    col = mapping.get(i)
                    problem(rownum, col.name if col else _label(table, i), v, "The value is "
                            "{length:,} characters long, more than a spreadsheet cell holds "
                            "({limit:,}): the file may be damaged", length=len(v), limit=MAX_CELL)
                    skip.add(i)
                    continue
                if v[0] == "=" or (v[0].isspace() and is_formula(v)):
                    col = mapping.get(i)
                    problem(rownum, col.name if col else _label(table, i), v, FORMULA_MSG)
                    skip.add(i)
                    continue
                if i < header_width:
                    continue
            if i >= header_width and not _blank(v):
                problem(rownum, f"#{i + 1}", v, "A value in column {index}, which has no header "
                        "(the header has {width} columns)", index=i + 1, width=header_width)
        for i, col, target in mapped:
            v = values[i] if i < n_values else None
            if _blank(v):
                if col.required:
                    problem(rownum, col.name, None, "A value is required")
                rec[target] = None
                continue
            if i in skip:
                continue
            memo = memos.get(i)
            hit = memo.get(v) if memo is not None and v.__class__ is str else None
            if hit is None:
                scratch: dict[str, Any] = {}
                try:
                    hit = (True, parse_cell(col, v, comma_decimal=comma_decimal, today=today,
                                            rec=scratch), scratch.get("_hs_given"))
                except Bad as bad:
                    hit = (False, bad.template, bad.params)
                if memo is not None and v.__class__ is str:
                    if len(memo) > 50_000:
                        memo.clear()
                    memo[v] = hit
            if hit[0]:
                rec[target] = hit[1]
                if hit[2] is not None:
                    rec["_hs_given"] = hit[2]
            else:
                problem(rownum, col.name, v, hit[1], **hit[2])
        # cross-field checks run on whatever parsed, so one pass reports every problem
        def fail(column: str, template: str, /, *, rec: dict[str, Any] = rec,
                 rownum: int = rownum, **params: Any) -> None:
            c = by_name.get(column)
            value = rec.get(c.target) if c else None
            problem(rownum, column, None if value is None else as_text(value), template,
                    **params)

        schema.check(rec, fail)
        row_ok = len(report.problems) + dropped == n_before
        if row_ok and all(k in rec for k in schema.key_columns):
            key = tuple(rec["_hs_given"] if k == "hs_section" and "_hs_given" in rec else rec[k]
                        for k in schema.key_columns)
            first = first_row_of.get(key)
            if first is not None:
                cols = ", ".join(_file_col(schema, k) for k in schema.key_columns)
                problem(rownum, _file_col(schema, schema.key_columns[0]),
                        " / ".join(as_text(k if not isinstance(k, tuple) else k[1])
                                   for k in key),
                        "Duplicate: the same {columns} as row {first}", columns=cols,
                        first=first)
                row_ok = False
            else:
                first_row_of[key] = rownum
        if not row_ok:
            report.rows_refused += 1
            continue
        schema.derive(rec)
        batch.rows.append(tuple(rec.get(k) for k in fields))
        if "_hs_given" in rec:
            hs_given.append((rownum, rec["_hs_given"]))
    if dropped:
        report.note("{n:,} further problems were found but are not listed", n=dropped)
    table.info.rows = report.rows_read
    if schema.key == "epa":
        _combine_chapters(batch, report, name, hs_given)
    return batch


def _file_col(schema: FamilySchema, target: str) -> str:
    for c in schema.columns:
        if c.target == target:
            return c.name
    return target


def _combine_chapters(batch: Batch, report: ImportReport, name: str,
                      given: list[tuple[int, tuple[str, str]]]) -> None:
    """Add up EPA rows given per HS chapter into their section; refuse a file that gives a
    section both whole and by chapter (it would count twice)."""
    cols = batch.columns
    ki = [cols.index(k) for k in batch.key]
    ei, pi = cols.index("eligible_eur"), cols.index("preferential_eur")
    groups: dict[tuple, list[int]] = {}
    for idx, row in enumerate(batch.rows):
        groups.setdefault(tuple(row[i] for i in ki), []).append(idx)
    if all(len(v) == 1 for v in groups.values()):
        return
    out: list[tuple] = []
    n_chapter_rows = 0
    for key, idxs in groups.items():
        if len(idxs) == 1:
            out.append(batch.rows[idxs[0]])
            continue
        kinds = {given[i][1][0] for i in idxs}
        if "section" in kinds:
            sec_row = next(given[i][0] for i in idxs if given[i][1][0] == "section")
            ch_row = next(given[i][0] for i in idxs if given[i][1][0] == "chapter")
            report.add(name, ch_row, "hs_section", given[idxs[1]][1][1],
                       "This HS chapter belongs to section {section}, which row {row} already "
                       "gives as a whole: it would be counted twice", section=key[3],
                       row=sec_row)
            report.rows_refused += 1
            continue
        n_chapter_rows += len(idxs)
        base = list(batch.rows[idxs[0]])
        base[ei] = sum(batch.rows[i][ei] for i in idxs)
        base[pi] = sum(batch.rows[i][pi] for i in idxs)
        out.append(tuple(base))
    batch.rows = out
    if n_chapter_rows:
        report.note("{n:,} rows given per HS chapter were added up into their HS sections",
                    n=n_chapter_rows)
