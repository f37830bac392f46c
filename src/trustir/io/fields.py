"""Strict readers of one text field: plain ASCII integers, finite floats.

Python's ``int()`` accepts "1_0" (10), "٣" (3) and full-width digits, and ``float()`` accepts
"nan", "inf" and "1_0.5": none of those belongs in a qrels grade, a rank or a score, so every
text parser of ``trustir.io`` reads numbers through these (holes found by issue 19's
property-based tests).
"""

from __future__ import annotations

import math
import re

_INT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


def plain_int(text: str) -> int | None:
    """``text`` (surrounding spaces allowed) as an int if it is ASCII digits with a sign, else
    None."""
    text = text.strip()
    return int(text) if _INT.match(text) else None


def finite_float(text: str) -> float | None:
    """``text`` as a finite float written in plain decimal/exponent notation, else None."""
    text = text.strip()
    if not _FLOAT.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None
