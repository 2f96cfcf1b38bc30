"""ModelNet40: a procedural stand-in (SynthModelNet) and loaders for the real data.

**SynthModelNet.** Every one of ModelNet40's 40 classes has a recipe that assembles a
mesh from open3d primitives (boxes, cylinders, cones, spheres, tori) and a few
hand-built surfaces (surfaces of revolution, swept tubes, extruded polygons, wavy
sheets), in a z-up frame with the object standing on z = 0. Instances vary in
proportions, part counts and optional parts; each axis is then stretched by a random
factor in [0.82, 1.22] (so proportions overlap between classes) and the shape is rotated
by a small random angle about z. 2048 points are sampled uniformly by area with a seeded
numpy generator (open3d's sampler is not seeded) and normalised to the unit sphere
(centre on the mean, divide by the largest norm), like ``modelnet40_ply_hdf5_2048``.
Every shape has its own random stream, drawn from ``(seed, class, split, index)``, so a
shape does not depend on which other classes are generated; the same seed gives
identical arrays. Some classes are deliberately confusable (table/desk, chair/stool,
cup/vase/bottle, dresser/night_stand, flower_pot/plant, wardrobe/xbox tower, ...), so
accuracy does not saturate.

Generated sets are cached by :func:`i2p.data.store.cached_build` under
``<root>/synth_modelnet-<profile>-<hash>/{train,test}.npz``.

**Real ModelNet40.** :func:`load_h5` reads the ``modelnet40_ply_hdf5_2048`` files used
by the official code; :func:`load_off` reads the original ``ModelNet40/<class>/<split>/
*.off`` meshes (with the well-known fused ``OFF<nv> <nf> <ne>`` header) and samples them;
:func:`check_real` lists what is wrong with a download.
"""
from __future__ import annotations

import math
import re
import warnings
import zlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .store import CloudDataset, cached_build, load_cloudset, save_cloudset

__all__ = [
    "CLASSES", "PROFILES", "make_synthetic", "load_synthetic", "synth_mesh", "synth_shape",
    "sample_surface", "normalize_unit_sphere", "read_off", "load_h5", "load_off", "check_real",
    "gallery",
]

CLASSES: tuple[str, ...] = (
    "airplane", "bathtub", "bed", "bench", "bookshelf", "bottle", "bowl", "car", "chair", "cone",
    "cup", "curtain", "desk", "door", "dresser", "flower_pot", "glass_box", "guitar", "keyboard",
    "lamp", "laptop", "mantel", "monitor", "night_stand", "person", "piano", "plant", "radio",
    "range_hood", "sink", "sofa", "stairs", "stool", "table", "tent", "toilet", "tv_stand", "vase",
    "wardrobe", "xbox",
)

#: Named generation profiles. ``classes`` keep the official order; labels are 0..C-1 in it.
PROFILES: dict[str, dict] = {
    # Diverse, with confusable groups: table/desk, chair/stool(/sofa), cup/vase/bottle.
    "teaching": {
        "classes": ["airplane", "bottle", "chair", "cup", "desk", "lamp", "sofa", "stool", "table", "vase"],
        "train": 40, "test": 10, "points": 2048,
    },
    "full": {"classes": list(CLASSES), "train": 80, "test": 20, "points": 2048},
}

#: Bump when a recipe changes: it is part of the cache key, so old caches are not reused.
RECIPE_VERSION = 2

_SPLIT_ID = {"train": 0, "test": 1}

Mesh = tuple[np.ndarray, np.ndarray]  # vertices [n, 3] float64, triangles [m, 3] int64


# ----------------------------------------------------------------------------- geometry
def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float64)


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)


def _align_z(d) -> np.ndarray:
    """Rotation taking +z to the direction ``d``."""
    d = np.asarray(d, dtype=np.float64)
    d = d / np.linalg.norm(d)
    v = np.cross([0.0, 0.0, 1.0], d)
    c = float(d[2])
    if np.linalg.norm(v) < 1e-9:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


_UNIT: dict[tuple, Mesh] = {}


def _o3d_arrays(m) -> Mesh:
    return np.asarray(m.vertices, dtype=np.float64).copy(), np.asarray(m.triangles, dtype=np.int64).copy()


def _unit(kind: str, res: int = 0) -> Mesh:
    """Unit open3d primitives (created once): box [-.5,.5]^3, cylinder r=1 z in [-.5,.5],
    cone r=1 base z=0 apex z=1, sphere r=1."""
    key = (kind, res)
    if key not in _UNIT:
        import open3d as o3d

        tm = o3d.geometry.TriangleMesh
        if kind == "box":
            v, f = _o3d_arrays(tm.create_box(1.0, 1.0, 1.0))
            v -= 0.5
        elif kind == "cyl":
            v, f = _o3d_arrays(tm.create_cylinder(1.0, 1.0, res, 1))
        elif kind == "cone":
            v, f = _o3d_arrays(tm.create_cone(1.0, 1.0, res, 1))
        elif kind == "sphere":
            v, f = _o3d_arrays(tm.create_sphere(1.0, res))
        else:
            raise ValueError(kind)
        _UNIT[key] = (v, f)
    return _UNIT[key]


def box(center, size, rz: float = 0.0) -> Mesh:
    v, f = _unit("box")
    v = v * np.asarray(size, dtype=np.float64)
    if rz:
        v = v @ _rz(rz).T
    return v + np.asarray(center, dtype=np.float64), f


def boxes(centers, sizes) -> Mesh:
    """Many axis-aligned boxes in one mesh (keys, books, drawer fronts)."""
    v0, f0 = _unit("box")
    c = np.asarray(centers, dtype=np.float64).reshape(-1, 3)
    s = np.broadcast_to(np.asarray(sizes, dtype=np.float64).reshape(-1, 3), c.shape)
    v = (v0[None] * s[:, None] + c[:, None]).reshape(-1, 3)
    f = (f0[None] + 8 * np.arange(len(c))[:, None, None]).reshape(-1, 3)
    return v, f


def cyl(p0, p1, r: float, res: int = 16) -> Mesh:
    """Closed cylinder of radius ``r`` from point ``p0`` to ``p1``."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    d = p1 - p0
    v, f = _unit("cyl", res)
    v = (v * [r, r, np.linalg.norm(d)]) @ _align_z(d).T
    return v + (p0 + p1) / 2, f


def cone(base, apex, r: float, res: int = 16) -> Mesh:
    base, apex = np.asarray(base, dtype=np.float64), np.asarray(apex, dtype=np.float64)
    d = apex - base
    v, f = _unit("cone", res)
    v = (v * [r, r, np.linalg.norm(d)]) @ _align_z(d).T
    return v + base, f


def sphere(center, radii, res: int = 8, rot: np.ndarray | None = None) -> Mesh:
    """Ellipsoid with semi-axes ``radii`` (optionally rotated by ``rot``)."""
    v, f = _unit("sphere", res)
    v = v * np.asarray(radii, dtype=np.float64)
    if rot is not None:
        v = v @ rot.T
    return v + np.asarray(center, dtype=np.float64), f


def torus(center, big_r: float, small_r: float, normal=(0, 0, 1), res: tuple[int, int] = (24, 8)) -> Mesh:
    import open3d as o3d

    v, f = _o3d_arrays(o3d.geometry.TriangleMesh.create_torus(big_r, small_r, res[0], res[1]))
    return v @ _align_z(normal).T + np.asarray(center, dtype=np.float64), f


def _grid_faces(m: int, n: int, wrap: bool = False) -> np.ndarray:
    """Triangles of an m x n vertex grid (row-major), columns wrapping if ``wrap``."""
    i, j = np.meshgrid(np.arange(m - 1), np.arange(n if wrap else n - 1), indexing="ij")
    a = i * n + j
    b = i * n + (j + 1) % n
    c, d = a + n, b + n
    return np.concatenate([np.stack([a, b, d], -1), np.stack([a, d, c], -1)]).reshape(-1, 3)


def lathe(r, z, seg: int = 24, phase: float = 0.0, scale_xy=(1.0, 1.0)) -> Mesh:
    """Surface of revolution of the profile ``(r_i, z_i)`` about the z axis.

    A profile starting/ending at r = 0 is closed there; an outer-then-inner profile makes a
    shell with a wall thickness (cups, bowls). ``seg = 4`` with ``phase = pi/4`` gives a
    square cross-section."""
    r, z = np.asarray(r, dtype=np.float64), np.asarray(z, dtype=np.float64)
    t = phase + 2 * np.pi * np.arange(seg) / seg
    v = np.stack([
        (r[:, None] * np.cos(t)[None]) * scale_xy[0],
        (r[:, None] * np.sin(t)[None]) * scale_xy[1],
        np.broadcast_to(z[:, None], (len(z), seg)),
    ], -1).reshape(-1, 3)
    return v, _grid_faces(len(r), seg, wrap=True)


def sheet(x, y, z) -> Mesh:
    """A single-sided surface from [m, n] coordinate grids."""
    x, y, z = (np.asarray(a, dtype=np.float64) for a in (x, y, z))
    return np.stack([x, y, z], -1).reshape(-1, 3), _grid_faces(*x.shape)


def extrude(poly, lo: float, hi: float, axis: str = "z") -> Mesh:
    """Prism: a convex polygon (``[k, 2]``, in the plane of the other two axes, in order
    x, y, z) extruded from ``lo`` to ``hi`` along ``axis``."""
    p = np.asarray(poly, dtype=np.float64)
    k = len(p)
    bot = np.column_stack([p, np.full(k, lo)])
    top = np.column_stack([p, np.full(k, hi)])
    v = np.concatenate([bot, top])
    i = np.arange(k)
    j = (i + 1) % k
    sides = np.concatenate([np.stack([i, j, j + k], 1), np.stack([i, j + k, i + k], 1)])
    fan = np.stack([np.zeros(k - 2, dtype=np.int64), np.arange(1, k - 1), np.arange(2, k)], 1)
    f = np.concatenate([sides, fan, fan + k])
    order = {"z": [0, 1, 2], "y": [0, 2, 1], "x": [2, 0, 1]}[axis]
    return v[:, order], f


def frustum(bottom, top, z0: float, z1: float, top_offset=(0.0, 0.0), caps: bool = True) -> Mesh:
    """Rectangular frustum: ``bottom``/``top`` are (size_x, size_y) at z0 / z1."""
    (bx, by), (tx, ty) = bottom, top
    ox, oy = top_offset
    sq = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) / 2
    v = np.concatenate([
        np.column_stack([sq * [bx, by], np.full(4, z0)]),
        np.column_stack([sq * [tx, ty] + [ox, oy], np.full(4, z1)]),
    ])
    i = np.arange(4)
    j = (i + 1) % 4
    f = [np.stack([i, j, j + 4], 1), np.stack([i, j + 4, i + 4], 1)]
    if caps:
        f += [np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]])]
    return v, np.concatenate(f)


def tube(path, r: float, res: int = 8, closed: bool = False) -> Mesh:
    """A tube of radius ``r`` swept along a polyline ``[k, 3]`` (parallel-transport frames)."""
    p = np.asarray(path, dtype=np.float64)
    k = len(p)
    if closed:
        t = np.roll(p, -1, 0) - np.roll(p, 1, 0)
    else:
        t = np.gradient(p, axis=0)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    ref = np.array([0.0, 0.0, 1.0]) if abs(t[0, 2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    n = np.cross(t[0], ref)
    n /= np.linalg.norm(n)
    ns = []
    for i in range(k):
        n = n - np.dot(n, t[i]) * t[i]
        n /= np.linalg.norm(n)
        ns.append(n)
    ns = np.array(ns)
    bs = np.cross(t, ns)
    a = 2 * np.pi * np.arange(res) / res
    v = p[:, None] + r * (np.cos(a)[None, :, None] * ns[:, None] + np.sin(a)[None, :, None] * bs[:, None])
    f = _grid_faces(k, res, wrap=True)
    if closed:
        last = (k - 1) * res
        j = np.arange(res)
        f = np.concatenate([f, np.stack([last + j, last + (j + 1) % res, (j + 1) % res], 1),
                            np.stack([last + j, (j + 1) % res, j], 1)])
    return v.reshape(-1, 3), f


def catmull(points, n: int = 6) -> np.ndarray:
    """Smooth curve through control points (Catmull-Rom), ``n`` samples per segment."""
    p = np.asarray(points, dtype=np.float64)
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    t = np.linspace(0, 1, n, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (3 * p1 - p0 - 3 * p2 + p3) * t**3))
    out.append(p[-2][None])
    return np.vstack(out)


def xform(parts: list[Mesh], rot: np.ndarray | None = None, t=(0.0, 0.0, 0.0), about=(0.0, 0.0, 0.0)) -> list[Mesh]:
    """Rotate ``parts`` by ``rot`` about the point ``about``, then translate by ``t``."""
    about, t = np.asarray(about, dtype=np.float64), np.asarray(t, dtype=np.float64)
    out = []
    for v, f in parts:
        if rot is not None:
            v = (v - about) @ rot.T + about
        out.append((v + t, f))
    return out


def merge(parts: Sequence[Mesh]) -> Mesh:
    vs, fs, n = [], [], 0
    for v, f in parts:
        vs.append(v)
        fs.append(f + n)
        n += len(v)
    return np.concatenate(vs), np.concatenate(fs)


# ----------------------------------------------------------------------------- sampling
def sample_surface(vertices: np.ndarray, triangles: np.ndarray, n: int, rng: np.random.Generator,
                   what: str = "mesh") -> np.ndarray:
    """``n`` points uniform by area on a triangle mesh, drawn from ``rng`` (deterministic)."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(triangles, dtype=np.int64)
    if len(v) == 0 or len(f) == 0:
        raise ValueError(f"{what}: empty mesh ({len(v)} vertices, {len(f)} faces); nothing to sample")
    tri = v[f]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    total = float(area.sum())
    if not np.isfinite(total) or total <= 0:
        raise ValueError(f"{what}: mesh has zero or non-finite surface area; nothing to sample")
    cdf = np.cumsum(area)
    idx = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(f) - 1)
    su = np.sqrt(rng.random(n))[:, None]
    w = rng.random(n)[:, None]
    t = tri[idx]
    return (1 - su) * t[:, 0] + su * (1 - w) * t[:, 1] + su * w * t[:, 2]


