"""FractalDB-style formula-driven images (Kataoka et al., ACCV 2020; paper §4.5).

A *category* is a random iterated function system (IFS): 2–8 affine maps
``x -> A x + b`` with entries drawn from U(-1, 1), kept only when its attractor fills
at least ``fill_threshold`` of a square canvas (the FractalDB filling-rate rule, 0.2 by
default). *Instances* of a category perturb one map's parameters by a factor in
{0.8, 0.9, 1.1, 1.2} (plus the unperturbed system) and are flipped at random. Points are
rendered with the chaos game, drawing each map with probability proportional to
``|det A|``; many chains run side by side so rendering is vectorised.

Everything is deterministic per seed and cached on disk (written atomically).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .data.store import cached_build

__all__ = ["IFS", "sample_categories", "render_ifs", "make_fractaldb", "load_fractaldb"]

PERTURB = (0.8, 0.9, 1.1, 1.2)


@dataclass
class IFS:
    """Affine maps ``A [n, 2, 2]``, ``b [n, 2]`` and their selection probabilities."""

    A: np.ndarray
    b: np.ndarray

    @property
    def probs(self) -> np.ndarray:
        d = np.abs(np.linalg.det(self.A)) + 1e-6
        return d / d.sum()

    def perturbed(self, which: int, factor: float) -> "IFS":
        A, b = self.A.copy(), self.b.copy()
        A[which] *= factor
        b[which] *= factor
        return IFS(A, b)


def _chaos_points(ifs: IFS, rng: np.random.Generator, chains: int = 512, steps: int = 40, burn: int = 10) -> np.ndarray:
    """``chains * (steps - burn)`` attractor points."""
    x = rng.uniform(-1, 1, size=(chains, 2))
    out = []
    choice = rng.choice(len(ifs.A), size=(steps, chains), p=ifs.probs)
    for t in range(steps):
        k = choice[t]
        x = np.einsum("cij,cj->ci", ifs.A[k], x) + ifs.b[k]
        if not np.isfinite(x).all() or np.abs(x).max() > 1e6:
            return np.zeros((0, 2))
        if t >= burn:
            out.append(x)
    return np.concatenate(out)


def render_ifs(ifs: IFS, size: int, rng: np.random.Generator, flip: bool = False) -> np.ndarray:
    """``[size, size]`` float32 image in [0, 1] of the attractor, framed to its bounding box."""
    pts = _chaos_points(ifs, rng)
    img = np.zeros((size, size), dtype=np.float32)
    if len(pts) == 0:
        return img
    lo, hi = np.percentile(pts, 1, axis=0), np.percentile(pts, 99, axis=0)  # frame without stragglers
    pts = pts[((pts >= lo) & (pts <= hi)).all(1)]
    span = max(float((hi - lo).max()), 1e-9)
    ij = np.clip((pts - lo) / span * (size - 1) * 0.9 + (size - 1) * 0.05, 0, size - 1).astype(int)
    np.add.at(img, (ij[:, 1], ij[:, 0]), 1.0)
    img = np.minimum(img / max(np.percentile(img[img > 0], 90), 1.0), 1.0)
    return img[:, ::-1].copy() if flip else img


def fill_rate(ifs: IFS, rng: np.random.Generator, size: int = 64) -> float:
    """Fraction of canvas pixels the attractor covers (FractalDB's category filter)."""
    return float((render_ifs(ifs, size, rng) > 0).mean())


def sample_categories(n: int, seed: int, fill_threshold: float = 0.2, progress: bool = True) -> list[IFS]:
    """``n`` IFS categories whose filling rate passes ``fill_threshold``."""
    rng = np.random.default_rng(seed)
    cats: list[IFS] = []
    bar = tqdm(total=n, desc="FractalDB categories", disable=not progress)
    while len(cats) < n:
        k = int(rng.integers(2, 9))
        ifs = IFS(rng.uniform(-1, 1, size=(k, 2, 2)), rng.uniform(-1, 1, size=(k, 2)))
        if fill_rate(ifs, rng) >= fill_threshold:
            cats.append(ifs)
            bar.update()
    bar.close()
    return cats


def _instances(cat: IFS, count: int, size: int, rng: np.random.Generator) -> np.ndarray:
    imgs = np.empty((count, size, size), dtype=np.float32)
    for i in range(count):
        which = int(rng.integers(len(cat.A)))
        factor = 1.0 if i == 0 else float(rng.choice(PERTURB))
        imgs[i] = render_ifs(cat.perturbed(which, factor), size, rng, flip=bool(rng.integers(2)))
    return imgs


def make_fractaldb(
    categories: int = 100,
    instances: int = 100,
    size: int = 32,
    seed: int = 0,
    fill_threshold: float = 0.2,
    root: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Generate (once) FractalDB-``categories`` with ``instances`` images each; returns the folder.

    The folder holds ``images.npy`` (uint8 ``[C*I, size, size]``), ``labels.npy`` and
    ``categories.npz`` (the IFS parameters).
    """
    params = dict(categories=categories, instances=instances, size=size, seed=seed, fill_threshold=fill_threshold)

    def build(folder: Path) -> None:
        cats = sample_categories(categories, seed, fill_threshold, progress)
        rng = np.random.default_rng(seed + 1)
        imgs = np.empty((categories * instances, size, size), dtype=np.uint8)
        for c, cat in enumerate(tqdm(cats, desc="FractalDB instances", disable=not progress)):
            imgs[c * instances : (c + 1) * instances] = np.round(_instances(cat, instances, size, rng) * 255)
        np.save(folder / "images.npy", imgs)
        np.save(folder / "labels.npy", np.repeat(np.arange(categories), instances))
        np.savez(folder / "categories.npz", **{f"A{i}": c.A for i, c in enumerate(cats)}, **{f"b{i}": c.b for i, c in enumerate(cats)})

    return cached_build(f"fractaldb{categories}x{instances}", params, build, root)


def load_fractaldb(folder: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``[N, 3, S, S]`` float in [0, 1] (grey replicated to RGB) and labels ``[N]``."""
    folder = Path(folder)
    try:
        imgs = np.load(folder / "images.npy")
        labels = np.load(folder / "labels.npy")
    except (OSError, ValueError) as e:
        raise ValueError(f"FractalDB folder {folder} is incomplete or corrupt ({e}); delete it and regenerate") from e
    x = torch.from_numpy(imgs).float().div_(255).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    return x, torch.from_numpy(labels).long()
