"""Whole training steps (forward, loss, backward, optimiser) in float32 and in low precision.

Cases: the ResNet-18 and EfficientNet-Lite0 U-Nets on one SynthS3DIS room and on one
SynthKITTI sweep, and both classifiers on a batch of 32 SynthModelNet shapes (teaching
profiles, the teaching recipes' voxel sizes, every parameter trained: the costliest
scope). The precisions are timed interleaved, step by step, in one run, after warm-up
steps (the first low-precision steps compile oneDNN kernels); one case after another.

Per case it prints the median step time of each precision and the speed-up, the peak
memory of a step, the conv FLOPs of the step (2 x pairs x C_in x C_out per conv forward,
x3 for forward + both backward GEMMs), and where the time goes: kernel maps (their
builds, cached per batch), conv GEMMs (incl. the depthwise multiply-accumulates), gathers
and scatters, BatchNorm and activations, and the rest -- from one profiled step per
precision (CPU self time of each op; on CUDA, device time).

Run:  PYTHONPATH=. python benchmarks/train_step.py [--threads N] [--repeats R] [--device cpu|cuda]
                                                   [--low bf16|fp16] [--cases NAME ...]

Its last line is ``bf16_step_speedup=<x>``: float32 / bfloat16 median step time of the
ResNet-18 U-Net on SynthKITTI (``low_step_speedup=`` when ``--low fp16``).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
from dataclasses import dataclass

import torch
from torch.profiler import ProfilerActivity, profile

from common import add_device_args, bench, open_device
from i2p.data.collate import Batch, collator
from i2p.data.registry import get as get_dataset
from i2p.experiments import preset
from i2p.finetune import prepare_model
from i2p.precision import Precision, autocast, resolve_precision
from i2p.sparse import nn as spnn
from i2p.sparse import ops
from i2p.sparse.kmap import KERNEL_MAP_RANGE, get_kernel_map
from i2p.inputs import voxel_loss
from i2p.train import TrainConfig, build_optimizer

CASES = {  # name: (dataset, model, samples per batch)
    "resnet18-unet/kitti": ("semantickitti", "resnet18", 1),
    "resnet18-unet/s3dis": ("s3dis", "resnet18", 1),
    "lite0-unet/kitti": ("semantickitti", "efficientnet_lite0", 1),
    "lite0-unet/s3dis": ("s3dis", "efficientnet_lite0", 1),
    "resnet18-cls/modelnet": ("modelnet40", "resnet18", 32),
    "lite0-cls/modelnet": ("modelnet40", "efficientnet_lite0", 32),
}
HEADLINE = "resnet18-unet/kitti"
GEMM_OPS = {"aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm", "aten::addcmul_", "aten::matmul", "aten::linear"}
GATHER_OPS = {"aten::index_select", "aten::index_copy_", "aten::index", "aten::index_put_", "aten::index_add_",
              "aten::gather", "aten::scatter_", "aten::scatter_add_", "aten::scatter_reduce_"}
NORM_ACT = ("batch_norm", "relu", "hardtanh", "threshold", "clamp")
CATEGORIES = ("kernel maps", "conv GEMMs", "gathers/scatters", "BN + act", "rest")


@dataclass
class Case:
    name: str
    model: torch.nn.Module
    batch: Batch
    cfg: TrainConfig
    opt: torch.optim.Optimizer
    flops: float
    voxel_size: float


def _batch(dataset: str, n: int, voxel_size: float, device: torch.device) -> tuple[Batch, object]:
    spec = get_dataset(dataset)
    data = spec.load(spec.eval_split, "teaching", progress=False)  # the eval transform: deterministic
    return collator(voxel_size)([data[i] for i in range(min(n, len(data)))]).to(device), data


def _conv_flops(model: torch.nn.Module, batch: Batch) -> float:
    """FLOPs of one training step's convs: 3 x the forward GEMMs (forward, grad input, grad weight)."""
    total = 0.0

    def hook(mod: spnn.Conv3d, inp, _out) -> None:
        nonlocal total
        kmap = get_kernel_map(inp[0], mod.kernel_size, mod.stride, mod.transposed)[0]
        per_pair = mod.in_channels if mod.depthwise else mod.in_channels * mod.out_channels
        total += 3 * 2.0 * kmap.num_pairs * per_pair

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, spnn.Conv3d)]
    with torch.no_grad():
        model(batch.x)
    for h in handles:
        h.remove()
    return total