def normalize_unit_sphere(points: np.ndarray) -> np.ndarray:
    """Centre on the mean and divide by the largest norm (``modelnet40_ply_hdf5_2048`` style)."""
    p = np.asarray(points, dtype=np.float64)
    p = p - p.mean(0)
    m = float(np.linalg.norm(p, axis=1).max())
    if not np.isfinite(m) or m <= 0:
        raise ValueError("cannot normalise a degenerate point cloud (all points equal or non-finite)")
    return p / m


# ----------------------------------------------------------------------------- recipes
class _Rand:
    """Short names for the draws the recipes make."""

    def __init__(self, g: np.random.Generator) -> None:
        self.g = g

    def u(self, a: float, b: float) -> float:
        return float(self.g.uniform(a, b))

    def i(self, a: int, b: int) -> int:  # inclusive
        return int(self.g.integers(a, b + 1))

    def p(self, q: float) -> bool:
        return bool(self.g.random() < q)

    def pick(self, seq, weights=None):
        if weights is None:
            return seq[int(self.g.integers(len(seq)))]
        w = np.asarray(weights, dtype=np.float64)
        return seq[int(self.g.choice(len(seq), p=w / w.sum()))]


def _legs4(x: float, y: float, z0: float, z1: float, th: float, round_: bool = False, splay: float = 0.0) -> list[Mesh]:
    """Four legs at (+-x, +-y) from z1 (top) down to z0, optionally splayed outwards."""
    out = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            top = np.array([sx * x, sy * y, z1])
            bot = np.array([sx * (x + splay), sy * (y + splay), z0])
            if round_ or splay:
                out.append(cyl(bot, top, th / 2, 10))
            else:
                out.append(box((sx * x, sy * y, (z0 + z1) / 2), (th, th, z1 - z0)))
    return out


def _fronts(R: _Rand, x0, x1, z0, z1, y, rows: int, cols: int, knob: str = "knob", gap: float = 0.012) -> list[Mesh]:
    """Drawer/door fronts on the face y = ``y`` (facing -y) of a cabinet, with handles."""
    cs, ss, hs = [], [], []
    w = (x1 - x0) / cols
    h = (z1 - z0) / rows
    for i in range(rows):
        for j in range(cols):
            cx, cz = x0 + (j + 0.5) * w, z0 + (i + 0.5) * h
            cs.append((cx, y - 0.006, cz))
            ss.append((w - gap, 0.012, h - gap))
            if knob == "knob":
                hs.append(((cx, y - 0.02, cz + 0.15 * h), (0.03, 0.02, 0.02)))
            elif knob == "bar":
                hs.append(((cx, y - 0.02, cz + 0.15 * h), (min(0.12, 0.5 * w), 0.02, 0.015)))
            elif knob == "vbar":  # doors: vertical handle near the inner edge
                side = -1 if j >= cols / 2 else 1
                hx = cx + side * 0.38 * w if cols > 1 else cx + 0.38 * w
                hs.append(((hx, y - 0.02, cz), (0.015, 0.02, min(0.3, 0.4 * h))))
    out = [boxes(cs, ss)]
    if hs:
        out.append(boxes([c for c, _ in hs], [s for _, s in hs]))
    return out


def _airplane(R: _Rand) -> list[Mesh]:
    L = R.u(3.0, 5.0)
    rad = L * R.u(0.045, 0.07)
    xn, xt = L * 0.32, -L * 0.42
    P = [cyl((xt, 0, 0), (xn, 0, 0), rad, 16),
         cone((xn, 0, 0), (xn + L * R.u(0.08, 0.16), 0, -rad * 0.2), rad, 16),
         cone((xt, 0, 0), (xt - L * R.u(0.12, 0.2), 0, rad * 0.55), rad, 16)]
    span = L * R.u(0.8, 1.2) / 2
    chord = L * R.u(0.12, 0.2)
    sweep = span * R.u(0.0, 0.6)
    taper = R.u(0.3, 0.7)
    zw = R.pick([-0.55, 0.0, 0.6]) * rad
    xle = L * R.u(0.02, 0.15)
    th = chord * 0.08
    for s in (-1, 1):
        poly = [(xle, 0), (xle - chord, 0), (xle - sweep - chord * taper, s * span), (xle - sweep, s * span)]
        P.append(extrude(poly, zw - th / 2, zw + th / 2))
    if R.p(0.7):  # engines under the wings
        re_ = rad * R.u(0.35, 0.5)
        ys = [0.35] if R.p(0.7) else [0.3, 0.62]
        for s in (-1, 1):
            for f in ys:
                y = s * span * f
                x0 = xle - sweep * f
                P.append(cyl((x0 - chord * 0.5, y, zw - re_ * 1.3), (x0 + chord * 0.5, y, zw - re_ * 1.3), re_, 12))
    # tail
    fin_h = rad * R.u(1.8, 3.0)
    ct = chord * R.u(0.6, 0.9)
    xf = xt - L * 0.05
    fin = [(xf + ct * 0.3, 0), (xf - ct * 0.8, 0), (xf - ct * 1.1, fin_h + rad), (xf - ct * 0.5, fin_h + rad)]
    P.append(extrude([(x, z + rad * 0.3) for x, z in fin], -th / 2, th / 2, axis="y"))
    t_tail = R.p(0.25)
    zt = rad * 0.3 + fin_h + rad if t_tail else rad * 0.3
    xs = xf - ct * (0.9 if t_tail else 0.2)
    span_t = span * R.u(0.3, 0.42)
    for s in (-1, 1):
        poly = [(xs + ct * 0.3, 0), (xs - ct * 0.6, 0), (xs - ct * 0.9, s * span_t), (xs - ct * 0.3, s * span_t)]
        P.append(extrude(poly, zt - th / 2, zt + th / 2))
    return P


def _bathtub(R: _Rand) -> list[Mesh]:
    L, W, H, t = R.u(1.5, 2.0), R.u(0.7, 0.95), R.u(0.45, 0.62), R.u(0.04, 0.08)
    zf = R.u(0.08, 0.15) if R.p(0.3) else 0.0
    P: list[Mesh] = []
    if R.p(0.4):  # oval tub: a shell of revolution stretched to L x W
        r0 = 1.0
        rb = R.u(0.75, 0.9)
        tr = t / (W / 2)
        prof_r = [0, rb, r0, r0 + 0.04, r0 - tr, rb - tr, 0]
        prof_z = [zf, zf, zf + H, zf + H, zf + H, zf + t, zf + t]
        P.append(lathe(prof_r, prof_z, 28, scale_xy=(L / 2, W / 2)))
    else:
        P += [box((0, 0, zf + t / 2), (L, W, t)),
              box((-(L / 2 - t / 2), 0, zf + H / 2), (t, W, H)), box((L / 2 - t / 2, 0, zf + H / 2), (t, W, H)),
              box((0, -(W / 2 - t / 2), zf + H / 2), (L - 2 * t, t, H)), box((0, W / 2 - t / 2, zf + H / 2), (L - 2 * t, t, H))]
        if R.p(0.5):  # rim
            P.append(box((0, 0, zf + H), (L + 0.06, W + 0.06, 0.03)))
    if zf > 0:
        for sx in (-1, 1):
            for sy in (-1, 1):
                P.append(sphere((sx * L * 0.38, sy * W * 0.3, zf / 2), (0.06, 0.06, zf / 2 + 0.01), 6))
    if R.p(0.35):  # faucet at one end
        P.append(tube([(-L / 2 + 0.05, 0, zf + H), (-L / 2 + 0.05, 0, zf + H + 0.15), (-L / 2 + 0.2, 0, zf + H + 0.12)], 0.02, 8))
    return P


def _bed(R: _Rand) -> list[Mesh]:
    L, W = R.u(1.9, 2.2), R.u(0.9, 1.9)
    leg = R.u(0.05, 0.15) if R.p(0.5) else 0.0
    hb, hm = R.u(0.2, 0.4), R.u(0.15, 0.3)
    P = [box((0, 0, leg + hb / 2), (L, W, hb)), box((0.02, 0, leg + hb + hm / 2), (L - 0.06, W - 0.04, hm))]
    if leg:
        P += _legs4(L / 2 - 0.05, W / 2 - 0.05, 0, leg, 0.07)
    Hh = R.u(0.8, 1.3)
    P.append(box((-L / 2 - 0.03, 0, Hh / 2), (0.06, W + 0.04, Hh)))
    if R.p(0.45):
        Hf = R.u(0.4, 0.7)
        P.append(box((L / 2 + 0.03, 0, Hf / 2), (0.06, W + 0.04, Hf)))
    top = leg + hb + hm
    if R.p(0.8):
        n = 1 if W < 1.3 else 2
        for k in range(n):
            y = (k + 0.5) * W / n - W / 2
            P.append(sphere((-L / 2 + 0.3, y, top + 0.05), (0.17, 0.4 * W / n, 0.07), 8))
    if R.p(0.4):  # blanket hanging over the sides
        P.append(box((L * 0.15, 0, top - 0.1), (L * 0.68, W + 0.04, 0.22)))
    return P


def _bench(R: _Rand) -> list[Mesh]:
    L, D, H, t = R.u(1.1, 2.0), R.u(0.3, 0.45), R.u(0.4, 0.5), R.u(0.04, 0.07)
    P: list[Mesh] = []
    if R.p(0.4):  # slatted seat
        k = R.i(3, 5)
        w = D / k
        P.append(boxes([(0, -D / 2 + (j + 0.5) * w, H - t / 2) for j in range(k)], (L, w * 0.8, t)))
    else:
        P.append(box((0, 0, H - t / 2), (L, D, t)))
    if R.p(0.5):
        P += _legs4(L / 2 - 0.08, D / 2 - 0.05, 0, H - t, R.u(0.04, 0.07), round_=R.p(0.4))
        if R.p(0.4):
            P.append(box((0, 0, 0.12), (L - 0.16, 0.03, 0.04)))
    else:
        for sx in (-1, 1):
            P.append(box((sx * (L / 2 - R.u(0.05, 0.2)), 0, (H - t) / 2), (0.05, D * 0.9, H - t)))
    if R.p(0.35):  # backrest
        hb = R.u(0.3, 0.45)
        for sx in (-1, 1):
            P.append(box((sx * (L / 2 - 0.08), D / 2 - 0.02, H + hb / 2), (0.05, 0.04, hb)))
        for j in range(R.i(2, 3)):
            P.append(box((0, D / 2 - 0.02, H + hb * (0.35 + 0.3 * j)), (L - 0.1, 0.03, 0.08)))
    return P


def _bookshelf(R: _Rand) -> list[Mesh]:
    W, D, H, t = R.u(0.6, 1.4), R.u(0.25, 0.4), R.u(1.0, 2.2), R.u(0.02, 0.04)
    P = [box((-(W / 2 - t / 2), 0, H / 2), (t, D, H)), box((W / 2 - t / 2, 0, H / 2), (t, D, H)),
         box((0, 0, t / 2), (W - 2 * t, D, t)), box((0, 0, H - t / 2), (W - 2 * t, D, t))]
    if R.p(0.6):
        P.append(box((0, D / 2 - t / 4, H / 2), (W, t / 2, H)))
    n = R.i(3, 6)
    zs = np.linspace(t, H - t, n + 1)
    P.append(boxes([(0, 0, z) for z in zs[1:-1]], (W - 2 * t, D, t)))
    if R.p(0.6):  # books
        cs, ss = [], []
        for z0, z1 in zip(zs[:-1], zs[1:]):
            if not R.p(0.7):
                continue
            x = -W / 2 + t + R.u(0, 0.2) * W
            stop = W / 2 - t - R.u(0, 0.3) * W
            while True:
                bw = R.u(0.02, 0.05)
                if x + bw > stop:
                    break
                bh = R.u(0.55, 0.9) * (z1 - z0 - t)
                cs.append((x + bw / 2, 0, z0 + t / 2 + bh / 2))
                ss.append((bw * 0.95, D * 0.75, bh))
                x += bw
        if cs:
            P.append(boxes(cs, ss))
    return P


