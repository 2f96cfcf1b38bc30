"""SemanticKITTI: label tables, a reader for the official format, and SynthKITTI.

Paper §4 / Appendix 6.1: SemanticKITTI outdoor segmentation, trained on sequences
00-10 except 08, evaluated on 08, with x, y, z and intensity as input features
(``in_channels = 4``), 19 classes, voxel size 0.05.

* **Tables** (from the official ``semantic-kitti.yaml``): :data:`RAW_LABELS` (raw id ->
  name), :data:`LEARNING_MAP` (raw id -> 0..19, 0 = ignore; moving classes fold onto
  their static counterparts, lane-marking onto road), :data:`LEARNING_MAP_INV`,
  :data:`COLOR_MAP` (BGR, as in the yaml) and :data:`CLASSES`. i2p's train labels are
  ``learning_map - 1`` (0..18) with ignore = ``-100`` (the trainer's ``ignore_index``);
  :func:`map_labels` does this.
* **Real data**: ``<root>/sequences/NN/velodyne/XXXXXX.bin`` (float32 x, y, z,
  intensity) and ``<root>/sequences/NN/labels/XXXXXX.label`` (uint32: semantic id in the
  lower 16 bits, instance id in the upper 16). :func:`load_real` reads scans lazily,
  :func:`check_real` lists what is wrong with a download.
* **SynthKITTI** (:func:`make_synthetic`): a stand-in generated here. Procedural streets
  (road with lane markings, parking lanes, sidewalks with curbs, intersections,
  buildings with windows and ledges, fences, hedges, trees, terrain, poles, traffic
  signs, cars, trucks, buses, bicycles, motorcycles, persons, cyclists) are meshed with
  every mesh tagged by a raw SemanticKITTI id, then scanned by a simulated 64-beam
  spinning LiDAR (KITTI's HDL-64E: +2 deg to -24.9 deg, 1.73 m above the road) with
  open3d's ``RaycastingScene``. The hit geometry gives the label; intensity is the
  material's reflectivity times ``|cos|`` of the incidence angle, with noise. Sweeps of
  a sequence follow the car driving down the same street, moving objects move.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

from .store import CloudDataset, cached_build, load_cloudset, save_cloudset

__all__ = [
    "RAW_LABELS", "LEARNING_MAP", "LEARNING_MAP_INV", "COLOR_MAP", "CLASSES", "IGNORE_INDEX",
    "TRAIN_SEQUENCES", "VAL_SEQUENCE", "SENSOR_HEIGHT", "BEAM_ELEVATIONS_DEG", "PROFILES",
    "map_labels", "class_colors", "train_transform",
    "make_synthetic", "load_synthetic", "synth_sweeps",
    "read_scan", "read_labels", "RealKittiDataset", "load_real", "check_real",
    "gallery",
]

# --------------------------------------------------------------------------- tables

RAW_LABELS: dict[int, str] = {
    0: "unlabeled", 1: "outlier",
    10: "car", 11: "bicycle", 13: "bus", 15: "motorcycle", 16: "on-rails", 18: "truck",
    20: "other-vehicle", 30: "person", 31: "bicyclist", 32: "motorcyclist",
    40: "road", 44: "parking", 48: "sidewalk", 49: "other-ground",
    50: "building", 51: "fence", 52: "other-structure", 60: "lane-marking",
    70: "vegetation", 71: "trunk", 72: "terrain", 80: "pole", 81: "traffic-sign",
    99: "other-object",
    252: "moving-car", 253: "moving-bicyclist", 254: "moving-person", 255: "moving-motorcyclist",
    256: "moving-on-rails", 257: "moving-bus", 258: "moving-truck", 259: "moving-other-vehicle",
}

#: raw id -> learning id (0 = ignore, 1..19 = the train classes), as the official yaml.
LEARNING_MAP: dict[int, int] = {
    0: 0, 1: 0,
    10: 1, 11: 2, 13: 5, 15: 3, 16: 5, 18: 4, 20: 5, 30: 6, 31: 7, 32: 8,
    40: 9, 44: 10, 48: 11, 49: 12, 50: 13, 51: 14, 52: 0, 60: 9,
    70: 15, 71: 16, 72: 17, 80: 18, 81: 19, 99: 0,
    252: 1, 253: 7, 254: 6, 255: 8, 256: 5, 257: 5, 258: 4, 259: 5,
}

#: learning id -> raw id (0 -> unlabeled).
LEARNING_MAP_INV: dict[int, int] = {
    0: 0, 1: 10, 2: 11, 3: 15, 4: 18, 5: 20, 6: 30, 7: 31, 8: 32, 9: 40, 10: 44,
    11: 48, 12: 49, 13: 50, 14: 51, 15: 70, 16: 71, 17: 72, 18: 80, 19: 81,
}

#: raw id -> colour, **BGR** as in the official yaml.
COLOR_MAP: dict[int, tuple[int, int, int]] = {
    0: (0, 0, 0), 1: (0, 0, 255),
    10: (245, 150, 100), 11: (245, 230, 100), 13: (250, 80, 100), 15: (150, 60, 30),
    16: (255, 0, 0), 18: (180, 30, 80), 20: (255, 0, 0), 30: (30, 30, 255),
    31: (200, 40, 255), 32: (90, 30, 150), 40: (255, 0, 255), 44: (255, 150, 255),
    48: (75, 0, 75), 49: (75, 0, 175), 50: (0, 200, 255), 51: (50, 120, 255),
    52: (0, 150, 255), 60: (170, 255, 150), 70: (0, 175, 0), 71: (0, 60, 135),
    72: (80, 240, 150), 80: (150, 240, 255), 81: (0, 0, 255), 99: (255, 255, 50),
    252: (245, 150, 100), 253: (200, 40, 255), 254: (30, 30, 255), 255: (90, 30, 150),
    256: (255, 0, 0), 257: (250, 80, 100), 258: (180, 30, 80), 259: (255, 0, 0),
}

#: i2p class index 0..18 = learning id - 1.
CLASSES: tuple[str, ...] = tuple(RAW_LABELS[LEARNING_MAP_INV[i]] for i in range(1, 20))
IGNORE_INDEX = -100

TRAIN_SEQUENCES: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10)
VAL_SEQUENCE = 8

_LUT_SIZE = 1 << 16
_LUT = np.full(_LUT_SIZE, -1, dtype=np.int64)  # -1: not in the table
for _raw, _l in LEARNING_MAP.items():
    _LUT[_raw] = _l - 1 if _l > 0 else IGNORE_INDEX


def map_labels(raw: np.ndarray) -> np.ndarray:
    """Raw SemanticKITTI ids -> i2p train labels (0..18, ignore = -100), int64.

    Raises ``ValueError`` naming the ids that are not in the official table.
    """
    raw = np.asarray(raw)
    if raw.size and (not np.issubdtype(raw.dtype, np.integer)):
        raise ValueError(f"raw labels must be integers, got dtype {raw.dtype}")
    r = raw.astype(np.int64, copy=False)
    bad = (r < 0) | (r >= _LUT_SIZE)
    out = np.full(r.shape, -1, dtype=np.int64)
    out[~bad] = _LUT[r[~bad]]
    bad |= out == -1
    if bad.any():
        ids = np.unique(r[bad])
        shown = ", ".join(str(int(i)) for i in ids[:20]) + (" ..." if len(ids) > 20 else "")
        raise ValueError(f"raw label ids not in the SemanticKITTI learning map: {shown}")
    return out


def class_colors() -> np.ndarray:
    """``[19, 3]`` RGB in [0, 1] for the train classes (SemanticKITTI's colours)."""
    return np.array([COLOR_MAP[LEARNING_MAP_INV[i + 1]][::-1] for i in range(19)], dtype=np.float32) / 255.0


def train_transform():
    """Appendix 6.1 augmentation (scale, rotation about z); ``Compose`` keeps the xyz
    feature columns in sync with the moved points."""
    from .transforms import kitti_train_transform

    return kitti_train_transform()


# --------------------------------------------------------------------------- sensor

SENSOR_HEIGHT = 1.73
#: HDL-64E-like beam layout: upper block of 32 lasers at ~1/3 deg spacing, lower block of
#: 32 at ~1/2 deg, spanning +2 deg .. -24.9 deg.
BEAM_ELEVATIONS_DEG = np.concatenate([np.linspace(2.0, -8.33, 32), np.linspace(-8.83, -24.9, 32)])

PROFILES: dict[str, dict] = {
    # ~30k points per sweep, 2 sweeps in each of the 11 sequences: minutes on 2 CPU cores.
    "teaching": {"sequences": list(range(11)), "sweeps": 2, "azimuths": 640, "sweep_dt": 1.5,
                 "max_range": 80.0, "min_range": 2.5},
    # KITTI-like density (~100k points per sweep), more sweeps per sequence.
    "full": {"sequences": list(range(11)), "sweeps": 8, "azimuths": 2048, "sweep_dt": 0.5,
             "max_range": 80.0, "min_range": 2.5},
}
_GEN_VERSION = 1

# --------------------------------------------------------------------------- meshes
# Local-frame primitives return (V [n, 3] float64, T [m, 3] int64).

_BOX_FACES = np.array([[0, 2, 6, 4], [1, 5, 7, 3], [0, 4, 5, 1], [2, 3, 7, 6], [0, 1, 3, 2], [4, 6, 7, 5]])
_BOX_T = np.concatenate([_BOX_FACES[:, [0, 1, 2]], _BOX_FACES[:, [0, 2, 3]]])


def _box(x0, x1, y0, y1, z0, z1):
    i = np.arange(8)
    V = np.stack([np.where(i & 1, x1, x0), np.where(i & 2, y1, y0), np.where(i & 4, z1, z0)], 1).astype(float)
    return V, _BOX_T.copy()


def _cyl(r, z0, z1, seg=10, cx=0.0, cy=0.0):
    """Vertical capped cylinder."""
    a = np.linspace(0, 2 * np.pi, seg, endpoint=False)
    ring = np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1)
    V = np.concatenate([np.c_[ring, np.full(seg, z0)], np.c_[ring, np.full(seg, z1)], [[cx, cy, z0], [cx, cy, z1]]])
    j = np.arange(seg)
    k = (j + 1) % seg
    T = np.concatenate([np.stack([j, k, seg + k], 1), np.stack([j, seg + k, seg + j], 1),
                        np.stack([np.full(seg, 2 * seg), k, j], 1), np.stack([np.full(seg, 2 * seg + 1), seg + j, seg + k], 1)])
    return V, T


