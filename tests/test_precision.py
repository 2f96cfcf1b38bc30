"""Mixed precision: the sparse conv under autocast against float64, what stays float32,
and how the trainer and the experiment config choose, record and refuse precisions."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from i2p import precision as prec_mod
from i2p.experiments import ConfigError, ExperimentConfig
from i2p.precision import Precision, autocast, resolve_precision
from i2p.sparse import SparseTensor
from i2p.sparse import functional as F
from i2p.sparse import ops
from i2p.sparse.kmap import get_kernel_map
from i2p.sparse.ops import sparse_conv_apply
from i2p.train import TrainConfig, evaluate, fit

from test_sparse_conv import Case, make_input
from helpers_models import NUM_CLASSES, tiny_dataset
from test_train import CFG, new_model

BF16 = Precision("bf16", "cpu", "test")
# bfloat16 keeps 8 bits of mantissa (relative rounding 2**-9 = 2e-3 per value); a conv
# rounds its inputs, weights and output, so relative errors of a few 1e-3 are expected
REL_TOL = 2e-2
VARIANTS = [Case(3), Case(1), Case(2), Case(5), Case(3, 2), Case(2, 2), Case(3, 2, transposed=True),
            Case(2, 2, transposed=True), Case(3, depthwise=True), Case(3, 2, depthwise=True),
            Case(2, 2, transposed=True, depthwise=True)]


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.detach().double() - b.detach()).norm() / b.detach().norm())


def conv_and_grads(x: SparseTensor, w: torch.Tensor, case: Case, probe: torch.Tensor, low: bool,
                   accumulate: str | None = None):
    """Output and the gradients of ``sum(out * probe)`` (``probe``: one weight per channel)."""
    f = x.feats.detach().clone().requires_grad_(True)
    wt = w.detach().clone().requires_grad_(True)
    kmap = get_kernel_map(x, case.k, case.stride, case.transposed)[0]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
        y = sparse_conv_apply(f, wt, kmap, case.depthwise, accumulate=accumulate)
    (y.to(probe.dtype) * probe).sum().backward()
    return y, f.grad, wt.grad


@pytest.fixture(params=["default-chunks", "tiny-chunks"])
def chunking(request, monkeypatch):
    """Default chunks, or 64-row chunks: several chunks per offset and padded short ones."""
    if request.param == "tiny-chunks":
        monkeypatch.setattr(ops, "_chunk_rows", lambda *a, **k: 64)
    return request.param


@pytest.mark.parametrize("case", VARIANTS, ids=str)
def test_bf16_conv_and_gradients_match_float64(gen, case, chunking, algorithm):
    """Every conv variant, forward and both gradients, under autocast(bf16) on the CPU."""
    x64, _ = make_input(gen, case, batch=2, n=400, grid=10)
    shape = (case.k**3, 3) if case.depthwise else (case.k**3, 3, 4)
    w64 = torch.randn(*shape, generator=gen, dtype=torch.float64)
    x32 = SparseTensor(x64.feats.float(), x64.coords, x64.stride, x64.cache)
    probe = torch.randn(1, 4 if not case.depthwise else 3, generator=gen, dtype=torch.float64)
    ref = conv_and_grads(x64, w64, case, probe, low=False)
    out, gx, gw = conv_and_grads(x32, w64.float(), case, probe.float(), low=True)
    assert out.dtype == torch.bfloat16  # computed in the low precision ...
    assert gx.dtype == torch.float32 and gw.dtype == torch.float32  # ... gradients in the inputs' dtypes
    for got, want in zip((out, gx, gw), ref):
        assert want.abs().sum() > 0
        assert rel(got, want) < REL_TOL


@pytest.mark.parametrize("accumulate", ["low", "float32"])
@pytest.mark.parametrize("case", [Case(3), Case(3, 2), Case(3, depthwise=True)], ids=str)
def test_both_accumulation_modes_match_float64(gen, case, accumulate, chunking):
    x64, _ = make_input(gen, case, batch=2, n=400, grid=10)
    shape = (case.k**3, 3) if case.depthwise else (case.k**3, 3, 4)
    w64 = torch.randn(*shape, generator=gen, dtype=torch.float64)
    probe = torch.randn(1, 4 if not case.depthwise else 3, generator=gen, dtype=torch.float64)
    ref = conv_and_grads(x64, w64, case, probe, low=False, accumulate=accumulate)
    x32 = SparseTensor(x64.feats.float(), x64.coords, x64.stride, x64.cache)
    got = conv_and_grads(x32, w64.float(), case, probe.float(), low=True, accumulate=accumulate)
    for g, want in zip(got, ref):
        assert rel(g, want) < REL_TOL


def _slab(gen, batch: int, n: int, extent: tuple[int, int, int]) -> torch.Tensor:
    """``[M, 4]`` voxels of one flat or thin cloud: its offsets have very unequal pair
    counts, so which offsets share a group depends on what else is in the batch."""
    xyz = (torch.rand(n, 3, generator=gen) * torch.tensor(extent)).long().unique(dim=0)
    return torch.cat([torch.full((len(xyz), 1), batch), xyz], dim=1)


@pytest.mark.parametrize("depthwise", [False, True], ids=["dense", "depthwise"])
def test_bf16_conv_is_batch_invariant(gen, algorithm, depthwise):
    """A sample's bf16 output and input gradient do not depend on its batchmates (a DDP
    evaluation must report what one process reports): same values, bit for bit."""
    coords = _slab(gen, 0, 900, (30, 30, 2))
    feats = torch.randn(len(coords), 16, generator=gen) * torch.rand(len(coords), 1, generator=gen) * 10
    w = torch.randn(27, 16, generator=gen) if depthwise else torch.randn(27, 16, 16, generator=gen) / 4
    probe = torch.randn(len(coords), 16, generator=gen)

    def run(c: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = SparseTensor(f.clone().requires_grad_(True), c, 1)
        kmap = get_kernel_map(x, 3, 1, False)[0]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = sparse_conv_apply(x.feats, w, kmap, depthwise)
        (y[: len(coords)].float() * probe).sum().backward()
        return y[: len(coords)].detach(), x.feats.grad[: len(coords)]

    alone = run(coords, feats)
    for extent in [(3, 30, 30), (30, 4, 30), (40, 2, 2), (12, 12, 12)]:
        other = _slab(gen, 1, 700, extent)
        batched = run(torch.cat([coords, other]), torch.cat([feats, torch.randn(len(other), 16, generator=gen)]))
        assert torch.equal(batched[0], alone[0]), extent
        assert torch.equal(batched[1], alone[1]), extent


def test_unknown_accumulation_is_refused(gen):
    x, _ = make_input(gen, Case(3))
    kmap = get_kernel_map(x, 3)[0]
    with torch.autocast("cpu", dtype=torch.bfloat16), pytest.raises(ValueError, match="'float32' or 'low'"):
        sparse_conv_apply(x.feats.float(), torch.zeros(27, 3, 4), kmap, accumulate="fp64")


def test_mixed_dtypes_without_autocast_are_refused(gen):
    x, _ = make_input(gen, Case(3))
    kmap = get_kernel_map(x, 3)[0]
    with pytest.raises(TypeError, match="autocast"):
        sparse_conv_apply(x.feats.bfloat16(), torch.zeros(27, 3, 4), kmap)


def test_wide_row_copy_is_bit_exact():
    """Rows copied as 16-byte elements move every bit pattern unchanged (NaN payloads too)."""
    g = torch.Generator().manual_seed(0)
    for c, dtype in ((64, torch.bfloat16), (24, torch.bfloat16), (6, torch.float32), (3, torch.bfloat16)):
        bits = torch.randint(-(2**15), 2**15, (50, c * dtype.itemsize // 2), generator=g, dtype=torch.int16)
        src = bits[:20].view(dtype)
        rows = torch.randperm(50, generator=g)[:20]
        ours, ref = bits.clone().view(dtype), bits.clone().view(dtype)
        ops._copy_rows(ours, rows, src)
        ref.index_copy_(0, rows, src)
        assert torch.equal(ours.view(torch.int16), ref.view(torch.int16))


def test_global_pool_sums_in_float32(gen):
    """Thousands of bfloat16 voxels per sample: the mean must not lose the small values."""
    n = 5000
    feats = torch.full((n, 1), 1.0, dtype=torch.bfloat16)
    feats[::2] = 1.0078125  # 1 + 2**-7: a bfloat16 sum would stop growing long before n
    coords = torch.zeros(n, 4, dtype=torch.long)
    coords[:, 1] = torch.arange(n)
    pooled = F.global_avg_pool(SparseTensor(feats, coords))
    assert pooled.dtype == torch.float32
    assert float(pooled) == pytest.approx((1.0 + 1.0078125) / 2, rel=1e-6)


def test_filter_transform_inflates_in_float32_under_autocast():
    from i2p.inflate import FilterTransform

    t = FilterTransform(3)
    w2d = torch.randn(4, 3, 3, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        w3 = t(w2d)
    assert w3.dtype == torch.float32
    torch.testing.assert_close(w3, t(w2d))


# -- choosing a precision ---------------------------------------------------------------------


def test_resolve_refuses_what_the_device_cannot_do():
    with pytest.raises(ValueError, match="fp16 needs a CUDA GPU.*bf16"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="choose one of auto, fp32, bf16, fp16"):
        resolve_precision("fp64", "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_precision("bf16", "cuda")


def test_auto_follows_the_measured_gemm_speed(monkeypatch):
    """auto takes bf16 on a CPU only where its GEMM is clearly faster, and says why."""
    monkeypatch.setattr(prec_mod, "cpu_bf16_speedup", lambda: 4.0)
    p = resolve_precision("auto", "cpu")
    assert p.name == "bf16" and p.dtype == torch.bfloat16 and "4.00x" in p.reason
    monkeypatch.setattr(prec_mod, "cpu_bf16_speedup", lambda: 0.011)  # a CPU that emulates bfloat16
    p = resolve_precision("auto", "cpu")
    assert p.name == "fp32" and "0.01x" in p.reason
    assert resolve_precision("bf16", "cpu").name == "bf16"  # asked for: given, with the measurement
    assert resolve_precision("fp32", "cpu").reason == "requested"


@pytest.mark.parametrize("bf16_ok", [True, False])
def test_cuda_choices_without_a_gpu(monkeypatch, bf16_ok):
    """The CUDA branch, driven by a pretend driver: auto is float32 (measured: low precision
    does not pay there), fp16 is given, bf16 only where the GPU has it."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_ok)
    auto = resolve_precision("auto", "cuda")
    assert auto.name == "fp32" and "measured" in auto.reason and ("bf16" in auto.reason) == bf16_ok
    assert resolve_precision("fp16", "cuda").dtype == torch.float16
    if bf16_ok:
        assert resolve_precision("bf16", "cuda").dtype == torch.bfloat16
    else:
        with pytest.raises(ValueError, match="this GPU cannot run bf16; it supports fp32, fp16"):
            resolve_precision("bf16", "cuda")