def _bottle(R: _Rand) -> list[Mesh]:
    H = R.u(0.2, 0.35)
    rb = H * R.u(0.12, 0.2)
    rn = rb * R.u(0.25, 0.45)
    hb = H * R.u(0.4, 0.65)
    hs = H * R.u(0.08, 0.22)
    lip = H * 0.03
    ctrl = [(rb * 0.9, 0), (rb, hb * 0.15), (rb, hb), ((rb + rn) * 0.55, hb + hs * 0.6), (rn, hb + hs),
            (rn, H - lip * 2), (rn * 1.25, H - lip), (rn * 1.1, H)]
    c = catmull(ctrl, 5)
    r = np.concatenate([[0], np.clip(c[:, 0], 0, None), [0]])
    z = np.concatenate([[0], c[:, 1], [H]])
    square = R.p(0.2)
    P = [lathe(r, z, 4 if square else 24, math.pi / 4 if square else 0.0)]
    if R.p(0.5):  # cap
        hc = H * R.u(0.04, 0.08)
        P.append(cyl((0, 0, H - lip), (0, 0, H + hc), rn * 1.3, 16))
    return P


def _bowl(R: _Rand) -> list[Mesh]:
    Rr = R.u(0.1, 0.15)
    h = Rr * R.u(0.35, 0.7)
    th = Rr * R.u(0.03, 0.07)
    t = np.linspace(0.0, np.pi / 2, 10)
    ro, zo = Rr * np.sin(t), h * (1 - np.cos(t))
    ri, zi = (Rr - th) * np.sin(t)[::-1], (th + (h - th) * (1 - np.cos(t)))[::-1]
    r, z = np.concatenate([ro, ri]), np.concatenate([zo, zi])
    if R.p(0.3):  # flared lip
        r = np.concatenate([ro, [Rr * 1.1, Rr * 1.1 - th], ri])
        z = np.concatenate([zo, [h + th, h + th], zi])
    P = [lathe(r, z, 28)]
    if R.p(0.6):  # foot ring
        fr = Rr * R.u(0.3, 0.5)
        fh = h * R.u(0.1, 0.2)
        P.append(lathe([fr * 0.9, fr, fr, fr - th, fr - th], [0, 0, fh, fh, 0], 24))
        P = xform(P[:1], t=(0, 0, fh * 0.9)) + P[1:]
    return P


def _car(R: _Rand) -> list[Mesh]:
    L = R.u(3.8, 4.8)
    W = L * R.u(0.38, 0.45)
    rw = R.u(0.3, 0.38)
    c = rw * R.u(0.5, 0.8)
    hb = R.u(0.45, 0.6)
    body = [(-L / 2, c), (L / 2, c), (L / 2, c + hb * 0.75), (L / 2 - L * 0.1, c + hb),
            (-L / 2 + L * 0.04, c + hb), (-L / 2, c + hb * 0.85)]
    P = [extrude(body, -W / 2, W / 2, axis="y")]
    kind = R.pick(["sedan", "suv", "van", "pickup"], [0.5, 0.25, 0.12, 0.13])
    hc = R.u(0.4, 0.5) if kind == "sedan" else R.u(0.55, 0.75)
    if kind == "van":
        x0, x1 = -L / 2 + 0.05, L / 2 - L * 0.18
    elif kind == "pickup":
        x0, x1 = -L * 0.05, L / 2 - L * 0.25
    else:
        x0 = -L / 2 + L * R.u(0.1, 0.2)
        x1 = x0 + L * R.u(0.42, 0.55)
    back = 0.05 * L if kind in ("van", "pickup", "suv") else L * R.u(0.08, 0.15)
    cab = [(x0, c + hb), (x1, c + hb), (x1 - L * R.u(0.08, 0.14), c + hb + hc), (x0 + back, c + hb + hc)]
    P.append(extrude(cab, -W * 0.42, W * 0.42, axis="y"))
    if kind == "pickup":  # bed walls
        for s in (-1, 1):
            P.append(box(((x0 - L / 2) / 2, s * (W / 2 - 0.03), c + hb + 0.12), (x0 + L / 2, 0.06, 0.24)))
    xs = (-L * R.u(0.28, 0.35), L * R.u(0.28, 0.35))
    for x in xs:
        for sy in (-1, 1):
            y = sy * (W / 2 - 0.05)
            P.append(cyl((x, y - 0.11, rw), (x, y + 0.11, rw), rw, 16))
    return P


def _chair(R: _Rand) -> list[Mesh]:
    sw, sd = R.u(0.4, 0.55), R.u(0.4, 0.55)
    hs, t = R.u(0.4, 0.5), R.u(0.03, 0.07)
    P = [box((0, 0, hs - t / 2), (sd, sw, t))]
    lt = R.u(0.025, 0.045)
    if R.p(0.15):  # swivel base
        P.append(cyl((0, 0, 0.1), (0, 0, hs - t), 0.03, 10))
        for k in range(5):
            a = 2 * np.pi * k / 5
            P.append(box((0.15 * np.cos(a), 0.15 * np.sin(a), 0.07), (0.3, 0.04, 0.03), rz=a))
            P.append(sphere((0.29 * np.cos(a), 0.29 * np.sin(a), 0.03), (0.03, 0.03, 0.03), 6))
    else:
        P += _legs4(sd / 2 - lt, sw / 2 - lt, 0, hs - t, lt * 2, round_=R.p(0.4), splay=R.pick([0.0, 0.0, 0.03]))
        if R.p(0.3):  # stretchers
            P.append(box((0, sw / 2 - lt, 0.15), (sd - 2 * lt, 0.02, 0.03)))
            P.append(box((0, -(sw / 2 - lt), 0.15), (sd - 2 * lt, 0.02, 0.03)))
    hb = R.u(0.35, 0.6)
    back: list[Mesh] = []
    xb = -sd / 2 + lt
    kind = R.pick(["panel", "slats", "rails"], [0.5, 0.3, 0.2])
    if kind == "panel":
        back.append(box((xb, 0, hs + hb / 2), (0.04, sw, hb)))
    else:
        for sy in (-1, 1):
            back.append(box((xb, sy * (sw / 2 - lt), hs + hb / 2), (lt * 1.5, lt * 1.5, hb)))
        back.append(box((xb, 0, hs + hb - 0.04), (0.03, sw, 0.08)))
        if kind == "slats":
            k = R.i(2, 5)
            ys = np.linspace(-sw / 2, sw / 2, k + 2)[1:-1]
            back.append(boxes([(xb, y, hs + (hb - 0.08) / 2) for y in ys], (0.02, 0.03, hb - 0.08)))
        else:
            back.append(box((xb, 0, hs + hb * 0.45), (0.03, sw, 0.06)))
    P += xform(back, _ry(-R.u(0.0, 0.25)), about=(xb, 0, hs))
    if R.p(0.3):  # armrests
        ha = R.u(0.18, 0.25)
        for sy in (-1, 1):
            P.append(box((0, sy * sw / 2, hs + ha), (sd, 0.05, 0.03)))
            P.append(box((sd / 2 - 0.04, sy * sw / 2, hs + ha / 2), (0.03, 0.03, ha)))
    return P


def _cone(R: _Rand) -> list[Mesh]:
    H = R.u(0.5, 1.0)
    r = H * R.u(0.2, 0.45)
    P: list[Mesh] = []
    z0 = 0.0
    if R.p(0.3):  # traffic-cone base plate
        b = r * R.u(1.05, 1.25)
        z0 = H * 0.04
        P.append(box((0, 0, z0 / 2), (2 * b, 2 * b, z0)))
    if R.p(0.3):  # truncated
        rt = r * R.u(0.1, 0.25)
        P.append(lathe([0, r, rt, 0], [z0, z0, z0 + H, z0 + H], 24))
    else:
        P.append(cone((0, 0, z0), (0, 0, z0 + H), r, 24))
    return P


def _cup(R: _Rand) -> list[Mesh]:
    H = R.u(0.08, 0.14)
    Rt = H * R.u(0.32, 0.6)
    Rb = Rt * R.u(0.7, 1.0)
    t = Rt * 0.08
    r = [0, Rb, (Rb + Rt) / 2 * R.u(1.0, 1.06), Rt, Rt - t, Rb - t, 0]
    z = [0, 0, H / 2, H, H, t, t]
    P = [lathe(r, z, 28)]
    if R.p(0.75):  # handle
        zc = H * R.u(0.45, 0.55)
        hz = H * R.u(0.25, 0.35)
        hx = H * R.u(0.2, 0.35)
        s = np.linspace(0, np.pi, 12)
        zz = zc + hz * np.cos(s)
        xx = Rb + (Rt - Rb) * zz / H - t + hx * np.sin(s)
        P.append(tube(np.column_stack([xx, np.zeros_like(xx), zz]), t * R.u(0.7, 1.2), 8))
    if R.p(0.15):  # saucer
        P.append(lathe([0, Rt * 1.6, Rt * 1.6, 0], [-0.006, -0.003, 0.0, 0.0], 28))
    return P


def _curtain(R: _Rand) -> list[Mesh]:
    W, H = R.u(1.5, 3.0), R.u(1.8, 2.6)
    a, lam = R.u(0.03, 0.08), R.u(0.15, 0.35)
    phi = R.u(0, 2 * np.pi)
    panels = [(-W / 2, W / 2)]
    if R.p(0.5):
        g = R.u(0.05, 0.4) * W
        panels = [(-W / 2, -g / 2), (g / 2, W / 2)]
    P: list[Mesh] = []
    for x0, x1 in panels:
        x, zz = np.meshgrid(np.linspace(x0, x1, 48), np.linspace(0, H, 10), indexing="ij")
        y = a * np.sin(2 * np.pi * x / lam + phi) * (1 + 0.5 * (1 - zz / H))
        P.append(sheet(x, y, zz))
    P.append(cyl((-W * 0.55, 0, H + 0.04), (W * 0.55, 0, H + 0.04), 0.015, 10))
    if R.p(0.5):
        for s in (-1, 1):
            P.append(sphere((s * W * 0.56, 0, H + 0.04), (0.035, 0.035, 0.035), 6))
    if R.p(0.25):  # valance
        P.append(box((0, -0.02, H - 0.1), (W * 1.05, 0.03, 0.25)))
    return P


def _desk(R: _Rand) -> list[Mesh]:
    W, D, H, t = R.u(1.1, 1.7), R.u(0.55, 0.8), R.u(0.72, 0.78), R.u(0.025, 0.045)
    P = [box((0, 0, H - t / 2), (W, D, t))]
    kind = R.pick(["ped1", "ped2", "legs"], [0.4, 0.3, 0.3])
    lt = R.u(0.04, 0.06)
    if kind in ("ped1", "ped2"):
        pw = R.u(0.35, 0.45)
        sides = [1, -1] if kind == "ped2" else [R.pick([1, -1])]
        for s in sides:
            cx = s * (W / 2 - pw / 2)
            P.append(box((cx, 0, (H - t) / 2), (pw, D * 0.95, H - t)))
            P += _fronts(R, cx - pw / 2, cx + pw / 2, 0.05, H - t, -D * 0.475, R.i(2, 4), 1, R.pick(["knob", "bar"]))
        if kind == "ped1":
            o = -sides[0] * (W / 2 - 0.03)
            if R.p(0.5):
                P.append(box((o, 0, (H - t) / 2), (0.04, D * 0.95, H - t)))
            else:
                for sy in (-1, 1):
                    P.append(box((o, sy * (D / 2 - 0.04), (H - t) / 2), (lt, lt, H - t)))
    else:
        P += _legs4(W / 2 - lt, D / 2 - lt, 0, H - t, lt, round_=R.p(0.3))
        dw = W * R.u(0.3, 0.5)
        P.append(box((0, 0, H - t - 0.06), (dw, D * 0.9, 0.12)))
        P += _fronts(R, -dw / 2, dw / 2, H - t - 0.12, H - t, -D * 0.45, 1, R.i(1, 2), "bar")
    if R.p(0.7):  # modesty panel
        P.append(box((0, D / 2 - 0.03, H - t - 0.2), (W * 0.9, 0.02, 0.4)))
    if R.p(0.15):  # hutch
        hh = R.u(0.35, 0.6)
        P += [box((s * (W / 2 - 0.01), D / 2 - 0.15, H + hh / 2), (0.02, 0.3, hh)) for s in (-1, 1)]
        P += [box((0, D / 2 - 0.15, H + hh), (W, 0.3, 0.02)), box((0, D / 2 - 0.01, H + hh / 2), (W, 0.02, hh))]
    return P


def _door(R: _Rand) -> list[Mesh]:
    W, H, T = R.u(0.75, 1.0), R.u(1.9, 2.2), R.u(0.035, 0.05)
    P = [box((0, 0, H / 2), (W, T, H))]
    if R.p(0.6):  # frame
        f = R.u(0.05, 0.09)
        P += [box((-(W / 2 + f / 2), 0, (H + f) / 2), (f, T * 2.2, H + f)),
              box((W / 2 + f / 2, 0, (H + f) / 2), (f, T * 2.2, H + f)),
              box((0, 0, H + f / 2), (W + 2 * f, T * 2.2, f))]
    if R.p(0.5):  # raised panels
        rows = R.i(2, 3)
        cols = R.i(1, 2)
        P += _fronts(R, -W / 2 + 0.08, W / 2 - 0.08, 0.1, H - 0.1, -T / 2, rows, cols, knob="none", gap=0.08)
    side = R.pick([-1, 1])
    zk = R.u(0.95, 1.05)
    for y in (-T / 2 - 0.03, T / 2 + 0.03):
        if R.p(0.5):
            P.append(sphere((side * (W / 2 - 0.08), y, zk), (0.03, 0.03, 0.03), 8))
        else:
            P.append(box((side * (W / 2 - 0.14), y, zk), (0.13, 0.02, 0.02)))
    return P


