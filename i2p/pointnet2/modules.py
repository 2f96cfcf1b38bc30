"""PointNet++ SSG (single-scale grouping) for paper §4.2: pretrain on images-as-points,
finetune on point clouds.

Paper Appendix "Detail of Section 4.2": every pixel of an image becomes a point
(:func:`image_to_points`), each set abstraction level keeps 1/4 of the points (FPS) and
groups them with a ball query of radius 3 (pixel units). The model is split the way the
finetuning scopes of :mod:`i2p.finetune` expect:

- ``input_layer``: a pointwise MLP that reads the task's channels (rgb when pretraining on
  images, xyz on ModelNet) -- always trained, since the channels change;
- ``backbone`` (:class:`PointNet2Backbone`): the set abstraction levels and, for
  classification, the global ("group all") set abstraction -- the feature extractor that
  transfers from 2D pretraining (its BatchNorm layers are what the I,O,mu,sigma / +W,b
  scopes touch); a segmentation model has no global level (its decoder reads the levels);
- ``output_layer``: classification = the FC head on the global feature; segmentation =
  feature propagation decoder + per-point head.

Radii are in the coordinates' units: pixels when pretraining on images-as-points (3, then
doubling, as the points thin out 4x per level and their spacing doubles), the unit sphere
on ModelNet (0.2, 0.4: PointNet++'s). With ``normalize_xyz`` the MLPs read offsets
divided by the radius, so a level pretrained on pixels and finetuned on shapes sees
offsets in the same unit ball -- which is what lets its weights mean the same thing.

Features are channels-last (``[B, N, C]``) between modules; inside, the shared MLPs run
as 1x1 convolutions over ``[B, C, ...]``.

Every module checks shapes on every call, but the coordinates' values (finite) only where
a forward enters -- the value check reads the data, a device sync on CUDA (see
:mod:`.ops`). A module's ``forward(..., check=True)`` checks them; the model, backbone and
level stack pass ``check=False`` to the modules they call after checking their own input,
and every op inside runs with ``check=False`` (its indices come from FPS / ball query).
"""
from __future__ import annotations

import math
from typing import Literal, Sequence

import torch
from torch import nn

from .ops import _check_cloud, ball_query, farthest_point_sample, gather_points, three_nn_interpolate

__all__ = ["PointwiseMLP", "SetAbstraction", "GlobalSetAbstraction", "FeaturePropagation", "SetAbstractionStack",
           "PointNet2Backbone", "PointNet2SSG", "image_to_points"]

Level = tuple[torch.Tensor, torch.Tensor]  # (xyz [B, N, 3], feats [B, N, C]) of one level


def _check_widths(name: str, widths: Sequence[int]) -> list[int]:
    widths = list(widths)
    if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(f"{name} must be a non-empty list of positive ints, got {widths!r}")
    return widths


def _conv_bn_relu(in_channels: int, widths: Sequence[int], dim: Literal[1, 2]) -> list[nn.Module]:
    """1x1 conv (no bias: BN follows) + BN + ReLU per width: PointNet's shared MLP."""
    conv, bn = (nn.Conv1d, nn.BatchNorm1d) if dim == 1 else (nn.Conv2d, nn.BatchNorm2d)
    layers: list[nn.Module] = []
    for w in widths:
        layers += [conv(in_channels, w, 1, bias=False), bn(w), nn.ReLU(inplace=True)]
        in_channels = w
    return layers


