"""Trees (trunk + crown), bushes and hedges, and the trees that line streets.

Crowns are lumpy ellipsoids or cones tagged vegetation (70) with a leafy material that
drops some returns; trunks are tagged trunk (71).
"""
from __future__ import annotations

import numpy as np

from ...mesh import cone, cyl
from .layout import Street
from .shapes import blob, span
from .world import BARK, LEAVES, Part, World

__all__ = ["tree", "bush", "hedge", "add_avenue_trees", "add_cross_street_trees"]


def tree(rng: np.random.Generator, conifer: bool = False, clear: float = 0.0) -> list[Part]:
    """Trunk + crown (one to three lumps, or a cone); ``clear``: the crown stays above
    this height (trees over the road and sidewalk)."""
    h = rng.uniform(2.0, 4.0)
    r = rng.uniform(0.12, 0.3)
    parts = []
    top = h + 0.8
    if conifer:
        radius = rng.uniform(1.2, 2.2)
        parts.append((cone((0, 0, max(h * 0.6, clear)), (0, 0, h + rng.uniform(4, 8)), radius, 12), 70, LEAVES, None))
    else:
        R = rng.uniform(1.6, 3.6)
        for _ in range(int(rng.integers(1, 4))):
            rz = R * rng.uniform(0.7, 1.0)
            cz = max(h + R * rng.uniform(0.6, 0.9), clear + 1.3 * rz)  # 1.3: radial noise margin
            c = (rng.normal(0, R * 0.25), rng.normal(0, R * 0.25), cz)
            parts.append((blob(rng, c, (R, R * rng.uniform(0.8, 1.2), rz)), 70, LEAVES, None))
            top = max(top, cz)
    return [(cyl((0, 0, -0.1), (0, 0, top), r, 8), 71, BARK, float(rng.uniform(0.2, 0.4)))] + parts


def bush(rng: np.random.Generator) -> list[Part]:
    R = rng.uniform(0.4, 1.4)
    crown = blob(rng, (0, 0, R * 0.3), (R * rng.uniform(1, 1.6), R, R * rng.uniform(0.6, 0.9)), 0.2)
    return [(crown, 70, LEAVES, None)]


def hedge(rng: np.random.Generator, length: float) -> list[Part]:
    """A trimmed hedge along local x from 0 to ``length``, 1 m thick, corners jittered."""
    hh = rng.uniform(0.8, 2.0)
    V, T = span(0, length, -0.5, 0.5, 0, hh)
    return [((V + rng.normal(0, 0.06, V.shape), T), 70, LEAVES, None)]


def add_avenue_trees(w: World, rng: np.random.Generator, st: Street, s: int, u: float, v: float) -> None:
    """Trees in pits along the sidewalk piece [u, v] (most non-rural streets), crowns clear of traffic."""
    if st.style == "rural" or rng.random() >= 0.8:
        return
    x = u + rng.uniform(0, 8)
    while x < v:
        if rng.random() < 0.85:
            w.add_object(tree(rng, clear=3.5), x, s * (st.curb(s) + st.sidewalk_w * 0.6), 0.0, st.curb_h)
        x += rng.uniform(6, 12)


def add_cross_street_trees(w: World, rng: np.random.Generator, st: Street, s: int) -> None:
    """Trees along both sidewalks of the cross street on side ``s``."""
    if not st.cross:
        return
    for u, v in ((st.xlo - st.sidewalk_w, st.xlo), (st.xhi, st.xhi + st.sidewalk_w)):
        for yt in np.arange(st.curb(s) + rng.uniform(4, 10), st.ymax, rng.uniform(9, 15)):
            if rng.random() < 0.5:
                w.add_object(tree(rng, clear=3.5), (u + v) / 2, s * yt, 0.0, st.curb_h)
