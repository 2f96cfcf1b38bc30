"""Materials of SynthS3DIS surfaces: label, base colour, texture pattern, noise, density.

Palettes are rgb in [0, 1], picked per room or object so rooms differ in colour the way
real buildings do (carpet vs tiles, wood vs laminate desks, painted walls).
"""
from __future__ import annotations

from typing import Sequence, TypeVar

import numpy as np

T = TypeVar("T")

WALL_COLORS = [(0.86, 0.85, 0.80), (0.82, 0.80, 0.74), (0.78, 0.80, 0.82), (0.88, 0.86, 0.78),
               (0.76, 0.78, 0.72), (0.86, 0.80, 0.70), (0.80, 0.84, 0.80)]
CEILING_COLORS = [(0.90, 0.90, 0.88), (0.86, 0.86, 0.84), (0.92, 0.91, 0.86)]
CARPET_COLORS = [(0.34, 0.36, 0.40), (0.28, 0.32, 0.44), (0.45, 0.40, 0.34), (0.42, 0.43, 0.40), (0.38, 0.30, 0.30)]
TILE_COLORS = [(0.78, 0.75, 0.68), (0.70, 0.70, 0.68), (0.80, 0.78, 0.74)]
WOOD_COLORS = [(0.62, 0.45, 0.28), (0.72, 0.58, 0.40), (0.50, 0.35, 0.22), (0.80, 0.70, 0.55)]
LAMINATE_COLORS = [(0.88, 0.87, 0.84), (0.62, 0.62, 0.60), (0.30, 0.30, 0.32)]
CHAIR_COLORS = [(0.12, 0.12, 0.13), (0.20, 0.25, 0.50), (0.60, 0.14, 0.14), (0.36, 0.36, 0.38), (0.14, 0.38, 0.32)]
SOFA_COLORS = [(0.58, 0.20, 0.15), (0.25, 0.30, 0.48), (0.48, 0.44, 0.38), (0.30, 0.46, 0.30), (0.22, 0.22, 0.24)]
DOOR_COLORS = [(0.62, 0.45, 0.28), (0.58, 0.58, 0.62), (0.86, 0.86, 0.84), (0.38, 0.26, 0.18), (0.40, 0.50, 0.62)]
FRAME_COLORS = [(0.86, 0.86, 0.86), (0.56, 0.57, 0.60), (0.30, 0.30, 0.32)]
METAL_COLORS = [(0.55, 0.56, 0.58), (0.30, 0.31, 0.33), (0.72, 0.72, 0.70)]

# surface texture patterns (see render.shade)
PLAIN, GRID, WOOD, CARPET, STRIPES, PATCHES, MARKS, SKIRTING, EMISSIVE = range(9)


def material(label: int, color: Sequence[float], pattern: int = PLAIN, p1: float = 0.0, p2: float = 0.0,
             tex: float = 0.05, noise: float = 0.02, density: float = 1.0) -> dict:
    """A surface material: ``p1``/``p2`` parametrise the pattern (period, line width),
    ``tex`` the mottling, ``noise`` the per-point colour noise, ``density`` scales sampling."""
    return {"label": label, "color": tuple(float(c) for c in color), "pattern": pattern,
            "p1": p1, "p2": p2, "tex": tex, "noise": noise, "density": density}


def jitter_color(rng: np.random.Generator, c: Sequence[float], amount: float = 0.04) -> tuple:
    return tuple(float(np.clip(v + rng.normal(0, amount), 0.0, 1.0)) for v in c)


def pick(rng: np.random.Generator, seq: Sequence[T]) -> T:
    return seq[int(rng.integers(len(seq)))]
