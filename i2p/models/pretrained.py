"""Loading 2D checkpoints into inflated 3D models: the one place where keys are matched.

A model declares which of its modules take 2D weights (``transfer_targets``); their
names are the torchvision names, so a 2D key ``layer2.0.conv1.weight`` lands in the
module ``backbone.layer2.0.conv1``. Nothing is dropped silently: every expected tensor
must be present with the right shape, or loading fails with a list of what is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Literal

import torch
from torch import nn

from ..inflate import FilterTransform, attach_filter_transform, inflate_conv_weight
from ..sparse import nn as spnn
from ..weights import read_state_dict
from .registry import guess_arch

__all__ = ["LoadReport", "load_pretrained_2d", "transfer_targets", "AsIsReport", "load_backbone_as_is"]

BN_KEYS = ("weight", "bias", "running_mean", "running_var")


@dataclass
class LoadReport:
    """What a 2D checkpoint contributed to a 3D model."""

    convs: int = 0
    bn_tensors: int = 0
    learnable_transforms: int = 0
    not_transferred: list[str] = field(default_factory=list)
    transform: str = "default"  # the handcrafted T (or T's init when learnable), or "explicit"
    axis: str = "z"  # the copy axis the handcrafted T used
    learnable: str | None = None

    def __str__(self) -> str:
        s = f"loaded {self.convs} inflated conv weights ({self.transform}, copied along {self.axis}) and {self.bn_tensors} BN tensors"
        if self.learnable_transforms:
            s += f" ({self.learnable_transforms} learnable filter transforms)"
        if self.not_transferred:
            heads = ", ".join(sorted({k.split(".")[0] for k in self.not_transferred}))
            s += f"; {len(self.not_transferred)} checkpoint tensors not transferred by design ({heads})"
        return s


def transfer_targets(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """``(2D name, module)`` for every conv/BN of the model's ``backbone``."""
    for name, mod in model.backbone.named_modules():
        if isinstance(mod, (spnn.Conv3d, spnn.BatchNorm)):
            yield name, mod


def _stem_width_hint(model: nn.Module, sd: dict[str, torch.Tensor]) -> str:
    """When the checkpoint's ``layer1`` takes another width than the model's stem gives
    (a deep-stem segmentation encoder: 128), say which ``stem_width`` to build with."""
    w = sd.get("layer1.0.conv1.weight")
    mine = getattr(model, "stem_width", None)
    if mine is None or w is None or w.dim() != 4 or w.shape[1] == mine:
        return ""
    return (
        f" Its layer1 takes {w.shape[1]} input channels, the model's stem gives {mine}: "
        f"build the model with stem_width={w.shape[1]} (create_model(..., stem_width={w.shape[1]}))."
    )


Learnable = Literal["shared", "nonshared"]


