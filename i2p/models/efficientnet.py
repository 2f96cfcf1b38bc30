"""Sparse EfficientNet-Lite0/1/2 with the paper's input and output layers.

The backbone mirrors timm's ``efficientnet_lite*`` ``blocks`` module for module
(``blocks.<stage>.<block>.conv_dw`` / ``conv_pw`` / ``conv_pwl`` / ``bn1..bn3``), so a
timm-layout ImageNet state dict (``i2p.models.load_weights("efficientnet_lite0.imagenet1k")``)
lands by name after inflation (see ``i2p.models.pretrained``): 3x3 / 5x5 depthwise convs
become 3^3 / 5^3 depthwise sparse convs (strided where timm's are), 1x1 convs become
1x1x1 convs. timm's stem (``conv_stem``/``bn1``) and head (``conv_head``/``bn2``/
``classifier``) are not transferred, exactly as torchvision's ResNet stem and ``fc``:
the paper's input layer (width 32 = the first block's input) and classification head
replace them.

Lite = EfficientNet without squeeze-excitation and with ReLU6; stage layout and the
per-variant width/depth multipliers follow timm's ``_gen_efficientnet_lite``
(``fix_first_last``: the first and last stage keep one block; ``fix_stem``: 32 wide).

Resolutions: the default input layer ends with a stride-2 conv, so the seven stages run
at strides 2, 4, 8, 16, 16, 32, 32 (finest voxel = 1), as in the 2D network.

Segmentation (:class:`SparseEfficientNetSeg`): the generic U-Net decoder
(``layers.UNetDecoder``) with one transposed k2 s2 up-stage per stride change, from the
last stage (stride 32) to 16, 8, 4, 2 and 1, concatenating the last stage output at each
stride and finally the input layer's stride-1 features.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import torch
from torch import nn

from ..sparse import SparseTensor
from ..sparse import nn as spnn
from .blocks import BasicBlock
from .layers import ClsHead, Head, InflatedEncoder, UNetDecoder
from .registry import ModelFamily

__all__ = [
    "EFFICIENTNET_LITE_SPECS",
    "StageSpec",
    "lite_stages",
    "lite_stage_depths",
    "DepthwiseSeparable",
    "InvertedResidual",
    "SparseEfficientNetCls",
    "SparseEfficientNetSeg",
    "decoder_taps",
    "efficientnet_to_timm",
    "FAMILY",
]

#: timm's ``_gen_efficientnet_lite`` arch_def: (block, repeats, kernel, stride, expansion, channels)
LITE_ARCH_DEF: tuple[tuple[str, int, int, int, int, int], ...] = (
    ("ds", 1, 3, 1, 1, 16),
    ("ir", 2, 3, 2, 6, 24),
    ("ir", 2, 5, 2, 6, 40),
    ("ir", 3, 3, 2, 6, 80),
    ("ir", 3, 5, 1, 6, 112),
    ("ir", 4, 5, 2, 6, 192),
    ("ir", 1, 3, 1, 6, 320),
)
#: (channel multiplier, depth multiplier), as timm's ``efficientnet_lite0/1/2``
EFFICIENTNET_LITE_SPECS: dict[str, tuple[float, float]] = {
    "efficientnet_lite0": (1.0, 1.0),
    "efficientnet_lite1": (1.0, 1.1),
    "efficientnet_lite2": (1.1, 1.2),
}
STEM_WIDTH = 32  # fix_stem: not scaled by the channel multiplier


@dataclass(frozen=True)
class StageSpec:
    block: str  # "ds" (depthwise separable) or "ir" (inverted residual / MBConv)
    depth: int
    kernel: int
    stride: int  # of the stage's first block
    expansion: int
    channels: int


def make_divisible(v: float, divisor: int = 8, round_limit: float = 0.9) -> int:
    """timm's channel rounding: nearest multiple of ``divisor``, never 10% below ``v``."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < round_limit * v else new_v


def lite_stages(arch: str) -> list[StageSpec]:
    """The seven stages of ``arch`` after width/depth scaling."""
    if arch not in EFFICIENTNET_LITE_SPECS:
        raise ValueError(f"unknown EfficientNet-Lite {arch!r}; choose one of {sorted(EFFICIENTNET_LITE_SPECS)}")
    width, depth = EFFICIENTNET_LITE_SPECS[arch]
    last = len(LITE_ARCH_DEF) - 1
    return [
        StageSpec(b, r if i in (0, last) else int(math.ceil(r * depth)), k, s, e, make_divisible(c * width))
        for i, (b, r, k, s, e, c) in enumerate(LITE_ARCH_DEF)
    ]


def lite_stage_depths(arch: str) -> tuple[int, ...]:
    """Blocks per stage, e.g. ``(1, 2, 2, 3, 3, 4, 1)`` for lite0."""
    return tuple(s.depth for s in lite_stages(arch))


class DepthwiseSeparable(nn.Module):
    """timm's ``DepthwiseSeparableConv`` without SE: dw conv, BN, ReLU6, 1x1 conv, BN."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.conv_dw = spnn.Conv3d(c_in, c_in, kernel, stride, groups=c_in)
        self.bn1 = spnn.BatchNorm(c_in)
        self.conv_pw = spnn.Conv3d(c_in, c_out, 1)
        self.bn2 = spnn.BatchNorm(c_out)
        self.act = spnn.ReLU6(inplace=True)
        self.has_skip = stride == 1 and c_in == c_out

    def forward(self, x: SparseTensor) -> SparseTensor:
        out = self.act(self.bn1(self.conv_dw(x)))
        out = self.bn2(self.conv_pw(out))
        return out.replace(out.feats + x.feats) if self.has_skip else out


class InvertedResidual(nn.Module):
    """timm's ``InvertedResidual`` (MBConv) without SE: 1x1 expansion, BN, ReLU6, dw conv
    (carries the stride), BN, ReLU6, linear 1x1 projection, BN; residual when stride 1
    and ``c_in == c_out``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expansion: int) -> None:
        super().__init__()
        mid = make_divisible(c_in * expansion)
        self.conv_pw = spnn.Conv3d(c_in, mid, 1)
        self.bn1 = spnn.BatchNorm(mid)
        self.conv_dw = spnn.Conv3d(mid, mid, kernel, stride, groups=mid)
        self.bn2 = spnn.BatchNorm(mid)
        self.conv_pwl = spnn.Conv3d(mid, c_out, 1)
        self.bn3 = spnn.BatchNorm(c_out)
        self.act = spnn.ReLU6(inplace=True)
        self.has_skip = stride == 1 and c_in == c_out

    def forward(self, x: SparseTensor) -> SparseTensor:
        out = self.act(self.bn1(self.conv_pw(x)))
        out = self.act(self.bn2(self.conv_dw(out)))
        out = self.bn3(self.conv_pwl(out))
        return out.replace(out.feats + x.feats) if self.has_skip else out


class LiteBlocks(nn.Module):
    """The transferred part: ``blocks`` as in timm (stages of blocks), named identically."""

    def __init__(self, arch: str) -> None:
        super().__init__()
        stages, self.widths, c_in = [], [], STEM_WIDTH
        for st in lite_stages(arch):
            blocks: list[nn.Module] = []
            for j in range(st.depth):
                stride = st.stride if j == 0 else 1
                if st.block == "ds":
                    blocks.append(DepthwiseSeparable(c_in, st.channels, st.kernel, stride))
                else:
                    blocks.append(InvertedResidual(c_in, st.channels, st.kernel, stride, st.expansion))
                c_in = st.channels
            stages.append(nn.Sequential(*blocks))
            self.widths.append(c_in)
        self.blocks = nn.Sequential(*stages)


class _LiteBackbone(InflatedEncoder):
    """Input layer (Listing 3/5, width 32) + Lite blocks; subclasses add the output layer."""

    def __init__(self, arch: str, in_channels: int, head: Head) -> None:
        if arch not in EFFICIENTNET_LITE_SPECS:
            raise ValueError(f"unknown EfficientNet-Lite {arch!r}; choose one of {sorted(EFFICIENTNET_LITE_SPECS)}")
        super().__init__(arch, in_channels, head, STEM_WIDTH)
        self.backbone = LiteBlocks(arch)
        self.widths = self.backbone.widths

    def stages(self) -> Iterable[nn.Module]:
        return self.backbone.blocks


class SparseEfficientNetCls(_LiteBackbone):
    """Inflated EfficientNet-Lite for point-cloud classification (input layer of
    Listing 3/5, Lite blocks, head of Listing 3/5). Returns ``[B, classes]``."""

    def __init__(self, arch: str, num_classes: int, in_channels: int = 3, head: Head = "default") -> None:
        super().__init__(arch, in_channels, head)
        self.output_layer = ClsHead(self.widths[-1], num_classes, linear=head == "linear")

    def forward(self, x: SparseTensor) -> torch.Tensor:
        return self.output_layer(self.encode(x)[-1])


def decoder_taps(arch: str) -> list[int]:
    """Indices of the Lite stages the U-Net decoder concatenates, coarse to fine: the last
    stage at each stride finer than the last stage's, e.g. ``[4, 2, 1, 0]`` for every
    Lite variant (strides 16, 8, 4, 2 with the default input layer)."""
    stride, last_at = 1, {}
    for i, st in enumerate(lite_stages(arch)):
        stride *= st.stride
        last_at[stride] = i
    deepest = max(last_at)
    return [last_at[s] for s in sorted(last_at, reverse=True) if s != deepest]


class SparseEfficientNetSeg(_LiteBackbone):
    """Inflated EfficientNet-Lite U-Net for point-cloud segmentation (Listings 4 and 6
    with EfficientNet-Lite as the encoder).

    The decoder is i2p's generic :class:`~i2p.models.layers.UNetDecoder` with one
    transposed k2 s2 up-stage per stride change: from the last stage (stride 32, 320 ch
    for lite0) to 16, 8, 4, 2, concatenating the last stage output at each of those
    strides (stages 4, 2, 1, 0: 112, 40, 24, 16 ch for lite0), then to stride 1,
    concatenating the input layer's stride-1 features (32 ch). Each stage outputs its
    skip's width, the last one the previous width (16 for lite0), which the per-voxel
    classifier reads.

    ``head="default"`` fuses with two ResNet ``BasicBlock`` modules per stage (i2p's
    ``blocks.BasicBlock``, Listing 4's residual blocks; the 2D Lite network has no
    decoder, so the decoder is trained from scratch as for ResNets, and a plain residual
    block serves); ``head="linear"`` with one 3^3 conv + BN (Listing 6). With the linear
    input layer (no stride-2 conv) stage 0 already runs at stride 1, so the last stage
    fuses the stride-1 skip without upsampling, as for ResNets.

    Returns a SparseTensor of per-voxel logits at the input voxels; use
    ``logits.feats[point_to_voxel]`` for per-point predictions.
    """

    def __init__(self, arch: str, num_classes: int, in_channels: int = 3, head: Head = "default") -> None:
        super().__init__(arch, in_channels, head)
        linear = head == "linear"
        self.taps = decoder_taps(arch)
        skips = [self.widths[i] for i in self.taps] + [STEM_WIDTH]
        upsample = [True] * len(self.taps) + [not linear]
        self.output_layer = UNetDecoder(self.widths[-1], skips, num_classes, BasicBlock, linear, upsample)

    def forward(self, x: SparseTensor) -> SparseTensor:
        feats = self.encode(x)
        stages = feats[2:]
        return self.output_layer(stages[-1], [stages[i] for i in self.taps] + [feats[0]])


def build(arch: str, task: str, num_classes: int, in_channels: int, head: Head, stem_width: int | None) -> nn.Module:
    if stem_width not in (None, STEM_WIDTH):
        raise ValueError(f"{arch}: the stem width is fixed at {STEM_WIDTH} (timm's fix_stem); got stem_width={stem_width}")
    cls = SparseEfficientNetCls if task == "cls" else SparseEfficientNetSeg
    return cls(arch, num_classes, in_channels, head)


# ------------------------------------------------------------------------------ 2D key layouts
# efficientnet_pytorch names -> timm names. Stage 0 is timm's DepthwiseSeparableConv (no
# expansion conv); every later block is an InvertedResidual.
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_DS = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}


def efficientnet_to_timm(sd: dict[str, torch.Tensor], arch: str) -> dict[str, torch.Tensor]:
    """Rename an ``efficientnet_pytorch``-layout EfficientNet-Lite state dict
    (``_blocks.<i>._depthwise_conv.weight``, flat block index) to timm's
    ``efficientnet_lite*`` layout (``blocks.<stage>.<j>.conv_dw.weight``). Tensors are
    not changed. A dict already in timm layout is returned as a (shallow) copy."""
    if not any(k.startswith("_") for k in sd):
        return dict(sd)
    depths = lite_stage_depths(arch)
    where = [(s, j) for s, d in enumerate(depths) for j in range(d)]
    n_blocks = len({k.split(".")[1] for k in sd if k.startswith("_blocks.")})
    if n_blocks != len(where):
        raise ValueError(
            f"checkpoint has {n_blocks} blocks, {arch} has {len(where)} (stage depths {depths}): "
            "wrong architecture for this checkpoint"
        )
    out, bad = {}, []
    for key, t in sd.items():
        parts = key.split(".")
        if parts[0] == "_blocks" and len(parts) == 4 and parts[1].isdigit():
            s, j = where[int(parts[1])]
            new = (_DS if s == 0 else _IR).get(parts[2])
            if new is None:
                bad.append(key)
                continue
            out[f"blocks.{s}.{j}.{new}.{parts[3]}"] = t
        elif len(parts) == 2 and parts[0] in _TOP:
            out[f"{_TOP[parts[0]]}.{parts[1]}"] = t
        else:
            bad.append(key)
    if bad:
        raise ValueError(f"keys not in the efficientnet_pytorch EfficientNet-Lite layout: {bad[:5]}")
    return out


FAMILY = ModelFamily(
    name="efficientnet",
    title="EfficientNet-Lite",
    archs=tuple(EFFICIENTNET_LITE_SPECS),
    build=build,
    layouts={"timm": lambda sd, arch: dict(sd), "efficientnet_pytorch": efficientnet_to_timm},
    first_transferred="blocks.0.0.conv_dw.weight",
    first_layer="conv_stem.weight",
)