def _cabinet(R: _Rand, W, D, H, leg: float, top_over: float = 0.0) -> list[Mesh]:
    P = [box((0, 0, leg + (H - leg) / 2), (W, D, H - leg))]
    if leg:
        P += _legs4(W / 2 - 0.04, D / 2 - 0.04, 0, leg, 0.05, round_=R.p(0.5))
    if top_over:
        P.append(box((0, 0, H + 0.012), (W + top_over, D + top_over, 0.025)))
    return P


def _dresser(R: _Rand) -> list[Mesh]:
    W, D, H = R.u(1.0, 1.7), R.u(0.42, 0.55), R.u(0.75, 1.1)
    leg = R.u(0.06, 0.12) if R.p(0.5) else 0.0
    P = _cabinet(R, W, D, H, leg, R.pick([0.0, 0.04]))
    rows = R.i(3, 5)
    cols = R.pick([1, 2, 2, 3])
    z0 = leg + 0.04
    P += _fronts(R, -W / 2 + 0.02, W / 2 - 0.02, z0, H - 0.03, -D / 2, rows, cols, R.pick(["knob", "bar"]))
    if R.p(0.2):  # mirror
        mh = R.u(0.6, 0.9)
        P.append(box((0, D / 2 - 0.03, H + mh / 2), (W * 0.7, 0.03, mh)))
    return P


def _pot(R: _Rand, Rt: float, Hp: float) -> list[Mesh]:
    """A tapered pot (a shell of revolution, optionally with a rolled lip) with a soil disc."""
    Rb = Rt * R.u(0.6, 0.85)
    t = Rt * 0.07
    if R.p(0.5):  # up the outside, round the lip, down the inside
        r = [0, Rb, Rt * 0.98, Rt * 1.08, Rt * 1.08, Rt - t, Rb - t, 0]
        z = [0, 0, Hp * 0.88, Hp * 0.88, Hp, Hp, t, t]
    else:
        r = [0, Rb, Rt, Rt - t, Rb - t, 0]
        z = [0, 0, Hp, Hp, t, t]
    square = R.p(0.2)
    P = [lathe(r, z, 4 if square else 24, math.pi / 4 if square else 0.0)]
    P.append(lathe([0, Rt - t * 1.5, 0], [Hp * 0.85, Hp * 0.85, Hp * 0.85], 16))  # soil disc
    return P


def _foliage(R: _Rand, zb: float, height: float, spread: float, n: int, leaf: float) -> list[Mesh]:
    P: list[Mesh] = []
    cs, rs, rots = [], [], []
    for _ in range(n):
        a = R.u(0, 2 * np.pi)
        rad = spread * math.sqrt(R.u(0.05, 1.0))
        top = np.array([rad * math.cos(a), rad * math.sin(a), zb + height * R.u(0.45, 1.0)])
        base = np.array([rad * 0.15 * math.cos(a), rad * 0.15 * math.sin(a), zb])
        P.append(cyl(base, top, leaf * 0.06, 6))
        for _ in range(R.i(1, 3)):
            d = np.array([math.cos(a + R.u(-1, 1)), math.sin(a + R.u(-1, 1)), R.u(-0.2, 1.0)])
            ll = leaf * R.u(0.6, 1.2)
            cs.append(top + d / np.linalg.norm(d) * ll * 0.5)
            rs.append((ll * R.u(0.2, 0.35), ll * 0.04, ll * 0.5))
            rots.append(_align_z(d))
    for c, r, rot in zip(cs, rs, rots):
        P.append(sphere(c, r, 6, rot))
    return P


def _flower_pot(R: _Rand) -> list[Mesh]:
    Rt = R.u(0.12, 0.22)
    Hp = Rt * R.u(1.4, 2.4)
    P = _pot(R, Rt, Hp)
    if R.p(0.7):  # a small plant: lower than the pot is tall
        P += _foliage(R, Hp * 0.85, Hp * R.u(0.3, 0.9), Rt * 0.7, R.i(2, 5), Rt * R.u(0.4, 0.7))
    return P


def _glass_box(R: _Rand) -> list[Mesh]:
    W, D, H = R.u(0.5, 1.2), R.u(0.4, 0.8), R.u(0.4, 1.0)
    zb = R.u(0.3, 0.8) if R.p(0.5) else 0.0
    t = 0.008
    P = [box((0, 0, zb + t / 2), (W, D, t)), box((0, 0, zb + H - t / 2), (W, D, t)),
         box((-(W / 2), 0, zb + H / 2), (t, D, H)), box((W / 2, 0, zb + H / 2), (t, D, H)),
         box((0, -D / 2, zb + H / 2), (W, t, H)), box((0, D / 2, zb + H / 2), (W, t, H))]
    if R.p(0.5):  # metal edges
        e = 0.025
        cs, ss = [], []
        for sx in (-1, 1):
            for sy in (-1, 1):
                cs.append((sx * W / 2, sy * D / 2, zb + H / 2))
                ss.append((e, e, H))
            for z in (zb, zb + H):
                cs.append((sx * W / 2, 0, z))
                ss.append((e, D, e))
        for sy in (-1, 1):
            for z in (zb, zb + H):
                cs.append((0, sy * D / 2, z))
                ss.append((W, e, e))
        P.append(boxes(cs, ss))
    if zb:
        if R.p(0.5):
            P.append(box((0, 0, zb / 2), (W * 0.95, D * 0.95, zb)))
        else:
            P += _legs4(W / 2 - 0.04, D / 2 - 0.04, 0, zb, 0.04)
    if R.p(0.3):  # a shelf inside
        P.append(box((0, 0, zb + H / 2), (W, D, t)))
    return P


def _guitar(R: _Rand) -> list[Mesh]:
    electric = R.p(0.3)
    r1 = R.u(0.17, 0.22) * (0.85 if electric else 1.0)
    r2 = r1 * R.u(0.68, 0.85)
    bt = R.u(0.04, 0.05) if electric else R.u(0.08, 0.12)
    z1 = r1
    z2 = z1 + r1 * R.u(0.85, 1.05)
    P = [cyl((0, -bt / 2, z1), (0, bt / 2, z1), r1, 28), cyl((0, -bt / 2, z2), (0, bt / 2, z2), r2, 28),
         box((0, 0, (z1 + z2) / 2), (r2 * 1.3, bt, z2 - z1))]
    if electric and R.p(0.7):  # horn
        P.append(cyl((r2 * 0.5, -bt / 2, z2 + r2 * 0.5), (r2 * 0.5, bt / 2, z2 + r2 * 0.5), r2 * 0.45, 16))
    nl = R.u(0.42, 0.55)
    zn = z2 + r2 * 0.7
    P.append(box((0, -bt / 2 - 0.005, zn + nl / 2), (0.05, 0.025, nl)))
    head = [box((0, 0, 0.09), (0.075, 0.018, 0.18))]
    P += xform(head, _rx(R.u(0.1, 0.3)), t=(0, -bt / 2 - 0.005, zn + nl))
    if not electric and R.p(0.7):  # bridge
        P.append(box((0, -bt / 2 - 0.005, z1 - r1 * 0.3), (r1 * 0.8, 0.012, 0.03)))
    return P


def _keyboard(R: _Rand) -> list[Mesh]:
    W, D, T = R.u(0.4, 0.48), R.u(0.13, 0.18), R.u(0.015, 0.03)
    numpad = R.p(0.35)
    if numpad:
        W *= 1.2
    P = [box((0, 0, T / 2), (W, D, T))]
    rows, cols = R.i(5, 6), R.i(13, 16)
    kw = (W * (0.78 if numpad else 0.95)) / cols
    kd = D * 0.9 / rows
    x0 = -W / 2 + W * 0.025
    cs = []
    for i in range(rows):
        for j in range(cols):
            if i == 0 and 3 <= j < cols - 4:
                continue
            cs.append((x0 + (j + 0.5) * kw, -D * 0.45 + (i + 0.5) * kd, T + 0.005))
    cs.append((x0 + cols * kw / 2, -D * 0.45 + kd / 2, T + 0.005))  # space bar
    ss = [(kw * 0.85, kd * 0.85, 0.01)] * (len(cs) - 1) + [((cols - 7) * kw, kd * 0.85, 0.01)]
    if numpad:
        for i in range(rows - 1):
            for j in range(4):
                cs.append((W / 2 - W * 0.2 + (j + 0.5) * kw, -D * 0.45 + (i + 0.5) * kd, T + 0.005))
                ss.append((kw * 0.85, kd * 0.85, 0.01))
    P.append(boxes(cs, ss))
    return xform(P, _rx(R.u(0.0, 0.12)))


def _lamp(R: _Rand) -> list[Mesh]:
    floor = R.p(0.4)
    Hp = R.u(1.2, 1.7) if floor else R.u(0.25, 0.5)
    rb = R.u(0.1, 0.16) if floor else R.u(0.06, 0.12)
    P: list[Mesh] = []
    if R.p(0.7):
        P.append(cyl((0, 0, 0), (0, 0, 0.03), rb, 20))
    else:
        P.append(box((0, 0, 0.015), (2 * rb, 2 * rb, 0.03)))
    if R.p(0.75):  # straight pole with a shade
        P.append(cyl((0, 0, 0.03), (0, 0, Hp), R.u(0.01, 0.02), 10))
        sb = R.u(0.12, 0.25) if floor else R.u(0.08, 0.16)
        st = sb * R.u(0.5, 0.95)
        sh = sb * R.u(0.8, 1.4)
        z0 = Hp - sh * 0.6
        P.append(lathe([sb, st, st * 0.97, sb * 0.97], [z0, z0 + sh, z0 + sh, z0], 24))
        if R.p(0.5):
            P.append(sphere((0, 0, z0 + sh * 0.3), (0.03, 0.03, 0.04), 8))
    else:  # desk lamp: two-segment arm and a cone pointing down
        a1 = R.u(0.1, 0.5)
        l1, l2 = Hp * R.u(0.9, 1.2), Hp * R.u(0.7, 1.0)
        j1 = np.array([l1 * math.sin(a1), 0, 0.03 + l1 * math.cos(a1)])
        a2 = R.u(0.9, 1.6)
        j2 = j1 + [l2 * math.sin(a2), 0, l2 * math.cos(a2)]
        P += [cyl((0, 0, 0.03), j1, 0.012, 8), cyl(j1, j2, 0.012, 8), sphere(j1, (0.02, 0.02, 0.02), 6)]
        rs = R.u(0.06, 0.1)
        P.append(lathe([0.02, rs, rs * 0.95, 0.015], [0, -rs * 1.2, -rs * 1.2, 0], 20))
        P = P[:-1] + xform([P[-1]], _ry(R.u(0.3, 0.8)), t=j2)
    return P


def _laptop(R: _Rand) -> list[Mesh]:
    W = R.u(0.3, 0.38)
    D = W * R.u(0.65, 0.75)
    t = R.u(0.015, 0.025)
    P = [box((0, 0, t / 2), (W, D, t))]
    if R.p(0.5):
        P.append(box((0, -D * 0.1, t + 0.002), (W * 0.9, D * 0.45, 0.004)))
        P.append(box((0, -D * 0.38, t + 0.001), (W * 0.3, D * 0.18, 0.002)))
    ts, Ds = 0.008, D * 0.95
    screen = [box((0, 0, Ds / 2), (W, ts, Ds))]
    ang = R.u(0.0, 0.6)  # open beyond vertical
    P += xform(screen, _rx(-ang), t=(0, D / 2 - ts / 2, t))
    return P


def _mantel(R: _Rand) -> list[Mesh]:
    W, H, D = R.u(1.2, 2.0), R.u(1.0, 1.4), R.u(0.2, 0.4)
    ow = W * R.u(0.45, 0.65)
    oh = H * R.u(0.55, 0.75)
    pw = (W - ow) / 2
    P = [box((-(ow / 2 + pw / 2), 0, oh / 2), (pw, D, oh)), box((ow / 2 + pw / 2, 0, oh / 2), (pw, D, oh)),
         box((0, 0, oh + (H - oh) / 2), (W, D, H - oh))]
    P.append(box((0, 0, H + 0.025), (W * R.u(1.05, 1.15), D * 1.3, 0.05)))
    if R.p(0.6):  # fire-box back wall
        P.append(box((0, D / 2 - 0.02, oh / 2), (ow, 0.04, oh)))
    if R.p(0.5):  # hearth
        P.append(box((0, -D * 0.4, 0.025), (W * 1.05, D * 1.6, 0.05)))
    if R.p(0.4):  # things on the shelf
        for _ in range(R.i(1, 3)):
            x = R.u(-W * 0.4, W * 0.4)
            if R.p(0.5):
                P.append(box((x, 0, H + 0.05 + 0.08), (0.08, 0.08, 0.16)))
            else:
                P.append(sphere((x, 0, H + 0.05 + 0.07), (0.06, 0.06, 0.07), 8))
    return P


