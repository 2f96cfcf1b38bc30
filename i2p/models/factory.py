"""Building models: ``create_model`` (a family's model, optionally with inflated 2D
weights) and ``load_weights`` (a registered 2D source in its family's canonical layout).

2D sources (:mod:`i2p.weights`) are named ``<arch>.<dataset>`` and carry what the 3D model
needs (the arch, the key layout, the stem width), so
``create_model("resnet18", 19, task="seg", pretrained="resnet18.cityscapes")`` sets the
stem width itself and refuses a source of another family or depth.
"""
from __future__ import annotations

from pathlib import Path

from torch import nn

from ..weights import SOURCES, find_weights, how_to_get, read_state_dict
from .layers import HEADS
from .pretrained import load_pretrained_2d
from .registry import TASKS, ModelFamily, StateDict, family_of

__all__ = ["create_model", "load_weights"]

_CKPT_SUFFIXES = (".pth", ".pt", ".tar", ".ckpt", ".bin")


def load_weights(name: str) -> StateDict:
    """State dict of a registered 2D source (``python -m i2p info``) in its family's
    canonical layout: torchvision's for ResNets (only the encoder of segmentation
    checkpoints), timm's ``efficientnet_lite*`` for EfficientNet-Lite. Raises
    :class:`~i2p.weights.WeightsUnavailable` (how to get it) when it is not here."""
    path = find_weights(name)  # an unknown name: UnknownWeights, listing the known ones
    src = SOURCES[name]
    try:
        sd = read_state_dict(path)
    except ValueError as e:
        raise ValueError(f"{e}: {how_to_get(src)}") from None
    try:
        return family_of(src.arch).to_canonical(sd, src.layout, src.arch)
    except ValueError as e:
        raise ValueError(f"{path} is not the {name} checkpoint ({src.layout} layout): {e}") from e


def _resolve_source(name: str, model: str, family: ModelFamily, stem_width: int | None) -> tuple[StateDict, int | None]:
    """Weights of the registered 2D source ``name`` for ``model``, and the stem width the
    source needs; a source of another family or depth is refused before anything loads."""
    src = SOURCES[name]
    src_family, want = family_of(src.arch), family.source_arch(model)
    if src_family is not family_of(want):
        mine = [n for n, s in SOURCES.items() if s.arch in family_of(want).archs]
        raise ValueError(
            f"2D source {name!r} is a checkpoint of the {src_family.title} family ({src.arch}); {model} is "
            f"{family.title}: pick one of {', '.join(mine) or 'none registered'}"
        )
    if src.arch != want:
        raise ValueError(
            f"2D source {name!r} holds a {src.arch}, not a {want}: build create_model({src.arch!r}, ...) or pick "
            f"one of {', '.join(n for n, s in SOURCES.items() if s.arch == want) or 'none registered'}"
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
        model.load_report = (family.load or load_pretrained_2d)(model, weights, **load_kwargs)
    elif load_kwargs:
        raise ValueError(f"{sorted(load_kwargs)} only apply with pretrained weights")
    return model
