"""Points -> voxels with the paper's rule, and the way back.

§3: a voxel's feature is the mean of the features of the points inside it; empty voxels
do not exist (sparse). The inverse map sends every point to its voxel so per-voxel
predictions become per-point predictions.
"""
from __future__ import annotations

from typing import Sequence

import torch

from .kmap import unique_grid
from .tensor import SparseTensor

__all__ = ["voxelize", "check_points"]


def check_points(points: torch.Tensor, feats: torch.Tensor | None = None, name: str = "point cloud") -> None:
    """Raise a clear error for clouds a model cannot take."""
    if not isinstance(points, torch.Tensor):
        raise TypeError(f"{name}: points must be a torch.Tensor, got {type(points).__name__}")
    if points.dim() != 2 or points.shape[1] != 3:
        raise ValueError(f"{name}: points must have shape [N, 3] (x, y, z), got {tuple(points.shape)}")
    if not points.is_floating_point():
        raise TypeError(f"{name}: points must be floating point, got {points.dtype}")
    if points.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 points); drop it from the batch or check the loader")
    bad = ~torch.isfinite(points).all(dim=1)
    if bad.any():
        raise ValueError(
            f"{name}: {int(bad.sum())} of {points.shape[0]} points have NaN/inf coordinates "
            f"(first at row {int(bad.nonzero()[0])}); clean the cloud before voxelizing"
        )
    if feats is not None:
        if feats.dim() != 2 or feats.shape[0] != points.shape[0]:
            raise ValueError(
                f"{name}: feats must have shape [N, C] with N = {points.shape[0]}, got {tuple(feats.shape)}"
            )
        if not torch.isfinite(feats).all():
            raise ValueError(f"{name}: features contain NaN/inf values")


def voxelize(
    clouds: Sequence[tuple[torch.Tensor, torch.Tensor | None]] | torch.Tensor,
    voxel_size: float,
    feats: torch.Tensor | None = None,
) -> tuple[SparseTensor, torch.Tensor]:
    """Voxelize one cloud (``points``, ``feats``) or a list of ``(points, feats)`` clouds.

    Features default to the xyz coordinates (the ModelNet setting). Returns the batched
    :class:`SparseTensor` (batch index = position in the list) and ``point_to_voxel``,
    the voxel row of every input point, concatenated over the clouds in order.
    """
    if isinstance(voxel_size, (str, bool)) or not isinstance(voxel_size, (int, float)):
        raise TypeError(f"voxel_size must be a number, got {voxel_size!r} ({type(voxel_size).__name__})")
    if not voxel_size > 0 or voxel_size == float("inf"):  # also rejects NaN
        raise ValueError(f"voxel_size must be positive and finite, got {voxel_size}")
    if isinstance(clouds, torch.Tensor):
        clouds = [(clouds, feats)]
    if len(clouds) == 0:
        raise ValueError("voxelize got an empty batch (no clouds)")
    grids, fs = [], []
    for b, item in enumerate(clouds):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(
                f"cloud {b}: expected a (points, feats) pair (feats may be None) or a points "
                f"tensor, got {type(item).__name__}"
            )
        pts, f = item
        check_points(pts, f, name=f"cloud {b}")
        f = pts if f is None else f
        scaled = torch.floor(pts / voxel_size)
        if scaled.abs().max() >= 2**40:  # int64 keys would overflow
            raise ValueError(
                f"cloud {b}: coordinates up to {float(pts.abs().max()):.3g} are too large for voxel size "
                f"{voxel_size}; check the units of the points"
            )
        q = scaled.long()
        grids.append(torch.cat([q.new_full((q.shape[0], 1), b), q], dim=1))
        fs.append(f)
    widths = {f.shape[1] for f in fs}
    if len(widths) != 1:
        raise ValueError(f"all clouds of a batch need the same feature width, got {sorted(widths)}")
    grid = torch.cat(grids)
    point_feats = torch.cat(fs).to(torch.get_default_dtype() if not fs[0].is_floating_point() else fs[0].dtype)
    coords, inverse = unique_grid(grid)
    counts = torch.bincount(inverse, minlength=coords.shape[0]).to(point_feats.dtype)
    vf = point_feats.new_zeros(coords.shape[0], point_feats.shape[1]).index_add_(0, inverse, point_feats)
    return SparseTensor(vf / counts[:, None], coords), inverse