def _monitor(R: _Rand) -> list[Mesh]:
    W = R.u(0.45, 0.7)
    H = W * R.u(0.55, 0.68)
    T = R.u(0.02, 0.05)
    zb = R.u(0.08, 0.2)
    P = [box((0, 0, zb + H / 2), (W, T, H))]
    crt = R.p(0.15)
    if crt:
        P.append(frustum((W * 0.9, H * 0.9), (W * 0.45, H * 0.45), 0, W * 0.6))
        P = [P[0]] + xform([P[1]], _rx(-np.pi / 2), t=(0, T / 2, zb + H / 2))
    bw = W * R.u(0.3, 0.5)
    bd = R.u(0.15, 0.25)
    if R.p(0.5):
        P.append(box((0, 0.04, 0.01), (bw, bd, 0.02)))
    else:
        P.append(cyl((0, 0.04, 0), (0, 0.04, 0.02), bd * 0.6, 20))
    P.append(box((0, T / 2 + 0.03, (zb + H * 0.4) / 2), (0.05, 0.025, zb + H * 0.4)))
    return P


def _night_stand(R: _Rand) -> list[Mesh]:
    W, D, H = R.u(0.4, 0.6), R.u(0.35, 0.5), R.u(0.45, 0.7)
    leg = R.u(0.06, 0.2) if R.p(0.5) else 0.0
    P: list[Mesh] = []
    if R.p(0.4):  # drawer(s) above an open cubby
        zc = leg + (H - leg) * R.u(0.45, 0.6)
        t = 0.02
        P += [box((0, 0, leg + t / 2), (W, D, t)), box((-(W / 2 - t / 2), 0, (leg + H) / 2), (t, D, H - leg)),
              box((W / 2 - t / 2, 0, (leg + H) / 2), (t, D, H - leg)), box((0, D / 2 - t / 2, (leg + zc) / 2), (W, t, zc - leg)),
              box((0, 0, zc + (H - zc) / 2), (W, D, H - zc))]
        if leg:
            P += _legs4(W / 2 - 0.03, D / 2 - 0.03, 0, leg, 0.04)
        P += _fronts(R, -W / 2 + 0.02, W / 2 - 0.02, zc + 0.02, H - 0.02, -D / 2, R.i(1, 2), 1)
    else:
        P += _cabinet(R, W, D, H, leg, R.pick([0.0, 0.03]))
        P += _fronts(R, -W / 2 + 0.02, W / 2 - 0.02, leg + 0.03, H - 0.02, -D / 2, R.i(1, 3), 1, R.pick(["knob", "bar"]))
    return P


def _person(R: _Rand) -> list[Mesh]:
    H = R.u(1.6, 1.9)
    hr = 0.065 * H
    P = [sphere((0, 0, H - hr), (hr * 0.9, hr * 0.85, hr), 10),
         cyl((0, 0, 0.8 * H), (0, 0, H - 1.8 * hr), 0.025 * H, 8)]
    sw = R.u(0.1, 0.13) * H
    P.append(sphere((0, 0, 0.665 * H), (0.06 * H, sw, 0.16 * H), 12))  # torso
    hip = 0.5 * H
    stride = R.u(-0.12, 0.12) * H
    for s in (-1, 1):
        y = s * 0.055 * H
        foot = np.array([s * stride / 2, y + s * R.u(0, 0.04) * H, 0.03 * H])
        knee = np.array([foot[0] / 2 + R.u(0, 0.04) * H, y, 0.27 * H])
        P += [cyl((0, y, hip + 0.03 * H), knee, 0.045 * H, 10), cyl(knee, foot, 0.037 * H, 10),
              box((foot[0] + 0.04 * H, foot[1], 0.015 * H), (0.14 * H, 0.055 * H, 0.03 * H))]
        sh = np.array([0, s * (sw + 0.01 * H), 0.8 * H])
        raise_ = R.p(0.2)
        a = R.u(2.2, 2.9) if raise_ else R.u(0.05, 0.6)
        d = np.array([R.u(-0.3, 0.3), s * math.sin(a), -math.cos(a)])
        d /= np.linalg.norm(d)
        el = sh + d * 0.17 * H
        bend = np.array([R.u(0, 0.6), 0, 0])
        d2 = d + bend
        d2 /= np.linalg.norm(d2)
        hand = el + d2 * 0.16 * H
        P += [cyl(sh, el, 0.03 * H, 8), cyl(el, hand, 0.025 * H, 8), sphere(hand, (0.03 * H,) * 3, 6),
              sphere(sh, (0.035 * H,) * 3, 6)]
    return P


def _piano(R: _Rand) -> list[Mesh]:
    P: list[Mesh] = []
    if R.p(0.6):  # upright
        W, D, H = R.u(1.4, 1.6), R.u(0.5, 0.65), R.u(1.05, 1.3)
        zk = R.u(0.68, 0.74)
        P += [box((0, D / 2 - 0.15, H / 2), (W, 0.3, H)),
              box((0, -0.08, zk - 0.04), (W, D - 0.3, 0.08)),
              box((0, -0.02, zk + 0.05), (W * 0.92, D - 0.42, 0.02))]  # keys
        for s in (-1, 1):
            P.append(box((s * (W / 2 - 0.03), -0.05, zk / 2), (0.06, 0.06, zk)))
            P.append(box((s * (W / 2 - 0.03), -0.05, zk + 0.06), (0.06, D - 0.3, 0.12)))
        P.append(box((0, D / 2 - 0.15, H + 0.01), (W + 0.04, 0.34, 0.02)))
    else:  # grand
        W, L = R.u(1.4, 1.6), R.u(1.5, 2.7)
        zb, hb = R.u(0.6, 0.7), R.u(0.25, 0.35)
        poly = [(-W / 2, 0), (W / 2, 0), (W / 2, L * 0.35), (W * 0.2, L), (-W / 2 + 0.1, L), (-W / 2, L * 0.9)]
        P.append(extrude(poly, zb, zb + hb))
        P.append(box((0, -0.15, zb + 0.1), (W, 0.3, 0.12)))
        P.append(box((0, -0.2, zb + 0.17), (W * 0.9, 0.18, 0.02)))
        for x, y in [(-W / 2 + 0.1, 0.1), (W / 2 - 0.1, 0.1), (0.0, L * 0.8)]:
            P.append(cyl((x, y, 0), (x, y, zb), 0.05, 10))
        if R.p(0.6):  # propped lid
            lid = [extrude(poly, 0, 0.02)]
            P += xform(lid, _ry(R.u(0.3, 0.6)), t=(0, 0, zb + hb), about=(-W / 2, 0, 0))
        P = xform(P, t=(0, -L / 2, 0))
    if R.p(0.35):  # bench
        P += _legs4(0.3, 0.15, 0, 0.45, 0.05)
        P.append(box((0, 0, 0.47), (0.7, 0.35, 0.05)))
        P = P[:-5] + xform(P[-5:], t=(0, -1.0, 0))
    return P


def _plant(R: _Rand) -> list[Mesh]:
    Rt = R.u(0.1, 0.2)
    Hp = Rt * R.u(1.0, 1.8)
    P = _pot(R, Rt, Hp)
    if R.p(0.3):  # palm: trunk with a crown of long leaves
        th = Hp * R.u(2.0, 4.0)
        P.append(cyl((0, 0, Hp * 0.85), (0, 0, Hp + th), Rt * 0.12, 8))
        for k in range(R.i(6, 10)):
            a = 2 * np.pi * k / 10 + R.u(-0.2, 0.2)
            d = np.array([math.cos(a), math.sin(a), R.u(-0.4, 0.3)])
            ll = th * R.u(0.4, 0.6)
            top = np.array([0, 0, Hp + th])
            P.append(sphere(top + d / np.linalg.norm(d) * ll / 2, (ll * 0.12, ll * 0.02, ll / 2), 6, _align_z(d)))
    else:
        hgt = Hp * R.u(1.5, 3.5)
        P += _foliage(R, Hp * 0.85, hgt, Rt * R.u(0.8, 1.8), R.i(8, 16), Rt * R.u(0.6, 1.1) + hgt * 0.15)
    return P


def _radio(R: _Rand) -> list[Mesh]:
    W, D, H = R.u(0.25, 0.45), R.u(0.08, 0.16), R.u(0.14, 0.26)
    P = [box((0, 0, H / 2), (W, D, H))]
    ns = R.pick([1, 2])
    rs = min(H * 0.35, W / (2 * ns) * 0.8)
    for k in range(ns):
        x = -W / 2 + W * (k + 0.5) / ns if ns == 2 else -W * 0.2
        P.append(cyl((x, -D / 2 - 0.008, H * 0.45), (x, -D / 2, H * 0.45), rs, 20))
    if ns == 1:
        P.append(box((W * 0.22, -D / 2 - 0.004, H * 0.6), (W * 0.35, 0.008, H * 0.25)))
        P.append(cyl((W * 0.3, -D / 2 - 0.02, H * 0.25), (W * 0.3, -D / 2, H * 0.25), H * 0.07, 12))
    if R.p(0.6):  # antenna
        a = R.u(0.1, 0.6)
        base = np.array([W * 0.4, 0, H])
        P.append(cyl(base, base + [math.sin(a) * W * 0.9, 0, math.cos(a) * W * 0.9], 0.004, 6))
    if R.p(0.5):  # carrying handle
        s = np.linspace(0, np.pi, 10)
        P.append(tube(np.column_stack([W * 0.35 * np.cos(s), np.zeros(10), H + H * 0.35 * np.sin(s)]), 0.01, 6))
    return P


def _range_hood(R: _Rand) -> list[Mesh]:
    W, D = R.u(0.6, 0.9), R.u(0.45, 0.55)
    hb, hs = R.u(0.04, 0.1), R.u(0.12, 0.3)
    cw, cd = W * R.u(0.25, 0.4), D * R.u(0.4, 0.6)
    ch = R.u(0.4, 0.8)
    oy = D / 2 - cd / 2 if R.p(0.5) else 0.0  # chimney against the wall or centred
    P = [box((0, 0, hb / 2), (W, D, hb)), frustum((W, D), (cw, cd), hb, hb + hs, top_offset=(0, oy)),
         box((0, oy, hb + hs + ch / 2), (cw, cd, ch))]
    if R.p(0.4):  # controls
        P.append(boxes([(x, -D / 2 - 0.005, hb / 2) for x in np.linspace(-W * 0.3, W * 0.3, 4)], (0.03, 0.01, 0.02)))
    return P


def _sink(R: _Rand) -> list[Mesh]:
    W, D = R.u(0.5, 0.9), R.u(0.4, 0.55)
    H = R.u(0.8, 0.9)
    t = 0.03
    bw, bd = W * R.u(0.55, 0.75), D * R.u(0.55, 0.75)
    bh = R.u(0.12, 0.2)
    P: list[Mesh] = []
    # counter with a hole: four slabs around the basin
    P += [box((0, -(bd / 2 + (D - bd) / 4), H - t / 2), (W, (D - bd) / 2, t)),
          box((0, bd / 2 + (D - bd) / 4, H - t / 2), (W, (D - bd) / 2, t)),
          box((-(bw / 2 + (W - bw) / 4), 0, H - t / 2), ((W - bw) / 2, bd, t)),
          box((bw / 2 + (W - bw) / 4, 0, H - t / 2), ((W - bw) / 2, bd, t))]
    if R.p(0.5):  # oval basin
        tt = np.linspace(0, np.pi / 2, 8)
        P.append(lathe(np.sin(tt), H - bh * np.cos(tt), 24, scale_xy=(bw / 2, bd / 2)))
    else:
        P.append(frustum((bw * 0.9, bd * 0.9), (bw, bd), H - bh, H, caps=False))
        P.append(box((0, 0, H - bh), (bw * 0.9, bd * 0.9, 0.005)))
    fy = D / 2 - 0.05
    sp = R.u(0.12, 0.22)
    P.append(tube([(0, fy, H), (0, fy, H + 0.2), (0, fy - 0.05, H + 0.25), (0, fy - sp, H + 0.2)], 0.015, 8))
    for s in (-1, 1):
        if R.p(0.7):
            P.append(cyl((s * 0.1, fy, H), (s * 0.1, fy, H + 0.06), 0.02, 8))
    base = R.pick(["pedestal", "cabinet", "legs", "wall"], [0.35, 0.35, 0.15, 0.15])
    if base == "pedestal":
        P.append(lathe([0.12, 0.07, 0.06, 0.1], [0, 0.1, H - bh - 0.05, H - bh], 16))
    elif base == "cabinet":
        P.append(box((0, 0, (H - t) / 2), (W * 0.98, D * 0.95, H - t)))
        P += _fronts(R, -W * 0.48, W * 0.48, 0.05, H - t - 0.02, -D * 0.475, 1, R.i(1, 2), "vbar")
    elif base == "legs":
        P += _legs4(W / 2 - 0.05, D / 2 - 0.05, 0, H - t, 0.04, round_=True)
    return P


