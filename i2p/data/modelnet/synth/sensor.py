"""How a SynthModelNet mesh becomes its point cloud: the sensor model and its options.

Three generator options (keys of every profile, see :class:`~i2p.data.modelnet.spec.ModelNet40Spec`)
make the clouds harder, from the clean CAD-like default towards a real scan:

``view``
    ``"full"`` (default): points uniform by area over the whole surface, like
    ``modelnet40_ply_hdf5_2048``. ``"partial"``: one depth-sensor view. A pinhole camera
    at a uniform azimuth, an elevation uniform in :data:`ELEVATION_DEG` above the horizon
    (y is up) and a distance uniform in :data:`DISTANCE_RADII` object radii (the bounding
    sphere of the vertices) looks at the centre of the bounding box; one ray per pixel
    (jittered inside the pixel) is cast through a square image that just holds the
    bounding sphere, with open3d's ``RaycastingScene``; the first hits are the visible
    surface (self-occlusion, the density falls off with distance and obliquity like a
    real scan). ``points`` of them are drawn without replacement.
``noise``
    Std of isotropic Gaussian sensor noise added to every point after normalisation, in
    unit-sphere units (default 0.0: none).
``occlusion``
    Probability (default 0.0) that a ball of radius :data:`OCCLUDER_RADIUS` (in units of
    the unit sphere the candidate points are normalised into) centred on one of those
    candidate points (a random surface point of the view) is cut out before the
    ``points`` are drawn: clutter in front of the object.

Every draw comes from a child stream of the shape's own ``(seed, class, split, index)``
stream: ``stream(1)`` samples the surface (the only stream the default uses, exactly as
before these options existed) or jitters the pixels and draws the subset, ``stream(2)``
places the camera, ``stream(3)`` the occluder, ``stream(4)`` the noise. So each option
changes only its own part: the same shape with ``occlusion=0.3`` keeps its camera, and
the shapes whose occluder draw misses are identical to ``occlusion=0``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...mesh import normalize_unit_sphere, sample_surface

__all__ = ["VIEWS", "DEFAULTS", "ELEVATION_DEG", "DISTANCE_RADII", "OCCLUDER_RADIUS", "Capture", "capture",
           "camera", "check_options"]

#: values of the ``view`` option
VIEWS: tuple[str, ...] = ("full", "partial")
#: the options' defaults: today's data (uniform over the whole surface, exact, complete)
DEFAULTS: dict[str, object] = {"view": "full", "noise": 0.0, "occlusion": 0.0}
#: camera elevation above the horizon, degrees (uniform), for ``view="partial"``
ELEVATION_DEG: tuple[float, float] = (10.0, 50.0)
#: camera distance from the bounding-box centre in bounding-sphere radii (uniform)
DISTANCE_RADII: tuple[float, float] = (2.5, 3.5)
#: radius of the ball an occluder cuts out, in unit-sphere units
OCCLUDER_RADIUS: float = 0.3
#: candidate points per output point (surface samples or ray hits) when some are cut or drawn
_POOL = 2
#: the smallest and largest image resolution (pixels per side) of a scan
_RES0, _RES_MAX = 96, 2048


@dataclass(frozen=True)
class Capture:
    """One captured cloud and where it came from, in the mesh's coordinates (y up)."""

    #: ``[n, 3]`` float32, ``(x - offset) / scale`` of the drawn surface points ``x``, plus noise
    points: np.ndarray
    offset: np.ndarray
    scale: float
    #: camera position (``view="partial"``), else ``None``
    eye: np.ndarray | None
    #: centre and radius of the ball cut out, else ``None``
    hole: tuple[np.ndarray, float] | None


def check_options(view, noise, occlusion, who: str = "SynthModelNet") -> None:
    """``ValueError`` naming the valid values for a bad ``view``, ``noise`` or ``occlusion``."""
    if not isinstance(view, str) or view not in VIEWS:
        raise ValueError(f"{who} option 'view' must be one of {', '.join(repr(v) for v in VIEWS)} "
                         f"(whole surface / one depth-sensor view), got {view!r}")
    if not _real(noise) or noise < 0:
        raise ValueError(f"{who} option 'noise' must be a number >= 0 (std of Gaussian point noise in "
                         f"unit-sphere units; 0 = none), got {noise!r}")
    if not _real(occlusion) or not 0 <= occlusion <= 1:
        raise ValueError(f"{who} option 'occlusion' must be a probability in [0, 1] (chance that a ball of "
                         f"radius {OCCLUDER_RADIUS} is cut out of a cloud; 0 = never), got {occlusion!r}")


def _real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)) \
        and math.isfinite(float(x))


