"""Argument checks shared by the whole library.

Bad input gets a ``ValueError`` that names the parameter and the allowed range, raised
at the call the user made, never a crash deep inside numpy or torch.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["check_int", "check_float"]


def check_int(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (no upper bound if ``high`` is None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return value


def check_float(name: str, value, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a ``float`` in the interval from ``low`` to ``high`` (open ends optional)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    bad = (value <= low if low_open else value < low) or (value >= high if high_open else value > high)
    if bad or math.isnan(value):
        lb, hb = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lb}{low}, {high}{hb}, got {value}")
    return value
