"""Model families, registered in one place.

A family is one module of ``i2p.models`` exposing ``FAMILY``: the model names it builds,
its builder (uniform arguments, like timm's), and the 2D checkpoint key layouts it reads,
each mapped to the family's one canonical layout (torchvision's for ResNets, timm's for
EfficientNet-Lite), which the sparse backbones are named after. Adding a family = one
module + one line in :data:`FAMILY_MODULES`. :mod:`.factory` builds models through it.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch
from torch import nn

__all__ = ["ModelFamily", "FAMILY_MODULES", "families", "family_of", "list_models", "guess_arch", "TASKS"]

TASKS: tuple[str, ...] = ("cls", "seg")

StateDict = dict[str, torch.Tensor]


@dataclass(frozen=True)
class ModelFamily:
    """What i2p knows about one family of inflatable 2D ConvNets.

    ``build(arch, task, num_classes, in_channels, head, stem_width)`` returns the sparse
    model (``stem_width=None``: the family's default). ``layouts`` maps each 2D checkpoint
    key layout the family reads to a converter ``(state_dict, arch) -> state_dict`` in the
    canonical layout; only those keys are then matched by name against the backbone
    (:func:`i2p.models.pretrained.load_pretrained_2d`); the stem and classifier of the 2D
    network are reported as not transferred. ``first_transferred`` / ``first_layer``: the
    canonical keys of the first inflated conv and of the 2D network's RGB stem (figures).
    ``load``: how the family's models take 2D weights when not by inflation -- a function
    ``(model, weights, **load_kwargs) -> report`` (PointNet++ and range-image networks read
    their pretrained tensors as they are, :func:`i2p.models.pretrained.load_backbone_as_is`);
    None: inflate them (:func:`i2p.models.pretrained.load_pretrained_2d`). ``reads``: model
    -> the architecture whose registered sources it takes, when not its own name (the range
    network ``range_lite0`` reads ``efficientnet_lite0`` checkpoints).
    """

    name: str
    title: str
    archs: tuple[str, ...]
    build: Callable[..., nn.Module]
    layouts: Mapping[str, Callable[[StateDict, str], StateDict]] = field(default_factory=dict)
    first_transferred: str | None = None
    first_layer: str | None = None
    default_stem_width: int | None = None
    guess_arch: Callable[[StateDict], str | None] | None = None
    takes_weights: bool = True
    load: Callable[..., object] | None = None
    reads: Mapping[str, str] = field(default_factory=dict)

    def source_arch(self, model: str) -> str:
        """The architecture of the registered 2D sources ``model`` takes."""
        return self.reads.get(model, model)

    def to_canonical(self, sd: StateDict, layout: str, arch: str) -> StateDict:
        if layout not in self.layouts:
            raise ValueError(f"{self.title} checkpoints come in layouts {sorted(self.layouts)}, not {layout!r}")
        return self.layouts[layout](sd, arch)


#: the family modules of ``i2p.models``; registering a family = one line here
FAMILY_MODULES: tuple[str, ...] = ("resnet", "efficientnet", "linear", "pointnet2", "range_net")
_FAMILIES: dict[str, ModelFamily] = {}


def families() -> list[ModelFamily]:
    if not _FAMILIES:
        for mod in FAMILY_MODULES:
            fam = importlib.import_module(f"{__package__}.{mod}").FAMILY
            _FAMILIES[fam.name] = fam
    return list(_FAMILIES.values())


def list_models() -> list[str]:
    """Every model name ``create_model`` accepts."""
    return [a for f in families() for a in f.archs]


def family_of(model: str) -> ModelFamily:
    """The family that builds ``model``; unknown names list the valid ones."""
    for f in families():
        if model in f.archs:
            return f
    raise ValueError(f"unknown model {model!r}; available: {', '.join(list_models())}")


def guess_arch(sd: StateDict) -> str | None:
    """Which registered architecture a canonical-layout state dict comes from (for error
    messages), asking every family that can tell."""
    for fam in families():
        arch = fam.guess_arch(sd) if fam.guess_arch else None
        if arch:
            return arch
    return None