def test_cpu_bf16_speedup_is_measured_once():
    a = prec_mod.cpu_bf16_speedup()
    assert a > 0 and math.isfinite(a)
    assert prec_mod.cpu_bf16_speedup() == a  # cached: one measurement per process


# -- training ---------------------------------------------------------------------------------


def test_bf16_training_keeps_float32_state_and_records_the_choice():
    cfg = replace(CFG, epochs=2, precision="bf16")
    model = new_model("cls", num_classes=NUM_CLASSES)
    hist = fit(model, tiny_dataset(), cfg)
    assert hist.precision["name"] == "bf16" and hist.precision["reason"].startswith("requested")
    for p in model.parameters():  # master weights, BN affine parameters
        assert p.dtype == torch.float32
    for b in model.buffers():  # BN running statistics
        assert not b.is_floating_point() or b.dtype == torch.float32
    assert math.isfinite(hist.last["train_loss"])
    metrics = evaluate(model, tiny_dataset(), cfg)
    assert 0.0 <= metrics["top1"] <= 1.0 and math.isfinite(metrics["loss"])


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device")])])
def test_bf16_and_fp32_training_agree_roughly(device):
    """Same seed, same data: the losses of the two precisions follow the same course."""
    losses = {}
    for name in ("fp32", "bf16"):
        model = new_model("cls", num_classes=NUM_CLASSES)
        hist = fit(model, tiny_dataset(), replace(CFG, epochs=3, precision=name, device=device))
        losses[name] = [e["train_loss"] for e in hist.epochs]
    assert losses["fp32"] != losses["bf16"]  # really another precision
    # 0.15: measured differences reach 0.12 (epoch 3, a 16-core CPU with another bf16 GEMM)
    for a, b in zip(losses["fp32"], losses["bf16"]):
        assert abs(a - b) < 0.15 * max(abs(a), 1.0)


