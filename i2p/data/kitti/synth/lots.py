"""The lots beyond the sidewalk: buildings, fenced yards, green strips, parking lots, plazas.

Lots are cut along the street with a mix that depends on the street's style (urban:
mostly closed rows of tall buildings; residential: houses with yards; rural: mostly
green). Each lot lays its ground (terrain, paving or asphalt) up to ``ymax`` and its
contents on top.
"""
from __future__ import annotations

import numpy as np

from .agents import car, person
from .furniture import lamp, litter_bin
from .layout import Street
from .shapes import span, terrain
from .structures import building, fence, place_building, shelter
from .vegetation import bush, hedge, tree
from .world import ASPHALT, GRASS, PAINT, PAVING, World

__all__ = ["add_lots"]

_KINDS = ("building", "fence", "green", "parking", "plaza")
_MIX = {"urban": [0.7, 0.04, 0.16, 0.07, 0.03], "residential": [0.4, 0.2, 0.32, 0.04, 0.04],
        "rural": [0.05, 0.15, 0.75, 0.02, 0.03]}


def add_lots(w: World, rng: np.random.Generator, st: Street, s: int) -> None:
    """Lots along side ``s`` (outside the crossing), from the lot line to ``ymax``."""
    for u, v in st.segs(st.xlo - st.sidewalk_w, st.xhi + st.sidewalk_w):
        x = u
        while x < v - 1:
            L = min(v - x, rng.uniform(10, 30) if st.style == "urban" else rng.uniform(12, 35))
            kind = rng.choice(_KINDS, p=_MIX[st.style])
            if kind == "parking":
                _parking_lot(w, rng, st, s, x, x + L)
            elif kind == "plaza":
                _plaza(w, rng, st, s, x, x + L)
            else:
                _yard(w, rng, st, s, x, x + L, kind)
            x += L


def _yard(w: World, rng: np.random.Generator, st: Street, s: int, x0: float, x1: float, kind: str) -> None:
    """A lot set back from the sidewalk: ``building`` (a building with a yard, maybe a fence
    and garden), ``fence`` (a fenced field with trees, maybe a house behind) or ``green``
    (hedge, bushes, trees)."""
    y_in, hc, L = st.lot_line(s), st.curb_h, x1 - x0
    setback = 0.0 if st.style == "urban" and kind == "building" else rng.uniform(2.0, 8.0)
    if kind == "building" and (st.style == "urban" or rng.random() < 0.3):
        w.add(span(x0, x1, *st.band(s, y_in, st.ymax), -0.4, hc + 0.01), 49, PAVING, refl=float(rng.uniform(0.25, 0.45)))
    else:
        ground = terrain(rng, x0, x1, *st.band(s, y_in, st.ymax), hc - 0.02, rng.uniform(0.05, 0.25))
        w.add(ground, 72, GRASS, refl=float(rng.uniform(0.4, 0.65)))

    def plant(parts, near: float, far: float) -> None:
        w.add_object(parts, rng.uniform(x0, x1), s * (y_in + rng.uniform(near, far)), 0, hc)

    if kind == "building":
        gap = rng.uniform(0, 0.5) if st.style == "urban" else rng.uniform(1.5, 4)
        bw = L - gap
        if bw > 3:
            d = rng.uniform(10, 20)
            h = rng.uniform(9, 22) if st.style == "urban" else rng.uniform(3.5, 7.5)
            place_building(w, st, s, building(rng, bw, d, h, st.style), x0 + gap / 2, bw, y_in + setback)
        if st.style != "urban" and setback > 2.5 and rng.random() < 0.5:
            w.add_object(fence(rng, L - 0.2), x0 + 0.1, s * (y_in + 0.3), 0.0, hc)
        for _ in range(int(rng.integers(1, 5)) if setback > 3 else 0):
            plant(bush(rng), 1, setback - 0.5)
        for _ in range(int(rng.integers(0, 3)) if setback > 4 else 0):
            plant(tree(rng), 2, setback - 1.5)
    elif kind == "fence":
        w.add_object(fence(rng, L - 0.2), x0 + 0.1, s * (y_in + 0.3), 0.0, hc)
        for _ in range(int(rng.integers(1, 5))):
            plant(tree(rng, rng.random() < 0.2), 3, 20)
        if rng.random() < 0.5 and L > 8:
            bw = min(L - 3, 14)
            house = building(rng, bw, 10, rng.uniform(3.5, 7), st.style)
            place_building(w, st, s, house, x0 + 1.5, bw, y_in + rng.uniform(8, 15))
    else:
        if rng.random() < 0.7:
            w.add_object(hedge(rng, L - 0.4), x0 + 0.2, s * (y_in + 0.8), 0.0, hc)
        for _ in range(int(rng.integers(1, 6))):
            plant(bush(rng), 1, 15)
        for _ in range(int(rng.integers(1, 6))):
            plant(tree(rng, rng.random() < 0.3), 2, 30)


def _parking_lot(w: World, rng: np.random.Generator, st: Street, s: int, x0: float, x1: float) -> None:
    """25 m of asphalt with two rows of bays (painted lines, cars nose-in) and a lamp; grass behind."""
    y_in, hc = st.lot_line(s), st.curb_h
    w.add(span(x0, x1, *st.band(s, y_in, y_in + 25), -0.4, hc), 44, ASPHALT, refl=0.33)
    w.add(terrain(rng, x0, x1, *st.band(s, y_in + 25, st.ymax), hc, 0.1), 72, GRASS)
    bays = np.arange(x0 + 1.5, x1 - 1.5, 2.7)
    for row in (4.0, 14.0):
        for px in bays:
            if rng.random() < 0.6:
                w.add_object(car(rng, 10), px, s * (y_in + row + rng.normal(0, 0.2)), np.pi / 2 + rng.normal(0, 0.05), hc)
        for px in bays:
            w.add(span(px - 0.06, px + 0.06, *st.band(s, y_in + row - 2.5, y_in + row + 2.5), hc, hc + 0.005), 44, PAINT)
    w.add_object(lamp(rng, s), (x0 + x1) / 2, s * (y_in + 9), 0.0, hc)


def _plaza(w: World, rng: np.random.Generator, st: Street, s: int, x0: float, x1: float) -> None:
    """Paved other-ground (49) with bins, maybe a kiosk, and a few people standing about."""
    y_in, hc = st.lot_line(s), st.curb_h
    w.add(span(x0, x1, *st.band(s, y_in, st.ymax), -0.4, hc + 0.01), 49, PAVING)

    def spot() -> tuple[float, float]:
        return rng.uniform(x0, x1), s * (y_in + rng.uniform(1, 12))

    for _ in range(int(rng.integers(1, 5))):
        w.add_object(litter_bin(rng), *spot(), 0, hc)
    if rng.random() < 0.6:
        w.add_object(shelter(rng), (x0 + x1) / 2, s * (y_in + 6), 0, hc)
    for _ in range(rng.poisson(2)):
        w.add_object(person(rng, 30), *spot(), rng.uniform(0, 6.28), hc)
