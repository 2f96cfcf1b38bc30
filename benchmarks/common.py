"""What the benchmark scripts share: interleaved timing and the device set-up."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Callable

import torch

from i2p.sparse import ops


def bench(fns: dict[str, Callable[[], object]], repeats: int, device: torch.device, warmup: int = 1) -> dict:
    """``{name: (median ms, min ms)}`` of each ``fns[name]()`` over ``repeats`` runs after
    ``warmup`` runs. The functions are interleaved (one run of each per round) so that
    load from other processes hits all of them alike and their ratios stay meaningful."""
    cuda = device.type == "cuda"
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn()
            if cuda:
                torch.cuda.synchronize()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return {name: (statistics.median(t), min(t)) for name, t in times.items()}


def add_device_args(p: argparse.ArgumentParser, sparse_conv: bool = True) -> None:
    """``--threads``, ``--device`` and (for benchmarks of sparse convs) ``--algorithm``."""
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's default)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    if not sparse_conv:
        return
    p.add_argument("--algorithm", choices=[*ops.ALGORITHMS, "auto"], default=None,
                   help="the sparse conv's algorithm on this device (default: i2p.sparse.ops.CONV_ALGORITHM)")


def open_device(args: argparse.Namespace) -> torch.device | None:
    """Apply ``--threads`` and return the ``--device`` (None, with a message, when CUDA is missing)."""
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda requested but CUDA is not available", file=sys.stderr)
        return None
    if not hasattr(args, "algorithm"):  # not a sparse-conv benchmark
        return torch.device(args.device)
    if args.algorithm is not None:
        ops.CONV_ALGORITHM[args.device] = args.algorithm
    print(f"sparse conv algorithm on {args.device}: {ops.CONV_ALGORITHM[args.device]}")
    return torch.device(args.device)