def build_case(name: str, device: torch.device, recipe_scale: str = "teaching") -> Case:
    """A case's model, batch and optimiser; voxel size and loss from the teaching or the
    paper preset's recipe (both on the teaching stand-in data)."""
    dataset, arch, n = CASES[name]
    spec = get_dataset(dataset)
    recipe = preset(f"{recipe_scale}/t1.io_bn.{spec.name}").config.recipe
    batch, data = _batch(dataset, n, recipe.voxel_size, device)
    torch.manual_seed(0)
    model = prepare_model(spec, arch, None, "scratch", num_classes=len(data.classes)).to(device).train()
    # the recipe's optimiser as fit builds it (fused), with a small lr: many steps stay near the start
    cfg = TrainConfig(task=spec.task, ignore_index=spec.ignore_index, seg_loss=recipe.seg_loss, device=str(device),
                      progress=False, lr=1e-3, momentum=recipe.momentum, nesterov=recipe.nesterov,
                      weight_decay=recipe.weight_decay, optimizer=recipe.optimizer)
    opt = build_optimizer(list(model.parameters()), cfg, device)
    return Case(name, model, batch, cfg, opt, _conv_flops(model, batch), recipe.voxel_size)


def step(case: Case, precision: Precision, fresh_maps: bool = True) -> None:
    """One optimiser step; ``fresh_maps`` rebuilds the kernel maps as every new batch does."""
    x = case.batch.x
    if fresh_maps:
        x = type(x)(x.feats, x.coords, x.stride)  # a new cache: kernel maps are built again
    with autocast(precision):
        loss, _ = voxel_loss(case.model(x), case.batch, case.cfg)
    case.opt.zero_grad(set_to_none=True)
    loss.backward()
    case.opt.step()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(case: Case, precisions: list[Precision], repeats: int, warmup: int, device: torch.device) -> dict:
    """Median seconds per precision of ``case``: precisions interleaved step by step, so
    load from other processes hits them alike."""
    fns = {p.name: functools.partial(step, case, p) for p in precisions}
    return {name: median_ms / 1e3 for name, (median_ms, _) in bench(fns, repeats, device, warmup).items()}


def _category(evt) -> str:
    """Which part of the step an op belongs to (its ancestors decide kernel maps)."""
    parent = evt.cpu_parent
    while parent is not None:
        if parent.name == KERNEL_MAP_RANGE:
            return "kernel maps"
        parent = parent.cpu_parent
    if evt.name in GEMM_OPS:
        return "conv GEMMs"
    if evt.name in GATHER_OPS:
        return "gathers/scatters"
    if any(t in evt.name for t in NORM_ACT):
        return "BN + act"
    return "rest"


