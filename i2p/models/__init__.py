"""Inflated sparse models: one module per family (``resnet``, ``efficientnet``,
``linear``) registered in :mod:`.registry`, the paper's family-independent layers in
:mod:`.layers`, 2D weight loading in :mod:`.pretrained`, building in :mod:`.factory`."""
from __future__ import annotations

from torch import nn

from .efficientnet import EFFICIENTNET_LITE_SPECS, SparseEfficientNetCls, SparseEfficientNetSeg
from .layers import ClsHead, InflatedEncoder, InputLayer, UNetDecoder
from .linear import LinearNet
from ..weights import read_state_dict
from .factory import create_model, load_weights
from .pretrained import LoadReport, load_pretrained_2d
from .registry import ModelFamily, families, family_of, list_models
from .resnet import RESNET_SPECS, SparseResNetCls, SparseResNetSeg

__all__ = [
    "create_model",
    "load_weights",
    "list_models",
    "family_of",
    "families",
    "ModelFamily",
    "count_parameters",
    "load_pretrained_2d",
    "read_state_dict",
    "LoadReport",
    "InputLayer",
    "InflatedEncoder",
    "ClsHead",
    "UNetDecoder",
    "SparseResNetCls",
    "SparseResNetSeg",
    "SparseEfficientNetCls",
    "SparseEfficientNetSeg",
    "LinearNet",
    "RESNET_SPECS",
    "EFFICIENTNET_LITE_SPECS",
]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
