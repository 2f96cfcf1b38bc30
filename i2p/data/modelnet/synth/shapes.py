"""SynthModelNet shapes: the recipe table, each shape's own random stream, the y-up mesh
and its cloud (captured under the sensor options of :mod:`.sensor`), and the writer of a
generated set."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from ...mesh import Mesh, merge, rot_z
from ...store import save_cloudset
from ..frame import z_up_to_y_up
from ..labels import CLASSES, SPLITS
from . import containers, devices, fixtures, furniture, outdoor, storage
from .parts import Rand, Recipe
from .sensor import Capture, capture

__all__ = ["RECIPES", "synth_mesh", "synth_capture", "synth_shape", "write_sets"]

_BY_THEME: dict[str, Recipe] = {c: r for m in (containers, devices, fixtures, furniture, outdoor, storage)
                                 for c, r in m.RECIPES.items()}
if sorted(_BY_THEME) != sorted(CLASSES):
    raise RuntimeError(f"SynthModelNet recipes do not match the classes: {sorted(set(_BY_THEME) ^ set(CLASSES))}")
#: class name -> recipe, in the official class order
RECIPES: dict[str, Recipe] = {c: _BY_THEME[c] for c in CLASSES}


def _stream(cls: str, seed: int, split: str, index: int, *extra: int) -> np.random.Generator:
    """The random stream of one shape, from ``(seed, class, split, index)`` only, so a shape
    does not depend on which other classes or how many shapes are generated."""
    if cls not in RECIPES:
        raise ValueError(f"unknown class {cls!r}; choose from {', '.join(CLASSES)}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return np.random.default_rng(np.random.SeedSequence(
        [int(seed), CLASSES.index(cls), SPLITS.index(split), int(index), *extra]))


def synth_mesh(cls: str, seed: int = 0, split: str = "train", index: int = 0, max_rot_deg: float = 15.0,
               max_stretch: float = 0.2) -> Mesh:
    """The mesh (vertices, triangles) of one SynthModelNet shape before normalisation, in
    ModelNet40's y-up frame, lowest point on y = 0.

    The class recipe builds it z-up; each axis is then stretched by
    ``exp(U(-max_stretch, max_stretch))`` (0.2: x0.82..1.22, widening every class's
    proportions so that global shape statistics alone do not separate the classes), the
    shape is rotated about the vertical by ``U(-max_rot_deg, max_rot_deg)`` degrees, set on
    the floor and turned y-up by ``(x, y, z) -> (x, z, -y)``."""
    g = _stream(cls, seed, split, index)
    v, f = merge(RECIPES[cls](Rand(g)))
    v = v * np.exp(g.uniform(-max_stretch, max_stretch, 3))
    a = math.radians(float(g.uniform(-max_rot_deg, max_rot_deg)))
    v = v @ rot_z(a).T
    v[:, 2] -= v[:, 2].min()
    return z_up_to_y_up(v), f


def synth_capture(cls: str, seed: int = 0, split: str = "train", index: int = 0, num_points: int = 2048, *,
                  view: str = "full", noise: float = 0.0, occlusion: float = 0.0) -> Capture:
    """:func:`synth_shape`'s cloud with where it came from (camera, hole, normalisation),
    in :func:`synth_mesh`'s coordinates."""
    v, f = synth_mesh(cls, seed, split, index)
    return capture(v, f, num_points, lambda k: _stream(cls, seed, split, index, k), view=view, noise=noise,
                   occlusion=occlusion, what=f"synthetic {cls} #{index}")


def synth_shape(cls: str, seed: int = 0, split: str = "train", index: int = 0, num_points: int = 2048, *,
                view: str = "full", noise: float = 0.0, occlusion: float = 0.0) -> np.ndarray:
    """``[num_points, 3]`` float32 y-up points of one shape, in the unit sphere (centred on
    the mean, divided by the largest norm, like ``modelnet40_ply_hdf5_2048``).

    By default sampled uniformly by area over the whole surface; ``view="partial"`` keeps
    what one depth-sensor view sees, ``noise`` adds Gaussian jitter (std, unit-sphere
    units) and ``occlusion`` is the chance a ball of the cloud is cut out
    (:mod:`.sensor`)."""
    return synth_capture(cls, seed, split, index, num_points, view=view, noise=noise, occlusion=occlusion).points


def write_sets(folder: Path, classes: Sequence[str], counts: dict[str, int], points: int, seed: int,
               progress: bool, *, view: str = "full", noise: float = 0.0, occlusion: float = 0.0) -> None:
    """Write ``<split>.npz`` for each split in ``counts`` (shapes per class): samples
    ``{"points", "label" (index into classes), "name": "<class>_<i>"}``, captured with the
    sensor options ``view``, ``noise``, ``occlusion`` (:func:`synth_shape`)."""
    from tqdm.auto import tqdm

    total = len(classes) * sum(counts.values())
    with tqdm(total=total, desc="SynthModelNet", unit="shape", disable=not progress) as bar:
        for split, n in counts.items():
            samples = []
            for label, cls in enumerate(classes):
                for i in range(n):
                    pts = synth_shape(cls, seed, split, i, points, view=view, noise=noise, occlusion=occlusion)
                    samples.append({"points": pts, "label": label, "name": f"{cls}_{i}"})
                    bar.update(1)
            save_cloudset(folder / f"{split}.npz", samples)
