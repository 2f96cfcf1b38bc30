"""S3DIS indoor segmentation (paper §4 "Datasets", Appendix 6.1): a procedural stand-in and
the real dataset's loader.

Both give one sample per room::

    {"points": [N, 3] float32 (metres, z up), "feats": [N, 6] float32 = xyz + rgb in [0, 1],
     "label": [N] int64 (ids of CLASSES), "name": "Area_k/<room>"}

so a model takes ``in_channels=6`` like the paper's xyz + rgb setting. The paper trains on
areas 1, 2, 3, 4, 6 and evaluates on area 5 (:data:`TEST_AREA`).

**SynthS3DIS** (:func:`make_synthetic`, :func:`load_synthetic`) builds rooms from boxes,
cylinders and ellipsoids: walls, floor and ceiling (with light panels), beams and columns,
windows and doors set into openings in the walls, boards on walls, desks and tables with
chairs, sofas, bookcases filled with books, and clutter (monitors, papers, cups, bins,
boxes, plants, posters, radiators, printers). Surfaces are sampled like a scan: candidate
points are drawn uniformly over all surfaces, points hidden inside other objects are
carved away (walls behind bookcases, the floor under a sofa, the wall in a door opening),
then points are kept with a probability that falls with the distance to one or more
scanner positions and at grazing angles (no line-of-sight occlusion test). Colours are
per-class base colours with texture (tiles, carpet, wood grain, blinds, books, posters),
lit by the ceiling lights (Lambert shading, distance falloff), plus noise. Everything is
deterministic per seed. Room coordinates are laid out along x inside an area, like the
"Aligned Version" of the real dataset.

**Real S3DIS** (:func:`load_real`, :func:`check_real`) reads the official
``Stanford3dDataset_v1.2_Aligned_Version`` text format and caches the parsed rooms as
``.npz`` files.
"""
from __future__ import annotations

import colorsys
import hashlib
import json
import math
import re
import shutil
import warnings
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from .store import CloudDataset, cached_build, load_cloudset, save_cloudset

__all__ = [
    "CLASSES", "CLASS_ID", "AREAS", "TEST_AREA", "PROFILES", "REAL_DIRNAME",
    "make_synthetic", "load_synthetic", "generate_room", "load_real", "check_real", "gallery",
]

CLASSES = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door",
    "table", "chair", "sofa", "bookcase", "board", "clutter",
)
CLASS_ID = {c: i for i, c in enumerate(CLASSES)}
AREAS = (1, 2, 3, 4, 5, 6)
TEST_AREA = 5
CEILING, FLOOR, WALL, BEAM, COLUMN, WINDOW, DOOR, TABLE, CHAIR, SOFA, BOOKCASE, BOARD, CLUTTER = range(13)

# Colours used by gallery() for labels (close to the usual S3DIS visualisation palette).
LABEL_COLORS = np.array([
    [0.00, 0.78, 0.78], [0.78, 0.78, 0.39], [0.86, 0.55, 0.20], [1.00, 0.85, 0.00],
    [0.60, 0.40, 0.80], [0.10, 0.60, 1.00], [0.55, 0.27, 0.07], [0.85, 0.10, 0.10],
    [0.10, 0.70, 0.20], [1.00, 0.40, 0.70], [0.05, 0.25, 0.55], [0.45, 0.45, 0.45],
    [0.20, 0.20, 0.20],
])

# ----------------------------------------------------------------------------------------
# Synthetic generator: profiles
# ----------------------------------------------------------------------------------------

GENERATOR_VERSION = 1

PROFILES: dict[str, dict] = {
    # 12 rooms of 20-40k points: a ResNet-18 U-Net trains on it in minutes on 2 CPU cores.
    "teaching": {
        "rooms_per_area": 2, "room_size": [4.0, 6.0], "height": [2.7, 3.2],
        "points": [20000, 40000], "points_per_m2": 1300.0, "scanners": [1, 2],
    },
    # 60 rooms, bigger and denser (a few minutes to generate on 2 cores).
    "full": {
        "rooms_per_area": 10, "room_size": [4.0, 10.0], "height": [2.8, 3.6],
        "points": [60000, 250000], "points_per_m2": 3000.0, "scanners": [2, 4],
    },
}

ROOM_TYPES = ("office", "conferenceRoom", "hallway", "storage", "lounge", "pantry", "copyRoom")
ROOM_WEIGHTS = (0.40, 0.17, 0.14, 0.08, 0.09, 0.06, 0.06)

# palettes (rgb in [0, 1])
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

# surface texture patterns
PLAIN, GRID, WOOD, CARPET, STRIPES, PATCHES, MARKS, SKIRTING, EMISSIVE = range(9)
RECT, CYL, DISK, ELLIPSOID = range(4)
ALL_FACES = ("-x", "+x", "-y", "+y", "-z", "+z")


def _mat(label: int, color, pattern: int = PLAIN, p1: float = 0.0, p2: float = 0.0,
         tex: float = 0.05, noise: float = 0.02, density: float = 1.0) -> dict:
    return {"label": label, "color": tuple(float(c) for c in color), "pattern": pattern,
            "p1": p1, "p2": p2, "tex": tex, "noise": noise, "density": density}


def _jitter_color(rng: np.random.Generator, c, amount: float = 0.04) -> tuple:
    return tuple(float(np.clip(v + rng.normal(0, amount), 0.0, 1.0)) for v in c)


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


class _Scene:
    """Surfaces (rects, z-cylinders, horizontal disks, ellipsoids) with materials, and the
    carvers: boxes that remove other surfaces' points hidden inside them."""

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

    def rect(self, c, U, V, mat: dict, obj: int, box: int = -1) -> None:
        """Parallelogram ``c + a U + b V``, ``a, b`` in [-1, 1]; texture u runs along U, v along V."""
        self._add(RECT, np.concatenate([c, U, V]), mat, obj, box)

    def carve(self, c, half, yaw: float, obj: int) -> None:
        """Remove points of other objects inside this box (used for openings and envelopes)."""
        self.carvers.append((np.asarray(c, float), np.asarray(half, float) + self.MARGIN, yaw, True, obj))

    def box(self, c, half, yaw: float, mat: dict, obj: int, faces: Sequence[str] = ALL_FACES,
            carve: bool = True) -> int:
        c, (hx, hy, hz) = np.asarray(c, float), half
        ex = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        ey = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
        ez = np.array([0.0, 0.0, 1.0])
        self._boxes += 1
        bid = self._boxes
        spec = {"x": (ex * hx, ey * hy, ez * hz), "y": (ey * hy, ex * hx, ez * hz), "z": (ez * hz, ex * hx, ey * hy)}
        for f in faces:
            off, U, V = spec[f[1]]
            self.rect(c + off if f[0] == "+" else c - off, U, V, mat, obj, bid)
        if carve:
            self.carvers.append((c, np.array(half, float) + self.MARGIN, yaw, False, bid))
        return bid

    def cylinder(self, base, r: float, h: float, mat: dict, obj: int, top: bool = True, carve: bool = True) -> None:
        self._boxes += 1
        bid = self._boxes
        base = np.asarray(base, float)
        self._add(CYL, np.concatenate([base, [r, h, 0, 0, 0, 0]]), mat, obj, bid)
        if top:
            self._add(DISK, np.concatenate([base + [0, 0, h], [r, 0, 0, 0, 0, 0]]), mat, obj, bid)
        if carve:
            self.carvers.append((base + [0, 0, h / 2], np.array([r, r, h / 2]) * 0.9 + self.MARGIN, 0.0, False, bid))

    def ellipsoid(self, c, radii, mat: dict, obj: int, carve: bool = True) -> None:
        self._boxes += 1
        bid = self._boxes
        self._add(ELLIPSOID, np.concatenate([c, radii, [0, 0, 0]]), mat, obj, bid)
        if carve:
            self.carvers.append((np.asarray(c, float), np.asarray(radii, float) * 0.6, 0.0, False, bid))


def _surface_areas(kind: np.ndarray, geo: np.ndarray) -> np.ndarray:
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


def _sample_surfaces(kind, geo, counts, rng):
    """Uniform points on every surface: positions, unit normals, texture coords (metres)."""
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


def _carve_mask(pts, obj_of, box_of, carvers) -> np.ndarray:
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


def _hash01(*xs) -> np.ndarray:
    """A deterministic pseudo-random value in [0, 1) per element (for texture cells)."""
    v = np.zeros_like(np.asarray(xs[0], dtype=np.float64))
    for i, x in enumerate(xs):
        v = v + np.asarray(x, dtype=np.float64) * (12.9898 + 41.23 * i)
    return np.modf(np.abs(np.sin(v) * 43758.5453))[0]