def _wheel(r, width, cx, cz, cy=0.0, seg=10):
    """Cylinder with its axis along local y (wheels)."""
    V, T = _cyl(r, -width / 2, width / 2, seg)
    V = V[:, [0, 2, 1]] + np.array([cx, cy, cz])
    return V, T


def _cone(r, z0, z1, seg=10, cx=0.0, cy=0.0):
    a = np.linspace(0, 2 * np.pi, seg, endpoint=False)
    V = np.concatenate([np.c_[cx + r * np.cos(a), cy + r * np.sin(a), np.full(seg, z0)], [[cx, cy, z1], [cx, cy, z0]]])
    j = np.arange(seg)
    k = (j + 1) % seg
    T = np.concatenate([np.stack([j, k, np.full(seg, seg)], 1), np.stack([np.full(seg, seg + 1), k, j], 1)])
    return V, T


_ICO: tuple[np.ndarray, np.ndarray] | None = None


def _ico():
    global _ICO
    if _ICO is None:
        import open3d as o3d

        m = o3d.geometry.TriangleMesh.create_icosahedron(radius=1.0).subdivide_loop(2)
        V = np.asarray(m.vertices, dtype=float)
        _ICO = (V / np.linalg.norm(V, axis=1, keepdims=True), np.asarray(m.triangles, dtype=np.int64))
    return _ICO


def _blob(rng, c, radii, noise=0.15):
    """Lumpy ellipsoid (tree crowns, bushes): radial noise smoothed over neighbours."""
    U, T = _ico()
    n = rng.normal(0, noise, len(U))
    # low-frequency lumps: a few random directional bumps
    for _ in range(4):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        n += rng.uniform(0.05, 0.25) * np.clip(U @ d, 0, None) ** 3
    V = U * (1 + n)[:, None] * np.asarray(radii) + np.asarray(c)
    return V, T.copy()


def _heightfield(rng, x0, x1, y0, y1, z, amp, cell=1.5):
    nx, ny = max(1, int(math.ceil((x1 - x0) / cell))), max(1, int(math.ceil((y1 - y0) / cell)))
    xs, ys = np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    # smooth bumps: sum of a few random sinusoids plus fine noise
    Z = np.full(X.shape, float(z))
    for _ in range(3):
        k = rng.uniform(0.05, 0.4, 2)
        ph = rng.uniform(0, 2 * np.pi, 2)
        Z += amp * 0.5 * np.sin(k[0] * X + ph[0]) * np.sin(k[1] * Y + ph[1])
    Z += rng.uniform(0, amp * 0.5, X.shape)
    V = np.stack([X.ravel(), Y.ravel(), Z.ravel()], 1)
    idx = np.arange((nx + 1) * (ny + 1)).reshape(nx + 1, ny + 1)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    T = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    return V, T


def _prism_roof(x0, x1, y0, y1, z0, h):
    """Gable roof over [x0, x1] x [y0, y1], ridge along x."""
    ym = (y0 + y1) / 2
    V = np.array([[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0], [x0, ym, z0 + h], [x1, ym, z0 + h]], float)
    T = np.array([[0, 1, 5], [0, 5, 4], [3, 4, 5], [3, 5, 2], [0, 4, 3], [1, 2, 5]])
    return V, T


# --------------------------------------------------------------------------- materials
# (reflectivity, dropout probability, incidence exponent: |cos| ** e; retro-reflectors ~0.15)
_ASPHALT = (0.30, 0.01, 0.35)  # rough surfaces: weak angle dependence
_PAINT = (0.85, 0.0, 0.35)
_CONCRETE = (0.40, 0.0, 0.5)
_PAVING = (0.35, 0.0, 0.5)
_GRASS = (0.50, 0.02, 0.4)
_LEAVES = (0.45, 0.12, 0.4)
_BARK = (0.30, 0.02, 0.7)
_GLASS = (0.10, 0.55, 1.0)
_RUBBER = (0.05, 0.15, 1.0)
_METAL = (0.45, 0.02, 1.0)
_SIGN = (0.95, 0.0, 0.15)  # retro-reflective
_WOOD = (0.35, 0.02, 1.0)


class _World:
    """Meshes grouped per raw label, with per-triangle material and velocity."""

    def __init__(self) -> None:
        self.parts: list[tuple] = []  # (V, T, raw, refl, drop, expo, vel[2])

    def add(self, VT, raw, mat, vel=(0.0, 0.0), refl=None):
        V, T = VT
        r = mat[0] if refl is None else refl
        self.parts.append((np.asarray(V, float), np.asarray(T, np.int64), int(raw), float(r), mat[1], mat[2], np.asarray(vel, float)))

    def add_object(self, parts, x, y, yaw=0.0, z=0.0, vel=(0.0, 0.0)):
        c, s = math.cos(yaw), math.sin(yaw)
        R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
        for (V, T), raw, mat, refl in parts:
            self.add((V @ R.T + np.array([x, y, z]), T), raw, mat, vel, refl)

    def scene(self, t: float):
        """Raycasting scene at time ``t`` (moving parts displaced by ``vel * t``)."""
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


# --------------------------------------------------------------------------- objects
# Each returns a list of ((V, T), raw, material, reflectivity-or-None) in the object's
# frame: origin on the ground at its centre, x forward.

