"""Functional sparse ops: conv3d, pooling, concatenation. ``nn`` modules wrap these."""
from __future__ import annotations

import torch

from .kmap import get_kernel_map
from .ops import sparse_conv_apply
from .tensor import SparseTensor

__all__ = ["conv3d", "global_avg_pool", "cat", "point_features"]


def conv3d(
    x: SparseTensor,
    weight: torch.Tensor,
    kernel_size: int,
    stride: int = 1,
    bias: torch.Tensor | None = None,
    transposed: bool = False,
    depthwise: bool = False,
) -> SparseTensor:
    """Sparse 3D convolution.

    - ``stride == 1``: submanifold (output voxels = input voxels).
    - ``stride > 1``: downsampling to ``floor(c / s) * s`` voxels (see ``downsample_coords``).
    - ``transposed``: upsampling back to the cached finer voxels this tensor came from.

    ``weight``: ``[kernel_size**3, C_in, C_out]`` (``[kernel_size**3, C]`` if ``depthwise``).
    """
    if x.num_voxels == 0:
        raise ValueError("sparse conv got a tensor with no voxels (is the point cloud empty?)")
    kv, c_in = kernel_size**3, x.num_channels
    if weight.dim() != (2 if depthwise else 3) or tuple(weight.shape[:2]) != (kv, c_in):
        layout = f"[{kv}, {c_in}]" if depthwise else f"[{kv}, {c_in}, C_out]"
        raise ValueError(
            f"conv3d weight of shape {tuple(weight.shape)} does not fit a tensor with {c_in} "
            f"channels and kernel_size {kernel_size}: expected {layout}"
        )
    kmap, out_coords, out_stride = get_kernel_map(x, kernel_size, stride, transposed)
    feats = sparse_conv_apply(x.feats, weight, kmap, depthwise)
    if bias is not None:
        feats = feats + bias.to(feats.dtype)  # a float32 bias must not widen low-precision features
    return SparseTensor(feats, out_coords, out_stride, x.cache)


def global_avg_pool(x: SparseTensor, batch_size: int | None = None) -> torch.Tensor:
    """``[B, C]`` mean of each sample's voxel features, summed in float32 (or wider) even
    when the features are bfloat16/float16: thousands of voxels per sample."""
    b = x.coords[:, 0]
    n = batch_size if batch_size is not None else x.batch_size
    feats = x.feats if x.feats.dtype.itemsize >= 4 else x.feats.float()
    sums = feats.new_zeros(n, x.num_channels).index_add_(0, b, feats)
    counts = torch.bincount(b, minlength=n).clamp_(min=1).to(feats.dtype)
    return sums / counts[:, None]


def cat(*tensors: SparseTensor) -> SparseTensor:
    """Concatenate features of tensors on the same voxels (U-Net skips)."""
    first = tensors[0]
    for t in tensors[1:]:
        if t.stride != first.stride or t.num_voxels != first.num_voxels:
            raise ValueError(
                f"cat needs tensors on the same voxels; got stride {first.stride} with "
                f"{first.num_voxels} voxels and stride {t.stride} with {t.num_voxels}"
            )
    return first.replace(torch.cat([t.feats for t in tensors], dim=1))


def point_features(x: SparseTensor, point_to_voxel: torch.Tensor) -> torch.Tensor:
    """Per-point rows of voxel features (devoxelization by the voxelizer's inverse map)."""
    return x.feats[point_to_voxel]
