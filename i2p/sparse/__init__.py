"""i2p's sparse-voxel engine: plain PyTorch, trains on CPU and CUDA.

Layout follows torchsparse: :class:`SparseTensor` (coords + feats + stride, with
kernel maps cached on it), ``functional`` ops over one gather-GEMM-scatter kernel,
and ``nn`` modules over the functional layer.
"""
from . import functional, nn
from .kmap import KernelMap, get_kernel_map, kernel_offsets
from .tensor import SparseCache, SparseTensor
from .voxelize import check_points, voxelize

__all__ = [
    "SparseTensor",
    "SparseCache",
    "KernelMap",
    "get_kernel_map",
    "kernel_offsets",
    "voxelize",
    "check_points",
    "functional",
    "nn",
]