def capture(v: np.ndarray, f: np.ndarray, num_points: int, stream: Callable[[int], np.random.Generator],
            view: str = "full", noise: float = 0.0, occlusion: float = 0.0, what: str = "mesh") -> Capture:
    """The cloud of mesh ``(v, f)`` under the sensor options (module docstring); ``stream(k)``
    gives the shape's child stream ``k``."""
    check_options(view, noise, occlusion)
    g = stream(1)
    g_occ = stream(3) if occlusion > 0 else None
    cut = g_occ is not None and bool(g_occ.random() < occlusion)
    eye = None
    if view == "full":
        if not cut:  # the default: exactly the sampling these options were added to
            pts = sample_surface(v, f, num_points, g, what=what)
            return _finish(pts, None, None, noise, stream)

        def more(k: int) -> np.ndarray:  # k-th batch of candidates: surface samples
            return sample_surface(v, f, _POOL * num_points, g, what=what)
    else:
        eye = camera(v, stream(2))
        scan = _Scanner(v, f, eye)
        res = scan.resolution_for(_POOL * num_points, g)

        def more(k: int) -> np.ndarray:  # k-th scan: 2**k times finer each way
            return scan.cast(min(res << k, _RES_MAX), g)
    pool = more(0)
    if len(pool) == 0:
        raise ValueError(f"{what}: the camera at {eye} sees nothing")
    hole = None
    if cut:
        mean = pool.mean(0)
        radius = OCCLUDER_RADIUS * float(np.linalg.norm(pool - mean, axis=1).max())
        hole = (pool[int(g_occ.integers(len(pool)))].copy(), radius)
        pool = _outside(pool, hole)
    for k in range(1, 5):  # too few (left): more samples / a finer scan, the same hole
        if len(pool) >= num_points:
            break
        fresh = _outside(more(k), hole)
        pool = np.concatenate([pool, fresh]) if view == "full" else fresh
    if len(pool) >= num_points:
        pts = pool[g.choice(len(pool), num_points, replace=False)]
    else:  # a pathological view: everything it has, then repeats
        pts = pool[np.concatenate([g.permutation(len(pool)), g.integers(len(pool), size=num_points - len(pool))])]
    return _finish(pts, eye, hole, noise, stream)


def _outside(p: np.ndarray, hole: tuple[np.ndarray, float] | None) -> np.ndarray:
    if hole is None:
        return p
    return p[np.linalg.norm(p - hole[0], axis=1) > hole[1]]


def _finish(pts: np.ndarray, eye, hole, noise: float, stream) -> Capture:
    q = normalize_unit_sphere(pts)  # the same operations as before the options (bit-identical default)
    offset = pts.mean(0)
    scale = float(np.linalg.norm(pts - offset, axis=1).max())
    if noise > 0:
        q = q + stream(4).normal(0.0, float(noise), q.shape)
    return Capture(q.astype(np.float32), offset, scale, eye, hole)


def camera(v: np.ndarray, g: np.random.Generator) -> np.ndarray:
    """A camera position around the vertices ``v`` (y up): uniform azimuth, elevation in
    :data:`ELEVATION_DEG`, distance in :data:`DISTANCE_RADII` bounding-sphere radii."""
    centre, radius = _bounds(v)
    az = g.uniform(0.0, 2 * math.pi)
    el = math.radians(g.uniform(*ELEVATION_DEG))
    d = g.uniform(*DISTANCE_RADII) * radius
    return centre + d * np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])


def _bounds(v: np.ndarray) -> tuple[np.ndarray, float]:
    centre = (v.min(0) + v.max(0)) / 2
    return centre, float(np.linalg.norm(v - centre, axis=1).max())


class _Scanner:
    """Ray casting from ``eye`` at the bounding-box centre of mesh ``(v, f)``, one ray per
    pixel of a square image that just holds the bounding sphere."""

    def __init__(self, v: np.ndarray, f: np.ndarray, eye: np.ndarray) -> None:
        import open3d as o3d

        self.o3d = o3d
        self.tri = np.asarray(v, dtype=np.float64)[np.asarray(f)]
        self.scene = o3d.t.geometry.RaycastingScene()
        self.scene.add_triangles(o3d.core.Tensor(np.ascontiguousarray(v, dtype=np.float32)),
                                 o3d.core.Tensor(np.ascontiguousarray(f, dtype=np.uint32)))
        centre, radius = _bounds(v)
        w = centre - eye
        dist = float(np.linalg.norm(w))
        w = w / dist
        right = np.cross(w, [0.0, 1.0, 0.0])  # the elevation stays below 90 degrees: never parallel
        right /= np.linalg.norm(right)
        up = np.cross(right, w)
        half = radius / math.sqrt(max(dist * dist - radius * radius, 1e-12))  # tan of the half field of view
        self.eye, self.w, self.right, self.up = eye, w, right * half, up * half

    def cast(self, res: int, g: np.random.Generator) -> np.ndarray:
        """The first hits of a ``res`` x ``res`` image, each ray jittered inside its pixel."""
        j = g.random((res, res, 2))
        s = (np.arange(res)[None, :] + j[..., 0]) * (2.0 / res) - 1.0  # columns: left to right
        t = 1.0 - (np.arange(res)[:, None] + j[..., 1]) * (2.0 / res)  # rows: top to bottom
        d = self.w + s[..., None] * self.right + t[..., None] * self.up
        rays = np.concatenate([np.broadcast_to(self.eye, d.shape), d], -1).reshape(-1, 6).astype(np.float32)
        ans = self.scene.cast_rays(self.o3d.core.Tensor(rays), nthreads=1)
        hit = np.isfinite(ans["t_hit"].numpy())
        prim = ans["primitive_ids"].numpy()[hit].astype(np.int64)
        uv = ans["primitive_uvs"].numpy()[hit].astype(np.float64)
        t3 = self.tri[prim]  # the hit on its triangle, from the barycentric coordinates: exactly on the surface
        return (1 - uv[:, :1] - uv[:, 1:]) * t3[:, 0] + uv[:, :1] * t3[:, 1] + uv[:, 1:] * t3[:, 2]

    def resolution_for(self, hits: int, g: np.random.Generator) -> int:
        """Pixels per side for about ``hits`` hits, from the fraction a small probe image hits."""
        probe = len(self.cast(32, g)) / 32 ** 2
        if probe == 0:
            return _RES_MAX
        return int(min(_RES_MAX, max(_RES0, math.ceil(1.15 * math.sqrt(hits / probe)))))

