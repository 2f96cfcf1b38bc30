"""Range images: the spherical projection of a LiDAR sweep (SqueezeSeg / RangeNet++ style).

Paper §4.2 transfers a 2D segmentation network (HRNetV2-W48 from Cityscapes) to
SemanticKITTI through the projection-based SqueezeSegV3 pipeline: every point is
projected onto a ``height x width`` image by its elevation (row) and azimuth (column),
the 2D network segments the image, and every point takes a label back from the image.
This module holds those steps, vectorised (no Python loop over points), on CPU or CUDA
(they run where the input tensors are):

- :meth:`RangeProjection.project`: points + intensity -> :class:`RangeImage` (5 channels:
  range, x, y, z, intensity; each pixel shows its closest point).
- :func:`project_labels`: per-point labels -> per-pixel labels (to train the 2D network).
- :func:`back_project`: per-pixel predictions -> a label for EVERY point, with RangeNet++'s
  k-nearest-neighbour clean-up for the points hidden behind a closer point.
- :func:`collate_range`: a batch of sweeps -> :class:`RangeBatch`.

Geometry (sensor frame: x forward, y left, z up): row ``floor((fov_up - pitch) / fov * H)``
(clipped to the image: points above / below the field of view land on the border rows),
column ``floor((1 - yaw / pi) / 2 * W)`` with ``yaw = atan2(y, x)``, wrapped modulo
``W`` (the azimuth is periodic): straight ahead is column ``W / 2``, left of it the
columns below ``W / 2``, straight behind column 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from .data.kitti.labels import IGNORE_INDEX

__all__ = [
    "SYNTH_FOV_DEG", "HDL64E_FOV_DEG", "HDL64E_PROJECTION", "CHANNELS", "RangeImage", "RangeProjection", "project_labels",
    "back_project", "RangeBatch", "collate_range",
]

#: (up, down) vertical field of view of SynthKITTI's simulated sensor (its top and bottom
#: beams, ``i2p.data.kitti.synth.sensor.BEAM_ELEVATIONS_DEG``): the default projection.
SYNTH_FOV_DEG = (2.0, -24.9)
#: (up, down) of the real Velodyne HDL-64E as RangeNet++ / SqueezeSegV3 project it (with width 2048).
HDL64E_FOV_DEG = (3.0, -25.0)
#: the range image's channels, in order
CHANNELS = ("range", "x", "y", "z", "intensity")

Array = torch.Tensor | np.ndarray


@dataclass(frozen=True)
class RangeImage:
    """One projected sweep of ``N`` points.

    ``image [5, H, W]`` float32 (:data:`CHANNELS`; zeros where empty), ``mask [H, W]``
    bool (a point landed there), ``pixel [N, 2]`` int64 (row, col of every point, inside
    the image), ``owner [H, W]`` int64 (index of the point the pixel shows: the closest in
    range, the lower index on a tie; -1 where empty)."""

    image: torch.Tensor
    mask: torch.Tensor
    pixel: torch.Tensor
    owner: torch.Tensor

    @property
    def owned(self) -> torch.Tensor:
        """``[N]`` bool: the point is the one its pixel shows (not hidden behind a closer one)."""
        n = self.pixel.shape[0]
        return self.owner[self.pixel[:, 0], self.pixel[:, 1]] == torch.arange(n, device=self.pixel.device)

    def to(self, device: torch.device | str) -> "RangeImage":
        """The same range image with every tensor on ``device``."""
        return RangeImage(*(t.to(device) for t in (self.image, self.mask, self.pixel, self.owner)))


def _points_tensor(points: Array, name: str = "points") -> torch.Tensor:
    pts = torch.as_tensor(points)
    if pts.dim() != 2 or pts.shape[1] != 3:
        raise ValueError(f"{name} must be [N, 3] (x, y, z), got shape {tuple(pts.shape)}")
    if pts.shape[0] == 0:
        raise ValueError(f"{name} is empty: cannot project a cloud of 0 points")
    if not pts.is_floating_point():
        pts = pts.float()
    bad = ~torch.isfinite(pts).all(1)
    if bad.any():
        raise ValueError(f"{name} holds {int(bad.sum())} point(s) with NaN/inf coordinates, "
                         f"e.g. index {int(bad.nonzero()[0])}")
    return pts


@dataclass(frozen=True)
class RangeProjection:
    """A spherical projection onto ``height x width`` pixels over the vertical field of view
    ``fov_up_deg .. fov_down_deg`` (degrees, up > down) and the full 360 deg of azimuth.

    Defaults match SynthKITTI's 64-beam sensor (:data:`SYNTH_FOV_DEG`) at width 512;
    RangeNet++ / SqueezeSegV3 use :data:`HDL64E_FOV_DEG` and width 2048 for the real
    HDL-64E (:data:`HDL64E_PROJECTION`). An experiment run sets its range model's
    projection from its data (``DatasetSpec.range_projection``: the real sensor's, or the
    stand-in's with one column per azimuth step of its profile). A frozen dataclass, so it
    pickles into data-loader workers."""

    height: int = 64
    width: int = 512
    fov_up_deg: float = SYNTH_FOV_DEG[0]
    fov_down_deg: float = SYNTH_FOV_DEG[1]

    def __post_init__(self) -> None:
        for name in ("height", "width"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        up, down = self.fov_up_deg, self.fov_down_deg
        if not all(isinstance(v, (int, float)) and math.isfinite(v) and -90 <= v <= 90 for v in (up, down)):
            raise ValueError(f"fov_up_deg and fov_down_deg must be finite angles in [-90, 90], got {up!r}, {down!r}")
        if not up > down:
            raise ValueError(f"fov_up_deg must be above fov_down_deg, got up={up} <= down={down}")

    def _pixels(self, pts: torch.Tensor) -> torch.Tensor:
        """``[N, 2]`` int64 (row, col) of every (checked) point; see the module docstring."""
        pts = pts.double()  # float64: a bin does not depend on float32 rounding of the angles
        r = pts.norm(dim=1)
        pitch = torch.asin((pts[:, 2] / r.clamp_min(1e-12)).clamp(-1, 1))
        yaw = torch.atan2(pts[:, 1], pts[:, 0])
        up, fov = math.radians(self.fov_up_deg), math.radians(self.fov_up_deg - self.fov_down_deg)
        row = torch.floor((up - pitch) / fov * self.height).long().clamp(0, self.height - 1)
        col = torch.floor(0.5 * (1 - yaw / math.pi) * self.width).long().remainder(self.width)
        return torch.stack([row, col], 1)

    def project(self, points: Array, intensity: Array) -> RangeImage:
        """Project ``points [N, 3]`` with ``intensity [N]`` into a :class:`RangeImage`.

        Each pixel shows the closest of its points in range (ties: the lower point index),
        as in RangeNet++, where the farthest points are written first and overwritten."""
        pts = _points_tensor(points).float()
        inten = torch.as_tensor(intensity, device=pts.device)
        if inten.shape != (pts.shape[0],):
            raise ValueError(f"intensity must be [N] = [{pts.shape[0]}] (one per point), got shape {tuple(inten.shape)}")
        inten = inten.float()
        if not torch.isfinite(inten).all():
            raise ValueError("intensity holds NaN/inf values")
        n, h, w = pts.shape[0], self.height, self.width
        pixel = self._pixels(pts)
        flat = pixel[:, 0] * w + pixel[:, 1]
        r = pts.norm(dim=1)
        nearest = torch.full((h * w,), math.inf, device=pts.device).scatter_reduce(0, flat, r, "amin")
        closest = r == nearest[flat]
        idx = torch.arange(n, device=pts.device)
        owner = torch.full((h * w,), n, device=pts.device).scatter_reduce(0, flat[closest], idx[closest], "amin")
        mask = owner < n
        owner = torch.where(mask, owner, -1)
        values = torch.cat([r[:, None], pts, inten[:, None]], 1)  # [N, 5] in CHANNELS order
        image = torch.zeros(h * w, len(CHANNELS), device=pts.device)
        image[mask] = values[owner[mask]]
        return RangeImage(image.T.reshape(len(CHANNELS), h, w).contiguous(), mask.view(h, w), pixel, owner.view(h, w))


def _check_count(rimg: RangeImage, n: int, what: str) -> None:
    if n != rimg.pixel.shape[0]:
        raise ValueError(f"{what}: {n} given for a range image of {rimg.pixel.shape[0]} points")


#: the real HDL-64E sweeps (SemanticKITTI) as RangeNet++ / SqueezeSegV3 project them: 64 x 2048
HDL64E_PROJECTION = RangeProjection(64, 2048, *HDL64E_FOV_DEG)


def project_labels(rimg: RangeImage, labels: Array, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """``[H, W]`` int64: each pixel takes its owner's label, ``ignore_index`` where empty;
    the 2D network's training target."""
    lab = torch.as_tensor(labels, device=rimg.owner.device)
    if lab.dim() != 1:
        raise ValueError(f"labels must be [N] (one per point), got shape {tuple(lab.shape)}")
    _check_count(rimg, lab.shape[0], "labels")
    if lab.is_floating_point():
        raise ValueError(f"labels must be integer class ids, got {lab.dtype}")
    out = torch.full(rimg.owner.shape, ignore_index, dtype=torch.long, device=lab.device)
    out[rimg.mask] = lab.long()[rimg.owner[rimg.mask]]
    return out


def back_project(rimg: RangeImage, logits_or_labels: Array, points: Array, k: int = 5, window: int = 5,
                 cutoff: float = 1.0, knn: bool = True) -> torch.Tensor:
    """``[N]`` int64 labels for every point from per-pixel logits ``[K, H, W]`` (argmax) or
    labels ``[H, W]``.

    ``knn=False``: every point takes its pixel's label. ``knn=True`` (RangeNet++'s
    post-processing): a point its pixel shows (an owner) still takes exactly its pixel's
    label -- the owners skip the vote, so the image's predictions come back unchanged --
    while each HIDDEN point (behind a closer point in the same pixel, which would
    otherwise inherit the occluder's label) votes among the ``k`` pixels of the
    ``window x window`` neighbourhood of its pixel (columns wrap around) whose range is
    nearest its own: pixels farther than ``cutoff`` metres in range, empty pixels and
    negative (ignore) labels do not vote. The most votes win; a tie goes to the class of
    the nearest voter; a point without voters keeps its pixel's label."""
    pred = torch.as_tensor(logits_or_labels, device=rimg.owner.device)
    hw = tuple(rimg.owner.shape)
    if pred.dim() == 3 and pred.is_floating_point() and tuple(pred.shape[1:]) == hw:
        labels, num_classes = pred.max(0).indices, pred.shape[0]  # = argmax(0), 2x faster on CPU
    elif pred.dim() == 2 and not pred.is_floating_point() and tuple(pred.shape) == hw:
        labels = pred.long()
        num_classes = max(int(labels.max()) + 1, 1)
    else:
        raise ValueError(f"logits_or_labels must be float logits [K, {hw[0]}, {hw[1]}] or integer labels "
                         f"[{hw[0]}, {hw[1]}] for this range image, got {pred.dtype} {tuple(pred.shape)}")
    pts = _points_tensor(points).to(rimg.owner.device)
    _check_count(rimg, pts.shape[0], "points")
    row, col = rimg.pixel[:, 0], rimg.pixel[:, 1]
    out = labels[row, col]
    if not knn:
        return out
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd integer >= 1 (pixels around the point's pixel), got {window!r}")
    if not cutoff > 0:
        raise ValueError(f"cutoff (metres in range) must be > 0, got {cutoff!r}")
    hidden = (~rimg.owned).nonzero().squeeze(1)
    if hidden.numel() == 0:
        return out
    h, w = hw
    half = window // 2
    d = torch.arange(-half, half + 1, device=pts.device)
    rr = row[hidden, None] + d.repeat_interleave(window)[None]  # [M, window^2], window row-major
    cc = (col[hidden, None] + d.repeat(window)[None]).remainder(w)
    inside = (rr >= 0) & (rr < h)
    rr = rr.clamp(0, h - 1)
    gap = (rimg.image[0][rr, cc] - pts[hidden].norm(dim=1)[:, None]).abs()
    gap = torch.where(inside & rimg.mask[rr, cc], gap, math.inf)
    gap, order = torch.sort(gap, dim=1, stable=True)  # stable: equal gaps keep window order
    kk = min(k, window * window)
    nb = labels[rr, cc].gather(1, order[:, :kk])
    votes = (gap[:, :kk] <= cutoff) & (nb >= 0)
    counts = torch.zeros(len(hidden), num_classes, device=pts.device)
    counts.scatter_add_(1, nb.clamp_min(0), votes.float())
    rows = torch.arange(len(hidden), device=pts.device)
    nearest_voter = nb[rows, votes.float().argmax(1)].clamp_min(0)  # argmax: the first (nearest) voter
    counts[rows, nearest_voter] += 0.5 * votes.any(1)  # breaks ties only: counts are whole numbers
    out[hidden] = torch.where(votes.any(1), counts.argmax(1), out[hidden])
    return out


@dataclass
class RangeBatch:
    """A batch of range images: the 2D network's input and target, and per sample what
    :func:`back_project` and a per-point metric need.

    ``images [B, 5, H, W]``, ``masks [B, H, W]``, ``labels [B, H, W]`` (pixel labels,
    ignore where empty); ``projections``, ``points`` and ``point_labels``: one per sample."""

    images: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor
    projections: list[RangeImage]
    points: list[torch.Tensor]
    point_labels: list[torch.Tensor]

    def to(self, device: torch.device | str) -> "RangeBatch":
        """The batch on ``device`` (the training loop's contract: back-projection then runs there too)."""
        return RangeBatch(self.images.to(device), self.masks.to(device), self.labels.to(device),
                          [r.to(device) for r in self.projections],
                          [p.to(device) for p in self.points], [lab.to(device) for lab in self.point_labels])


def collate_range(samples: Sequence[dict], projection: RangeProjection,
                  ignore_index: int = IGNORE_INDEX) -> RangeBatch:
    """Project SemanticKITTI-style sweeps (``points [N, 3]``, ``feats [N, 4]`` = xyz +
    intensity, ``label [N]``) into a :class:`RangeBatch`. For a ``DataLoader``'s
    ``collate_fn`` bind the projection: ``functools.partial(collate_range,
    projection=RangeProjection())`` pickles into worker processes."""
    if len(samples) == 0:
        raise ValueError("cannot collate an empty batch")
    images, masks, labels, projs, points, point_labels = [], [], [], [], [], []
    for i, s in enumerate(samples):
        feats = torch.as_tensor(s["feats"]) if "feats" in s else None
        if feats is None or feats.dim() != 2 or feats.shape[1] < 4:
            raise ValueError(f"sample {i}: needs feats [N, 4] (x, y, z, intensity) for the intensity channel, got "
                             f"{'none' if feats is None else tuple(feats.shape)}")
        try:
            rimg = projection.project(s["points"], feats[:, 3])
            lab = project_labels(rimg, s["label"], ignore_index)
        except ValueError as e:
            raise ValueError(f"sample {i}: {e}") from None
        images.append(rimg.image)
        masks.append(rimg.mask)
        labels.append(lab)
        projs.append(rimg)
        points.append(torch.as_tensor(s["points"]))
        point_labels.append(torch.as_tensor(s["label"]).long())
    return RangeBatch(torch.stack(images), torch.stack(masks), torch.stack(labels), projs, points, point_labels)
