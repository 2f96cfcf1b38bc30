"""The one triangle-mesh toolkit every generator uses.

A mesh is ``(vertices [n, 3] float64, triangles [m, 3] int64)``. Primitives are built
from open3d's unit shapes (created once, then scaled/rotated with numpy) or by hand
(surfaces of revolution, swept tubes, extrusions, sheets); :func:`merge` joins parts and
:func:`sample_surface` draws points uniformly by area from a seeded numpy generator
(open3d's sampler is not seeded). z is "up" for the helpers that need one direction
(``lathe``, ``frustum``, ``box(rz=...)``); generators turn the result into their data
set's frame.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = [
    "Mesh", "rot_x", "rot_y", "rot_z", "align_z", "box", "boxes", "cyl", "cone", "sphere", "torus",
    "grid_faces", "lathe", "sheet", "extrude", "frustum", "tube", "catmull", "xform", "merge",
    "sample_surface", "normalize_unit_sphere",
]

Mesh = tuple[np.ndarray, np.ndarray]  # vertices [n, 3] float64, triangles [m, 3] int64

def rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)


def rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float64)


def rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)


def align_z(d) -> np.ndarray:
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
        v = v @ rot_z(rz).T
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
    v = (v * [r, r, np.linalg.norm(d)]) @ align_z(d).T
    return v + (p0 + p1) / 2, f


def cone(base, apex, r: float, res: int = 16) -> Mesh:
    base, apex = np.asarray(base, dtype=np.float64), np.asarray(apex, dtype=np.float64)
    d = apex - base
    v, f = _unit("cone", res)
    v = (v * [r, r, np.linalg.norm(d)]) @ align_z(d).T
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
    return v @ align_z(normal).T + np.asarray(center, dtype=np.float64), f


def grid_faces(m: int, n: int, wrap: bool = False) -> np.ndarray:
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
    return v, grid_faces(len(r), seg, wrap=True)


def sheet(x, y, z) -> Mesh:
    """A single-sided surface from [m, n] coordinate grids."""
    x, y, z = (np.asarray(a, dtype=np.float64) for a in (x, y, z))
    return np.stack([x, y, z], -1).reshape(-1, 3), grid_faces(*x.shape)


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
    f = grid_faces(k, res, wrap=True)
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
