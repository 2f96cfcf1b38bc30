"""What a model reads, and how a batch of it becomes a loss and per-point predictions.

i2p trains three kinds of models through one loop (:mod:`i2p.train`); a model says which
it is with its ``input_kind`` attribute (absent: ``"voxels"``):

- ``voxels`` -- the inflated sparse ConvNets: a voxelized :class:`~i2p.data.collate.Batch`,
  ``model(batch.x)`` on a ``SparseTensor``; each point reads its voxel's logits.
- ``points`` -- PointNet++ (paper §4.2): every cloud resampled to the model's
  ``num_points`` (a seeded random draw in training, an even stride in evaluation, so
  evaluation is deterministic), ``model(xyz [B, N, 3], feats [B, N, C])``. Segmentation
  evaluation interpolates the sampled points' logits back onto EVERY point of the cloud
  (three nearest sampled points), so its mIoU is over the data set's points.
- ``range`` -- 2D networks on range images (paper §4.2): the sweep is projected with the
  model's ``projection`` (:func:`~i2p.range_image.collate_range`), the loss is over
  labelled pixels, and evaluation takes every original point's label back from the image
  with RangeNet++'s kNN clean-up (:func:`~i2p.range_image.back_project`), so the mIoU is
  over points, as for the voxel models. Training accuracy is over labelled pixels.

Each kind is a :class:`ModelInput`: a picklable ``collate_fn`` for the ``DataLoader`` and
a ``step`` that returns an :class:`Outcome` (loss, logits, targets, predictions), the one
thing the training loop and the metrics read. :func:`model_input` is the one dispatch point.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Callable, Sequence

import torch
from torch import nn

from .data.collate import Batch, collator

if TYPE_CHECKING:
    from .train import TrainConfig

__all__ = ["INPUT_KINDS", "Outcome", "ModelInput", "VoxelInput", "PointInput", "RangeInput", "PointBatch",
           "model_input", "collate_points", "resample_indices", "voxel_labels", "voxel_loss"]


@dataclass
class Outcome:
    """One forward pass: ``loss`` (mean over labelled items), ``logits [M, K]`` and
    ``target [M]`` per sample (cls) or per point / pixel (seg), and ``pred [M]`` (the
    argmax of the logits unless the kind decides otherwise: the range kNN clean-up).
    ``pixel_pred [B, H, W]``: a range model's per-pixel predictions, in evaluation only."""

    loss: torch.Tensor
    logits: torch.Tensor
    target: torch.Tensor
    pred: torch.Tensor | None = None
    pixel_pred: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.pred is None:
            self.pred = self.logits.argmax(1)


def voxel_labels(labels: torch.Tensor, point_to_voxel: torch.Tensor, num_voxels: int) -> torch.Tensor:
    """One label per voxel: that of the voxel's first point (the point order of the
    batch), which is what torchsparse's ``sparse_quantize`` keeps for the authors."""
    first = torch.full((num_voxels,), len(labels), dtype=torch.long, device=labels.device)
    first.scatter_reduce_(0, point_to_voxel, torch.arange(len(labels), device=labels.device), reduce="amin")
    return labels[first]


def voxel_loss(out, batch: Batch, cfg: "TrainConfig") -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and per-sample (cls) or per-point (seg) logits of a voxel model's output."""
    if cfg.task == "cls":
        return nn.functional.cross_entropy(out, batch.labels, ignore_index=cfg.ignore_index), out
    logits = out.feats[batch.point_to_voxel]
    if cfg.seg_loss == "voxel":
        target = voxel_labels(batch.labels, batch.point_to_voxel, out.feats.shape[0])
        return nn.functional.cross_entropy(out.feats, target, ignore_index=cfg.ignore_index), logits
    return nn.functional.cross_entropy(logits, batch.labels, ignore_index=cfg.ignore_index), logits


class ModelInput:
    """How one kind of model reads a batch (see the module docstring)."""

    kind: str = ""

    def collate_fn(self, cfg: "TrainConfig", train: bool) -> Callable[[Sequence[dict]], object]:
        """A picklable ``collate_fn`` for ``torch.utils.data.DataLoader``."""
        raise NotImplementedError

    def step(self, net: nn.Module, batch, cfg: "TrainConfig", evaluation: bool) -> Outcome:
        """Forward ``batch`` (already on the device) through ``net`` (the model or its DDP
        wrapper); ``evaluation``: predictions for every original point (seg)."""
        raise NotImplementedError


@dataclass(frozen=True)
class VoxelInput(ModelInput):
    kind: str = "voxels"

    def collate_fn(self, cfg: "TrainConfig", train: bool) -> Callable:
        return collator(cfg.voxel_size)

    def step(self, net: nn.Module, batch: Batch, cfg: "TrainConfig", evaluation: bool) -> Outcome:
        loss, logits = voxel_loss(net(batch.x), batch, cfg)
        return Outcome(loss, logits, batch.labels)


# ---------------------------------------------------------------------- points
@dataclass
class PointBatch:
    """Clouds resampled to one size: ``xyz [B, N, 3]``, ``feats [B, N, C]``, ``labels``
    ``[B]`` (cls) or ``[B, N]`` (seg, of the sampled points); for segmentation evaluation
    every cloud's original ``points`` and ``point_labels``."""

    xyz: torch.Tensor
    feats: torch.Tensor
    labels: torch.Tensor
    points: list[torch.Tensor] = field(default_factory=list)
    point_labels: list[torch.Tensor] = field(default_factory=list)

    def to(self, device: torch.device | str) -> "PointBatch":
        return PointBatch(self.xyz.to(device), self.feats.to(device), self.labels.to(device),
                          [p.to(device) for p in self.points], [lab.to(device) for lab in self.point_labels])


