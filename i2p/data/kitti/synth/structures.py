"""Buildings (with windows, doors, ledges, roofs), fences and shelters.

Facades are concrete of a random reflectivity with glass windows (which drop most
returns, as real windows do); a bus shelter is other-structure (52), which the learning
map ignores.
"""
from __future__ import annotations

import numpy as np

from .layout import Street
from .shapes import gable_roof, span
from .world import CONCRETE, GLASS, METAL, WOOD, Part, World

__all__ = ["building", "fence", "shelter", "place_building"]


def building(rng: np.random.Generator, w: float, d: float, h: float, style: str) -> list[Part]:
    """Building on the footprint [0, w] x [0, d], its facade on y = 0 facing -y.

    Floors of windows (a door here and there on the ground floor), ledges or balcony
    bands on urban blocks, a gable roof on most houses elsewhere."""
    facade = float(rng.uniform(0.2, 0.55))
    parts = [(span(0, w, 0, d, -0.2, h), 50, CONCRETE, facade)]
    floor_h = rng.uniform(2.8, 3.4)
    nfl = max(1, int((h - 0.5) / floor_h))
    col = rng.uniform(2.0, 3.2)
    ncol = max(1, int((w - 1.0) / col))
    win_w, win_h = col * rng.uniform(0.4, 0.7), floor_h * rng.uniform(0.4, 0.6)
    xs = np.linspace(0.5 + col / 2, w - 0.5 - col / 2, ncol) if ncol > 1 else np.array([w / 2])
    for f in range(nfl):
        zc = f * floor_h + floor_h * 0.55
        if zc + win_h / 2 > h - 0.3:
            break
        for xc in xs:
            if f == 0 and rng.random() < 0.15:
                parts.append((span(xc - 0.6, xc + 0.6, -0.05, 0.0, 0.0, 2.2), 50, WOOD, None))
                continue
            parts.append((span(xc - win_w / 2, xc + win_w / 2, -0.05, 0.0, zc - win_h / 2, zc + win_h / 2), 50, GLASS, None))
        if style == "urban" and f > 0 and rng.random() < 0.5:
            depth = rng.uniform(0.15, 0.9)
            parts.append((span(0, w, -depth, 0, f * floor_h - 0.1, f * floor_h + 0.1), 50, CONCRETE, facade))
    if style != "urban" and rng.random() < 0.7:
        parts.append((gable_roof(-0.3, w + 0.3, -0.4, d + 0.4, h, rng.uniform(1.5, 3.0)), 50, CONCRETE, 0.25))
    return parts


def fence(rng: np.random.Generator, length: float) -> list[Part]:
    """Fence along local x from 0 to ``length``: posts plus a panel, rails or slats, of wood or metal."""
    kind = rng.choice(["panel", "rails", "slats"])
    h = rng.uniform(0.9, 2.0)
    mat = WOOD if rng.random() < 0.5 else METAL
    parts = []
    for px in np.arange(0, length + 1e-6, rng.uniform(2.0, 3.0)):
        parts.append((span(px - 0.05, px + 0.05, -0.05, 0.05, 0, h + 0.05), 51, mat, None))
    if kind == "panel":
        parts.append((span(0, length, -0.02, 0.02, 0.05, h), 51, mat, None))
    elif kind == "rails":
        for zr in np.linspace(0.3, h - 0.05, 3):
            parts.append((span(0, length, -0.03, 0.03, zr - 0.05, zr + 0.05), 51, mat, None))
    else:
        for sx in np.arange(0.05, length, 0.18):
            parts.append((span(sx, sx + 0.09, -0.015, 0.015, 0.05, h), 51, mat, None))
    return parts


def shelter(rng: np.random.Generator) -> list[Part]:
    """Bus shelter / kiosk: glass back wall, roof and side posts (other-structure, ignored in training)."""
    w = rng.uniform(3, 5)
    return [(span(-w / 2, w / 2, -0.7, -0.65, 0, 2.4), 52, GLASS, 0.3),
            (span(-w / 2, w / 2, -0.8, 0.8, 2.4, 2.5), 52, METAL, None),
            (span(-w / 2, -w / 2 + 0.08, -0.7, 0.7, 0, 2.4), 52, METAL, None),
            (span(w / 2 - 0.08, w / 2, -0.7, 0.7, 0, 2.4), 52, METAL, None)]


def place_building(w: World, st: Street, s: int, parts: list[Part], x0: float, width: float, fy: float) -> None:
    """Put a :func:`building` of ``width`` at x in [x0, x0 + width], facade at ``|y| = fy`` facing the road."""
    if s > 0:
        w.add_object(parts, x0, fy, 0.0, st.curb_h)
    else:  # turned by pi: local [0, width] x [0, d] -> [x0, x0 + width] x [-fy - d, -fy]
        w.add_object(parts, x0 + width, -fy, np.pi, st.curb_h)
