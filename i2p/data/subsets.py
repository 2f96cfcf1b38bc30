"""Training subsets of paper §4.3: fractions of the data and k shots per class, seeded."""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import torch

__all__ = ["fraction_subset", "k_shot_subset"]


def fraction_subset(num_samples: int, fraction: float, seed: int) -> list[int]:
    """``round(fraction * n)`` sample indices (at least one), drawn with a fixed seed."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    k = max(1, round(fraction * num_samples))
    g = torch.Generator().manual_seed(seed)
    return sorted(torch.randperm(num_samples, generator=g)[:k].tolist())


def k_shot_subset(labels: Sequence[int], k: int, seed: int) -> list[int]:
    """``k`` samples of every class (all of a class that has fewer), fixed seed."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    by_class: dict[int, list[int]] = defaultdict(list)
    for i, y in enumerate(labels):
        by_class[int(y)].append(i)
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for y in sorted(by_class):
        idx = by_class[y]
        chosen += [idx[j] for j in torch.randperm(len(idx), generator=g)[:k].tolist()]
    return sorted(chosen)
