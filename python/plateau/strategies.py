"""Hypothesis strategies for valid setups and training-set sizes: the counterparts of the Rust
proptest strategies ``plateau_theory::strategies`` (same ranges, same rounding), for property
tests of a user's formula (``docs/python.md``).

Every value drawn is valid by construction (``1 <= d <= n``, ``sigma >= 0`` finite,
``N >= 1``), so a property never has to filter. Needs ``hypothesis`` (not a dependency of
``plateau`` itself).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

from hypothesis import strategies as st

from . import Setup

__all__ = ["SetupRanges", "setups", "train_sizes", "setup_and_size"]


@dataclass(frozen=True)
class SetupRanges:
    """Ranges of random setups. ``d``: inclusive ``(lo, hi)``; ``n_over_d`` (``n / d``, ``n``
    rounded down and at least ``d``) and ``sigma``: half-open ``[lo, hi)``. The defaults (``d``
    in 5..=25, ``n / d`` in [4, 8), ``sigma`` in [0.05, 0.5)) are the proportional regime with a
    separated signal cluster, where the deterministic equivalents are asserted."""

    d: Tuple[int, int] = (5, 25)
    n_over_d: Tuple[float, float] = (4.0, 8.0)
    sigma: Tuple[float, float] = (0.05, 0.5)


def setups(ranges: SetupRanges = SetupRanges()) -> st.SearchStrategy[Setup]:
    """Random valid setups within ``ranges``. Raises ``ValueError`` for an empty range or one
    outside the valid domain (a mistake in the test, not in the code under test)."""
    (d_lo, d_hi), (r_lo, r_hi), (s_lo, s_hi) = ranges.d, ranges.n_over_d, ranges.sigma
    if not (1 <= d_lo <= d_hi):
        raise ValueError(f"SetupRanges.d must satisfy 1 <= lo <= hi, got {ranges.d}")
    if not (1.0 <= r_lo < r_hi and math.isfinite(r_hi)):
        raise ValueError(f"SetupRanges.n_over_d must satisfy 1 <= lo < hi < inf, got {ranges.n_over_d}")
    if not (0.0 <= s_lo < s_hi and math.isfinite(s_hi)):
        raise ValueError(f"SetupRanges.sigma must satisfy 0 <= lo < hi < inf, got {ranges.sigma}")

    def build(d: int, ratio: float, sigma: float) -> Setup:
        return Setup(d, max(int(d * ratio), d), sigma)

    return st.builds(
        build,
        st.integers(d_lo, d_hi),
        st.floats(r_lo, r_hi, exclude_max=True),
        st.floats(s_lo, s_hi, exclude_max=True),
    )


def train_sizes(setup: Setup, lo: float, hi: float) -> st.SearchStrategy[int]:
    """Sizes ``N`` in ``[ceil(lo d), floor(hi n)]`` (at least 1; just ``ceil(lo d)`` when
    ``hi n < lo d``)."""
    low = max(math.ceil(lo * setup.d), 1)
    high = max(math.floor(hi * setup.n), low)
    return st.integers(low, high)


def setup_and_size(
    ranges: SetupRanges = SetupRanges(), lo: float = 4.0, hi: float = 3.0
) -> st.SearchStrategy[Tuple[Setup, int]]:
    """A random setup within ``ranges`` and a size ``N`` in ``[lo d, hi n]`` for it."""
    return setups(ranges).flatmap(lambda s: st.tuples(st.just(s), train_sizes(s, lo, hi)))
