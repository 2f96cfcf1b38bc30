"""The sparse tensor type: integer voxel coordinates + features + tensor stride.

Like torchsparse, coordinates stay in units of the finest voxel grid (a voxel of a
stride-4 tensor has coordinates that are multiples of 4), and every tensor derived
from one input shares a :class:`SparseCache` so coordinate sets and kernel maps are
built once per forward pass and reused by every layer (and by the U-Net decoder).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["SparseTensor", "SparseCache"]


@dataclass
class SparseCache:
    """Coordinates per tensor stride and kernel maps, shared along a forward pass."""

    coords: dict[int, torch.Tensor] = field(default_factory=dict)
    kmaps: dict[tuple, Any] = field(default_factory=dict)
    hashes: dict[int, Any] = field(default_factory=dict)


def _first_row(bad: torch.Tensor) -> int:
    return int(bad.nonzero()[0, 0])


def _check_values(feats: torch.Tensor, coords: torch.Tensor, stride: int) -> None:
    """Values that would give silently wrong results downstream (a negative batch index
    indexes from the end, an off-grid voxel has no neighbours, NaN spreads)."""
    if not len(coords):
        return
    if bool((coords[:, 0] < 0).any()):
        i = _first_row(coords[:, 0] < 0)
        raise ValueError(f"coords[:, 0] is the batch index and must be >= 0; row {i} has {int(coords[i, 0])}")
    if stride > 1 and bool((coords[:, 1:] % stride != 0).any()):
        i = _first_row((coords[:, 1:] % stride != 0).any(1))
        raise ValueError(f"a stride-{stride} tensor has coordinates that are multiples of {stride} (finest-grid "
                         f"units); row {i} is {coords[i].tolist()}")
    if not bool(torch.isfinite(feats).all()):
        i = _first_row(~torch.isfinite(feats).all(1))
        raise ValueError(f"feats contain NaN/inf values (first at row {i})")


class SparseTensor:
    """Voxels of a batch of point clouds.

    Attributes:
        coords: ``[N, 4]`` int64, columns ``batch, x, y, z`` (finest-grid units).
        feats: ``[N, C]`` floating features, one row per voxel.
        stride: the tensor stride (1 at input resolution, 2 after one downsampling ...).
        cache: coordinate sets and kernel maps shared with related tensors.
    """

    __slots__ = ("coords", "feats", "stride", "cache")

    def __init__(
        self,
        feats: torch.Tensor,
        coords: torch.Tensor,
        stride: int = 1,
        cache: SparseCache | None = None,
    ) -> None:
        if coords.dim() != 2 or coords.shape[1] != 4:
            raise ValueError(
                f"coords must have shape [N, 4] (batch, x, y, z), got {tuple(coords.shape)}"
            )
        if coords.dtype not in (torch.int32, torch.int64):
            raise TypeError(f"coords must be an integer tensor, got {coords.dtype}")
        if feats.dim() != 2 or feats.shape[0] != coords.shape[0]:
            raise ValueError(
                f"feats must have shape [N, C] with N = {coords.shape[0]} rows like coords, "
                f"got {tuple(feats.shape)}"
            )
        if not feats.is_floating_point():
            raise TypeError(f"feats must be floating point, got {feats.dtype}")
        if not (isinstance(stride, numbers.Integral) and stride >= 1):
            raise ValueError(f"stride must be an int >= 1 (1 at input resolution), got {stride!r}")
        if cache is None:  # built by hand or by voxelize; derived tensors share the cache of one checked input
            _check_values(feats, coords, int(stride))
        self.coords = coords.long()
        self.feats = feats
        self.stride = int(stride)
        self.cache = cache if cache is not None else SparseCache()
        cached = self.cache.coords.setdefault(self.stride, self.coords)
        if cached is not self.coords and cached.shape != self.coords.shape:
            raise ValueError(
                f"the shared cache already holds {cached.shape[0]} voxels at stride {self.stride}, "
                f"not these {self.coords.shape[0]}: build a fresh SparseTensor without cache="
            )

    # -- conveniences -----------------------------------------------------------------
    @property
    def num_voxels(self) -> int:
        return self.coords.shape[0]

    @property
    def num_channels(self) -> int:
        return self.feats.shape[1]

    @property
    def batch_size(self) -> int:
        return int(self.coords[:, 0].max().item()) + 1 if self.num_voxels else 0

    @property
    def device(self) -> torch.device:
        return self.feats.device

    def replace(self, feats: torch.Tensor) -> "SparseTensor":
        """Same voxels and cache, new features (for BN, activations, linear heads)."""
        return SparseTensor(feats, self.coords, self.stride, self.cache)

    def to(self, device: torch.device | str) -> "SparseTensor":
        """Move to a device; the cache is rebuilt there (kernel maps are cheap to redo)."""
        return SparseTensor(self.feats.to(device), self.coords.to(device), self.stride, SparseCache())  # checked

    def dense(self, spatial_shape: tuple[int, int, int] | None = None) -> torch.Tensor:
        """``[B, C, X, Y, Z]`` dense grid at this stride, origin at grid cell 0.

        For tests and small figures; coordinates must be non-negative.
        """
        xyz = torch.div(self.coords[:, 1:], self.stride, rounding_mode="floor")
        if self.num_voxels and bool((xyz < 0).any()):
            raise ValueError("dense() needs non-negative coordinates; shift the cloud first")
        if spatial_shape is None:
            spatial_shape = tuple((xyz.max(0).values + 1).tolist())
        out = self.feats.new_zeros(self.batch_size, self.num_channels, *spatial_shape)
        out[self.coords[:, 0], :, xyz[:, 0], xyz[:, 1], xyz[:, 2]] = self.feats
        return out

    def __repr__(self) -> str:
        return (
            f"SparseTensor(voxels={self.num_voxels}, channels={self.num_channels}, "
            f"stride={self.stride}, batch={self.batch_size}, device={self.device})"
        )
