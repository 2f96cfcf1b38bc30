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
    "ColorJitter", "ColorTranslate", "ColorAutoContrast", "ClipToCube", "NormalizeCoords", "ScaleFeatures",
    "modelnet_train_transform", "s3dis_train_transform", "s3dis_eval_transform", "kitti_train_transform",
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
    """Per-point Gaussian colour noise; ``std`` in units of the colour range (the
    authors' S3DIS recipe: 0.005, i.e. 0.005 * 255 on 0-255 colours)."""

    def __init__(self, std: float = 0.005, **kw) -> None:
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
    """Stretch each colour channel to the full range and blend it with the original
    half and half (the authors' ``blend_factor = 0.5``), with probability 0.2."""

    def __init__(self, blend: float = 0.5, **kw) -> None:
        kw.setdefault("p", 0.2)
        super().__init__(**kw)
        self.blend = blend

    def apply(self, rgb: torch.Tensor) -> torch.Tensor:
        lo, hi = rgb.min(0).values, rgb.max(0).values
        stretched = (rgb - lo) / (hi - lo).clamp_min(1e-6)
        return (1 - self.blend) * rgb + self.blend * stretched


def select_points(s: dict, keep: torch.Tensor) -> dict:
    """The sample restricted to the points where ``keep`` is true: every per-point field
    (points, feats, per-point labels, raw ids) is cut the same way."""
    n = s["points"].shape[0]
    out = dict(s)
    for k, v in s.items():
        if isinstance(v, torch.Tensor) and v.dim() >= 1 and v.shape[0] == n:
            out[k] = v[keep]
    return out


class ClipToCube:
    """Drop the points outside a cube of half-size ``half`` (metres) around the scene's
    bounding-box centre, when the scene is larger than ``half`` (the authors' S3DIS
    ``clip_bound = 4``: big rooms and hallways are cut, small rooms kept whole). Points
    are dropped, not clamped: a clamped point would pile up on the cube's faces."""

    def __init__(self, half: float = 4.0) -> None:
        if not half > 0:
            raise ValueError(f"ClipToCube half-size must be > 0, got {half}")
        self.half = half

    def __call__(self, s: dict) -> dict:
        p = s["points"]
        lo, hi = p.min(0).values, p.max(0).values
        if float((hi - lo).max()) < self.half:
            return s
        d = p - (lo + hi) / 2
        keep = ((d >= -self.half) & (d < self.half)).all(1)
        return select_points(s, keep)


class NormalizeCoords:
    """Centre x, y on the scene and put the floor at z = 0, so rooms laid out far apart
    in an area share one coordinate range (and the xyz features with them)."""

    def __call__(self, s: dict) -> dict:
        p = s["points"]
        lo, hi = p.min(0).values, p.max(0).values
        shift = torch.stack([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
        s["points"] = p - shift
        return s


class ScaleFeatures:
    """Run ``inner`` (may be None), then multiply each feature column by ``scale``: the
    input units a data set's spec chooses (:attr:`DatasetSpec.feature_scale`). It wraps
    the whole pipeline because :class:`Compose` rewrites ``feats[:, :3]`` from the points
    at its end; after this, those columns are the coordinates in the scaled units."""

    def __init__(self, inner: Callable[[dict], dict] | None, scale: Sequence[float]) -> None:
        self.inner = inner
        self.scale = torch.tensor(scale, dtype=torch.float32)

    def __call__(self, s: dict) -> dict:
        if self.inner is not None:
            s = self.inner(s)
        feats = s.get("feats")
        if feats is None or feats.dim() != 2 or feats.shape[1] != len(self.scale):
            raise ValueError(f"feature scaling needs feats [N, {len(self.scale)}], got "
                             f"{'none' if feats is None else tuple(feats.shape)}")
        return {**s, "feats": feats * self.scale.to(feats.dtype)}


def modelnet_train_transform() -> Compose:
    """Official ModelNet recipe: scale U(0.9,1.1)/axis (p .9), translate ±0.2 (p .9), jitter (p .7)."""
    return Compose([RandomScale(0.9, 1.1, 0.9), RandomTranslate(0.2, 0.9), Jitter(0.025, 0.05, 0.7)])


def s3dis_train_transform() -> Compose:
    """Appendix 6.1 / the authors' recipe: horizontal flips, colour jitter (0.005),
    translation (0.05) and auto-contrast (blend 0.5), then the eval transform's clip and
    normalisation."""
    return Compose([RandomFlipXY(), ColorJitter(), ColorTranslate(), ColorAutoContrast(), *s3dis_eval_transform().transforms])


def s3dis_eval_transform() -> Compose:
    """What train and test share: clip to the 8 m cube (dropping points) and normalise, so
    a model sees coordinates in the same range at training and evaluation."""
    return Compose([ClipToCube(4.0), NormalizeCoords()])


def kitti_train_transform() -> Compose:
    """Appendix 6.1: random scale and rotation about z."""
    return Compose([RandomScale(0.95, 1.05, 1.0, isotropic=True), RandomRotateZ()])