def resample_indices(n: int, m: int, train: bool) -> torch.Tensor:
    """``m`` point indices of a cloud of ``n``: in training a random draw from torch's
    (seeded, checkpointed) global RNG -- without repeats while ``n >= m``, then topped up
    with random repeats; in evaluation an even stride over the cloud (deterministic)."""
    if n < 1:
        raise ValueError("cannot resample a cloud of 0 points")
    if not train:
        return torch.arange(m) * n // m
    idx = torch.randperm(n)[:m]
    return idx if n >= m else torch.cat([idx, torch.randint(n, (m - n,))])


def collate_points(samples: Sequence[dict], num_points: int, train: bool) -> PointBatch:
    """A :class:`PointBatch` of ``num_points`` points per cloud (``feats`` default to xyz)."""
    if len(samples) == 0:
        raise ValueError("cannot collate an empty batch")
    xyz, feats, labels, points, point_labels = [], [], [], [], []
    for i, s in enumerate(samples):
        pts = torch.as_tensor(s["points"]).float()
        f = torch.as_tensor(s["feats"]).float() if s.get("feats") is not None else pts
        lab = torch.as_tensor(s["label"]).long()
        if pts.dim() != 2 or pts.shape[1] != 3 or f.shape[0] != pts.shape[0]:
            raise ValueError(f"sample {i}: points must be [N, 3] with feats [N, C], got {tuple(pts.shape)} and "
                             f"{tuple(f.shape)}")
        if lab.dim() and lab.shape[0] != pts.shape[0]:
            raise ValueError(f"sample {i}: {lab.shape[0]} labels for {pts.shape[0]} points")
        idx = resample_indices(pts.shape[0], num_points, train)
        xyz.append(pts[idx])
        feats.append(f[idx])
        labels.append(lab[idx] if lab.dim() else lab)
        if lab.dim() and not train:
            points.append(pts)
            point_labels.append(lab)
    return PointBatch(torch.stack(xyz), torch.stack(feats), torch.stack(labels), points, point_labels)


@dataclass(frozen=True)
class PointInput(ModelInput):
    num_points: int = 1024
    kind: str = "points"

    def collate_fn(self, cfg: "TrainConfig", train: bool) -> Callable:
        return partial(collate_points, num_points=self.num_points, train=train)

    def step(self, net: nn.Module, batch: PointBatch, cfg: "TrainConfig", evaluation: bool) -> Outcome:
        from .pointnet2.ops import three_nn_interpolate

        out = net(batch.xyz, batch.feats)
        if cfg.task == "cls":
            return Outcome(nn.functional.cross_entropy(out, batch.labels, ignore_index=cfg.ignore_index), out,
                           batch.labels)
        logits, target = out.flatten(0, 1), batch.labels.flatten()
        loss = nn.functional.cross_entropy(logits, target, ignore_index=cfg.ignore_index)
        if not evaluation:
            return Outcome(loss, logits, target)
        every = [three_nn_interpolate(p[None], batch.xyz[i:i + 1], out[i:i + 1].float())[0]
                 for i, p in enumerate(batch.points)]
        return Outcome(loss, torch.cat(every), torch.cat(batch.point_labels))


# ---------------------------------------------------------------------- range images
@dataclass(frozen=True)
class RangeInput(ModelInput):
    projection: object = None  # a RangeProjection (typed loosely: range_image imports the data packages)
    kind: str = "range"

    def collate_fn(self, cfg: "TrainConfig", train: bool) -> Callable:
        from .range_image import collate_range

        return partial(collate_range, projection=self.projection, ignore_index=cfg.ignore_index)

    def step(self, net: nn.Module, batch, cfg: "TrainConfig", evaluation: bool) -> Outcome:
        from .range_image import back_project

        out = net(batch.images)  # [B, K, H, W]
        loss = nn.functional.cross_entropy(out, batch.labels, ignore_index=cfg.ignore_index)
        if not evaluation:
            return Outcome(loss, out.permute(0, 2, 3, 1).flatten(0, 2), batch.labels.flatten())
        logits, preds = [], []
        for i, rimg in enumerate(batch.projections):
            lg = out[i].float()
            logits.append(lg[:, rimg.pixel[:, 0], rimg.pixel[:, 1]].T)  # each point's pixel
            preds.append(back_project(rimg, lg, batch.points[i]))  # hidden points: kNN vote
        return Outcome(loss, torch.cat(logits), torch.cat(batch.point_labels), torch.cat(preds), out.argmax(1))


#: input kind -> how to read a model's input parameters into its :class:`ModelInput`
INPUT_KINDS: dict[str, Callable[[nn.Module], ModelInput]] = {
    "voxels": lambda model: VoxelInput(),
    "points": lambda model: PointInput(model.num_points),
    "range": lambda model: RangeInput(model.projection),
}


def model_input(model: nn.Module) -> ModelInput:
    """The :class:`ModelInput` of ``model`` (or of the model a DDP wrapper holds), from its
    ``input_kind`` (default ``"voxels"``)."""
    model = getattr(model, "module", model) if isinstance(model, nn.parallel.DistributedDataParallel) else model
    kind = getattr(model, "input_kind", "voxels")
    if kind not in INPUT_KINDS:
        raise ValueError(f"{type(model).__name__} declares input_kind {kind!r}; known kinds: {', '.join(INPUT_KINDS)}")
    return INPUT_KINDS[kind](model)
