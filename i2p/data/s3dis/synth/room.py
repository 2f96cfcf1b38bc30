"""A room being furnished: its size, scene, and where things still fit.

Room frame: x in [0, W], y in [0, L], floor at z = 0. Walls are numbered 0..3
counter-clockwise from the wall along y = 0. Placement keeps two occupancy records: per
wall, the stretches taken at floor level ("low"), above it ("high") or both; on the
floor, the footprints (axis-aligned boxes) with a tag, so chairs may slide under tables.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .materials import CHAIR_COLORS, WALL_COLORS, pick
from .scene import Scene

BBox = tuple[float, float, float, float]  # x0, y0, x1, y1


def aabb_of(c, half, yaw: float) -> BBox:
    """Axis-aligned footprint of a rectangle of half sizes ``half`` centred at ``c``, turned by ``yaw``."""
    ca, sa = abs(math.cos(yaw)), abs(math.sin(yaw))
    ex = half[0] * ca + half[1] * sa
    ey = half[0] * sa + half[1] * ca
    return (c[0] - ex, c[1] - ey, c[0] + ex, c[1] + ey)


def overlap(a: BBox, b: BBox, pad: float = 0.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


class Frame:
    """A placement: origin (x, y, z) and yaw about z; maps local coordinates to the room."""

    def __init__(self, origin, yaw: float) -> None:
        self.o, self.yaw = np.asarray(origin, float), yaw
        self.ex = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        self.ey = np.array([-math.sin(yaw), math.cos(yaw), 0.0])

    def __call__(self, x: float, y: float, z: float) -> np.ndarray:
        return self.o + x * self.ex + y * self.ey + np.array([0.0, 0.0, z])


class Room:
    """Size, scene and occupancy of one room; the builders in structure, furniture and
    clutter add to it, and the room-wide colours keep its furniture consistent."""

    def __init__(self, rng: np.random.Generator, kind: str, W: float, L: float, H: float) -> None:
        self.rng, self.kind, self.W, self.L, self.H = rng, kind, W, L, H
        self.scene = Scene()
        self.occ: dict[int, list] = {0: [], 1: [], 2: [], 3: []}
        self.floor: list[tuple] = []  # (aabb, tag)
        self.wall_color = pick(rng, WALL_COLORS)
        self.chair_color = pick(rng, CHAIR_COLORS)

    def wall_len(self, w: int) -> float:
        return self.W if w % 2 == 0 else self.L

    def wall_frame(self, w: int, t: float, d: float = 0.0) -> Frame:
        """Frame on wall ``w`` at ``t`` metres along it, ``d`` into the room: local x runs
        along the wall, local y points into the room."""
        W, L = self.W, self.L
        origin = [(0, 0), (W, 0), (W, L), (0, L)][w]
        tan = [(1, 0), (0, 1), (-1, 0), (0, -1)][w]
        nrm = [(0, 1), (-1, 0), (0, -1), (1, 0)][w]
        p = np.array([origin[0] + t * tan[0] + d * nrm[0], origin[1] + t * tan[1] + d * nrm[1], 0.0])
        return Frame(p, w * math.pi / 2)

    def inside(self, bb: BBox, pad: float = -0.01) -> bool:
        return bb[0] >= pad and bb[1] >= pad and bb[2] <= self.W - pad and bb[3] <= self.L - pad

    def floor_free(self, bb: BBox, ignore: tuple = (), pad: float = 0.05) -> bool:
        return self.inside(bb) and not any(overlap(bb, o, pad) for o, tag in self.floor if tag not in ignore)

    def wall_slot(self, width: float, layer: str, depth: float = 0.0, walls: Iterable[int] | None = None,
                  edge: float = 0.12, tries: int = 40, force: bool = False, tag: str = "wall") -> tuple | None:
        """A free spot (wall, t) for an item of this width; layer 'low', 'high' or 'both'.
        ``force``: after ``tries`` failures, ignore the other items."""
        walls = list(walls) if walls is not None else [0, 1, 2, 3]
        lens = np.array([self.wall_len(w) for w in walls])
        for attempt in range(tries + (30 if force else 0)):
            w = walls[int(self.rng.choice(len(walls), p=lens / lens.sum()))]
            lo, hi = edge + width / 2, self.wall_len(w) - edge - width / 2
            if hi < lo:
                continue
            t = float(self.rng.uniform(lo, hi))
            relaxed = attempt >= tries
            if not relaxed:
                if any(t - width / 2 < b + 0.05 and a - 0.05 < t + width / 2 and (lay == layer or "both" in (lay, layer))
                       for a, b, lay in self.occ[w]):
                    continue
            bb = None
            if depth > 0 and layer != "high":
                f = self.wall_frame(w, t, depth / 2)
                bb = aabb_of(f.o, (width / 2, depth / 2), f.yaw)
                if not relaxed and not self.floor_free(bb):
                    continue
            self.occ[w].append((t - width / 2, t + width / 2, layer))
            if bb is not None:
                self.floor.append((bb, tag))
            return w, t
        return None

    def free_spot(self, half, yaw: float, tries: int = 40, ignore: tuple = (), margin: float = 0.1,
                  tag: str = "free", region: BBox | None = None) -> tuple | None:
        """A random centre where a footprint of half sizes ``half`` fits on the floor."""
        x0, y0, x1, y1 = region if region is not None else (0.0, 0.0, self.W, self.L)
        e = aabb_of((0.0, 0.0), half, yaw)[2:]  # sample centres where the footprint fits
        x0, y0, x1, y1 = max(x0, e[0]), max(y0, e[1]), min(x1, self.W - e[0]), min(y1, self.L - e[1])
        if x1 < x0 or y1 < y0:
            return None
        for _ in range(tries):
            c = (self.rng.uniform(x0, x1), self.rng.uniform(y0, y1))
            bb = aabb_of(c, half, yaw)
            if self.floor_free(bb, ignore=ignore, pad=margin):
                self.floor.append((bb, tag))
                return c
        return None
