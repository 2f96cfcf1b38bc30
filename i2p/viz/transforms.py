"""Learned filter transformations T (paper §4.8, Figs. 3, 5, 6): the K²×K³ matrices of a
trained model beside the handcrafted ones, how far each moved from each handcrafted T,
and the 3×3×3 kernels they make from a real 2D filter."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from ..inflate import TRANSFORM_NAMES, FilterTransform, filter_transform, transform_of

__all__ = ["learned_transforms", "transform_distances", "transform_heatmaps", "kernel_figure"]


def learned_transforms(model: nn.Module, k: int | None = 3) -> dict[str, FilterTransform]:
    """Every distinct K×K -> K×K×K :class:`FilterTransform` of ``model`` (of kernel size
    ``k``; None: all), named by the first conv it drives, or ``shared KxK (N convs)`` when
    one T drives several convs (shared T: one per kernel size)."""
    seen: dict[int, list] = {}
    for name, m in model.named_modules():
        t = transform_of(m)
        if t is None or t.k2d != t.k3d or t.k2d == 1 or (k is not None and t.k2d != k):
            continue
        seen.setdefault(id(t), [name, t, 0])[2] += 1
    if not seen:
        raise ValueError("the model has no learnable filter transformation" + (f" for {k}x{k} kernels" if k else "")
                         + " (train it with scope learn_t)")
    return {(f"shared {t.k2d}x{t.k2d} ({uses} convs)" if uses > 1 else name): t for name, t, uses in seen.values()}


def _handcrafted(k: int, axis: str) -> dict[str, torch.Tensor]:
    return {n: filter_transform(n, k, axis=axis) for n in TRANSFORM_NAMES}


def transform_distances(transforms: dict[str, FilterTransform]):
    """One row per learned T: its relative Frobenius distance ``‖T − H‖ / ‖H‖`` to each
    handcrafted H (along the T's own copy axis), and which one it stays closest to."""
    import pandas as pd

    rows = []
    for name, t in transforms.items():
        learned = t.T.detach().float().cpu()
        dist = {h: float((learned - ref).norm() / ref.norm()) for h, ref in _handcrafted(t.k2d, t.axis).items()}
        rows.append({"layer": name, "init": t.init, **dist, "closest": min(dist, key=dist.get)})
    return pd.DataFrame(rows)


def transform_heatmaps(transforms: dict[str, FilterTransform], max_layers: int = 6,
                       title: str = "") -> plt.Figure:
    """Heatmaps of the handcrafted T (top row) and of learned ones (below), one colour
    scale per panel so small learned changes stay visible."""
    items = list(transforms.items())[:max_layers]
    if not items:
        raise ValueError("no transforms to draw")
    k, axis = items[0][1].k2d, items[0][1].axis
    hand = list(_handcrafted(k, axis).items())
    cols = max(len(hand), min(len(items), 3))
    nrows = 1 + -(-len(items) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 1.5 * nrows + 0.6), squeeze=False)
    for ax, (name, mat) in zip(axes[0], hand):
        ax.imshow(mat.numpy(), cmap="Greys", aspect="auto")
        ax.set_title(f"handcrafted {name}", fontsize=8)
    for i, (name, t) in enumerate(items):
        ax = axes[1 + i // cols, i % cols]
        mat = t.T.detach().float().cpu().numpy()
        lim = float(np.abs(mat).max()) or 1.0
        ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_title(f"learned: {name}", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        if not ax.images:
            ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("2D tap", fontsize=7)
    fig.suptitle(title or f"Filter transformations T ({k}²×{k}³; columns = 3D taps, copy axis {axis})", fontsize=9)
    fig.tight_layout()
    return fig


def kernel_figure(w2d: torch.Tensor, transforms: dict[str, torch.Tensor], title: str = "") -> plt.Figure:
    """The 3×3×3 kernel each T makes from one 2D filter ``w2d`` ([K, K]): its K slices
    along x and a 3D view of the cube (colour = weight); rows: transforms."""
    w2d = w2d.detach().float().cpu()
    k = w2d.shape[-1]
    if w2d.shape != (k, k):
        raise ValueError(f"w2d must be one [K, K] filter, got {tuple(w2d.shape)}")
    kernels = {n: (w2d.reshape(1, k * k) @ t.detach().float().cpu()).reshape(k, k, k) for n, t in transforms.items()}
    lim = max(float(v.abs().max()) for v in kernels.values()) or 1.0
    cmap, norm = plt.get_cmap("RdBu_r"), plt.Normalize(-lim, lim)
    fig = plt.figure(figsize=(1.5 * (k + 3), 1.7 * len(kernels) + 0.5))
    for r, (name, ker) in enumerate(kernels.items()):
        cols = k + 3
        ax = fig.add_subplot(len(kernels), cols, r * cols + 1)
        ax.imshow(w2d.numpy(), cmap=cmap, norm=norm)
        ax.set_ylabel(name, fontsize=8)
        ax.set_title("2D filter" if r == 0 else "", fontsize=8)
        for x in range(k):
            ax = fig.add_subplot(len(kernels), cols, r * cols + 2 + x)
            ax.imshow(ker[x].numpy(), cmap=cmap, norm=norm)
            ax.set_title(f"3D slice x={x}" if r == 0 else "", fontsize=8)
        cube = fig.add_subplot(len(kernels), cols, (r * cols + k + 2, r * cols + k + 3), projection="3d")
        cube.voxels(np.ones((k, k, k), bool), facecolors=cmap(norm(ker.numpy())), edgecolor="k", linewidth=0.3)
        cube.set_axis_off()
    for ax in fig.axes:
        if ax.name != "3d":
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title or "One 2D filter through each T: the 3D kernel's slices (y-z planes) and the cube", fontsize=9)
    return fig
