"""Training and evaluation for inflated models: one loop for classification and
segmentation, seeded, resumable from its last checkpoint, with a progress bar.

Multi-GPU: launch the same script under ``torchrun``; :func:`fit` notices
``WORLD_SIZE > 1``, shards the data with a ``DistributedSampler`` and wraps the model
in ``DistributedDataParallel``.
"""
from __future__ import annotations

import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset
from tqdm.auto import tqdm

from .files import atomic_target, check_writable, remove_stale_temps
from .finetune import trainable_parameters
from .inputs import ModelInput, VoxelInput, model_input, voxel_labels
from .metrics import confusion_matrix, summarize_confusion
from .precision import PRECISIONS, Precision, autocast, check_finite_loss, resolve_precision

__all__ = ["TrainConfig", "SCHEDULES", "SEG_LOSSES", "OPTIMIZERS", "fit", "build_optimizer", "fused_optimizer",
           "FUSED_OPTIMIZER_DEVICES", "evaluate", "voxel_labels", "seed_everything", "is_seed", "MAX_SEED", "save_atomic",
           "pick_device", "check_device", "read_checkpoint"]


SCHEDULES: tuple[str, ...] = ("cosine", "poly", "warmup_cosine", "constant")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
SEG_LOSSES: tuple[str, ...] = ("point", "voxel")


@dataclass
class TrainConfig:
    """Hyper-parameters; defaults are the paper's ModelNet recipe (Appendix 6.1).

    ``nesterov``: Nesterov momentum (the authors' S3DIS and SemanticKITTI configs use it,
    ModelNet not). ``warmup_iters``: linear warm-up over that many optimiser steps before
    the ``warmup_cosine`` decay (the authors' SemanticKITTI schedule counts warm-up in
    iterations: 1000 divided by the number of GPUs). ``seg_loss``: ``"point"`` -- cross
    entropy over every labelled point (each point reads its voxel's logits), or
    ``"voxel"`` -- the authors' choice, one label per voxel (that of the voxel's first
    point, as torchsparse's ``sparse_quantize`` keeps) and the loss over voxels. Metrics
    are always computed per point. ``optimizer``: ``sgd`` (every voxel model of the paper)
    or ``adam`` (its PointNet++ finetuning; ``momentum``/``nesterov`` unused).
    ``precision``: ``auto`` (bfloat16 where the device runs it fast, else float32 -- see
    :mod:`i2p.precision`), ``fp32``, ``bf16``, or ``fp16`` (CUDA, with loss scaling).
    """

    task: Literal["cls", "seg"] = "cls"
    epochs: int = 300
    batch_size: int = 32
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 1e-4
    schedule: Literal["cosine", "poly", "warmup_cosine", "constant"] = "cosine"
    warmup_iters: int = 0
    seg_loss: Literal["point", "voxel"] = "point"
    voxel_size: float = 0.05
    seed: int = 777
    device: str = "auto"
    precision: str = "auto"
    num_workers: int = 0
    ignore_index: int = -100
    num_classes: int | None = None  # for metrics; inferred from the model output if None
    checkpoint_dir: str | None = None
    resume: bool = True  # False: start over in checkpoint_dir (its last.pt is overwritten after epoch 1)
    max_minutes: float | None = None  # stop (after a whole epoch) once this budget is spent
    eval_every: int = 1  # with a val_set: evaluate every N epochs and after the last
    progress: bool = True

    def __post_init__(self) -> None:
        """Values that would make training meaningless or silently mean something else."""
        checks = [
            (self.task in ("cls", "seg"), f"task must be 'cls' or 'seg', got {self.task!r}"),
            (self.schedule in SCHEDULES, f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}"),
            (self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}"),
            (isinstance(self.eval_every, int) and self.eval_every >= 1, f"eval_every must be an int >= 1, got {self.eval_every!r}"),
            (self.precision in PRECISIONS, f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}"),
            (self.seg_loss in SEG_LOSSES, f"seg_loss must be one of {', '.join(SEG_LOSSES)}, got {self.seg_loss!r}"),
            (isinstance(self.epochs, int) and self.epochs >= 1, f"epochs must be an int >= 1, got {self.epochs!r}"),
            (isinstance(self.batch_size, int) and self.batch_size >= 1, f"batch_size must be an int >= 1, got {self.batch_size!r}"),
            (isinstance(self.warmup_iters, int) and self.warmup_iters >= 0, f"warmup_iters must be an int >= 0, got {self.warmup_iters!r}"),
        ]
        for name, strict in (("lr", True), ("momentum", False), ("weight_decay", False), ("voxel_size", True),
                             ("max_minutes", False)):
            v = getattr(self, name)
            ok = (v is None and name == "max_minutes") or (_is_number(v) and math.isfinite(v) and (v > 0 or not strict and v == 0))
            checks.append((ok, f"{name} must be a finite number {'>' if strict else '>='} 0, got {v!r}"))
        checks += [
            (not _is_number(self.momentum) or self.momentum < 1, f"momentum must be < 1, got {self.momentum!r}"),
            (is_seed(self.seed), f"seed must be an int in [0, {MAX_SEED}], got {self.seed!r}"),
            (_is_int(self.num_workers) and self.num_workers >= 0, f"num_workers must be an int >= 0, got {self.num_workers!r}"),
            (_is_int(self.ignore_index), f"ignore_index must be an int, got {self.ignore_index!r}"),
            (self.num_classes is None or (_is_int(self.num_classes) and self.num_classes >= 2),
             f"num_classes must be an int >= 2 or None, got {self.num_classes!r}"),
        ]
        checks += [(isinstance(getattr(self, k), bool), f"{k} must be True or False, got {getattr(self, k)!r}")
                   for k in ("nesterov", "resume", "progress")]
        if self.nesterov:
            checks.append((self.momentum > 0, "nesterov needs momentum > 0"))
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)
        check_device(self.device)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


