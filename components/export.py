"""Reviewer downloads, as pure functions: the data of a chart as CSV/XLSX bytes, file names
that say what a file shows, and the chart-pack manifest (README.txt + manifest.json).

Spreadsheet safety: text cells a spreadsheet would run as a formula (starting with `=`, `+`,
`-`, `@`, tab or carriage return) are neutralised; real numbers, negative ones included,
stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from components.i18n import t

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_PY_FORMAT = re.compile(
    r"^\{:(?P<sign>[+ -]?)(?P<comma>,?)(\.(?P<digits>\d+))?(?P<kind>[f%dg]?)\}$")
MAX_STEM = 150


# ---- cells --------------------------------------------------------------------------------
def is_formula_like(value: object) -> bool:
    """True for text a spreadsheet would evaluate ('=1+1', '@SUM(..)', '-2+3', '\\t=..')."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return False
    # "-12.5" is just a number written as text: Excel reads it as a number, not a formula
    return not _PLAIN_NUMBER.match(value)


def neutralise(value: object) -> object:
    """A CSV-safe cell: formula-like text gets a leading apostrophe; other values unchanged."""
    if is_formula_like(value):
        return "'" + str(value)
    return value


def _plain(value: object) -> object:
    """numpy/pandas scalars -> Python values; missing -> None; midnight datetimes -> dates."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):  # pd.NA, NaT, numpy nan
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, dt.datetime):  # pd.Timestamp is a datetime too
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date()  # a month or a day, not a moment
        return value
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> int/float/bool
    return value


# ---- columns ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One exported column: DataFrame column, header (with unit), how values are written.

    `percent`: values are shares (0.535); CSV writes percent numbers (53.5) under a '(%)'
    header, XLSX keeps the share with a percent number format (shows 53.5%).
    `labeller`: code -> name; the column then shows names and a '<header> (code)' column
    follows with the codes, so the file reads like the chart and still joins on codes.
    """

    name: str
    header: str
    percent: bool = False
    number_format: str | None = None  # Excel number format
    labeller: Callable[[str], str] | None = None
    code_header: str = ""


def excel_format(py_format: str | None) -> tuple[bool, str | None]:
    """'{:.1%}' -> (True, '0.0%'); '{:,.0f}' -> (False, '#,##0'); '{:+.1%}' -> (True,
    '+0.0%;-0.0%;0.0%'); anything else (dates, text) -> (False, None)."""
    if not py_format:
        return False, None
    m = _PY_FORMAT.match(py_format.strip())
    if not m:
        return False, None
    digits = int(m.group("digits") or 0)
    frac = ("." + "0" * digits) if digits else ""
    base = ("#,##0" if m.group("comma") else "0") + frac
    percent = m.group("kind") == "%"
    if percent:
        base += "%"
    if m.group("sign") == "+":
        base = f"+{base};-{base};{base}"
    return percent, base


def make_columns(columns: Sequence[tuple[str, str]], formats: Mapping[str, str], *,
                 lang: str = "en",
                 labellers: Mapping[str, Callable[[str], str]] | None = None) -> list[Column]:
    """Columns from a ChartSpec's (column, header) pairs and its display formats."""
    out = []
    labellers = labellers or {}
    for name, header in columns:
        percent, xf = excel_format(formats.get(name))
        head = t(header, lang)
        if percent and "%" not in head:
            head += " (%)"
        lab = labellers.get(name)
        out.append(Column(name, head, percent=percent, number_format=xf, labeller=lab,
                          code_header=f"{head} ({t('code', lang)})" if lab else ""))
    return out


def table(df: pd.DataFrame | None, columns: Sequence[Column], *,
          percent_as_number: bool) -> tuple[list[str], list[list[object]]]:
    """Headers and rows (Python values) of the exported table, in the columns' order.

    `percent_as_number` (CSV): percent columns as percent numbers, floats to six decimals;
    otherwise (XLSX) the values as they are, formats doing the display."""
    headers: list[str] = []
    for c in columns:
        headers.append(c.header)
        if c.labeller:
            headers.append(c.code_header)
    rows: list[list[object]] = []
    if df is None or df.empty:
        return headers, rows
    present = [c for c in columns if c.name in df.columns]
    missing = {c.name for c in columns} - {c.name for c in present}
    for rec in df.to_dict("records"):
        row: list[object] = []
        for c in columns:
            v = None if c.name in missing else _plain(rec.get(c.name))
            if c.labeller:
                code = v
                label = c.labeller(str(code)) if code is not None else None
                row.extend([label, code])
                continue
            if percent_as_number and isinstance(v, float):
                # text output: 0.535 -> 53.5 and 215978636.67000002 -> 215978636.67 (float
                # noise of SQL sums), six decimals are far below what any chart shows
                v = round(v * 100 if c.percent else v, 6)
                if v.is_integer() and abs(v) < 1e15:
                    v = int(v)  # 10.0 -> 10 (a float column with whole numbers)
            elif percent_as_number and isinstance(v, (dt.date, dt.datetime)):
                v = v.isoformat()
            elif c.percent and percent_as_number and isinstance(v, int) \
                    and not isinstance(v, bool):
                v = v * 100
            row.append(v)
        rows.append(row)
    return headers, rows


