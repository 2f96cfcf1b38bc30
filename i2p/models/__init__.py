"""Model builders (one per family, uniform arguments) and 2D weight loading."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from torch import nn

from .efficientnet import EFFICIENTNET_LITE_SPECS, SparseEfficientNetCls, SparseEfficientNetSeg
from .pretrained import LoadReport, load_pretrained_2d, read_state_dict
from .resnet import RESNET_SPECS, STEM_WIDTH, LinearNet, SparseResNetCls, SparseResNetSeg

__all__ = [
    "create_model",
    "list_models",
    "load_pretrained_2d",
    "read_state_dict",
    "LoadReport",
    "SparseResNetCls",
    "SparseResNetSeg",
    "SparseEfficientNetCls",
    "SparseEfficientNetSeg",
    "LinearNet",
]

Task = Literal["cls", "seg"]


def list_models() -> list[str]:
    return sorted(RESNET_SPECS) + ["linear_net"]


def create_model(
    name: str,
    num_classes: int,
    task: Task = "cls",
    in_channels: int = 3,
    head: Literal["default", "linear"] = "default",
    pretrained: str | Path | dict | None = None,
    stem_width: int | None = None,
    **load_kwargs,
) -> nn.Module:
    """Build an inflated sparse model.

    ``name``: ``resnet18/34/50/101/152``, ``efficientnet_lite0/1/2``
    or ``linear_net`` (Listing 1, classification only). ``task``: ``cls`` (Listings 3/5)
    or ``seg`` (Listings 4/6). ``pretrained``: a 2D state dict or its path (torchvision
    layout for ResNets, timm layout for EfficientNet-Lite, see ``i2p.weights``), inflated
    into the backbone; extra
    keyword arguments go to :func:`load_pretrained_2d` (``transform``, ``learnable`` ...).
    The load report is kept as ``model.load_report``.

    ``stem_width`` (ResNets only, default 64): the channels ``layer1`` receives, which is
    also the input layer's width. 128 for deep-stem segmentation encoders
    (``resnet18.cityscapes``, ``resnet18.ade20k`` in :mod:`i2p.weights`).
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if task not in ("cls", "seg"):
        raise ValueError(f"task must be 'cls' or 'seg', got {task!r}")
    if name == "linear_net":
        if task != "cls" or pretrained is not None or stem_width is not None:
            raise ValueError(
                "linear_net is the classification baseline without backbone: no seg, no weights, no stem_width"
            )
        return LinearNet(num_classes, in_channels)
    if name in EFFICIENTNET_LITE_SPECS:
        if stem_width is not None:
            raise ValueError(f"stem_width only applies to ResNets, not {name}")
        cls = SparseEfficientNetCls if task == "cls" else SparseEfficientNetSeg
    elif name in RESNET_SPECS:
        cls = SparseResNetCls if task == "cls" else SparseResNetSeg
    else:
        raise ValueError(f"unknown model {name!r}; available: {list_models() + sorted(EFFICIENTNET_LITE_SPECS)}")
    if cls in (SparseEfficientNetCls, SparseEfficientNetSeg):
        model = cls(name, num_classes, in_channels, head)
    else:
        model = cls(name, num_classes, in_channels, head, stem_width=STEM_WIDTH if stem_width is None else stem_width)
    model.load_report = None
    if pretrained is not None:
        model.load_report = load_pretrained_2d(model, pretrained, **load_kwargs)
    elif load_kwargs:
        raise ValueError(f"{sorted(load_kwargs)} only apply with pretrained weights")
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