def _sofa(R: _Rand) -> list[Mesh]:
    L, D = R.u(1.6, 2.4), R.u(0.8, 1.0)
    leg = R.u(0.05, 0.15) if R.p(0.5) else 0.0
    hs = R.u(0.38, 0.45)
    hb = R.u(0.38, 0.55)
    bt = R.u(0.12, 0.22)
    P = [box((0, 0, leg + (hs - 0.12 - leg) / 2), (L, D, hs - 0.12 - leg)),
         box((0, D / 2 - bt / 2, leg + (hs + hb - leg) / 2), (L, bt, hs + hb - leg))]
    n = R.i(1, 3)
    arm = R.u(0.1, 0.2) if R.p(0.9) else 0.0
    cw = (L - 2 * arm) / n
    P.append(boxes([(-L / 2 + arm + (k + 0.5) * cw, -bt / 2, hs - 0.06) for k in range(n)], (cw * 0.97, D - bt, 0.12)))
    if arm:
        ha = hs + R.u(0.12, 0.25)
        for s in (-1, 1):
            P.append(box((s * (L / 2 - arm / 2), 0, leg + (ha - leg) / 2), (arm, D, ha - leg)))
    if leg:
        P += _legs4(L / 2 - 0.08, D / 2 - 0.08, 0, leg, 0.05, round_=R.p(0.5))
    if R.p(0.3):  # back cushions
        P.append(boxes([(-L / 2 + arm + (k + 0.5) * cw, D / 2 - bt - 0.07, hs + hb * 0.4) for k in range(n)],
                       (cw * 0.95, 0.14, hb * 0.7)))
    if R.p(0.2):  # L-shaped sectional
        P.append(box((-(L / 2 - 0.4), -D / 2 - 0.35, leg + (hs - leg) / 2), (0.8, 0.7, hs - leg)))
    return P