#: numpy takes seeds in [0, 2**32) and ``fit`` adds the rank and the epoch to a run's seed:
#: seeds stop at 2**31 - 1 so every derived seed stays valid
MAX_SEED = 2**31 - 1


def is_seed(v: object) -> bool:
    """Whether ``v`` is a seed every generator accepts (checked up front, not mid-run)."""
    return _is_int(v) and 0 <= v <= MAX_SEED


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass
class History:
    """Per-epoch records, the precision the run computed in (name and why), and the
    seconds its epochs took (validation included), summed over every resumed session."""

    epochs: list[dict] = field(default_factory=list)
    precision: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def last(self) -> dict:
        return self.epochs[-1] if self.epochs else {}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_device(device: str) -> None:
    """Refuse a device name torch would reject only later, mid-run: ``auto``, ``cpu``,
    ``cuda`` or ``cuda:N`` (CUDA must be present), ``mps``."""
    kind, _, index = device.partition(":") if isinstance(device, str) else ("", "", "")
    if device in ("auto", "cpu", "mps") or (kind == "cuda" and (not index or index.isdigit())):
        if kind == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {device} asks for CUDA, which is not available here; use device=cpu (or auto)")
        return
    raise ValueError(f"unknown device {device!r}; choose auto, cpu, cuda, cuda:N or mps")


