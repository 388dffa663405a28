"""How the numbers of generation jobs and experiment comparisons read on a page."""

import math


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{max(1, math.ceil(seconds))} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def cost(value: float | None) -> str:
    return "" if value is None else f"${value:.4f}"


def score(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def difference(value: float | None) -> str:
    """A change against the baseline, always signed: ``+0.375``, ``-0.1``, ``±0``."""
    if value is None:
        return ""
    if abs(value) < 1e-12:
        return "±0"
    return f"{value:+.3f}".rstrip("0").rstrip(".")


def p_value(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3g}" if value >= 0.001 else f"{value:.1e}"
