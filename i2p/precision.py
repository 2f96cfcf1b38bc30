"""Mixed precision for training and evaluation: which low-precision type a device can
run fast, and the autocast context that applies it.

i2p's sparse convs follow PyTorch's autocast: inside :func:`autocast` they gather,
multiply and scatter in bfloat16 (or float16 on CUDA) while BatchNorm statistics, the
loss, metrics, optimiser state and the float32 master weights stay float32 (see
:mod:`i2p.sparse.ops` for where the sums across kernel offsets are kept).

``auto`` picks bfloat16 where it pays: on CUDA when the card supports it, on a CPU only
when a timed GEMM shows bfloat16 is clearly faster than float32 (CPUs with AVX512-BF16
or AMX run it 5-7x faster; others emulate it and are slower). float16 is never chosen
automatically: it needs loss scaling and can overflow, so it is an explicit choice.
"""
from __future__ import annotations

import contextlib
import functools
import math
import time
from dataclasses import dataclass

import torch

__all__ = ["PRECISIONS", "Precision", "resolve_precision", "autocast", "cpu_bf16_speedup", "check_finite_loss"]

PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
#: ``auto`` takes bfloat16 on a CPU only when its GEMM is at least this much faster
_CPU_BF16_MIN_SPEEDUP = 1.5


@dataclass(frozen=True)
class Precision:
    """A resolved precision: ``name`` (fp32 | bf16 | fp16), the compute ``dtype``, and why."""

    name: str
    device_type: str
    reason: str

    @property
    def dtype(self) -> torch.dtype:
        return _DTYPES[self.name]

    @property
    def low(self) -> bool:
        return self.name != "fp32"

    @property
    def needs_grad_scaler(self) -> bool:
        return self.name == "fp16"


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@functools.lru_cache(maxsize=1)
def cpu_bf16_speedup() -> float:
    """float32 / bfloat16 time of a 4096x256 @ 256x256 GEMM on this CPU (best of 5, once per process)."""
    def best(dtype: torch.dtype) -> float:
        g = torch.Generator().manual_seed(0)
        a = torch.randn(4096, 256, generator=g).to(dtype)
        b = torch.randn(256, 256, generator=g).to(dtype)
        out = torch.empty(4096, 256, dtype=dtype)
        torch.mm(a, b, out=out)  # warm-up (oneDNN picks its kernel on first use)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            torch.mm(a, b, out=out)
            times.append(time.perf_counter() - t)
        return min(times)

    return best(torch.float32) / best(torch.bfloat16)


#: Why ``auto`` is float32 on GPUs: measured on an NVIDIA H200 (README, "CUDA"; logs in
#: results/cuda/), a ResNet-18 U-Net training step ran at 0.94-0.99x the float32 speed in
#: bf16 and fp16: the engine's steps there are bound by kernel launches, not by GEMMs.
_CUDA_AUTO_REASON = ("auto: float32 -- on a GPU i2p's training steps are launch-bound and low precision "
                     "measured no faster (H200: 0.94-0.99x); fp16")


def resolve_precision(requested: str, device: torch.device | str) -> Precision:
    """The precision a run uses on ``device``; ``auto`` measures (CPU) or asks the driver (CUDA).

    Raises ``ValueError`` for a name that does not exist or a precision the device cannot
    run (fp16 on a CPU, bf16 on a GPU without it), naming what is supported.
    """
    device = torch.device(device)
    if requested not in PRECISIONS:
        raise ValueError(f"unknown precision {requested!r}; choose one of {', '.join(PRECISIONS)}")
    kind = device.type
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("the device is cuda but CUDA is not available here; use device=cpu (or auto)")
        bf16_ok = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        supported = ["fp32", "fp16"] + (["bf16"] if bf16_ok else [])
        if requested == "auto":
            return Precision("fp32", kind, _CUDA_AUTO_REASON + (", bf16" if bf16_ok else "") + " on request")
        if requested not in supported:
            raise ValueError(f"this GPU cannot run {requested}; it supports {', '.join(supported)}")
        return Precision(requested, kind, "requested")
    if kind != "cpu":
        if requested in ("auto", "fp32"):
            return Precision("fp32", kind, f"{'auto' if requested == 'auto' else 'requested'}: float32 on {kind}")
        raise ValueError(f"mixed precision is supported on cpu and cuda, not {kind}; use precision=fp32")
    if requested == "fp16":
        raise ValueError("fp16 needs a CUDA GPU; on the CPU use precision=bf16 (or fp32, or auto)")
    if requested == "fp32":
        return Precision("fp32", kind, "requested")
    speedup = cpu_bf16_speedup()
    flags = _cpu_flags() & {"avx512_bf16", "amx_bf16"}
    has = f"CPU flags: {', '.join(sorted(flags))}" if flags else "no AVX512-BF16/AMX flag"
    measured = f"a bfloat16 GEMM runs {speedup:.2f}x the float32 speed here ({has})"  # emulated bf16: 0.01x
    if requested == "bf16":
        return Precision("bf16", kind, f"requested; {measured}")
    if speedup >= _CPU_BF16_MIN_SPEEDUP:
        return Precision("bf16", kind, f"auto: {measured}")
    return Precision("fp32", kind, f"auto: {measured}, under the {_CPU_BF16_MIN_SPEEDUP}x that pays for the casts")


def autocast(precision: Precision) -> contextlib.AbstractContextManager:
    """The autocast context for ``precision`` (a no-op for fp32)."""
    if not precision.low:
        return contextlib.nullcontext()
    return torch.autocast(precision.device_type, dtype=precision.dtype)


def check_finite_loss(loss: float, precision: Precision, epoch: int, step: int) -> None:
    """Stop a run whose loss became NaN or inf, naming where (and what to try)."""
    if math.isfinite(loss):
        return
    hint = (f"; it ran in {precision.name}: try precision=fp32" if precision.low
            else "; lower the learning rate or check the data for NaN coordinates/colours")
    raise FloatingPointError(f"the training loss became {loss} at epoch {epoch + 1}, step {step + 1}{hint}")
