"""The analytic surfaces a SynthS3DIS room is made of, uniform sampling on them, and carving.

A scene holds rects (parallelograms), z-cylinders, horizontal disks and ellipsoids, each
with a material, the object it belongs to and the solid ("box") it bounds. Carvers are
boxes whose inside is removed from the other objects' samples, the way a scanner never
sees the wall behind a bookcase, the floor under a sofa or the wall inside a door opening.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

RECT, CYL, DISK, ELLIPSOID = range(4)
ALL_FACES = ("-x", "+x", "-y", "+y", "-z", "+z")


class Scene:
    """Surfaces with materials, the carvers, and the ceiling lights (for shading)."""

    MARGIN = 0.015

    def __init__(self) -> None:
        self.kind: list[int] = []
        self.geo: list[np.ndarray] = []
        self.mats: list[dict] = []
        self.obj: list[int] = []
        self.box_id: list[int] = []
        self.carvers: list[tuple] = []  # (center[3], half[3], yaw, by_object, owner)
        self.lights: list[np.ndarray] = []
        self._objs = 0
        self._boxes = 0

    def new_obj(self) -> int:
        self._objs += 1
        return self._objs

    def labels(self) -> set[int]:
        return {m["label"] for m in self.mats}

    def _add(self, kind: int, geo, mat: dict, obj: int, box: int = -1) -> None:
        self.kind.append(kind)
        self.geo.append(np.asarray(geo, dtype=np.float64).reshape(9))
        self.mats.append(mat)
        self.obj.append(obj)
        self.box_id.append(box)

    def _new_box(self) -> int:
        self._boxes += 1
        return self._boxes

    def rect(self, c, U, V, mat: dict, obj: int, box: int = -1) -> None:
        """Parallelogram ``c + a U + b V``, ``a, b`` in [-1, 1]; texture u runs along U, v along V."""
        self._add(RECT, np.concatenate([c, U, V]), mat, obj, box)

    def carve(self, c, half, yaw: float, obj: int) -> None:
        """Remove points of other objects inside this box (used for openings and envelopes)."""
        self.carvers.append((np.asarray(c, float), np.asarray(half, float) + self.MARGIN, yaw, True, obj))

    def box(self, c, half, yaw: float, mat: dict, obj: int, faces: Sequence[str] = ALL_FACES,
            carve: bool = True) -> int:
        """The ``faces`` of a box of half sizes ``half`` turned by ``yaw``; ``carve``: it is solid."""
        c, (hx, hy, hz) = np.asarray(c, float), half
        ex = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        ey = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
        ez = np.array([0.0, 0.0, 1.0])
        bid = self._new_box()
        spec = {"x": (ex * hx, ey * hy, ez * hz), "y": (ey * hy, ex * hx, ez * hz), "z": (ez * hz, ex * hx, ey * hy)}
        for f in faces:
            off, U, V = spec[f[1]]
            self.rect(c + off if f[0] == "+" else c - off, U, V, mat, obj, bid)
        if carve:
            self.carvers.append((c, np.array(half, float) + self.MARGIN, yaw, False, bid))
        return bid

    def cylinder(self, base, r: float, h: float, mat: dict, obj: int, top: bool = True, carve: bool = True) -> None:
        bid = self._new_box()
        base = np.asarray(base, float)
        self._add(CYL, np.concatenate([base, [r, h, 0, 0, 0, 0]]), mat, obj, bid)
        if top:
            self._add(DISK, np.concatenate([base + [0, 0, h], [r, 0, 0, 0, 0, 0]]), mat, obj, bid)
        if carve:
            self.carvers.append((base + [0, 0, h / 2], np.array([r, r, h / 2]) * 0.9 + self.MARGIN, 0.0, False, bid))

    def ellipsoid(self, c, radii, mat: dict, obj: int, carve: bool = True) -> None:
        bid = self._new_box()
        self._add(ELLIPSOID, np.concatenate([c, radii, [0, 0, 0]]), mat, obj, bid)
        if carve:
            self.carvers.append((np.asarray(c, float), np.asarray(radii, float) * 0.6, 0.0, False, bid))


def surface_areas(kind: np.ndarray, geo: np.ndarray) -> np.ndarray:
    """Area of every surface (ellipsoids: Knud Thomsen's approximation)."""
    area = np.zeros(len(kind))
    m = kind == RECT
    area[m] = 4 * np.linalg.norm(geo[m, 3:6], axis=1) * np.linalg.norm(geo[m, 6:9], axis=1)
    m = kind == CYL
    area[m] = 2 * np.pi * geo[m, 3] * geo[m, 4]
    m = kind == DISK
    area[m] = np.pi * geo[m, 3] ** 2
    m = kind == ELLIPSOID
    a, b, c = geo[m, 3], geo[m, 4], geo[m, 5]
    p = 1.6075
    area[m] = 4 * np.pi * (((a * b) ** p + (a * c) ** p + (b * c) ** p) / 3) ** (1 / p)
    return area


def sample_surfaces(kind: np.ndarray, geo: np.ndarray, counts: np.ndarray, rng: np.random.Generator):
    """``counts[i]`` uniform points on surface ``i``: positions, unit normals, texture
    coordinates (metres) and the surface id of each point."""
    sid = np.repeat(np.arange(len(kind)), counts)
    n = len(sid)
    pts, nrm, uv = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 2))
    k = kind[sid]
    g = geo[sid]
    m = k == RECT
    if m.any():
        a, b = rng.uniform(-1, 1, (2, int(m.sum())))
        gm = g[m]
        U, V = gm[:, 3:6], gm[:, 6:9]
        pts[m] = gm[:, :3] + a[:, None] * U + b[:, None] * V
        nn = np.cross(U, V)
        nrm[m] = nn / np.maximum(np.linalg.norm(nn, axis=1, keepdims=True), 1e-12)
        uv[m] = np.stack([(a + 1) * np.linalg.norm(U, axis=1), (b + 1) * np.linalg.norm(V, axis=1)], 1)
    m = k == CYL
    if m.any():
        t, h = rng.uniform(0, 2 * np.pi, int(m.sum())), rng.uniform(0, 1, int(m.sum()))
        gm = g[m]
        r, H = gm[:, 3], gm[:, 4]
        d = np.stack([np.cos(t), np.sin(t), np.zeros_like(t)], 1)
        pts[m] = gm[:, :3] + d * r[:, None] + np.stack([0 * h, 0 * h, h * H], 1)
        nrm[m] = d
        uv[m] = np.stack([t * r, h * H], 1)
    m = k == DISK
    if m.any():
        t, s = rng.uniform(0, 2 * np.pi, int(m.sum())), np.sqrt(rng.uniform(0, 1, int(m.sum())))
        gm = g[m]
        r = gm[:, 3] * s
        pts[m] = gm[:, :3] + np.stack([r * np.cos(t), r * np.sin(t), 0 * r], 1)
        nrm[m] = [0.0, 0.0, 1.0]
        uv[m] = pts[m][:, :2]
    m = k == ELLIPSOID
    if m.any():
        d = rng.normal(size=(int(m.sum()), 3))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        gm = g[m]
        rad = gm[:, 3:6]
        pts[m] = gm[:, :3] + d * rad
        nn = d / rad
        nrm[m] = nn / np.linalg.norm(nn, axis=1, keepdims=True)
        uv[m] = np.stack([np.arctan2(d[:, 1], d[:, 0]) * rad[:, 0], d[:, 2] * rad[:, 2]], 1)
    return pts, nrm, uv, sid


def carve_mask(pts: np.ndarray, obj_of: np.ndarray, box_of: np.ndarray, carvers: list[tuple]) -> np.ndarray:
    """False for points inside a carver they do not belong to (by object or by solid)."""
    keep = np.ones(len(pts), bool)
    order = np.argsort(pts[:, 0], kind="stable")
    xs = pts[order, 0]
    for c, h, yaw, by_obj, owner in carvers:
        r = math.hypot(h[0], h[1])
        lo, hi = np.searchsorted(xs, [c[0] - r, c[0] + r])
        if lo == hi:
            continue
        ii = order[lo:hi]
        d = pts[ii] - c
        ca, sa = math.cos(yaw), math.sin(yaw)
        lx = d[:, 0] * ca + d[:, 1] * sa
        ly = -d[:, 0] * sa + d[:, 1] * ca
        inside = (np.abs(lx) < h[0]) & (np.abs(ly) < h[1]) & (np.abs(d[:, 2]) < h[2])
        own = (obj_of[ii] == owner) if by_obj else (box_of[ii] == owner)
        keep[ii[inside & ~own]] = False
    return keep