class PointwiseMLP(nn.Sequential):
    """The same MLP (1x1 Conv1d + BN + ReLU per width) applied to every point of
    channels-last features ``[B, N, C] -> [B, N, widths[-1]]``: the input layer, the
    feature propagation fusion and the global set abstraction all are one."""

    def __init__(self, in_channels: int, widths: Sequence[int]) -> None:
        super().__init__(*_conv_bn_relu(in_channels, _check_widths("widths", widths), 1))
        self.in_channels, self.out_channels = in_channels, list(widths)[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class SetAbstraction(nn.Module):
    """One PointNet++ SSG level: FPS keeps ``ratio`` of the points as centres, a ball query
    of ``radius`` groups ``nsample`` neighbours around each, a shared MLP reads every
    neighbour's relative coordinates + features and max-pooling over the group gives the
    centre's features -- a learned, translation-invariant local operator (PointNet++'s
    analogue of a strided conv).

    ``radius`` is in the coordinates' units (pixels for images-as-points, the unit sphere
    on ModelNet). With ``normalize_xyz`` (default) the relative coordinates are divided by
    ``radius`` so the MLP always sees offsets in the unit ball: a level pretrained on
    pixels at radius 3 then reads ModelNet offsets at radius 0.2 on the same scale, which
    is what lets its weights transfer. ``normalize_xyz=False`` is the original PointNet++
    (raw offsets). ``in_channels = 0`` groups coordinates only (call with ``feats=None``).
    """

    def __init__(self, ratio: float = 0.25, radius: float = 3.0, nsample: int = 32, mlp: Sequence[int] = (64, 64, 128),
                 in_channels: int = 0, normalize_xyz: bool = True) -> None:
        super().__init__()
        if not 0 < ratio <= 1:
            raise ValueError(f"ratio (fraction of points kept) must be in (0, 1], got {ratio}")
        if not 0 < radius < math.inf:
            raise ValueError(f"radius must be a finite number > 0 (coordinate units), got {radius}")
        if not isinstance(nsample, int) or nsample < 1:
            raise ValueError(f"nsample must be an int >= 1, got {nsample!r}")
        if not isinstance(in_channels, int) or in_channels < 0:
            raise ValueError(f"in_channels must be an int >= 0, got {in_channels!r}")
        self.ratio, self.radius, self.nsample = float(ratio), float(radius), nsample
        self.in_channels, self.normalize_xyz = in_channels, normalize_xyz
        self.mlp = nn.Sequential(*_conv_bn_relu(3 + in_channels, _check_widths("mlp", mlp), 2))
        self.out_channels = list(mlp)[-1]

    def num_centres(self, n: int) -> int:
        """How many of ``n`` points this level keeps: ``round(n * ratio)``, at least 1."""
        return max(1, round(n * self.ratio))

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor | None, *, check: bool = True) -> Level:
        """``xyz [B, N, 3]``, ``feats [B, N, in_channels]`` (None when ``in_channels = 0``)
        -> centres ``[B, m, 3]`` and their features ``[B, m, out_channels]``.
        ``check=False``: ``xyz`` is known finite (module docstring)."""
        _check_feats(xyz, feats, self.in_channels, "SetAbstraction", check)
        centre_idx = farthest_point_sample(xyz, self.num_centres(xyz.shape[1]), check=False)
        centres = gather_points(xyz, centre_idx, check=False)
        group_idx = ball_query(xyz, centres, self.radius, self.nsample, check=False)
        rel = gather_points(xyz, group_idx, check=False) - centres.unsqueeze(2)  # [B, m, k, 3]
        if self.normalize_xyz:
            rel = rel / self.radius
        grouped = rel if feats is None else torch.cat([rel, gather_points(feats, group_idx, check=False)], dim=-1)
        out = self.mlp(grouped.permute(0, 3, 1, 2))  # [B, C', m, k]
        return centres, out.amax(dim=-1).transpose(1, 2)


class GlobalSetAbstraction(nn.Module):
    """The "group all" level: one shared MLP over every point's absolute coordinates +
    features, max-pooled over the cloud into one global feature vector ``[B, C']``
    (PointNet++'s last level before the classifier)."""

    def __init__(self, in_channels: int, mlp: Sequence[int] = (256, 512, 1024)) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.mlp = PointwiseMLP(3 + in_channels, mlp)
        self.out_channels = self.mlp.out_channels

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor, *, check: bool = True) -> torch.Tensor:
        """``xyz [B, N, 3]``, ``feats [B, N, in_channels]`` -> ``[B, out_channels]``.
        ``check=False``: ``xyz`` is known finite (module docstring)."""
        _check_feats(xyz, feats, self.in_channels, "GlobalSetAbstraction", check)
        return self.mlp(torch.cat([xyz, feats], dim=-1)).amax(dim=1)


class FeaturePropagation(nn.Module):
    """One decoder step of PointNet++ segmentation: coarse features are interpolated onto
    the finer level's points (inverse distance over the 3 nearest), concatenated with that
    level's own features (skip link) and fused by a pointwise MLP. ``in_channels`` is the
    sum of the skip's and the coarse features' channels."""

    def __init__(self, in_channels: int, mlp: Sequence[int]) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.mlp = PointwiseMLP(in_channels, mlp)
        self.out_channels = self.mlp.out_channels

    def forward(self, fine_xyz: torch.Tensor, coarse_xyz: torch.Tensor, fine_feats: torch.Tensor | None,
                coarse_feats: torch.Tensor, *, check: bool = True) -> torch.Tensor:
        """-> ``[B, n_fine, out_channels]``; ``fine_feats`` None means no skip link.
        ``check=False``: both clouds are known finite (module docstring)."""
        up = three_nn_interpolate(fine_xyz, coarse_xyz, coarse_feats, check=check)
        x = up if fine_feats is None else torch.cat([fine_feats, up], dim=-1)
        if x.shape[-1] != self.in_channels:
            raise ValueError(f"FeaturePropagation expects {self.in_channels} channels (skip + interpolated), "
                             f"got {x.shape[-1]}")
        return self.mlp(x)


