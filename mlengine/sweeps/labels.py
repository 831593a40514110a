"""Sweep job labels as the user typed them: Hydra's float `range()` accumulates binary rounding error
(`range(0.1,0.5,0.1)` yields `0.30000000000000004`), so a float is rounded to 12 significant digits, which gives
back the decimal the user meant (`0.3`) while keeping a float a float (`1.0` stays `1.0`, never the int `1`).
Only values printed with 16 or more significant digits (a float's rounding residue) are rounded; a value the user
typed with fewer digits is kept as written."""

from __future__ import annotations

import re

_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][+-]?\d+)?$")
DIGITS = 12


def tidy_value(text: str) -> str:
    """`0.30000000000000004` -> `0.3`; anything that is not a float literal is returned unchanged."""
    if not _FLOAT.match(text):
        return text
    mantissa = re.split(r"[eE]", text.lstrip("+-"))[0].replace(".", "").lstrip("0")
    if len(mantissa) < 16:
        return text  # not a float's rounding residue (those print 16-17 digits): keep the user's spelling
    value = float(text)
    short = format(value, f".{DIGITS}g")
    if not any(c in short for c in ".en"):
        short += ".0"  # still a float for Hydra's grammar
    return short


def tidy_override(override: str) -> str:
    """`split.holdout=0.30000000000000004` -> `split.holdout=0.3` (the key and any `+`/`++` prefix kept)."""
    key, sep, value = override.partition("=")
    return f"{key}{sep}{tidy_value(value)}" if sep else override
