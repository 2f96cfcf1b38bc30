"""Command line: ``i2p quickstart``, ``i2p info``, ``i2p data ...``."""
from __future__ import annotations

import argparse
import sys

from .data.cli import add_data_commands

__all__ = ["main"]


def _info(_: argparse.Namespace) -> int:
    import torch

    from .sparse.backend import backend_name
    from .weights import TORCHVISION_IMAGENET, WeightsUnavailable, find_weights

    print(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}, threads: {torch.get_num_threads()}")
    print(f"sparse backend: {backend_name()}")
    for name in TORCHVISION_IMAGENET:
        try:
            print(f"  {name:24s} available at {find_weights(name)}")
        except WeightsUnavailable:
            print(f"  {name:24s} not on this machine")
    return 0


def _quickstart(a: argparse.Namespace) -> int:
    from .quickstart import run_quickstart

    s = run_quickstart(a.minutes, a.scope, a.minutes_2d, a.out, a.device, a.seed, progress=not a.no_progress)
    if s["test_top1"] <= s["chance"]:
        print("[i2p] quickstart model did not beat chance", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="i2p", description="Image2Point study kit")
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quickstart", help="inflate a pretrained 2D ResNet-18 and finetune it on point clouds")
    q.add_argument("--minutes", type=float, default=1.0, help="3D finetuning budget")
    q.add_argument("--minutes-2d", type=float, default=2.0, help="2D fallback pretraining budget (first run only; cached)")
    q.add_argument("--scope", default="io_bn", choices=["io", "io_stats", "io_bn", "whole", "learn_t"])
    q.add_argument("--out", default="runs/quickstart")
    q.add_argument("--device", default="auto")
    q.add_argument("--seed", type=int, default=777)
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(func=_quickstart)
    sub.add_parser("info", help="torch, sparse backend and which 2D weights are on this machine").set_defaults(func=_info)
    add_data_commands(sub)
    a = p.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
