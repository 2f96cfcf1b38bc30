"""Listing 1: the linear network without backbone, the control that shows what the
inflated backbone adds (Table 1, "linear network (w/o backbone)"). It takes no 2D weights."""
from __future__ import annotations

import torch
from torch import nn

from ..sparse import SparseTensor
from ..sparse import nn as spnn
from .layers import ClsHead, Head
from .registry import ModelFamily

__all__ = ["LinearNet", "FAMILY"]


class LinearNet(nn.Module):
    """Listing 1, "linear network (w/o backbone)": one 3^3 conv to 512 channels + BN, then
    GAP -> FC -> BN. The baseline that shows what the pretrained backbone adds."""

    def __init__(self, num_classes: int, in_channels: int = 3, width: int = 512) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.input_layer = nn.Sequential(spnn.Conv3d(in_channels, width, 3, 1), spnn.BatchNorm(width))
        self.backbone = nn.ModuleDict()
        self.output_layer = ClsHead(width, num_classes, linear=True)

    def forward(self, x: SparseTensor) -> torch.Tensor:
        return self.output_layer(self.input_layer(x))


def build(arch: str, task: str, num_classes: int, in_channels: int, head: Head, stem_width: int | None) -> nn.Module:
    if task != "cls" or head != "default" or stem_width is not None:
        raise ValueError("linear_net is Listing 1's classification baseline: task 'cls' only, no head or stem_width option")
    return LinearNet(num_classes, in_channels)


FAMILY = ModelFamily(
    name="linear",
    title="linear network (Listing 1)",
    archs=("linear_net",),
    build=build,
    layouts={},
    takes_weights=False,
)
