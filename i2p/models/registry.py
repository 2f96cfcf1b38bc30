"""Model families, registered in one place, and ``create_model``.

A family is one module of ``i2p.models`` exposing ``FAMILY``: the model names it builds,
its builder (uniform arguments, like timm's), and the 2D checkpoint key layouts it reads,
each mapped to the family's one canonical layout (torchvision's for ResNets, timm's for
EfficientNet-Lite), which the sparse backbones are named after. Adding a family = one
module + one line in :data:`FAMILY_MODULES`.

2D sources (:mod:`i2p.weights`) are named ``<arch>.<dataset>`` and carry what the 3D model
needs (the arch, the key layout, the stem width), so
``create_model("resnet18", 19, task="seg", pretrained="resnet18.cityscapes")`` sets the
stem width itself and refuses a source of another family or depth.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import torch
from torch import nn

__all__ = ["ModelFamily", "FAMILY_MODULES", "families", "family_of", "list_models", "create_model", "TASKS"]

TASKS: tuple[str, ...] = ("cls", "seg")

StateDict = dict[str, torch.Tensor]
_CKPT_SUFFIXES = (".pth", ".pt", ".tar", ".ckpt", ".bin")


@dataclass(frozen=True)
class ModelFamily:
    """What i2p knows about one family of inflatable 2D ConvNets.

    ``build(arch, task, num_classes, in_channels, head, stem_width)`` returns the sparse
    model (``stem_width=None``: the family's default). ``layouts`` maps each 2D checkpoint
    key layout the family reads to a converter ``(state_dict, arch) -> state_dict`` in the
    canonical layout; only those keys are then matched by name against the backbone
    (:func:`i2p.models.pretrained.load_pretrained_2d`), the stem and classifier of the 2D
    network are reported as not transferred. ``first_transferred`` / ``first_layer``: the
    canonical keys of the first inflated conv and of the 2D network's RGB stem (figures).
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

    def to_canonical(self, sd: StateDict, layout: str, arch: str) -> StateDict:
        if layout not in self.layouts:
            raise ValueError(f"{self.title} checkpoints come in layouts {sorted(self.layouts)}, not {layout!r}")
        return self.layouts[layout](sd, arch)


#: the family modules of ``i2p.models``; registering a family = one line here
FAMILY_MODULES: tuple[str, ...] = ("resnet", "efficientnet", "linear")
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


def _resolve_source(name: str, model: str, family: ModelFamily, stem_width: int | None) -> tuple[StateDict, int | None]:
    """Weights of the registered 2D source ``name`` for ``model``, and the stem width the
    source needs; a source of another family or depth is refused before anything loads."""
    from ..weights import SOURCES, load_weights

    src = SOURCES[name]
    src_family = family_of(src.arch)
    if src_family is not family:
        mine = [n for n, s in SOURCES.items() if s.arch in family.archs]
        raise ValueError(
            f"2D source {name!r} is a checkpoint of the {src_family.title} family ({src.arch}); {model} is "
            f"{family.title}: pick one of {', '.join(mine) or 'none registered'}"
        )
    if src.arch != model:
        raise ValueError(
            f"2D source {name!r} holds a {src.arch}, not a {model}: build create_model({src.arch!r}, ...) or pick "
            f"one of {', '.join(n for n, s in SOURCES.items() if s.arch == model) or 'none registered'}"
        )
    if src.stem_width is not None and stem_width is not None and stem_width != src.stem_width:
        raise ValueError(f"2D source {name!r} needs stem_width={src.stem_width}, got stem_width={stem_width}")
    return load_weights(name), src.stem_width if src.stem_width is not None else stem_width


def create_model(
    name: str,
    num_classes: int,
    task: str = "cls",
    in_channels: int = 3,
    head: str = "default",
    pretrained: str | Path | dict | None = None,
    stem_width: int | None = None,
    **load_kwargs,
) -> nn.Module:
    """Build an inflated sparse model (see :func:`list_models`).

    ``task``: ``cls`` (Listings 3/5) or ``seg`` (Listings 4/6); ``head``: ``default`` or
    ``linear`` (the paper's linear input/output layers). ``pretrained``: a registered 2D
    source name (``"resnet18.imagenet1k"``, see ``python -m i2p info``; it must be of this
    model's family and depth, and sets ``stem_width``), a checkpoint path, or a state dict
    in the family's canonical layout; inflated into the backbone. Extra keyword arguments
    go to :func:`~i2p.models.pretrained.load_pretrained_2d` (``transform``, ``axis``,
    ``learnable`` ...). The load report is kept as ``model.load_report`` (None: no 2D
    weights).

    ``stem_width`` (ResNets): the channels ``layer1`` receives, also the input layer's
    width; default 64, 128 for deep-stem segmentation encoders (set by their sources).
    """
    from ..weights import SOURCES
    from .layers import HEADS
    from .pretrained import load_pretrained_2d

    family = family_of(name)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if head not in HEADS:
        raise ValueError(f"head must be one of {', '.join(HEADS)}, got {head!r}")
    weights = pretrained
    if pretrained is not None and not family.takes_weights:
        raise ValueError(f"{name} ({family.title}) takes no 2D weights")
    if isinstance(pretrained, str) and pretrained in SOURCES:
        weights, stem_width = _resolve_source(pretrained, name, family, stem_width)
    elif isinstance(pretrained, str) and not Path(pretrained).exists() and Path(pretrained).suffix not in _CKPT_SUFFIXES:
        raise ValueError(f"unknown 2D source {pretrained!r}; registered: {', '.join(SOURCES)} (or give a checkpoint path)")
    model = family.build(name, task, num_classes, in_channels, head, stem_width)
    model.load_report = None
    if weights is not None:
        model.load_report = load_pretrained_2d(model, weights, **load_kwargs)
    elif load_kwargs:
        raise ValueError(f"{sorted(load_kwargs)} only apply with pretrained weights")
    return model