def _cpu_peak(prof) -> float:
    """Peak bytes allocated during the profiled step: the largest "Total Allocated" of the
    trace's memory events (counted from the profile's start)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.json")
        prof.export_chrome_trace(path)
        with open(path) as f:
            trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    return max((e["args"].get("Total Allocated", 0) for e in events if e.get("name") == "[memory]"), default=0)


def breakdown(case: Case, precision: Precision, device: torch.device) -> tuple[dict, float]:
    """Share of each category in one profiled step, and the step's peak memory in MiB."""
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    with profile(activities=acts, profile_memory=device.type == "cpu") as prof:
        step(case, precision)
        _sync(device)
    events = prof.events()
    spent = dict.fromkeys(CATEGORIES, 0.0)
    for evt in events:
        if evt.name == "[memory]" or evt.name == KERNEL_MAP_RANGE:
            continue
        t = evt.self_device_time_total if device.type == "cuda" else evt.self_cpu_time_total
        spent[_category(evt)] += t
    total = sum(spent.values()) or 1.0
    if device.type == "cuda":
        peak = (torch.cuda.max_memory_allocated(device) - base) / 2**20
    else:  # the grouped convs' workspace is held through the step but allocated before it
        peak = (_cpu_peak(prof) + ops.workspace_bytes(precision.dtype)) / 2**20
    return {k: v / total for k, v in spent.items()}, peak


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_args(p)
    p.add_argument("--repeats", type=int, default=5, help="timed steps per case and precision (median reported)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (oneDNN compiles its kernels)")
    p.add_argument("--low", choices=["bf16", "fp16"], default="bf16", help="the low precision to compare")
    p.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    p.add_argument("--no-breakdown", action="store_true",
                   help="skip the profiled steps (the profiler's start-up takes tens of seconds on some GPU machines)")
    p.add_argument("--recipe", choices=["teaching", "paper"], default="teaching",
                   help="voxel sizes of the teaching presets (KITTI 0.1) or of the paper's recipes (0.05)")
    args = p.parse_args()
    device = open_device(args)
    if device is None:
        return 2
    try:
        precisions = [resolve_precision("fp32", device), resolve_precision(args.low, device)]
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"torch {torch.__version__}, device {name}, threads {torch.get_num_threads()}, repeats {args.repeats}, "
          f"warm-up {args.warmup}, {args.recipe} recipes' voxel sizes; {args.low}: {precisions[1].reason}")
    low = precisions[1].name
    header = (f"\n{'case':24s} {'voxel':>5s} {'voxels':>7s} {'GFLOP':>6s} {'fp32 ms':>9s} {low + ' ms':>9s} {'speed-up':>8s}  "
              f"{'fp32 MiB':>8s} {low + ' MiB':>8s}  {'fp32 GFLOP/s':>12s}")
    print(header)
    shares, speedups = {}, {}
    for name in args.cases:  # one case at a time: built, measured, freed
        ops.release_workspaces()  # so a step's peak counts this case's workspace, not an earlier one's
        c = build_case(name, device, args.recipe)
        times = time_steps(c, precisions, args.repeats, args.warmup, device)
        t32, tlo = times["fp32"], times[low]
        speedups[c.name] = t32 / tlo
        if args.no_breakdown:
            m32 = mlo = float("nan")
        else:
            (s32, m32), (slo, mlo) = breakdown(c, precisions[0], device), breakdown(c, precisions[1], device)
            shares[c.name] = (s32, slo)
        print(f"{c.name:24s} {c.voxel_size:5.2f} {c.batch.x.num_voxels:7d} {c.flops / 1e9:6.1f} {t32 * 1e3:9.1f} {tlo * 1e3:9.1f} "
              f"{t32 / tlo:7.2f}x  {m32:8.0f} {mlo:8.0f}  {c.flops / t32 / 1e9:12.1f}", flush=True)
        del c
    if shares:
        _print_shares(shares, low)
    if HEADLINE in args.cases:
        key = "bf16_step_speedup" if low == "bf16" else "low_step_speedup"
        print(f"{key}={speedups[HEADLINE]:.2f}")
    return 0


def _print_shares(shares: dict, low: str) -> None:
    print("\nwhere a step's time goes (share of profiled op time, fp32 / " + low + ")")
    print(f"{'case':24s} " + " ".join(f"{k:>17s}" for k in CATEGORIES))
    for name, (s32, slo) in shares.items():
        print(f"{name:24s} " + " ".join(f"{100 * s32[k]:7.0f}% /{100 * slo[k]:4.0f}%  " for k in CATEGORIES))


if __name__ == "__main__":
    sys.exit(main())
