"""Shared helpers for the model / pretrained / finetune / trainer tests (torch runs with
one thread in every test: see ``single_thread`` in conftest.py)."""
from __future__ import annotations

import functools

import torch
import torchvision
from torch import nn

from i2p.data import PrimitiveShapes, collate_clouds
from i2p.data.collate import Batch
from i2p.range_image import RangeProjection

VOXEL = 0.1
NUM_CLASSES = len(PrimitiveShapes.classes)




@functools.lru_cache(maxsize=None)
def _tv_state_dict(arch: str, seed: int) -> dict[str, torch.Tensor]:
    with torch.random.fork_rng(devices=[]):  # cached: must not move the global RNG only on a miss
        torch.manual_seed(seed)
        net = getattr(torchvision.models, arch)(weights=None)
    g = torch.Generator().manual_seed(seed + 1)
    # torchvision initialises BN to (w=1, b=0, mean=0, var=1): make every BN tensor
    # distinct so "copied the right tensor" is checkable.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = 0.5 + torch.rand(n, generator=g)
            m.bias.data = 0.1 * torch.randn(n, generator=g)
            m.running_mean = 0.1 * torch.randn(n, generator=g)
            m.running_var = 0.5 + torch.rand(n, generator=g)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def tv_state_dict(arch: str = "resnet18", seed: int = 0) -> dict[str, torch.Tensor]:
    """A seeded, randomly initialised torchvision ``arch`` state dict (a stand-in 2D
    checkpoint); a fresh copy on every call so tests may mutate it."""
    return {k: v.clone() for k, v in _tv_state_dict(arch, seed).items()}


@functools.lru_cache(maxsize=None)
def _dataset(num_per_class: int, num_points: int, seed: int) -> PrimitiveShapes:
    return PrimitiveShapes(num_per_class=num_per_class, num_points=num_points, seed=seed)


def tiny_dataset(num_per_class: int = 2, num_points: int = 256, seed: int = 0) -> PrimitiveShapes:
    return _dataset(num_per_class, num_points, seed)


def make_batch(
    n: int = 6, num_points: int = 256, voxel: float = VOXEL, channels: int = 3, seg: bool = False, seed: int = 0
) -> Batch:
    """``n`` primitive shapes (cycling through the classes) as one voxelized batch.

    ``channels`` > 3 appends extra per-point features (xyz + constant/random extras), as
    for xyz+intensity (4) or xyz+rgb (6). ``seg``: per-point labels, 1 where z > 0.
    """
    ds = tiny_dataset(num_per_class=max(1, -(-n // NUM_CLASSES)), num_points=num_points, seed=seed)
    order = [(i % NUM_CLASSES) * (len(ds) // NUM_CLASSES) + i // NUM_CLASSES for i in range(n)]
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i in order:
        s = dict(ds[i])
        if channels != 3:
            extra = torch.rand(s["points"].shape[0], channels - 3, generator=g)
            s["feats"] = torch.cat([s["points"], extra], 1)
        if seg:
            s["label"] = (s["points"][:, 2] > 0).long()
        samples.append(s)
    return collate_clouds(samples, voxel)


def seg_dataset(num_per_class: int = 1, num_points: int = 256, seed: int = 0) -> list[dict]:
    """PrimitiveShapes with per-point labels: which half (z <= 0 / z > 0) a point is in."""
    ds = tiny_dataset(num_per_class, num_points, seed)
    return [{"points": s["points"], "label": (s["points"][:, 2] > 0).long()} for s in ds.samples]


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter and buffer by its state-dict name (cloned)."""
    return {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}


def changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> set[str]:
    assert before.keys() == after.keys()
    return {k for k in before if not torch.equal(before[k], after[k])}


class PixelNet(nn.Module):
    """A 1x1 conv over the range image's channels: the smallest "range" model."""

    input_kind = "range"

    def __init__(self) -> None:
        super().__init__()
        self.projection = RangeProjection(8, 32)
        self.conv = nn.Conv2d(5, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def clouds(task: str, n: int = 6, gen_seed: int = 0) -> list[dict]:
    """``n`` flat, lidar-like clouds (x, y spread over +-8 m) with feats = xyz + intensity;
    labels: the quadrant class per point (seg) or one per cloud (cls)."""
    g = torch.Generator().manual_seed(gen_seed)
    out = []
    for i in range(n):
        pts = torch.randn(20 + i, 3, generator=g) * torch.tensor([8.0, 8.0, 1.0])
        lab = (pts[:, 0] > 0).long() + (pts[:, 1] > 0).long() if task == "seg" else torch.tensor(i % 3)
        out.append({"points": pts, "feats": torch.cat([pts, torch.rand(len(pts), 1, generator=g)], 1), "label": lab})
    return out


def assert_range_model_learns(model: nn.Module, x: torch.Tensor, shape: tuple[int, ...]) -> None:
    """A range-image segmenter's output has ``shape``, and one backward pass reaches the input
    and gives every parameter of its input layer, backbone and output layer a nonzero gradient."""
    y = model(x)
    assert y.shape == shape
    y.square().mean().backward()
    assert x.grad.abs().sum() > 0
    for name in ("input_layer", "backbone", "output_layer"):
        grads = [p.grad for p in getattr(model, name).parameters()]
        assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0, name