def pick_device(device: str = "auto") -> torch.device:
    """The torch device of a device name (``auto``: CUDA when present)."""
    check_device(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _describe(precision: Precision) -> dict:
    return {"name": precision.name, "reason": precision.reason}


def save_atomic(obj: object, path: str | Path) -> None:
    """``torch.save`` to a temp file then rename: a crash never leaves half a checkpoint."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_target(path) as tmp:  # also removes a killed save's .last.pt.tmp<pid> (100s of MB)
        torch.save(obj, tmp)


def _lr_factor(cfg: TrainConfig, it: int, total: int) -> float:
    """LR multiplier at optimiser step ``it`` (0-based) of ``total``."""
    if cfg.schedule == "constant":
        return 1.0
    if cfg.schedule == "poly":
        return (1 - it / total) ** 0.9
    if cfg.schedule == "warmup_cosine" and cfg.warmup_iters:
        if it < cfg.warmup_iters:
            return (it + 1) / cfg.warmup_iters
        return 0.5 * (1 + math.cos(math.pi * (it - cfg.warmup_iters) / max(total - cfg.warmup_iters, 1)))
    return 0.5 * (1 + math.cos(math.pi * it / total))


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def _loader(ds: Dataset, cfg: TrainConfig, shuffle: bool, rank: int, world: int, epoch: int = 0,
            inputs: ModelInput = VoxelInput()) -> DataLoader:
    """Batches of ``ds`` as the model reads them (``inputs``: :func:`i2p.inputs.model_input`)."""
    sampler = None
    if world > 1:
        sampler = DistributedSampler(ds, world, rank, shuffle=shuffle, seed=cfg.seed)
        sampler.set_epoch(epoch)
    g = torch.Generator().manual_seed(cfg.seed + epoch)
    return DataLoader(
        ds,
        batch_size=cfg.batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        collate_fn=inputs.collate_fn(cfg, train=shuffle),
        num_workers=cfg.num_workers,
        generator=g,
        drop_last=shuffle and len(ds) > cfg.batch_size,
    )


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, cfg: TrainConfig) -> dict:
    """Top-1 / mean-class accuracy (cls) or mIoU (seg) over ``dataset``.

    Under ``torchrun`` every rank evaluates every ``world``-th sample and the confusion
    matrices and loss sums are added across ranks, so each rank returns the metrics of the
    whole data set, the same as one process would (the model is in eval mode: a sample's
    prediction does not depend on its batch). Needs ``cfg.num_classes`` then."""
    device = pick_device(cfg.device)
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if world > 1 and cfg.num_classes is None:
        raise ValueError("distributed evaluation needs TrainConfig.num_classes")
    shard = Subset(dataset, range(rank, len(dataset), world)) if world > 1 else dataset
    precision = resolve_precision(cfg.precision, device)
    was_training = model.training
    model.eval()
    conf, loss_sum, n = None, 0.0, 0
    inputs = model_input(model)
    for batch in _loader(shard, cfg, shuffle=False, rank=0, world=1, inputs=inputs) if len(shard) else ():
        batch = batch.to(device)
        with autocast(precision):
            out = inputs.step(model, batch, cfg, evaluation=True)
        k = cfg.num_classes or out.logits.shape[1]
        c = confusion_matrix(out.pred, out.target, k, cfg.ignore_index)
        conf = c if conf is None else conf + c
        valid = int((out.target != cfg.ignore_index).sum())  # samples (cls) or labelled points (seg)
        loss_sum += out.loss.item() * valid
        n += valid
    model.train(was_training)
    if conf is None:
        if not cfg.num_classes:
            raise ValueError("cannot evaluate an empty data set without TrainConfig.num_classes")
        conf = torch.zeros(cfg.num_classes, cfg.num_classes, dtype=torch.long)
    conf = conf.cpu()
    if world > 1:
        buf = torch.cat([conf.flatten().double(), torch.tensor([loss_sum, n], dtype=torch.float64)])
        buf = buf.to(device) if dist.get_backend() == "nccl" else buf
        dist.all_reduce(buf)
        buf = buf.cpu()
        conf, loss_sum, n = buf[:-2].round().long().reshape(conf.shape), float(buf[-2]), int(buf[-1])
    return {"loss": loss_sum / max(n, 1), **summarize_confusion(conf)}


#: TrainConfig fields that may change between a run and its resumption: where and how it
#: runs, and ``epochs`` (to continue a finished run; the schedule then stretches)
_RESUMABLE_CHANGES = {"device", "num_workers", "checkpoint_dir", "resume", "max_minutes", "progress", "eval_every",
                      "epochs"}
#: how to get past a checkpoint that cannot be continued, without deleting it for the user
_START_OVER = "use another checkpoint_dir, or start over with resume=False (i2p train --restart)"


def read_checkpoint(path: str | Path, hint: str = _START_OVER, mmap: bool = False) -> dict:
    """A training checkpoint (``model``, ``optimizer``, ``epoch`` ...) on the CPU; a
    truncated or foreign file is one error naming it and what to do (``hint``)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False, mmap=mmap)
    except Exception as e:  # truncated, empty, or not a torch file
        raise ValueError(f"cannot resume from {path}: the checkpoint is damaged ({type(e).__name__}); delete it, "
                         f"or {hint}") from None
    if not isinstance(state, dict) or not {"model", "optimizer", "epoch"} <= state.keys():
        raise ValueError(f"cannot resume from {path}: it is not a training checkpoint (no model, optimizer and "
                         f"epoch); {hint}")
    return state