def _car(rng, raw):
    L, W = rng.uniform(3.8, 4.9), rng.uniform(1.68, 1.92)
    kind = rng.choice(["sedan", "hatch", "van"], p=[0.55, 0.3, 0.15])
    z0, zb = 0.28, rng.uniform(0.9, 1.05)
    zt = zb + (rng.uniform(0.75, 0.95) if kind == "van" else rng.uniform(0.4, 0.55))
    paint = float(rng.choice([0.08, 0.15, 0.3, 0.5, 0.7], p=[0.25, 0.2, 0.2, 0.2, 0.15]))
    cab0, cab1 = {"sedan": (-0.3, 0.2), "hatch": (-0.45, 0.15), "van": (-0.48, 0.3)}[kind]
    parts = [
        (_box(-L / 2, L / 2, -W / 2, W / 2, z0, zb), raw, _METAL, paint),
        (_box(cab0 * L, cab1 * L, -0.45 * W, 0.45 * W, zb, zt - 0.04), raw, _GLASS, None),
        (_box(cab0 * L + 0.08, cab1 * L - 0.08, -0.44 * W, 0.44 * W, zt - 0.05, zt), raw, _METAL, paint),
    ]
    for sx in (-0.32 * L, 0.32 * L):
        for sy in (-W / 2 + 0.12, W / 2 - 0.12):
            parts.append((_wheel(0.32, 0.22, sx, 0.32, sy), raw, _RUBBER, None))
    return parts


def _truck(rng, raw):
    Lc, W = rng.uniform(6.0, 9.0), 2.5
    cab = rng.uniform(1.9, 2.4)
    H = rng.uniform(3.2, 3.9)
    paint = float(rng.uniform(0.3, 0.8))
    parts = [
        (_box(Lc / 2 - 0.1, Lc / 2 + cab, -W / 2 + 0.05, W / 2 - 0.05, 0.5, 2.2), raw, _METAL, paint),
        (_box(Lc / 2 + 0.2, Lc / 2 + cab + 0.02, -W / 2 + 0.1, W / 2 - 0.1, 2.2, 2.95), raw, _GLASS, None),
        (_box(-Lc / 2, Lc / 2 - 0.2, -W / 2, W / 2, 0.9, H), raw, _METAL, paint),
        (_box(-Lc / 2, Lc / 2 + cab - 0.2, -0.6, 0.6, 0.45, 0.9), raw, _METAL, 0.2),
    ]
    for sx in (-Lc / 2 + 1.0, -Lc / 2 + 2.2, Lc / 2 + cab - 0.8):
        for sy in (-W / 2 + 0.2, W / 2 - 0.2):
            parts.append((_wheel(0.48, 0.35, sx, 0.48, sy), raw, _RUBBER, None))
    return parts, Lc + cab


def _bus(rng, raw):
    L, W, H = rng.uniform(11.0, 13.0), 2.55, rng.uniform(3.0, 3.3)
    paint = float(rng.uniform(0.4, 0.8))
    parts = [
        (_box(-L / 2, L / 2, -W / 2, W / 2, 0.35, 1.15), raw, _METAL, paint),
        (_box(-L / 2 + 0.1, L / 2 - 0.1, -W / 2 + 0.02, W / 2 - 0.02, 1.15, 2.4), raw, _GLASS, None),
        (_box(-L / 2, L / 2, -W / 2, W / 2, 2.4, H), raw, _METAL, paint),
    ]
    for sx in (-L / 2 + 2.5, L / 2 - 2.5):
        for sy in (-W / 2 + 0.2, W / 2 - 0.2):
            parts.append((_wheel(0.5, 0.3, sx, 0.5, sy), raw, _RUBBER, None))
    return parts, L


def _person_parts(rng, raw, z_hip=None, seated=False):
    h = rng.uniform(1.55, 1.92)
    cloth = float(rng.uniform(0.1, 0.6))
    s = h / 1.75
    parts = []
    if seated:
        zh = z_hip
        parts += [(_box(0.0, 0.45, -0.17, -0.05, zh - 0.55, zh), raw, _WOOD, cloth),
                  (_box(0.0, 0.45, 0.05, 0.17, zh - 0.55, zh), raw, _WOOD, cloth)]
        torso_x = 0.12
    else:
        zh = 0.9 * s
        for sy in (-0.1, 0.1):
            parts.append((_cyl(0.075 * s, 0.0, zh, 8, cy=sy), raw, _WOOD, cloth))
        torso_x = 0.0
    parts.append((_cyl(0.17 * s, zh, zh + 0.6 * s, 8, cx=torso_x), raw, _WOOD, cloth))
    for sy in (-0.23 * s, 0.23 * s):
        parts.append((_cyl(0.05 * s, zh + 0.05, zh + 0.55 * s, 6, cx=torso_x + (0.15 if seated else 0.0), cy=sy), raw, _WOOD, cloth))
    parts.append((_blob(rng, (torso_x, 0, zh + 0.6 * s + 0.13 * s), (0.11 * s, 0.1 * s, 0.13 * s), 0.02), raw, _WOOD, 0.25))
    return parts


def _person(rng, raw):
    return _person_parts(rng, raw)


def _bicycle_parts(raw, paint=0.4, r=0.34):
    parts = [(_wheel(r, 0.04, -0.52, r, seg=12), raw, _RUBBER, 0.12), (_wheel(r, 0.04, 0.52, r, seg=12), raw, _RUBBER, 0.12)]
    parts += [
        (_box(-0.52, 0.45, -0.02, 0.02, r + 0.05, r + 0.1), raw, _METAL, paint),
        (_box(-0.15, -0.08, -0.02, 0.02, r, 0.95), raw, _METAL, paint),
        (_box(0.42, 0.5, -0.02, 0.02, r, 1.05), raw, _METAL, paint),
        (_box(0.4, 0.52, -0.28, 0.28, 1.0, 1.05), raw, _METAL, paint),
        (_box(-0.25, 0.0, -0.07, 0.07, 0.93, 0.98), raw, _METAL, 0.1),
    ]
    return parts


def _motorcycle_parts(raw, paint=0.4):
    parts = [(_wheel(0.31, 0.12, -0.7, 0.31, seg=12), raw, _RUBBER, None), (_wheel(0.31, 0.12, 0.7, 0.31, seg=12), raw, _RUBBER, None)]
    parts += [(_box(-0.6, 0.55, -0.2, 0.2, 0.35, 0.85), raw, _METAL, paint),
              (_box(-0.75, 0.0, -0.16, 0.16, 0.85, 0.95), raw, _METAL, 0.1),
              (_box(0.55, 0.65, -0.35, 0.35, 0.9, 1.05), raw, _METAL, paint)]
    return parts


def _cyclist(rng, raw, motor=False):
    paint = float(rng.uniform(0.2, 0.7))
    parts = _motorcycle_parts(raw, paint) if motor else _bicycle_parts(raw, paint)
    return parts + _person_parts(rng, raw, z_hip=0.95, seated=True)


def _tree(rng, conifer=False, clear=0.0):
    """Trunk + crown; ``clear``: the crown stays above this height (trees over the road)."""
    h = rng.uniform(2.0, 4.0)
    r = rng.uniform(0.12, 0.3)
    parts = []
    top = h + 0.8
    if conifer:
        parts.append((_cone(rng.uniform(1.2, 2.2), max(h * 0.6, clear), h + rng.uniform(4, 8), 12), 70, _LEAVES, None))
    else:
        R = rng.uniform(1.6, 3.6)
        for _ in range(int(rng.integers(1, 4))):
            rz = R * rng.uniform(0.7, 1.0)
            cz = max(h + R * rng.uniform(0.6, 0.9), clear + 1.3 * rz)  # 1.3: radial noise margin
            c = (rng.normal(0, R * 0.25), rng.normal(0, R * 0.25), cz)
            parts.append((_blob(rng, c, (R, R * rng.uniform(0.8, 1.2), rz)), 70, _LEAVES, None))
            top = max(top, cz)
    return [(_cyl(r, -0.1, top, 8), 71, _BARK, float(rng.uniform(0.2, 0.4)))] + parts


def _bush(rng):
    R = rng.uniform(0.4, 1.4)
    return [(_blob(rng, (0, 0, R * 0.3), (R * rng.uniform(1, 1.6), R, R * rng.uniform(0.6, 0.9)), 0.2), 70, _LEAVES, None)]