def test_a_nan_loss_stops_the_run_naming_the_step():
    class NaNAfter(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x) * float("nan")

    model = NaNAfter(new_model("cls", num_classes=NUM_CLASSES))
    with pytest.raises(FloatingPointError, match=r"epoch 1, step 1.*precision=fp32"):
        fit(model, tiny_dataset(), replace(CFG, epochs=1, precision="bf16"))
    with pytest.raises(FloatingPointError, match="learning rate"):
        fit(model, tiny_dataset(), replace(CFG, epochs=1, precision="fp32"))


def test_trainer_refuses_an_unknown_precision():
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        TrainConfig(precision="half")


def test_resume_refuses_another_precision(tmp_path):
    cfg = replace(CFG, epochs=1, precision="fp32", checkpoint_dir=str(tmp_path))
    fit(new_model("cls", num_classes=NUM_CLASSES), tiny_dataset(), cfg)
    with pytest.raises(ValueError, match="precision: 'fp32' -> 'bf16'"):
        fit(new_model("cls", num_classes=NUM_CLASSES), tiny_dataset(), replace(cfg, epochs=2, precision="bf16"))


# -- experiment configs -----------------------------------------------------------------------


def test_config_refuses_fp16_on_the_cpu_before_compute():
    cfg = ExperimentConfig.from_dict({"device": "cpu", "model": {"scope": "scratch"}, "recipe": {"precision": "fp16"}})
    with pytest.raises(ConfigError, match="recipe.precision: fp16 needs a CUDA GPU"):
        cfg.validate(check_data=False, check_weights=False)
    with pytest.raises(ConfigError, match="unknown precision 'fp8'"):
        cfg.with_overrides(["recipe.precision=fp8"]).validate(check_data=False, check_weights=False)