def _stairs(R: _Rand) -> list[Mesh]:
    n = R.i(4, 12)
    rise, run, W = R.u(0.15, 0.2), R.u(0.25, 0.32), R.u(0.8, 1.5)
    P: list[Mesh] = []
    if R.p(0.6):  # solid steps
        P.append(boxes([(k * run + run / 2, 0, (k + 1) * rise / 2) for k in range(n)], [(run, W, (k + 1) * rise) for k in range(n)]))
    else:  # treads on stringers
        P.append(boxes([(k * run + run / 2, 0, (k + 1) * rise - 0.02) for k in range(n)], (run * 1.05, W, 0.04)))
        for s in (-1, 1):
            a = math.atan2(rise, run)
            ls = math.hypot(n * run, n * rise)
            P += xform([box((ls / 2, s * W / 2, 0), (ls, 0.05, 0.2))], _ry(-a))
    if R.p(0.5):  # railing
        hr = R.u(0.8, 1.0)
        sides = [1, -1] if R.p(0.5) else [1]
        for s in sides:
            ks = range(0, n, max(1, n // 4))
            for k in ks:
                P.append(cyl((k * run + run / 2, s * W / 2, (k + 1) * rise), (k * run + run / 2, s * W / 2, (k + 1) * rise + hr), 0.02, 8))
            P.append(cyl((run / 2, s * W / 2, rise + hr), ((n - 0.5) * run, s * W / 2, n * rise + hr), 0.025, 8))
    return P


def _stool(R: _Rand) -> list[Mesh]:
    H = R.u(0.45, 0.8)
    t = R.u(0.03, 0.06)
    P: list[Mesh] = []
    if R.p(0.7):
        rs = R.u(0.15, 0.22)
        P.append(cyl((0, 0, H - t), (0, 0, H), rs, 24))
    else:
        rs = R.u(0.15, 0.2)
        P.append(box((0, 0, H - t / 2), (2 * rs, 2 * rs, t)))
    k = R.pick([3, 4, 4])
    splay = R.u(0.0, 0.1)
    lr = R.u(0.015, 0.025)
    for j in range(k):
        a = 2 * np.pi * j / k + np.pi / 4
        top = np.array([0.7 * rs * math.cos(a), 0.7 * rs * math.sin(a), H - t])
        bot = np.array([(0.7 * rs + splay) * math.cos(a), (0.7 * rs + splay) * math.sin(a), 0])
        P.append(cyl(bot, top, lr, 8))
    if H > 0.6 and R.p(0.6):  # footrest ring
        zf = H * 0.3
        rf = 0.7 * rs + splay * (1 - zf / (H - t))
        P.append(torus((0, 0, zf), rf, 0.012, res=(24, 6)))
    if R.p(0.12):  # low back (bar stool), confusable with a chair
        hb = R.u(0.12, 0.25)
        P.append(box((-rs * 0.9, 0, H + hb / 2), (0.03, rs * 1.4, hb)))
    return P


def _table(R: _Rand) -> list[Mesh]:
    W = R.u(0.8, 2.0)
    D = W * R.u(0.45, 1.0)
    H = R.u(0.35, 0.5) if R.p(0.25) else R.u(0.68, 0.8)
    t = R.u(0.025, 0.06)
    round_top = R.p(0.3)
    if round_top:
        rr = R.u(0.4, 0.7)
        W = D = 2 * rr
        P = [cyl((0, 0, H - t), (0, 0, H), rr, 32)]
    else:
        P = [box((0, 0, H - t / 2), (W, D, t))]
    kind = R.pick(["legs", "pedestal", "trestle"], [0.55, 0.25, 0.2])
    if kind == "legs":
        f = 0.7 if round_top else 1.0
        inset = R.u(0.03, 0.12)
        lt = R.u(0.03, 0.07)
        x, y = f * W / 2 - inset, f * D / 2 - inset
        P += _legs4(x, y, 0, H - t, lt, round_=R.p(0.4))
        if not round_top and R.p(0.5):  # apron
            P += [box((0, s * y, H - t - 0.05), (2 * x, 0.02, 0.1)) for s in (-1, 1)]
            P += [box((s * x, 0, H - t - 0.05), (0.02, 2 * y, 0.1)) for s in (-1, 1)]
        if R.p(0.2):  # lower shelf
            P.append(box((0, 0, R.u(0.1, 0.25)), (2 * x, 2 * y, 0.02)))
    elif kind == "pedestal":
        P.append(cyl((0, 0, 0.03), (0, 0, H - t), R.u(0.04, 0.1), 16))
        if R.p(0.5):
            P.append(cyl((0, 0, 0), (0, 0, 0.03), min(W, D) * R.u(0.25, 0.35), 24))
        else:
            for a in (0, np.pi / 2):
                P.append(box((0, 0, 0.03), (min(W, D) * 0.7, 0.06, 0.06), rz=a))
    else:
        for s in (-1, 1):
            P.append(box((s * (W / 2 - 0.15), 0, (H - t) / 2), (0.05, D * 0.8, H - t)))
        P.append(box((0, 0, 0.2), (W - 0.3, 0.04, 0.06)))
    return P


def _tent(R: _Rand) -> list[Mesh]:
    kind = R.pick(["ridge", "dome", "pyramid"], [0.4, 0.35, 0.25])
    P: list[Mesh] = []
    if kind == "ridge":
        L, W, H = R.u(1.8, 3.0), R.u(1.2, 2.2), R.u(0.9, 1.6)
        P.append(extrude([(-W / 2, 0), (W / 2, 0), (0, H)], -L / 2, L / 2, axis="x"))
        if R.p(0.5):  # poles at the ends
            for s in (-1, 1):
                P.append(cyl((s * (L / 2 + 0.05), 0, 0), (s * (L / 2 + 0.05), 0, H + 0.15), 0.015, 6))
    elif kind == "dome":
        Rr, H = R.u(0.9, 1.6), R.u(0.9, 1.4)
        t = np.linspace(0, np.pi / 2, 10)
        P.append(lathe(np.concatenate([[0], np.cos(t)]), np.concatenate([[0], np.sin(t)]), 24,
                       scale_xy=(Rr * R.u(1.0, 1.3), Rr)))
        P = xform(P, np.diag([1.0, 1.0, H]))
        if R.p(0.5):  # vestibule
            P.append(cone((Rr * 0.7, 0, 0), (Rr * 1.3, 0, 0), H * 0.5, 12))
    else:
        B, H = R.u(1.5, 2.5), R.u(1.2, 2.2)
        k = R.pick([4, 6])
        P.append(cone((0, 0, 0), (0, 0, H), B / 2, k))
        P.append(cyl((0, 0, 0), (0, 0, H + 0.2), 0.02, 6))
    return P


def _toilet(R: _Rand) -> list[Mesh]:
    hb = R.u(0.38, 0.45)
    bl, bw = R.u(0.22, 0.28), R.u(0.17, 0.2)  # bowl semi-axes (x forward, y)
    t = np.linspace(0, np.pi / 2, 8)
    bowl_depth = R.u(0.18, 0.25)
    P = [lathe(np.concatenate([np.sin(t), np.sin(t)[::-1] * 0.88]),
               np.concatenate([hb - bowl_depth * np.cos(t), (hb - 0.02 - (bowl_depth - 0.02) * np.cos(t))[::-1]]),
               24, scale_xy=(bl, bw))]
    P.append(lathe([0.12, 0.1, bw * 0.8, bw * 0.9], [0, 0.05, hb - bowl_depth * 0.7, hb - bowl_depth * 0.6], 16,
                   scale_xy=(1.2, 1.0)))  # pedestal
    P.append(xform([torus((0, 0, 0), 1.0, 0.12, res=(24, 6))], np.diag([bl * 0.9, bw * 0.9, bw * 0.9]), t=(0, 0, hb + 0.02))[0])
    tank = R.p(0.85)
    if tank:
        th, tw = R.u(0.3, 0.45), R.u(0.4, 0.5)
        P.append(box((-bl - 0.08, 0, hb + th / 2 - 0.05), (0.18, tw, th)))
        P.append(box((-bl - 0.08, 0, hb + th - 0.04), (0.2, tw + 0.02, 0.03)))
    if R.p(0.5):  # lid up
        lid = [xform([lathe([0, 1, 1, 0], [0, 0, 0.02, 0.02], 20, scale_xy=(bl * 0.95, bw * 0.95))], _ry(-np.pi / 2 + 0.15))[0]]
        P += xform(lid, t=(-bl * 0.95 + 0.02, 0, hb + bl * 0.95 + 0.03))
    else:
        P.append(lathe([0, 1, 1, 0], [0, 0, 0.02, 0.02], 20, scale_xy=(bl * 0.95, bw * 0.95)))
        P[-1] = xform([P[-1]], t=(0, 0, hb + 0.04))[0]
    return xform(P, t=(bl, 0, 0))


def _tv_stand(R: _Rand) -> list[Mesh]:
    W, D, H = R.u(1.2, 2.0), R.u(0.35, 0.5), R.u(0.35, 0.6)
    leg = R.u(0.05, 0.12) if R.p(0.4) else 0.0
    t = 0.025
    P = [box((0, 0, H - t / 2), (W, D, t)), box((0, 0, leg + t / 2), (W, D, t)),
         box((-(W / 2 - t / 2), 0, (leg + H) / 2), (t, D, H - leg)), box((W / 2 - t / 2, 0, (leg + H) / 2), (t, D, H - leg))]
    if R.p(0.6):
        P.append(box((0, D / 2 - 0.005, (leg + H) / 2), (W, 0.01, H - leg)))
    k = R.i(1, 3)
    xs = np.linspace(-W / 2, W / 2, k + 2)[1:-1]
    P += [box((x, 0, (leg + H) / 2), (t, D, H - leg)) for x in xs]
    if R.p(0.5):  # middle shelf
        P.append(box((0, 0, (leg + H) / 2), (W, D, t)))
    edges = np.concatenate([[-W / 2], xs, [W / 2]])
    for x0, x1 in zip(edges[:-1], edges[1:]):
        if R.p(0.35):  # doors on this compartment
            P += _fronts(R, x0 + t / 2, x1 - t / 2, leg + t, H - t, -D / 2, 1, R.i(1, 2), "vbar")
    if leg:
        P += _legs4(W / 2 - 0.05, D / 2 - 0.05, 0, leg, 0.04, round_=True)
    if R.p(0.12):  # a TV on it
        tw = W * R.u(0.5, 0.7)
        P.append(box((0, 0.05, H + 0.05 + tw * 0.3), (tw, 0.04, tw * 0.58)))
        P.append(box((0, 0.05, H + 0.025), (tw * 0.3, 0.2, 0.05)))
    return P


def _vase(R: _Rand) -> list[Mesh]:
    H = R.u(0.25, 0.6)
    Rm = H * R.u(0.16, 0.35)
    rb = Rm * R.u(0.45, 0.8)
    zmax = R.u(0.2, 0.6)
    zn = R.u(max(zmax + 0.15, 0.65), 0.88)
    rneck = Rm * R.u(0.3, 0.7)
    rlip = rneck * R.u(1.0, 1.8)
    ctrl = [(rb, 0), (Rm * 0.9, zmax * H * 0.5), (Rm, zmax * H), ((Rm + rneck) / 2, (zmax + zn) / 2 * H),
            (rneck, zn * H), (rlip, H)]
    c = catmull(ctrl, 6)
    t = max(0.006, Rm * 0.04)
    inner = np.column_stack([np.clip(c[::-1, 0] - t, 0, None), c[::-1, 1]])
    inner = inner[inner[:, 1] >= zn * H - 1e-9]
    r = np.concatenate([[0], np.clip(c[:, 0], 0, None), inner[:, 0], [0]])
    z = np.concatenate([[0], c[:, 1], inner[:, 1], [inner[-1, 1]]])
    square = R.p(0.12)
    P = [lathe(r, z, 4 if square else 28, math.pi / 4 if square else 0.0)]
    if R.p(0.25):  # foot
        P = xform(P, t=(0, 0, H * 0.05))
        P.append(lathe([0, rb * 0.9, rb * 0.7, 0], [0, 0, H * 0.05, H * 0.05], 24))
    if R.p(0.2):  # handles (amphora)
        for s in (-1, 1):
            a = np.linspace(0, np.pi, 10)
            z0, z1 = zn * H, (zmax + zn) / 2 * H
            zz = (z0 + z1) / 2 + (z0 - z1) / 2 * np.cos(a)
            xx = s * (np.interp(zz, c[:, 1], c[:, 0]) - t + Rm * 0.35 * np.sin(a))
            P.append(tube(np.column_stack([xx, np.zeros(10), zz]), t * 1.5, 6))
    return P


def _wardrobe(R: _Rand) -> list[Mesh]:
    W, D, H = R.u(0.8, 1.6), R.u(0.5, 0.65), R.u(1.7, 2.2)
    plinth = R.u(0.05, 0.12) if R.p(0.6) else 0.0
    P = _cabinet(R, W, D, H, 0.0)
    if plinth:
        P = xform(P, np.diag([1.0, 1.0, (H - plinth) / H]), t=(0, 0, plinth))
        P.append(box((0, 0.01, plinth / 2), (W * 0.96, D * 0.96, plinth)))
    doors = R.pick([2, 2, 3])
    zd = plinth + 0.02
    if R.p(0.3):  # drawers at the bottom
        hd = R.u(0.2, 0.4)
        P += _fronts(R, -W / 2 + 0.02, W / 2 - 0.02, zd, zd + hd, -D / 2, R.i(1, 2), 2, "bar")
        zd += hd
    P += _fronts(R, -W / 2 + 0.02, W / 2 - 0.02, zd, H - 0.03, -D / 2, 1, doors, "vbar")
    if R.p(0.5):  # cornice
        P.append(box((0, -0.02, H + 0.04), (W + 0.08, D + 0.06, 0.08)))
    return P


def _xbox(R: _Rand) -> list[Mesh]:
    W, D, T = R.u(0.26, 0.34), R.u(0.22, 0.3), R.u(0.07, 0.09)
    gen = R.pick(["flat", "tower"], [0.6, 0.4])
    P = [box((0, 0, T / 2), (W, D, T))]
    if R.p(0.6):  # curved side panel / bevel
        P.append(box((0, 0, T + 0.004), (W * 0.92, D * 0.92, 0.008)))
    P.append(box((-W * 0.15, -D / 2 - 0.002, T * 0.6), (W * 0.45, 0.004, 0.008)))  # disc slot
    P.append(cyl((W * 0.35, -D / 2 - 0.004, T * 0.5), (W * 0.35, -D / 2, T * 0.5), T * 0.22, 16))  # power ring
    if R.p(0.6):  # vents
        P.append(boxes([(W / 2 + 0.002, y, T / 2) for y in np.linspace(-D * 0.35, D * 0.35, 8)], (0.004, 0.01, T * 0.6)))
    if gen == "tower":  # stood on its side on a small foot
        P = xform(P, _ry(np.pi / 2), t=(-T / 2, 0, W / 2 + 0.02), about=(0, 0, 0))
        P.append(box((0, 0, 0.01), (T * 1.6, D * 0.5, 0.02)))
    return P


_RECIPES: dict[str, Callable[[_Rand], list[Mesh]]] = {
    "airplane": _airplane, "bathtub": _bathtub, "bed": _bed, "bench": _bench, "bookshelf": _bookshelf,
    "bottle": _bottle, "bowl": _bowl, "car": _car, "chair": _chair, "cone": _cone, "cup": _cup,
    "curtain": _curtain, "desk": _desk, "door": _door, "dresser": _dresser, "flower_pot": _flower_pot,
    "glass_box": _glass_box, "guitar": _guitar, "keyboard": _keyboard, "lamp": _lamp, "laptop": _laptop,
    "mantel": _mantel, "monitor": _monitor, "night_stand": _night_stand, "person": _person, "piano": _piano,
    "plant": _plant, "radio": _radio, "range_hood": _range_hood, "sink": _sink, "sofa": _sofa,
    "stairs": _stairs, "stool": _stool, "table": _table, "tent": _tent, "toilet": _toilet,
    "tv_stand": _tv_stand, "vase": _vase, "wardrobe": _wardrobe, "xbox": _xbox,
}
assert tuple(_RECIPES) == CLASSES


def _shape_rng(cls: str, seed: int, split: str, index: int) -> np.random.Generator:
    if cls not in _RECIPES:
        raise ValueError(f"unknown class {cls!r}; choose from CLASSES")
    if split not in _SPLIT_ID:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return np.random.default_rng(np.random.SeedSequence([int(seed), CLASSES.index(cls), _SPLIT_ID[split], int(index)]))


def synth_mesh(cls: str, seed: int = 0, split: str = "train", index: int = 0, max_rot_deg: float = 15.0,
               max_stretch: float = 0.2) -> Mesh:
    """The mesh (vertices, triangles) of one SynthModelNet shape before normalisation: z up,
    lowest point on z = 0. After the class recipe, each axis is stretched by
    ``exp(U(-max_stretch, max_stretch))`` (0.2: x0.82..1.22, widening every class's proportions
    so that global shape statistics alone do not separate the classes), then the shape is
    rotated about z by ``U(-max_rot_deg, max_rot_deg)`` degrees."""
    g = _shape_rng(cls, seed, split, index)
    v, f = merge(_RECIPES[cls](_Rand(g)))
    v = v * np.exp(g.uniform(-max_stretch, max_stretch, 3))
    a = math.radians(float(g.uniform(-max_rot_deg, max_rot_deg)))
    v = v @ _rz(a).T
    v[:, 2] -= v[:, 2].min()
    return v, f


def synth_shape(cls: str, seed: int = 0, split: str = "train", index: int = 0, num_points: int = 2048) -> np.ndarray:
    """``[num_points, 3]`` float32 surface points of one shape, in the unit sphere."""
    v, f = synth_mesh(cls, seed, split, index)
    g = np.random.default_rng(np.random.SeedSequence([int(seed), CLASSES.index(cls), _SPLIT_ID[split], int(index), 1]))
    pts = sample_surface(v, f, num_points, g, what=f"synthetic {cls} #{index}")
    return normalize_unit_sphere(pts).astype(np.float32)


# ----------------------------------------------------------------------------- synthetic sets
def _spec(profile: str | dict) -> dict:
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; use one of {sorted(PROFILES)} or a dict "
                             "{'classes': [...], 'train': n, 'test': n}")
        spec = {"name": profile, **PROFILES[profile]}
    elif isinstance(profile, dict):
        spec = {"name": "custom", "points": 2048, **profile}
    else:
        raise TypeError(f"profile must be a name or a dict, got {type(profile).__name__}")
    classes = list(spec.get("classes", []))
    bad = [c for c in classes if c not in CLASSES]
    if not classes or bad:
        raise ValueError(f"profile {spec['name']!r}: classes must be a non-empty list of ModelNet40 names; unknown: {bad}")
    for k in ("train", "test", "points"):
        if int(spec.get(k, 0)) < 1:
            raise ValueError(f"profile {spec['name']!r}: {k!r} must be >= 1, got {spec.get(k)}")
    if not re.fullmatch(r"[A-Za-z0-9_.]+", str(spec["name"])):
        raise ValueError(f"profile name {spec['name']!r} must be letters, digits, '_' or '.'")
    spec["classes"] = classes
    return spec


def make_synthetic(profile: str | dict = "teaching", root: str | Path | None = None, seed: int = 0,
                   progress: bool = True) -> Path:
    """Generate (once) the SynthModelNet ``profile`` and return its folder.

    ``profile`` is a name from :data:`PROFILES` or a dict ``{"classes": [...], "train": n,
    "test": n, "points": 2048, "name": "custom"}``. The folder holds ``train.npz`` and
    ``test.npz`` (see :mod:`i2p.data.store`), samples ``{"points": [P, 3] float32, "label":
    int, "name": "<class>_<i>"}`` with labels indexing ``spec["classes"]``."""
    spec = _spec(profile)
    params = {"generator": "synth_modelnet", "version": RECIPE_VERSION, "classes": spec["classes"],
              "train": int(spec["train"]), "test": int(spec["test"]), "points": int(spec["points"]), "seed": int(seed)}

    def build(folder: Path) -> None:
        from tqdm.auto import tqdm

        total = len(spec["classes"]) * (params["train"] + params["test"])
        with tqdm(total=total, desc=f"SynthModelNet[{spec['name']}]", unit="shape", disable=not progress) as bar:
            for split in ("train", "test"):
                samples = []
                for label, cls in enumerate(spec["classes"]):
                    for i in range(params[split]):
                        pts = synth_shape(cls, seed, split, i, params["points"])
                        samples.append({"points": pts, "label": label, "name": f"{cls}_{i}"})
                        bar.update(1)
                save_cloudset(folder / f"{split}.npz", samples)

    return cached_build(f"synth_modelnet-{spec['name']}", params, build, root)


def load_synthetic(split: str = "train", profile: str | dict = "teaching", root: str | Path | None = None,
                   transform: Callable | None = None, seed: int = 0, progress: bool = True) -> CloudDataset:
    """A split of SynthModelNet as a :class:`CloudDataset` (generated on first use)."""
    if split not in _SPLIT_ID:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    spec = _spec(profile)
    folder = make_synthetic(profile, root, seed, progress)
    try:
        samples = load_cloudset(folder / f"{split}.npz")
    except (ValueError, FileNotFoundError) as e:
        raise type(e)(f"{e}. The cached SynthModelNet folder {folder} is damaged: delete the whole folder "
                      f"(shutil.rmtree) and call make_synthetic again to regenerate it") from e
    return CloudDataset(samples, spec["classes"], transform)


# ----------------------------------------------------------------------------- real ModelNet40: h5
_H5_RE = re.compile(r"^ply_data_(train|test)(\d+)\.h5$")
_H5_HINT = ("download modelnet40_ply_hdf5_2048.zip (the PointNet release) and extract it so that "
            "<root>/modelnet40_ply_hdf5_2048/ply_data_{train,test}<k>.h5 exist")


def _h5_dir(root: Path) -> Path | None:
    for cand in (root, root / "modelnet40_ply_hdf5_2048"):
        if cand.is_dir() and any(_H5_RE.match(p.name) for p in cand.iterdir()):
            return cand
    return None


def _h5_files(folder: Path, split: str) -> list[tuple[int, Path]]:
    out = []
    for p in folder.iterdir():
        m = _H5_RE.match(p.name)
        if m and m.group(1) == split:
            out.append((int(m.group(2)), p))
    return sorted(out)


def _h5_classes(folder: Path) -> list[str]:
    names = folder / "shape_names.txt"
    if names.is_file():
        got = [ln.strip() for ln in names.read_text().splitlines() if ln.strip()]
        if got:
            return got
    return list(CLASSES)


def _read_h5(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; {_H5_HINT}")
    missing: list[str] = []
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("data", "label") if k not in f]
            keys = sorted(f.keys())
            if not missing:
                data = np.asarray(f["data"][...])
                label = np.asarray(f["label"][...])
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: cannot read the HDF5 file ({e}); it is probably truncated or corrupt — "
                         f"delete it and {_H5_HINT}") from e
    if missing:
        raise ValueError(f"{path}: missing dataset(s) {missing} (has {keys}); this is not a "
                         f"modelnet40_ply_hdf5_2048 file — {_H5_HINT}")
    if data.ndim != 3 or data.shape[2] != 3 or data.shape[1] == 0:
        raise ValueError(f"{path}: 'data' has shape {data.shape}, expected [B, N, 3]; {_H5_HINT}")
    if label.ndim == 2 and label.shape[1] == 1:
        label = label[:, 0]
    if label.ndim != 1 or len(label) != len(data):
        raise ValueError(f"{path}: 'label' has shape {label.shape} for {len(data)} shapes, expected [B, 1]; {_H5_HINT}")
    if not np.issubdtype(label.dtype, np.integer):
        if not np.all(np.isfinite(label)) or not np.all(label == np.round(label)):
            raise ValueError(f"{path}: 'label' holds non-integer values; the file is corrupt — {_H5_HINT}")
        label = label.astype(np.int64)
    bad = np.flatnonzero((label < 0) | (label >= num_classes))
    if len(bad):
        raise ValueError(f"{path}: {len(bad)} label(s) outside 0..{num_classes - 1} (e.g. shape {bad[0]} has label "
                         f"{int(label[bad[0]])}); the file is corrupt or from another dataset — {_H5_HINT}")
    finite = np.isfinite(data).all(axis=(1, 2))
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{path}: shape {i} (and {int((~finite).sum()) - 1} more) has NaN/inf coordinates; "
                         f"the file is corrupt — {_H5_HINT}")
    return data.astype(np.float32, copy=False), label.astype(np.int64)


def load_h5(root: str | Path, split: str, transform: Callable | None = None) -> CloudDataset:
    """The official ``modelnet40_ply_hdf5_2048`` split (files ``ply_data_<split><k>.h5`` in order of k).

    ``root`` is the folder holding the h5 files or its parent. Class names come from
    ``shape_names.txt`` when present, else :data:`CLASSES`."""
    if split not in _SPLIT_ID:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    folder = _h5_dir(root)
    if folder is None:
        raise FileNotFoundError(f"no ply_data_*.h5 files under {root} or {root / 'modelnet40_ply_hdf5_2048'}; {_H5_HINT}")
    files = _h5_files(folder, split)
    if not files:
        raise FileNotFoundError(f"no ply_data_{split}*.h5 files in {folder}; {_H5_HINT}")
    classes = _h5_classes(folder)
    samples = []
    for _, path in files:
        data, label = _read_h5(path, len(classes))
        for i in range(len(data)):
            samples.append({"points": torch.from_numpy(np.ascontiguousarray(data[i])), "label": int(label[i]),
                            "name": f"{path.stem}_{i}"})
    return CloudDataset(samples, classes, transform)


