"""Templates (CSV and XLSX) and the data dictionary, generated from the same schema objects
the validator uses (`importers.schemas`), so the documentation cannot drift from the checks.

    python -m data_access.templates --markdown     # the data dictionary for the README
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys

import pandas as pd

from data_access import vocab
from data_access.importers import cordis
from data_access.importers.schemas import FAMILIES, Column, FamilySchema

DICT_COLUMNS = ["column", "required", "type", "allowed values", "description", "example"]
TEMPLATE_FAMILIES: tuple[str, ...] = tuple(FAMILIES)


def schema(family: str) -> FamilySchema:
    """The schema of a template family (KeyError for an unknown one)."""
    return FAMILIES[family]


def _example_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return f"{v:.2f}"
    return str(v)


def dictionary_frame(family: str) -> pd.DataFrame:
    """One row per column of a family's file: name, required, type, allowed values,
    description, example (CORDIS: the columns read from project.csv and organization.csv)."""
    if family == "cordis":
        rows = [{"column": f"{file}: {name}", "required": "yes" if req else "no",
                 "type": "CORDIS", "allowed values": "", "description": what, "example": ""}
                for file, fields in (("project.csv", cordis.PROJECT_FIELDS),
                                     ("organization.csv", cordis.ORG_FIELDS))
                for name, req, what in fields]
        return pd.DataFrame(rows, columns=DICT_COLUMNS)
    s = schema(family)
    rows = []
    for c in s.columns:
        names = c.name + (f" (also: {', '.join(c.aliases)})" if c.aliases else "")
        rows.append({"column": names, "required": "yes" if c.required else "no",
                     "type": c.type_text(), "allowed values": c.allowed_text(),
                     "description": c.description, "example": _example_text(c.example)})
    return pd.DataFrame(rows, columns=DICT_COLUMNS)


def template_csv(family: str) -> bytes:
    """Header and one example row, comma-separated UTF-8 with a BOM (Excel opens it right)."""
    s = schema(family)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.name for c in s.columns])
    w.writerow([_example_text(c.example) for c in s.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx_value(c: Column) -> object:
    v = c.example
    if v in ("", None):
        return None
    if c.kind == "date":
        return dt.date.fromisoformat(str(v))
    return v


def _allowed_rows(s: FamilySchema) -> list[tuple[str, str, str, str]]:
    out = []
    for c in s.columns:
        if c.vocab is not None:
            out.extend((c.name, code, en, ja) for code, en, ja in c.vocab.terms)
        elif c.kind == "hs":
            out.extend((c.name, sec, f"chapters {ch}: {en}", ja)
                       for sec, ch, en, ja, _ in vocab.HS_SECTIONS)
    return out


def _sheet(wb, title: str, header: list[str], rows: list) -> None:  # noqa: ANN001
    from openpyxl.styles import Font

    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append(list(r))
    for i, h in enumerate(header, start=1):
        width = max([len(str(h))] + [len(str(r[i - 1] or "")) for r in rows[:200]] + [8])
        ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, width + 2)
    ws.freeze_panes = "A2"


def template_xlsx(family: str) -> bytes:
    """The template as a workbook: 'data' (header + example row), 'dictionary' and
    'allowed values'. Only the first sheet is read when the file is loaded."""
    import openpyxl

    s = schema(family)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _sheet(wb, "data", [c.name for c in s.columns], [[_xlsx_value(c) for c in s.columns]])
    ws = wb["data"]
    for i, c in enumerate(s.columns, start=1):
        if c.kind == "date":
            ws.cell(2, i).number_format = "yyyy-mm-dd"
    d = dictionary_frame(family)
    _sheet(wb, "dictionary", DICT_COLUMNS, d.values.tolist())
    _sheet(wb, "allowed values", ["column", "code", "English", "日本語"], _allowed_rows(s))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def dictionary_xlsx() -> bytes:
    """The data dictionary of every family (CORDIS included), one sheet each."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for family in (*TEMPLATE_FAMILIES, "cordis"):
        d = dictionary_frame(family)
        _sheet(wb, family, DICT_COLUMNS, d.values.tolist())
    rows = []
    for family in TEMPLATE_FAMILIES:
        rows.extend((family, *r) for r in _allowed_rows(schema(family)))
    _sheet(wb, "allowed values", ["family", "column", "code", "English", "日本語"], rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def dictionary_csv(family: str) -> bytes:
    """One family's data dictionary as CSV (UTF-8 with BOM)."""
    return ("\ufeff" + dictionary_frame(family).to_csv(index=False)).encode("utf-8")


def _codes_only(c: Column) -> str:
    if c.vocab is not None:
        codes = c.vocab.codes
        if len(codes) > 30:
            return f"{codes[0]} … {codes[-1]} (or the name)"
        return ", ".join(codes)
    if c.kind == "hs":
        return "I … XXI, or chapter 1 … 99"
    return c.allowed_text()


def dictionary_markdown() -> str:
    """The data dictionary as Markdown tables (for the README)."""
    out = []
    for family in (*TEMPLATE_FAMILIES, "cordis"):
        title = FAMILIES[family].label if family in FAMILIES else "Research participation (CORDIS)"
        out.append(f"### {title} (`--family {family}`)\n")
        d = dictionary_frame(family)
        if family in FAMILIES:  # codes only: the labels are in the XLSX dictionary
            d["allowed values"] = [_codes_only(c) for c in FAMILIES[family].columns]
        cols = ["column", "required", "type", "allowed values", "description", "example"]
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        for _, r in d.iterrows():
            out.append("| " + " | ".join(str(r[c]).replace("|", "/") for c in cols) + " |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    if "--markdown" in sys.argv:
        print(dictionary_markdown())
    else:
        print(__doc__)