def _lamp(rng, s):
    """Street lamp: pole with an arm over the road (arm points to -s*y)."""
    h = rng.uniform(6.5, 9.0)
    arm = rng.uniform(1.0, 2.5)
    y0, y1 = sorted([0.0, -s * arm])
    return [(_cyl(0.09, 0, h, 8), 80, _METAL, None),
            (_box(-0.05, 0.05, y0, y1, h - 0.1, h), 80, _METAL, None),
            (_box(-0.25, 0.25, -s * arm - 0.15, -s * arm + 0.15, h - 0.3, h - 0.05), 80, _METAL, 0.6)]


def _sign(rng):
    h = rng.uniform(2.0, 2.8)
    parts = [(_cyl(0.04, 0, h + 0.1, 6), 80, _METAL, None)]
    shape = rng.choice(["rect", "disk", "tri"])
    w = rng.uniform(0.5, 0.9)
    if shape == "disk":
        V, T = _cyl(w / 2, -0.02, 0.02, 14)
        V = V[:, [2, 0, 1]] + np.array([0.06, 0, h + w / 2])
    elif shape == "tri":
        V = np.array([[0.05, -w / 2, h], [0.05, w / 2, h], [0.05, 0, h + 0.87 * w], [0.09, -w / 2, h], [0.09, w / 2, h], [0.09, 0, h + 0.87 * w]])
        T = np.array([[0, 1, 2], [3, 5, 4], [0, 3, 4], [0, 4, 1], [1, 4, 5], [1, 5, 2], [2, 5, 3], [2, 3, 0]])
    else:
        V, T = _box(0.05, 0.09, -w / 2, w / 2, h, h + w * rng.uniform(0.6, 1.2))
    parts.append(((V, T), 81, _SIGN, None))
    if rng.random() < 0.3:  # a second plate below
        V2, T2 = _box(0.05, 0.09, -0.3, 0.3, h - 0.45, h - 0.05)
        parts.append(((V2, T2), 81, _SIGN, None))
    return parts


def _fence(rng, length, kind=None):
    """Fence along local x from 0 to ``length``."""
    kind = kind or rng.choice(["panel", "rails", "slats"])
    h = rng.uniform(0.9, 2.0)
    mat = _WOOD if rng.random() < 0.5 else _METAL
    parts = []
    posts = np.arange(0, length + 1e-6, rng.uniform(2.0, 3.0))
    for px in posts:
        parts.append((_box(px - 0.05, px + 0.05, -0.05, 0.05, 0, h + 0.05), 51, mat, None))
    if kind == "panel":
        parts.append((_box(0, length, -0.02, 0.02, 0.05, h), 51, mat, None))
    elif kind == "rails":
        for zr in np.linspace(0.3, h - 0.05, 3):
            parts.append((_box(0, length, -0.03, 0.03, zr - 0.05, zr + 0.05), 51, mat, None))
    else:
        for sx in np.arange(0.05, length, 0.18):
            parts.append((_box(sx, sx + 0.09, -0.015, 0.015, 0.05, h), 51, mat, None))
    return parts


def _building(rng, w, d, h, style):
    """Building footprint [0, w] x [0, d], facade on y = 0 facing -y."""
    facade = float(rng.uniform(0.2, 0.55))
    parts = [(_box(0, w, 0, d, -0.2, h), 50, _CONCRETE, facade)]
    floor_h = rng.uniform(2.8, 3.4)
    nfl = max(1, int((h - 0.5) / floor_h))
    col = rng.uniform(2.0, 3.2)
    ncol = max(1, int((w - 1.0) / col))
    win_w, win_h = col * rng.uniform(0.4, 0.7), floor_h * rng.uniform(0.4, 0.6)
    xs = np.linspace(0.5 + col / 2, w - 0.5 - col / 2, ncol) if ncol > 1 else np.array([w / 2])
    for f in range(nfl):
        zc = f * floor_h + floor_h * 0.55
        if zc + win_h / 2 > h - 0.3:
            break
        for xc in xs:
            if f == 0 and rng.random() < 0.15:  # door
                parts.append((_box(xc - 0.6, xc + 0.6, -0.05, 0.0, 0.0, 2.2), 50, _WOOD, None))
                continue
            parts.append((_box(xc - win_w / 2, xc + win_w / 2, -0.05, 0.0, zc - win_h / 2, zc + win_h / 2), 50, _GLASS, None))
        if style == "urban" and f > 0 and rng.random() < 0.5:  # ledge / balcony band
            parts.append((_box(0, w, -rng.uniform(0.15, 0.9), 0, f * floor_h - 0.1, f * floor_h + 0.1), 50, _CONCRETE, facade))
    if style != "urban" and rng.random() < 0.7:
        parts.append((_prism_roof(-0.3, w + 0.3, -0.4, d + 0.4, h, rng.uniform(1.5, 3.0)), 50, _CONCRETE, 0.25))
    return parts


def _bin(rng):
    return [(_box(-0.3, 0.3, -0.3, 0.3, 0, rng.uniform(0.8, 1.1)), 99, _METAL, float(rng.uniform(0.1, 0.5)))]


def _shelter(rng):
    """Bus shelter / kiosk -> other-structure (ignored in training)."""
    w = rng.uniform(3, 5)
    return [(_box(-w / 2, w / 2, -0.7, -0.65, 0, 2.4), 52, _GLASS, 0.3),
            (_box(-w / 2, w / 2, -0.8, 0.8, 2.4, 2.5), 52, _METAL, None),
            (_box(-w / 2, -w / 2 + 0.08, -0.7, 0.7, 0, 2.4), 52, _METAL, None),
            (_box(w / 2 - 0.08, w / 2, -0.7, 0.7, 0, 2.4), 52, _METAL, None)]


# --------------------------------------------------------------------------- street

def _build_street(rng, xa: float, xb: float, ego_x: tuple[float, float], ego_v: float) -> tuple[_World, float]:
    """Procedural street along +x in world coordinates (road surface at z = 0).

    Returns the world and the ego lane's y.
    """
    w = _World()
    style = str(rng.choice(["urban", "residential", "rural"], p=[0.4, 0.4, 0.2]))
    n_lanes = int(rng.choice([2, 2, 4])) if style != "rural" else 2
    lane_w = rng.uniform(3.1, 3.6)
    R = n_lanes * lane_w / 2
    park = {s: (2.3 if rng.random() < {"urban": 0.8, "residential": 0.6, "rural": 0.1}[style] else 0.0) for s in (-1, 1)}
    S = rng.uniform(1.8, 4.0) if style != "rural" else rng.uniform(1.2, 2.0)
    hc = rng.uniform(0.1, 0.18)
    ymax = 90.0
    cross = rng.random() < (0.7 if style == "urban" else 0.45)
    xc = rng.uniform(ego_x[0] + 15, ego_x[1] + 45) * (1 if rng.random() < 0.7 else -1) if cross else 1e9
    Rc = rng.uniform(3.2, 6.0)
    xlo, xhi = xc - Rc, xc + Rc  # cross road
    lanes = [-R + lane_w * (k + 0.5) for k in range(n_lanes)]  # y<0: +x traffic, y>0: -x
    ego_lane = lanes[int(rng.integers(0, n_lanes // 2))]

    def segs(a, b, gap_lo, gap_hi):
        out = []
        if gap_lo > a:
            out.append((a, min(b, gap_lo)))
        if gap_hi < b:
            out.append((max(a, gap_hi), b))
        return [(u, v) for u, v in out if v - u > 0.5]

    # --- road, lane markings, crosswalks
    w.add(_box(xa, xb, -R, R, -0.4, 0.0), 40, _ASPHALT)
    paint = _PAINT
    for (u, v) in segs(xa, xb, xlo - 1, xhi + 1):
        for sgn in (-1, 1):  # edge lines
            w.add(_box(u, v, sgn * R - 0.08 - sgn * 0.25, sgn * R + 0.08 - sgn * 0.25, 0, 0.005), 60, paint)
        dash, gap = rng.uniform(2.5, 4.0), rng.uniform(4.0, 8.0)
        for k, yl in enumerate(np.arange(1, n_lanes) * lane_w - R):
            centre = abs(yl) < 1e-6
            if centre and rng.random() < 0.5:
                w.add(_box(u, v, -0.2, -0.06, 0, 0.005), 60, paint)
                w.add(_box(u, v, 0.06, 0.2, 0, 0.005), 60, paint)
            else:
                for x0 in np.arange(u + rng.uniform(0, gap), v - dash, dash + gap):
                    w.add(_box(x0, x0 + dash, yl - 0.07, yl + 0.07, 0, 0.005), 60, paint)
    if cross:
        for xz in (xlo - 4.5, xhi + 1.5):  # zebra crossings
            for yz in np.arange(-R + 0.3, R - 0.5, 1.0):
                w.add(_box(xz, xz + 3.0, yz, yz + 0.5, 0, 0.005), 60, paint)
        w.add(_box(xlo - 5.5, xlo - 5.1, -R, 0, 0, 0.005), 60, paint)  # stop line

    # --- per side: parking band, curb + sidewalk, lots
    for s in (-1, 1):
        P = park[s]
        yc, ys = R + P, R + P + S

        def band(y0, y1):  # world y-range on side s from |y| in [y0, y1]
            return (s * y0, s * y1) if s > 0 else (s * y1, s * y0)

        if P > 0:
            for (u, v) in segs(xa, xb, xlo - 8, xhi + 8):
                w.add(_box(u, v, *band(R, yc), -0.4, 0.0), 44, _ASPHALT, refl=0.33)
            if cross:
                w.add(_box(xlo - 8, xhi + 8, *band(R, yc), -0.4, 0.0), 40, _ASPHALT)
        if cross:  # cross road from the curb line outwards
            w.add(_box(xlo, xhi, *band(yc, ymax), -0.4, 0.0), 40, _ASPHALT)
            for yl in np.arange(yc + 2, ymax, 7.0):
                w.add(_box((xlo + xhi) / 2 - 0.07, (xlo + xhi) / 2 + 0.07, *band(yl, yl + 3.0), 0, 0.005), 60, paint)
            for (u, v) in ((xlo - S, xlo), (xhi, xhi + S)):  # cross-street sidewalks
                w.add(_box(u, v, *band(yc, ymax), -0.4, hc), 48, _CONCRETE)
        for (u, v) in segs(xa, xb, xlo, xhi):
            w.add(_box(u, v, *band(yc, ys), -0.4, hc), 48, _CONCRETE, refl=float(rng.uniform(0.3, 0.45)))
        # parked cars, moving traffic on this side handled below
        if P > 0:
            for (u, v) in segs(xa, xb, xlo - 8, xhi + 8):
                x = u + rng.uniform(0.5, 4)
                while x < v - 5:
                    r = rng.random()
                    if r < 0.65:
                        parts = _car(rng, 10)
                        L = 4.8
                    elif r < 0.72:
                        parts, L = _truck(rng, 18)
                    elif r < 0.735:
                        parts, L = _bus(rng, 20)  # other-vehicle
                    elif r < 0.8:
                        parts, L = _motorcycle_parts(15, float(rng.uniform(0.2, 0.7))), 2.0
                    else:
                        parts, L = None, rng.uniform(3, 8)
                    if parts is not None:
                        w.add_object(parts, x + L / 2, s * (R + P / 2 + rng.normal(0, 0.1)), rng.normal(0, 0.03) + (0 if rng.random() < 0.5 else np.pi))
                    x += L + rng.uniform(0.6, 2.0)
        # sidewalk furniture
        for (u, v) in segs(xa, xb, xlo - S, xhi + S):
            ycurb = yc + 0.5
            x = u + rng.uniform(0, 10)
            while x < v:
                w.add_object(_lamp(rng, s), x, s * ycurb, 0.0, hc)
                x += rng.uniform(18, 35)
            x = u + rng.uniform(0, 15)
            while x < v:
                yaw = 0.0 if s < 0 else np.pi  # plates face the traffic on this side
                w.add_object(_sign(rng), x, s * (ycurb + rng.uniform(-0.1, 0.3)), yaw, hc)
                x += rng.uniform(12, 40)
            if style != "rural" and rng.random() < 0.8:  # avenue trees in pits
                x = u + rng.uniform(0, 8)
                while x < v:
                    if rng.random() < 0.85:
                        w.add_object(_tree(rng, clear=3.5), x, s * (yc + S * 0.6), 0.0, hc)
                    x += rng.uniform(6, 12)
            n_ped = rng.poisson((v - u) / ({"urban": 12, "residential": 30, "rural": 80}[style]))
            for _ in range(n_ped):
                moving = rng.random() < 0.6
                vx = (rng.uniform(0.8, 1.6) * (1 if rng.random() < 0.5 else -1)) if moving else 0.0
                yaw = 0.0 if vx >= 0 else np.pi
                w.add_object(_person(rng, 254 if moving else 30), rng.uniform(u, v), s * rng.uniform(yc + 0.6, ys - 0.4), yaw, hc, (vx, 0.0))
            for _ in range(rng.poisson((v - u) / 40)):
                if rng.random() < 0.8:
                    parts = _bicycle_parts(11, float(rng.uniform(0.2, 0.7)))
                else:
                    parts = _motorcycle_parts(15, float(rng.uniform(0.2, 0.7)))
                w.add_object(parts, rng.uniform(u, v), s * rng.uniform(yc + 0.5, ys - 0.4), rng.uniform(-0.3, 0.3) + (np.pi / 2 if rng.random() < 0.3 else 0), hc)
            for _ in range(rng.poisson((v - u) / 50)):
                w.add_object(_bin(rng), rng.uniform(u, v), s * rng.uniform(yc + 0.4, ys - 0.4), 0.0, hc)
            if style == "urban" and rng.random() < 0.3:
                w.add_object(_shelter(rng), rng.uniform(u, v), s * (ys - 1.0), 0.0 if s > 0 else np.pi, hc)

        def place_building(parts, x0, bw, fy):
            """Facade (local y = 0, facing -y) at |y| = fy facing the road."""
            if s > 0:
                w.add_object(parts, x0, fy, 0.0, hc)
            else:  # rotate by pi: local [0, bw] x [0, d] -> [x0, x0 + bw] x [-fy - d, -fy]
                w.add_object(parts, x0 + bw, -fy, np.pi, hc)

        # lots beyond the sidewalk
        lot_w = {"urban": [0.7, 0.04, 0.16, 0.07, 0.03], "residential": [0.4, 0.2, 0.32, 0.04, 0.04],
                 "rural": [0.05, 0.15, 0.75, 0.02, 0.03]}[style]
        for (u, v) in segs(xa, xb, xlo - S, xhi + S):
            x = u
            while x < v - 1:
                L = min(v - x, rng.uniform(10, 30) if style == "urban" else rng.uniform(12, 35))
                kind = rng.choice(["building", "fence", "green", "parking", "plaza"], p=lot_w)
                x0, x1 = x, x + L
                y_in = ys
                if kind in ("building", "fence", "green"):
                    setback = 0.0 if style == "urban" and kind == "building" else rng.uniform(2.0, 8.0)
                    yard_paved = kind == "building" and (style == "urban" or rng.random() < 0.3)
                    if yard_paved:
                        w.add(_box(x0, x1, *band(y_in, ymax), -0.4, hc + 0.01), 49, _PAVING, refl=float(rng.uniform(0.25, 0.45)))
                    else:
                        w.add(_heightfield(rng, x0, x1, *band(y_in, ymax), hc - 0.02, rng.uniform(0.05, 0.25)), 72, _GRASS,
                              refl=float(rng.uniform(0.4, 0.65)))
                    if kind == "building":
                        gap = rng.uniform(0, 0.5) if style == "urban" else rng.uniform(1.5, 4)
                        bw = L - gap
                        if bw > 3:
                            d = rng.uniform(10, 20)
                            h = rng.uniform(9, 22) if style == "urban" else rng.uniform(3.5, 7.5)
                            place_building(_building(rng, bw, d, h, style), x0 + gap / 2, bw, y_in + setback)
                        if style != "urban" and setback > 2.5 and rng.random() < 0.5:
                            fence = _fence(rng, L - 0.2)
                            w.add_object(fence, x0 + 0.1, s * (y_in + 0.3), 0.0, hc)
                        for _ in range(int(rng.integers(1, 5)) if setback > 3 else 0):
                            w.add_object(_bush(rng), rng.uniform(x0, x1), s * (y_in + rng.uniform(1, setback - 0.5)), 0, hc)
                        for _ in range(int(rng.integers(0, 3)) if setback > 4 else 0):
                            w.add_object(_tree(rng), rng.uniform(x0, x1), s * (y_in + rng.uniform(2, setback - 1.5)), 0, hc)
                    elif kind == "fence":
                        w.add_object(_fence(rng, L - 0.2), x0 + 0.1, s * (y_in + 0.3), 0.0, hc)
                        for _ in range(int(rng.integers(1, 5))):
                            w.add_object(_tree(rng, rng.random() < 0.2), rng.uniform(x0, x1), s * (y_in + rng.uniform(3, 20)), 0, hc)
                        if rng.random() < 0.5 and L > 8:
                            bw = min(L - 3, 14)
                            place_building(_building(rng, bw, 10, rng.uniform(3.5, 7), style), x0 + 1.5, bw, y_in + rng.uniform(8, 15))
                    else:  # green: hedges, bushes, trees
                        if rng.random() < 0.7:
                            hh = rng.uniform(0.8, 2.0)
                            V, T = _box(0, L - 0.4, -0.5, 0.5, 0, hh)
                            V = V + rng.normal(0, 0.06, V.shape)
                            w.add_object([((V, T), 70, _LEAVES, None)], x0 + 0.2, s * (y_in + 0.8), 0.0, hc)
                        for _ in range(int(rng.integers(1, 6))):
                            w.add_object(_bush(rng), rng.uniform(x0, x1), s * (y_in + rng.uniform(1, 15)), 0, hc)
                        for _ in range(int(rng.integers(1, 6))):
                            w.add_object(_tree(rng, rng.random() < 0.3), rng.uniform(x0, x1), s * (y_in + rng.uniform(2, 30)), 0, hc)
                elif kind == "parking":
                    w.add(_box(x0, x1, *band(y_in, y_in + 25), -0.4, hc), 44, _ASPHALT, refl=0.33)
                    w.add(_heightfield(rng, x0, x1, *band(y_in + 25, ymax), hc, 0.1), 72, _GRASS)
                    for row in (4.0, 14.0):
                        for px in np.arange(x0 + 1.5, x1 - 1.5, 2.7):
                            if rng.random() < 0.6:
                                w.add_object(_car(rng, 10), px, s * (y_in + row + rng.normal(0, 0.2)), np.pi / 2 + rng.normal(0, 0.05), hc)
                        for px in np.arange(x0 + 1.5, x1 - 1.5, 2.7):
                            w.add(_box(px - 0.06, px + 0.06, *band(y_in + row - 2.5, y_in + row + 2.5), hc, hc + 0.005), 44, paint)
                    w.add_object(_lamp(rng, s), (x0 + x1) / 2, s * (y_in + 9), 0.0, hc)
                else:  # plaza: paved other-ground with benches/bins and a kiosk
                    w.add(_box(x0, x1, *band(y_in, ymax), -0.4, hc + 0.01), 49, _PAVING)
                    for _ in range(int(rng.integers(1, 5))):
                        w.add_object(_bin(rng), rng.uniform(x0, x1), s * (y_in + rng.uniform(1, 12)), 0, hc)
                    if rng.random() < 0.6:
                        w.add_object(_shelter(rng), (x0 + x1) / 2, s * (y_in + 6), 0, hc)
                    for _ in range(rng.poisson(2)):
                        w.add_object(_person(rng, 30), rng.uniform(x0, x1), s * (y_in + rng.uniform(1, 12)), rng.uniform(0, 6.28), hc)
                x += L
        if cross:  # corners beyond the cross sidewalks are handled by the lots; trees along the cross street
            for (u, v) in ((xlo - S, xlo), (xhi, xhi + S)):
                for yt in np.arange(yc + rng.uniform(4, 10), ymax, rng.uniform(9, 15)):
                    if rng.random() < 0.5:
                        w.add_object(_tree(rng, clear=3.5), (u + v) / 2, s * yt, 0.0, hc)

    # --- traffic
    for yl in lanes:
        direction = 1 if yl < 0 else -1
        x = xa + rng.uniform(0, 15)
        while x < xb:
            gap = rng.uniform(8, 40)
            in_ego = abs(yl - ego_lane) < 0.1
            if in_ego and ego_x[0] - 14 < x < ego_x[1] + 12:
                x = ego_x[1] + 12 + rng.uniform(0, 10)  # keep the ego lane clear around the sensor
                continue
            if cross and xlo - 6 < x < xhi + 6:
                x = xhi + 6
                continue
            moving = rng.random() < 0.7
            v = (ego_v if in_ego else rng.uniform(6, 15)) * direction if moving else 0.0
            r = rng.random()
            if r < 0.8:
                parts, L = _car(rng, 252 if moving else 10), 4.8
            elif r < 0.9:
                parts, L = _truck(rng, 258 if moving else 18)
            elif r < 0.95:
                parts, L = _bus(rng, 257 if moving else 13)
            else:
                parts, L = _cyclist(rng, 255 if moving else 32, motor=True), 2.0
            yaw = 0.0 if direction > 0 else np.pi
            w.add_object(parts, x + L / 2, yl + rng.normal(0, 0.15), yaw + rng.normal(0, 0.01), 0.0, (v, 0.0))
            x += L + gap
        if rng.random() < 0.5:  # a cyclist near the right edge
            xcy = rng.uniform(xa, xb)
            if not (abs(yl - ego_lane) < 0.1 and ego_x[0] - 10 < xcy < ego_x[1] + 10):
                mv = rng.random() < 0.8
                w.add_object(_cyclist(rng, 253 if mv else 31), xcy, yl - direction * (lane_w / 2 - 0.7),
                             0.0 if direction > 0 else np.pi, 0.0, (direction * rng.uniform(3, 6) if mv else 0.0, 0.0))
    if cross:  # cars waiting on the cross street
        for s in (-1, 1):
            yq = R + park[s] + rng.uniform(3, 6)
            for k in range(int(rng.integers(0, 3))):
                w.add_object(_car(rng, 10), xc - s * Rc / 2, s * (yq + k * 6.0 + 2.4), -s * np.pi / 2, 0.0)
    return w, ego_lane


def synth_sweeps(seq: int, params: dict, seed: int = 0) -> list[dict]:
    """The sweeps of one SynthKITTI sequence (uncached; see :func:`make_synthetic`)."""
    rng = np.random.default_rng([seed, seq, 7])
    n_sw, n_az = int(params["sweeps"]), int(params["azimuths"])
    ego_v = rng.uniform(6.0, 13.0)
    step = ego_v * params["sweep_dt"]
    ego_x = (0.0, step * (n_sw - 1))
    xa, xb = ego_x[0] - params["max_range"] - 10, ego_x[1] + params["max_range"] + 10
    world, ego_y = _build_street(rng, xa, xb, ego_x, ego_v)

    el = np.deg2rad(BEAM_ELEVATIONS_DEG)
    out = []
    for i in range(n_sw):
        r = np.random.default_rng([seed, seq, 1000 + i])
        t = i * params["sweep_dt"]
        yaw = r.normal(0, 0.02)
        pos = np.array([ego_x[0] + i * step + r.normal(0, 0.2), ego_y + r.normal(0, 0.15), SENSOR_HEIGHT])
        az = r.uniform(0, 2 * np.pi / n_az) + np.arange(n_az) * (2 * np.pi / n_az)
        E, A = np.meshgrid(el, az, indexing="ij")  # [64, n_az], ring-major like a range image
        d_local = np.stack([np.cos(E) * np.cos(A), np.cos(E) * np.sin(A), np.sin(E)], -1).reshape(-1, 3)
        c, s = math.cos(yaw), math.sin(yaw)
        Rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
        d_world = d_local @ Rz.T
        rays = np.concatenate([np.broadcast_to(pos, d_world.shape), d_world], 1).astype(np.float32)
        scene, geom_raw, tri_attr = world.scene(t)
        import open3d as o3d

        hit = scene.cast_rays(o3d.core.Tensor(rays), nthreads=0)
        th = hit["t_hit"].numpy()
        gid = hit["geometry_ids"].numpy().astype(np.int64)
        pid = hit["primitive_ids"].numpy().astype(np.int64)
        nrm = hit["primitive_normals"].numpy()
        ok = np.isfinite(th) & (th <= params["max_range"]) & (th >= params["min_range"])
        idx = np.nonzero(ok)[0]
        g, p_ = gid[idx], pid[idx]
        raw = np.empty(len(idx), np.int64)
        attr = np.empty((len(idx), 3), np.float32)
        for k, rw in geom_raw.items():
            m = g == k
            raw[m] = rw
            attr[m] = tri_attr[k][p_[m]]
        cosang = np.abs(np.einsum("ij,ij->i", nrm[idx], d_world[idx]))
        inten = attr[:, 0] * np.clip(cosang, 0, 1) ** attr[:, 2]
        inten = inten * (1 + 0.08 * r.standard_normal(len(idx))) + 0.015 * r.standard_normal(len(idx))
        inten = np.clip(inten, 0, 1)
        # dropouts: per-material (glass, foliage) and for very weak returns at long range
        weak = np.clip(0.02 + 0.1 - inten, 0, None) * (th[idx] / params["max_range"])
        keep = r.random(len(idx)) >= attr[:, 1] + weak
        rng_m = th[idx] + r.normal(0, 0.02, len(idx))
        # a few spurious returns (multi-path / dust): short ranges along the same ray, raw "outlier"
        out_m = r.random(len(idx)) < 0.0005
        rng_m[out_m] = r.uniform(params["min_range"], np.maximum(params["min_range"] + 0.1, th[idx][out_m]))
        raw[out_m] = 1
        inten[out_m] = r.uniform(0, 0.1, out_m.sum())
        keep |= out_m
        idx, rng_m, raw, inten = idx[keep], rng_m[keep], raw[keep], inten[keep]
        pts = (d_local[idx] * rng_m[:, None]).astype(np.float32)
        feats = np.concatenate([pts, inten[:, None].astype(np.float32)], 1)
        out.append({"points": pts, "feats": feats, "label": map_labels(raw), "raw": raw.astype(np.int64),
                    "name": f"seq_{seq:02d}/{i:06d}"})
    return out


def _profile_params(profile: str, seed: int, params: dict | None) -> dict:
    if profile not in PROFILES and params is None:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)} or pass params")
    p = dict(PROFILES.get(profile, PROFILES["teaching"]))
    p.update(params or {})
    bad = [s for s in p["sequences"] if not 0 <= int(s) <= 21]
    if bad:
        raise ValueError(f"sequence ids must lie in 0..21, got {bad}")
    p["sequences"] = sorted(int(s) for s in p["sequences"])
    p.update(seed=int(seed), version=_GEN_VERSION)
    return p


def make_synthetic(profile: str = "teaching", root: str | Path | None = None, seed: int = 0,
                   progress: bool = True, params: dict | None = None) -> Path:
    """Generate (once) SynthKITTI and return its folder of ``seq_NN.npz`` cloud sets.

    ``params`` overrides the profile's entries (``sequences``, ``sweeps``, ``azimuths``,
    ``sweep_dt``, ``max_range``, ``min_range``); the cache key covers all of them.
    """
    p = _profile_params(profile, seed, params)

    def build(folder: Path) -> None:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(p["sequences"]) * p["sweeps"], desc=f"SynthKITTI {profile}", unit="sweep", disable=not progress)
        for seq in p["sequences"]:
            sweeps = synth_sweeps(seq, p, seed)
            bar.update(len(sweeps))
            save_cloudset(folder / f"seq_{seq:02d}.npz", [{k: v for k, v in s.items() if k != "raw"} for s in sweeps])
        bar.close()

    return cached_build(f"synth_kitti-{profile}", p, build, root)


