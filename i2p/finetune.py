"""Finetuning scopes of paper §4.1 / §4.8: which parts of an inflated model train.

The model must expose ``input_layer``, ``backbone`` and ``output_layer`` (all i2p
models do). "Backbone" is what came from the 2D network; input and output layers are
always trained.
"""
from __future__ import annotations

import functools
from enum import Enum

import torch
from torch import nn

__all__ = ["FinetuneScope", "apply_scope", "trainable_parameters"]

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


def _frozen_stats_train(self: nn.Module, mode: bool = True) -> nn.Module:
    """``nn.Module.train`` that keeps BN layers marked ``_i2p_frozen_stats`` in eval mode."""
    nn.Module.train(self, mode)
    for m in self.modules():
        if getattr(m, "_i2p_frozen_stats", False):
            m.eval()
    return self


def apply_scope(model: nn.Module, scope: FinetuneScope | str) -> nn.Module:
    """Set ``requires_grad`` and BN modes for ``scope`` (in place); returns the model.

    SCRATCH and WHOLE both train everything: the difference is whether 2D weights were
    loaded, which the caller decides when building the model.
    """
    scope = FinetuneScope(scope)
    for p in model.parameters():
        p.requires_grad_(True)
    for m in model.modules():
        m._i2p_frozen_stats = False
    if scope in (FinetuneScope.WHOLE, FinetuneScope.SCRATCH):
        return model.train(model.training)

    learn_t = scope is FinetuneScope.LEARN_T
    if learn_t and not any(_is_transform(m) for m in model.backbone.modules()):
        raise ValueError(
            "scope learn_t needs learnable filter transforms: load the 2D weights with "
            "load_pretrained_2d(..., learnable='shared' or 'nonshared')"
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
