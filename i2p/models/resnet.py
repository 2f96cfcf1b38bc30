"""Sparse ResNets with the paper's input and output layers (Appendix 6.4).

The backbone (``layer1``..``layer4``) mirrors torchvision's ResNet module for module,
so an ImageNet state dict lands by name after inflation (see ``i2p.models.pretrained``).
torchvision's stem (7x7 conv, max-pool) and ``fc`` are not transferred: the paper
replaces them by a point-cloud input layer and a task head.

Resolutions: the default input layer ends with a stride-2 conv, so ``layer1..4`` run at
strides 2, 4, 8, 16 (finest voxel = 1).

``stem_width``: the width the stem hands to ``layer1`` (torchvision: 64). Segmentation
encoders with a "deep stem" (three 3x3 convs 64-64-128, CSAIL ``resnet18dilated``, the
structured-KD Cityscapes ResNet-18) feed ``layer1`` 128 channels, so their ``layer1.0``
has a 1x1 projection shortcut; build with ``stem_width=128`` to load them. The input
layer is then 128 wide and the U-Net decoder's last skip too. Dilated variants store the
same tensors as plain ResNets (dilation/stride are run-time settings); the inflated model
always uses the normal stride-2 stages.
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from ..sparse import SparseTensor
from .blocks import BasicBlock, Bottleneck
from .layers import ClsHead, Head, InflatedEncoder, UNetDecoder
from .registry import ModelFamily

__all__ = [
    "RESNET_SPECS", "STEM_WIDTH", "RESNET_LAYOUTS", "SparseResNetCls", "SparseResNetSeg", "make_stages",
    "resnet_to_torchvision", "guess_resnet_arch", "FAMILY",
]

RESNET_SPECS: dict[str, tuple[type[nn.Module], tuple[int, int, int, int]]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
    "resnet101": (Bottleneck, (3, 4, 23, 3)),
    "resnet152": (Bottleneck, (3, 8, 36, 3)),
}
STEM_WIDTH = 64


def make_stages(arch: str, stem_width: int = STEM_WIDTH) -> tuple[nn.ModuleDict, list[int]]:
    """``layer1..layer4`` of ``arch`` (``layer1`` taking ``stem_width`` channels) and the
    output width of each stage."""
    if arch not in RESNET_SPECS:
        raise ValueError(f"unknown ResNet {arch!r}; choose one of {sorted(RESNET_SPECS)}")
    if stem_width < 1:
        raise ValueError(f"stem_width must be >= 1, got {stem_width}")
    block, depths = RESNET_SPECS[arch]
    stages, widths, c_in = nn.ModuleDict(), [], stem_width
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), depths)):
        stride = 1 if i == 0 else 2
        blocks = []
        for j in range(n):
            blocks.append(block(c_in, planes, stride if j == 0 else 1))
            c_in = planes * block.expansion
        stages[f"layer{i + 1}"] = nn.Sequential(*blocks)
        widths.append(c_in)
    return stages, widths


class _Backbone(InflatedEncoder):
    """Input layer + ResNet stages ``layer1..layer4``; subclasses add the output layer."""

    def __init__(self, arch: str, in_channels: int, head: Head, stem_width: int = STEM_WIDTH) -> None:
        super().__init__(arch, in_channels, head, stem_width)
        self.backbone, self.widths = make_stages(arch, stem_width)

    def stages(self) -> Iterable[nn.Module]:
        return self.backbone.values()


class SparseResNetCls(_Backbone):
    """Inflated ResNet for point-cloud classification (Listings 3 and 5). Returns ``[B, classes]``."""

    def __init__(
        self, arch: str, num_classes: int, in_channels: int = 3, head: Head = "default", stem_width: int = STEM_WIDTH
    ) -> None:
        super().__init__(arch, in_channels, head, stem_width)
        self.output_layer = ClsHead(self.widths[-1], num_classes, linear=head == "linear")

    def forward(self, x: SparseTensor) -> torch.Tensor:
        return self.output_layer(self.encode(x)[-1])


class SparseResNetSeg(_Backbone):
    """Inflated ResNet U-Net for point-cloud segmentation (Listings 4 and 6).

    Returns a SparseTensor of per-voxel logits at the input voxels; use
    ``logits.feats[point_to_voxel]`` for per-point predictions.
    """

    def __init__(
        self, arch: str, num_classes: int, in_channels: int = 3, head: Head = "default", stem_width: int = STEM_WIDTH
    ) -> None:
        super().__init__(arch, in_channels, head, stem_width)
        block = RESNET_SPECS[arch][0]
        w1, w2, w3, w4 = self.widths
        linear = head == "linear"
        self.output_layer = UNetDecoder(
            w4, [w3, w2, w1, stem_width], num_classes, block, linear, upsample=[True, True, True, not linear]
        )

    def forward(self, x: SparseTensor) -> SparseTensor:
        skip, _x_i, x1, x2, x3, x4 = self.encode(x)
        return self.output_layer(x4, [x3, x2, x1, skip])


def build(arch: str, task: str, num_classes: int, in_channels: int, head: Head, stem_width: int | None) -> nn.Module:
    cls = SparseResNetCls if task == "cls" else SparseResNetSeg
    return cls(arch, num_classes, in_channels, head, stem_width=STEM_WIDTH if stem_width is None else stem_width)


def guess_resnet_arch(sd: dict[str, torch.Tensor]) -> str | None:
    """Which torchvision ResNet a state dict comes from (for error messages)."""
    blocks = tuple(len({k.split(".")[1] for k in sd if k.startswith(f"layer{i}.")}) for i in range(1, 5))
    bottleneck = any(k.endswith("conv3.weight") for k in sd)
    for name, (block, depths) in RESNET_SPECS.items():
        if depths == blocks and (block.expansion == 4) == bottleneck:
            return name
    return None


# ------------------------------------------------------------------------------ 2D key layouts
# ResNet layouts -> torchvision names. The residual stages and ``fc`` are named like
# torchvision's in every file here; the differences are the wrapper, the stem and the
# segmentation heads:
#
# - ``torchvision``: torchvision's own files, the FractalDB repository's ResNet (a copy of
#   torchvision's, saved as ``model.module.state_dict()``; a DataParallel dump's
#   ``module.`` prefix is stripped) and i2p's own 2D trainer (under ``state_dict``).
# - ``timm``: timm's ``resnet50`` (what Alibaba-MIIL's ImageNet21K factory builds); its
#   names equal torchvision's; the file nests them under ``state_dict``.
# - ``csail_deepstem``: CSAILVision/semantic-segmentation-pytorch encoders (``Resnet`` /
#   ``ResnetDilated`` around their own ResNet): ``encoder_epoch_*.pth`` is the encoder's
#   state dict; a whole ``SegmentationModule`` dump has ``encoder.``/``decoder.``.
# - ``skd_pspnet18``: structure_knowledge_distillation's ``Res_pspnet(BasicBlock,
#   [2, 2, 2, 2])``, saved as ``student.state_dict()``: the ResNet-18 plus the PSP
#   module (``pspmodule``), the classifier (``head``) and the auxiliary head (``dsn``).
#   Its BN layers are InPlaceABNSync (``activation='none'``), which scales by
#   ``|weight| + eps`` (eps 1e-5) instead of ``weight``; the mapping writes that effective
#   scale into ``weight`` so a standard BN computes the same function.
#
# Both seg layouts have a deep stem, conv1 (3->64, stride 2), conv2 (64->64), conv3
# (64->128), each with a BN, so ``layer1`` takes 128 channels and its first block has a
# projection shortcut. It is renamed to timm's deep-stem names (``conv1.0``, ``conv1.1``
# (BN), ``conv1.3``, ``conv1.4`` (BN), ``conv1.6``, ``bn1``); the stem is not transferred
# to 3D (the input layer replaces it), the stages are. Their dilated ``layer3``/``layer4``
# (stride 1, dilation 2/4 at run time) hold the same tensors as plain stride-2 stages;
# the inflated model runs them with the normal strides.

#: wrapper prefixes under which a segmentation checkpoint keeps its encoder
_ENCODER_PREFIXES = ("encoder.", "backbone.")
#: top-level modules of a segmentation checkpoint that are not the encoder (not loaded)
_SEG_HEADS = {"csail_deepstem": ("decoder",), "skd_pspnet18": ("pspmodule", "head", "dsn")}
_DEEP_STEM = {"conv1": "conv1.0", "bn1": "conv1.1", "conv2": "conv1.3", "bn2": "conv1.4", "conv3": "conv1.6", "bn3": "bn1"}
_STAGES = ("layer1", "layer2", "layer3", "layer4")
#: InPlaceABN's eps (the scale it applies is |weight| + eps)
IABN_EPS = 1e-5
RESNET_LAYOUTS = ("torchvision", "timm", "csail_deepstem", "skd_pspnet18")


def resnet_to_torchvision(sd: dict[str, torch.Tensor], layout: str) -> dict[str, torch.Tensor]:
    """Rename a ResNet state dict (already unwrapped by ``read_state_dict``: no
    ``state_dict`` nesting, no ``module.`` prefix) from ``layout`` to torchvision's names.

    ``torchvision``/``timm``: a (shallow) copy, names unchanged. Deep-stem segmentation
    layouts: only the encoder is kept (decoder/head keys are dropped, nothing else), the
    stem is renamed as described above, and for ``skd_pspnet18`` every BN weight becomes
    ``|weight| + 1e-5``. Any other key raises ``ValueError``: nothing is dropped silently.
    """
    if layout not in RESNET_LAYOUTS:
        raise ValueError(f"unknown ResNet layout {layout!r}; known: {RESNET_LAYOUTS}")
    if layout in ("torchvision", "timm"):
        return dict(sd)
    for prefix in _ENCODER_PREFIXES:
        if any(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
            break
    if not all(f"{k}.weight" in sd for k in ("conv1", "conv2", "conv3")):
        raise ValueError("no deep stem (conv1/conv2/conv3 weights): not a deep-stem segmentation encoder")
    out, bad = {}, []
    for key, t in sd.items():
        top, _, rest = key.partition(".")
        if top in _SEG_HEADS[layout]:
            continue  # decoder / segmentation head: only the encoder is loaded
        if top in _DEEP_STEM and rest:
            new = f"{_DEEP_STEM[top]}.{rest}"
        elif top in _STAGES:
            new = key
        else:
            bad.append(key)
            continue
        if layout == "skd_pspnet18" and key.endswith(".weight") and t.dim() == 1:  # InPlaceABN scale
            t = t.abs() + IABN_EPS
        out[new] = t
    if bad:
        raise ValueError(f"{len(bad)} keys are neither encoder nor a known {layout} head, e.g. {bad[:5]}")
    return out


FAMILY = ModelFamily(
    name="resnet",
    title="ResNet",
    archs=tuple(RESNET_SPECS),
    build=build,
    layouts={layout: (lambda sd, arch, layout=layout: resnet_to_torchvision(sd, layout)) for layout in RESNET_LAYOUTS},
    first_transferred="layer1.0.conv1.weight",
    first_layer="conv1.weight",
    default_stem_width=STEM_WIDTH,
    guess_arch=guess_resnet_arch,
)
