"""The tagged world the simulated LiDAR scans: meshes with a raw label, a material and a velocity.

Every recipe returns *parts* ``(mesh, raw id, material, reflectivity or None)`` in its
object's frame (origin on the ground at its centre, x forward); :meth:`World.add_object`
places them. Labels come from the geometry a ray hits, so tagging a mesh is labelling
every point on it.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from ...mesh import Mesh, rot_z

__all__ = ["Material", "Part", "World", "ASPHALT", "PAINT", "CONCRETE", "PAVING", "GRASS", "LEAVES", "BARK",
           "GLASS", "RUBBER", "METAL", "SIGN", "WOOD"]


class Material(NamedTuple):
    """How a surface returns a laser pulse: intensity ~ ``reflectivity * |cos(incidence)| ** exponent``."""

    reflectivity: float
    dropout: float  # probability that a hit returns nothing (glass, foliage)
    exponent: float  # rough surfaces ~0.35 (weak angle dependence), retro-reflectors ~0.15


ASPHALT = Material(0.30, 0.01, 0.35)
PAINT = Material(0.85, 0.0, 0.35)
CONCRETE = Material(0.40, 0.0, 0.5)
PAVING = Material(0.35, 0.0, 0.5)
GRASS = Material(0.50, 0.02, 0.4)
LEAVES = Material(0.45, 0.12, 0.4)
BARK = Material(0.30, 0.02, 0.7)
GLASS = Material(0.10, 0.55, 1.0)
RUBBER = Material(0.05, 0.15, 1.0)
METAL = Material(0.45, 0.02, 1.0)
SIGN = Material(0.95, 0.0, 0.15)  # retro-reflective
WOOD = Material(0.35, 0.02, 1.0)

#: (mesh in the object's frame, raw SemanticKITTI id, material, reflectivity overriding the material's or None)
Part = tuple[Mesh, int, Material, float | None]


class World:
    """Meshes with per-mesh raw label, material and velocity (moving objects drift with time)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, int, float, float, float, np.ndarray]] = []

    def add(self, mesh: Mesh, raw: int, mat: Material, vel: Sequence[float] = (0.0, 0.0),
            refl: float | None = None) -> None:
        """A mesh in world coordinates."""
        V, T = mesh
        r = mat.reflectivity if refl is None else refl
        self.parts.append((np.asarray(V, float), np.asarray(T, np.int64), int(raw), float(r), mat.dropout,
                           mat.exponent, np.asarray(vel, float)))

    def add_object(self, parts: Sequence[Part], x: float, y: float, yaw: float = 0.0, z: float = 0.0,
                   vel: Sequence[float] = (0.0, 0.0)) -> None:
        """Parts of one object, turned by ``yaw`` about z and put at ``(x, y, z)``."""
        R, at = rot_z(yaw), np.array([x, y, z])
        for (V, T), raw, mat, refl in parts:
            self.add((V @ R.T + at, T), raw, mat, vel, refl)

    def scene(self, t: float) -> tuple[Any, dict[int, int], dict[int, np.ndarray]]:
        """Raycasting scene at time ``t`` (moving parts displaced by ``vel * t``).

        Returns ``(scene, geometry id -> raw id, geometry id -> [triangles, 3] (reflectivity,
        dropout, exponent))``; one geometry per raw id keeps the lookup per hit cheap.
        """
        import open3d as o3d

        by_raw: dict[int, list] = {}
        for p in self.parts:
            by_raw.setdefault(p[2], []).append(p)
        scene = o3d.t.geometry.RaycastingScene()
        geom_raw, tri_attr = {}, {}
        for raw in sorted(by_raw):
            Vs, Ts, attrs, off = [], [], [], 0
            for V, T, _, refl, drop, expo, vel in by_raw[raw]:
                if vel.any():
                    V = V + np.array([vel[0] * t, vel[1] * t, 0.0])
                Vs.append(V)
                Ts.append(T + off)
                off += len(V)
                attrs.append(np.repeat([[refl, drop, expo]], len(T), 0))
            gid = scene.add_triangles(o3d.core.Tensor(np.concatenate(Vs).astype(np.float32)),
                                      o3d.core.Tensor(np.concatenate(Ts).astype(np.uint32)))
            geom_raw[gid] = raw
            tri_attr[gid] = np.concatenate(attrs).astype(np.float32)
        return scene, geom_raw, tri_attr
