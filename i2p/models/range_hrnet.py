"""HRNetV2 pieces for range images: timm's HRNet as backbone, the HRNetV2 segmentation
head, and the key layout of HRNet-Semantic-Segmentation's checkpoints.

Paper §4.2 / App. 6.1 put HRNetV2-W48 with its Cityscapes weights (HRNet/HRNet-Semantic-
Segmentation, ``lib/models/seg_hrnet.py``) into SqueezeSegV3's range-image pipeline.
timm's ``HighResolutionNet`` has the same modules under the same names (``conv2``,
``layer1.0.conv1``, ``transition1.1.0.0``, ``stage2.0.branches.0.0.conv1``,
``stage2.0.fuse_layers.0.1.0`` ...) for the same configurations (``hrnet_w48`` and
``hrnet_w18_small`` = the official ``seg_hrnet_w48`` / ``seg_hrnet_w18_small_v1``), so
the official tensors land by name once the ``model.`` prefix of the official trainer's
``FullModel`` wrapper is gone (:func:`seg_hrnet_to_timm`). What differs is behaviour,
not names: the official fuse layers upsample bilinearly (timm's classification HRNet:
nearest), which :class:`HRNetBackbone` restores, and the official empty transitions /
fuse slots are ``None`` where timm has parameter-free ``nn.Identity``.

The segmentation head (``last_layer``) and the RGB stem conv (``conv1``, ``bn1``) of a
checkpoint are not transferred: the range model replaces them with its own output and
input layers (:class:`i2p.models.range_net.RangeHRNet`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .resnet import IABN_EPS

__all__ = ["HRNET_VARIANTS", "HRNET_STEM_WIDTH", "HRNetBackbone", "HRNetV2Head", "seg_hrnet_to_timm"]

#: i2p model -> timm's HRNet configuration
HRNET_VARIANTS: dict[str, str] = {"range_hrnetv2_w48": "hrnet_w48", "range_hrnetv2_w18_small": "hrnet_w18_small"}
#: channels the stem's second conv (``conv2``, the backbone's first module) takes
HRNET_STEM_WIDTH = 64
_OFFICIAL_PREFIX = "model."  # HRNet-Semantic-Segmentation saves FullModel(model, loss).state_dict()


def seg_hrnet_to_timm(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an HRNet-Semantic-Segmentation checkpoint (``model.conv1.weight``,
    ``model.stage2.0.branches.0.0.conv1.weight``, ``model.last_layer.0.weight``,
    ``loss.criterion.weight`` ...) to timm's ``HighResolutionNet`` names: the network's
    keys lose their ``model.`` prefix, the others (the loss's class weights) keep their
    names and are reported as not transferred.

    Two releases share the Cityscapes file name: the pytorch-v1.1 branch's (the paper's
    footnote 7) has standard BN; the first (master) was trained with InPlace-ABN, which
    scales by ``|weight| + eps`` and keeps no step counter. A checkpoint in the official
    layout without any ``num_batches_tracked`` is the latter: its BN weights become that
    effective scale and get a counter, so a standard BN computes the same function (as
    for ``resnet18.cityscapes``). Otherwise tensors are not changed; a dict without the
    prefix (timm's layout, or already converted) comes back as a shallow copy."""
    official = any(k.startswith(_OFFICIAL_PREFIX) for k in sd)
    out = {k.removeprefix(_OFFICIAL_PREFIX): v for k, v in sd.items()}
    if official and not any(k.endswith(".num_batches_tracked") for k in out):
        for bn in [k.removesuffix(".running_var") for k in out if k.endswith(".running_var")]:
            out[f"{bn}.weight"] = out[f"{bn}.weight"].abs() + IABN_EPS
            out[f"{bn}.num_batches_tracked"] = torch.tensor(0)
    return out


class HRNetBackbone(nn.Module):
    """timm's HRNet after the RGB stem's first conv: ``conv2``/``bn2`` (the stem's second
    stride-2 conv), ``layer1``, ``transition1..3``, ``stage2..4``, under timm's (= the
    official) names. Its input has :data:`HRNET_STEM_WIDTH` channels at 1/2 of the image;
    its output is the four branches at 1/4, 1/8, 1/16 and 1/32 (``widths`` channels)."""

    PARTS = ("conv2", "bn2", "layer1", "transition1", "stage2", "transition2", "stage3", "transition3", "stage4")

    def __init__(self, variant: str) -> None:
        super().__init__()
        import timm

        net = timm.create_model(variant, pretrained=False, features_only=True, feature_location="")
        for name in self.PARTS:
            setattr(self, name, getattr(net, name))
        for m in self.modules():  # the fuse layers' upsampling, as the official segmentation HRNet
            if isinstance(m, nn.Upsample):
                m.mode, m.align_corners = "bilinear", False
        self.widths: list[int] = net.feature_info.channels()[1:]

    #: a checkpoint in timm's key layout (the range models' ``load_range`` asks each backbone)
    to_timm = staticmethod(seg_hrnet_to_timm)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        branches = [self.layer1(F.relu(self.bn2(self.conv2(x))))]
        for transition, stage in ((self.transition1, self.stage2), (self.transition2, self.stage3),
                                  (self.transition3, self.stage4)):
            # a kept branch goes on from its own output, a new one from the lowest resolution
            branches = stage([t(branches[i] if i < len(branches) else branches[-1]) for i, t in enumerate(transition)])
        return branches


class HRNetV2Head(nn.Module):
    """HRNetV2's segmentation head: every branch upsampled (bilinear) to the finest,
    concatenated, a 1x1 conv + BN + ReLU, a 1x1 conv to the classes (logits at the finest
    branch's resolution)."""

    def __init__(self, widths: list[int], num_classes: int) -> None:
        super().__init__()
        c = sum(widths)
        self.fuse = nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.classifier = nn.Conv2d(c, num_classes, 1)

    def forward(self, branches: list[torch.Tensor]) -> torch.Tensor:
        size = branches[0].shape[-2:]
        up = [F.interpolate(b, size=size, mode="bilinear", align_corners=False) for b in branches[1:]]
        return self.classifier(self.fuse(torch.cat([branches[0], *up], 1)))
