"""The S3DIS gallery: per room, top-down and perspective views coloured by rgb and by
label, with the ceiling removed (and the two walls facing the camera cut away in the
perspective views) so the inside is visible."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..store import load_cloudset
from .labels import AREAS, BEAM, BOARD, CEILING, CLASSES, COLUMN, DOOR, LABEL_COLORS, WALL, WINDOW

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: points drawn per room at most (scatter plots of 10^6 points are slow and no clearer)
MAX_POINTS = 40000
_FRONT_CLASSES = [WALL, WINDOW, DOOR, COLUMN, BOARD, BEAM]


def synth_rooms(folder: Path, n: int) -> list[dict]:
    """``n`` rooms of a generated SynthS3DIS folder, round-robin over the areas (so the
    picks are of different room types)."""
    by_area = [load_cloudset(folder / f"area_{a}.npz") for a in AREAS]
    picks, k = [], 0
    while len(picks) < min(n, sum(map(len, by_area))):
        picks += [lst[k] for lst in by_area if k < len(lst)][: n - len(picks)]
        k += 1
    return picks


def draw_rooms(rooms: Sequence[dict]) -> Figure:
    """The gallery figure of ``rooms`` (samples with xyz+rgb ``feats`` and per-point labels)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig = plt.figure(figsize=(20, 5 * len(rooms)))
    rng = np.random.default_rng(0)
    for r, s in enumerate(rooms):
        p = np.asarray(s["points"], dtype=np.float64)
        rgb = np.asarray(s["feats"], dtype=np.float64)[:, 3:6]
        lab = np.asarray(s["label"])
        keep = lab != CEILING
        if keep.sum() > MAX_POINTS:
            keep[np.flatnonzero(keep)[rng.permutation(int(keep.sum()))[MAX_POINTS:]]] = False
        p, rgb, lab = p[keep], np.clip(rgb[keep], 0, 1), lab[keep]
        p = p - [p[:, 0].min(), p[:, 1].min(), 0]
        order = np.argsort(p[:, 2])  # top-down: higher points drawn last
        # drop the two walls facing the camera (incl. recessed windows) in the perspective views
        front = (p[:, 1] < 0.4) | (p[:, 0] > p[:, 0].max() - 0.4)
        m3 = ~(front & np.isin(lab, _FRONT_CLASSES))
        for c, (colors, what) in enumerate(((rgb, "rgb"), (LABEL_COLORS[lab], "labels"))):
            ax = fig.add_subplot(len(rooms), 4, 4 * r + c + 1)
            ax.scatter(p[order, 0], p[order, 1], c=colors[order], s=2.5, linewidths=0)
            ax.set_aspect("equal")
            ax.set_title(f"{s['name']} ({len(lab)} pts w/o ceiling), top, {what}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax3 = fig.add_subplot(len(rooms), 4, 4 * r + c + 3, projection="3d")
            ax3.scatter(p[m3, 0], p[m3, 1], p[m3, 2], c=colors[m3], s=1.5, linewidths=0, depthshade=False)
            ax3.view_init(elev=38, azim=-60)
            ext = p.max(0) - p.min(0)
            ax3.set_box_aspect((ext[0], ext[1], ext[2]))
            ax3.set_title(f"perspective, {what} (front walls cut)", fontsize=9)
            ax3.tick_params(labelsize=6)
    handles = [Line2D([], [], marker="o", ls="", color=LABEL_COLORS[i], label=f"{i} {n}") for i, n in enumerate(CLASSES)]
    fig.legend(handles=handles, loc="upper center", ncol=13, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig
