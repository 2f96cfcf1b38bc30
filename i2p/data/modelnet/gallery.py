"""The ModelNet40 gallery: a few clouds per class, drawn with y (ModelNet's up) vertical."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["gallery_figure"]


def gallery_figure(samples: Sequence[dict], classes: Sequence[str], per_class: int = 2, max_points: int = 2048):
    """A grid of 3D scatter plots, ``per_class`` clouds for each class that has any,
    titled ``<class> (<instance>)`` and coloured by height."""
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d import Axes3D  # noqa: F401  (registers the 3d projection)

    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    per: dict[int, list[dict]] = {}
    for s in samples:
        got = per.setdefault(int(s["label"]), [])
        if len(got) < per_class:
            got.append(s)
    if not per:
        raise ValueError("no samples to draw")
    labels = sorted(per)
    cls_per_row = 5 if len(classes) <= 10 else 8
    ncols = cls_per_row * per_class
    nrows = math.ceil(len(labels) / cls_per_row)
    fig = Figure(figsize=(2.0 * ncols, 2.2 * nrows), dpi=90)
    for pos, y in enumerate(labels):
        for k, s in enumerate(per[y]):
            idx = (pos // cls_per_row) * ncols + (pos % cls_per_row) * per_class + k + 1
            ax = fig.add_subplot(nrows, ncols, idx, projection="3d")
            p = np.asarray(s["points"])[:max_points]
            ax.scatter(p[:, 0], p[:, 1], p[:, 2], c=p[:, 1], cmap="viridis", s=1.5, depthshade=False, linewidths=0)
            ax.set_xlim(-1, 1)
            ax.set_ylim(-1, 1)
            ax.set_zlim(-1, 1)
            ax.set_box_aspect((1, 1, 1), zoom=1.45)
            ax.view_init(elev=25, azim=30, vertical_axis="y")  # = azim -60 on z-up axes: fronts (+z) in view
            ax.set_axis_off()
            ax.set_title(f"{classes[y]} ({str(s.get('name', '')).rsplit('_', 1)[-1]})", fontsize=9, pad=-2)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=0.97, wspace=0, hspace=0.05)
    return fig
