"""Scanner simulation and shading: from a :class:`~.scene.Scene` to xyz, rgb and labels.

Candidate points are drawn uniformly over all surfaces, carved, then kept with a
probability that falls with the distance to the nearest scanner and at grazing angles
(no line-of-sight test). Colours are the materials' base colours with texture, lit by
the ceiling lights (Lambert shading, distance falloff), plus noise.
"""
from __future__ import annotations

import colorsys

import numpy as np

from ..labels import CEILING, CLASSES, FLOOR, WALL
from .materials import CARPET, EMISSIVE, GRID, MARKS, PATCHES, SKIRTING, STRIPES, WOOD
from .scene import Scene, carve_mask, sample_surfaces, surface_areas


def render(scene: Scene, rng: np.random.Generator, n_target: int, scanners: np.ndarray,
           oversample: float = 3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scan-like sampling of a scene: xyz [N, 3], rgb [N, 3] in [0, 1], labels [N]."""
    kind = np.array(scene.kind)
    geo = np.stack(scene.geo)
    label = np.array([m["label"] for m in scene.mats])
    obj = np.array(scene.obj)
    box = np.array(scene.box_id)
    # objects are scanned from several sides in a real survey: denser than the room shell
    density = np.array([m["density"] * (1.0 if m["label"] in (CEILING, FLOOR, WALL) else 1.6) for m in scene.mats])
    area = surface_areas(kind, geo)
    w = area * density
    counts = rng.multinomial(int(oversample * n_target), w / w.sum())
    pts, nrm, uv, sid = sample_surfaces(kind, geo, counts, rng)
    keep = carve_mask(pts, obj[sid], box[sid], scene.carvers)
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

    rgb = shade(scene, rng, pts, nrm, uv, sid, obj)
    pts = pts + nrm * rng.normal(0, 0.004, (len(pts), 1)) + rng.normal(0, 0.0015, pts.shape)
    return pts, rgb, label[sid]


def hash01(*xs) -> np.ndarray:
    """A deterministic pseudo-random value in [0, 1) per element (for texture cells)."""
    v = np.zeros_like(np.asarray(xs[0], dtype=np.float64))
    for i, x in enumerate(xs):
        v = v + np.asarray(x, dtype=np.float64) * (12.9898 + 41.23 * i)
    return np.modf(np.abs(np.sin(v) * 43758.5453))[0]


def shade(scene: Scene, rng: np.random.Generator, pts: np.ndarray, nrm: np.ndarray, uv: np.ndarray,
          sid: np.ndarray, obj: np.ndarray) -> np.ndarray:
    """rgb in [0, 1] of points on surfaces ``sid``: textured base colour x lighting + noise."""
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
        hsv = np.stack([hash01(cu, cv, o[m]), 0.3 + 0.6 * hash01(cv, cu, o[m] + 3),
                        0.4 + 0.6 * hash01(cu + 7, cv, o[m])], 1)
        col = np.array([colorsys.hsv_to_rgb(*x) for x in hsv]) if len(hsv) else np.zeros((0, 3))
        base[m] = 0.25 * base[m] + 0.75 * col
    m = pattern == MARKS
    if m.any():
        wiggle = np.abs(np.sin(u[m] * 9 + 2.5 * np.sin(v[m] * 13 + o[m]))) < 0.06
        stroke = wiggle & (hash01(np.floor(u[m] * 2), np.floor(v[m] * 3), o[m]) < 0.5)
        base[m] = np.where(stroke[:, None], np.array([0.15, 0.2, 0.55]), base[m])
    m = pattern == SKIRTING
    if m.any():
        base[m] *= np.where(pts[m, 2] < p1[m], 0.55, 1.0)[:, None]

    # lighting: ambient + Lambert from the ceiling lights with distance falloff
    light = np.full(len(pts), 0.45)
    for lp in scene.lights:
        d = lp - pts
        dist = np.maximum(np.linalg.norm(d, axis=1), 0.1)
        light += 0.9 * np.abs(np.einsum("ij,ij->i", d, nrm)) / dist / (1 + (dist / 2.5) ** 2)
    light /= np.median(light)
    exposure = rng.uniform(0.82, 1.0)
    tint = 1 + rng.normal(0, 0.03, 3)
    rgb = base * (f * light)[:, None] * exposure * tint
    emit = pattern == EMISSIVE
    rgb[emit] = base[emit]
    rgb += rng.normal(0, 1, rgb.shape) * noise[:, None]
    return np.clip(rgb, 0.0, 1.0)