def _run_signature(model: nn.Module, precision: Precision) -> dict:
    """What a checkpoint's run was besides its TrainConfig: the resolved precision and
    the model (class, trainable parameters, BN layers kept frozen, its prepared setup)."""
    setup = getattr(model, "setup", None)
    return {"resolved_precision": precision.name, "model": type(model).__name__,
            "trainable": [n for n, p in model.named_parameters() if p.requires_grad],
            "frozen_bn_stats": sum(bool(getattr(m, "_i2p_frozen_stats", False)) for m in model.modules()),
            "setup": setup.as_dict() if setup is not None else None}


def _show(key: str, old: object, new: object) -> str:
    if key == "trainable":
        return f"trainable parameters: {len(old)} tensors -> {len(new)}"
    if key == "setup" and isinstance(old, dict) and isinstance(new, dict):
        return ", ".join(f"model {k}: {old.get(k)!r} -> {new.get(k)!r}" for k in new if old.get(k) != new.get(k))
    return f"{key}: {old!r} -> {new!r}"


def _check_same_run(ckpt: Path, state: dict, cfg: TrainConfig, run: dict) -> None:
    """Refuse to continue a checkpoint made with another configuration or model (it
    would mix two runs), naming every key that differs (old -> new)."""
    saved, now = {**state.get("config", {}), **state.get("run", {})}, {**asdict(cfg), **run}
    differ = sorted(k for k in now if k not in _RESUMABLE_CHANGES and k in saved and saved[k] != now[k])
    if differ:
        shown = "; ".join(_show(k, saved[k], now[k]) for k in differ)
        raise ValueError(f"{ckpt} was made with another configuration ({shown}); resuming would mix two runs: "
                         f"{_START_OVER}")


def _state_mismatch(model: nn.Module, sd: dict) -> str:
    """How a state dict differs from ``model``'s ('' when it fits), with one example each."""
    own = model.state_dict()
    shapes = [k for k in own if k in sd and own[k].shape != sd[k].shape]
    missing, unexpected = [k for k in own if k not in sd], [k for k in sd if k not in own]
    more = f" (+{len(shapes) - 1} more)" if len(shapes) > 1 else ""
    parts = [f"{shapes[0]} is {tuple(sd[shapes[0]].shape)} there, {tuple(own[shapes[0]].shape)} here{more}"] if shapes else []
    parts += [f"{len(ks)} {what} tensor(s), e.g. {ks[0]}" for ks, what in ((missing, "missing"), (unexpected, "unexpected"))
              if ks]
    return "; ".join(parts)


#: devices whose optimisers run fused (one kernel over all parameters). On the CPU the
#: default per-parameter loop was the largest cost that bfloat16 does not shrink: an SGD
#: step over a ResNet-18 U-Net's 52M parameters took 482 ms looped, 540 ms foreach and
#: 53 ms fused (1 thread; benchmarks/train_step.py measures whole steps)
FUSED_OPTIMIZER_DEVICES: tuple[str, ...] = ("cpu", "cuda")


def fused_optimizer(device: torch.device) -> bool | None:
    """The ``fused`` argument of a torch optimiser on ``device``: True where fused
    kernels exist (:data:`FUSED_OPTIMIZER_DEVICES`), else None (torch's default)."""
    return True if device.type in FUSED_OPTIMIZER_DEVICES else None


def build_optimizer(params: list[torch.nn.Parameter], cfg: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """The recipe's optimiser (SGD with momentum / Nesterov, or Adam) over ``params``,
    fused where possible (:func:`fused_optimizer`: the same update in one kernel)."""
    fused = fused_optimizer(device)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                           nesterov=cfg.nesterov, fused=fused)