def load_pretrained_2d(
    model: nn.Module,
    source: str | Path | dict,
    transform: str | torch.Tensor = "default",
    rescale: bool = False,
    learnable: Learnable | None = None,
    transform_init: str = "default",
    axis: str = "z",
) -> LoadReport:
    """Inflate a 2D checkpoint into ``model``'s backbone.

    ``transform``: a handcrafted filter transformation (``default``, ``T1``..``T3``) or a
    ``K^2 x K^3`` matrix; named transforms copy along ``axis`` (``x``, ``y``, ``z`` or
    ``authors``, see :func:`i2p.inflate.filter_transform`). ``learnable``: keep the 2D weights frozen and learn T instead,
    one per kernel geometry for the whole net (``shared``) or one per conv
    (``nonshared``), initialised from ``transform_init`` (``default`` or ``random``).
    """
    if learnable not in (None, "shared", "nonshared"):
        raise ValueError(f"learnable must be None, 'shared' or 'nonshared', got {learnable!r}")
    if learnable is not None and not isinstance(transform, str):
        raise ValueError("a learnable T starts from transform_init; pass no explicit transform matrix with learnable")
    sd = read_state_dict(source)
    targets = list(transfer_targets(model))
    expected = {
        f"{n}.{k}" for n, m in targets for k in (["weight"] if isinstance(m, spnn.Conv3d) else BN_KEYS)
    }
    problems = []
    for name, mod in targets:
        if isinstance(mod, spnn.Conv3d):
            w = sd.get(f"{name}.weight")
            want = (mod.out_channels, 1 if mod.depthwise else mod.in_channels)
            if w is None:
                problems.append(f"missing {name}.weight")
            elif w.dim() != 4 or tuple(w.shape[:2]) != want or w.shape[2] != w.shape[3]:
                problems.append(f"{name}.weight is {list(w.shape)}, model needs [{want[0]}, {want[1]}, K, K]")
            elif w.shape[2] != mod.kernel_size and (w.shape[2], mod.kernel_size) != (1, 2):
                problems.append(f"{name}.weight has a {w.shape[2]}x{w.shape[3]} kernel, model conv has kernel {mod.kernel_size}")
        else:
            for k in BN_KEYS:
                t = sd.get(f"{name}.{k}")
                if t is None:
                    problems.append(f"missing {name}.{k}")
                elif tuple(t.shape) != (mod.num_features,):
                    problems.append(f"{name}.{k} is {list(t.shape)}, model needs [{mod.num_features}]")
    # tensors under the backbone's own top-level names (``layer3``, ``blocks``) that no
    # module takes: the checkpoint is a deeper variant (resnet34 -> resnet18, lite1 -> lite0)
    owned = {n for n, _ in model.backbone.named_children()}
    extra = [k for k in sd if k.split(".")[0] in owned and k not in expected and not k.endswith("num_batches_tracked")]
    if extra:
        problems.append(f"{len(extra)} backbone tensors have no module in the model (deeper variant?), e.g. {extra[0]}")
    if problems:
        arch = guess_arch(sd)
        hint = f" The checkpoint looks like a {arch}." if arch else ""
        hint += _stem_width_hint(model, sd)
        mine = getattr(model, "arch", type(model).__name__)
        raise ValueError(
            f"2D checkpoint does not match {mine}: {len(problems)} problems, e.g. "
            + "; ".join(problems[:5])
            + f".{hint} Build the model with the architecture the checkpoint was trained for."
        )

    report = LoadReport(
        not_transferred=sorted(k for k in sd if k not in expected and not k.endswith("num_batches_tracked")),
        transform=(transform_init if learnable else transform) if isinstance(transform, str) else "explicit",
        axis=axis,
        learnable=learnable,
    )
    shared: dict[tuple, FilterTransform] = {}
    with torch.no_grad():
        for name, mod in targets:
            if isinstance(mod, spnn.BatchNorm):
                for k in BN_KEYS:
                    getattr(mod, k).copy_(sd[f"{name}.{k}"])
                    report.bn_tensors += 1
                continue
            w2d = sd[f"{name}.weight"].to(mod.weight.dtype)
            k2d = w2d.shape[2]
            if learnable is None:
                mod.weight.copy_(inflate_conv_weight(w2d, transform, mod.kernel_size, rescale, mod.depthwise, axis))
            else:
                geom = (k2d, mod.kernel_size, mod.depthwise)
                if learnable == "shared" and geom in shared:
                    t = shared[geom]
                else:
                    t = FilterTransform(k2d, mod.kernel_size, init=transform_init, depthwise=mod.depthwise, axis=axis)
                    shared[geom] = t
                    report.learnable_transforms += 1
                attach_filter_transform(mod, w2d, t)
            report.convs += 1
    return report


# ------------------------------------------------------------------------------ as-is loading
@dataclass
class AsIsReport:
    """What a pretrained checkpoint gave a model whose backbone takes the tensors as they
    are (PointNet++'s shared MLPs, a 2D network on range images): nothing is inflated."""

    tensors: int
    source: str
    not_transferred: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        s = f"loaded {self.tensors} backbone tensors as they are (no filter inflation) from {self.source}"
        if self.not_transferred:
            heads = ", ".join(sorted({k.split(".")[0] for k in self.not_transferred}))
            s += f"; {len(self.not_transferred)} checkpoint tensors not transferred by design ({heads})"
        return s


def load_backbone_as_is(model: nn.Module, backbone_sd: dict[str, torch.Tensor], source: str,
                        not_transferred: list[str], transform: str | torch.Tensor = "default", rescale: bool = False,
                        learnable: Learnable | None = None, axis: str = "z", **_ignored) -> AsIsReport:
    """Copy ``backbone_sd`` (keys named as in ``model.backbone``) into the backbone:
    every backbone tensor must be there with its shape; checkpoint tensors the backbone
    has no place for (a global level a segmentation model lacks) join ``not_transferred``.

    The inflation options of :func:`load_pretrained_2d` mean nothing without inflation:
    a non-default ``transform``, ``rescale`` or a ``learnable`` T is refused; the copy
    ``axis`` (which :func:`i2p.finetune.prepare_model` always resolves) is ignored."""
    if not (isinstance(transform, str) and transform == "default") or rescale or learnable is not None:
        raise ValueError(f"{type(model).__name__} takes its pretrained tensors as they are: there are no 2D filters "
                         f"to inflate, so no filter transformation (transform={transform if isinstance(transform, str) else 'matrix'!r}, "
                         f"rescale={rescale}, learnable={learnable!r}); use the defaults (scope learn_t does not apply)")
    own = model.backbone.state_dict()
    problems = [f"missing {k}" for k in own if k not in backbone_sd]
    problems += [f"{k} is {list(backbone_sd[k].shape)}, model needs {list(v.shape)}" for k, v in own.items()
                 if k in backbone_sd and backbone_sd[k].shape != v.shape]
    if problems:
        raise ValueError(f"{source} does not fit {type(model).__name__}'s backbone: {len(problems)} problems, e.g. "
                         + "; ".join(problems[:5]) + ". Build the model with the architecture (widths, levels) the "
                         "checkpoint was trained with.")
    model.backbone.load_state_dict({k: backbone_sd[k] for k in own})
    extra = [k for k in backbone_sd if k not in own]
    return AsIsReport(len(own), source,
                      sorted(not_transferred) + [f"backbone.{k}" for k in extra])