def _render(scene: _Scene, rng: np.random.Generator, n_target: int, scanners: np.ndarray,
            oversample: float = 3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scan-like sampling of a scene: xyz [N, 3], rgb [N, 3] in [0, 1], labels [N]."""
    kind = np.array(scene.kind)
    geo = np.stack(scene.geo)
    label = np.array([m["label"] for m in scene.mats])
    obj = np.array(scene.obj)
    box = np.array(scene.box_id)
    # objects are scanned from several sides in a real survey: denser than the room shell
    density = np.array([m["density"] * (1.0 if m["label"] in (CEILING, FLOOR, WALL) else 1.6) for m in scene.mats])
    area = _surface_areas(kind, geo)
    w = area * density
    counts = rng.multinomial(int(oversample * n_target), w / w.sum())
    pts, nrm, uv, sid = _sample_surfaces(kind, geo, counts, rng)
    keep = _carve_mask(pts, obj[sid], box[sid], scene.carvers)
    pts, nrm, uv, sid = pts[keep], nrm[keep], uv[keep], sid[keep]

    # scanner-like density: falls off with distance and at grazing angles
    weight = np.zeros(len(pts))
    for s in scanners:
        d = pts - s
        dist = np.maximum(np.linalg.norm(d, axis=1), 0.05)
        cos = np.abs(np.einsum("ij,ij->i", d, nrm)) / dist
        weight = np.maximum(weight, np.minimum(1.0, (1.8 / dist) ** 2) * (0.2 + 0.8 * cos))
    weight = np.maximum(weight, 0.03)
    key = np.log(weight) + rng.gumbel(size=len(pts))
    if len(pts) > n_target:
        sel = np.argpartition(-key, n_target)[:n_target]
    else:
        sel = np.arange(len(pts))
    # every class present in the scene keeps a few points (small rooms / tiny profiles)
    lab = label[sid]
    have = np.zeros(len(CLASSES), bool)
    have[np.unique(lab[sel])] = True
    extra = []
    for c in np.unique(lab):
        if not have[c]:
            idx = np.flatnonzero(lab == c)
            extra.append(idx[np.argsort(-key[idx])[:20]])
    sel = np.unique(np.concatenate([sel] + extra))
    pts, nrm, uv, sid = pts[sel], nrm[sel], uv[sel], sid[sel]

    rgb = _shade(scene, rng, pts, nrm, uv, sid, obj)
    pts = pts + nrm * rng.normal(0, 0.004, (len(pts), 1)) + rng.normal(0, 0.0015, pts.shape)
    return pts, rgb, label[sid]


def _shade(scene, rng, pts, nrm, uv, sid, obj) -> np.ndarray:
    mats = scene.mats
    base = np.array([m["color"] for m in mats])[sid]
    pattern = np.array([m["pattern"] for m in mats])[sid]
    p1 = np.array([m["p1"] for m in mats])[sid]
    p2 = np.array([m["p2"] for m in mats])[sid]
    tex = np.array([m["tex"] for m in mats])[sid]
    noise = np.array([m["noise"] for m in mats])[sid]
    o = obj[sid].astype(np.float64)
    u, v = uv[:, 0], uv[:, 1]
    # low-frequency mottling (stains, uneven paint), a different phase per object
    omega = rng.normal(0, 5.0, (3, 3))
    phase = rng.uniform(0, 2 * np.pi, 3)
    lf = sum(np.sin(pts @ omega[i] + phase[i] + 1.7 * (i + 1) * o) for i in range(3)) / 3
    f = 1 + tex * lf
    m = pattern == GRID
    if m.any():
        line = (np.mod(u[m], p1[m]) < p2[m]) | (np.mod(v[m], p1[m]) < p2[m])
        base[m] *= np.where(line, 0.80, 1.0)[:, None]
    m = pattern == WOOD
    if m.any():
        f[m] *= 1 + 0.10 * np.sin(2 * np.pi * v[m] / p1[m] + 1.5 * np.sin(2.1 * u[m] + o[m]))
    m = pattern == CARPET
    if m.any():
        f[m] *= 1 + 0.10 * rng.normal(size=int(m.sum()))
    m = pattern == STRIPES
    if m.any():
        base[m] *= np.where(np.mod(v[m], p1[m]) < p2[m], 0.72, 1.0)[:, None]
    m = pattern == PATCHES
    if m.any():
        cu, cv = np.floor(u[m] / p1[m]), np.floor(v[m] / p1[m])
        hsv = np.stack([_hash01(cu, cv, o[m]), 0.3 + 0.6 * _hash01(cv, cu, o[m] + 3),
                        0.4 + 0.6 * _hash01(cu + 7, cv, o[m])], 1)
        col = np.array([colorsys.hsv_to_rgb(*x) for x in hsv]) if len(hsv) else np.zeros((0, 3))
        base[m] = 0.25 * base[m] + 0.75 * col
    m = pattern == MARKS
    if m.any():
        wiggle = np.abs(np.sin(u[m] * 9 + 2.5 * np.sin(v[m] * 13 + o[m]))) < 0.06
        stroke = wiggle & (_hash01(np.floor(u[m] * 2), np.floor(v[m] * 3), o[m]) < 0.5)
        base[m] = np.where(stroke[:, None], np.array([0.15, 0.2, 0.55]), base[m])
    m = pattern == SKIRTING
    if m.any():
        base[m] *= np.where(pts[m, 2] < p1[m], 0.55, 1.0)[:, None]

    # lighting: ambient + Lambert from the ceiling lights with distance falloff
    shade = np.full(len(pts), 0.45)
    for lp in scene.lights:
        d = lp - pts
        dist = np.maximum(np.linalg.norm(d, axis=1), 0.1)
        shade += 0.9 * np.abs(np.einsum("ij,ij->i", d, nrm)) / dist / (1 + (dist / 2.5) ** 2)
    shade /= np.median(shade)
    exposure = rng.uniform(0.82, 1.0)
    tint = 1 + rng.normal(0, 0.03, 3)
    rgb = base * (f * shade)[:, None] * exposure * tint
    emit = pattern == EMISSIVE
    rgb[emit] = base[emit]
    rgb += rng.normal(0, 1, rgb.shape) * noise[:, None]
    return np.clip(rgb, 0.0, 1.0)


# ----------------------------------------------------------------------------------------
# Room builder
# ----------------------------------------------------------------------------------------

def _aabb_of(c, half, yaw) -> tuple:
    ca, sa = abs(math.cos(yaw)), abs(math.sin(yaw))
    ex = half[0] * ca + half[1] * sa
    ey = half[0] * sa + half[1] * ca
    return (c[0] - ex, c[1] - ey, c[0] + ex, c[1] + ey)


def _overlap(a, b, pad: float = 0.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


class _Frame:
    """A placement: origin (x, y, z) and yaw about z; maps local coordinates to the room."""

    def __init__(self, origin, yaw: float) -> None:
        self.o, self.yaw = np.asarray(origin, float), yaw
        self.ex = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        self.ey = np.array([-math.sin(yaw), math.cos(yaw), 0.0])

    def __call__(self, x: float, y: float, z: float) -> np.ndarray:
        return self.o + x * self.ex + y * self.ey + np.array([0.0, 0.0, z])


class _Room:
    def __init__(self, rng: np.random.Generator, kind: str, W: float, L: float, H: float) -> None:
        self.rng, self.kind, self.W, self.L, self.H = rng, kind, W, L, H
        self.s = _Scene()
        self.occ: dict[int, list] = {0: [], 1: [], 2: [], 3: []}
        self.floor: list[tuple] = []  # (aabb, tag)
        self.wall_color = _pick(rng, WALL_COLORS)
        self.chair_color = _pick(rng, CHAIR_COLORS)
        self.wood = _pick(rng, WOOD_COLORS)
        self.windows: list[tuple] = []

    # ---- geometry helpers ----
    def wall_len(self, w: int) -> float:
        return self.W if w % 2 == 0 else self.L

    def wall_frame(self, w: int, t: float, d: float = 0.0) -> _Frame:
        """Frame on wall ``w`` at ``t`` metres along it, ``d`` into the room: local x runs
        along the wall, local y points into the room."""
        W, L = self.W, self.L
        origin = [(0, 0), (W, 0), (W, L), (0, L)][w]
        tan = [(1, 0), (0, 1), (-1, 0), (0, -1)][w]
        nrm = [(0, 1), (-1, 0), (0, -1), (1, 0)][w]
        p = np.array([origin[0] + t * tan[0] + d * nrm[0], origin[1] + t * tan[1] + d * nrm[1], 0.0])
        return _Frame(p, w * math.pi / 2)

    def inside(self, bb, pad: float = -0.01) -> bool:
        return bb[0] >= pad and bb[1] >= pad and bb[2] <= self.W - pad and bb[3] <= self.L - pad

    def floor_free(self, bb, ignore: tuple = (), pad: float = 0.05) -> bool:
        return self.inside(bb) and not any(_overlap(bb, o, pad) for o, tag in self.floor if tag not in ignore)

    def wall_slot(self, width: float, layer: str, depth: float = 0.0, walls=None, edge: float = 0.12,
                  tries: int = 40, force: bool = False, tag: str = "wall"):
        """A free spot (wall, t) for an item of this width; layer 'low', 'high' or 'both'."""
        walls = list(walls) if walls is not None else [0, 1, 2, 3]
        lens = np.array([self.wall_len(w) for w in walls])
        for attempt in range(tries + (30 if force else 0)):
            w = walls[int(self.rng.choice(len(walls), p=lens / lens.sum()))]
            lo, hi = edge + width / 2, self.wall_len(w) - edge - width / 2
            if hi < lo:
                continue
            t = float(self.rng.uniform(lo, hi))
            relaxed = attempt >= tries  # forced: ignore the other items
            if not relaxed:
                if any(t - width / 2 < b + 0.05 and a - 0.05 < t + width / 2 and (lay == layer or "both" in (lay, layer))
                       for a, b, lay in self.occ[w]):
                    continue
            bb = None
            if depth > 0 and layer != "high":
                f = self.wall_frame(w, t, depth / 2)
                bb = _aabb_of(f.o, (width / 2, depth / 2), f.yaw)
                if not relaxed and not self.floor_free(bb):
                    continue
            self.occ[w].append((t - width / 2, t + width / 2, layer))
            if bb is not None:
                self.floor.append((bb, tag))
            return w, t
        return None

    def free_spot(self, half, yaw: float, tries: int = 40, ignore: tuple = (), margin: float = 0.1,
                  tag: str = "free", region=None):
        """A random centre where a footprint of half sizes ``half`` fits on the floor."""
        x0, y0, x1, y1 = region if region is not None else (0.0, 0.0, self.W, self.L)
        e = _aabb_of((0.0, 0.0), half, yaw)[2:]  # sample centres where the footprint fits
        x0, y0, x1, y1 = max(x0, e[0]), max(y0, e[1]), min(x1, self.W - e[0]), min(y1, self.L - e[1])
        if x1 < x0 or y1 < y0:
            return None
        for _ in range(tries):
            c = (self.rng.uniform(x0, x1), self.rng.uniform(y0, y1))
            bb = _aabb_of(c, half, yaw)
            if self.floor_free(bb, ignore=ignore, pad=margin):
                self.floor.append((bb, tag))
                return c
        return None

    # ---- structure ----
    def structure(self) -> None:
        s, rng, W, L, H = self.s, self.rng, self.W, self.L, self.H
        ceil = _jitter_color(rng, _pick(rng, CEILING_COLORS), 0.02)
        s.rect([W / 2, L / 2, H], [W / 2, 0, 0], [0, L / 2, 0],
               _mat(CEILING, ceil, GRID, 0.6, 0.02, tex=0.04), s.new_obj())
        style = rng.choice(3, p=[0.5, 0.35, 0.15])
        if style == 0:
            fm = _mat(FLOOR, _pick(rng, CARPET_COLORS), CARPET, tex=0.10, noise=0.03)
        elif style == 1:
            fm = _mat(FLOOR, _pick(rng, TILE_COLORS), GRID, float(rng.choice([0.3, 0.45, 0.6])), 0.012, tex=0.06)
        else:
            fm = _mat(FLOOR, _pick(rng, WOOD_COLORS), WOOD, 0.12, tex=0.08)
        s.rect([W / 2, L / 2, 0], [W / 2, 0, 0], [0, L / 2, 0], fm, s.new_obj())
        wm = _mat(WALL, self.wall_color, SKIRTING, 0.09, tex=0.05)
        for w in range(4):
            n = self.wall_len(w)
            f = self.wall_frame(w, n / 2)
            s.rect(f(0, 0, H / 2), f.ex * n / 2, [0, 0, H / 2], wm, s.new_obj())
        # light panels in a grid; they are also the light sources for shading
        nx, ny = max(1, round(W / 2.4)), max(1, round(L / 2.4))
        yaw = 0.0 if W > L else math.pi / 2
        for i in range(nx):
            for j in range(ny):
                c = np.array([(i + 0.5) * W / nx, (j + 0.5) * L / ny, H - 0.004])
                s.box(c, (0.6, 0.3, 0.004), yaw, _mat(CEILING, (0.97, 0.97, 0.95), EMISSIVE, noise=0.02),
                      s.new_obj(), faces=("-z",))
                s.lights.append(c - [0, 0, 0.3])

    def door(self, walls=None, force: bool = False) -> bool:
        rng, s = self.rng, self.s
        double = rng.uniform() < 0.15
        dw = rng.uniform(1.5, 1.8) if double else rng.uniform(0.85, 1.0)
        dh = min(rng.uniform(2.0, 2.2), self.H - 0.35)
        slot = self.wall_slot(dw + 0.2, "both", depth=0.85, walls=walls, force=force, tag="door")
        if slot is None:
            return False
        w, t = slot
        f = self.wall_frame(w, t)
        obj = s.new_obj()
        col = _jitter_color(rng, _pick(rng, DOOR_COLORS), 0.03)
        pm = _mat(DOOR, col, WOOD if col in WOOD_COLORS else PLAIN, 0.08, tex=0.06)
        trim = _mat(DOOR, _jitter_color(rng, _pick(rng, FRAME_COLORS + [col]), 0.02), tex=0.03)
        rec = 0.05
        s.carve(f(0, 0, dh / 2), (dw / 2, 0.08, dh / 2), f.yaw, obj)  # opening in the wall
        s.rect(f(0, -rec, dh / 2), f.ex * dw / 2, [0, 0, dh / 2], pm, obj)  # panel, recessed
        if double:
            s.box(f(0, -rec + 0.005, dh / 2), (0.01, 0.006, dh / 2), f.yaw, trim, obj, faces=("+y",), carve=False)
        for sgn in (-1, 1):  # jambs and casing
            s.rect(f(sgn * dw / 2, -rec / 2, dh / 2), f.ey * rec / 2, [0, 0, dh / 2], trim, obj)
            s.box(f(sgn * (dw / 2 + 0.035), 0.009, dh / 2 + 0.035), (0.035, 0.009, dh / 2 + 0.035), f.yaw, trim, obj,
                  faces=("-x", "+x", "+y", "+z"))
            if double or sgn == 1:  # handle(s)
                hx = sgn * 0.08 if double else sgn * (dw / 2 - 0.08)
                s.box(f(hx, -rec + 0.04, 1.02), (0.07, 0.03, 0.012), f.yaw,
                      _mat(DOOR, _pick(rng, METAL_COLORS), tex=0.02), obj, carve=False)
        s.rect(f(0, -rec / 2, dh), f.ex * dw / 2, f.ey * rec / 2, trim, obj)
        s.box(f(0, 0.009, dh + 0.035), (dw / 2, 0.009, 0.035), f.yaw, trim, obj, faces=("+y", "+z", "-z"))
        return True

    def window(self, walls=None, force: bool = False) -> bool:
        rng, s, H = self.rng, self.s, self.H
        sill = rng.uniform(0.75, 1.0)
        wh = min(rng.uniform(1.2, 1.8), H - 0.4 - sill)
        walls = list(walls) if walls is not None else [0, 1, 2, 3]
        maxw = min(2.2, max(self.wall_len(w) for w in walls) - 0.6)
        ww = rng.uniform(min(0.9, maxw), maxw)
        slot = self.wall_slot(ww + 0.1, "high", walls=walls, force=force, edge=0.25)
        if slot is None:
            return False
        w, t = slot
        f = self.wall_frame(w, t)
        obj = s.new_obj()
        frame_col = _jitter_color(rng, _pick(rng, FRAME_COLORS), 0.02)
        fm = _mat(WINDOW, frame_col, tex=0.03)
        R = rng.uniform(0.1, 0.2)  # recess depth
        zc = sill + wh / 2
        s.carve(f(0, 0, zc), (ww / 2, 0.08, wh / 2), f.yaw, obj)
        if rng.uniform() < 0.35:  # blinds
            s.rect(f(0, -R + 0.04, zc), f.ex * ww / 2, [0, 0, wh / 2],
                   _mat(WINDOW, _jitter_color(rng, (0.85, 0.84, 0.80), 0.03), STRIPES, 0.05, 0.008, tex=0.03), obj)
        else:  # glass: bright, sparse, noisy returns
            s.rect(f(0, -R, zc), f.ex * ww / 2, [0, 0, wh / 2],
                   _mat(WINDOW, (0.80, 0.86, 0.92), tex=0.25, noise=0.06, density=0.35), obj)
        for sgn in (-1, 1):
            s.rect(f(sgn * ww / 2, -R / 2, zc), f.ey * R / 2, [0, 0, wh / 2], fm, obj)
            s.rect(f(0, -R / 2, zc + sgn * wh / 2), f.ex * ww / 2, f.ey * R / 2, fm, obj)
            s.box(f(sgn * (ww / 2 - 0.025), -R + 0.03, zc), (0.025, 0.03, wh / 2), f.yaw, fm, obj,
                  faces=("-x", "+x", "+y"), carve=False)
        for k in range(1, int(ww // 0.8) + 1):  # mullions
            x = -ww / 2 + k * ww / (int(ww // 0.8) + 1)
            s.box(f(x, -R + 0.03, zc), (0.025, 0.03, wh / 2), f.yaw, fm, obj, faces=("-x", "+x", "+y"), carve=False)
        s.box(f(0, 0.03, sill - 0.015), (ww / 2 + 0.05, 0.05, 0.015), f.yaw, fm, obj, faces=("+y", "+z", "-z", "-x", "+x"))
        self.windows.append((w, t, ww))
        if rng.uniform() < 0.35 and sill > 0.7:  # radiator under the window (clutter)
            rw = min(ww * 0.8, 1.4)
            g = self.wall_frame(w, t)
            s.box(g(0, 0.07, sill / 2), (rw / 2, 0.05, min(0.28, sill / 2 - 0.12)), g.yaw,
                  _mat(CLUTTER, _jitter_color(rng, (0.88, 0.88, 0.86), 0.02), STRIPES, 0.06, 0.015, tex=0.03),
                  s.new_obj(), faces=("-x", "+x", "+y", "+z", "-z"))
        return True

    def board(self, force: bool = False) -> bool:
        rng, s = self.rng, self.s
        bw = rng.uniform(1.2, min(2.6, max(self.W, self.L) - 0.8))
        bh = rng.uniform(0.9, 1.2)
        z0 = rng.uniform(0.85, 1.0)
        slot = self.wall_slot(bw + 0.1, "high", force=force)
        if slot is None:
            return False
        w, t = slot
        f = self.wall_frame(w, t)
        obj = s.new_obj()
        kind = rng.choice(3, p=[0.7, 0.15, 0.15])
        face = [_mat(BOARD, (0.95, 0.95, 0.93), MARKS, tex=0.03, noise=0.015),
                _mat(BOARD, _jitter_color(rng, (0.16, 0.30, 0.24), 0.02), tex=0.08),
                _mat(BOARD, _jitter_color(rng, (0.72, 0.56, 0.38), 0.03), CARPET, tex=0.1)][kind]
        zc = z0 + bh / 2
        s.box(f(0, 0.012, zc), (bw / 2, 0.012, bh / 2), f.yaw, face, obj, faces=("+y",))
        fm = _mat(BOARD, _pick(rng, METAL_COLORS), tex=0.02)
        for sgn in (-1, 1):
            s.box(f(sgn * (bw / 2 + 0.012), 0.016, zc), (0.015, 0.016, bh / 2 + 0.03), f.yaw, fm, obj,
                  faces=("-x", "+x", "+y"))
            s.box(f(0, 0.016, zc + sgn * (bh / 2 + 0.015)), (bw / 2, 0.016, 0.015), f.yaw, fm, obj,
                  faces=("+z", "-z", "+y"))
        if kind == 0:  # marker tray
            s.box(f(0, 0.05, z0 - 0.02), (bw / 2 * 0.8, 0.05, 0.012), f.yaw, fm, obj, faces=("+z", "-z", "+y"))
        return True

    def poster(self) -> bool:
        rng, s = self.rng, self.s
        pw, ph = rng.uniform(0.4, 1.0), rng.uniform(0.5, 1.0)
        slot = self.wall_slot(pw, "high")
        if slot is None:
            return False
        w, t = slot
        f = self.wall_frame(w, t)
        s.box(f(0, 0.006, rng.uniform(1.3, 1.7)), (pw / 2, 0.006, ph / 2), f.yaw,
              _mat(CLUTTER, _jitter_color(rng, (0.8, 0.8, 0.8), 0.1), PATCHES, rng.uniform(0.08, 0.25), tex=0.05),
              s.new_obj(), faces=("+y", "-x", "+x", "+z", "-z"))
        return True

    def column(self, force: bool = False) -> bool:
        rng, s, H = self.rng, self.s, self.H
        cw, cd = rng.uniform(0.35, 0.7), rng.uniform(0.25, 0.55)
        col = _jitter_color(rng, self.wall_color, 0.03)
        m = _mat(COLUMN, col, SKIRTING, 0.09, tex=0.05)
        if min(self.W, self.L) > 6.5 and rng.uniform() < 0.4:  # free-standing
            c = self.free_spot((cw / 2, cw / 2), 0.0, margin=0.8, tag="column")
            if c is not None:
                s.box([c[0], c[1], H / 2], (cw / 2, cw / 2, H / 2), 0.0, m, s.new_obj(), faces=("-x", "+x", "-y", "+y"))
                return True
        corner = rng.uniform() < 0.4
        for attempt in range(2):
            if corner:
                w = int(rng.integers(4))
                t = cw / 2 if rng.uniform() < 0.5 else self.wall_len(w) - cw / 2
                if any(t - cw / 2 < b and a < t + cw / 2 for a, b, _ in self.occ[w]):
                    corner = False
                    continue
                f = self.wall_frame(w, t, cd / 2)
                bb = _aabb_of(f.o, (cw / 2, cd / 2), f.yaw)
                if not self.floor_free(bb, pad=0.02) and not (force and attempt == 1):
                    corner = False
                    continue
                self.occ[w].append((t - cw / 2, t + cw / 2, "both"))
                self.floor.append((bb, "column"))
                faces = ("+y", "+x") if t < 1 else ("+y", "-x")
            else:
                slot = self.wall_slot(cw, "both", depth=cd, edge=0.4, force=force, tag="column")
                if slot is None:
                    return False
                w, t = slot
                faces = ("-x", "+x", "+y")
            f = self.wall_frame(w, t, cd / 2)
            s.box(f(0, 0, H / 2), (cw / 2, cd / 2, H / 2), f.yaw, m, s.new_obj(), faces=faces)
            return True
        return False

    def beams(self, n: int | None = None) -> bool:
        rng, s, W, L, H = self.rng, self.s, self.W, self.L, self.H
        along_x = W < L  # beams span the short side
        span, run = (W, L) if along_x else (L, W)
        n = n if n is not None else max(1, int(run // 3.0))
        col = _jitter_color(rng, (0.86, 0.86, 0.84), 0.03)
        bw, bd = rng.uniform(0.25, 0.45), rng.uniform(0.25, 0.42)
        for k in range(n):
            p = (k + 0.5) * run / n + rng.uniform(-0.2, 0.2)
            c = [span / 2, p, H - bd / 2] if along_x else [p, span / 2, H - bd / 2]
            s.box(c, (span / 2, bw / 2, bd / 2), 0.0 if along_x else math.pi / 2,
                  _mat(BEAM, col, tex=0.05), s.new_obj(), faces=("-y", "+y", "-z"))
        return True

    # ---- furniture ----
    def table(self, frame: _Frame, a: float, b: float, z: float, color, legs: str = "legs") -> tuple:
        """Table at a frame (centre of the footprint on the floor); returns (obj, top z)."""
        s, obj = self.s, self.s.new_obj()
        pat = WOOD if color in WOOD_COLORS else PLAIN
        tm = _mat(TABLE, _jitter_color(self.rng, color, 0.02), pat, 0.1, tex=0.05)
        lm = _mat(TABLE, _pick(self.rng, METAL_COLORS), tex=0.03)
        s.box(frame(0, 0, z - 0.015), (a / 2, b / 2, 0.015), frame.yaw, tm, obj)
        lh = (z - 0.03) / 2
        if legs == "panel":
            for sg in (-1, 1):
                s.box(frame(sg * (a / 2 - 0.03), 0, lh), (0.015, b / 2 - 0.04, lh), frame.yaw, tm, obj,
                      faces=("-x", "+x", "-y", "+y"))
            s.box(frame(0, -b / 2 + 0.08, z - 0.2), (a / 2 - 0.05, 0.01, 0.16), frame.yaw, tm, obj, faces=("-y", "+y", "-z"))
        else:
            for sx in (-1, 1):
                for sy in (-1, 1):
                    s.box(frame(sx * (a / 2 - 0.06), sy * (b / 2 - 0.06), lh), (0.022, 0.022, lh), frame.yaw, lm, obj,
                          faces=("-x", "+x", "-y", "+y"))
        return obj, z

    def chair(self, x: float, y: float, yaw: float, color=None, check: bool = True, style: str | None = None) -> bool:
        """Chair with its seat at (x, y), the sitter facing local -y."""
        rng, s = self.rng, self.s
        bb = _aabb_of((x, y), (0.3, 0.3), yaw)
        if check and not self.floor_free(bb, ignore=("table",), pad=0.0):
            return False
        self.floor.append((bb, "chair"))
        f = _Frame([x, y, 0], yaw)
        obj = s.new_obj()
        cm = _mat(CHAIR, _jitter_color(rng, color or self.chair_color, 0.02), CARPET, tex=0.05, noise=0.025)
        mm = _mat(CHAIR, _pick(rng, METAL_COLORS), tex=0.03)
        sz = rng.uniform(0.44, 0.5)
        s.box(f(0, 0, sz), (0.23, 0.23, 0.035), yaw, cm, obj)
        s.box(f(0, 0.23, sz + 0.3), (0.22, 0.03, 0.24), yaw + rng.normal(0, 0.02), cm, obj)
        style = style or ("office" if rng.uniform() < 0.7 else "legs")
        if style == "office":
            s.cylinder(f(0, 0, 0.08), 0.025, sz - 0.115, mm, obj, top=False)
            for a in (0.0, math.pi / 2):
                s.box(f(0, 0, 0.05), (0.3, 0.025, 0.025), yaw + a + 0.3, mm, obj)
            if rng.uniform() < 0.6:
                for sg in (-1, 1):
                    s.box(f(sg * 0.25, 0.0, sz + 0.2), (0.025, 0.15, 0.015), yaw, mm, obj)
                    s.box(f(sg * 0.25, 0.05, sz + 0.1), (0.012, 0.012, 0.09), yaw, mm, obj, faces=("-x", "+x", "-y", "+y"))
        else:
            for sx in (-1, 1):
                for sy in (-1, 1):
                    s.box(f(sx * 0.2, sy * 0.2, (sz - 0.035) / 2), (0.015, 0.015, (sz - 0.035) / 2), yaw, mm, obj,
                          faces=("-x", "+x", "-y", "+y"))
        return True

    def clutter_on(self, frame: _Frame, a: float, b: float, z: float, n: int, desk: bool = False) -> None:
        """Small objects on a surface of a x b at height z (in the frame's coordinates)."""
        rng, s = self.rng, self.s
        placed = []
        items = ["papers", "cup", "bottle", "books", "laptop", "phone", "box"]
        if desk:
            items = ["monitor", "keyboard"] + items
        for i in range(n):
            it = items[i] if desk and i < 2 else _pick(rng, items)
            dims = {"monitor": (0.28, 0.1), "keyboard": (0.22, 0.08), "papers": (0.15, 0.11), "cup": (0.05, 0.05),
                    "bottle": (0.04, 0.04), "books": (0.12, 0.09), "laptop": (0.17, 0.12), "phone": (0.1, 0.1),
                    "box": (0.15, 0.12)}[it]
            for _ in range(10):
                if it == "monitor":
                    x, y = rng.uniform(-a / 2 + 0.35, a / 2 - 0.35) if a > 0.8 else 0.0, -b / 2 + 0.2
                elif it == "keyboard":
                    x, y = rng.uniform(-0.15, 0.15), 0.0
                else:
                    x, y = rng.uniform(-a / 2 + dims[0], a / 2 - dims[0]), rng.uniform(-b / 2 + dims[1], b / 2 - dims[1])
                bb = (x - dims[0], y - dims[1], x + dims[0], y + dims[1])
                if all(not _overlap(bb, p, 0.02) for p in placed):
                    placed.append(bb)
                    break
            else:
                continue
            obj, c = s.new_obj(), frame(x, y, z)
            yaw = frame.yaw + (rng.normal(0, 0.25) if it not in ("monitor", "keyboard") else rng.normal(0, 0.05))
            dark = _mat(CLUTTER, _jitter_color(rng, (0.1, 0.1, 0.11), 0.02), tex=0.03)
            if it == "monitor":
                s.box(c + [0, 0, 0.01], (0.1, 0.08, 0.01), yaw, dark, obj, faces=("+z", "-x", "+x", "-y", "+y"))
                s.box(c + [0, 0, 0.12], (0.025, 0.015, 0.11), yaw, dark, obj, faces=("-x", "+x", "-y", "+y"))
                sw, sh = rng.uniform(0.22, 0.3), rng.uniform(0.16, 0.2)
                s.box(c + [0, 0, 0.2 + sh], (sw, 0.02, sh), yaw, dark, obj)
            elif it == "keyboard":
                keys = _mat(CLUTTER, _pick(rng, [(0.12, 0.12, 0.13), (0.85, 0.85, 0.83)]))
                s.box(c + [0, 0, 0.012], (0.22, 0.07, 0.012), yaw, keys,
                      obj, faces=("+z", "-x", "+x", "-y", "+y"))
            elif it == "papers":
                s.box(c + [0, 0, 0.006], (0.15, 0.105, 0.006), yaw, _mat(CLUTTER, (0.95, 0.95, 0.93), noise=0.015), obj,
                      faces=("+z", "-x", "+x", "-y", "+y"))
            elif it in ("cup", "bottle"):
                r, h = (0.04, 0.1) if it == "cup" else (0.035, rng.uniform(0.2, 0.3))
                col = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.3, 0.9), rng.uniform(0.4, 0.95))
                s.cylinder(c, r, h, _mat(CLUTTER, col), obj)
            elif it == "books":
                zz = 0.0
                for _ in range(int(rng.integers(1, 4))):
                    th = rng.uniform(0.02, 0.05)
                    col = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.9))
                    s.box(c + [0, 0, zz + th / 2], (0.12, 0.09, th / 2), yaw + rng.normal(0, 0.2), _mat(CLUTTER, col), obj,
                          faces=("+z", "-x", "+x", "-y", "+y"))
                    zz += th
            elif it == "laptop":
                m = _mat(CLUTTER, _pick(rng, METAL_COLORS))
                s.box(c + [0, 0, 0.01], (0.17, 0.12, 0.01), yaw, m, obj, faces=("+z", "-x", "+x", "-y", "+y"))
                g = _Frame(c, yaw)
                s.box(g(0, -0.13, 0.13), (0.17, 0.008, 0.12), yaw, m, obj)
            elif it == "phone":
                s.box(c + [0, 0, 0.04], (0.1, 0.1, 0.04), yaw, dark, obj, faces=("+z", "-x", "+x", "-y", "+y"))
            else:
                s.box(c + [0, 0, 0.08], (0.15, 0.12, 0.08), yaw, _mat(CLUTTER, _jitter_color(rng, (0.65, 0.50, 0.32), 0.05)),
                      obj, faces=("+z", "-x", "+x", "-y", "+y"))

    def desk(self, force: bool = False) -> bool:
        rng = self.rng
        a, b = rng.uniform(1.2, 1.7), rng.uniform(0.65, 0.8)
        slot = self.wall_slot(a, "low", depth=b + 0.02, force=force, tag="table")
        if slot is None:
            return False
        w, t = slot
        f = self.wall_frame(w, t, 0.01 + b / 2)
        color = _pick(rng, WOOD_COLORS + LAMINATE_COLORS)
        _, z = self.table(f, a, b, rng.uniform(0.72, 0.76), color, legs="panel" if rng.uniform() < 0.5 else "legs")
        self.clutter_on(f, a, b, z, int(rng.integers(2, 6)), desk=True)
        # chair in front of the desk, facing it
        for _ in range(3):
            ch = f(rng.uniform(-0.3, 0.3), b / 2 + rng.uniform(0.05, 0.4), 0)
            if self.chair(ch[0], ch[1], f.yaw + rng.normal(0, 0.35)):
                break
        return True

    def center_table(self, kind: str = "conference", force: bool = False) -> bool:
        rng = self.rng
        along_x = self.W >= self.L
        long_, short = (self.W, self.L) if along_x else (self.L, self.W)
        if kind == "conference":
            a = rng.uniform(min(1.6, long_ - 2.0), max(min(1.6, long_ - 2.0), min(4.0, long_ - 2.0)))
            b = rng.uniform(0.9, min(1.4, max(0.9, short - 2.2)))
            z, ring = rng.uniform(0.72, 0.76), 0.7
        else:  # coffee / pantry table
            a, b = rng.uniform(0.8, 1.4), rng.uniform(0.6, 0.9)
            z, ring = (rng.uniform(0.4, 0.48), 0.3) if kind == "coffee" else (rng.uniform(0.72, 0.76), 0.7)
        a, b = max(a, 0.6), max(b, 0.5)
        yaw = 0.0 if along_x else math.pi / 2
        for shrink in (1.0, 0.8, 0.65, 0.5):  # smaller tables until one fits
            a, b = max(a * shrink, 0.6), max(b * (1 + shrink) / 2, 0.5)
            cx, cy = self.W / 2, self.L / 2  # prefer the middle of the room
            c = self.free_spot((a / 2 + ring, b / 2 + ring), yaw, tries=15, tag="table", margin=0.0,
                               region=(cx - 0.6, cy - 0.6, cx + 0.6, cy + 0.6))
            c = c or self.free_spot((a / 2 + ring, b / 2 + ring), yaw, tries=25, tag="table", margin=0.0)
            if c is not None:
                break
        if c is None:
            if not force:
                return False
            a, b, c = 0.8, 0.6, (self.W / 2, self.L / 2)
        else:
            self.floor.pop()  # keep the table itself, not its ring of chairs, as occupied
        self.floor.append((_aabb_of(c, (a / 2, b / 2), yaw), "table"))
        f = _Frame([c[0], c[1], 0], yaw)
        color = _pick(rng, WOOD_COLORS + LAMINATE_COLORS)
        _, zt = self.table(f, a, b, z, color)
        self.clutter_on(f, a, b, zt, int(rng.integers(1, 3 + int(a))))
        if kind == "coffee":
            return True
        chair_color = self.chair_color
        style = "office" if rng.uniform() < 0.6 else "legs"
        n_side = max(1, int(a // 0.7))
        for sy in (-1, 1):
            for k in range(n_side):
                if rng.uniform() < 0.15:
                    continue
                x = -a / 2 + (k + 0.5) * a / n_side + rng.normal(0, 0.05)
                p = f(x, sy * (b / 2 + rng.uniform(0.05, 0.35)), 0)
                self.chair(p[0], p[1], yaw + (0 if sy > 0 else math.pi) + rng.normal(0, 0.25), chair_color, style=style)
        for sx in (-1, 1):
            if kind == "conference" and rng.uniform() < 0.5:
                p = f(sx * (a / 2 + rng.uniform(0.1, 0.35)), 0, 0)
                self.chair(p[0], p[1], yaw + sx * math.pi / 2 + rng.normal(0, 0.2), chair_color, style=style)
        return True

    def sofa(self, force: bool = False) -> bool:
        rng, s = self.rng, self.s
        sw, sd = rng.uniform(1.4, 2.2) if rng.uniform() < 0.8 else rng.uniform(0.8, 1.0), rng.uniform(0.8, 0.92)
        slot = self.wall_slot(sw, "low", depth=sd + 0.05, force=force, tag="sofa")
        if slot is None:
            c = self.free_spot((sw / 2, sd / 2), 0.0, tag="sofa") if force else None
            if c is None:
                return False
            f = _Frame([c[0], c[1], 0], float(rng.choice([0, math.pi])))
        else:
            w, t = slot
            f = self.wall_frame(w, t, 0.03 + sd / 2)
        obj = s.new_obj()
        m = _mat(SOFA, _jitter_color(rng, _pick(rng, SOFA_COLORS), 0.03), CARPET, tex=0.08, noise=0.025)
        sh = rng.uniform(0.38, 0.45)
        s.box(f(0, 0.05, sh / 2), (sw / 2 - 0.15, sd / 2 - 0.05, sh / 2), f.yaw, m, obj, faces=("-x", "+x", "+y", "+z"))
        s.box(f(0, -sd / 2 + 0.1, (sh + 0.4) / 2), (sw / 2, 0.1, (sh + 0.4) / 2), f.yaw, m, obj,
              faces=("-x", "+x", "-y", "+y", "+z"))
        for sg in (-1, 1):
            s.box(f(sg * (sw / 2 - 0.075), 0.0, (sh + 0.18) / 2), (0.075, sd / 2, (sh + 0.18) / 2), f.yaw, m, obj,
                  faces=("-x", "+x", "-y", "+y", "+z"))
        s.carve(f(0, 0, 0.2), (sw / 2, sd / 2, 0.2), f.yaw, obj)
        if rng.uniform() < 0.5:  # cushions
            s.box(f(rng.uniform(-sw / 3, sw / 3), -sd / 2 + 0.27, sh + 0.18), (0.2, 0.06, 0.18), f.yaw + rng.normal(0, 0.2),
                  _mat(SOFA, _jitter_color(rng, _pick(rng, SOFA_COLORS), 0.05), tex=0.05), obj)
        return True

    def bookcase(self, force: bool = False, wide: bool = False) -> bool:
        rng, s, H = self.rng, self.s, self.H
        bw = rng.uniform(1.2, 2.0) if wide else rng.uniform(0.8, 1.2)
        bd = rng.uniform(0.3, 0.42)
        bh = rng.uniform(1.5, min(2.2, H - 0.3))
        slot = self.wall_slot(bw, "both", depth=bd + 0.01, force=force, tag="bookcase")
        if slot is None:
            return False
        w, t = slot
        f = self.wall_frame(w, t, 0.005 + bd / 2)
        obj = s.new_obj()
        col = _pick(rng, WOOD_COLORS + METAL_COLORS)
        m = _mat(BOOKCASE, _jitter_color(rng, col, 0.02), WOOD if col in WOOD_COLORS else PLAIN, 0.1, tex=0.05)
        th = 0.02
        s.carve(f(0, 0, bh / 2), (bw / 2, bd / 2, bh / 2), f.yaw, obj)  # wall behind, floor below
        for sg in (-1, 1):
            s.box(f(sg * (bw / 2 - th / 2), 0, (bh - th) / 2), (th / 2, bd / 2, (bh - th) / 2), f.yaw, m, obj,
                  faces=("-x", "+x", "+y"))
        s.box(f(0, 0, bh - th / 2), (bw / 2, bd / 2, th / 2), f.yaw, m, obj, faces=("+z", "-z", "+y", "-x", "+x"))
        s.box(f(0, 0, 0.05), (bw / 2 - th, bd / 2, 0.05), f.yaw, m, obj, faces=("+y", "+z"))
        s.rect(f(0, -bd / 2 + 0.004, bh / 2), f.ex * (bw / 2 - th), [0, 0, bh / 2], m, obj)
        inner = bw - 2 * th
        n_sh = max(2, int((bh - 0.12) // 0.34))
        sp = (bh - 0.1 - th) / n_sh
        for k in range(n_sh):
            z0 = 0.1 + k * sp
            if k > 0:
                s.box(f(0, 0.005, z0 - th / 2), (inner / 2, bd / 2 - 0.005, th / 2), f.yaw, m, obj, faces=("+z", "-z", "+y"))
            x = -inner / 2 + 0.01
            while x < inner / 2 - 0.03:
                if rng.uniform() < 0.12:  # gap or a stack of boxes/files
                    x += rng.uniform(0.05, 0.2)
                    continue
                bwid = rng.uniform(0.02, 0.06)
                if x + bwid > inner / 2 - 0.005:
                    break
                bht = min(rng.uniform(0.6, 0.9) * sp, sp - th - 0.02)
                bdp = rng.uniform(0.6, 0.92) * (bd - 0.01)
                col = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.2, 0.85), rng.uniform(0.25, 0.9))
                s.box(f(x + bwid / 2, -bd / 2 + 0.005 + bdp / 2, z0 + bht / 2), (bwid / 2, bdp / 2, bht / 2), f.yaw,
                      _mat(BOOKCASE, col, tex=0.04), obj, faces=("+y", "+z", "-x", "+x"))
                x += bwid + 0.002
        return True

    def loose_chair(self, force: bool = False) -> bool:
        c = self.free_spot((0.3, 0.3), 0.0, tries=20, tag="chair", ignore=("table",))
        if c is None and not force:
            return False
        if c is None:
            c = (self.rng.uniform(0.4, self.W - 0.4), self.rng.uniform(0.4, self.L - 0.4))
        else:
            self.floor.pop()
        return self.chair(c[0], c[1], self.rng.uniform(0, 2 * math.pi), check=False)

    def floor_clutter(self, force: bool = False) -> bool:
        rng, s = self.rng, self.s
        it = _pick(rng, ["bin", "bin", "boxes", "boxes", "plant", "printer", "cabinet"])
        size = {"bin": (0.16, 0.16), "boxes": (0.3, 0.25), "plant": (0.25, 0.25), "printer": (0.3, 0.25),
                "cabinet": (0.23, 0.3)}[it]
        slot = self.wall_slot(2 * size[0], "low", depth=2 * size[1] + 0.02, tag="clutter", tries=20)
        if slot is not None:
            w, t = slot
            f = self.wall_frame(w, t, 0.01 + size[1])
        else:
            c = self.free_spot(size, 0.0, tag="clutter", tries=20)
            if c is None and not force:
                return False
            if c is None:
                c = (rng.uniform(0.4, self.W - 0.4), rng.uniform(0.4, self.L - 0.4))
            f = _Frame([c[0], c[1], 0], rng.uniform(0, 2 * math.pi))
        obj = s.new_obj()
        c = f(0, 0, 0)
        if it == "bin":
            bin_color = _pick(rng, [(0.25, 0.25, 0.28), (0.2, 0.35, 0.6), (0.3, 0.5, 0.3)])
            s.cylinder(c, 0.15, rng.uniform(0.3, 0.4), _mat(CLUTTER, bin_color), obj)
        elif it == "boxes":
            z = 0.0
            for _ in range(int(rng.integers(1, 4))):
                hx, hy, hz = rng.uniform(0.15, 0.3), rng.uniform(0.15, 0.25), rng.uniform(0.1, 0.22)
                s.box(c + [0, 0, z + hz], (hx, hy, hz), f.yaw + rng.normal(0, 0.15),
                      _mat(CLUTTER, _jitter_color(rng, (0.66, 0.50, 0.32), 0.05), tex=0.08), obj,
                      faces=("-x", "+x", "-y", "+y", "+z"))
                z += 2 * hz
        elif it == "plant":
            h = rng.uniform(0.25, 0.4)
            s.cylinder(c, 0.15, h, _mat(CLUTTER, _jitter_color(rng, (0.60, 0.33, 0.20), 0.05)), obj)
            r = rng.uniform(0.25, 0.4)
            s.ellipsoid(c + [0, 0, h + r * 1.2], (r, r, r * 1.4),
                        _mat(CLUTTER, _jitter_color(rng, (0.20, 0.42, 0.16), 0.04), CARPET, tex=0.2, noise=0.04), obj)
        elif it == "printer":
            h = rng.uniform(0.35, 1.0)
            s.box(c + [0, 0, h / 2], (0.3, 0.25, h / 2), f.yaw, _mat(CLUTTER, _jitter_color(rng, (0.78, 0.78, 0.75), 0.03)),
                  obj, faces=("-x", "+x", "-y", "+y", "+z"))
        else:
            h = rng.uniform(0.6, 1.3)
            s.box(c + [0, 0, h / 2], (0.23, 0.3, h / 2), f.yaw, _mat(CLUTTER, _pick(rng, METAL_COLORS), STRIPES, 0.33, 0.01),
                  obj, faces=("-x", "+x", "-y", "+y", "+z"))
        return True


def _adder(room: _Room, cls: int) -> Callable[[], bool]:
    return {
        BEAM: lambda: room.beams(), COLUMN: lambda: room.column(force=True),
        WINDOW: lambda: room.window(force=True), DOOR: lambda: room.door(force=True),
        TABLE: lambda: room.desk() or room.center_table("pantry", force=True),
        CHAIR: lambda: room.loose_chair(force=True),
        SOFA: lambda: room.sofa(force=True), BOOKCASE: lambda: room.bookcase(force=True),
        BOARD: lambda: room.board(force=True),
        CLUTTER: lambda: room.floor_clutter() or room.poster() or room.floor_clutter(force=True),
    }.get(cls, lambda: True)


def _room_program(room: _Room) -> None:
    rng, kind = room.rng, room.kind
    area = room.W * room.L
    p = rng.uniform
    if kind == "hallway":
        long_walls = [1, 3] if room.L > room.W else [0, 2]
        for _ in range(int(max(room.W, room.L) // 3.0) + int(rng.integers(0, 2))):
            room.door(walls=long_walls)
        if p() < 0.5:
            room.door(walls=[0, 2] if room.L > room.W else [1, 3])
        if p() < 0.5:
            room.beams()
        for _ in range(int(rng.integers(0, 3)) if p() < 0.4 else 0):
            room.column()
        if p() < 0.3:
            room.board()
        for _ in range(int(rng.integers(0, 3))):
            room.poster()
        for _ in range(int(rng.integers(1, 3))):
            room.floor_clutter()
        if p() < 0.1:
            room.sofa()
        if p() < 0.1:
            room.bookcase()
        return
    extra_doors = int(p() < {"conferenceRoom": 0.5, "lounge": 0.4, "pantry": 0.3}.get(kind, 0.2))
    for _ in range(extra_doors):  # generate_room() already placed one
        room.door()
    if kind in ("office", "conferenceRoom", "lounge") and p() < 0.75 or kind in ("pantry", "copyRoom") and p() < 0.4:
        w = int(rng.integers(4))
        for _ in range(1 + int(room.wall_len(w) // 2.6)):
            room.window(walls=[w])
    if p() < 0.3:
        room.column()
    if p() < 0.25:
        room.beams()
    if kind == "office":
        for _ in range(int(np.clip(round(area / 9 + rng.normal(0, 0.5)), 1, 6))):
            room.desk()
        for _ in range(int(rng.integers(0, 3))):
            room.bookcase()
        if p() < 0.5:
            room.board()
        if p() < 0.2:
            room.sofa()
    elif kind == "conferenceRoom":
        room.board()
        room.center_table("conference")
        if p() < 0.4:
            room.board()
        if p() < 0.3:
            room.bookcase()
    elif kind == "storage":
        for _ in range(int(rng.integers(2, 5))):
            room.bookcase(wide=True)
        for _ in range(int(rng.integers(3, 8))):
            room.floor_clutter()
        if p() < 0.3:
            room.desk()
    elif kind == "lounge":
        for _ in range(int(rng.integers(1, 4))):
            room.sofa()
        room.center_table("coffee")
        for _ in range(int(rng.integers(0, 3))):
            room.loose_chair()
        if p() < 0.4:
            room.bookcase()
        if p() < 0.2:
            room.board()
    elif kind == "pantry":
        room.center_table("pantry")
        for _ in range(int(rng.integers(2, 5))):
            room.floor_clutter()
    elif kind == "copyRoom":
        for _ in range(int(rng.integers(2, 4))):
            room.floor_clutter()
        if p() < 0.6:
            room.desk()
        if p() < 0.4:
            room.bookcase()
        if p() < 0.3:
            room.board()
    for _ in range(int(rng.integers(1, 4))):
        room.floor_clutter()
    for _ in range(int(rng.integers(0, 3))):
        room.poster()


def generate_room(rng: np.random.Generator, kind: str, size, height: float, n_points: int, n_scanners: int,
                  require: Iterable[int] = ()) -> dict:
    """One synthetic room (room frame: x in [0, W], y in [0, L], floor at z = 0).

    ``require``: class ids the room must contain (added if the room type lacks them).
    Returns ``{"points", "rgb", "label"}`` as numpy arrays.
    """
    W, L = size
    room = _Room(rng, kind, float(W), float(L), float(height))
    room.structure()
    room.door(force=True)
    for cls in sorted(set(require)):
        if cls not in room.s.labels():
            _adder(room, cls)()
    _room_program(room)
    for cls in sorted(set(require) | {CLUTTER}):
        if cls not in room.s.labels():
            _adder(room, cls)()
    scanners = []
    for _ in range(n_scanners):
        c = room.free_spot((0.15, 0.15), 0.0, tries=30, tag="scanner")
        c = c or (rng.uniform(0.5, W - 0.5), rng.uniform(0.5, L - 0.5))
        scanners.append([c[0], c[1], rng.uniform(1.3, 1.7)])
    pts, rgb, lab = _render(room.s, rng, n_points, np.array(scanners))
    return {"points": pts, "rgb": rgb, "label": lab}


def _profile_params(profile: str, seed: int, overrides: dict | None) -> dict:
    if profile not in PROFILES and overrides is None:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)} or pass overrides")
    params = dict(PROFILES.get(profile, PROFILES["teaching"]))
    unknown = set(overrides or {}) - set(PROFILES["teaching"]) - {"room_types"}
    if unknown:
        raise ValueError(f"unknown synthetic S3DIS parameters: {sorted(unknown)}")
    params.update(overrides or {})
    params.update(profile=profile, seed=int(seed), version=GENERATOR_VERSION)
    return params


def _rooms_per_area(params: dict) -> list[int]:
    r = params["rooms_per_area"]
    r = [int(r)] * len(AREAS) if np.isscalar(r) else [int(v) for v in r]
    if len(r) != len(AREAS) or min(r) < 1:
        raise ValueError(f"rooms_per_area must be a positive int or {len(AREAS)} positive ints, "
                         f"got {params['rooms_per_area']}")
    return r


def _room_dims(rng: np.random.Generator, kind: str, params: dict) -> tuple[float, float]:
    lo, hi = params["room_size"]
    if kind == "hallway":
        a, b = rng.uniform(1.8, 2.6), rng.uniform(lo * 1.2, hi * 1.6)
    else:
        scale = {"storage": 0.8, "pantry": 0.8, "copyRoom": 0.75, "conferenceRoom": 1.1}.get(kind, 1.0)
        a, b = rng.uniform(lo, hi) * scale, rng.uniform(lo, hi) * scale
        a, b = max(a, 3.0), max(b, 3.0)
    return (a, b) if rng.uniform() < 0.5 else (b, a)


def _generate_area(area: int, params: dict, pbar=None) -> list[dict]:
    n_rooms = _rooms_per_area(params)[AREAS.index(area)]
    types = params.get("room_types", ROOM_TYPES)
    weights = np.array([ROOM_WEIGHTS[ROOM_TYPES.index(t)] for t in types])
    arng = np.random.default_rng([params["seed"], area, 7919, params["version"]])
    kinds = [types[i] for i in arng.choice(len(types), n_rooms, p=weights / weights.sum())]
    counters: dict[str, int] = {}
    present: set[int] = set()
    samples, x_off = [], 0.0
    for i, kind in enumerate(kinds):
        rng = np.random.default_rng([params["seed"], area, i, params["version"]])
        W, L = _room_dims(rng, kind, params)
        H = rng.uniform(*params["height"])
        lo, hi = params["points"]
        n_pts = int(np.clip(params["points_per_m2"] * W * L, lo, hi))
        n_sc = int(np.clip(round(W * L / 20), params["scanners"][0], params["scanners"][1]))
        require = set(range(len(CLASSES))) - present if i == n_rooms - 1 else set()
        room = generate_room(rng, kind, (W, L), H, n_pts, n_sc, require)
        present |= set(np.unique(room["label"]).tolist())
        counters[kind] = counters.get(kind, 0) + 1
        xyz = room["points"] + np.array([x_off, 0.0, 0.0])  # rooms side by side in the area
        x_off += W + 0.3
        samples.append({
            "points": xyz.astype(np.float32),
            "feats": np.concatenate([xyz, room["rgb"]], 1).astype(np.float32),
            "label": room["label"].astype(np.int64),
            "name": f"Area_{area}/{kind}_{counters[kind]}",
        })
        if pbar is not None:
            pbar.update(1)
            pbar.set_postfix_str(f"Area_{area}/{kind}_{counters[kind]} {len(xyz)} pts")
    return samples


def make_synthetic(profile: str = "teaching", root: str | Path | None = None, seed: int = 0,
                   progress: bool = True, overrides: dict | None = None) -> Path:
    """Generate (once) SynthS3DIS; returns the folder holding ``area_<k>.npz`` for k in AREAS.

    ``profile``: ``"teaching"`` (2 rooms of 4-6 m per area, 20-40k points each) or ``"full"``
    (10 rooms of 4-10 m per area, 60-250k points); ``overrides`` replaces profile entries
    (``rooms_per_area``, ``room_size``, ``height``, ``points``, ``points_per_m2``,
    ``scanners``, ``room_types``), e.g. for tiny test sets. Every area contains all 13
    classes (the last room of an area adds what the others lack). Cached under
    ``root`` (default :func:`~i2p.data.store.data_root`) by parameters; deterministic per seed.
    """
    params = _profile_params(profile, seed, overrides)
    n_total = sum(_rooms_per_area(params))

    def build(folder: Path) -> None:
        from tqdm.auto import tqdm

        with tqdm(total=n_total, desc=f"SynthS3DIS ({profile})", unit="room", disable=not progress) as pbar:
            for area in AREAS:
                save_cloudset(folder / f"area_{area}.npz", _generate_area(area, params, pbar))

    return cached_build(f"synth_s3dis-{profile}", params, build, root=root)


def _split_areas(split: str, test_area: int) -> list[int]:
    if test_area not in AREAS:
        raise ValueError(f"test_area must be one of {AREAS}, got {test_area}")
    if split == "train":
        return [a for a in AREAS if a != test_area]
    if split == "test":
        return [test_area]
    if split == "all":
        return list(AREAS)
    raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")


def load_synthetic(split: str = "train", profile: str = "teaching", root: str | Path | None = None,
                   transform: Callable | None = None, test_area: int = TEST_AREA, seed: int = 0,
                   progress: bool = True, overrides: dict | None = None) -> CloudDataset:
    """SynthS3DIS rooms of a split: ``"train"`` = every area except ``test_area`` (paper:
    areas 1, 2, 3, 4, 6), ``"test"`` = ``test_area`` (5), ``"all"``. Generates on first use;
    a cache folder with a corrupt file is deleted and generated again."""
    areas = _split_areas(split, test_area)
    for attempt in range(2):
        folder = make_synthetic(profile, root, seed, progress, overrides)
        try:
            samples = [s for a in areas for s in load_cloudset(folder / f"area_{a}.npz")]
            break
        except (ValueError, FileNotFoundError, KeyError) as e:
            if attempt:
                raise
            warnings.warn(f"{folder}: {e}; generating it again")
            shutil.rmtree(folder, ignore_errors=True)
    return CloudDataset(samples, CLASSES, transform)


# ----------------------------------------------------------------------------------------
# Real S3DIS (Stanford3dDataset_v1.2_Aligned_Version)
# ----------------------------------------------------------------------------------------

REAL_DIRNAME = "Stanford3dDataset_v1.2_Aligned_Version"
REAL_CACHE_VERSION = 1
_NOT_NUMERIC = re.compile(r"[^0-9eE+\-.\s]")


def _real_dir(root: str | Path) -> Path:
    root = Path(root)
    if (root / REAL_DIRNAME).is_dir():
        return root / REAL_DIRNAME
    return root


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _class_of(path: Path) -> tuple[int, str]:
    """Class id from an annotation file name ``<class>_<k>.txt``; unknown names (the real
    data has ``stairs``) become clutter, as the common S3DIS pipelines do."""
    stem = path.stem
    name = stem.rsplit("_", 1)[0] if "_" in stem and stem.rsplit("_", 1)[1].isdigit() else stem
    return CLASS_ID.get(name, CLUTTER), name


def _parse_lines(path: Path, strict: bool) -> tuple[np.ndarray, list[int], list[str]]:
    """Tolerant parse of ``x y z r g b`` lines. Returns (values [n, 6], line numbers of
    repaired lines, problems). A line with stray characters (the real Area_5/hallway_6 has
    one) is repaired by deleting them, or failing that by reading them as separators."""
    text = path.read_bytes().decode("latin-1")
    rows, lines, repaired, problems = [], [], [], []
    for no, line in enumerate(text.splitlines(), 1):
        tok = line.split()
        if not tok:
            continue
        vals = None
        if len(tok) == 6:
            try:
                vals = [float(t) for t in tok]
            except ValueError:
                pass
        if vals is None:
            for cand in (_NOT_NUMERIC.sub("", line), _NOT_NUMERIC.sub(" ", line)):
                tok2 = cand.split()
                if len(tok2) == 6:
                    try:
                        vals = [float(t) for t in tok2]
                        repaired.append(no)
                        break
                    except ValueError:
                        pass
        if vals is None:
            msg = f"{path}:{no}: cannot parse line {line[:80]!r} (expected 'x y z r g b')"
            if strict:
                raise ValueError(msg)
            problems.append(msg)
            continue
        rows.append(vals)
        lines.append(no)
    arr = np.array(rows, dtype=np.float64).reshape(-1, 6)
    problems += _value_problems(path, arr, np.array(lines), strict)
    return arr, repaired, problems


def _value_problems(path: Path, arr: np.ndarray, lines: np.ndarray | None, strict: bool) -> list[str]:
    out = []
    bad = ~np.isfinite(arr).all(1)
    rgb = arr[:, 3:6]
    bad_rgb = ~bad & ((rgb < 0) | (rgb > 255)).any(1)
    for mask, what in ((bad, "non-finite value (NaN/inf)"), (bad_rgb, "colour outside 0-255")):
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            no = int(lines[i]) if lines is not None else i + 1
            msg = f"{path}:{no}: {what} in {int(mask.sum())} line(s), first: {arr[i].tolist()}"
            if strict:
                raise ValueError(msg)
            out.append(msg)
    return out


def _read_annotation(path: Path, strict: bool = True) -> tuple[np.ndarray, list[int], list[str]]:
    """``[n, 6]`` float64 values of one annotation file (fast path: ``np.loadtxt``)."""
    if path.stat().st_size == 0:
        return np.zeros((0, 6)), [], []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.loadtxt(path, dtype=np.float64, ndmin=2, comments=None)
        if arr.size == 0:
            return np.zeros((0, 6)), [], []
        if arr.shape[1] != 6:
            raise ValueError("columns")
    except ValueError:
        return _parse_lines(path, strict)
    probs = _value_problems(path, arr, None, strict=False)
    if probs:  # exact line numbers from the slow path
        return _parse_lines(path, strict)
    return arr, [], []


def _read_room(room_dir: Path, area: int) -> dict:
    ann = room_dir / "Annotations"
    if not ann.is_dir():
        raise ValueError(f"{room_dir}: no Annotations folder (run check_real() for a full report)")
    parts, labels = [], []
    for f in sorted(ann.glob("*.txt"), key=lambda p: _natural_key(p.name)):
        arr, repaired, _ = _read_annotation(f, strict=True)
        if repaired:
            warnings.warn(f"{f}: repaired stray characters on line(s) {repaired[:5]}")
        if len(arr) == 0:
            warnings.warn(f"{f}: empty annotation file, skipped")
            continue
        cls, _ = _class_of(f)
        parts.append(arr)
        labels.append(np.full(len(arr), cls, np.int64))
    if not parts:
        raise ValueError(f"{room_dir}: room has no points (no non-empty Annotations/*.txt)")
    arr = np.concatenate(parts)
    xyz = arr[:, :3].astype(np.float32)
    return {
        "points": xyz,
        "feats": np.concatenate([xyz, (arr[:, 3:6] / 255.0).astype(np.float32)], 1),
        "label": np.concatenate(labels),
        "name": f"Area_{area}/{room_dir.name}",
    }


def _room_dirs(area_dir: Path) -> list[Path]:
    return sorted((p for p in area_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: _natural_key(p.name))


def _fingerprint(area_dir: Path) -> str:
    h = hashlib.sha1()
    for room in _room_dirs(area_dir):
        ann = room / "Annotations"
        files = sorted(ann.glob("*.txt")) if ann.is_dir() else []
        for f in files:
            st = f.stat()
            h.update(f"{f.relative_to(area_dir)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        if not files:
            h.update(f"{room.name}|no-annotations\n".encode())
    return h.hexdigest()


def _area_id(a) -> int:
    if isinstance(a, str):
        a = a.replace("Area_", "")
    a = int(a)
    if a not in AREAS:
        raise ValueError(f"S3DIS areas are {AREAS}, got {a}")
    return a


def load_real(root: str | Path, areas: int | Iterable[int] = AREAS, transform: Callable | None = None,
              cache_root: str | Path | None = None, progress: bool = True) -> CloudDataset:
    """Rooms of real S3DIS ``areas`` from ``root`` (the ``Stanford3dDataset_v1.2_Aligned_Version``
    folder or its parent), one sample per room, labels from the annotation file names.

    Each room concatenates ``Area_N/<room>/Annotations/<class>_<k>.txt`` (``x y z r g b``,
    rgb 0-255 scaled to [0, 1]). Class names outside :data:`CLASSES` (``stairs``) are
    labelled clutter, like the reference S3DIS preprocessing. Stray non-numeric characters
    inside a line (real Area_5/hallway_6) are repaired with a warning; empty files are
    skipped with a warning. Raises ``ValueError`` naming the file (and line) for a line that
    cannot be repaired, NaN/inf values or colours outside 0-255, a room without an
    Annotations folder and a room with no points. Parsed rooms are cached as ``.npz`` under
    ``cache_root`` (default :func:`~i2p.data.store.data_root`), one folder per area, keyed
    by the files' paths, sizes and modification times.
    """
    base = _real_dir(root)
    areas = [_area_id(areas)] if isinstance(areas, (int, str)) else [_area_id(a) for a in areas]
    samples = []
    for area in areas:
        area_dir = base / f"Area_{area}"
        if not area_dir.is_dir():
            raise FileNotFoundError(f"{area_dir} not found (root should hold {REAL_DIRNAME} or Area_1..Area_6)")
        rooms = _room_dirs(area_dir)
        params = {"version": REAL_CACHE_VERSION, "area_dir": str(area_dir.resolve()), "files": _fingerprint(area_dir)}

        def build(folder: Path, rooms=rooms, area=area) -> None:
            from tqdm.auto import tqdm

            names = []
            for i, room in enumerate(tqdm(rooms, desc=f"S3DIS Area_{area}", unit="room", disable=not progress)):
                save_cloudset(folder / f"room_{i:04d}.npz", [_read_room(room, area)])
                names.append(room.name)
            (folder / "rooms.json").write_text(json.dumps(names))

        folder = cached_build(f"s3dis_real-Area_{area}", params, build, root=cache_root)
        files = sorted(folder.glob("room_*.npz"))
        try:
            samples += [s for f in files for s in load_cloudset(f)]
        except ValueError:
            shutil.rmtree(folder, ignore_errors=True)  # corrupt cache: parse again
            folder = cached_build(f"s3dis_real-Area_{area}", params, build, root=cache_root)
            samples += [s for f in sorted(folder.glob("room_*.npz")) for s in load_cloudset(f)]
    return CloudDataset(samples, CLASSES, transform)


def check_real(root: str | Path, areas: Iterable[int] = AREAS, parse: bool = True, progress: bool = False) -> list[str]:
    """Problems found in a real S3DIS copy (empty list = fine): missing areas, rooms
    without an Annotations folder or without ``<room>.txt``, empty annotation files, lines
    that cannot be parsed or were repaired (file and line number), NaN values, colours out
    of range, rooms with no points, and annotation class names outside CLASSES (read as
    clutter). ``parse=False`` only checks the folder structure (fast)."""
    base = _real_dir(root)
    if not base.is_dir():
        return [f"{base}: folder not found"]
    out = []
    rooms_all = []
    for a in areas:
        area_dir = base / f"Area_{_area_id(a)}"
        if not area_dir.is_dir():
            out.append(f"{area_dir}: missing area")
            continue
        rooms = _room_dirs(area_dir)
        if not rooms:
            out.append(f"{area_dir}: no rooms")
        rooms_all += rooms
    from tqdm.auto import tqdm

    for room in tqdm(rooms_all, desc="check S3DIS", unit="room", disable=not progress):
        ann = room / "Annotations"
        if not (room / f"{room.name}.txt").is_file():
            others = sorted(p.name for p in room.glob("*.txt"))
            found = f"; found {', '.join(others)}" if others else ""
            out.append(f"{room}: missing {room.name}.txt{found} (not needed by load_real)")
        if not ann.is_dir():
            out.append(f"{room}: no Annotations folder")
            continue
        files = sorted(ann.glob("*.txt"), key=lambda p: _natural_key(p.name))
        n_points = 0
        for f in files:
            cls, name = _class_of(f)
            if name not in CLASS_ID:
                out.append(f"{f}: class {name!r} is not one of the 13 classes; read as clutter")
            if not parse:
                n_points += f.stat().st_size > 0
                continue
            arr, repaired, problems = _read_annotation(f, strict=False)
            if f.stat().st_size == 0 or (len(arr) == 0 and not problems):
                out.append(f"{f}: empty file (skipped)")
            for no in repaired:
                out.append(f"{f}:{no}: stray non-numeric characters (repaired when loading)")
            out += problems
            n_points += len(arr)
        if n_points == 0:
            out.append(f"{room}: room has no points")
    return out


# ----------------------------------------------------------------------------------------
# Gallery
# ----------------------------------------------------------------------------------------

def gallery(rooms: int = 3, profile: str = "teaching", root: str | Path | None = None,
            dataset: CloudDataset | Sequence[dict] | None = None, seed: int = 0, max_points: int = 40000):
    """Figure with, per room, top-down and perspective views coloured by rgb and by label
    (ceiling removed so the inside is visible). Uses ``dataset`` if given (e.g. real rooms
    from :func:`load_real`), else SynthS3DIS rooms of ``profile``, one per area."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if dataset is None:
        ds = load_synthetic("all", profile, root, seed=seed)
        by_area: dict[str, list[dict]] = {}
        for s in ds.samples:
            by_area.setdefault(s["name"].split("/")[0], []).append(s)
        picks, k = [], 0  # round-robin over areas: different room types
        while len(picks) < min(rooms, len(ds)):
            for lst in by_area.values():
                if k < len(lst) and len(picks) < rooms:
                    picks.append(lst[k])
            k += 1
    else:
        picks = [dataset[i] for i in range(min(rooms, len(dataset)))]
    fig = plt.figure(figsize=(20, 5 * len(picks)))
    rng = np.random.default_rng(0)
    for r, s in enumerate(picks):
        p = np.asarray(s["points"], dtype=np.float64)
        rgb = np.asarray(s["feats"], dtype=np.float64)[:, 3:6]
        lab = np.asarray(s["label"])
        keep = lab != CEILING
        if keep.sum() > max_points:
            keep[np.flatnonzero(keep)[rng.permutation(int(keep.sum()))[max_points:]]] = False
        p, rgb, lab = p[keep], np.clip(rgb[keep], 0, 1), lab[keep]
        p = p - [p[:, 0].min(), p[:, 1].min(), 0]
        order = np.argsort(p[:, 2])  # top-down: higher points drawn last
        for c, (colors, what) in enumerate(((rgb, "rgb"), (LABEL_COLORS[lab], "labels"))):
            ax = fig.add_subplot(len(picks), 4, 4 * r + c + 1)
            ax.scatter(p[order, 0], p[order, 1], c=colors[order], s=2.5, linewidths=0)
            ax.set_aspect("equal")
            ax.set_title(f"{s['name']} ({len(lab)} pts w/o ceiling), top, {what}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax3 = fig.add_subplot(len(picks), 4, 4 * r + c + 3, projection="3d")
            # drop the two walls facing the camera so the inside is visible
            front = (p[:, 1] < 0.4) | (p[:, 0] > p[:, 0].max() - 0.4)  # incl. recessed windows
            m3 = ~(front & np.isin(lab, [WALL, WINDOW, DOOR, COLUMN, BOARD, BEAM]))
            ax3.scatter(p[m3, 0], p[m3, 1], p[m3, 2], c=colors[m3], s=1.5, linewidths=0, depthshade=False)
            ax3.view_init(elev=38, azim=-60)
            ext = p.max(0) - p.min(0)
            ax3.set_box_aspect((ext[0], ext[1], ext[2]))
            ax3.set_title(f"perspective, {what} (front walls cut)", fontsize=9)
            ax3.tick_params(labelsize=6)
    handles = [Line2D([], [], marker="o", ls="", color=LABEL_COLORS[i], label=f"{i} {n}") for i, n in enumerate(CLASSES)]
    fig.legend(handles=handles, loc="upper center", ncol=13, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


if __name__ == "__main__":  # python -m i2p.data.s3dis [profile]: generate and save a gallery
    import sys
    import time

    prof = sys.argv[1] if len(sys.argv) > 1 else "teaching"
    t0 = time.time()
    folder = make_synthetic(prof)
    ds = load_synthetic("all", prof)
    n = [len(s["label"]) for s in ds.samples]
    print(f"{folder}: {len(ds)} rooms, {min(n)}-{max(n)} points (mean {np.mean(n):.0f}), {time.time() - t0:.1f} s")
    gallery(3, prof).savefig("/tmp/s3dis_gallery.png", dpi=80)
    print("wrote /tmp/s3dis_gallery.png")
