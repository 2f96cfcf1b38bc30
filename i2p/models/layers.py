"""The paper's family-independent layers (Appendix 6.4, Listings 1-6).

Every inflated model is ``input_layer`` -> ``backbone`` (the stages inflated from a 2D
network; one module per family) -> ``output_layer``. The input layers, the task heads
and the U-Net decoder do not depend on the 2D family, so they live here:

- :class:`InputLayer` -- Listing 3 (three 3^3 convs, the last with stride 2) or Listing 5
  (one 3^3 conv + BN, ``head="linear"``);
- :class:`InflatedEncoder` -- input layer + a family's stages, ``encode`` returns every
  resolution the decoder needs;
- :class:`ClsHead` -- Listing 3 (GAP, FC 1024, BN, ReLU, FC) or Listing 5 (GAP, FC, BN);
- :class:`UNetDecoder` -- Listing 4 (residual blocks) or Listing 6 (conv + BN).

Listing 1's linear network without backbone is :mod:`i2p.models.linear`.
"""
from __future__ import annotations

from typing import Iterable, Literal, Sequence

import torch
from torch import nn

from ..sparse import SparseTensor
from ..sparse import functional as spF
from ..sparse import nn as spnn
from .blocks import conv_bn

__all__ = ["Head", "HEADS", "InputLayer", "InflatedEncoder", "ClsHead", "UNetDecoder"]

Head = Literal["default", "linear"]
HEADS: tuple[str, ...] = ("default", "linear")


class InputLayer(nn.Module):
    """Listing 3: three 3^3 convs + BN + ReLU, the last with stride 2 (``head="default"``);
    Listing 5: one 3^3 conv + BN (``head="linear"``). ``skip`` keeps the last stride-1
    features for the segmentation decoder's final skip connection."""

    def __init__(self, in_channels: int, width: int, linear: bool) -> None:
        super().__init__()
        self.linear = linear
        if linear:
            self.stem = nn.Sequential(spnn.Conv3d(in_channels, width, 3, 1), spnn.BatchNorm(width))
            self.down = spnn.Identity()
        else:
            self.stem = nn.Sequential(conv_bn(in_channels, width), conv_bn(width, width))
            self.down = conv_bn(width, width, 3, 2)

    def forward(self, x: SparseTensor) -> tuple[SparseTensor, SparseTensor]:
        skip = self.stem(x)
        return self.down(skip), skip


class InflatedEncoder(nn.Module):
    """The paper's input layer followed by the stages inflated from a 2D network; every
    family (ResNet, EfficientNet-Lite) derives from it and adds a task head."""

    def __init__(self, arch: str, in_channels: int, head: Head, stem_width: int) -> None:
        super().__init__()
        if head not in ("default", "linear"):
            raise ValueError(f"head must be 'default' or 'linear', got {head!r}")
        if in_channels < 1:
            raise ValueError(f"in_channels must be >= 1, got {in_channels}")
        if stem_width < 1:
            raise ValueError(f"stem_width must be >= 1, got {stem_width}")
        self.arch, self.in_channels, self.head, self.stem_width = arch, in_channels, head, stem_width
        self.input_layer = InputLayer(in_channels, stem_width, linear=head == "linear")

    def stages(self) -> Iterable[nn.Module]:
        """The 2D-derived stages in order (``self.backbone``'s children)."""
        raise NotImplementedError

    def encode(self, x: SparseTensor) -> list[SparseTensor]:
        """``[skip (stride 1), x_i, stage outputs...]``."""
        if x.num_channels != self.in_channels:
            raise ValueError(
                f"model expects {self.in_channels} input channels per voxel, got {x.num_channels} "
                "(3 = xyz, 6 = xyz+rgb, 4 = xyz+intensity)"
            )
        x_i, skip = self.input_layer(x)
        feats = [skip, x_i]
        for stage in self.stages():
            feats.append(stage(feats[-1]))
        return feats


class ClsHead(nn.Module):
    """Listing 3: GAP -> FC 1024 -> BN -> ReLU -> FC; Listing 5 (linear): GAP -> FC -> BN."""

    def __init__(self, c_in: int, num_classes: int, linear: bool) -> None:
        super().__init__()
        self.pool = spnn.GlobalAvgPool()
        if linear:
            self.mlp = nn.Sequential(nn.Linear(c_in, num_classes), nn.BatchNorm1d(num_classes))
        else:
            self.mlp = nn.Sequential(
                nn.Linear(c_in, 1024), nn.BatchNorm1d(1024), nn.ReLU(True), nn.Linear(1024, num_classes)
            )

    def forward(self, x: SparseTensor) -> torch.Tensor:
        return self.mlp(self.pool(x))


class UNetDecoder(nn.Module):
    """Listing 4 (residual blocks) / Listing 6 (conv + BN): transposed k2 s2 upsampling and
    skip concatenation, ending at the input resolution with a per-voxel linear classifier.

    Generic over the encoder: ``deep_width`` is the width of the deepest features,
    ``skip_widths`` the widths of the skips, coarse to fine, one decoder stage each.
    Stage ``i`` upsamples by 2 (transposed k2 s2 conv, same width) when ``upsample[i]``
    (default: every stage), concatenates skip ``i`` and fuses the two with two ``block``
    modules (default head) or one 3^3 conv + BN (``linear``). Stage ``i`` outputs
    ``skip_widths[i]`` channels, except the last, which keeps the width of the stage
    before it (the classifier reads the finest encoder stage's width, not the input
    layer's). So skip ``i`` must sit at half the stride of the previous output when
    ``upsample[i]``, at the same stride otherwise (``spF.cat`` raises on a mismatch).

    ResNets (:class:`SparseResNetSeg`): deepest ``x4``, skips ``x3, x2, x1, skip``.
    Listings 4/6 concatenate the input layer's output at the last stage; at stride 1 the
    only such features are the input layer's stride-1 ones (``skip``), so the last stage
    uses those. With the linear input layer (no stride-2 conv) ``layer1`` already runs at
    stride 1, so its last stage fuses ``skip`` without upsampling
    (``upsample=[True, True, True, False]``).
    """

    def __init__(
        self,
        deep_width: int,
        skip_widths: Sequence[int],
        num_classes: int,
        block: type[nn.Module],
        linear: bool,
        upsample: Sequence[bool] | None = None,
    ) -> None:
        super().__init__()
        skip_widths = list(skip_widths)
        if not skip_widths:
            raise ValueError("UNetDecoder needs at least one skip")
        upsample = [True] * len(skip_widths) if upsample is None else list(upsample)
        if len(upsample) != len(skip_widths):
            raise ValueError(f"{len(skip_widths)} skips but {len(upsample)} upsample flags")
        self.linear = linear
        self.skip_widths, self.upsample = skip_widths, upsample
        out_widths = skip_widths[:-1] + [skip_widths[-2] if len(skip_widths) > 1 else deep_width]
        self.ups, self.decoders = nn.ModuleList(), nn.ModuleList()
        c_up = deep_width
        for c_skip, c_out, up in zip(skip_widths, out_widths, upsample):
            self.ups.append(spnn.Conv3d(c_up, c_up, 2, 2, transposed=True) if up else spnn.Identity())
            c_in = c_up + c_skip
            if linear:
                self.decoders.append(nn.Sequential(spnn.Conv3d(c_in, c_out, 3, 1), spnn.BatchNorm(c_out)))
            else:
                exp = getattr(block, "expansion", 1)
                self.decoders.append(nn.Sequential(block(c_in, c_out // exp), block(c_out, c_out // exp)))
            c_up = c_out
        self.classifier = nn.Linear(c_up, num_classes)

    def forward(self, deep: SparseTensor, skips: Sequence[SparseTensor]) -> SparseTensor:
        """``deep``: the deepest features; ``skips``: coarse to fine, the last at the input voxels."""
        if len(skips) != len(self.decoders):
            raise ValueError(f"decoder has {len(self.decoders)} stages, got {len(skips)} skips")
        y = deep
        for up, dec, s in zip(self.ups, self.decoders, skips):
            y = dec(spF.cat(s, up(y)))
        return y.replace(self.classifier(y.feats))
