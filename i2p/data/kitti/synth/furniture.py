"""Street furniture: lamps, traffic signs, bins and shelters along the sidewalks.

Poles are pole (80); sign plates are traffic-sign (81) with a retro-reflective material,
so they are the brightest returns in a sweep, as in real KITTI scans.
"""
from __future__ import annotations

import numpy as np

from ...mesh import cyl, extrude
from .layout import Street
from .shapes import span
from .structures import shelter
from .world import METAL, SIGN, Part, World

__all__ = ["lamp", "sign", "litter_bin", "add_sidewalk_furniture"]


def lamp(rng: np.random.Generator, s: int) -> list[Part]:
    """Street lamp: pole with an arm reaching over the road (towards ``-s * y``) and a lamp head."""
    h = rng.uniform(6.5, 9.0)
    arm = rng.uniform(1.0, 2.5)
    y0, y1 = sorted([0.0, -s * arm])
    return [(cyl((0, 0, 0), (0, 0, h), 0.09, 8), 80, METAL, None),
            (span(-0.05, 0.05, y0, y1, h - 0.1, h), 80, METAL, None),
            (span(-0.25, 0.25, -s * arm - 0.15, -s * arm + 0.15, h - 0.3, h - 0.05), 80, METAL, 0.6)]


def sign(rng: np.random.Generator) -> list[Part]:
    """A post with a rectangular, round or triangular plate facing +x, sometimes a second plate below."""
    h = rng.uniform(2.0, 2.8)
    parts = [(cyl((0, 0, 0), (0, 0, h + 0.1), 0.04, 6), 80, METAL, None)]
    shape = rng.choice(["rect", "disk", "tri"])
    w = rng.uniform(0.5, 0.9)
    if shape == "disk":
        plate = cyl((0.04, 0, h + w / 2), (0.08, 0, h + w / 2), w / 2, 14)
    elif shape == "tri":
        plate = extrude([(-w / 2, h), (w / 2, h), (0, h + 0.87 * w)], 0.05, 0.09, axis="x")
    else:
        plate = span(0.05, 0.09, -w / 2, w / 2, h, h + w * rng.uniform(0.6, 1.2))
    parts.append((plate, 81, SIGN, None))
    if rng.random() < 0.3:
        parts.append((span(0.05, 0.09, -0.3, 0.3, h - 0.45, h - 0.05), 81, SIGN, None))
    return parts


def litter_bin(rng: np.random.Generator) -> list[Part]:
    """Other-object (99, ignored in training)."""
    return [(span(-0.3, 0.3, -0.3, 0.3, 0, rng.uniform(0.8, 1.1)), 99, METAL, float(rng.uniform(0.1, 0.5)))]


def add_sidewalk_furniture(w: World, rng: np.random.Generator, st: Street, s: int, u: float, v: float) -> None:
    """Lamps and signs at the curb, bins and (urban) a shelter on the sidewalk piece [u, v] of side ``s``."""
    hc, ycurb = st.curb_h, st.curb(s) + 0.5
    x = u + rng.uniform(0, 10)
    while x < v:
        w.add_object(lamp(rng, s), x, s * ycurb, 0.0, hc)
        x += rng.uniform(18, 35)
    x = u + rng.uniform(0, 15)
    while x < v:
        yaw = 0.0 if s < 0 else np.pi  # plates face the traffic on this side
        w.add_object(sign(rng), x, s * (ycurb + rng.uniform(-0.1, 0.3)), yaw, hc)
        x += rng.uniform(12, 40)
    for _ in range(rng.poisson((v - u) / 50)):
        w.add_object(litter_bin(rng), rng.uniform(u, v), s * rng.uniform(st.curb(s) + 0.4, st.lot_line(s) - 0.4), 0.0, hc)
    if st.style == "urban" and rng.random() < 0.3:
        w.add_object(shelter(rng), rng.uniform(u, v), s * (st.lot_line(s) - 1.0), 0.0 if s > 0 else np.pi, hc)
