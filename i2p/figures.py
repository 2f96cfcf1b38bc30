"""Figures that explain inflation: 2D filters next to their inflated 3D slices, and the
filter transformations T themselves."""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from .inflate import TRANSFORM_NAMES, filter_transform, inflate_conv_weight  # noqa: E402
from .weights import WeightsUnavailable, list_sources, load_weights  # noqa: E402

__all__ = ["first_transferred_filters", "filters_figure", "transforms_figure"]

#: the first 2D conv that i2p transfers, per family (the stems are replaced, not inflated)
FIRST_TRANSFERRED = {"resnet": "layer1.0.conv1.weight", "efficientnet": "blocks.0.0.conv_dw.weight"}


def first_transferred_filters(name: str, count: int = 4) -> torch.Tensor:
    """``[count, K, K]`` filters of a source's first transferred conv (summed over inputs)."""
    sd = load_weights(name)
    key = FIRST_TRANSFERRED["efficientnet" if name.startswith("efficientnet") else "resnet"]
    w = sd[key].float()
    filt = w.sum(1)  # [C_out, K, K]
    order = filt.flatten(1).norm(dim=1).argsort(descending=True)  # the most structured ones
    return filt[order[:count]]


def filters_figure(names: Sequence[str] | None = None, count: int = 4, transform: str = "default") -> plt.Figure:
    """For each available source: 2D filters and the z-slices of their inflated 3D versions."""
    if names is None:
        names = [r.name for r in list_sources() if r.available]
    rows = []
    for n in names:
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
    fig.suptitle(f"First transferred 2D filters and their 3D inflation (T = {transform}): each z-slice repeats the 2D filter", fontsize=10)
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