# ----------------------------------------------------------------------------- real ModelNet40: OFF
_OFF_HINT = "re-download/re-extract ModelNet40.zip (https://modelnet.cs.princeton.edu)"
_OFF_HEAD = re.compile(r"^[A-Z]*OFF", re.IGNORECASE)


def _off_lines(text: str) -> list[str]:
    out = []
    for raw in text.splitlines():
        ln = raw.split("#", 1)[0].strip()
        if ln:
            out.append(ln)
    return out


def _off_header(lines: list[str], path: Path) -> tuple[int, int, int]:
    """(nv, nf, index of the first body line). Handles the fused ``OFF490 518 0`` header."""
    if not lines:
        raise ValueError(f"{path}: empty OFF file; {_OFF_HINT}")
    m = _OFF_HEAD.match(lines[0])
    if not m:
        raise ValueError(f"{path}: not an OFF file (first line {lines[0][:40]!r}); {_OFF_HINT}")
    rest = lines[0][m.end():].split()
    body = 1
    if not rest:
        if len(lines) < 2:
            raise ValueError(f"{path}: OFF header without vertex/face counts; {_OFF_HINT}")
        rest, body = lines[1].split(), 2
    try:
        nv, nf = int(rest[0]), int(rest[1])
    except (ValueError, IndexError):
        raise ValueError(f"{path}: malformed OFF counts line {' '.join(rest)[:40]!r}; {_OFF_HINT}") from None
    if nv < 0 or nf < 0:
        raise ValueError(f"{path}: negative vertex/face counts ({nv}, {nf}); {_OFF_HINT}")
    return nv, nf, body


def read_off(path: str | Path) -> Mesh:
    """Parse an OFF mesh: vertices ``[n, 3]`` float64, triangles ``[m, 3]`` int64.

    Robust to the ModelNet quirk of a header fused with the counts (``OFF490 518 0``),
    comments and blank lines, and extra per-vertex/face values (colours); polygons with
    more than three vertices are fan-triangulated."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("latin-1")
    except OSError as e:
        raise FileNotFoundError(f"{path}: cannot read ({e})") from e
    lines = _off_lines(text)
    nv, nf, b = _off_header(lines, path)
    body = lines[b:]
    if len(body) < nv + nf:
        raise ValueError(f"{path}: truncated OFF file: header promises {nv} vertices + {nf} faces, "
                         f"found {len(body)} data lines; {_OFF_HINT}")
    if nv == 0 or nf == 0:
        raise ValueError(f"{path}: empty mesh ({nv} vertices, {nf} faces); nothing to sample — {_OFF_HINT}")
    vl = body[:nv]
    try:
        flat = np.array(" ".join(vl).split(), dtype=np.float64)
        if flat.size == 3 * nv:
            v = flat.reshape(nv, 3)
        else:
            v = np.array([ln.split()[:3] for ln in vl], dtype=np.float64)
            if v.ndim != 2 or v.shape[1] != 3:
                raise ValueError
    except ValueError:
        raise ValueError(f"{path}: malformed vertex lines (need 3 numbers each); {_OFF_HINT}") from None
    if not np.isfinite(v).all():
        raise ValueError(f"{path}: NaN/inf vertex coordinates; the file is corrupt — {_OFF_HINT}")
    fl = body[nv:nv + nf]
    tris = None
    try:
        flat = np.array(" ".join(fl).split(), dtype=np.int64)
        if flat.size == 4 * nf and (flat[0::4] == 3).all():  # the common all-triangles case
            tris = flat.reshape(nf, 4)[:, 1:]
    except ValueError:
        pass
    if tris is None:
        out = []
        for k, ln in enumerate(fl):
            tok = ln.split()
            try:
                n = int(tok[0])
                idx = [int(t) for t in tok[1:1 + n]]
            except (ValueError, IndexError):
                raise ValueError(f"{path}: malformed face line {nv + k + 1} after the header: {ln[:40]!r}; {_OFF_HINT}") from None
            if len(idx) < n:
                raise ValueError(f"{path}: face line {nv + k + 1} lists {len(idx)} of {n} vertices (truncated or malformed file); "
                                 f"{_OFF_HINT}")
            for j in range(1, n - 1):  # fan triangulation; n < 3 (points/edges) adds nothing
                out.append((idx[0], idx[j], idx[j + 1]))
        tris = np.array(out, dtype=np.int64).reshape(-1, 3)
    if len(tris) == 0:
        raise ValueError(f"{path}: no polygon faces (only points/edges); nothing to sample — {_OFF_HINT}")
    if tris.min() < 0 or tris.max() >= nv:
        raise ValueError(f"{path}: face vertex index out of range 0..{nv - 1} (min {tris.min()}, max {tris.max()}); {_OFF_HINT}")
    return v, tris


def _off_dir(root: Path) -> Path | None:
    for cand in (root, root / "ModelNet40"):
        if cand.is_dir() and any((cand / c).is_dir() for c in CLASSES):
            return cand
    return None


def _off_classes(folder: Path, split: str) -> list[str]:
    found = sorted(p.name for p in folder.iterdir() if (p / split).is_dir())
    if set(found) != set(CLASSES):
        missing = [c for c in CLASSES if c not in found]
        warnings.warn(f"{folder}: {len(found)} class folders with a '{split}' split, not ModelNet40's 40 "
                      f"(missing: {missing[:8]}{'...' if len(missing) > 8 else ''}); labels index the sorted "
                      "folder names that exist", stacklevel=3)
    return found


def _sample_off(path: Path, rel: str, num_points: int, seed: int) -> np.ndarray:
    v, f = read_off(path)
    g = np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(rel.encode())]))
    pts = sample_surface(v, f, num_points, g, what=str(path))
    return normalize_unit_sphere(pts).astype(np.float32)


def load_off(root: str | Path, split: str, num_points: int = 2048, seed: int = 0,
             transform: Callable | None = None, progress: bool = True, cache: bool = False,
             cache_root: str | Path | None = None) -> CloudDataset:
    """Original ModelNet40 meshes ``<root>/[ModelNet40/]<class>/<split>/<class>_NNNN.off``,
    sampled area-weighted (``num_points`` per mesh, seeded per file) and normalised to the
    unit sphere. Labels index the sorted class folders (= :data:`CLASSES` for the full set).
    With ``cache=True`` the sampled split is stored under ``cache_root`` (default
    :func:`data_root`) and reused."""
    if split not in _SPLIT_ID:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    folder = _off_dir(root)
    if folder is None:
        raise FileNotFoundError(f"no ModelNet40 class folders under {root} or {root / 'ModelNet40'}; {_OFF_HINT} "
                                "so that <root>/ModelNet40/<class>/<split>/*.off exist")
    classes = _off_classes(folder, split)
    files = [(y, p) for y, c in enumerate(classes) for p in sorted((folder / c / split).iterdir())
             if p.suffix.lower() == ".off"]
    if not files:
        raise FileNotFoundError(f"{folder}: no .off files in any <class>/{split}/ folder; {_OFF_HINT}")

    def build_samples(bar_desc: str) -> list[dict]:
        from tqdm.auto import tqdm

        out = []
        for y, p in tqdm(files, desc=bar_desc, unit="mesh", disable=not progress):
            rel = f"{p.parent.parent.name}/{split}/{p.name}"
            out.append({"points": _sample_off(p, rel, num_points, seed), "label": y, "name": p.stem})
        return out

    if cache:
        params = {"root": str(folder.resolve()), "split": split, "points": int(num_points), "seed": int(seed),
                  "files": len(files), "classes": classes}

        def build(dst: Path) -> None:
            save_cloudset(dst / f"{split}.npz", build_samples(f"ModelNet40 OFF {split}"))

        d = cached_build(f"modelnet40_off-{split}", params, build, cache_root)
        samples = load_cloudset(d / f"{split}.npz")
    else:
        samples = build_samples(f"ModelNet40 OFF {split}")
        for s in samples:
            s["points"] = torch.from_numpy(s["points"])
    return CloudDataset(samples, classes, transform)


# ----------------------------------------------------------------------------- validation
def _check_h5(folder: Path) -> list[str]:
    problems = []
    classes = _h5_classes(folder)
    if (folder / "shape_names.txt").is_file() and len(classes) != 40:
        problems.append(f"{folder / 'shape_names.txt'}: lists {len(classes)} class names, expected 40")
    for split in ("train", "test"):
        files = _h5_files(folder, split)
        if not files:
            problems.append(f"{folder}: missing ply_data_{split}*.h5 files; {_H5_HINT}")
            continue
        ks = [k for k, _ in files]
        gaps = sorted(set(range(max(ks) + 1)) - set(ks))
        if gaps:
            problems.append(f"{folder}: missing " + ", ".join(f"ply_data_{split}{k}.h5" for k in gaps)
                            + f" (found {[p.name for _, p in files]}); {_H5_HINT}")
        for _, path in files:
            try:
                _read_h5(path, len(classes))
            except (ValueError, OSError) as e:
                problems.append(str(e))
    return problems


def _check_off_file(path: Path, full: bool) -> str | None:
    try:
        if full:
            read_off(path)
        else:
            with open(path, "rb") as fh:
                head = fh.read(4096).decode("latin-1")
            lines = _off_lines(head)
            nv, nf, _ = _off_header(lines, path)
            if nv == 0 or nf == 0:
                return f"{path}: empty mesh ({nv} vertices, {nf} faces)"
    except (ValueError, FileNotFoundError, OSError) as e:
        return str(e)
    return None


def _check_off(folder: Path, full: bool) -> list[str]:
    problems = []
    for c in CLASSES:
        if not (folder / c).is_dir():
            problems.append(f"{folder}: missing class folder {c}/; {_OFF_HINT}")
            continue
        for split in ("train", "test"):
            d = folder / c / split
            offs = sorted(p for p in d.iterdir() if p.suffix.lower() == ".off") if d.is_dir() else []
            if not offs:
                problems.append(f"{d}: {'missing' if not d.is_dir() else 'empty'} (no .off files); {_OFF_HINT}")
            for p in offs:
                msg = _check_off_file(p, full)
                if msg:
                    problems.append(msg)
    return problems


def check_real(root: str | Path, full: bool = False) -> list[str]:
    """Problems with a real ModelNet40 download (either layout), as readable lines; ``[]`` if OK.

    The h5 layout is read completely (keys, shapes, label range, NaN). For the OFF layout
    each file's header is checked; ``full=True`` parses every mesh (slow: ~12k files)."""
    root = Path(root)
    if not root.is_dir():
        return [f"{root}: no such directory"]
    h5 = _h5_dir(root)
    off = _off_dir(root)
    if h5 is None and off is None:
        return [f"{root}: no ModelNet40 data found: expected modelnet40_ply_hdf5_2048/ply_data_{{train,test}}<k>.h5 "
                "or ModelNet40/<class>/{train,test}/*.off"]
    problems = []
    if h5 is not None:
        problems += _check_h5(h5)
    if off is not None:
        problems += _check_off(off, full)
    return problems


# ----------------------------------------------------------------------------- gallery
def gallery(samples_per_class: int = 2, profile: str | dict = "teaching", root: str | Path | None = None,
            seed: int = 0, split: str = "train", max_points: int = 2048):
    """A grid of 3D scatter plots, ``samples_per_class`` shapes per class, titled by class."""
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d import Axes3D  # noqa: F401  (registers the 3d projection)

    ds = load_synthetic(split, profile, root, seed=seed)
    per = {y: [] for y in range(len(ds.classes))}
    for s in ds.samples:
        if len(per[s["label"]]) < samples_per_class:
            per[s["label"]].append(s)
    C = len(ds.classes)
    cls_per_row = 5 if C <= 10 else 8
    ncols = cls_per_row * samples_per_class
    nrows = math.ceil(C / cls_per_row)
    fig = Figure(figsize=(2.0 * ncols, 2.2 * nrows), dpi=90)
    for y in range(C):
        for k, s in enumerate(per[y]):
            idx = (y // cls_per_row) * ncols + (y % cls_per_row) * samples_per_class + k + 1
            ax = fig.add_subplot(nrows, ncols, idx, projection="3d")
            p = np.asarray(s["points"])[:max_points]
            ax.scatter(p[:, 0], p[:, 1], p[:, 2], c=p[:, 2], cmap="viridis", s=1.5, depthshade=False, linewidths=0)
            ax.set_xlim(-1, 1)
            ax.set_ylim(-1, 1)
            ax.set_zlim(-1, 1)
            ax.set_box_aspect((1, 1, 1), zoom=1.45)
            ax.view_init(elev=25, azim=-60)
            ax.set_axis_off()
            ax.set_title(f"{ds.classes[y]} ({s['name'].rsplit('_', 1)[-1]})", fontsize=9, pad=-2)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=0.97, wspace=0, hspace=0.05)
    return fig
