"""Collation of point-cloud samples into a voxelized sparse batch.

A sample is a dict with ``points`` ``[N, 3]`` float, optional ``feats`` ``[N, C]``
(defaults to xyz) and ``label``: an int (classification) or ``[N]`` int64 per-point
labels (segmentation).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Sequence

import torch

from ..sparse import SparseTensor, voxelize

__all__ = ["Batch", "collate_clouds", "collator"]


@dataclass
class Batch:
    """A voxelized batch: model input, labels, and the voxel of every point."""

    x: SparseTensor
    labels: torch.Tensor  # [B] (cls) or [sum N] per point (seg)
    point_to_voxel: torch.Tensor
    points_per_cloud: list[int]

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(self.x.to(device), self.labels.to(device), self.point_to_voxel.to(device), self.points_per_cloud)


def collate_clouds(samples: Sequence[dict], voxel_size: float) -> Batch:
    if len(samples) == 0:
        raise ValueError("cannot collate an empty batch")
    clouds = [(s["points"], s.get("feats")) for s in samples]
    x, p2v = voxelize(clouds, voxel_size)
    labels = [torch.as_tensor(s["label"]) for s in samples]
    if labels[0].dim() == 0:
        y = torch.stack(labels).long()
    else:
        for i, (s, lab) in enumerate(zip(samples, labels)):
            if lab.shape[0] != s["points"].shape[0]:
                raise ValueError(f"sample {i}: {lab.shape[0]} labels for {s['points'].shape[0]} points")
        y = torch.cat(labels).long()
    return Batch(x, y, p2v, [s["points"].shape[0] for s in samples])


def collator(voxel_size: float) -> Callable[[Sequence[dict]], Batch]:
    """A picklable ``collate_fn`` for ``torch.utils.data.DataLoader``."""
    return partial(collate_clouds, voxel_size=voxel_size)