def load_synthetic(split: str, profile: str = "teaching", root: str | Path | None = None,
                   transform: Callable | None = None, seed: int = 0, params: dict | None = None,
                   progress: bool = True) -> CloudDataset:
    """SynthKITTI ``"train"`` (sequences 00-10 except 08) or ``"val"`` (08), generated on demand."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    folder = make_synthetic(profile, root, seed, progress, params)
    p = _profile_params(profile, seed, params)
    want = [s for s in p["sequences"] if (s == VAL_SEQUENCE if split == "val" else s in TRAIN_SEQUENCES)]
    if not want:
        raise ValueError(f"profile {profile!r} has no {split} sequences (it has {p['sequences']})")
    samples = []
    for s in want:
        samples += load_cloudset(folder / f"seq_{s:02d}.npz")
    return CloudDataset(samples, CLASSES, transform)


# --------------------------------------------------------------------------- real data

def read_scan(bin_path: str | Path) -> np.ndarray:
    """``[N, 4]`` float32 (x, y, z, intensity) from a KITTI ``.bin``."""
    bin_path = Path(bin_path)
    size = bin_path.stat().st_size
    if size % 16:
        raise ValueError(f"{bin_path}: {size} bytes is not a multiple of 16 (4 float32 per point); the file is truncated or not a KITTI scan")
    scan = np.fromfile(bin_path, dtype=np.float32).reshape(-1, 4)
    if not np.isfinite(scan[:, :3]).all():
        n = int((~np.isfinite(scan[:, :3])).any(1).sum())
        raise ValueError(f"{bin_path}: {n} points have NaN/inf coordinates")
    return scan


def read_labels(label_path: str | Path, num_points: int | None = None, bin_path: str | Path | None = None) -> np.ndarray:
    """Raw semantic ids (lower 16 bits of the uint32 ``.label``), int64."""
    label_path = Path(label_path)
    size = label_path.stat().st_size
    if size % 4:
        raise ValueError(f"{label_path}: {size} bytes is not a multiple of 4 (uint32 per point); the file is truncated")
    if num_points is not None and size // 4 != num_points:
        scan = f" {bin_path}" if bin_path is not None else " the scan"
        raise ValueError(f"{label_path} has {size // 4} labels but{scan} has {num_points} points")
    lab = np.fromfile(label_path, dtype=np.uint32)
    return (lab & 0xFFFF).astype(np.int64)


def _seq_dir(root: Path, seq) -> Path:
    return root / "sequences" / (f"{int(seq):02d}" if str(seq).isdigit() else str(seq))


def _resolve_root(root: str | Path) -> Path:
    root = Path(root)
    if (root / "sequences").is_dir():
        return root
    if root.name == "sequences":
        return root.parent
    if (root / "dataset" / "sequences").is_dir():
        return root / "dataset"
    return root


class RealKittiDataset(CloudDataset):
    """SemanticKITTI scans read lazily from disk; samples like SynthKITTI's."""

    def __init__(self, scans: Sequence[tuple[Path, Path, str]], transform: Callable | None = None) -> None:
        super().__init__([], CLASSES, transform)
        self.scans = list(scans)

    def __len__(self) -> int:
        return len(self.scans)

    def __getitem__(self, i: int) -> dict:
        bin_path, label_path, name = self.scans[i]
        scan = read_scan(bin_path)
        raw = read_labels(label_path, len(scan), bin_path)
        try:
            label = map_labels(raw)
        except ValueError as e:
            raise ValueError(f"{label_path}: {e}") from None
        s = {"points": torch.from_numpy(np.ascontiguousarray(scan[:, :3])), "feats": torch.from_numpy(scan),
             "label": torch.from_numpy(label), "name": name}
        return self.transform(s) if self.transform else s

    def labels(self) -> list[int]:
        raise TypeError("SemanticKITTI is a segmentation set: labels are per point")

    def subset(self, indices: Sequence[int]) -> "RealKittiDataset":
        return RealKittiDataset([self.scans[i] for i in indices], self.transform)