class SetAbstractionStack(nn.ModuleList):
    """The SA levels in order; ``forward`` returns every level, input included, because
    the segmentation decoder needs them all (the classifier reads only the last). Only the
    first level checks its input's values (``check``): the next ones read centres it picked."""

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor, *, check: bool = True) -> list[Level]:
        levels = [(xyz, feats)]
        for i, sa in enumerate(self):
            levels.append(sa(*levels[-1], check=check and i == 0))
        return levels


class PointNet2Backbone(nn.Module):
    """What transfers from 2D pretraining: the SA ``levels`` and, when ``global_mlp`` is
    given (classification), the global set abstraction over the last level. ``forward``
    returns every level (input included) and the global feature ``[B, C]`` (None without
    a global level). Iterating / indexing it goes over the SA levels."""

    def __init__(self, levels: Sequence[SetAbstraction], global_mlp: Sequence[int] | None = None) -> None:
        super().__init__()
        self.levels = SetAbstractionStack(levels)
        self.global_sa = None if global_mlp is None else GlobalSetAbstraction(self.levels[-1].out_channels, global_mlp)

    def __iter__(self):
        return iter(self.levels)

    def __len__(self) -> int:
        return len(self.levels)

    def __getitem__(self, i: int) -> SetAbstraction:
        return self.levels[i]

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor, *,
                check: bool = True) -> tuple[list[Level], torch.Tensor | None]:
        levels = self.levels(xyz, feats, check=check)
        return levels, None if self.global_sa is None else self.global_sa(*levels[-1], check=False)


