"""Testing the paper's §5 hypothesis: a 3D conv with an inflated 2D filter acts like "project
the voxels to 2D, then apply the 2D filter" (Appendix 6.2, Fig. 4).

Inflation (copying a ``K x K`` filter ``K`` times along axis ``a``, :func:`i2p.inflate.filter_transform`)
makes the statement exact *locally*: the 3D response at a voxel is the 2D response of the
sum-projection of its own ``K``-thick slab along ``a`` (:func:`local_projection_response`),
and summing the 3D response over ``a`` gives ``K`` times the 2D response of the whole
projection (linearity). What the hypothesis really claims -- the response at an occupied
voxel matches the 2D response of the *whole* projection, i.e. of what an image of the shape
would show -- holds exactly only where every column of the voxel's ``K x K`` neighbourhood is
empty outside its slab: a thin surface whose slope along ``a`` is at most 1 voxel per voxel
(45 degrees, for any odd ``K``). :func:`agreement` measures how far real shapes are from that,
per copy axis, so the notebook can say which axis the hypothesis favours and why.

All grids are padded by ``K//2`` empty voxels per side before convolving, so no occupied
voxel's neighbourhood is cut by the border and the identities hold to float precision.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .inflate import inflate_conv_weight

__all__ = ["AXES", "PROJECTIONS", "Agreement", "imagenet_filters", "voxelize_occupancy", "box_shell", "tilted_plate",
           "response_3d", "projection_response", "local_projection_response", "agreement", "thickness_sweep",
           "orientation_sweep", "real_shapes", "axis_agreement", "hypothesis_reading", "shape_figure",
           "thickness_figure", "orientation_figure", "axis_agreement_figure"]

AXES: tuple[str, ...] = ("x", "y", "z")
#: "sum" (default): X-ray projection, the one linearity ties to the 3D conv, and on surface
#: shapes the closer match (measured); "max": binary silhouette, what a rendered image shows.
PROJECTIONS: tuple[str, ...] = ("sum", "max")
_COLORS = {"x": "tab:blue", "y": "tab:orange", "z": "tab:green"}


@dataclass(frozen=True)
class Agreement:
    """How well the 3D response at occupied voxels matches the 2D response of the projection.

    ``error``: relative L2 residual after the best per-filter scale (a per-channel scale is
    absorbed by the next BN), mean over filters; ``cosine``: the matching cosine similarity;
    ``raw_error``: same without rescaling; ``exact_fraction``: share of occupied voxels whose
    ``K x K`` neighbourhood columns lie inside their slab, i.e. where the 3D response equals
    the 2D response of the sum-projection for any filter (geometry only)."""

    axis: str
    projection: str
    error: float
    cosine: float
    raw_error: float
    exact_fraction: float
    occupied: int
    per_filter_error: tuple[float, ...]

    def summary(self) -> dict:
        """The scalar measures, as one table row."""
        return {k: v for k, v in vars(self).items() if k != "per_filter_error"}


def imagenet_filters(count: int = 8, source: str = "efficientnet_lite0.imagenet1k") -> torch.Tensor:
    """``[count, K, K]`` real pretrained filters (first transferred conv, summed over RGB)."""
    from .figures import first_transferred_filters
    return first_transferred_filters(source, count)


def _check_axis(axis: str) -> int:
    if axis not in AXES:
        raise ValueError(f"unknown copy axis {axis!r}; valid: {', '.join(AXES)}")
    return AXES.index(axis)


def _check_filters(filters: torch.Tensor) -> torch.Tensor:
    if not isinstance(filters, torch.Tensor) or filters.dim() != 3 or filters.shape[1] != filters.shape[2]:
        shape = tuple(filters.shape) if isinstance(filters, torch.Tensor) else type(filters).__name__
        raise ValueError(f"filters must be a tensor [N, K, K] of square 2D filters, got {shape}")
    if filters.shape[-1] % 2 == 0 or not torch.isfinite(filters).all():
        raise ValueError(f"filters must have an odd size K (centred padding) and finite values, got K={filters.shape[-1]}")
    return filters.double()


def _check_occupancy(occupancy: torch.Tensor) -> torch.Tensor:
    if not isinstance(occupancy, torch.Tensor) or occupancy.dim() != 3 or not torch.isfinite(occupancy).all():
        raise ValueError("occupancy must be a finite 3D tensor [X, Y, Z] (dims = data axes x, y, z)")
    if not occupancy.any():
        raise ValueError("occupancy is empty: the agreement is measured at occupied voxels")
    return occupancy.double()


def voxelize_occupancy(points: torch.Tensor | np.ndarray, resolution: int = 32) -> torch.Tensor:
    """``[R, R, R]`` 0/1 grid of ``[P, 3]`` points scaled into the unit cube (aspect ratio kept,
    centred), so shapes of any size are compared at the same voxel count."""
    pts = torch.as_tensor(np.asarray(points), dtype=torch.float64)
    if pts.dim() != 2 or pts.shape[1] != 3:
        raise ValueError(f"points must have shape [P, 3], got {tuple(pts.shape)}")
    if len(pts) == 0:
        raise ValueError("points is empty: nothing to voxelize")
    if not torch.isfinite(pts).all():
        raise ValueError("points contain NaN or infinite coordinates")
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    lo, extent = pts.min(0).values, pts.max(0).values - pts.min(0).values
    scale = resolution * (1 - 1e-9) / max(float(extent.max()), 1e-12)  # the far corner stays inside
    offset = ((resolution - extent * scale) / 2).floor()  # whole voxels: centring never adds a layer
    idx = ((pts - lo) * scale + offset).floor().long().clamp(0, resolution - 1)
    grid = torch.zeros(resolution, resolution, resolution)
    grid[idx[:, 0], idx[:, 1], idx[:, 2]] = 1.0
    return grid


def box_shell(resolution: int, thickness: int, axis: str = "z", solid: bool = False) -> torch.Tensor:
    """A box spanning 3/4 of the grid across ``axis`` and ``thickness`` voxels along it; by
    default only its surface voxels, like the surface-sampled clouds of the data sets."""
    a = _check_axis(axis)
    if not 1 <= thickness <= resolution:
        raise ValueError(f"thickness must be in 1..{resolution}, got {thickness}")
    side, lo = (3 * resolution) // 4, (resolution - (3 * resolution) // 4) // 2
    bounds = [(lo, lo + side)] * 3
    bounds[a] = ((resolution - thickness) // 2, (resolution - thickness) // 2 + thickness)
    grid = torch.zeros(resolution, resolution, resolution)
    grid[tuple(slice(s, e) for s, e in bounds)] = 1.0
    if not solid:  # hollow out the inside
        grid[tuple(slice(s + 1, e - 1) for s, e in bounds)] = 0.0
    return grid


def tilted_plate(resolution: int, angle_deg: float, axis: str = "z") -> torch.Tensor:
    """A one-voxel-thick disc whose normal is tilted by ``angle_deg`` from ``axis`` (0: the
    plate faces the copy axis; 90: seen edge-on), tilting toward the next axis."""
    a = _check_axis(axis)
    coords = torch.arange(resolution, dtype=torch.float64) - resolution // 2  # a voxel at the centre
    grid = torch.stack(torch.meshgrid(coords, coords, coords, indexing="ij"), -1)
    normal = torch.zeros(3, dtype=torch.float64)
    normal[a], normal[(a + 1) % 3] = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    inside = ((grid @ normal).abs() <= 0.5) & (grid.norm(dim=-1) <= resolution / 2 - 2)
    return inside.float()


def response_3d(occupancy: torch.Tensor, filters: torch.Tensor, axis: str) -> torch.Tensor:
    """``[N, G, G, G]`` dense ``conv3d`` of the padded occupancy with the filters inflated
    along ``axis`` by i2p's own :func:`~i2p.inflate.inflate_conv_weight` (G = R + K - 1)."""
    _check_axis(axis)
    w, occ = _check_filters(filters), _check_occupancy(occupancy)
    n, k = w.shape[0], w.shape[-1]
    w3 = inflate_conv_weight(w[:, None], "default", axis=axis).permute(2, 1, 0).reshape(n, 1, k, k, k)
    return F.conv3d(F.pad(occ, (k // 2,) * 6)[None, None], w3, padding=k // 2)[0]


def projection_response(occupancy: torch.Tensor, filters: torch.Tensor, axis: str,
                        projection: str = "sum") -> tuple[torch.Tensor, torch.Tensor]:
    """(projection ``[G, G]``, its 2D response ``[N, G, G]``): project the padded occupancy
    along ``axis``, then ``conv2d`` -- the image-side of the hypothesis. Plane dims are the
    two other axes in x, y, z order, matching the inflation's (row, column)."""
    a = _check_axis(axis)
    if projection not in PROJECTIONS:
        raise ValueError(f"unknown projection {projection!r}; valid: {', '.join(PROJECTIONS)}")
    w, occ = _check_filters(filters), _check_occupancy(occupancy)
    k = w.shape[-1]
    padded = F.pad(occ, (k // 2,) * 6)
    proj = padded.sum(a) if projection == "sum" else padded.amax(a)
    return proj, F.conv2d(proj[None, None], w[:, None], padding=k // 2)[0]


def _slab_sums(occupancy: torch.Tensor, k: int, a: int) -> torch.Tensor:
    """Padded grid where each voxel holds the sum of its ``K``-long column segment along ``a``."""
    padded = F.pad(occupancy, (k // 2,) * 6)
    return F.pad(padded.movedim(a, 0), (0, 0, 0, 0, k // 2, k // 2)).unfold(0, k, 1).sum(-1).movedim(0, a)


def local_projection_response(occupancy: torch.Tensor, filters: torch.Tensor, axis: str) -> torch.Tensor:
    """``[N, G, G, G]``: at each voxel, the 2D response of the projection of its own ``K``-thick
    slab (Fig. 4's "project local voxels, then 2D conv"), computed with ``conv2d`` only.
    Equals :func:`response_3d` exactly: the local form of the hypothesis is an identity."""
    a = _check_axis(axis)
    w, occ = _check_filters(filters), _check_occupancy(occupancy)
    slabs = _slab_sums(occ, w.shape[-1], a).movedim(a, 0)  # [G, Gp, Gq]
    return F.conv2d(slabs[:, None], w[:, None], padding=w.shape[-1] // 2).movedim(0, a + 1)


def agreement(occupancy: torch.Tensor, filters: torch.Tensor, axis: str, projection: str = "sum") -> Agreement:
    """Compare the 3D response at occupied voxels with the 2D response of the whole projection
    broadcast along ``axis`` (see :class:`Agreement` for the measures)."""
    a = _check_axis(axis)
    _, y2d = projection_response(occupancy, filters, axis, projection)
    y3d = response_3d(occupancy, filters, axis)
    occ, k = _check_occupancy(occupancy), filters.shape[-1]
    padded = F.pad(occ, (k // 2,) * 6)
    where = padded.nonzero(as_tuple=True)
    y3, y2 = y3d[(slice(None), *where)], y2d[(slice(None), *(i for d, i in enumerate(where) if d != a))]
    norm3, dot = y3.norm(dim=1).clamp_min(1e-300), (y3 * y2).sum(1)
    err = (y3 - (dot / (y2 * y2).sum(1).clamp_min(1e-300))[:, None] * y2).norm(dim=1) / norm3
    cosine = dot / (norm3 * y2.norm(dim=1).clamp_min(1e-300))
    # column content outside the voxel's slab, worst over its K x K window: 0 <=> exact match
    outside = padded.sum(a, keepdim=True) - _slab_sums(occ, k, a)
    worst = F.max_pool2d(outside.movedim(a, 0)[:, None], k, 1, k // 2)[:, 0].movedim(0, a)
    return Agreement(axis, projection, float(err.mean()), float(cosine.mean()),
                     float(((y3 - y2).norm(dim=1) / norm3).mean()), float((worst[where] == 0).double().mean()),
                     len(where[0]), tuple(float(e) for e in err))


def _rows(key: str, values: Iterable, shape_of: Callable, filters: torch.Tensor, axis: str,
          projection: str) -> pd.DataFrame:
    return pd.DataFrame([{key: v, **agreement(shape_of(v), filters, axis, projection).summary()} for v in values])


def thickness_sweep(filters: torch.Tensor, resolution: int = 32, thicknesses: Sequence[int] | None = None,
                    axis: str = "z", solid: bool = False, projection: str = "sum") -> pd.DataFrame:
    """Agreement for a box shell (or ``solid`` box) growing along the copy axis: exact while
    every voxel's slab spans the whole thickness (``<= K//2 + 1``), broken once the far face
    leaves the slab. Not monotone beyond: a thick solid box tends to a prism along the axis,
    whose 3D response is the 2D one up to scale, so its error falls back slowly."""
    thicknesses = list(thicknesses) if thicknesses is not None else list(range(1, resolution + 1))
    return _rows("thickness", thicknesses, lambda t: box_shell(resolution, t, axis, solid), filters, axis, projection)


def orientation_sweep(filters: torch.Tensor, resolution: int = 32, angles: Sequence[float] = tuple(range(0, 91, 5)),
                      axis: str = "z", projection: str = "sum") -> pd.DataFrame:
    """Agreement for a thin disc tilted away from facing the copy axis: exact up to a slope of
    one voxel per voxel (45 degrees; just below it the digital disc is two voxels deep in some
    columns, a visible blip), then neighbouring columns leave the slab."""
    return _rows("angle", angles, lambda t: tilted_plate(resolution, t, axis), filters, axis, projection)


def real_shapes(dataset: str = "modelnet40", per_class: int = 2, profile: str = "teaching",
                block: float | None = None) -> list[dict]:
    """``[{"points", "name", "class", "dataset"}]`` from a registered stand-in's evaluation split:
    ``per_class`` shapes per class (classification) or ``per_class`` scenes (segmentation,
    class "scene"), cropped to a ``block``-metre column around the median point if given."""
    from .data.registry import get
    spec = get(dataset)
    data = spec.load(spec.eval_split, profile, transform=None)
    taken: dict[str, int] = {}
    shapes = []
    for sample in data:
        cls = data.classes[int(sample["label"])] if spec.task == "cls" else "scene"
        if taken.get(cls, 0) >= per_class:
            continue
        taken[cls] = taken.get(cls, 0) + 1
        points = torch.as_tensor(sample["points"]).double()
        if block is not None:  # a block-wide column, all heights, around the median point
            ground = [d for d in range(3) if AXES[d] != spec.up_axis]
            points = points[((points[:, ground] - points[:, ground].median(0).values).abs() <= block / 2).all(1)]
        shapes.append({"points": points, "name": sample["name"], "class": cls, "dataset": spec.name})
    return shapes


def axis_agreement(samples: Iterable[dict | torch.Tensor | np.ndarray], filters: torch.Tensor,
                   axes: Sequence[str] = AXES, resolution: int = 32, projection: str = "sum") -> pd.DataFrame:
    """One row per (sample, axis): how well copying along that axis satisfies the hypothesis on
    real shapes. Samples are dicts as from :func:`real_shapes` or bare ``[P, 3]`` arrays."""
    rows: list[dict] = []
    for i, sample in enumerate(samples):
        info = sample if isinstance(sample, dict) else {"points": sample}
        occupancy = voxelize_occupancy(info["points"], resolution)
        rows += [{"dataset": info.get("dataset", ""), "sample": info.get("name", str(i)), "class": info.get("class", ""),
                  **agreement(occupancy, filters, axis, projection).summary()} for axis in axes]
    if not rows:
        raise ValueError("no samples given")
    return pd.DataFrame(rows)


def _describe(dataset: str) -> tuple[str, dict[str, str]]:
    """(display name, axis -> short physical meaning) of a registered data set, if it is one."""
    from .data.registry import get
    try:
        spec = get(dataset)
    except ValueError:
        return dataset or "these shapes", {}
    return spec.stand_in, {a: "up" if a == spec.up_axis else spec.axes[a].split(",")[0] for a in AXES}


def hypothesis_reading(table: pd.DataFrame, margin: float = 0.05) -> str:
    """One number-driven sentence per data set of :func:`axis_agreement`: which copy axis best
    satisfies "project, then 2D-convolve"; an axis is called favoured only if its median error
    is ``margin`` below the next one and it is the best axis on most samples."""
    if table.empty:
        raise ValueError("the agreement table is empty")
    sentences = []
    for dataset, part in table.groupby("dataset", sort=False):
        median = part.groupby("axis")["error"].median().sort_values()
        name, meaning = _describe(str(dataset))
        best = str(median.index[0])
        wins = (part.loc[part.groupby("sample")["error"].idxmin(), "axis"] == best).mean()
        clear = len(median) > 1 and median.iloc[1] - median.iloc[0] >= margin and wins > 0.5
        verdict = f"the hypothesis favours copying along {best}" if clear else "so no copy axis is clearly favoured"
        others = ", ".join(f"{a} {e:.2f}" for a, e in median.iloc[1:].items())
        sentences.append(
            f"On {name} ({(n := part['sample'].nunique())} sample{'s' if n != 1 else ''}) copying along {best}"
            f"{' (' + meaning[best] + ')' if best in meaning else ''} gives the lowest median error,"
            f" {median.iloc[0]:.2f}{' vs ' + others if others else ''}, and is best on {wins:.0%} of samples"
            f" -- {verdict}.")
    return " ".join(sentences)


def shape_figure(occupancy: torch.Tensor, filters: torch.Tensor, axis: str, filter_index: int = 0,
                 projection: str = "sum") -> plt.Figure:
    """Projection, its 2D response, the 3D response at the first occupied voxel of each column
    (what faces a viewer looking along ``axis``), and 3D vs 2D at every occupied voxel."""
    a = _check_axis(axis)
    proj, y2d = projection_response(occupancy, filters, axis, projection)
    y3d = response_3d(occupancy, filters, axis)[filter_index]
    padded = F.pad(_check_occupancy(occupancy), (filters.shape[-1] // 2,) * 6)
    front = padded.movedim(a, 0).argmax(0)  # first occupied index along the axis, per column
    facing = y3d.movedim(a, 0).gather(0, front[None])[0] * (proj > 0)
    plane = "-".join(x for x in AXES if x != axis)
    fig, axs = plt.subplots(1, 4, figsize=(13, 3.4))
    for ax, img, title, cmap in ((axs[0], proj, f"{projection}-projection along {axis}", "gray_r"),
                                 (axs[1], y2d[filter_index], "2D response of projection", "RdBu_r"),
                                 (axs[2], facing, "3D response, front voxel", "RdBu_r")):
        lim = float(img.abs().max())  # each on its own scale: the measures ignore a global scale
        ax.imshow(img.T.numpy(), origin="lower", cmap=cmap, vmin=0 if cmap == "gray_r" else -lim, vmax=lim)
        ax.set(title=title, xlabel=plane[0], ylabel=plane[-1], xticks=[], yticks=[])
    where = padded.nonzero(as_tuple=True)
    axs[3].scatter(y2d[filter_index][tuple(i for d, i in enumerate(where) if d != a)].numpy(),
                   y3d[where].numpy(), s=3, alpha=0.4)
    res = agreement(occupancy, filters[filter_index:filter_index + 1], axis, projection)
    axs[3].set(xlabel="2D response (projection)", ylabel="3D response", title=f"occupied voxels: error {res.error:.2f}")
    fig.tight_layout()
    return fig


def _sweep_figure(table: pd.DataFrame, key: str, xlabel: str, title: str) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    for axis, part in table.groupby("axis"):
        left.plot(part[key], part["error"], "o-", color=_COLORS.get(axis), label=f"copy along {axis}")
        right.plot(part[key], part["exact_fraction"], "o-", color=_COLORS.get(axis))
    left.set(xlabel=xlabel, ylabel="error after best scale", title=title)
    right.set(xlabel=xlabel, ylabel="share of voxels matching exactly", ylim=(-0.05, 1.05))
    left.legend()
    fig.tight_layout()
    return fig


def thickness_figure(table: pd.DataFrame) -> plt.Figure:
    """Error and exact share vs thickness (from :func:`thickness_sweep`)."""
    return _sweep_figure(table, "thickness", "thickness along the copy axis (voxels)", "3D vs project-then-2D")


def orientation_figure(table: pd.DataFrame) -> plt.Figure:
    """Error and exact share vs tilt angle (from :func:`orientation_sweep`)."""
    return _sweep_figure(table, "angle", "plate normal tilted from the copy axis (degrees)", "3D vs project-then-2D")


def axis_agreement_figure(table: pd.DataFrame, by: str = "dataset") -> plt.Figure:
    """Box plot of the error per copy axis, grouped by ``by`` ("dataset" or "class")."""
    groups, axes = list(dict.fromkeys(table[by])), list(dict.fromkeys(table["axis"]))
    fig, ax = plt.subplots(figsize=(min(14.0, max(4.0, 0.45 * len(groups) * len(axes))), 3.6))
    width = 0.8 / len(axes)
    for j, axis in enumerate(axes):
        data = [table[(table[by] == g) & (table["axis"] == axis)]["error"].to_numpy() for g in groups]
        box = ax.boxplot(data, positions=np.arange(len(groups)) + (j - (len(axes) - 1) / 2) * width, widths=width * 0.9,
                         patch_artist=True, manage_ticks=False)
        for patch in box["boxes"]:
            patch.set_facecolor(_COLORS[axis])
        ax.plot([], [], "s", color=_COLORS[axis], label=f"copy along {axis}")
    ax.set_xticks(np.arange(len(groups)), [_describe(str(g))[0] if by == "dataset" else str(g) for g in groups],
                  rotation=30 if by == "class" else 0)
    ax.set(ylabel="error after best scale", title="3D response vs project-then-2D, per copy axis")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
