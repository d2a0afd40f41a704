"""Number formats and the shared colour-blind-safe palette."""

from __future__ import annotations

import math

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                            "#F0E442", "#000000")
POSITIVE = "#009E73"
NEGATIVE = "#D55E00"
NEUTRAL = "#6c757d"
FONT_FAMILY = "Noto Sans, Noto Sans CJK JP, Helvetica Neue, Arial, sans-serif"


def is_missing(x: object) -> bool:
    """True for None and NaN."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_int(x: float | None) -> str:
    """12345 -> '12,345'; missing -> '–'."""
    return "–" if is_missing(x) else f"{x:,.0f}"


def fmt_num(x: float | None, digits: int = 1) -> str:
    """A number with fixed decimals and thousands separators."""
    return "–" if is_missing(x) else f"{x:,.{digits}f}"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """0.535 -> '53.5%'."""
    return "–" if is_missing(x) else f"{x * 100:,.{digits}f}%"


def fmt_eur(x: float | None) -> str:
    """Euros with a sensible unit: €1.3M, €66.0bn."""
    if is_missing(x):
        return "–"
    a = abs(x)
    if a >= 1e9:
        return f"€{x / 1e9:,.1f}bn"
    if a >= 1e6:
        return f"€{x / 1e6:,.1f}M"
    if a >= 1e3:
        return f"€{x / 1e3:,.0f}k"
    return f"€{x:,.0f}"


def fmt_signed(x: float, digits: int = 0, suffix: str = "") -> str:
    """+12, −3.4 with a real minus sign."""
    s = f"{abs(x):,.{digits}f}{suffix}"
    return f"+{s}" if x > 0 else (f"−{s}" if x < 0 else s)
