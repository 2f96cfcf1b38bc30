"""Sparse residual blocks named exactly like torchvision's, so 2D keys map 1:1."""
from __future__ import annotations

import torch
from torch import nn

from ..sparse import SparseTensor
from ..sparse import nn as spnn

__all__ = ["BasicBlock", "Bottleneck", "conv_bn", "shortcut"]


def conv_bn(c_in: int, c_out: int, k: int = 3, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [spnn.Conv3d(c_in, c_out, k, stride), spnn.BatchNorm(c_out)]
    if relu:
        layers.append(spnn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def shortcut(c_in: int, c_out: int, stride: int) -> nn.Sequential | None:
    """ResNet projection shortcut. A 2D 1x1 stride-2 conv becomes a kernel-2 stride-2
    sparse conv (all 8 offsets hold the inflated 1x1 weight, as the official code does):
    a kernel-1 stride-2 sparse conv would read only the coarse corner voxel, often empty."""
    if stride == 1 and c_in == c_out:
        return None
    k = 2 if stride == 2 else 1
    return nn.Sequential(spnn.Conv3d(c_in, c_out, k, stride), spnn.BatchNorm(c_out))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = spnn.Conv3d(c_in, planes, 3, stride)
        self.bn1 = spnn.BatchNorm(planes)
        self.conv2 = spnn.Conv3d(planes, planes, 3, 1)
        self.bn2 = spnn.BatchNorm(planes)
        self.relu = spnn.ReLU(inplace=True)
        self.downsample = shortcut(c_in, planes, stride)

    def forward(self, x: SparseTensor) -> SparseTensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        idt = x if self.downsample is None else self.downsample(x)
        return out.replace(torch.relu(out.feats + idt.feats))


class Bottleneck(nn.Module):
    """torchvision's ResNet v1.5 bottleneck: the stride sits on the 3x3 conv."""

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = spnn.Conv3d(c_in, planes, 1, 1)
        self.bn1 = spnn.BatchNorm(planes)
        self.conv2 = spnn.Conv3d(planes, planes, 3, stride)
        self.bn2 = spnn.BatchNorm(planes)
        self.conv3 = spnn.Conv3d(planes, planes * 4, 1, 1)
        self.bn3 = spnn.BatchNorm(planes * 4)
        self.relu = spnn.ReLU(inplace=True)
        self.downsample = shortcut(c_in, planes * 4, stride)

    def forward(self, x: SparseTensor) -> SparseTensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        idt = x if self.downsample is None else self.downsample(x)
        return out.replace(torch.relu(out.feats + idt.feats))