def test_run_identity_holds_the_resolved_precision(monkeypatch):
    """auto is resolved into the key; float32 keeps the keys runs had before precision existed."""
    base = {"device": "cpu", "model": {"scope": "scratch"}}
    monkeypatch.setattr(prec_mod, "cpu_bf16_speedup", lambda: 4.0)  # auto -> bf16, whatever this CPU does
    old = ExperimentConfig.from_dict(base).identity(0)
    old["recipe"].pop("precision")
    fp32 = ExperimentConfig.from_dict({**base, "recipe": {"precision": "fp32"}})
    assert fp32.identity(0) == old
    bf16 = ExperimentConfig.from_dict({**base, "recipe": {"precision": "bf16"}})
    assert bf16.identity(0)["recipe"]["precision"] == "bf16" and bf16.run_key(0) != fp32.run_key(0)
    auto = ExperimentConfig.from_dict(base)
    monkeypatch.setattr(prec_mod, "cpu_bf16_speedup", lambda: 4.0)
    assert auto.run_key(0) == bf16.run_key(0)
    monkeypatch.setattr(prec_mod, "cpu_bf16_speedup", lambda: 0.5)
    assert auto.run_key(0) == fp32.run_key(0)


def test_autocast_is_a_no_op_for_fp32():
    x = torch.randn(4, 4)
    with autocast(resolve_precision("fp32", "cpu")):
        assert (x @ x).dtype == torch.float32
    with autocast(BF16):
        assert (x @ x).dtype == torch.bfloat16


# -- CUDA ---------------------------------------------------------------------------------------


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("case", [Case(3), Case(3, 2), Case(2, 2, transposed=True), Case(3, depthwise=True)], ids=str)
def test_cuda_low_precision_conv_matches_float64(gen, case, dtype, algorithm):
    if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    x64, _ = make_input(gen, case, batch=2, n=400, grid=10)
    shape = (case.k**3, 3) if case.depthwise else (case.k**3, 3, 4)
    w64 = torch.randn(*shape, generator=gen, dtype=torch.float64)
    probe = torch.randn(1, 4 if not case.depthwise else 3, generator=gen, dtype=torch.float64)
    ref = conv_and_grads(x64, w64, case, probe, low=False)
    xc = SparseTensor(x64.feats.float().cuda(), x64.coords.cuda(), x64.stride)
    if case.transposed:  # the coarse tensor must come from the fine one on the GPU too
        pytest.skip("transposed CUDA conv is covered by test_sparse_conv's CUDA tests in float32")
    kmap = get_kernel_map(xc, case.k, case.stride)[0]
    f = xc.feats.clone().requires_grad_(True)
    wt = w64.float().cuda().requires_grad_(True)
    with torch.autocast("cuda", dtype=dtype):
        y = sparse_conv_apply(f, wt, kmap, case.depthwise)
    assert y.dtype == dtype
    (y.float() * probe.float().cuda()).sum().backward()
    for got, want in zip((y, f.grad, wt.grad), ref):
        assert rel(got.cpu(), want) < REL_TOL