class _ClsOutput(nn.Module):
    """FC head on the global feature (FC -> BN -> ReLU -> dropout per hidden width)."""

    def __init__(self, in_channels: int, fc: Sequence[int], num_classes: int, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for w in fc:
            layers += [nn.Linear(c, w, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            c = w
        self.fc = nn.Sequential(*layers, nn.Linear(c, num_classes))

    def forward(self, features: tuple[list[Level], torch.Tensor]) -> torch.Tensor:
        return self.fc(features[1])


class _SegOutput(nn.Module):
    """Feature propagation from the deepest level back to the input points, then a
    per-point head (pointwise MLP -> dropout -> linear)."""

    def __init__(self, level_channels: Sequence[int], fp_widths: Sequence[Sequence[int]], num_classes: int,
                 dropout: float) -> None:
        super().__init__()
        self.fps = nn.ModuleList()
        c = level_channels[-1]
        for skip, widths in zip(reversed(level_channels[:-1]), fp_widths):
            self.fps.append(FeaturePropagation(skip + c, widths))
            c = self.fps[-1].out_channels
        self.head = nn.Sequential(PointwiseMLP(c, [c]), nn.Dropout(dropout), nn.Linear(c, num_classes))

    def forward(self, features: tuple[list[Level], None]) -> torch.Tensor:
        levels = features[0]
        coarse_xyz, x = levels[-1]
        for fp, (fine_xyz, skip) in zip(self.fps, reversed(levels[:-1])):
            x = fp(fine_xyz, coarse_xyz, skip, x, check=False)
            coarse_xyz = fine_xyz
        return self.head(x)


class PointNet2SSG(nn.Module):
    """PointNet++ SSG classifier (``task="cls"``, ``[B, num_classes]``) or per-point
    segmenter (``task="seg"``, ``[B, N, num_classes]``) with the ``input_layer`` /
    ``backbone`` / ``output_layer`` split of :mod:`i2p.finetune` (see the module docstring).

    ``radii``: one ball-query radius per SA level, in the coordinates' units -- the paper
    uses radius 3 for images-as-points in pixel units (:func:`image_to_points`); ModelNet
    shapes lie in the unit sphere, so they need radii like (0.2, 0.4). Each level keeps
    ``ratio`` of the points (paper: 1/4) and groups ``nsample`` neighbours.

    ``input_kind = "points"``: i2p's training loop feeds it clouds resampled to
    ``num_points`` points (:mod:`i2p.inputs`; PointNet++ reads 1024 on ModelNet).

    Widths scale with ``width`` (default 64 gives PointNet++ SSG's): input layer
    ``width``; SA level ``i`` MLP ``(w, w, 2w)`` with ``w = width * 2**i`` (64-64-128,
    128-128-256 for two levels); cls: global SA ``(4, 8, 16) * width`` (256-512-1024) and
    FC ``(8, 4) * width`` (512, 256) with dropout; seg: one FP step per level, ``4 * width``
    wide (256-256) except the last, ``2 * width`` (128-128), then a per-point head.
    """

    def __init__(self, task: Literal["cls", "seg"], num_classes: int, in_channels: int, radii: Sequence[float],
                 nsample: int = 32, ratio: float = 0.25, width: int = 64, dropout: float = 0.5,
                 normalize_xyz: bool = True, num_points: int = 1024) -> None:
        super().__init__()
        if task not in ("cls", "seg"):
            raise ValueError(f"task must be 'cls' or 'seg', got {task!r}")
        for name, v in (("num_classes", num_classes), ("in_channels", in_channels), ("width", width),
                        ("num_points", num_points)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        radii = tuple(radii)
        if not radii:
            raise ValueError("radii must give one ball-query radius per set abstraction level, got none")
        self.task, self.num_classes, self.in_channels, self.radii = task, num_classes, in_channels, radii
        self.input_kind, self.num_points = "points", num_points
        self.input_layer = PointwiseMLP(in_channels, [width])
        channels, levels = [width], []
        for i, r in enumerate(radii):
            w = width * 2**i
            levels.append(SetAbstraction(ratio, r, nsample, (w, w, 2 * w), channels[-1], normalize_xyz))
            channels.append(2 * w)
        global_mlp = (4 * width, 8 * width, 16 * width) if task == "cls" else None
        self.backbone = PointNet2Backbone(levels, global_mlp)
        if task == "cls":
            self.output_layer: nn.Module = _ClsOutput(16 * width, (8 * width, 4 * width), num_classes, dropout)
        else:
            fp = [(4 * width, 4 * width)] * (len(radii) - 1) + [(2 * width, 2 * width)]
            self.output_layer = _SegOutput(channels, fp, num_classes, dropout)

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        """``xyz [B, N, 3]``, ``feats [B, N, in_channels]`` (e.g. rgb for images-as-points,
        xyz again on ModelNet) -> ``[B, num_classes]`` or ``[B, N, num_classes]``. The one
        forward entry that checks the coordinates' values: the modules inside do not."""
        _check_feats(xyz, feats, self.in_channels, "PointNet2SSG")
        return self.output_layer(self.backbone(xyz, self.input_layer(feats), check=False))


def _check_feats(xyz: torch.Tensor, feats: torch.Tensor | None, channels: int, who: str, check: bool = True) -> None:
    """``xyz`` a valid cloud batch (finite only with ``check``) and ``feats`` its
    ``[B, N, channels]`` features (None exactly when ``channels == 0``), with a message
    that names the module."""
    _check_cloud("xyz", xyz, check)
    if feats is None:
        if channels:
            raise ValueError(f"{who} expects {channels} feature channels per point, got feats=None")
        return
    if not isinstance(feats, torch.Tensor) or feats.dim() != 3 or feats.shape[:2] != xyz.shape[:2]:
        shape = tuple(feats.shape) if isinstance(feats, torch.Tensor) else type(feats).__name__
        raise ValueError(f"{who}: feats must be [B, N, C] with [B, N] = {tuple(xyz.shape[:2])} from xyz, got {shape}")
    if feats.shape[-1] != channels:
        raise ValueError(f"{who} expects {channels} feature channels per point, got {feats.shape[-1]} "
                         "(3 = rgb for images-as-points or xyz for point clouds)")


def image_to_points(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``[B, C, H, W]`` as point clouds (paper Appendix, "Detail of Section 4.2"):
    every pixel becomes a point at ``(x, y, z) = (column, row, 1)`` in pixel units with its
    colour as features. Points are in row-major pixel order (pixel ``(r, c)`` is point
    ``r * W + c``). Returns ``xyz [B, H*W, 3]`` (the images' dtype) and ``feats [B, H*W, C]``."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
        got = f"{tuple(images.shape)} {images.dtype}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a floating-point [B, C, H, W] tensor, got {got}")
    b, c, h, w = images.shape
    if h * w == 0:
        raise ValueError(f"images have no pixels (H={h}, W={w})")
    rows, cols = torch.meshgrid(torch.arange(h, device=images.device, dtype=images.dtype),
                                torch.arange(w, device=images.device, dtype=images.dtype), indexing="ij")
    xyz = torch.stack([cols, rows, torch.ones_like(rows)], dim=-1).reshape(1, h * w, 3)
    return xyz.expand(b, -1, -1).contiguous(), images.flatten(2).transpose(1, 2).contiguous()