def csv_bytes(df: pd.DataFrame | None, columns: Sequence[Column]) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads Japanese correctly), headers with units."""
    headers, rows = table(df, columns, percent_as_number=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([neutralise(h) for h in headers])
    for r in rows:
        w.writerow(["" if v is None else neutralise(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(df: pd.DataFrame | None, columns: Sequence[Column], *, sheet: str = "Data",
               about: Sequence[tuple[str, str]] = (), about_sheet: str = "About") -> bytes:
    """An XLSX workbook: the data (typed numbers, formats) and an 'About' sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    headers, rows = table(df, columns, percent_as_number=False)
    formats: list[str | None] = []
    for c in columns:
        formats.append(c.number_format)
        if c.labeller:
            formats.append(None)
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_name(sheet)
    bold = Font(bold=True)
    for j, h in enumerate(headers, start=1):
        _text_cell(ws.cell(row=1, column=j), h).font = bold
    for i, r in enumerate(rows, start=2):
        for j, v in enumerate(r, start=1):
            cell = ws.cell(row=i, column=j)
            if isinstance(v, str):
                _text_cell(cell, v)
            else:
                cell.value = v
                if formats[j - 1] and isinstance(v, (int, float)):
                    cell.number_format = formats[j - 1]
                elif isinstance(v, dt.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(v, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    for j, h in enumerate(headers, start=1):
        width = max([len(str(h))] + [len(str(r[j - 1])) for r in rows[:200]
                                     if r[j - 1] is not None])
        ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, width + 2))
    if about:
        wa = wb.create_sheet(_sheet_name(about_sheet))
        for i, (k, v) in enumerate(about, start=1):
            _text_cell(wa.cell(row=i, column=1), k).font = bold
            _text_cell(wa.cell(row=i, column=2), v)
        wa.column_dimensions["A"].width = 22
        wa.column_dimensions["B"].width = 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text_cell(cell: Any, text: str) -> Any:
    """Write text that stays text: openpyxl would turn '=…' into a formula otherwise."""
    cell.value = text
    if is_formula_like(text) or cell.data_type == "f":
        cell.data_type = "s"  # a string cell: shown as written, never evaluated
        cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    return cell


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31] or "Sheet"


# ---- file names ---------------------------------------------------------------------------
def slug(text: object) -> str:
    """'ICT & digital' -> 'ict-digital'; 'eu_jp' -> 'eu-jp' (ASCII letters, digits, '-')."""
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower())
    return s.strip("-")


def filters_slug(year_from: int, year_to: int, sectors: Sequence[str] = (),
                 params: Mapping[str, Sequence[str]] | None = None,
                 selections: Mapping[str, str] | None = None) -> str:
    """'2019-2024_ict' : the years, then the values of every filter, one segment each."""
    parts = [str(year_from) if year_from == year_to else f"{year_from}-{year_to}"]
    groups: list[Sequence[str]] = [sectors] if sectors else []
    groups += [v for _, v in sorted((params or {}).items()) if v]
    groups += [(v,) for _, v in sorted((selections or {}).items()) if v]
    for values in groups:
        vals = [slug(v) for v in values if slug(v)]
        if not vals:
            continue
        parts.append("+".join(vals) if len(vals) <= 3 else f"{len(vals)}-values")
    return "_".join(parts)


def file_stem(page: str, key: str, filters: str) -> str:
    """'helpdesk-enquiries-by-month_2019-2024_ict' (a hash keeps over-long names unique)."""
    stem = f"{slug(page)}-{slug(key)}_{filters}" if key else f"{slug(page)}_{filters}"
    if len(stem) > MAX_STEM:
        digest = hashlib.sha1(stem.encode()).hexdigest()[:8]
        stem = stem[:MAX_STEM - 9].rstrip("-_+") + "-" + digest
    return stem


def content_disposition(filename: str) -> str:
    """An attachment header (names are ASCII slugs; RFC 5987 form added for safety)."""
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


# ---- manifest -----------------------------------------------------------------------------
def manifest_json(manifest: Mapping[str, Any]) -> str:
    """The machine-readable manifest (UTF-8 JSON, stable key order)."""
    return json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"


def readme_text(manifest: Mapping[str, Any], lang: str = "en") -> str:
    """The human-readable manifest: what is in the pack and how to reproduce the view."""
    m = manifest
    f = m.get("filters", {})
    lines = [
        f"{m.get('title', '')}",
        "=" * max(10, len(str(m.get("title", "")))),
        "",
        f"{t('Page', lang)}: {m.get('page_name', m.get('page', ''))}",
        f"{t('Filters', lang)}: {f.get('text', '')}",
        f"{t('Permalink (opens this view)', lang)}: {m.get('permalink', '')}",
        f"{t('Data as of', lang)}: " + (", ".join(
            f"{k}: {v}" for k, v in (m.get("data_as_of") or {}).items() if v) or "–"),
        f"{t('Pack created', lang)}: {m.get('created_at', '')}",
        f"{t('Source', lang)}: {m.get('source', '')}",
    ]
    if m.get("demo_data"):
        lines.append(t("DEMO DATA: synthetic figures, realistic in size but not real.", lang))
    lines += ["", t("Charts", lang), "-" * 6]
    for i, c in enumerate(m.get("charts", []), start=1):
        lines.append(f"{i}. {c.get('title', '')}")
        if c.get("data_as_of"):
            lines.append(f"   {t('Data as of', lang)}: {c['data_as_of']}")
        lines.append(f"   {t('Rows of data', lang)}: {c.get('rows', 0)}")
        for fmt, name in (c.get("files") or {}).items():
            lines.append(f"   {fmt.upper():4} {name}")
    lines += ["", t("Notes", lang), "-" * 5]
    lines += [f"- {n}" for n in m.get("notes", [])]
    return "\n".join(lines) + "\n"