def load_real(root: str | Path, sequences: Iterable[int | str] = TRAIN_SEQUENCES, transform: Callable | None = None,
              max_scans: int | None = None) -> RealKittiDataset:
    """SemanticKITTI scans of ``sequences`` under ``root`` (the folder holding ``sequences/``).

    File sizes are checked up front (truncated ``.bin``, ``.label`` length mismatch);
    contents (NaN coordinates, unknown raw ids) when a scan is read.
    ``max_scans`` keeps an evenly spaced subset per sequence.
    """
    root = _resolve_root(root)
    if isinstance(sequences, (int, str)):
        sequences = [sequences]
    scans = []
    for seq in sequences:
        d = _seq_dir(root, seq)
        vel, lab = d / "velodyne", d / "labels"
        if not vel.is_dir():
            raise FileNotFoundError(f"{vel} not found (expected <root>/sequences/NN/velodyne/*.bin)")
        if not lab.is_dir():
            raise FileNotFoundError(f"{lab} not found: SemanticKITTI labels exist for sequences 00-10 only")
        bins = sorted(vel.glob("*.bin"))
        if not bins:
            raise FileNotFoundError(f"no .bin scans in {vel}")
        if max_scans is not None and len(bins) > max_scans:
            bins = [bins[int(k)] for k in np.linspace(0, len(bins) - 1, max_scans).round()]
        for b in bins:
            lp = lab / (b.stem + ".label")
            if not lp.is_file():
                raise FileNotFoundError(f"{lp} missing for scan {b}")
            bs, ls = b.stat().st_size, lp.stat().st_size
            if bs % 16:
                raise ValueError(f"{b}: {bs} bytes is not a multiple of 16 (4 float32 per point); the file is truncated")
            if ls % 4:
                raise ValueError(f"{lp}: {ls} bytes is not a multiple of 4 (uint32 per point); the file is truncated")
            if ls // 4 != bs // 16:
                raise ValueError(f"{lp} has {ls // 4} labels but {b} has {bs // 16} points")
            scans.append((b, lp, f"seq_{d.name}/{b.stem}"))
    return RealKittiDataset(scans, transform)


