"""The gallery figure: bird's-eye and perspective views of a few sweeps, by class and by intensity."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .labels import CLASSES, class_colors

__all__ = ["draw"]


def draw(dataset: Sequence[dict], samples: int = 2):
    """A matplotlib figure, one row per sweep (evenly spaced through ``dataset``): bird's-eye
    (z up, the view copying filters along z acts on) and a perspective from above and
    behind the sensor, each coloured by class and by intensity."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if len(dataset) == 0:
        raise ValueError("nothing to draw: the data set is empty")
    pick = [int(k) for k in np.linspace(0, len(dataset) - 1, min(samples, len(dataset))).round()]
    colors = class_colors()
    fig, axes = plt.subplots(len(pick), 4, figsize=(26, 5.4 * len(pick)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1.5, 1.5]})
    for row, i in enumerate(pick):
        s = dataset[i]
        p = np.asarray(s["points"])
        y = np.asarray(s["label"])
        inten = np.asarray(s["feats"])[:, 3]
        col = np.where((y >= 0)[:, None], colors[np.clip(y, 0, len(CLASSES) - 1)], 0.5)
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
            (p[near, 0], p[near, 1], col[near], None, f"{s['name']}: bird's-eye, class ({len(p)} points)", "#e8e8e8", 1.2, False),
            (p[near, 0], p[near, 1], inten[near], "turbo", "bird's-eye, intensity", "black", 1.2, False),
            (u, v, col[vis], None, "perspective (camera above/behind the sensor), class", "#e8e8e8", 1.5, True),
            (u, v, inten[vis], "turbo", "perspective, intensity", "black", 1.5, True),
        ]
        for ax, (xx, yy, c, cmap, title, bg, size, persp) in zip(axes[row], views):
            ax.scatter(xx, yy, c=c, s=size, linewidths=0, cmap=cmap, vmin=0 if cmap else None, vmax=1 if cmap else None)
            ax.set_aspect("equal")
            ax.set_facecolor(bg)
            ax.set_title(title)
            if persp:
                ax.set_xlim(-1.5, 1.5)
                ax.set_ylim(-1.0, 0.35)
                ax.set_xticks([])
                ax.set_yticks([])
    handles = [Patch(color=colors[k], label=c) for k, c in enumerate(CLASSES)] + [Patch(color=(0.5,) * 3, label="ignore")]
    fig.legend(handles=handles, loc="lower center", ncol=10, fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig
