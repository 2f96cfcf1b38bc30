"""What the recipes share: the draw helper and parts common to furniture (legs, drawer and
door fronts, a cabinet body). Written z-up, like the recipes."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ...mesh import Mesh, box, boxes, cyl

__all__ = ["Rand", "Recipe", "legs4", "fronts", "cabinet"]


class Rand:
    """Short names for the draws the recipes make, from the shape's own generator."""

    def __init__(self, g: np.random.Generator) -> None:
        self.g = g

    def u(self, a: float, b: float) -> float:
        return float(self.g.uniform(a, b))

    def i(self, a: int, b: int) -> int:  # inclusive
        return int(self.g.integers(a, b + 1))

    def p(self, q: float) -> bool:
        return bool(self.g.random() < q)

    def pick(self, seq: Sequence[Any], weights: Sequence[float] | None = None) -> Any:
        if weights is None:
            return seq[int(self.g.integers(len(seq)))]
        w = np.asarray(weights, dtype=np.float64)
        return seq[int(self.g.choice(len(seq), p=w / w.sum()))]


def legs4(x: float, y: float, z0: float, z1: float, th: float, round_: bool = False, splay: float = 0.0) -> list[Mesh]:
    """Four legs at (+-x, +-y) from z1 (top) down to z0, optionally splayed outwards."""
    out = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            top = np.array([sx * x, sy * y, z1])
            bot = np.array([sx * (x + splay), sy * (y + splay), z0])
            if round_ or splay:
                out.append(cyl(bot, top, th / 2, 10))
            else:
                out.append(box((sx * x, sy * y, (z0 + z1) / 2), (th, th, z1 - z0)))
    return out


def fronts(x0: float, x1: float, z0: float, z1: float, y: float, rows: int, cols: int, knob: str = "knob",
           gap: float = 0.012) -> list[Mesh]:
    """Drawer/door fronts on the face y = ``y`` (facing -y) of a cabinet, with handles
    (``knob``, ``bar``, ``vbar`` for doors, or ``none`` for raised panels)."""
    cs, ss, hs = [], [], []
    w = (x1 - x0) / cols
    h = (z1 - z0) / rows
    for i in range(rows):
        for j in range(cols):
            cx, cz = x0 + (j + 0.5) * w, z0 + (i + 0.5) * h
            cs.append((cx, y - 0.006, cz))
            ss.append((w - gap, 0.012, h - gap))
            if knob == "knob":
                hs.append(((cx, y - 0.02, cz + 0.15 * h), (0.03, 0.02, 0.02)))
            elif knob == "bar":
                hs.append(((cx, y - 0.02, cz + 0.15 * h), (min(0.12, 0.5 * w), 0.02, 0.015)))
            elif knob == "vbar":  # doors: vertical handle near the inner edge
                side = -1 if j >= cols / 2 else 1
                hx = cx + side * 0.38 * w if cols > 1 else cx + 0.38 * w
                hs.append(((hx, y - 0.02, cz), (0.015, 0.02, min(0.3, 0.4 * h))))
    out = [boxes(cs, ss)]
    if hs:
        out.append(boxes([c for c, _ in hs], [s for _, s in hs]))
    return out


def cabinet(R: Rand, W: float, D: float, H: float, leg: float, top_over: float = 0.0) -> list[Mesh]:
    """A W x D x H box body, on four legs of height ``leg`` (0: none), with an overhanging top."""
    P = [box((0, 0, leg + (H - leg) / 2), (W, D, H - leg))]
    if leg:
        P += legs4(W / 2 - 0.04, D / 2 - 0.04, 0, leg, 0.05, round_=R.p(0.5))
    if top_over:
        P.append(box((0, 0, H + 0.012), (W + top_over, D + top_over, 0.025)))
    return P


#: a class recipe: draws from ``Rand`` and returns the parts of one z-up mesh
Recipe = Callable[[Rand], list[Mesh]]