def fit(
    model: nn.Module,
    train_set: Dataset,
    cfg: TrainConfig,
    val_set: Dataset | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> History:
    """Train the model's trainable parameters (see :func:`i2p.finetune.apply_scope`).

    With ``cfg.checkpoint_dir``, ``last.pt`` is written atomically after every epoch and
    training resumes from it when called again with the same directory. ``on_epoch``
    receives each epoch's record (train loss/accuracy, lr, ``val_*`` metrics when
    evaluated) on rank 0, after the checkpoint is written.
    """
    rank, world = _distributed()
    if cfg.task == "cls" and len(train_set) < 2 * world:
        raise ValueError(f"the training set holds {len(train_set)} sample(s): BatchNorm needs at least 2 per batch "
                         "(per process) to train; use a larger data.fraction or data.k_shot")
    device = pick_device(cfg.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
        torch.cuda.set_device(device)
    precision = resolve_precision(cfg.precision, device)
    seed_everything(cfg.seed + rank)
    model.to(device)
    params = trainable_parameters(model)
    if not params:
        raise ValueError("no trainable parameters: check the finetune scope")
    opt = build_optimizer(params, cfg, device)
    scaler = torch.amp.GradScaler(device.type, enabled=precision.needs_grad_scaler)
    history, start = History(precision=_describe(precision)), 0
    ckpt = Path(cfg.checkpoint_dir) / "last.pt" if cfg.checkpoint_dir else None
    if ckpt is not None:
        check_writable(ckpt.parent, "checkpoint folder")
        remove_stale_temps(ckpt)
    run = _run_signature(model, precision)
    if ckpt is not None and cfg.resume and ckpt.exists():
        state = read_checkpoint(ckpt)
        _check_same_run(ckpt, state, cfg, run)
        mismatch = _state_mismatch(model, state["model"])
        if mismatch:
            raise ValueError(f"{ckpt} holds another model ({mismatch}); {_START_OVER}")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if "scaler" in state:
            scaler.load_state_dict(state["scaler"])
        history, start = History(state["history"], history.precision, state.get("seconds", 0.0)), state["epoch"]
        torch.set_rng_state(state["rng"])
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    inputs = model_input(model)
    if cfg.progress and rank == 0 and start < cfg.epochs:
        tqdm.write(f"precision {precision.name} ({precision.reason})")
    t0 = time.monotonic()
    for epoch in range(start, cfg.epochs):
        t_epoch = time.monotonic()
        net.train()
        loader = _loader(train_set, cfg, shuffle=True, rank=rank, world=world, epoch=epoch, inputs=inputs)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not cfg.progress or rank, leave=False)
        loss_sum, correct, seen = 0.0, 0, 0
        for step, batch in enumerate(bar):
            for grp in opt.param_groups:
                grp["lr"] = cfg.lr * _lr_factor(cfg, epoch * len(loader) + step, cfg.epochs * len(loader))
            batch = batch.to(device)
            with autocast(precision):
                out = inputs.step(net, batch, cfg, evaluation=False)
            loss = out.loss
            value = loss.item()  # one device sync per step: the check, the sum and the bar share it
            check_finite_loss(value, precision, epoch, step)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            valid = out.target != cfg.ignore_index
            correct += int((out.pred == out.target)[valid].sum())
            seen += int(valid.sum())
            loss_sum += value
            bar.set_postfix(loss=f"{value:.3f}")
        record = {"epoch": epoch + 1, "train_loss": loss_sum / max(len(loader), 1), "train_acc": correct / max(seen, 1),
                  "lr": opt.param_groups[0]["lr"]}
        last = epoch + 1 == cfg.epochs or (cfg.max_minutes is not None and (time.monotonic() - t0) / 60 > cfg.max_minutes)
        if world > 1:
            # DDP syncs gradients, not BatchNorm statistics: every rank takes rank 0's (the
            # ones its checkpoint holds), so evaluation and the next epoch see one model
            for b in model.buffers():
                dist.broadcast(b.data, 0)
            # rank 0's clock decides, so every rank stops after the same epoch
            flag = torch.tensor([float(last)], device=device if dist.get_backend() == "nccl" else "cpu")
            dist.broadcast(flag, 0)
            last = bool(flag.item())
        if val_set is not None and ((epoch + 1) % cfg.eval_every == 0 or last):  # every rank: a collective
            record.update({f"val_{k}": v for k, v in evaluate(model, val_set, cfg).items() if k != "confusion"})
        history.epochs.append(record)
        history.seconds += time.monotonic() - t_epoch
        if ckpt is not None and rank == 0:
            save_atomic(
                {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
                 "history": history.epochs, "config": asdict(cfg), "run": run, "rng": torch.get_rng_state(),
                 "scaler": scaler.state_dict(), "seconds": history.seconds},
                ckpt,
            )
        if on_epoch is not None and rank == 0:
            on_epoch(record)
        if last:
            break
    return history
