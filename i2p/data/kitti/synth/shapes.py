"""Street-scene shapes built from :mod:`i2p.data.mesh` primitives.

Street layouts are planned in extents (from the curb to the lot line, from one post to
the next), so :func:`span` gives a box by its extents; the rest are the few shapes a
street needs that are not a single primitive: wheels, lumpy crowns, rolling terrain,
gable roofs.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ...mesh import Mesh, box, cyl, extrude, sheet, sphere

__all__ = ["span", "wheel", "blob", "terrain", "gable_roof"]


def span(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> Mesh:
    """Axis-aligned box covering ``[x0, x1] x [y0, y1] x [z0, z1]``."""
    return box(((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2), (abs(x1 - x0), abs(y1 - y0), abs(z1 - z0)))


def wheel(r: float, width: float, cx: float, cz: float, cy: float = 0.0, res: int = 10) -> Mesh:
    """Wheel of radius ``r`` with its axle along y, centred at ``(cx, cy, cz)``."""
    return cyl((cx, cy - width / 2, cz), (cx, cy + width / 2, cz), r, res)


def blob(rng: np.random.Generator, centre: Sequence[float], radii: Sequence[float], noise: float = 0.15) -> Mesh:
    """Lumpy ellipsoid (tree crowns, bushes, heads): per-vertex radial noise plus a few
    broad directional bumps, so no two crowns look alike."""
    U, T = sphere((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), res=10)
    n = rng.normal(0, noise, len(U))
    for _ in range(4):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        n += rng.uniform(0.05, 0.25) * np.clip(U @ d, 0, None) ** 3
    return U * (1 + n)[:, None] * np.asarray(radii) + np.asarray(centre), T


def terrain(rng: np.random.Generator, x0: float, x1: float, y0: float, y1: float, z: float, amp: float,
            cell: float = 1.5) -> Mesh:
    """Rolling ground over ``[x0, x1] x [y0, y1]`` around height ``z``: a few random
    sinusoids of amplitude ~``amp`` plus fine noise, on a grid of ``cell`` metres."""
    nx, ny = max(1, math.ceil((x1 - x0) / cell)), max(1, math.ceil((y1 - y0) / cell))
    X, Y = np.meshgrid(np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1), indexing="ij")
    Z = np.full(X.shape, float(z))
    for _ in range(3):
        k = rng.uniform(0.05, 0.4, 2)
        ph = rng.uniform(0, 2 * np.pi, 2)
        Z += amp * 0.5 * np.sin(k[0] * X + ph[0]) * np.sin(k[1] * Y + ph[1])
    Z += rng.uniform(0, amp * 0.5, X.shape)
    return sheet(X, Y, Z)


def gable_roof(x0: float, x1: float, y0: float, y1: float, z0: float, h: float) -> Mesh:
    """Gable roof of height ``h`` over ``[x0, x1] x [y0, y1]`` at eave height ``z0``, ridge along x."""
    return extrude([(y0, z0), (y1, z0), ((y0 + y1) / 2, z0 + h)], x0, x1, axis="x")
