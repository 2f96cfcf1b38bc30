"""A small 2D pretraining path for machines without ImageNet checkpoints.

``Shapes2D`` renders procedural images (discs, squares, triangles, rings, crosses,
stripes in random sizes, places and colours); :func:`pretrain_2d` trains a torchvision
ResNet on them for a time budget. The result is a genuinely pretrained 2D network in
torchvision layout, which is what the quickstart inflates when no ImageNet weights are
present. It is a stand-in for teaching, not ImageNet: results differ from the paper's.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from .train import save_atomic, seed_everything

__all__ = ["SHAPES2D_CLASSES", "render_shapes2d", "pretrain_2d", "shapes2d_resnet"]

SHAPES2D_CLASSES = ("disc", "square", "triangle", "ring", "cross", "stripes")


def render_shapes2d(n: int, size: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images ``[n, 3, size, size]`` in [0, 1] and their labels, deterministic per seed."""
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    labels = torch.randint(0, len(SHAPES2D_CLASSES), (n,), generator=g)
    imgs = torch.empty(n, 3, size, size)
    for i in range(n):
        cx, cy = (torch.rand(2, generator=g) - 0.5) * 0.8
        r = 0.25 + 0.35 * torch.rand(1, generator=g).item()
        t = math.pi * torch.rand(1, generator=g).item()
        u = (xs - cx) * math.cos(t) + (ys - cy) * math.sin(t)
        v = -(xs - cx) * math.sin(t) + (ys - cy) * math.cos(t)
        d = (u**2 + v**2).sqrt()
        kind = SHAPES2D_CLASSES[int(labels[i])]
        if kind == "disc":
            mask = d < r
        elif kind == "square":
            mask = (u.abs() < r * 0.8) & (v.abs() < r * 0.8)
        elif kind == "triangle":
            mask = (v > -r * 0.5) & (v < r - 1.7 * u.abs())
        elif kind == "ring":
            mask = (d < r) & (d > r * 0.6)
        elif kind == "cross":
            mask = ((u.abs() < r * 0.25) | (v.abs() < r * 0.25)) & (u.abs() < r) & (v.abs() < r)
        else:
            mask = (torch.sin(u * 12 / r) > 0) & (d < r * 1.2)
        fg = torch.rand(3, generator=g)
        bg = (fg + 0.35 + 0.3 * torch.rand(3, generator=g)) % 1.0  # keep the shape visible
        img = torch.where(mask, fg[:, None, None], bg[:, None, None])
        imgs[i] = (img + 0.05 * torch.randn(3, size, size, generator=g)).clamp(0, 1)
    return imgs, labels


def pretrain_2d(
    arch: str = "resnet18",
    minutes: float = 1.0,
    num_images: int = 6000,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
) -> tuple[dict[str, torch.Tensor], float]:
    """Train a torchvision ResNet on Shapes2D for ``minutes``; returns (state dict, held-out accuracy)."""
    seed_everything(seed)
    model = getattr(torchvision.models, arch)(num_classes=len(SHAPES2D_CLASSES)).to(device)
    x, y = render_shapes2d(num_images, seed=seed)
    xv, yv = render_shapes2d(600, seed=seed + 1)
    mean, std = x.mean((0, 2, 3), keepdim=True), x.std((0, 2, 3), keepdim=True)
    loader = DataLoader(TensorDataset((x - mean) / std, y), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
    deadline = time.monotonic() + 60 * minutes
    bar = tqdm(desc=f"2D pretraining {arch} on Shapes2D", total=None, disable=not progress, unit="step")
    model.train()
    while time.monotonic() < deadline:
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb.to(device)), yb.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if time.monotonic() >= deadline:
                break
    bar.close()
    model.eval()
    with torch.no_grad():
        acc = float((model(((xv - mean) / std).to(device)).argmax(1).cpu() == yv).float().mean())
    return {k: v.cpu() for k, v in model.state_dict().items()}, acc


def shapes2d_resnet(arch: str = "resnet18", minutes: float = 1.0, cache_dir: Path | None = None, progress: bool = True) -> dict[str, torch.Tensor]:
    """Cached :func:`pretrain_2d` result (``~/.cache/i2p/weights/<arch>_shapes2d.pth``)."""
    cache_dir = cache_dir or Path.home() / ".cache" / "i2p" / "weights"
    path = cache_dir / f"{arch}_shapes2d.pth"
    if path.is_file():
        try:
            return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
        except Exception:
            path.unlink()  # corrupt cache: retrain below
    sd, acc = pretrain_2d(arch, minutes, progress=progress)
    print(f"Shapes2D {arch}: held-out accuracy {acc:.3f} (chance {1 / len(SHAPES2D_CLASSES):.3f})")
    save_atomic({"state_dict": sd, "heldout_acc": acc}, path)
    return sd
