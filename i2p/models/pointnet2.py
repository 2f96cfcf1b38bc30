"""PointNet++ SSG as a model family (paper §4.2, Table 2): built by ``create_model`` /
``prepare_model`` like the inflated ConvNets, finetuned with the same scopes.

Its 2D pretraining is different: PointNet++ reads images as point clouds (every pixel a
point at ``(column, row, 1)`` with its colour as features; :class:`ImagePointNet2`, trained
by :mod:`i2p.pretrain2d`), so its "2D" checkpoint is a PointNet++ of the same widths whose
``backbone`` (SA levels + global SA) transfers tensor for tensor -- nothing is inflated.

Radii are in the coordinates' units (see :mod:`i2p.pointnet2.modules`):
:data:`PIXEL_RADII` for images-as-points (the appendix: radius 3 px, doubled at the next
level where FPS has thinned the points 4x and their spacing doubled), :data:`CLOUD_RADII`
for point clouds in the unit sphere (ModelNet; PointNet++'s 0.2, 0.4). The SA levels divide
offsets by the radius (``normalize_xyz``), so the pretrained MLPs read offsets in the
unit ball on both.
"""
from __future__ import annotations

import torch
from torch import nn

from ..pointnet2 import PointNet2SSG, image_to_points
from ..weights import read_state_dict
from .layers import Head
from .pretrained import AsIsReport, load_backbone_as_is
from .registry import ModelFamily

__all__ = ["PIXEL_RADII", "CLOUD_RADII", "ImagePointNet2", "load_pointnet2", "FAMILY"]

#: ball-query radii per SA level when pretraining on images-as-points (pixels)
PIXEL_RADII: tuple[float, ...] = (3.0, 6.0)
#: ball-query radii per SA level on point clouds in the unit sphere (ModelNet)
CLOUD_RADII: tuple[float, ...] = (0.2, 0.4)
ARCH = "pointnet2_ssg"


class ImagePointNet2(PointNet2SSG):
    """A PointNet++ SSG classifier that reads images ``[B, C, H, W]`` as point clouds
    (:func:`~i2p.pointnet2.image_to_points`) with radii in pixels: what i2p pretrains.
    Its state dict is a plain :class:`PointNet2SSG`'s (the finetuned model's keys)."""

    def __init__(self, num_classes: int, in_channels: int = 3, radii: tuple[float, ...] = PIXEL_RADII) -> None:
        super().__init__("cls", num_classes, in_channels, radii)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(*image_to_points(images))


def load_pointnet2(model: nn.Module, weights, **load_kwargs) -> AsIsReport:
    """The ``backbone.*`` tensors of a PointNet++ checkpoint (path or state dict) into
    ``model.backbone``, as they are; its input layer (rgb) and classifier are not transferred."""
    sd = read_state_dict(weights)
    label = str(weights) if not isinstance(weights, dict) else "the given state dict"
    backbone = {k.removeprefix("backbone."): v for k, v in sd.items() if k.startswith("backbone.")}
    if not backbone:
        raise ValueError(f"{label} holds no backbone.* tensors: it is not a PointNet++ checkpoint "
                         "(i2p pretrain2d --arch pointnet2_ssg makes one)")
    others = [k for k in sd if not k.startswith("backbone.") and not k.endswith("num_batches_tracked")]
    return load_backbone_as_is(model, backbone, label, others, **load_kwargs)


def build(arch: str, task: str, num_classes: int, in_channels: int, head: Head, stem_width: int | None) -> nn.Module:
    if head != "default" or stem_width is not None:
        raise ValueError("pointnet2_ssg has its own input layer and head: no head or stem_width option")
    return PointNet2SSG(task, num_classes, in_channels, CLOUD_RADII)


FAMILY = ModelFamily(
    name="pointnet2",
    title="PointNet++ SSG",
    archs=(ARCH,),
    build=build,
    layouts={"i2p": lambda sd, arch: dict(sd)},
    load=load_pointnet2,
)
