"""Cell parsers: text from CSV or typed values from XLSX in, clean Python values out.

A parser raises `Bad(template, **params)`; the template is the English message the report
shows (and the key the Data page translates).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any


class Bad(ValueError):
    """A value that cannot be used, with the reason as a message template."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template)
        self.template = template
        self.params = params


def is_blank(v: object) -> bool:
    """None, NaN and whitespace-only strings count as empty cells."""
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def as_text(v: object) -> str:
    """A cell as text; Excel's 12345.0 for an identifier becomes '12345'."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    return str(v).strip()


def parse_text(v: object, *, max_len: int | None = None) -> str:
    """Trimmed text, refused when longer than `max_len`."""
    s = as_text(v)
    if max_len is not None and len(s) > max_len:
        raise Bad("Too long: {length} characters, at most {max_len} allowed",
                  length=len(s), max_len=max_len)
    return s


def parse_int(v: object) -> int:
    """A whole number: 2024, '2024', 2024.0 (from Excel); not 2024.5 or '2,024'."""
    if isinstance(v, bool):
        raise Bad("Not a whole number")
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v.is_integer():
            return int(v)
        raise Bad("Not a whole number")
    s = as_text(v)
    if re.fullmatch(r"[+-]?\d+", s):
        return int(s)
    if re.fullmatch(r"[+-]?\d+\.0+", s):
        return int(s.split(".")[0])
    raise Bad("Not a whole number")


_PLAIN = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def parse_number(v: object, *, comma_decimal: bool = True) -> float:
    """A number. '.' is always a decimal mark; ',' is one when the file's separator is not
    ',' (CORDIS writes '960619,95'). Thousands separators are refused: '1,234' is ambiguous."""
    if isinstance(v, bool):
        raise Bad("Not a number")
    if isinstance(v, (int, float)):
        f = float(v)
    else:
        s = as_text(v).replace("\u00a0", "").replace(" ", "")
        if not _PLAIN.fullmatch(s):
            raise Bad("Not a number (write digits with '.' or ',' as the decimal mark and no "
                      "thousands separators)")
        if "," in s and not comma_decimal:
            raise Bad("Ambiguous number: in a comma-separated file write decimals with '.' "
                      "and no thousands separators")
        f = float(s.replace(",", "."))
    if math.isnan(f) or math.isinf(f):
        raise Bad("Not a number")
    return f


_DATE_RE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")


def parse_date(v: object) -> dt.date:
    """A date: an Excel date cell, or text 'YYYY-MM-DD' (also 'YYYY/MM/DD' as Japanese Excel
    writes it). Day-first or month-first forms are refused: 03/04/2024 is ambiguous."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = as_text(v)
    m = _DATE_RE.fullmatch(s)
    if not m:
        raise Bad("Not a date in the form YYYY-MM-DD (e.g. 2024-03-31)")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise Bad("No such date (check the month and day)") from None


def parse_datetime(v: object) -> dt.datetime:
    """A timestamp 'YYYY-MM-DD HH:MM:SS' (CORDIS contentUpdateDate) or a plain date."""
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    s = as_text(v)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            return dt.datetime.fromisoformat(s)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", s):
            return dt.datetime.fromisoformat(s)
    except ValueError:
        pass
    raise Bad("Not a date and time in the form YYYY-MM-DD HH:MM:SS")


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def parse_bool(v: object) -> bool | None:
    """'true'/'false' (CORDIS), yes/no, 1/0; an empty cell is unknown (None)."""
    if is_blank(v):
        return None
    if isinstance(v, bool):
        return v
    s = as_text(v).lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise Bad("Not true or false")


def roman_or_chapter(v: object) -> tuple[str, str]:
    """('section', 'XVI') for a roman numeral, ('chapter', '84') for an HS chapter number."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if float(v).is_integer():
            return "chapter", str(int(v))
        raise Bad("Not an HS section (I–XXI) or HS chapter (1–99)")
    s = as_text(v).upper()
    s = re.sub(r"^(SECTION|SEC\.?)\s*", "", s)
    if re.fullmatch(r"[IVX]+", s):
        return "section", s
    if re.fullmatch(r"\d{1,2}", s):
        return "chapter", str(int(s))
    raise Bad("Not an HS section (I–XXI) or HS chapter (1–99)")
