"""Optional torchsparse acceleration, used only when it is installed and on CUDA.

i2p's engine is plain PyTorch everywhere. When ``torchsparse`` (conda-forge; not on
PyPI) imports and tensors live on a GPU, coordinate lookups for large scans (too big for
a dense lookup table) go through torchsparse's GPU hash table (``sphashquery``) instead
of sorting + binary search. Results are identical; only speed differs. Set
``I2P_SPARSE_BACKEND=torch`` to disable it.
"""
from __future__ import annotations

import functools
import os
from typing import Callable

import torch

__all__ = ["torchsparse_query", "backend_name"]


@functools.lru_cache(maxsize=1)
def _load() -> Callable | None:
    if os.environ.get("I2P_SPARSE_BACKEND", "auto") == "torch":
        return None
    try:
        from torchsparse.nn.functional import sphashquery  # type: ignore[import-not-found]
    except Exception:  # not installed, or built without CUDA
        return None
    return sphashquery


def torchsparse_query(device: torch.device) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
    """``sphashquery(queries, references) -> rows or -1`` on CUDA when available."""
    return _load() if device.type == "cuda" else None


def backend_name() -> str:
    if _load() is None:
        return "torch (plain PyTorch gather-GEMM-scatter)"
    return "torch + torchsparse hash lookups on CUDA"
