"""The simulated LiDAR: a 64-beam spinning scanner like KITTI's Velodyne HDL-64E.

Rays are cast with open3d's ``RaycastingScene``. The hit geometry gives the raw label;
intensity is the material's reflectivity times ``|cos|`` of the incidence angle (to a
material exponent), with multiplicative and additive noise; returns drop out per
material (glass, foliage) and when weak at long range; ranges get 2 cm noise; a few
spurious short returns along a ray (dust, multi-path) are labelled outlier (raw 1).
"""
from __future__ import annotations

import numpy as np

from ...mesh import rot_z
from .world import World

__all__ = ["SENSOR_HEIGHT", "BEAM_ELEVATIONS_DEG", "scan"]

#: metres above the road (KITTI's Velodyne mount)
SENSOR_HEIGHT = 1.73
#: HDL-64E-like beam layout: upper block of 32 lasers at ~1/3 deg spacing, lower block of
#: 32 at ~1/2 deg, spanning +2 deg .. -24.9 deg.
BEAM_ELEVATIONS_DEG = np.concatenate([np.linspace(2.0, -8.33, 32), np.linspace(-8.83, -24.9, 32)])

_OUTLIER_RATE = 0.0005


def scan(world: World, t: float, pos: np.ndarray, yaw: float, azimuths: int, min_range: float,
         max_range: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sweep from a sensor at ``pos`` turned by ``yaw``, at time ``t`` (moving objects moved).

    Returns points ``[N, 3]`` float32 in the sensor frame (x forward, y left, z up),
    intensity ``[N]`` float32 in [0, 1] and raw SemanticKITTI ids ``[N]`` int64, ring-major
    (beam by beam, each sweeping the azimuths) like a range image.
    """
    import open3d as o3d

    el = np.deg2rad(BEAM_ELEVATIONS_DEG)
    az = rng.uniform(0, 2 * np.pi / azimuths) + np.arange(azimuths) * (2 * np.pi / azimuths)
    E, A = np.meshgrid(el, az, indexing="ij")
    d_local = np.stack([np.cos(E) * np.cos(A), np.cos(E) * np.sin(A), np.sin(E)], -1).reshape(-1, 3)
    d_world = d_local @ rot_z(yaw).T
    rays = np.concatenate([np.broadcast_to(pos, d_world.shape), d_world], 1).astype(np.float32)
    scene, geom_raw, tri_attr = world.scene(t)
    hit = scene.cast_rays(o3d.core.Tensor(rays), nthreads=0)
    th = hit["t_hit"].numpy()
    gid = hit["geometry_ids"].numpy().astype(np.int64)
    pid = hit["primitive_ids"].numpy().astype(np.int64)
    nrm = hit["primitive_normals"].numpy()

    idx = np.nonzero(np.isfinite(th) & (th <= max_range) & (th >= min_range))[0]
    g, p = gid[idx], pid[idx]
    raw = np.empty(len(idx), np.int64)
    attr = np.empty((len(idx), 3), np.float32)  # reflectivity, dropout, incidence exponent
    for k, rw in geom_raw.items():
        m = g == k
        raw[m] = rw
        attr[m] = tri_attr[k][p[m]]
    cosang = np.abs(np.einsum("ij,ij->i", nrm[idx], d_world[idx]))
    inten = attr[:, 0] * np.clip(cosang, 0, 1) ** attr[:, 2]
    inten = inten * (1 + 0.08 * rng.standard_normal(len(idx))) + 0.015 * rng.standard_normal(len(idx))
    inten = np.clip(inten, 0, 1)
    weak = np.clip(0.12 - inten, 0, None) * (th[idx] / max_range)
    keep = rng.random(len(idx)) >= attr[:, 1] + weak
    rng_m = th[idx] + rng.normal(0, 0.02, len(idx))
    out = rng.random(len(idx)) < _OUTLIER_RATE
    rng_m[out] = rng.uniform(min_range, np.maximum(min_range + 0.1, th[idx][out]))
    raw[out] = 1
    inten[out] = rng.uniform(0, 0.1, out.sum())
    keep |= out
    idx, rng_m, raw, inten = idx[keep], rng_m[keep], raw[keep], inten[keep]
    pts = (d_local[idx] * rng_m[:, None]).astype(np.float32)
    return pts, inten.astype(np.float32), raw
