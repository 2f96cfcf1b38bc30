"""Readings computed from numbers: is a difference beyond seed noise, do the rows order
like the paper's? A notebook's sentences come from these, so they change when the
numbers change.

The noise rule: two rows differ *beyond noise* when ``|Δ| > 2·SE`` with ``SE = sqrt(s_a²/n_a
+ s_b²/n_b)`` (the seed-to-seed sample stds); with one seed on either side there is no
noise estimate, and the reading says so instead of guessing.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

__all__ = ["Difference", "difference", "mean_std", "rank_agreement", "fmt"]


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample std (None for one value)."""
    if not values:
        raise ValueError("no values: the rows being compared have no finished runs")
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def fmt(values: Sequence[float]) -> str:
    """``"55.2 ± 2.3 (3)"`` or ``"55.2 (1 seed)"``."""
    m, s = mean_std(values)
    return f"{m:.1f} (1 seed)" if s is None else f"{m:.1f} ± {s:.1f} ({len(values)})"


@dataclass(frozen=True)
class Difference:
    """``a`` minus ``b`` in points; ``beyond_noise`` is None when a side has one seed."""

    a: str
    b: str
    delta: float
    se: float | None
    beyond_noise: bool | None

    @property
    def text(self) -> str:
        sign = "ahead of" if self.delta > 0 else "behind"
        head = f"{self.a} is {abs(self.delta):.1f} points {sign} {self.b}"
        if self.beyond_noise is None:
            return head + " (one seed: no noise estimate)."
        verdict = "beyond" if self.beyond_noise else "within"
        return head + f", {verdict} seed noise (2·SE = {2 * self.se:.1f})."


def difference(a: Sequence[float], b: Sequence[float], names: tuple[str, str] = ("a", "b")) -> Difference:
    """How ``a`` (per-seed values, points) compares with ``b``."""
    ma, sa = mean_std(a)
    mb, sb = mean_std(b)
    if sa is None or sb is None:
        return Difference(names[0], names[1], ma - mb, None, None)
    se = math.sqrt(sa**2 / len(a) + sb**2 / len(b))
    return Difference(names[0], names[1], ma - mb, se, abs(ma - mb) > 2 * se)


def rank_agreement(paper: Sequence[float], run: Sequence[float]) -> tuple[int, int]:
    """(pairs ordered the same way, pairs compared) between the paper's values and this
    run's means; ties in either are skipped."""
    if len(paper) != len(run):
        raise ValueError(f"{len(paper)} paper values but {len(run)} run values")
    same = total = 0
    for i in range(len(paper)):
        for j in range(i + 1, len(paper)):
            dp, dr = paper[i] - paper[j], run[i] - run[j]
            if dp == 0 or dr == 0:
                continue
            total += 1
            same += (dp > 0) == (dr > 0)
    return same, total
