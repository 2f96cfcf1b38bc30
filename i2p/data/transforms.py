"""Training augmentations of paper Appendix 6.1 (and the official code's ModelNet ones).

Each transform maps a sample dict to a sample dict and draws from torch's global RNG,
which :func:`i2p.train.seed_everything` seeds: the same seed gives the same epochs.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

__all__ = [
    "Compose", "RandomScale", "RandomTranslate", "Jitter", "RandomFlipXY", "RandomRotateZ",
    "ColorJitter", "ColorTranslate", "ColorAutoContrast", "NormalizeCoords",
    "modelnet_train_transform", "s3dis_train_transform", "kitti_train_transform",
]


def _chance(p: float) -> bool:
    return p >= 1 or float(torch.rand(())) < p


class Compose:
    """Apply transforms in order. i2p's convention is that ``feats[:, :3]`` are the xyz
    coordinates whenever a sample has features (xyz+rgb, xyz+intensity), so after the
    geometric transforms moved ``points`` those columns are updated to match."""

    def __init__(self, transforms: Sequence[Callable[[dict], dict]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, s: dict) -> dict:
        points = s["points"]
        for t in self.transforms:
            s = t(s)
        if s.get("feats") is not None and s["points"] is not points:
            f = s["feats"].clone()
            f[:, :3] = s["points"]
            s["feats"] = f
        return s


class RandomScale:
    """Scale x, y, z by factors in [lo, hi] (one per axis unless ``isotropic``)."""

    def __init__(self, lo: float = 0.9, hi: float = 1.1, p: float = 0.9, isotropic: bool = False) -> None:
        self.lo, self.hi, self.p, self.isotropic = lo, hi, p, isotropic

    def __call__(self, s: dict) -> dict:
        if _chance(self.p):
            f = torch.empty(1 if self.isotropic else 3).uniform_(self.lo, self.hi)
            s["points"] = s["points"] * f
        return s


class RandomTranslate:
    """Shift by U(-d, d) per axis (ModelNet: d = 0.2, p = 0.9)."""

    def __init__(self, d: float = 0.2, p: float = 0.9) -> None:
        self.d, self.p = d, p

    def __call__(self, s: dict) -> dict:
        if _chance(self.p):
            s["points"] = s["points"] + torch.empty(3).uniform_(-self.d, self.d)
        return s


class Jitter:
    """Per-point noise ``scale * (U(0,1) - 0.5)`` clipped at ``clip`` (official ModelNet recipe)."""

    def __init__(self, scale: float = 0.025, clip: float = 0.05, p: float = 0.7) -> None:
        self.scale, self.clip, self.p = scale, clip, p

    def __call__(self, s: dict) -> dict:
        if _chance(self.p):
            noise = (self.scale * (torch.rand_like(s["points"]) - 0.5)).clamp(-self.clip, self.clip)
            s["points"] = s["points"] + noise
        return s


class RandomFlipXY:
    """Horizontal flips: mirror x and/or y, each with probability p (S3DIS)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, s: dict) -> dict:
        sign = torch.ones(3)
        for axis in (0, 1):
            if _chance(self.p):
                sign[axis] = -1
        s["points"] = s["points"] * sign
        return s


class RandomRotateZ:
    """Rotation about the up axis by U(-max_angle, max_angle) (SemanticKITTI)."""

    def __init__(self, max_angle: float = math.pi) -> None:
        self.max_angle = max_angle

    def __call__(self, s: dict) -> dict:
        t = float(torch.empty(()).uniform_(-self.max_angle, self.max_angle))
        c, si = math.cos(t), math.sin(t)
        rot = torch.tensor([[c, -si, 0.0], [si, c, 0.0], [0.0, 0.0, 1.0]], dtype=s["points"].dtype)
        s["points"] = s["points"] @ rot.T
        return s


class _ColorTransform:
    """Acts on the rgb columns ``cols`` of ``feats`` (values in [0, 1])."""

    def __init__(self, cols: slice = slice(3, 6), p: float = 0.95) -> None:
        self.cols, self.p = cols, p

    def __call__(self, s: dict) -> dict:
        if _chance(self.p):
            f = s["feats"].clone()
            f[:, self.cols] = self.apply(f[:, self.cols]).clamp(0, 1)
            s["feats"] = f
        return s

    def apply(self, rgb: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class ColorJitter(_ColorTransform):
    """Per-point Gaussian colour noise."""

    def __init__(self, std: float = 0.05, **kw) -> None:
        super().__init__(**kw)
        self.std = std

    def apply(self, rgb: torch.Tensor) -> torch.Tensor:
        return rgb + self.std * torch.randn_like(rgb)


class ColorTranslate(_ColorTransform):
    """One random colour offset for the whole scene."""

    def __init__(self, ratio: float = 0.05, **kw) -> None:
        super().__init__(**kw)
        self.ratio = ratio

    def apply(self, rgb: torch.Tensor) -> torch.Tensor:
        return rgb + (torch.rand(3) - 0.5) * 2 * self.ratio


class ColorAutoContrast(_ColorTransform):
    """Stretch colours to the full range, blended with the original by a random factor."""

    def __init__(self, **kw) -> None:
        kw.setdefault("p", 0.2)
        super().__init__(**kw)

    def apply(self, rgb: torch.Tensor) -> torch.Tensor:
        lo, hi = rgb.min(0).values, rgb.max(0).values
        stretched = (rgb - lo) / (hi - lo).clamp_min(1e-6)
        blend = float(torch.rand(()))
        return (1 - blend) * rgb + blend * stretched


class NormalizeCoords:
    """Centre x, y on the scene and put the floor at z = 0; clip to ``clip`` metres."""

    def __init__(self, clip: float | None = None) -> None:
        self.clip = clip

    def __call__(self, s: dict) -> dict:
        p = s["points"]
        lo, hi = p.min(0).values, p.max(0).values
        shift = torch.stack([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
        p = p - shift
        if self.clip is not None:
            p = p.clamp(-self.clip, self.clip)
        s["points"] = p
        return s


def modelnet_train_transform() -> Compose:
    """Official ModelNet recipe: scale U(0.9,1.1)/axis (p .9), translate ±0.2 (p .9), jitter (p .7)."""
    return Compose([RandomScale(0.9, 1.1, 0.9), RandomTranslate(0.2, 0.9), Jitter(0.025, 0.05, 0.7)])


def s3dis_train_transform() -> Compose:
    """Appendix 6.1: horizontal flips, colour jitter / translation / auto-contrast, normalise and clip."""
    return Compose([RandomFlipXY(), ColorAutoContrast(), ColorTranslate(), ColorJitter(), NormalizeCoords()])


def kitti_train_transform() -> Compose:
    """Appendix 6.1: random scale and rotation about z."""
    return Compose([RandomScale(0.95, 1.05, 1.0, isotropic=True), RandomRotateZ()])
