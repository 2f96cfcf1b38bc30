"""A tiny procedural classification set of surface-sampled 3D primitives.

Six classes that generate in milliseconds without open3d: the fixture of the model,
trainer and DDP tests (the study itself uses the SynthModelNet stand-in). Shapes are
normalised to the unit sphere and rotated at random about the up axis (z).
"""
from __future__ import annotations

import math

import torch
from torch.utils.data import Dataset

__all__ = ["PrimitiveShapes"]

CLASSES = ("sphere", "cube", "cylinder", "cone", "torus", "plane")


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _sample(kind: str, n: int, g: torch.Generator) -> torch.Tensor:
    u = torch.rand(n, 2, generator=g)
    a = 2 * math.pi * u[:, 0]
    if kind == "sphere":
        return _unit(torch.randn(n, 3, generator=g)) * torch.tensor([1.0, 1.0, 0.7 + 0.6 * torch.rand(1, generator=g).item()])
    if kind == "cube":
        p = torch.rand(n, 3, generator=g) * 2 - 1
        face = torch.randint(0, 3, (n,), generator=g)
        p[torch.arange(n), face] = torch.sign(p[torch.arange(n), face])
        return p * (0.6 + 0.8 * torch.rand(3, generator=g))
    if kind == "cylinder":
        h = 0.5 + 1.5 * torch.rand(1, generator=g).item()
        return torch.stack([a.cos(), a.sin(), (u[:, 1] * 2 - 1) * h], 1)
    if kind == "cone":
        h = u[:, 1].sqrt()
        return torch.stack([h * a.cos(), h * a.sin(), (1 - h) * (1 + torch.rand(1, generator=g).item())], 1)
    if kind == "torus":
        r = 0.2 + 0.3 * torch.rand(1, generator=g).item()
        b = 2 * math.pi * u[:, 1]
        return torch.stack([(1 + r * b.cos()) * a.cos(), (1 + r * b.cos()) * a.sin(), r * b.sin()], 1)
    if kind == "plane":  # a thin slab: two large faces
        p = torch.rand(n, 3, generator=g) * 2 - 1
        p[:, 2] = torch.sign(p[:, 2]) * 0.05
        return p * torch.tensor([1.0, 0.3 + 0.7 * torch.rand(1, generator=g).item(), 1.0])
    raise ValueError(kind)


class PrimitiveShapes(Dataset):
    """``num_per_class`` shapes of each of 6 primitive classes, deterministic per seed."""

    classes = CLASSES

    def __init__(self, num_per_class: int = 20, num_points: int = 1024, seed: int = 0, noise: float = 0.01) -> None:
        g = torch.Generator().manual_seed(seed)
        self.samples = []
        for label, kind in enumerate(CLASSES):
            for _ in range(num_per_class):
                p = _sample(kind, num_points, g)
                t = 2 * math.pi * torch.rand(1, generator=g).item()
                rot = torch.tensor([[math.cos(t), -math.sin(t), 0.0], [math.sin(t), math.cos(t), 0.0], [0.0, 0.0, 1.0]])
                p = p @ rot.T + noise * torch.randn(num_points, 3, generator=g)
                p = p - p.mean(0)
                p = p / p.norm(dim=1).max()
                self.samples.append({"points": p, "label": label})

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> dict:
        return self.samples[i]
