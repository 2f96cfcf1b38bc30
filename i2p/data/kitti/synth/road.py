"""Ground surfaces of the street: road with lane markings and crossings, parking bands,
curbs and sidewalks, the cross street.

Surfaces are thick slabs (top at the surface height) so rays never slip between them;
paint is a 5 mm layer on the asphalt tagged lane-marking (60), which the learning map
folds onto road, as in SemanticKITTI.
"""
from __future__ import annotations

import numpy as np

from .layout import Street
from .shapes import span
from .world import ASPHALT, CONCRETE, PAINT, World

__all__ = ["add_road", "add_side_ground"]

_PAINT_H = 0.005


def add_road(w: World, rng: np.random.Generator, st: Street) -> None:
    """Asphalt, edge lines, lane dividers (dashed, or a double centre line), and at a
    crossing its zebra crossings and a stop line."""
    R, lane_w = st.half_width, st.lane_w
    w.add(span(st.xa, st.xb, -R, R, -0.4, 0.0), 40, ASPHALT)
    for u, v in st.segs(st.xlo - 1, st.xhi + 1):
        for sgn in (-1, 1):  # edge lines, 25 cm in from the road edge
            yl = sgn * R - sgn * 0.25
            w.add(span(u, v, yl - 0.08, yl + 0.08, 0, _PAINT_H), 60, PAINT)
        dash, gap = rng.uniform(2.5, 4.0), rng.uniform(4.0, 8.0)
        for yl in np.arange(1, st.n_lanes) * lane_w - R:
            if abs(yl) < 1e-6 and rng.random() < 0.5:  # double solid centre line
                w.add(span(u, v, -0.2, -0.06, 0, _PAINT_H), 60, PAINT)
                w.add(span(u, v, 0.06, 0.2, 0, _PAINT_H), 60, PAINT)
            else:
                for x0 in np.arange(u + rng.uniform(0, gap), v - dash, dash + gap):
                    w.add(span(x0, x0 + dash, yl - 0.07, yl + 0.07, 0, _PAINT_H), 60, PAINT)
    if st.cross:
        for xz in (st.xlo - 4.5, st.xhi + 1.5):  # zebra crossings
            for yz in np.arange(-R + 0.3, R - 0.5, 1.0):
                w.add(span(xz, xz + 3.0, yz, yz + 0.5, 0, _PAINT_H), 60, PAINT)
        w.add(span(st.xlo - 5.5, st.xlo - 5.1, -R, 0, 0, _PAINT_H), 60, PAINT)  # stop line


def add_side_ground(w: World, rng: np.random.Generator, st: Street, s: int) -> None:
    """Side ``s``: parking band (road where it meets the crossing), the cross street with
    its centre dashes and sidewalks, and the raised sidewalk along the street."""
    yc, ys, hc = st.curb(s), st.lot_line(s), st.curb_h
    if st.park[s] > 0:
        for u, v in st.segs(st.xlo - 8, st.xhi + 8):
            w.add(span(u, v, *st.band(s, st.half_width, yc), -0.4, 0.0), 44, ASPHALT, refl=0.33)
        if st.cross:
            w.add(span(st.xlo - 8, st.xhi + 8, *st.band(s, st.half_width, yc), -0.4, 0.0), 40, ASPHALT)
    if st.cross:
        w.add(span(st.xlo, st.xhi, *st.band(s, yc, st.ymax), -0.4, 0.0), 40, ASPHALT)
        for yl in np.arange(yc + 2, st.ymax, 7.0):
            w.add(span(st.xc - 0.07, st.xc + 0.07, *st.band(s, yl, yl + 3.0), 0, _PAINT_H), 60, PAINT)
        for u, v in ((st.xlo - st.sidewalk_w, st.xlo), (st.xhi, st.xhi + st.sidewalk_w)):
            w.add(span(u, v, *st.band(s, yc, st.ymax), -0.4, hc), 48, CONCRETE)
    for u, v in st.segs(st.xlo, st.xhi):
        w.add(span(u, v, *st.band(s, yc, ys), -0.4, hc), 48, CONCRETE, refl=float(rng.uniform(0.3, 0.45)))
