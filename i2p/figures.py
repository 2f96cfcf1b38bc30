"""Figures that explain inflation: 2D filters next to their inflated 3D slices, and the
filter transformations T themselves."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .inflate import TRANSFORM_NAMES, filter_transform, inflate_conv_weight
from .models.factory import load_weights
from .models.registry import ModelFamily, family_of
from .weights import SOURCES, WeightsUnavailable, list_sources

__all__ = ["first_transferred_filters", "filters_figure", "first_layer_figure", "transforms_figure"]

def _family(source: str) -> ModelFamily:
    """The model family of a registered 2D source (it knows which keys are which)."""
    return family_of(SOURCES[source].arch)


def _available(names: Sequence[str] | None) -> list[str]:
    return [r.name for r in list_sources() if r.available] if names is None else list(names)


def first_transferred_filters(name: str, count: int = 4) -> torch.Tensor:
    """``[count, K, K]`` filters of a source's first transferred conv (summed over inputs)."""
    w = load_weights(name)[_family(name).first_transferred].float()
    filt = w.sum(1)  # [C_out, K, K]
    order = filt.flatten(1).norm(dim=1).argsort(descending=True)  # the most structured ones
    return filt[order[:count]]


def filters_figure(names: Sequence[str] | None = None, count: int = 4, transform: str = "default") -> plt.Figure:
    """For each available source: 2D filters and the z-slices of their inflated 3D versions."""
    rows = []
    for n in _available(names):
        try:
            rows.append((n, first_transferred_filters(n, count)))
        except (WeightsUnavailable, KeyError):
            continue
    if not rows:
        raise WeightsUnavailable("no 2D source is available on this machine (see `python -m i2p info`)")
    k = rows[0][1].shape[-1]
    fig, axes = plt.subplots(len(rows), count * (k + 1), figsize=(1.1 * count * (k + 1), 1.3 * len(rows) + 0.6), squeeze=False)
    for r, (n, filt) in enumerate(rows):
        w3 = inflate_conv_weight(filt[:, None], transform).reshape(filt.shape[-1], filt.shape[-1], filt.shape[-1], -1)
        lim = float(filt.abs().max())
        for i in range(count):
            ax = axes[r, i * (k + 1)]
            ax.imshow(filt[i].numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title("2D" if r == 0 else "", fontsize=8)
            for z in range(k):
                a = axes[r, i * (k + 1) + 1 + z]
                a.imshow(w3[:, :, z, i].numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
                a.set_title(f"3D z={z}" if r == 0 else "", fontsize=8)
        axes[r, 0].set_ylabel(n.replace(".", "\n"), fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    what = "each z-slice repeats the 2D filter" if transform == "default" else "the filter is copied along another axis"
    fig.suptitle(f"First transferred 2D filters and their 3D inflation (T = {transform}): {what}", fontsize=10)
    return fig


def _rgb(w: torch.Tensor) -> "np.ndarray":
    """``[3, H, W]`` filter as an RGB image in [0, 1] (symmetric around grey)."""
    lim = float(w.abs().max()) or 1.0
    return (w / (2 * lim) + 0.5).permute(1, 2, 0).numpy()


def first_layer_figure(names: Sequence[str] | None = None, count: int = 6, transform: str = "default") -> plt.Figure:
    """The RGB first-layer filters of each available source, with a top view (z = mid) and
    a side view (y = mid) of their inflated 3D versions. i2p replaces these stems with the
    paper's input layer, so this figure illustrates inflation, not a transferred layer."""
    rows = []
    for n in _available(names):
        try:
            w = load_weights(n)[_family(n).first_layer].float()
        except (WeightsUnavailable, KeyError):
            continue
        order = w.flatten(1).norm(dim=1).argsort(descending=True)
        rows.append((n, w[order[:count]]))
    if not rows:
        raise WeightsUnavailable("no 2D source is available on this machine (see `python -m i2p info`)")
    fig, axes = plt.subplots(len(rows), 3 * count, figsize=(0.9 * 3 * count, 1.2 * len(rows) + 0.7), squeeze=False)
    for r, (n, w) in enumerate(rows):
        k = w.shape[-1]
        w3 = inflate_conv_weight(w, transform).reshape(k, k, k, 3, -1)  # [x, y, z, rgb, filter]
        for i in range(w.shape[0]):
            views = (w[i], w3[:, :, k // 2, :, i].permute(2, 0, 1), w3[:, k // 2, :, :, i].permute(2, 0, 1))
            for j, (img, title) in enumerate(zip(views, ("2D", "3D top", "3D side"))):
                ax = axes[r, 3 * i + j]
                ax.imshow(_rgb(img))
                ax.set_title(title if r == 0 else "", fontsize=7)
        axes[r, 0].set_ylabel(n.replace(".", "\n"), fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"First-layer RGB filters and their inflation (T = {transform}): top view = the 2D filter, "
                 "side view = a column repeated along z", fontsize=9)
    return fig


def transforms_figure(k: int = 3) -> plt.Figure:
    """The handcrafted filter transformations as K² x K³ matrices (paper Fig. 3)."""
    fig, axes = plt.subplots(1, len(TRANSFORM_NAMES), figsize=(3.2 * len(TRANSFORM_NAMES), 1.6))
    for ax, name in zip(axes, TRANSFORM_NAMES):
        ax.imshow(filter_transform(name, k).numpy(), cmap="Greys", aspect="auto")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("3D offset (x·K+y)·K+z", fontsize=7)
        ax.set_ylabel("2D tap u·K+v", fontsize=7)
    fig.tight_layout()
    return fig
