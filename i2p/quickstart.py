"""The quickstart: inflate a pretrained 2D ResNet-18 and finetune it on a point-cloud task.

ImageNet weights are used when the torchvision checkpoint is on this machine; otherwise
the message says how to get them and a ResNet-18 pretrained on procedural 2D shapes
(cached after the first run) stands in. The 3D task is a six-class primitive-shape
classification; the model trains with the paper's I,O,μ,σ,W,b scope for a time budget.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from .data import PrimitiveShapes
from .finetune import FinetuneScope, apply_scope
from .models import count_parameters, create_model
from .pretrain2d import shapes2d_resnet
from .train import TrainConfig, evaluate, fit, seed_everything
from .weights import WeightsUnavailable, load_weights

__all__ = ["run_quickstart"]


def _source_weights(minutes_2d: float, progress: bool) -> tuple[dict, str]:
    """ImageNet ResNet-18 if present, else the cached Shapes2D stand-in (trained once)."""
    try:
        return load_weights("resnet18.imagenet1k"), "ImageNet-1K (torchvision)"
    except WeightsUnavailable as e:
        print(f"[i2p] {e}\n[i2p] Falling back to a ResNet-18 pretrained on procedural 2D shapes.")
        return shapes2d_resnet("resnet18", minutes_2d, progress=progress), "Shapes2D (i2p, procedural)"


def run_quickstart(
    minutes: float = 1.0,
    scope: str = "io_bn",
    minutes_2d: float = 2.0,
    out_dir: str | Path = "runs/quickstart",
    device: str = "auto",
    seed: int = 777,
    progress: bool = True,
) -> dict:
    """Run the quickstart and return (and save) a summary of what happened."""
    seed_everything(seed)
    weights, source = _source_weights(minutes_2d, progress)
    train_set = PrimitiveShapes(num_per_class=24, num_points=1024, seed=seed)
    test_set = PrimitiveShapes(num_per_class=10, num_points=1024, seed=seed + 1)
    learnable = "nonshared" if FinetuneScope(scope) is FinetuneScope.LEARN_T else None
    model = create_model("resnet18", len(PrimitiveShapes.classes), pretrained=weights, learnable=learnable)
    apply_scope(model, FinetuneScope(scope))
    print(f"[i2p] {model.load_report}")
    print(f"[i2p] scope {FinetuneScope(scope).label}: {count_parameters(model, True):,} of "
          f"{count_parameters(model):,} parameters train")
    cfg = TrainConfig(epochs=30, batch_size=16, lr=0.05, voxel_size=0.05, seed=seed, device=device,
                      max_minutes=minutes, progress=progress, checkpoint_dir=str(Path(out_dir) / "ckpt"),
                      resume=False)
    history = fit(model, train_set, cfg)
    result = evaluate(model, test_set, cfg)
    summary = {
        "weights": source,
        "scope": FinetuneScope(scope).label,
        "epochs_run": len(history.epochs),
        "train_loss_first": history.epochs[0]["train_loss"],
        "train_loss_last": history.last["train_loss"],
        "test_top1": result["top1"],
        "chance": 1 / len(PrimitiveShapes.classes),
        "device": str(next(model.parameters()).device),
        "torch": torch.__version__,
        "config": asdict(cfg),
    }
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"[i2p] {summary['epochs_run']} epochs, train loss {summary['train_loss_first']:.3f} -> "
          f"{summary['train_loss_last']:.3f}; test top-1 {summary['test_top1']:.3f} "
          f"(chance {summary['chance']:.3f}); summary in {Path(out_dir) / 'summary.json'}")
    return summary