def check_real(root: str | Path, sequences: Iterable[int | str] | None = None, deep: bool = False) -> list[str]:
    """Problems with a SemanticKITTI download (empty list = looks fine).

    Checks the ``sequences`` folder, every sequence of 00-10 (or ``sequences``), their
    ``velodyne``/``labels`` folders, scans without labels and labels without scans,
    truncated files and label/scan length mismatches (from file sizes). ``deep`` also
    reads every file for NaN coordinates and raw ids outside the learning map.
    """
    root = _resolve_root(root)
    problems: list[str] = []
    if not (root / "sequences").is_dir():
        return [f"{root / 'sequences'} does not exist (expected <root>/sequences/NN/velodyne, labels)"]
    for seq in (sequences if sequences is not None else sorted(TRAIN_SEQUENCES + (VAL_SEQUENCE,))):
        d = _seq_dir(root, seq)
        if not d.is_dir():
            problems.append(f"sequence {d.name}: folder {d} missing")
            continue
        vel, lab = d / "velodyne", d / "labels"
        if not vel.is_dir():
            problems.append(f"sequence {d.name}: {vel} missing")
            continue
        bins = {p.stem: p for p in vel.glob("*.bin")}
        if not bins:
            problems.append(f"sequence {d.name}: no .bin scans in {vel}")
        if not lab.is_dir():
            problems.append(f"sequence {d.name}: {lab} missing")
            continue
        labels = {p.stem: p for p in lab.glob("*.label")}
        if len(bins) != len(labels):
            problems.append(f"sequence {d.name}: {len(bins)} scans but {len(labels)} label files")
        for stem in sorted(set(bins) - set(labels))[:10]:
            problems.append(f"sequence {d.name}: scan {bins[stem]} has no label file")
        for stem in sorted(set(labels) - set(bins))[:10]:
            problems.append(f"sequence {d.name}: label file {labels[stem]} has no scan")
        for stem in sorted(set(bins) & set(labels)):
            b, lp = bins[stem], labels[stem]
            bs, ls = b.stat().st_size, lp.stat().st_size
            if bs % 16:
                problems.append(f"{b}: truncated ({bs} bytes, not a multiple of 16)")
                continue
            if ls % 4:
                problems.append(f"{lp}: truncated ({ls} bytes, not a multiple of 4)")
                continue
            if ls // 4 != bs // 16:
                problems.append(f"{lp} has {ls // 4} labels but {b} has {bs // 16} points")
                continue
            if deep:
                try:
                    read_scan(b)
                    map_labels(read_labels(lp, bs // 16, b))
                except ValueError as e:
                    problems.append(f"{lp}: {e}" if "learning map" in str(e) else str(e))
    return problems


# --------------------------------------------------------------------------- gallery

def gallery(sweeps: int = 2, profile: str = "teaching", root: str | Path | None = None, seed: int = 0,
            params: dict | None = None, split: str = "train"):
    """Bird's-eye (class, intensity) and perspective (class) views of a few sweeps."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    ds = load_synthetic(split, profile, root, seed=seed, params=params, progress=False)
    pick = [int(k) for k in np.linspace(0, len(ds) - 1, min(sweeps, len(ds))).round()]
    colors = class_colors()
    fig, axes = plt.subplots(len(pick), 4, figsize=(26, 5.4 * len(pick)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1.5, 1.5]})
    for row, i in enumerate(pick):
        s = ds[i]
        p = s["points"].numpy()
        y = s["label"].numpy()
        inten = s["feats"][:, 3].numpy()
        col = np.where((y >= 0)[:, None], colors[np.clip(y, 0, 18)], 0.5)
        near = (np.abs(p[:, 0]) < 45) & (np.abs(p[:, 1]) < 45)
        # perspective: pinhole camera above and behind the sensor, looking forward (+x), pitched down
        cam, pitch = np.array([-6.0, 0.0, 5.0]), np.deg2rad(22)
        q = p - cam
        fwd = q[:, 0] * np.cos(pitch) - q[:, 2] * np.sin(pitch)
        up = q[:, 0] * np.sin(pitch) + q[:, 2] * np.cos(pitch)
        vis = np.nonzero(fwd > 1.0)[0]
        vis = vis[np.argsort(-fwd[vis])]  # far first, near drawn on top
        u, v = -q[vis, 1] / fwd[vis], up[vis] / fwd[vis]
        views = [
            (p[near, 0], p[near, 1], col[near], None, f"{s['name']}: bird's-eye, class ({len(p)} points)", "#e8e8e8", 1.2),
            (p[near, 0], p[near, 1], inten[near], "turbo", "bird's-eye, intensity", "black", 1.2),
            (u, v, col[vis], None, "perspective (camera above/behind the sensor), class", "#e8e8e8", 1.5),
            (u, v, inten[vis], "turbo", "perspective, intensity", "black", 1.5),
        ]
        for ax, (xx, yy, c, cmap, title, bg, size) in zip(axes[row], views):
            ax.scatter(xx, yy, c=c, s=size, linewidths=0, cmap=cmap, vmin=0 if cmap else None, vmax=1 if cmap else None)
            ax.set_aspect("equal")
            ax.set_facecolor(bg)
            ax.set_title(title)
            if xx is u:
                ax.set_xlim(-1.5, 1.5)
                ax.set_ylim(-1.0, 0.35)
                ax.set_xticks([])
                ax.set_yticks([])
    handles = [Patch(color=colors[k], label=c) for k, c in enumerate(CLASSES)] + [Patch(color=(0.6,) * 3, label="ignore")]
    fig.legend(handles=handles, loc="lower center", ncol=10, fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig
