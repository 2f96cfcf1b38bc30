"""A 2D segmentation network for range images whose ImageNet backbone transfers as is.

Paper §4.2 runs a pretrained 2D segmentation network on range images (HRNetV2-W48 in the
SqueezeSegV3 pipeline). :class:`RangeSegNet` is that projection-based model with the
2D network i2p ships offline: timm's ``efficientnet_lite0`` ``blocks`` (ImageNet weights
from ``i2p.models.load_weights("efficientnet_lite0.imagenet1k")``, the same checkpoint
and timm key layout as the sparse EfficientNet-Lite), between a new input layer and a
light U-Net decoder. It exposes ``input_layer`` / ``backbone`` / ``output_layer`` for
:mod:`i2p.finetune`'s scopes; ``backbone`` holds every transferred tensor (timm's stem
and classifier head are not transferred, as for the sparse models).

Strides for short, wide range images (64 x 512): the input layer replaces timm's stride-2
stem with a stride-(1, 2) conv, and of the backbone's four stride-2 stages only the first
two (stages 1 and 2) halve the height; stages 3 and 5 get depthwise convs of stride
(1, 2) -- a conv weight does not depend on its stride, so the ImageNet weights load
unchanged. The backbone thus ends at stride (4, 32): a 64 x 512 image becomes 16 x 16.
Inputs whose size is not a multiple of (4, 32) are zero-padded at the bottom / right
(zeros = empty pixels) and the logits cropped back.

As a model family (``range``, model ``range_lite0``) it is built by ``create_model`` /
``prepare_model`` for segmentation data sets with an intensity channel (SemanticKITTI):
it reads the EfficientNet-Lite0 sources (``efficientnet_lite0.imagenet1k``), tensor for
tensor (:func:`load_range`), and ``input_kind = "range"`` tells the training loop to
project every sweep with its ``projection`` and score every point (:mod:`i2p.inputs`).
It is i2p's offline stand-in for the paper's HRNetV2-W48 (Cityscapes) on range images.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..range_image import CHANNELS, RangeProjection
from ..weights import read_state_dict
from .efficientnet import STEM_WIDTH, efficientnet_to_timm, lite_stages
from .layers import Head
from .pretrained import AsIsReport, load_backbone_as_is
from .registry import ModelFamily

__all__ = ["RangeSegNet", "HEIGHT_STRIDED_STAGES", "RANGE_ARCH", "load_range", "FAMILY"]

ARCH = "efficientnet_lite0"
SOURCE = "efficientnet_lite0.imagenet1k"
#: the range-image model's name in the model registry
RANGE_ARCH = "range_lite0"
#: backbone stages whose stride 2 also halves the height; the others' stride 2 is (1, 2)
HEIGHT_STRIDED_STAGES = (1, 2)
_FULL_WIDTH = 16  # channels of the input layer's full-resolution features (the decoder's last skip)
_MIN_DECODER_WIDTH = 32


def _conv_bn(c_in: int, c_out: int, stride: tuple[int, int] = (1, 1)) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU6(inplace=True))


class RangeInputLayer(nn.Module):
    """BatchNorm of the raw channels (ranges in metres next to intensities in [0, 1]),
    a full-resolution 3x3 conv (kept as the decoder's finest skip), then a stride-(1, 2)
    3x3 conv to the ``STEM_WIDTH`` channels the backbone's first block takes (the job of
    timm's stem in the 2D network)."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.full = _conv_bn(in_channels, _FULL_WIDTH)
        self.stem = _conv_bn(_FULL_WIDTH, STEM_WIDTH, (1, 2))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        full = self.full(self.norm(x))
        return full, self.stem(full)


class RangeBackbone(nn.Module):
    """timm's ``efficientnet_lite0`` ``blocks`` (same module names, so the checkpoint's
    ``blocks.*`` tensors load by name), with the strides of the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        import timm

        self.blocks = timm.create_model(ARCH, pretrained=False).blocks
        stages = lite_stages(ARCH)
        self.widths = [s.channels for s in stages]
        self.strides: list[tuple[int, int]] = []
        h, w = 1, 2  # the input layer's stride
        for i, st in enumerate(stages):
            if st.stride == 2 and i not in HEIGHT_STRIDED_STAGES:
                self.blocks[i][0].conv_dw.stride = (1, 2)
                w *= 2
            elif st.stride == 2:
                h, w = 2 * h, 2 * w
            self.strides.append((h, w))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every stage's output, fine to coarse."""
        feats = []
        for stage in self.blocks:
            x = stage(x)
            feats.append(x)
        return feats


class RangeDecoder(nn.Module):
    """U-Net decoder: from the deepest stage, per resolution step upsample (bilinear) to
    the next finer skip, concatenate it, fuse with a 3x3 conv + BN + ReLU6 (at least
    ``_MIN_DECODER_WIDTH`` channels); the last skip is the input layer's full-resolution
    features; a 1x1 conv classifies every pixel."""

    def __init__(self, deep: int, skips: list[int], num_classes: int) -> None:
        super().__init__()
        fuse, c = [], deep
        for s in skips:
            out = max(s, _MIN_DECODER_WIDTH)
            fuse.append(_conv_bn(c + s, out))
            c = out
        self.fuse = nn.ModuleList(fuse)
        self.classifier = nn.Conv2d(c, num_classes, 1)

    def forward(self, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        for fuse, skip in zip(self.fuse, skips):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = fuse(torch.cat([x, skip], 1))
        return self.classifier(x)


class RangeSegNet(nn.Module):
    """EfficientNet-Lite0 U-Net on range images: ``[B, in_channels, H, W]`` ->
    ``[B, num_classes, H, W]`` logits (any H, W; see the module docstring for strides).

    ``pretrained``: False (random backbone), True (the registered ImageNet checkpoint
    ``efficientnet_lite0.imagenet1k``; :class:`~i2p.weights.WeightsUnavailable` says how
    to get it when missing), or a checkpoint path (timm or efficientnet_pytorch layout).
    ``load_report`` says what was loaded (None: nothing), as ``create_model``'s models.
    ``projection``: how the training loop turns a sweep into this model's input."""

    def __init__(self, num_classes: int, in_channels: int = len(CHANNELS), pretrained: bool | str | Path = False,
                 projection: RangeProjection = RangeProjection()) -> None:
        super().__init__()
        for name, v in (("num_classes", num_classes), ("in_channels", in_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        self.input_layer = RangeInputLayer(in_channels)
        self.backbone = RangeBackbone()
        # the last stage at each resolution, coarse to fine, then the full-resolution features
        self.taps = [i for i in range(len(self.backbone.strides) - 1)
                     if self.backbone.strides[i] != self.backbone.strides[i + 1]][::-1]
        skips = [self.backbone.widths[i] for i in self.taps] + [_FULL_WIDTH]
        self.output_layer = RangeDecoder(self.backbone.widths[-1], skips, num_classes)
        self.multiple = self.backbone.strides[-1]
        self.input_kind, self.projection = "range", projection
        self.load_report: AsIsReport | None = None
        if pretrained is True:
            from .factory import load_weights

            self.load_report = load_range(self, load_weights(SOURCE), label=SOURCE)
        elif isinstance(pretrained, (str, Path)):
            self.load_report = load_range(self, pretrained)
        elif pretrained is not False:
            raise ValueError(f"pretrained must be True, False or a checkpoint path, got {pretrained!r}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"expected range images [B, C, H, W], got shape {tuple(x.shape)}")
        h, w = x.shape[-2:]
        mh, mw = self.multiple
        x = F.pad(x, (0, -w % mw, 0, -h % mh))
        full, stem = self.input_layer(x)
        feats = self.backbone(stem)
        logits = self.output_layer(feats[-1], [feats[i] for i in self.taps] + [full])
        return logits[..., :h, :w]


def load_range(model: RangeSegNet, weights: str | Path | dict, label: str | None = None, **load_kwargs) -> AsIsReport:
    """The ImageNet ``blocks.*`` tensors of an EfficientNet-Lite0 checkpoint (path or state
    dict, timm or efficientnet_pytorch layout) into ``model.backbone``, as they are (every
    backbone tensor must be there); timm's stem, head and classifier are not transferred."""
    sd = efficientnet_to_timm(read_state_dict(weights), ARCH)
    label = label or (str(weights) if not isinstance(weights, dict) else "the given state dict")
    blocks = {k: v for k, v in sd.items() if k.startswith("blocks.")}
    others = [k for k in sd if not k.startswith("blocks.") and not k.endswith("num_batches_tracked")]
    return load_backbone_as_is(model, blocks, label, others, **load_kwargs)


def build(arch: str, task: str, num_classes: int, in_channels: int, head: Head, stem_width: int | None) -> nn.Module:
    """A range-image segmenter; the sweep's channels (x, y, z, intensity) become the
    image's five (:data:`~i2p.range_image.CHANNELS`), so ``in_channels`` is not used."""
    if task != "seg" or head != "default" or stem_width is not None:
        raise ValueError(f"{RANGE_ARCH} segments range images: task 'seg' only, no head or stem_width option")
    return RangeSegNet(num_classes)


FAMILY = ModelFamily(
    name="range",
    title="range-image U-Net (EfficientNet-Lite0 blocks)",
    archs=(RANGE_ARCH,),
    build=build,
    load=load_range,
    reads={RANGE_ARCH: ARCH},
)
