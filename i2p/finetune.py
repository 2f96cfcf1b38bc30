"""Finetuning scopes of paper §4.1 / §4.8 (which parts of an inflated model train), and
:func:`prepare_model`, the one call that turns "data set + model + 2D source + scope +
filter transform" into a model ready to train.

The model must expose ``input_layer``, ``backbone`` and ``output_layer`` (all i2p
models do). "Backbone" is what came from the 2D network; input and output layers are
always trained.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

import torch
from torch import nn

__all__ = ["FinetuneScope", "parse_scope", "apply_scope", "trainable_parameters", "ModelSetup", "prepare_model",
           "COPY_AXIS_CHOICES", "RANDOM_SOURCE"]

_BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class FinetuneScope(str, Enum):
    """Paper Table 1 rows (and Table 7's learn-T setting)."""

    IO = "io"  # I,O: backbone frozen, its BN uses the 2D running statistics (eval mode)
    IO_STATS = "io_stats"  # I,O,mu,sigma: backbone BN statistics re-estimated on point clouds
    IO_BN = "io_bn"  # I,O,mu,sigma,W,b: plus BN affine weights
    WHOLE = "whole"  # whole network from the inflated weights
    SCRATCH = "scratch"  # whole network from random init (no 2D weights)
    LEARN_T = "learn_t"  # filter transformations T + I,O,mu,sigma; 2D weights frozen

    @property
    def label(self) -> str:
        return {
            "io": "I, O",
            "io_stats": "I, O, μ, σ",
            "io_bn": "I, O, μ, σ, W, b",
            "whole": "whole network",
            "scratch": "from scratch",
            "learn_t": "T + I, O, μ, σ",
        }[self.value]


def parse_scope(scope: FinetuneScope | str) -> FinetuneScope:
    """A scope from its value (``"io_stats"``) or name (``"IO_STATS"``); unknown ones list
    every valid scope with its meaning."""
    if isinstance(scope, FinetuneScope):
        return scope
    if isinstance(scope, str):
        for s in FinetuneScope:
            if scope in (s.value, s.name) or scope.lower() == s.value:
                return s
    valid = "; ".join(f"{s.value} ({s.label})" for s in FinetuneScope)
    raise ValueError(f"unknown finetune scope {scope!r}; valid: {valid}")


def _frozen_stats_train(self: nn.Module, mode: bool = True) -> nn.Module:
    """``nn.Module.train`` that keeps BN layers marked ``_i2p_frozen_stats`` in eval mode."""
    nn.Module.train(self, mode)
    for m in self.modules():
        if getattr(m, "_i2p_frozen_stats", False):
            m.eval()
    return self


def apply_scope(model: nn.Module, scope: FinetuneScope | str) -> nn.Module:
    """Set ``requires_grad`` and BN modes for ``scope`` (in place); returns the model.

    SCRATCH and WHOLE both train everything; SCRATCH refuses a model that holds 2D
    weights (``model.load_report`` set by ``create_model``): build it without
    ``pretrained``, or use :func:`prepare_model`, which decides both at once.
    """
    scope = parse_scope(scope)
    if scope is FinetuneScope.SCRATCH and getattr(model, "load_report", None) is not None:
        raise ValueError("scope scratch trains from random init, but this model holds inflated 2D weights; "
                         "build it without pretrained=..., or use scope whole")
    for p in model.parameters():
        p.requires_grad_(True)
    for m in model.modules():
        m._i2p_frozen_stats = False
    if scope in (FinetuneScope.WHOLE, FinetuneScope.SCRATCH):
        return model.train(model.training)

    learn_t = scope is FinetuneScope.LEARN_T
    if learn_t and not any(_is_transform(m) for m in model.backbone.modules()):
        raise ValueError(
            "scope learn_t needs learnable filter transforms: prepare_model(..., scope='learn_t') sets them up "
            "(or load the 2D weights with learnable='shared' or 'nonshared')"
        )
    for name, p in model.backbone.named_parameters():
        trainable = (scope is FinetuneScope.IO_BN and _is_bn_param(model.backbone, name)) or (
            learn_t and _owner_is_transform(model.backbone, name)
        )
        p.requires_grad_(trainable)
    if scope is FinetuneScope.IO:
        for m in model.backbone.modules():
            if isinstance(m, _BN_TYPES):
                m._i2p_frozen_stats = True
    # route model.train() through the frozen-stats rule, for this instance only (a
    # partial, not a bound method, so torch.save(model) / pickle round-trips)
    model.train = functools.partial(_frozen_stats_train, model)  # type: ignore[method-assign]
    return model.train(model.training)


def _is_transform(m: nn.Module) -> bool:
    from .inflate import FilterTransform

    return isinstance(m, FilterTransform)


def _owner(root: nn.Module, param_name: str) -> nn.Module:
    return root.get_submodule(param_name.rsplit(".", 1)[0]) if "." in param_name else root


def _is_bn_param(root: nn.Module, name: str) -> bool:
    return isinstance(_owner(root, name), _BN_TYPES)


def _owner_is_transform(root: nn.Module, name: str) -> bool:
    return _is_transform(_owner(root, name))


def trainable_parameters(model: nn.Module) -> list[torch.nn.Parameter]:
    """Parameters to hand to the optimizer (deduplicated: shared T appears once)."""
    return [p for p in model.parameters() if p.requires_grad]


#: the control source: the backbone keeps its random initialisation (no 2D weights) and
#: is frozen like a pretrained one, so "pretrained vs random" is tested at equal scope
RANDOM_SOURCE = "random"
RANDOM_SCOPES = (FinetuneScope.IO, FinetuneScope.IO_STATS, FinetuneScope.IO_BN)

#: copy axes :func:`prepare_model` accepts: data axes, the data set's up axis, or the
#: authors' exact layout (see :func:`i2p.inflate.filter_transform`)
COPY_AXIS_CHOICES: tuple[str, ...] = ("up", "x", "y", "z", "authors")


@dataclass(frozen=True)
class ModelSetup:
    """What decided a prepared model, kept as ``model.setup`` and recorded with runs.

    ``copy_axis`` is what was asked (``"up"``), ``axis`` what it resolved to on this data
    set (``"y"`` on ModelNet40, ``"z"`` on S3DIS), ``axis_meaning`` says it in words."""

    dataset: str
    model: str
    source: str | None
    scope: str
    transform: str
    copy_axis: str
    axis: str
    axis_meaning: str
    learnable: str | None
    t_init: str
    head: str
    task: str
    num_classes: int
    in_channels: int

    def as_dict(self) -> dict:
        return asdict(self)


def _source_label(source) -> str | None:
    if source is None:
        return None
    if isinstance(source, (str, Path)):
        return str(source)
    return "state_dict"


def prepare_model(
    dataset,
    model: str,
    source: str | Path | dict | None = None,
    scope: FinetuneScope | str = FinetuneScope.IO_BN,
    *,
    transform: str = "default",
    copy_axis: str = "up",
    learnable: str | None = None,
    t_init: str = "default",
    head: str = "default",
    rescale: bool = False,
    num_classes: int | None = None,
) -> nn.Module:
    """A model ready to train for one experiment: built for ``dataset`` (a name, alias or
    ``DatasetSpec``: classes, input channels and task come from it), 2D weights of
    ``source`` (a registered source name, a path, a state dict, or ``"random"``: the
    control, a randomly initialised backbone frozen under scope io / io_stats / io_bn)
    inflated through
    ``transform`` copied along ``copy_axis``, and ``scope`` applied.

    - ``scratch``: no 2D weights; giving a ``source`` is an error.
    - ``learn_t``: implies a learnable T, ``learnable="nonshared"`` (the paper's best, NST)
      unless ``"shared"`` (ST); T starts from ``transform`` (``t_init="default"``) or
      random (``t_init="random"``); the 2D weights stay frozen. ``learnable`` and a
      random ``t_init`` belong to ``learn_t`` only.
    - every other scope needs a ``source``.

    ``copy_axis``: ``"up"`` (the data set's up axis: the 2D filter sees a top-down view),
    ``"x"``/``"y"``/``"z"``, or ``"authors"`` (the authors' exact layout, for paper-scale
    reproduction). ``num_classes``: when the data used has fewer classes than the data
    set (a stand-in profile with a subset, e.g. SynthModelNet's 10 teaching classes; pass
    ``len(train_set.classes)``). The result carries ``model.setup`` (:class:`ModelSetup`) and
    ``model.load_report``.
    """
    from .data.registry import get as get_dataset
    from .models.factory import create_model

    spec = get_dataset(dataset)
    scope = parse_scope(scope)
    num_classes = spec.num_classes if num_classes is None else num_classes
    if copy_axis not in COPY_AXIS_CHOICES:
        raise ValueError(f"unknown copy axis {copy_axis!r}; valid: {', '.join(COPY_AXIS_CHOICES)}")
    if t_init not in ("default", "random"):
        raise ValueError(f"t_init must be 'default' or 'random', got {t_init!r}")
    if learnable not in (None, "shared", "nonshared"):  # before any weights load
        raise ValueError(f"learnable must be None, 'shared' or 'nonshared', got {learnable!r}")
    axis = copy_axis if copy_axis == "authors" else spec.resolve_axis(copy_axis)
    learn_t = scope is FinetuneScope.LEARN_T
    if learn_t:
        learnable = learnable or "nonshared"
    elif learnable is not None or t_init != "default":
        raise ValueError(f"a learnable T (learnable={learnable!r}, t_init={t_init!r}) trains under scope learn_t "
                         f"only, not {scope.value}")
    if source == RANDOM_SOURCE:
        if scope not in RANDOM_SCOPES:
            raise ValueError(f"source 'random' (a random, frozen backbone: the control of the frozen scopes) goes with "
                             f"scope {', '.join(s.value for s in RANDOM_SCOPES)}, not {scope.value}; "
                             "a random backbone that trains is scope scratch")
        net = create_model(model, num_classes, spec.task, spec.in_channels, head)
    elif scope is FinetuneScope.SCRATCH:
        if source is not None:
            raise ValueError(f"scope scratch means no 2D weights, but source {_source_label(source)!r} was given; "
                             "drop the source, or use scope whole to finetune from it")
        net = create_model(model, num_classes, spec.task, spec.in_channels, head)
    else:
        if source is None:
            raise ValueError(f"scope {scope.value} ({scope.label}) finetunes 2D weights: give a source "
                             "(see `python -m i2p info`), or use scope scratch")
        load = {"learnable": learnable, "transform_init": "random" if t_init == "random" else transform} if learn_t else {}
        net = create_model(model, num_classes, spec.task, spec.in_channels, head, pretrained=source,
                           transform=transform, axis=axis, rescale=rescale, **load)
    apply_scope(net, scope)
    net.setup = ModelSetup(
        dataset=spec.name, model=model, source=_source_label(source), scope=scope.value, transform=transform,
        copy_axis=copy_axis, axis=axis, axis_meaning=spec.describe_copy_axis(axis), learnable=learnable,
        t_init=t_init, head=head, task=spec.task, num_classes=num_classes, in_channels=spec.in_channels,
    )
    return net
