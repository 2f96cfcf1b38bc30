"""``nn`` modules over :mod:`i2p.sparse.functional` (torchsparse-style)."""
from __future__ import annotations

import math

import torch
from torch import nn

from . import functional as F
from .tensor import SparseTensor

__all__ = ["Conv3d", "BatchNorm", "ReLU", "ReLU6", "GlobalAvgPool", "Identity"]


class Conv3d(nn.Module):
    """Sparse 3D conv; ``weight`` is ``[kernel_size**3, in/groups... , out]``.

    ``groups`` is 1 (dense channels) or equal to the channel count (depthwise, the
    EfficientNet case). ``transposed`` upsamples to the cached finer voxels.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        bias: bool = False,
        transposed: bool = False,
        groups: int = 1,
    ) -> None:
        super().__init__()
        if groups not in (1, in_channels) or (groups != 1 and in_channels != out_channels):
            raise ValueError("groups must be 1 or equal to in_channels == out_channels (depthwise)")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.transposed = kernel_size, stride, transposed
        self.depthwise = groups != 1
        kv = kernel_size**3
        shape = (kv, in_channels) if self.depthwise else (kv, in_channels, out_channels)
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        fan_in = self.kernel_size**3 * (1 if self.depthwise else self.in_channels)
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: SparseTensor) -> SparseTensor:
        if x.num_channels != self.in_channels:
            raise ValueError(
                f"{self.__class__.__name__} expects {self.in_channels} input channels, got {x.num_channels}"
            )
        return F.conv3d(x, self.weight, self.kernel_size, self.stride, self.bias, self.transposed, self.depthwise)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.transposed:
            s += ", transposed=True"
        if self.depthwise:
            s += ", depthwise=True"
        if self.bias is None:
            s += ", bias=False"
        return s


class BatchNorm(nn.BatchNorm1d):
    """BatchNorm over voxels: statistics pooled over all voxels of the batch."""

    def forward(self, x: SparseTensor) -> SparseTensor:  # type: ignore[override]
        return x.replace(super().forward(x.feats))


class ReLU(nn.ReLU):
    def forward(self, x: SparseTensor) -> SparseTensor:  # type: ignore[override]
        return x.replace(super().forward(x.feats))


class ReLU6(nn.ReLU6):
    def forward(self, x: SparseTensor) -> SparseTensor:  # type: ignore[override]
        return x.replace(super().forward(x.feats))


class Identity(nn.Module):
    def forward(self, x: SparseTensor) -> SparseTensor:
        return x


class GlobalAvgPool(nn.Module):
    """``SparseTensor -> [B, C]`` per-sample mean."""

    def forward(self, x: SparseTensor) -> torch.Tensor:
        return F.global_avg_pool(x)
